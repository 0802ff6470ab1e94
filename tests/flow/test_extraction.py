"""extract_document on Prefect (test harness): a benchmark invoice's text layer to `fields` rows and an event."""
from __future__ import annotations

import pytest

from flows.extraction import extract_document
from tasks.events import EventName
from tasks.extract.rules import NEEDS_AI
from tasks.models import ProcessOptions
from tasks.store import ResultsStore
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
    assert state.is_completed() and summary.status == "partial", "the ai field cannot be filled without an LLM"

    store = ResultsStore(str(tmp_path))
    rows = {row["field_name"]: row for row in store.read("fields", summary.job_id).to_pylist()}
    assert set(rows) == {"amount", "date", "invoice_number", "currency", "vendor"}
    assert rows["amount"]["value"] == "717.97" and rows["amount"]["value_number"] == pytest.approx(717.97)
    assert rows["date"]["value"] == "2014-04-19" and rows["date"]["value_date"].isoformat() == "2014-04-19"
    assert rows["invoice_number"]["value"] == "993548900" and rows["currency"]["value"] == "EUR"
    assert all(rows[name]["valid"] and rows[name]["page_number"] == 1 and rows[name]["operation"] == "extract"
               for name in ("amount", "date", "invoice_number", "currency"))
    assert rows["vendor"]["valid"] is False and rows["vendor"]["error"] == NEEDS_AI and rows["vendor"]["value"] is None

    words = store.read("words", summary.job_id).to_pylist()
    cited = [w for w in words if w["text"] == "993548900"]
    assert len(cited) == 1 and rows["invoice_number"]["bbox"] == pytest.approx(cited[0]["bbox"])
    number_box = rows["invoice_number"]["bbox"]
    label = next(w for w in words if w["text"] == "Factuurnummer:")
    assert number_box["x0"] > label["bbox"]["x1"] and number_box["y0"] < label["bbox"]["y1"], "right of its label"

    event = wait_for_events(EventName.extraction_completed, summary.job_id)[0]
    assert event.payload["fields_invalid"] == ["vendor"] and event.payload["fields_found"] == 4

    again = extract_document(source=str(source), fields_schema=SCHEMA, options=options, results_uri=str(tmp_path))
    assert again.job_id == summary.job_id and store.read("fields").num_rows == 5, "a re-run replaces its rows"
