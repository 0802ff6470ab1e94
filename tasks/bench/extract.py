"""Field exact match of an extraction against X.json ground truth (a list with one dict of expected fields)."""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel

from tasks.extract.rules import FieldResult
from tasks.extract.schema import ExtractionSchema


class FieldScore(BaseModel):
    field_name: str
    expected: str | None
    got: str | None
    match: bool


class DocumentScore(BaseModel):
    document: str
    fields: list[FieldScore]
    error: str | None = None


def comparable(field_type: str, value) -> str | None:
    """A value as compared: amounts as decimals to the cent, strings without case, spaces or a leading '#'."""
    if value is None or value == "":
        return None
    text = str(value)
    if field_type in ("money", "number"):
        try:
            return str(Decimal(text).quantize(Decimal("0.01")))
        except InvalidOperation:
            return text
    if field_type == "enum":
        return text.strip().upper()
    return re.sub(r"\s+", "", text).lstrip("#").casefold()


def truth_of(document: Path) -> dict:
    truth = json.loads(document.with_suffix(".json").read_text(encoding="utf-8"))
    return truth[0] if isinstance(truth, list) else truth


def score_document(name: str, schema: ExtractionSchema, truth: dict, results: list[FieldResult]) -> DocumentScore:
    """One score per schema field that the truth gives a value for."""
    got = {result.field_name: result.value for result in results}
    scores = []
    for spec in schema.fields:
        expected = comparable(spec.type, truth.get(spec.name))
        if expected is None:
            continue
        value = comparable(spec.type, got.get(spec.name))
        scores.append(FieldScore(field_name=spec.name, expected=expected, got=value, match=value == expected))
    return DocumentScore(document=name, fields=scores)


def exact_match(scores: list[DocumentScore]) -> tuple[dict[str, float], float | None]:
    """Per-field and overall exact match over every scored field of every document."""
    per_field: dict[str, list[bool]] = {}
    for document in scores:
        for field in document.fields:
            per_field.setdefault(field.field_name, []).append(field.match)
    every = [match for matches in per_field.values() for match in matches]
    return ({name: sum(m) / len(m) for name, m in per_field.items()},
            sum(every) / len(every) if every else None)
