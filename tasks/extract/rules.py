"""The rules method: typed values found next to their labels on the page (same row to the right, or the row
below), by regex, with the source words as the citation."""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date

from pydantic import BaseModel

from tasks.extract.normalise import (AMOUNT, DATE, currency_code, dayfirst_of, format_decimal, match_amount,
                                     match_date, ocr_digits, parse_bool, unglue)
from tasks.extract.schema import ExtractionSchema, FieldSpec
from tasks.models import BBox, union
from tasks.store import bbox_dict
from tasks.textlayer import TEXT_LAYER

FILLER = {":", "#", "-", "–", "no", "no.", "nr", "nr.", "nº", "n°", "="}
"""Tokens between a label and its value ('Invoice No : # 42')."""
REQUIRED_MISSING = "required field not found"
ROW_GAP = 0.03
"""A horizontal gap (fraction of the page width) that ends a free-text value."""
CONFIDENCE = {"right": 0.9, "below": 0.8, "document": 0.5}
ROUNDING_STEP = 0.05
"""The largest cash-rounding adjustment (to the nearest 0.05 or 0.10, as in Malaysia, Switzerland or the Netherlands)."""


class Token(BaseModel):
    text: str
    bbox: BBox
    page_number: int
    line: tuple[int, int, int]
    """(page, block, line): words of one line of the text layer or OCR."""

    @property
    def yc(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


class FieldResult(BaseModel):
    field_name: str
    type: str
    method: str
    value: str | None = None
    """The normalised value as text: ISO date, plain decimal, trimmed string; arrays as JSON."""
    value_number: float | None = None
    value_date: date | None = None
    value_bool: bool | None = None
    confidence: float | None = None
    page_number: int | None = None
    bbox: BBox | None = None
    valid: bool = True
    error: str | None = None

    def row(self, job_id: str) -> dict:
        """The field's row of the `fields` table."""
        bbox = bbox_dict(self.bbox) if self.bbox else None
        return self.model_dump(exclude={"bbox"}) | {"job_id": job_id, "bbox": bbox}


class Candidate(BaseModel):
    value: str
    typed: str | float | date | bool | None
    tokens: list[Token]
    confidence: float
    rank: tuple


def tokens_from_words(rows: list[dict]) -> list[Token]:
    """The words of the `words` table, in reading order, one reading per line (the voted one, not each engine's);
    OCR's words repaired (see repair_ocr_line)."""
    engines: dict[tuple, str] = {}
    lines: dict[tuple, list[Token]] = {}
    for row in sorted(rows, key=lambda r: (r["page_number"], r["line_id"])):
        line = (row["page_number"], row["block_id"], row["line_id"])
        if engines.setdefault(line, row["engine"]) != row["engine"] or not row["text"].strip():
            continue
        box = row["bbox"]
        text = unicodedata.normalize("NFKC", row["text"])  # OCR's full-width '（' is '('
        lines.setdefault(line, []).append(Token(text=text, bbox=(box["x0"], box["y0"], box["x1"], box["y1"]),
                                                page_number=row["page_number"], line=line))
    tokens = []
    for line, words in lines.items():
        for token in words if engines[line] == TEXT_LAYER else repair_ocr_line(words):
            tokens += split_glued_label(token)
    return tokens


def repair_ocr_line(words: list[Token]) -> list[Token]:
    """OCR's usual slips in one line's words: look-alike letters in numbers ('4O.11'), words run together
    ('Total319.00', '993548900IBAN'), numbers broken apart ('4 .11', '1 284,50')."""
    pieces = [piece for word in words
              for piece in split_token(word, unglue(ocr_digits(word.text)))]
    joined: list[Token] = []
    for piece in pieces:
        if joined and _broken_number(joined[-1], piece):
            left = joined.pop()
            piece = left.model_copy(update={"text": left.text + piece.text, "bbox": union([left.bbox, piece.bbox])})
        joined.append(piece)
    return joined


def _broken_number(left: Token, right: Token) -> bool:
    """Two words that are one number: closer than half the word's height, split at its decimal separator or after
    its thousands."""
    if right.bbox[0] - left.bbox[2] > (left.bbox[3] - left.bbox[1]) / 2:
        return False
    return bool(re.search(r"\d$", left.text) and re.fullmatch(r"[.,]\d{1,2}\W?", right.text)
                or re.search(r"\d[.,]$", left.text) and re.fullmatch(r"\d{1,2}\W?", right.text)
                or re.fullmatch(r"\W?\d{1,3}", left.text) and re.fullmatch(r"\d{3}[.,]\d{2}\W?", right.text))


def split_token(token: Token, parts: list[str]) -> list[Token]:
    """The token cut into these consecutive parts of its (repaired) text, each with its share of the box."""
    if len(parts) < 2:
        return [token.model_copy(update={"text": parts[0]})]
    x0, y0, x1, y1 = token.bbox
    width = (x1 - x0) / len(token.text)
    pieces, start = [], 0
    for part in parts:
        pieces.append(token.model_copy(update={"text": part, "bbox": (x0 + start * width, y0,
                                                                      x0 + (start + len(part)) * width, y1)}))
        start += len(part)
    return pieces


def split_glued_label(token: Token) -> list[Token]:
    """'Number:42183017' (OCR often drops the space after a label's colon) → 'Number:', '42183017'."""
    label, colon, rest = token.text.partition(":")
    if not (colon and rest and label.isalpha()):
        return [token]
    return split_token(token, [label + colon, rest])


def extract_fields(schema: ExtractionSchema, tokens: list[Token],
                   tables: list[dict] | None = None) -> list[FieldResult]:
    """Every field of the schema, found or not (a missing required field is invalid).
    tables: the tables detected on the pages (rows of the `tables` dataset), which an array of objects is read from
    when no header row of it is found in the words."""
    results: dict[str, FieldResult] = {}
    citations: dict[str, list[Token]] = {}
    dayfirst = dayfirst_of([token.text for token in tokens])
    for spec in sorted(schema.fields, key=lambda s: s.near_field is not None):
        if spec.type == "array":
            from tasks.extract.lines import extract_array  # lines builds on this module's values and results

            results[spec.name] = extract_array(spec, tokens, tables)
            continue
        rounding = spec.select == "largest" and spec.type == "money"  # choose looks for the rounded total
        anywhere = document_candidates(spec, tokens, dayfirst) if rounding else []
        best = choose(spec, candidates(spec, tokens, citations.get(spec.near_field or "", []), dayfirst), anywhere)
        results[spec.name] = field_result(spec, best)
        if best:
            citations[spec.name] = best.tokens
    return [results[spec.name] for spec in schema.fields]


def field_result(spec: FieldSpec, best: Candidate | None, method: str = "regex") -> FieldResult:
    result = FieldResult(field_name=spec.name, type=spec.type, method=method)
    if best is None:
        result.valid, result.error = not spec.required, REQUIRED_MISSING if spec.required else "not found"
        return result
    result.value, result.confidence = best.value, best.confidence
    if isinstance(best.typed, bool):
        result.value_bool = best.typed
    elif isinstance(best.typed, date):
        result.value_date = best.typed
    elif isinstance(best.typed, float):
        result.value_number = best.typed
    first = best.tokens[0]
    same_page = [t for t in best.tokens if t.page_number == first.page_number]
    result.page_number, result.bbox = first.page_number, union(t.bbox for t in same_page)
    return result


def choose(spec: FieldSpec, found: list[Candidate], anywhere: list[Candidate] = ()) -> Candidate | None:
    """The best candidate; for `select: largest`, the largest of the best-placed, and for money the total as
    finally paid (_rounded) among them and the round amounts `anywhere` on the page."""
    if not found:
        return None
    if spec.select == "largest":
        best_rank = min(c.rank[0] for c in found)  # labelled candidates beat unlabelled ones
        pool = [c for c in found if c.rank[0] == best_rank]
        largest = max(pool, key=lambda c: (c.typed, -c.rank[1]))
        return _rounded(largest, pool + [c for c in anywhere if _round(c.typed)]) if spec.type == "money" \
            else largest
    return min(found, key=lambda c: c.rank)


def _rounded(total: Candidate, pool: list[Candidate]) -> Candidate:
    """The total as finally paid: where cash rounding follows it ('TOTAL 60.31', 'ROUNDING -0.01', 'TOTAL 60.30'),
    the total printed lowest within a rounding step of it."""
    def place(candidate: Candidate) -> tuple[int, float]:
        return candidate.tokens[0].page_number, candidate.tokens[0].yc

    after = [c for c in pool if isinstance(c.typed, float) and 0 < abs(total.typed - c.typed) <= ROUNDING_STEP + 1e-9
             and place(c) > place(total)]
    return max(after, key=place) if after else total


def _round(amount) -> bool:
    """A multiple of the smallest cash-rounding step: what a rounded total comes to."""
    return isinstance(amount, float) and abs(amount / ROUNDING_STEP - round(amount / ROUNDING_STEP)) < 1e-6


def candidates(spec: FieldSpec, tokens: list[Token], near: list[Token],
               dayfirst: bool | None = None) -> list[Candidate]:
    """Values next to a label (rank 0), next to the near field's value (rank 1), anywhere (rank 2). dayfirst: how
    the page writes numeric dates (normalise.dayfirst_of)."""
    found = []
    for hint_index, label in labels(spec.hints, tokens):
        for relation, context in (("right", right_of(label, tokens)), ("below", below(label, tokens))):
            for cand in values_in(spec, context, anchored=spec.type not in ("money", "number"), dayfirst=dayfirst):
                cand.confidence = CONFIDENCE[relation]
                cand.rank = (0, hint_index, relation != "right", tokens.index(label[0]))
                found.append(cand)
    if not found and near:
        found += [c.model_copy(update={"confidence": CONFIDENCE["right"], "rank": (1, 0, 0, 0)})
                  for c in values_in(spec, row_of(near, tokens), anchored=False, dayfirst=dayfirst)]
    if not found and spec.type != "string":  # an unlabelled string would be a guess
        found += document_candidates(spec, tokens, dayfirst)
    return found


def document_candidates(spec: FieldSpec, tokens: list[Token], dayfirst: bool | None = None) -> list[Candidate]:
    """Unlabelled values of a typed shape (date, amount, enum value…) anywhere; an enum takes its most frequent
    value."""
    found = []
    for line in lines_of(tokens):
        found += values_in(spec, line, anchored=False, dayfirst=dayfirst)
    for index, cand in enumerate(found):
        cand.confidence, cand.rank = CONFIDENCE["document"], (2, index)
    if spec.type == "enum" and found:
        counts = Counter(c.value for c in found)
        top = max(counts.values())
        found = [c for c in found if counts[c.value] == top]
    return found


def labels(hints: list[str], tokens: list[Token]):
    """(hint index, label tokens) for each place a hint is written as consecutive words of one line, or as one word
    (OCR drops the spaces of a label: 'ZUZAHLEN', 'TOTALTTC')."""
    keys = [_label_key(t.text) for t in tokens]
    for hint_index, hint in enumerate(hints):
        words = [_label_key(w) for w in hint.split()]
        for start in range(len(tokens)):
            span = tokens[start:start + len(words)]
            if all(t.line == span[0].line for t in span) and keys[start:start + len(words)] == words:
                yield hint_index, span
            elif len(words) > 1 and keys[start] == "".join(words):
                yield hint_index, span[:1]


def _key(word: str) -> str:
    return word.lower().rstrip(":.")


def _label_key(word: str) -> str:
    """A word as labels are compared: without case, trailing colon or accents (OCR reads 'à' as 'a')."""
    return "".join(c for c in unicodedata.normalize("NFKD", _key(word)) if not unicodedata.combining(c))


def right_of(label: list[Token], tokens: list[Token]) -> list[Token]:
    box = union(t.bbox for t in label)
    row = [t for t in tokens if t.page_number == label[0].page_number and box[1] <= t.yc <= box[3]
           and t.bbox[0] >= box[2] - 0.002 and t not in label]
    return sorted(row, key=lambda t: t.bbox[0])


def below(label: list[Token], tokens: list[Token]) -> list[Token]:
    """The words of the nearest row under the label that start in its column, and the words that follow them."""
    box = union(t.bbox for t in label)
    height = box[3] - box[1]
    under = [t for t in tokens if t.page_number == label[0].page_number and box[3] < t.yc < box[3] + 3 * height
             and t.bbox[2] > box[0] - 0.01 and t.bbox[0] < box[2] + 0.01]
    if not under:
        return []
    top = min(under, key=lambda t: t.yc)
    row = sorted((t for t in tokens if t.page_number == top.page_number and top.bbox[1] <= t.yc <= top.bbox[3]
                  and t.bbox[0] >= top.bbox[0]), key=lambda t: t.bbox[0])
    return phrase(row)


def row_of(cited: list[Token], tokens: list[Token]) -> list[Token]:
    box = union(t.bbox for t in cited)
    return sorted((t for t in tokens if t.page_number == cited[0].page_number and box[1] <= t.yc <= box[3]),
                  key=lambda t: t.bbox[0])


def lines_of(tokens: list[Token]) -> list[list[Token]]:
    lines: dict[tuple, list[Token]] = {}
    for token in tokens:
        lines.setdefault(token.line, []).append(token)
    return list(lines.values())


def phrase(words: list[Token], anchor: Token | None = None) -> list[Token]:
    """The leading words, in the order given, that run together (no gap wider than ROW_GAP), from the anchor if
    one is given."""
    kept: list[Token] = []
    for token in words:
        previous = kept[-1] if kept else anchor
        if previous and max(token.bbox[0] - previous.bbox[2], previous.bbox[0] - token.bbox[2]) > ROW_GAP:
            break
        kept.append(token)
    return kept


def values_in(spec: FieldSpec, context: list[Token], anchored: bool, dayfirst: bool | None = None) -> list[Candidate]:
    """The field's values written in these words; anchored: only a value right at the start (after filler)."""
    if anchored:
        while context and context[0].text.lower() in FILLER:
            context = context[1:]
    if spec.type == "string" and not spec.pattern:
        context = phrase(context)  # free text ends at the next column
    if not context:
        return []
    text, starts = _join(context)
    found = []
    for match, value, typed in typed_matches(spec, text, dayfirst):
        if anchored and match.start() != 0:
            break
        cited = [t for t, s in zip(context, starts) if s < match.end() and s + len(t.text) > match.start()]
        found.append(Candidate(value=value, typed=typed, tokens=cited, confidence=0.0, rank=()))
        if anchored:
            break
    return found


def _join(context: list[Token]) -> tuple[str, list[int]]:
    starts, position = [], 0
    for token in context:
        starts.append(position)
        position += len(token.text) + 1
    return " ".join(t.text for t in context), starts


def typed_matches(spec: FieldSpec, text: str, dayfirst: bool | None = None):
    """(match, normalised text, typed value) for each value of the field's type in text."""
    if spec.type == "date":
        for m in DATE.finditer(text):
            if (day := match_date(m, dayfirst)) is not None:
                yield m, day.isoformat(), day
    elif spec.type in ("money", "number"):
        for m in AMOUNT.finditer(text):
            if spec.type == "money" and not m["before"] and not re.search(r"[.,]\d{1,2}$", m["number"]):
                continue  # a bare integer is a count or a year ('21 april 2015 € 717,97'), not a sum
            if (amount := match_amount(m)) is not None:
                yield m, format_decimal(amount), float(amount)
    elif spec.type == "enum":
        for m in re.finditer(r"\S+", text):
            if (value := enum_value(m.group(), spec.values)) is not None:
                yield m, value, value
    elif spec.type == "boolean":
        for m in re.finditer(r"\S+", text):
            if (flag := parse_bool(m.group())) is not None:
                yield m, json.dumps(flag), flag
    else:
        pattern = spec.pattern or r"\S+(?: \S+)*"
        for m in re.finditer(pattern, text):
            value = (m.group(1) if m.groups() else m.group()).strip()
            if value and DATE.fullmatch(value) is None:
                yield m, value, value


def enum_value(word: str, values: list[str]) -> str | None:
    """The enum value a word names: the value itself (any case), or a currency written as a symbol or code."""
    bare = word.strip(".,:;()")
    for value in values:
        if bare.lower() == value.lower():
            return value
    code = currency_code(bare)
    return code if code in values else None


def overall_confidence(results: list[FieldResult]) -> float | None:
    """The mean confidence of the fields found."""
    found = [r.confidence for r in results if r.confidence is not None]
    return sum(found) / len(found) if found else None


