"""What the auto method's pairs are made of: phrases (a line's words that run together), a label's text, and a
value typed as a date or an amount when it is nothing but one."""
from __future__ import annotations

from tasks.extract.rules import ROW_GAP, FieldResult, Token, field_result, typed_matches, values_in
from tasks.extract.schema import FieldSpec
from tasks.models import union

METHOD = "auto"
TYPED = [FieldSpec(name="date", type="date"), FieldSpec(name="amount", type="money")]
"""The shapes a value is typed as when it is nothing but one of them; any other value is a string."""


def phrases_of(line: list[Token]) -> list[list[Token]]:
    """The line's words, left to right, cut wherever the gap between two words is wider than ROW_GAP."""
    phrases: list[list[Token]] = []
    for token in sorted(line, key=lambda t: t.bbox[0]):
        if phrases and token.bbox[0] - phrases[-1][-1].bbox[2] <= ROW_GAP:
            phrases[-1].append(token)
        else:
            phrases.append([token])
    return phrases


def label_text(label: list[Token]) -> str:
    return " ".join(t.text for t in label).rstrip(":").strip()


def typed_pair(name: str, value: list[Token], confidence: float) -> FieldResult:
    """A date or an amount when the value is only that, normalised; else the trimmed text."""
    text = " ".join(t.text for t in value)
    for shape in TYPED:
        whole = [match for match, _, _ in typed_matches(shape, text) if match.span() == (0, len(text))]
        found = values_in(shape, value, anchored=True) if whole else []
        if found:
            result = field_result(shape.model_copy(update={"name": name}), found[0], method=METHOD)
            break
    else:
        page = value[0].page_number
        result = FieldResult(field_name=name, type="string", method=METHOD, value=text,
                             page_number=page, bbox=union(t.bbox for t in value if t.page_number == page))
    result.confidence = confidence
    return result
