"""Key → value pairs of a form without a schema: 'Label: value' on one line, 'Label:' above its value, checkboxes
(☐ ☑ ☒ ■ □ [x] [ ] (x)) before or after their label, and the pairs a form gives by its layout alone (layout_pairs).
Each pair is named by its label as written; a label seen again gets ' (2)', ' (3)'… in reading order."""
from __future__ import annotations

import json
import re

from tasks.extract.layout_pairs import layout_pairs
from tasks.extract.phrases import METHOD, label_text, phrases_of, typed_pair
from tasks.extract.rules import CONFIDENCE, FieldResult, Token, below, lines_of, phrase, right_of
from tasks.models import union

CHECKED = {"☑", "☒", "■", "✓", "✔", "[x]", "[X]", "(x)", "(X)", "[✓]", "[✔]"}
UNCHECKED = {"☐", "□", "[]", "[ ]", "()", "( )"}
MAX_LABEL_WORDS = 5
"""A longer run of words before a colon is a sentence, not a label."""
NOT_LABELS = {"http", "https", "ftp", "mailto", "www"}
LABEL_WORD = re.compile(r"[\w.\-/#&()]+")


def auto_pairs(tokens: list[Token]) -> list[FieldResult]:
    """Every key → value pair of the words, in reading order, method 'auto', cited by the value's words."""
    found: list[FieldResult] = []
    lines = [_merge_split_boxes(line) for line in lines_of(tokens)]
    for line in lines:
        found += _checkboxes(line)
        found += _colon_pairs(line, tokens)
    cited = {result.bbox for result in found}
    unboxed = [p for line in lines for p in phrases_of(line) if not any(t.text in CHECKED | UNCHECKED for t in p)]
    found += [result for result in layout_pairs(unboxed) if result.bbox not in cited]
    found.sort(key=lambda r: (r.page_number, (r.bbox[1] + r.bbox[3]) / 2, r.bbox[0]))
    return _named_uniquely(found)


def _merge_split_boxes(line: list[Token]) -> list[Token]:
    """'[' 'x' ']' or '(' ')' read as separate words → one checkbox word."""
    merged: list[Token] = []
    for token in line:
        size = next((n for n in (2, 1) if len(merged) >= n and _is_box_text(merged[-n:] + [token])), 0)
        if size:
            parts = merged[-size:] + [token]
            del merged[-size:]
            token = token.model_copy(update={"text": "".join(t.text for t in parts),
                                             "bbox": union(t.bbox for t in parts)})
        merged.append(token)
    return merged


def _is_box_text(parts: list[Token]) -> bool:
    return "".join(t.text for t in parts) in CHECKED | UNCHECKED


def _checkboxes(line: list[Token]) -> list[FieldResult]:
    """A box and the words after it up to the next box or gap; if none follow, the words before it."""
    pairs = []
    boxes = [i for i, t in enumerate(line) if t.text in CHECKED | UNCHECKED]
    for n, index in enumerate(boxes):
        after = phrase(line[index + 1:boxes[n + 1] if n + 1 < len(boxes) else len(line)], line[index])
        before = phrase(line[boxes[n - 1] + 1 if n else 0:index][::-1], line[index])[::-1]
        label = after or before
        if not label or not any(c.isalpha() for t in label for c in t.text):
            continue
        box = line[index]
        checked = box.text in CHECKED
        pairs.append(FieldResult(field_name=label_text(label), type="boolean", method=METHOD,
                                 value=json.dumps(checked), value_bool=checked, confidence=CONFIDENCE["right"],
                                 page_number=box.page_number, bbox=box.bbox))
    return pairs


def _colon_pairs(line: list[Token], tokens: list[Token]) -> list[FieldResult]:
    """'Label: value' (the value runs to the next gap or label), else 'Label:' with its value across a gap or
    under it. A phrase's first label is all its words before the colon; a label after a value is one word."""
    pairs = []
    for words in phrases_of(line):
        colons = [i for i, t in enumerate(words) if t.text.endswith(":")]
        for n, at in enumerate(colons):
            if n == 0:
                label = words[:at + 1]
            else:
                label = words[at:at + 1] if at - colons[n - 1] > 1 else []
            label = [t for t in label if t.text != ":"]
            value = words[at + 1:colons[n + 1] if n + 1 < len(colons) else len(words)]
            if not _is_label(label):
                continue
            confidence = CONFIDENCE["right"]
            if not value:
                value, confidence = _value_apart(label, tokens), CONFIDENCE["below"]
            if value:
                pairs.append(typed_pair(label_text(label), value, confidence))
    return pairs


def _is_label(label: list[Token]) -> bool:
    """1–5 words of letters (and digits, '.', '-', '/', '#', '&', '()'), not a web address's scheme."""
    text = label_text(label)
    return (0 < len(label) <= MAX_LABEL_WORDS and text[:1].isalpha() and text.lower() not in NOT_LABELS
            and LABEL_WORD.fullmatch(text.replace(" ", "")) is not None)


def _value_apart(label: list[Token], tokens: list[Token]) -> list[Token]:
    """The phrase next to the label across a gap (another text line of the same row), else the words under it in
    its column; never another label."""
    for value in (phrase(right_of(label, tokens)), below(label, tokens)):
        if value and not any(t.text.endswith(":") for t in value):
            return value
    return []


def _named_uniquely(found: list[FieldResult]) -> list[FieldResult]:
    seen: dict[str, int] = {}
    for result in found:
        seen[result.field_name] = seen.get(result.field_name, 0) + 1
        if seen[result.field_name] > 1:
            result.field_name = f"{result.field_name} ({seen[result.field_name]})"
    return found
