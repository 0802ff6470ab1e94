"""The ai method: one LLM call reads every ai field of a document. The model gives each value with the exact text
it read it from; a value is kept only when that text is found on the page and holds the value, and the words found
are its citation. Nothing the document does not say becomes a valid value."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from rapidfuzz import fuzz

from blocks.settings import LlmProviderSettings
from tasks.errors import as_docuforge_error
from tasks.extract.normalise import AMOUNT, DATE, format_decimal, match_amount, match_date, parse_bool, parse_date
from tasks.extract.rules import Candidate, FieldResult, Token, enum_value, field_result, lines_of
from tasks.extract.schema import FieldSpec
from tasks.llm.client import ATTEMPTS, BACKOFF, TIMEOUT, MissingApiKey, complete_json

NEEDS_AI = "needs the ai method (no LLM configured)"
PRIOR = 0.85
"""Confidence of a value whose quote is found word for word; a fuzzy match scales it by the match score."""
MIN_MATCH = 90
"""The least rapidfuzz score (0–100) at which a quote counts as found in the page text."""
NOT_IN_DOCUMENT = "not found in the document"
SCHEMA_NAME = "document_fields"
SYSTEM = """You extract fields from a document, as the JSON schema describes them.
For each field give `value` and `quote`. The quote is the text of the document the value is read from, copied \
exactly as written (the shortest span that holds the value, on one page). Write dates as YYYY-MM-DD and amounts as \
plain numbers without currency. When the document does not say a field, give null for both: never guess, infer or \
compute a value that is not written. For a list, give one item per entry, each with the quote of its whole line."""
VALUE_SCHEMAS = {
    "string": {"type": ["string", "null"]},
    "number": {"type": ["number", "null"]},
    "money": {"type": ["number", "null"], "description": "The amount, without its currency"},
    "date": {"type": ["string", "null"], "description": "The date as YYYY-MM-DD"},
    "boolean": {"type": ["boolean", "null"]},
    "array": {"type": ["string", "null"]},
}
QUOTE = {"type": ["string", "null"], "description": "The exact text of the document the value is read from"}
ITEM_VALUE = FieldSpec(name="value")
"""The one sub-field of a list of plain values."""


class Citation(BaseModel):
    tokens: list[Token]
    score: float
    """How well the quote matched the words, 0–1."""

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)


def extract_with_ai(specs: list[FieldSpec], tokens: list[Token], settings: LlmProviderSettings | None, *,
                    timeout: float = TIMEOUT, attempts: int = ATTEMPTS, backoff: float = BACKOFF) -> list[FieldResult]:
    """Every ai field, read by the LLM in one call and checked against the words of the pages. Without an LLM, or
    when the provider fails, every field is invalid with the reason."""
    if not specs:
        return []
    if settings is None:
        return [_failed(spec, NEEDS_AI) for spec in specs]
    if not tokens:
        return [_not_found(spec) for spec in specs]
    try:
        answers = complete_json(settings, system=SYSTEM, prompt=prompt(tokens), schema=reply_schema(specs),
                                name=SCHEMA_NAME, timeout=timeout, attempts=attempts, backoff=backoff)
    except Exception as exc:  # whatever fails, each field says why instead of the extraction crashing
        error = as_docuforge_error(exc)
        reason = f"{NEEDS_AI}: {error}" if isinstance(error, MissingApiKey) else f"{error.category}: {error}"
        return [_failed(spec, reason) for spec in specs]
    pages = _pages(tokens)
    return [read_field(spec, answers[spec.name], pages) for spec in specs]


def prompt(tokens: list[Token]) -> str:
    """The document's text in reading order, a line per line, each page under a marker."""
    parts, page_number = [], None
    for line in lines_of(tokens):
        if line[0].page_number != page_number:
            page_number = line[0].page_number
            parts.append(f"--- page {page_number} ---")
        parts.append(" ".join(t.text for t in line))
    return "The document:\n" + "\n".join(parts)


def reply_schema(specs: list[FieldSpec]) -> dict:
    """The reply's JSON schema (strict: every property required, nullable where a field may be absent)."""
    return _object({spec.name: _field_schema(spec) for spec in specs})


def _field_schema(spec: FieldSpec) -> dict:
    if spec.type == "array":
        item = _object({sub.name: _value_schema(sub) for sub in spec.fields or [ITEM_VALUE]} | {"quote": QUOTE})
        return _described({"type": "array", "items": item}, _about(spec))
    return _object({"value": _value_schema(spec), "quote": QUOTE})


def _value_schema(spec: FieldSpec) -> dict:
    if spec.type == "enum":
        return _described({"type": ["string", "null"], "enum": [*spec.values, None]}, _about(spec))
    return _described(VALUE_SCHEMAS[spec.type], _about(spec))


def _about(spec: FieldSpec) -> str:
    return " ".join(filter(None, [spec.description, f"Labelled e.g. {', '.join(spec.hints)}." if spec.hints else ""]))


def _described(schema: dict, about: str) -> dict:
    text = " ".join(filter(None, [schema.get("description"), about]))
    return schema | {"description": text} if text else schema


def _object(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def read_field(spec: FieldSpec, answer: dict | list, pages: list[list[Token]]) -> FieldResult:
    """The field's result from the model's answer, kept only where the document bears it out."""
    if spec.type == "array":
        return _read_list(spec, answer, pages)
    value, quote = answer["value"], answer["quote"]
    if value is None:
        return _not_found(spec)
    citation = locate(quote, pages)
    if citation is None:
        return _failed(spec, f"{NOT_IN_DOCUMENT}: {value!r}, quoted as {quote!r}")
    read = supported(spec, value, citation)
    if read is None:
        return _failed(spec, f"{NOT_IN_DOCUMENT}: {value!r} is not what {citation.text!r} says")
    return _found(spec, *read, citation.tokens, citation.score)


def _read_list(spec: FieldSpec, items: list[dict], pages: list[list[Token]]) -> FieldResult:
    """A list of objects (or of plain values): every item's line must be found and hold each of its values."""
    rows, citations = [], []
    for number, item in enumerate(items, start=1):
        citation = locate(item["quote"], pages)
        if citation is None:
            return _failed(spec, f"{NOT_IN_DOCUMENT}: item {number}, quoted as {item['quote']!r}")
        row = {}
        for sub in spec.fields or [ITEM_VALUE]:
            value = item[sub.name]
            read = None if value is None else supported(sub, value, citation)
            if value is not None and read is None:
                return _failed(spec, f"{NOT_IN_DOCUMENT}: item {number} {sub.name} {value!r} is not what "
                                     f"{citation.text!r} says")
            row[sub.name] = read[0] if read else None
        rows.append(row if spec.fields else row[ITEM_VALUE.name])
        citations.append(citation)
    if not rows:
        return _not_found(spec)
    return _found(spec, json.dumps(rows, ensure_ascii=False), None, [t for c in citations for t in c.tokens],
                  min(c.score for c in citations))


def locate(quote: str | None, pages: list[list[Token]]) -> Citation | None:
    """The words the quote was copied from: written word for word, else the best fuzzy match on any page."""
    wanted = " ".join((quote or "").lower().split())
    if not wanted:
        return None
    best = None
    for words in pages:
        text, starts = _page_text(words)
        if len(wanted) > len(text):
            continue
        exact = re.search(rf"(?<!\S){re.escape(wanted)}(?!\S)", text)
        if exact:
            return Citation(tokens=_covering(words, starts, exact.start(), exact.end()), score=1.0)
        match = fuzz.partial_ratio_alignment(wanted, text, score_cutoff=MIN_MATCH)
        if match and (best is None or match.score / 100 > best.score):
            best = Citation(tokens=_covering(words, starts, match.dest_start, match.dest_end), score=match.score / 100)
    return best


def supported(spec: FieldSpec, value, citation: Citation) -> tuple[str, str | float | date | bool] | None:
    """The value, normalised, if the cited words say it (as the normalised text and the typed value). A string is
    taken as the words write it, not as the model spelled it."""
    source = citation.text
    if spec.type in ("money", "number"):
        wanted = Decimal(str(value))
        amounts = (match_amount(m) for m in AMOUNT.finditer(source))
        return next(((format_decimal(a), float(a)) for a in amounts if a == wanted), None)
    if spec.type == "date":
        day = parse_date(str(value))
        readings = {match_date(m, dayfirst) for m in DATE.finditer(source) for dayfirst in (True, False)}
        return (day.isoformat(), day) if day is not None and day in readings else None
    if spec.type == "enum":
        named = {enum_value(word, spec.values) for word in source.split()}
        return (value, value) if value in named else None
    if spec.type == "boolean":
        said = {parse_bool(word) for word in source.split()} - {None}
        return (json.dumps(value), value) if not said or value in said else None
    said = locate(str(value), [citation.tokens])
    return (said.text, said.text) if said else None


def _pages(tokens: list[Token]) -> list[list[Token]]:
    pages: dict[int, list[Token]] = {}
    for token in tokens:
        pages.setdefault(token.page_number, []).append(token)
    return list(pages.values())


def _page_text(words: list[Token]) -> tuple[str, list[int]]:
    """The page's words lower-cased and joined by single spaces, with where each word starts."""
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word.text.lower()) + 1
    return " ".join(w.text.lower() for w in words), starts


def _covering(words: list[Token], starts: list[int], begin: int, end: int) -> list[Token]:
    return [w for w, s in zip(words, starts) if s < end and s + len(w.text.lower()) > begin]


def _found(spec: FieldSpec, value: str, typed, tokens: list[Token], score: float) -> FieldResult:
    return field_result(spec, Candidate(value=value, typed=typed, tokens=tokens, confidence=PRIOR * score, rank=()),
                        method="ai")


def _not_found(spec: FieldSpec) -> FieldResult:
    return field_result(spec, None, method="ai")


def _failed(spec: FieldSpec, error: str) -> FieldResult:
    return FieldResult(field_name=spec.name, type=spec.type, method="ai", valid=False, error=error)
