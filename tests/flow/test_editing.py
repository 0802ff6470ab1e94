"""edit-document on Prefect (test harness): a real scan → a searchable PDF next to the results, its `edits` row
(written before the documents row) and docuforge.edit.completed; no edit chosen fails the document as bad_input."""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.editing import edit_document
from flows.pipeline import process_document
from tasks.edit.request import Edits
from tasks.events import EventName
from tasks.models import ProcessOptions
from tasks.store import ResultsStore
from tasks.textlayer import pdftotext
from tests.flow.helpers import wait_for_events

pytestmark = pytest.mark.usefixtures("prefect_harness")
OPTIONS = ProcessOptions(tables=False, figures=False)
SCAN = "pdfs/scanned/slerexe_letter_ccitt1.pdf"


def test_a_scan_becomes_a_searchable_pdf(benchmarks, tmp_path):
    source = benchmarks / SCAN
    results = tmp_path / "results"
    state = edit_document(source=str(source), edits=Edits(searchable=True), options=OPTIONS,
                          results_uri=str(results), return_state=True)
    summary = state.result()
    assert state.is_completed()

    store = ResultsStore(str(results))
    (row,) = store.read("edits", summary.job_id).to_pylist()
    assert (row["kind"], row["num_pages"], row["pages_changed"], row["operation"]) == ("searchable", 1, [1], "edit")
    assert row["verified"] and row["cer"] <= 0.005 and row["words_added"] > 100 and "page 1" in row["changes"]
    assert row["output_uri"] == str(results / "edited" / summary.job_id / "searchable.pdf")
    (page,) = store.read("pages", summary.job_id).to_pylist()
    assert "SLEREXE" in page["text"] and "SLEREXE" in pdftotext(row["output_uri"], 1)
    (document,) = store.read("documents", summary.job_id).to_pylist()
    assert (document["status"], document["operation"]) == ("completed", "edit")

    event = wait_for_events(EventName.edit_completed, summary.job_id)[0]
    assert event.payload["outputs"] == [{k: row[k] for k in ("kind", "output_uri", "verified", "pages_changed")}
                                        | {"cer": pytest.approx(row["cer"])}]

    again = edit_document(source=str(source), edits=Edits(searchable=True), options=OPTIONS,
                          results_uri=str(results))
    assert again.job_id == summary.job_id and store.read("edits").num_rows == 1, "a re-run replaces its row"
    assert [p.name for p in Path(results / "edited" / summary.job_id).iterdir()] == ["searchable.pdf"]


def test_no_edit_chosen_fails_the_document_as_bad_input(benchmarks, tmp_path):
    source = benchmarks / SCAN
    state = process_document(source=str(source), operation="edit", options=OPTIONS, edits=Edits(),
                              results_uri=str(tmp_path), return_state=True)
    job = state.result(raise_on_failure=False)
    assert state.is_failed() and job.error_category == "bad_input" and "at least one edit" in job.error
    store = ResultsStore(str(tmp_path))
    (row,) = store.read("documents", job.job_id).to_pylist()
    assert (row["status"], row["error_category"], row["operation"]) == ("failed", "bad_input", "edit")
    assert store.read("edits").num_rows == 0
    assert wait_for_events(EventName.document_failed, job.job_id)[0].payload["error_category"] == "bad_input"
