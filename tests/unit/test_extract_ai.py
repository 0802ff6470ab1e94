"""The ai method through the real SDKs against our local server: values kept only where the page bears them out,
cited by the words they were read from; every failure a reason on the field, never an exception."""
import json

import jsonschema
import pytest
from pydantic import SecretStr

from blocks.settings import LlmProviderSettings
from tasks.extract.ai import NEEDS_AI, PRIOR, SCHEMA_NAME, extract_with_ai, reply_schema
from tasks.extract.schema import FieldSpec
from tasks.models import union
from tests.fakes.llm_server import KEY_PLACEHOLDER, answer, raw, status
from tests.unit.word_pages import page

KEY = "sk-test-do-not-leak-77e1"
PROVIDERS = ["openai", "anthropic"]
INVOICE = page("ACME Ltd            Invoice Number:   INV-2024/007",
               "                    Invoice Date:     05/03/2024",
               "Widget   2   € 10,00",
               "Gadget   1   € 5,50",
               "Total                    € 1.210,00")
SPECS = [
    FieldSpec(name="invoice_number", method="ai", hints=["Invoice Number"], required=True),
    FieldSpec(name="date", type="date", method="ai", description="The invoice date"),
    FieldSpec(name="amount", type="money", method="ai", description="The total to pay"),
    FieldSpec(name="currency", type="enum", method="ai", values=["EUR", "USD"]),
    FieldSpec(name="lines", type="array", method="ai", fields=[
        FieldSpec(name="description"), FieldSpec(name="quantity", type="number"),
        FieldSpec(name="amount", type="money")]),
]
GOOD = {
    "invoice_number": {"value": "INV-2024/007", "quote": "INV-2024/007"},
    "date": {"value": "2024-03-05", "quote": "05/03/2024"},
    "amount": {"value": 1210, "quote": "Total € 1.210,00"},
    "currency": {"value": "EUR", "quote": "€ 1.210,00"},
    "lines": [{"description": "Widget", "quantity": 2, "amount": 10, "quote": "Widget 2 € 10,00"},
              {"description": "Gadget", "quantity": 1, "amount": 5.5, "quote": "Gadget 1 € 5,50"}],
}


def settings(server, provider: str, **fields) -> LlmProviderSettings:
    return LlmProviderSettings(provider=provider, base_url=server.base_url(provider), model="test-model",
                               **({"api_key": SecretStr(KEY)} | fields))


def extract(server, provider: str, answers: dict | None = None, specs=SPECS, tokens=INVOICE, **options):
    if answers is not None:
        server.script(answer(answers))
    found = extract_with_ai(specs, tokens, settings(server, provider),
                            **({"timeout": 2.0, "attempts": 2, "backoff": 0.01} | options))
    return {r.field_name: r for r in found}


def box_of(*words: str, tokens=INVOICE):
    return union(t.bbox for t in tokens if t.text in words)


def rows_box(*rows: int, tokens=INVOICE):
    return union(t.bbox for t in tokens if t.line[2] in rows)


def only(name: str, value, quote):
    """The good answer with one field's value and quote replaced."""
    return GOOD | {name: {"value": value, "quote": quote}}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_values_are_normalised_and_cited_by_the_words_they_were_read_from(llm_server, provider):
    found = extract(llm_server, provider, GOOD)
    assert found["invoice_number"].value == "INV-2024/007"
    assert found["invoice_number"].bbox == box_of("INV-2024/007") and found["invoice_number"].page_number == 1
    assert found["date"].value == "2024-03-05" and found["date"].value_date.isoformat() == "2024-03-05"
    assert found["amount"].value == "1210.00" and found["amount"].value_number == 1210.0
    assert found["amount"].bbox == rows_box(4)
    assert found["currency"].value == "EUR"
    assert json.loads(found["lines"].value) == [
        {"description": "Widget", "quantity": "2", "amount": "10.00"},
        {"description": "Gadget", "quantity": "1", "amount": "5.50"}]
    assert found["lines"].bbox == rows_box(2, 3)
    assert all(r.valid and r.error is None and r.method == "ai" and r.confidence == PRIOR for r in found.values())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_request_carries_the_fields_schema_and_the_page_text(llm_server, provider):
    extract(llm_server, provider, GOOD)
    [request] = llm_server.requests
    if provider == "openai":
        schema = request.body["response_format"]["json_schema"]["schema"]
        text = request.body["messages"][1]["content"]
    else:
        schema = request.body["tools"][0]["input_schema"]
        assert request.body["tool_choice"]["name"] == SCHEMA_NAME
        text = request.body["messages"][0]["content"]
    assert schema == reply_schema(SPECS)
    assert "--- page 1 ---\nACME Ltd Invoice Number: INV-2024/007\nInvoice Date: 05/03/2024" in text


def test_the_reply_schema_is_strict_nullable_and_describes_the_fields():
    schema = reply_schema(SPECS)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(GOOD, schema)
    nothing = {spec.name: {"value": None, "quote": None} for spec in SPECS} | {"lines": []}
    jsonschema.validate(nothing, schema)
    assert schema["required"] == [spec.name for spec in SPECS] and schema["additionalProperties"] is False
    assert schema["properties"]["currency"]["properties"]["value"]["enum"] == ["EUR", "USD", None]
    assert "Invoice Number" in schema["properties"]["invoice_number"]["properties"]["value"]["description"]
    item = schema["properties"]["lines"]["items"]
    assert item["required"] == ["description", "quantity", "amount", "quote"] and item["additionalProperties"] is False
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(only("currency", "GBP", "€"), schema)


def test_a_value_on_a_later_page_is_cited_there(llm_server):
    tokens = INVOICE + page("Notes", "Purchase order PO-55123", page_number=2)
    spec = FieldSpec(name="po", method="ai")
    found = extract(llm_server, "openai", {"po": {"value": "PO-55123", "quote": "Purchase order PO-55123"}},
                    specs=[spec], tokens=tokens)
    assert found["po"].value == "PO-55123" and found["po"].page_number == 2
    assert found["po"].bbox == box_of("Purchase", "order", "PO-55123", tokens=tokens)


def test_a_quote_close_to_the_words_counts_but_the_value_is_what_the_page_says(llm_server):
    tokens = page("Invoice Number:   INV-2024/0O7")
    spec = FieldSpec(name="invoice_number", method="ai")
    found = extract(llm_server, "anthropic", {
        "invoice_number": {"value": "INV-2024/007", "quote": "Invoice Number: INV-2024/007"}}, [spec], tokens)
    result = found["invoice_number"]
    assert result.valid and result.value == "INV-2024/0O7"
    assert 0.9 * PRIOR <= result.confidence < PRIOR


@pytest.mark.parametrize("answers, field", [
    (only("invoice_number", "PO-55123", "PO-55123"), "invoice_number"),
    (only("amount", 9999.0, "Total € 1.210,00"), "amount"),
    (only("date", "2024-06-01", "05/03/2024"), "date"),
    (only("currency", "USD", "€ 1.210,00"), "currency"),
    (only("invoice_number", "INV-2024/007", None), "invoice_number"),
    (GOOD | {"lines": [GOOD["lines"][0] | {"quantity": 3}]}, "lines"),
    (GOOD | {"lines": [GOOD["lines"][0] | {"quote": "Sprocket 4 € 99,00"}]}, "lines"),
], ids=["quote-not-on-page", "amount-not-in-quote", "date-not-in-quote", "enum-not-in-quote", "no-quote",
        "item-value-not-in-line", "item-line-not-on-page"])
def test_a_value_the_page_does_not_bear_out_is_invalid_and_not_returned(llm_server, answers, field):
    found = extract(llm_server, "openai", answers)
    assert not found[field].valid and found[field].value is None and found[field].bbox is None
    assert found[field].error.startswith("not found in the document")
    assert all(r.valid for name, r in found.items() if name != field)


def test_either_reading_of_an_ambiguous_date_is_borne_out(llm_server):
    found = extract(llm_server, "openai", only("date", "2024-05-03", "05/03/2024"))
    assert found["date"].valid and found["date"].value == "2024-05-03"


def test_a_field_the_model_says_is_absent_is_not_found(llm_server):
    nothing = {spec.name: {"value": None, "quote": None} for spec in SPECS} | {"lines": []}
    found = extract(llm_server, "anthropic", nothing)
    assert found["invoice_number"].error == "required field not found" and not found["invoice_number"].valid
    assert all(r.valid and r.value is None and r.error == "not found"
               for name, r in found.items() if name != "invoice_number")


def test_without_settings_every_field_needs_the_ai_method(llm_server):
    found = extract_with_ai(SPECS, INVOICE, None)
    assert all(not r.valid and r.error == NEEDS_AI and r.method == "ai" for r in found)
    assert llm_server.requests == []


@pytest.mark.parametrize("provider, variable", [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_without_a_key_every_field_says_which_key_is_missing(llm_server, monkeypatch, provider, variable):
    monkeypatch.delenv(variable, raising=False)
    found = extract_with_ai(SPECS, INVOICE, settings(llm_server, provider, api_key=None))
    assert all(not r.valid and r.error.startswith(NEEDS_AI) and variable in r.error for r in found)
    assert llm_server.requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("reply, reason", [
    (status(500), "network: "),
    (status(429, retry_after=0), "rate_limit: "),
    (answer(GOOD, delay=1.5), "network: "),
    (raw(b'{"choices": ['), "engine: "),
    (status(401, message=f"Incorrect API key provided: {KEY_PLACEHOLDER}"), "bad_input: "),
], ids=["server-error", "rate-limited", "timeout", "malformed", "bad-key"])
def test_a_provider_failure_marks_every_field_failed_with_its_reason(llm_server, provider, reply, reason):
    llm_server.script(reply)
    found = extract(llm_server, provider, timeout=0.3)
    assert all(not r.valid and r.value is None and r.error.startswith(reason) for r in found.values())
    assert not any(KEY in r.error for r in found.values())


def test_a_plain_schema_reaches_the_model_with_what_it_means():
    from pathlib import Path

    from tasks.extract.schema import load_schema

    plain = load_schema(Path(__file__).resolve().parents[2] / "tasks/bench/schemas/invoice.plain.json")
    schema = reply_schema([spec.model_copy(update={"method": "ai"}) for spec in plain.fields])
    amount = schema["properties"]["amount"]["properties"]["value"]
    assert amount["type"] == ["number", "null"], "a total typed number is money: a number without its currency"
    assert "Total amount due" in amount["description"] and "grand total" in amount["description"]
    assert "EUR" in schema["properties"]["currency"]["properties"]["value"]["enum"]
