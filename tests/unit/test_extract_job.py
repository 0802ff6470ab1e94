"""The extraction job without Prefect: each method on its fields, ai fields without a key, auto pairs beside a
schema's fields, validation."""
from __future__ import annotations

from blocks.settings import LlmProviderSettings
from tasks.extract.job import extract, methods, resolve_schema
from tasks.extract.ai import NEEDS_AI
from tests.unit.word_pages import page

TOKENS = page("ACME Trading Ltd",
              "12 High Street, London SW1A 1AA",
              "Invoice No: INV-42          Date: 05/03/2024",
              "Reference: PO-7",
              "Total                       £ 120.50")
SCHEMA = resolve_schema({"version": "1", "auto": True, "fields": {
    "total": {"type": "money", "hints": ["total"], "required": True},
    "vendor": {"type": "string", "method": "nlp", "entity": "organisation"},
    "invoice_number": {"type": "string", "method": "ai", "hints": ["invoice no"], "pattern": "INV-\\d+"},
    "purpose": {"type": "string", "method": "ai", "description": "What was bought"},
    "iban": {"type": "string", "hints": ["iban"], "required": True},
}})


def test_each_method_fills_its_fields_and_ai_fields_fall_back_without_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert methods(SCHEMA) == ["ai", "auto", "nlp", "regex"]
    results = extract(SCHEMA, TOKENS, LlmProviderSettings())
    found = {r.field_name: r for r in results}
    assert [r.field_name for r in results[:5]] == ["total", "vendor", "invoice_number", "purpose", "iban"]
    assert (found["total"].value, found["total"].method) == ("120.50", "regex")
    assert (found["vendor"].value, found["vendor"].method) == ("ACME Trading Ltd", "nlp")
    assert (found["invoice_number"].value, found["invoice_number"].method) == ("INV-42", "regex"), \
        "without a key, the rules fill the ai field they can"
    assert found["purpose"].value is None and found["purpose"].error == NEEDS_AI and not found["purpose"].valid
    assert not found["iban"].valid and found["iban"].error.startswith("required field not found")
    auto = {r.field_name: r.value for r in results[5:]}
    assert auto["Reference"] == "PO-7" and "Invoice No" not in auto, "a schema field's label is not repeated"
    assert all(r.method == "auto" for r in results[5:])
