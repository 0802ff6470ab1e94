"""Schemas: Docuforge's own format, JSON Schema documents, and validation of results against them."""
from __future__ import annotations

import json
from datetime import date

import pytest

from tasks.errors import BadInput
from tasks.extract.job import resolve_schema
from tasks.extract.rules import FieldResult
from tasks.extract.schema import ExtractionSchema, FieldSpec
from tasks.extract.validate import REQUIRED_MISSING, validate

INVOICE_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "invoice", "version": "3", "type": "object", "required": ["total", "issued"],
    "properties": {
        "total": {"type": "number", "x-type": "money", "x-hints": ["total"], "description": "Amount due"},
        "issued": {"type": "string", "format": "date"},
        "currency": {"type": ["string", "null"], "enum": ["EUR", "USD", None], "x-near-field": "total"},
        "paid": {"type": "boolean"},
        "reference": {"type": "string", "pattern": "INV-\\d+", "x-method": "ai"},
        "vendor": {"type": "string", "x-method": "nlp", "x-entity": "organisation"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "quantity": {"type": "integer"}, "price": {"type": "number"}}}},
    },
}


def test_a_json_schema_document_is_read_as_an_extraction_schema(tmp_path):
    path = tmp_path / "invoice.schema.json"
    path.write_text(json.dumps(INVOICE_JSON_SCHEMA))
    schema = resolve_schema(str(path))
    fields = {spec.name: spec for spec in schema.fields}
    assert (schema.name, schema.version) == ("invoice", "3")
    assert [fields[n].type for n in ("total", "issued", "currency", "paid", "reference", "vendor", "lines")] == [
        "money", "date", "enum", "boolean", "string", "string", "array"]
    assert fields["total"].required and fields["issued"].required and not fields["paid"].required
    assert fields["total"].hints == ["total"] and fields["total"].description == "Amount due"
    assert fields["currency"].values == ["EUR", "USD"] and fields["currency"].near_field == "total"
    assert fields["reference"].pattern == "INV-\\d+" and fields["reference"].method == "ai"
    assert fields["vendor"].method == "nlp" and fields["vendor"].entity == "organisation"
    assert [(f.name, f.type) for f in fields["lines"].fields] == [
        ("name", "string"), ("quantity", "number"), ("price", "number")]
    assert resolve_schema(INVOICE_JSON_SCHEMA) == schema, "inline, as a flow parameter, the same"


def test_schemas_inline_by_name_and_bad_ones():
    assert resolve_schema(None).name == "invoice" and resolve_schema("receipt").name == "receipt"
    assert resolve_schema("auto").auto and resolve_schema("auto").fields == []
    with pytest.raises(BadInput, match="no fields"):
        resolve_schema({"version": "1", "fields": []})
    with pytest.raises(BadInput, match="not valid"):
        resolve_schema({"version": "1", "fields": {"x": {"type": "colour"}}})
    with pytest.raises(BadInput, match="not valid"):
        resolve_schema({"type": "object", "properties": {"when": {"type": "string", "x-method": "magic"}}})
    with pytest.raises(BadInput, match="not found"):
        resolve_schema("no-such-schema")


@pytest.mark.parametrize(("spec", "result", "error"), [
    (FieldSpec(name="n", type="money"), FieldResult(field_name="n", type="money", method="ai", value="12.50",
                                                    value_number=12.5), None),
    (FieldSpec(name="n", type="money"), FieldResult(field_name="n", type="money", method="ai", value="twelve"),
     "not a number"),
    (FieldSpec(name="d", type="date"), FieldResult(field_name="d", type="date", method="ai", value="2024-03-05",
                                                   value_date=date(2024, 3, 5)), None),
    (FieldSpec(name="d", type="date"), FieldResult(field_name="d", type="date", method="ai", value="soon"),
     "not a date"),
    (FieldSpec(name="c", type="enum", values=["EUR"]), FieldResult(field_name="c", type="enum", method="ai",
                                                                   value="GBP"), "not one of"),
    (FieldSpec(name="r", pattern=r"INV-\d+"), FieldResult(field_name="r", type="string", method="ai",
                                                          value="INV-12"), None),
    (FieldSpec(name="r", pattern=r"INV-\d+"), FieldResult(field_name="r", type="string", method="ai",
                                                          value="12"), "does not match"),
    (FieldSpec(name="l", type="array"), FieldResult(field_name="l", type="array", method="regex",
                                                    value='[{"name": "x"}]'), None),
    (FieldSpec(name="l", type="array"), FieldResult(field_name="l", type="array", method="regex", value="x"),
     "not a JSON list"),
    (FieldSpec(name="t", required=True), FieldResult(field_name="t", type="string", method="regex"),
     REQUIRED_MISSING),
])
def test_results_are_validated_against_their_spec(spec, result, error):
    checked = validate(spec, result)
    assert checked.valid is (error is None)
    assert checked.error is None if error is None else error in checked.error


def test_a_failure_already_recorded_keeps_its_reason():
    failed = FieldResult(field_name="t", type="string", method="ai", valid=False, error="rate_limit: 429")
    assert validate(FieldSpec(name="t", required=True), failed).error == "rate_limit: 429"
    assert ExtractionSchema(version="1", auto=True).fields == []
