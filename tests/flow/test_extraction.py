"""extract_document on Prefect (test harness): a benchmark invoice's text layer to `fields` rows and an event."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.blocks.system import Secret

from blocks.settings import LLM_BLOCK, LlmProviderSettings
from flows.extraction import extract_document
from flows.pipeline import process_document
from tasks.events import EventName
from tasks.models import ProcessOptions
from tasks.store import ResultsStore
from tests.fakes.llm_server import answer
from tests.flow.helpers import wait_for_events

pytestmark = pytest.mark.usefixtures("prefect_harness")
SCHEMA = {"version": "1", "name": "invoice-test", "fields": {
    "amount": {"type": "money", "hints": ["total", "totaal"], "select": "largest", "required": True},
    "date": {"type": "date", "hints": ["factuurdatum"], "required": True},
    "invoice_number": {"type": "string", "hints": ["factuurnummer"], "pattern": r"\d+"},
    "currency": {"type": "enum", "values": ["EUR", "USD"], "near_field": "amount"},
    "vendor": {"type": "string", "method": "ai", "description": "The seller's name"},
}}


def test_invoice_fields_with_citations_in_the_fields_table(benchmarks, tmp_path):
    source = benchmarks / "invoices" / "coolblue1.pdf"
    options = ProcessOptions(tables=False, figures=False)
    state = extract_document(source=str(source), fields_schema=SCHEMA, options=options, results_uri=str(tmp_path),
                             return_state=True)
    summary = state.result()
    assert state.is_completed() and summary.status == "completed", \
        "without an LLM the ai field is filled offline from what the schema says (a seller: an organisation)"

    store = ResultsStore(str(tmp_path))
    rows = {row["field_name"]: row for row in store.read("fields", summary.job_id).to_pylist()}
    assert set(rows) == {"amount", "date", "invoice_number", "currency", "vendor"}
    assert rows["amount"]["value"] == "717.97" and rows["amount"]["value_number"] == pytest.approx(717.97)
    assert rows["date"]["value"] == "2014-04-19" and rows["date"]["value_date"].isoformat() == "2014-04-19"
    assert rows["invoice_number"]["value"] == "993548900" and rows["currency"]["value"] == "EUR"
    assert all(rows[name]["valid"] and rows[name]["page_number"] == 1 and rows[name]["operation"] == "extract"
               for name in ("amount", "date", "invoice_number", "currency"))
    assert (rows["vendor"]["method"], rows["vendor"]["value"], rows["vendor"]["valid"]) == ("nlp", "Coolblue B.V.", True)

    words = store.read("words", summary.job_id).to_pylist()
    cited = [w for w in words if w["text"] == "993548900"]
    assert len(cited) == 1 and rows["invoice_number"]["bbox"] == pytest.approx(cited[0]["bbox"])
    number_box = rows["invoice_number"]["bbox"]
    label = next(w for w in words if w["text"] == "Factuurnummer:")
    assert number_box["x0"] > label["bbox"]["x1"] and number_box["y0"] < label["bbox"]["y1"], "right of its label"

    event = wait_for_events(EventName.extraction_completed, summary.job_id)[0]
    assert event.payload["fields_invalid"] == [] and event.payload["fields_found"] == 5

    again = extract_document(source=str(source), fields_schema=SCHEMA, options=options, results_uri=str(tmp_path))
    assert again.job_id == summary.job_id and store.read("fields").num_rows == 5, "a re-run replaces its rows"


JSON_SCHEMA = {"title": "invoice-json-schema", "type": "object", "required": ["total"], "properties": {
    "total": {"type": "number", "x-type": "money", "x-hints": ["total"], "x-select": "largest"},
    "issued": {"type": "string", "format": "date", "x-hints": ["factuurdatum"]},
}}


def test_process_document_extracts_with_a_json_schema_document(benchmarks, tmp_path):
    source = benchmarks / "invoices" / "coolblue1.pdf"
    state = process_document(source=str(source), operation="extract", fields_schema=JSON_SCHEMA,
                             options=ProcessOptions(tables=False, figures=False), results_uri=str(tmp_path),
                             return_state=True)
    job = state.result()
    assert job.status == "completed" and job.extraction["status"] == "completed"
    rows = {r["field_name"]: r for r in ResultsStore(str(tmp_path)).read("fields", job.job_id).to_pylist()}
    assert {name: rows[name]["value"] for name in rows} == {"total": "717.97", "issued": "2014-04-19"}


def test_a_bad_schema_fails_the_document_as_bad_input(benchmarks, tmp_path):
    state = process_document(source=str(benchmarks / "invoices" / "coolblue1.pdf"), operation="extract",
                             fields_schema={"version": "1", "fields": {"x": {"type": "colour"}}},
                             results_uri=str(tmp_path), return_state=True)
    job = state.result(raise_on_failure=False)
    assert state.is_failed() and job.error_category == "bad_input" and "not valid" in job.error
    [row] = ResultsStore(str(tmp_path)).read("documents", job.job_id).to_pylist()
    assert row["status"] == "failed" and row["error_category"] == "bad_input"


def test_auto_gives_the_forms_key_value_pairs_with_citations(benchmarks, tmp_path):
    state = extract_document(source=str(benchmarks / "invoices" / "coolblue1.pdf"), fields_schema="auto",
                             options=ProcessOptions(tables=False, figures=False), results_uri=str(tmp_path),
                             return_state=True)
    pairs = {f.field_name: f for f in state.result().fields}
    assert pairs["Factuurnummer"].value == "993548900" and pairs["Factuurnummer"].method == "auto"
    assert pairs["Factuurdatum"].value == "2014-04-19" and pairs["Factuurdatum"].page_number == 1
    assert all(f.bbox is not None for f in pairs.values())


def test_ai_fields_are_read_by_the_configured_provider(benchmarks, tmp_path, llm_server):
    Secret(value="sk-flow-test").save("docuforge-test-llm-key", overwrite=True)
    LlmProviderSettings(provider="anthropic", base_url=llm_server.base_url("anthropic"), model="claude-test",
                        api_key_secret="docuforge-test-llm-key").save(LLM_BLOCK, overwrite=True)
    llm_server.script(answer({"vendor": {"value": "Coolblue B.V.", "quote": "Coolblue B.V."}}))
    try:
        state = extract_document(source=str(benchmarks / "invoices" / "coolblue1.pdf"), fields_schema=SCHEMA,
                                 options=ProcessOptions(tables=False, figures=False), results_uri=str(tmp_path),
                                 return_state=True)
    finally:
        LlmProviderSettings.delete(LLM_BLOCK)
    found = {f.field_name: f for f in state.result().fields}
    assert found["vendor"].method == "ai" and found["vendor"].value == "Coolblue B.V." and found["vendor"].valid
    assert found["amount"].method == "regex" and found["amount"].value == "717.97", "the rules keep their fields"
    [request] = llm_server.requests
    assert request.credential == "sk-flow-test", "the key from the Secret block the LLM block names"
    assert request.body["model"] == "claude-test" and "sk-flow-test" not in json.dumps(request.body)


SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.pdf"
NUMBER_SCHEMA = {"version": "1", "fields": {"invoice_number": {"type": "string", "pattern": r"DF-\d{4}-\d{4}"}}}
TOTAL_SCHEMA = {"version": "1", "fields": {"total": {"type": "money", "hints": ["total due"]}}}


def _extract(results: Path, schema: dict):
    options = ProcessOptions(pages="1", tables=False, figures=False)
    state = process_document(source=str(SAMPLE), operation="extract", fields_schema=schema, options=options,
                             results_uri=str(results), return_state=True)
    return state.result(raise_on_failure=False)


def test_each_fields_schema_is_a_job_of_its_own_and_ingestion_tells_them_apart(tmp_path):
    from tasks.extract.job import resolve_schema
    from tasks.ingest import completed_sources

    by_number, by_total = _extract(tmp_path, NUMBER_SCHEMA), _extract(tmp_path, TOTAL_SCHEMA)
    assert by_number.status == by_total.status == "completed" and by_number.job_id != by_total.job_id
    store = ResultsStore(str(tmp_path))
    assert [r["field_name"] for r in store.read("fields", by_number.job_id).to_pylist()] == ["invoice_number"]
    assert [r["field_name"] for r in store.read("fields", by_total.job_id).to_pylist()] == ["total"]

    options = ProcessOptions(pages="1", tables=False, figures=False)
    done = {name: completed_sources(str(tmp_path), "extract", options, resolve_schema(schema).fingerprint())
            for name, schema in (("number", NUMBER_SCHEMA), ("invoice", "invoice"))}
    assert str(SAMPLE) in done["number"] and done["invoice"] == {}, "another schema: the document is done again"


def test_an_extraction_whose_fields_cannot_be_stored_is_never_reported_processed(tmp_path):
    (tmp_path / "fields").write_text("a file where the fields table's folder would go")
    summary = _extract(tmp_path, NUMBER_SCHEMA | {"name": "unstored"})  # a job no other test runs (events stay)
    assert summary.status == "failed"
    assert ResultsStore(str(tmp_path)).read("documents", summary.job_id).to_pylist()[0]["status"] == "failed"
    assert wait_for_events(EventName.document_failed, summary.job_id)
    assert wait_for_events(EventName.document_processed, summary.job_id, timeout=2) == []
