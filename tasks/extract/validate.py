"""A field's result checked against its spec: required, type, enum values, pattern."""
from __future__ import annotations

import json
import re

from tasks.extract.rules import REQUIRED_MISSING, FieldResult
from tasks.extract.schema import FieldSpec


def validate(spec: FieldSpec, result: FieldResult) -> FieldResult:
    """The result, marked invalid with the reason when it breaks the schema (a failure already recorded stays)."""
    if result.value is None:
        if spec.required and result.valid:
            return result.model_copy(update={"valid": False, "error": REQUIRED_MISSING})
        return result
    problem = _problem(spec, result)
    return result.model_copy(update={"valid": False, "error": problem}) if problem else result


def _problem(spec: FieldSpec, result: FieldResult) -> str | None:
    if spec.type in ("money", "number") and result.value_number is None:
        return f"not a number: {result.value!r}"
    if spec.type == "date" and result.value_date is None:
        return f"not a date: {result.value!r}"
    if spec.type == "boolean" and result.value_bool is None:
        return f"not a boolean: {result.value!r}"
    if spec.type == "enum" and result.value not in spec.values:
        return f"{result.value!r} is not one of {spec.values}"
    if spec.type == "string" and spec.pattern and re.fullmatch(spec.pattern, result.value) is None:
        return f"{result.value!r} does not match {spec.pattern!r}"
    if spec.type == "array" and not isinstance(_json(result.value), list):
        return "not a JSON list"
    return None


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None
