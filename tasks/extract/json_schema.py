"""A JSON Schema document (an object with `properties`) read as an extraction schema.

Types map as a user of JSON Schema expects: string with format date/date-time → date, string with enum → enum,
number/integer → number, boolean → boolean, array of objects → array with sub-fields. Docuforge's own settings ride
along as `x-` keywords: x-type (e.g. money), x-method, x-hints, x-entity, x-select, x-near-field."""
from __future__ import annotations

EXTENSIONS = {"x-method": "method", "x-hints": "hints", "x-entity": "entity", "x-select": "select",
              "x-near-field": "near_field"}


def is_json_schema(document: dict) -> bool:
    return isinstance(document.get("properties"), dict) and "fields" not in document


def schema_from_json_schema(document: dict) -> dict:
    """The extraction schema's fields (as a dict ExtractionSchema validates) from a JSON Schema object."""
    return {"version": str(document.get("version") or document.get("x-version") or "1"),
            "name": document.get("title", ""), "fields": _fields(document)}


def _fields(document: dict) -> list[dict]:
    required = set(document.get("required", []))
    return [_field(name, prop, name in required) for name, prop in document["properties"].items()]


def _field(name: str, prop: dict, required: bool) -> dict:
    spec = {"name": name, "title": prop.get("title", ""), "type": prop.get("x-type") or _type(prop),
            "required": required, "description": prop.get("description", "")}
    if "enum" in prop:
        spec["values"] = [str(value) for value in prop["enum"] if value is not None]
    if "pattern" in prop:
        spec["pattern"] = prop["pattern"]
    if spec["type"] == "array":
        items = prop.get("items") or {}
        spec["fields"] = _fields(items) if isinstance(items.get("properties"), dict) else []
    return spec | {field: prop[key] for key, field in EXTENSIONS.items() if key in prop}


def _type(prop: dict) -> str:
    kinds = prop.get("type", "string")
    kind = next((k for k in kinds if k != "null"), "string") if isinstance(kinds, list) else kinds
    if kind == "string":
        if prop.get("format") in ("date", "date-time"):
            return "date"
        return "enum" if "enum" in prop else "string"
    return {"integer": "number"}.get(kind, kind)
