"""A plain JSON Schema, as people write them for document APIs, understood from its names and descriptions."""
import json
from pathlib import Path

from tasks.extract.job import extract
from tasks.extract.schema import load_schema, parse_schema
from tasks.extract.vocabulary import concept_of, words_of
from tests.unit.word_pages import page

PLAIN = Path(__file__).resolve().parents[2] / "tasks/bench/schemas"


def spec_of(schema, name):
    return next(spec for spec in schema.fields if spec.name == name)


def test_field_names_are_read_as_words():
    assert words_of("invoiceNumber") == words_of("invoice_number") == words_of("Invoice-Number") == "invoice number"
    assert words_of("Invoice No.") == "invoice no"


def test_a_property_means_a_concept_by_name_title_or_description():
    assert concept_of("vendorName") == "company"
    assert concept_of("x1", title="Invoice No.") == "invoice_number"
    assert concept_of("value", description="The grand total, taxes included") == "total"
    assert concept_of("lines", description="The invoice lines") is None, "one word of a description says too little"
    assert concept_of("colour") is None


def test_a_plain_schema_gets_types_methods_and_labels():
    schema = load_schema(PLAIN / "invoice.plain.json")
    amount, currency, number = (spec_of(schema, name) for name in ("amount", "currency", "invoice_number"))
    assert (amount.type, amount.select) == ("money", "largest") and "amount due" in amount.hints
    assert currency.type == "enum" and "EUR" in currency.values and currency.near_field == "amount"
    assert number.pattern and number.hints[0] == "invoice number"
    receipt = load_schema(PLAIN / "receipt.plain.json")
    assert (spec_of(receipt, "company").method, spec_of(receipt, "company").entity) == ("nlp", "organisation")
    assert spec_of(receipt, "address").entity == "address" and spec_of(receipt, "date").type == "date"


def test_what_the_schema_says_wins_and_unknown_fields_are_labelled_by_their_name():
    schema = parse_schema({"properties": {
        "total": {"type": "number", "x-hints": ["Te betalen"], "x-method": "nlp"},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "delivery_date": {"type": "string"},
        "tracking_number": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"unit_price": {"type": "number"}}}},
    }})
    total, currency, delivery, tracking, lines = schema.fields
    assert (total.hints, total.method, total.type) == (["Te betalen"], "nlp", "money")
    assert currency.values == ["EUR", "USD"] and currency.near_field == "total"
    assert (delivery.type, delivery.hints) == ("date", ["delivery date"]), "a date by its last word, not an invoice date"
    assert tracking.pattern and tracking.hints == ["tracking number"]
    assert lines.hints == [] and (lines.fields[0].hints, lines.fields[0].type) == (["unit price"], "number")


def test_bundled_schemas_keep_every_setting_they_give():
    written = json.loads((Path(__file__).resolve().parents[2] / "tasks/extract/schemas/receipt.json").read_text())
    schema = load_schema("receipt")
    for name, given in written["fields"].items():
        spec = spec_of(schema, name)
        assert all(getattr(spec, key) == value for key, value in given.items()), name


def test_a_plain_schema_extracts_a_receipt_without_any_hints():
    tokens = page("SANYU STATIONERY SHOP",
                  "NO. 31G&33G, JALAN SETIA INDAH X ,U13/X",
                  "40170 SETIA ALAM",
                  "Date: 05/04/2018          Time: 10:12",
                  "Subtotal                 RM 8.49",
                  "TOTAL                    RM 9.00",
                  "CASH                     RM 10.00")
    found = {r.field_name: r for r in extract(load_schema(PLAIN / "receipt.plain.json"), tokens)}
    assert found["total"].value == "9.00"
    assert found["date"].value == "2018-04-05", "a page in ringgit writes its dates day first"
    assert found["company"].value == "SANYU STATIONERY SHOP"
