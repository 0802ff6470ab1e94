"""Batch ids, grouping, aggregation, the batches table and the batch and document reports (no Prefect)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tasks.batch import (
    aggregate, batch_id_for, batch_row, check_id, event_payload, groups_of, outcome_summary, overall_status,
    store_batch, unique_sources,
)
from tasks.errors import BadInput, NetworkError
from tasks.models import JobSummary, PageSummary, ProcessOptions
from tasks.report import artifact_key, batch_documents_table, batch_markdown, job_summary_markdown, page_line
from tasks.store import SCHEMAS, ResultsStore

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _summary(name: str, status: str = "completed", pages: int = 2, category: str | None = None) -> JobSummary:
    return JobSummary(job_id=f"job-{name}", document_id="d" * 64, source_uri=f"/in/{name}.pdf", operation="parse",
                      status=status, num_pages=pages, pages_ok=pages if status != "failed" else 0,
                      pages_failed=1 if status == "partial" else 0, error_category=category,
                      error="bytes are not a PDF" if category else None, duration_ms=1500)


def _batch(documents: list[JobSummary], seconds: float = 30):
    return aggregate("b1", "parse", ProcessOptions(ocr_mode="fast"), 5, "/results", START, documents,
                     finished_at=START + timedelta(seconds=seconds))


def test_batch_id_is_stable_and_depends_on_what_is_done():
    fast = ProcessOptions(ocr_mode="fast")
    assert batch_id_for(["a", "b"], "parse", fast) == batch_id_for(["b", "a", "a"], "parse", fast)
    assert batch_id_for(["a", "b"], "parse", fast) != batch_id_for(["a"], "parse", fast)
    assert batch_id_for(["a"], "parse", fast) != batch_id_for(["a"], "parse", ProcessOptions())
    assert batch_id_for(["a"], "parse", fast) != batch_id_for(["a"], "split", fast)


def test_sources_once_each_in_order_and_grouped():
    assert unique_sources(["b", "a", "b", "c"]) == ["b", "a", "c"]
    assert groups_of(["1", "2", "3", "4", "5"], 2) == [["1", "2"], ["3", "4"], ["5"]]
    assert groups_of([], 3) == []
    with pytest.raises(ValueError):
        groups_of(["1"], 0)


@pytest.mark.parametrize("value", ["", "../up", "a/b", "-x", "a..b", "x" * 129, "s p"])
def test_ids_that_could_escape_their_folder_are_refused(value):
    with pytest.raises(BadInput):
        check_id(value, "batch id")


def test_overall_status():
    assert overall_status([]) == "completed"
    assert overall_status(["completed", "completed"]) == "completed"
    assert overall_status(["completed", "failed"]) == "partial"
    assert overall_status(["partial"]) == "partial"
    assert overall_status(["failed", "failed"]) == "failed"


def test_aggregate_counts_failures_by_category_and_throughput():
    summary = _batch([_summary("a"), _summary("b", "partial", pages=3),
                      _summary("c", "failed", pages=0, category="bad_input"),
                      _summary("d", "failed", pages=0, category="bad_input"),
                      _summary("e", "failed", pages=0, category="not_found")])
    assert (summary.n_documents, summary.completed, summary.partial, summary.failed) == (5, 1, 1, 3)
    assert summary.status == "partial"
    assert summary.failures_by_category == {"bad_input": 2, "not_found": 1}
    assert (summary.pages, summary.pages_failed) == (5, 1)
    assert summary.duration_ms == 30_000 and summary.documents_per_min == 10.0
    assert json.loads(summary.options)["ocr_mode"] == "fast"


def test_an_empty_batch_is_completed_with_no_rate():
    summary = _batch([])
    assert summary.status == "completed" and summary.n_documents == 0 and summary.documents_per_min is None


def test_a_run_that_left_no_summary_becomes_a_failed_one():
    kept = _summary("a")
    assert outcome_summary(kept, "/in/a.pdf", "parse", "/results") is kept
    broken = outcome_summary(NetworkError("S3 unreachable"), "s3://b/k.pdf", "parse", "/results")
    assert (broken.status, broken.error_category, broken.job_id) == ("failed", "network", "")
    unknown = outcome_summary(KeyError("x"), "https://user:pw@host/doc.pdf", "parse", "/results")
    assert unknown.error_category == "internal" and "pw" not in unknown.source_uri


def test_batch_row_fits_the_schema_and_a_rerun_replaces_it(tmp_path):
    summary = _batch([_summary("a"), _summary("c", "failed", pages=0, category="bad_input")])
    row = batch_row(summary)
    assert set(row) == set(SCHEMAS["batches"].names)
    assert row["sources"] == ["/in/a.pdf", "/in/c.pdf"] and row["job_ids"] == ["job-a", "job-c"]
    store_batch(str(tmp_path), summary)
    store_batch(str(tmp_path), summary.model_copy(update={"started_at": START + timedelta(days=1)}))
    (stored,) = ResultsStore(str(tmp_path)).read("batches").to_pylist()
    assert stored["batch_id"] == "b1" and stored["failed"] == 1 and stored["date"] == "2026-11-25"
    assert dict(stored["failures_by_category"]) == {"bad_input": 1}
    assert stored["operation"] == "parse"


def test_event_payload_is_totals_and_failed_jobs():
    payload = event_payload(_batch([_summary("a"), _summary("c", "failed", pages=0, category="bad_input")]))
    assert payload["failed_job_ids"] == ["job-c"] and payload["status"] == "partial"
    assert "documents" not in payload and payload["batch_id"] == "b1"


def test_batch_report_lists_failures_by_category():
    summary = _batch([_summary("a"), _summary("c|d", "failed", pages=0, category="bad_input")])
    markdown = batch_markdown(summary)
    assert "**partial**: 2 documents — 1 completed, 0 partial, 1 failed" in markdown
    assert "| bad_input | 1 |" in markdown
    assert "`/in/c\\|d.pdf` | bad_input | bytes are not a PDF |" in markdown, "a | in a cell is escaped"
    assert [row["status"] for row in batch_documents_table(summary)] == ["completed", "failed"]
    assert "Failures" not in batch_markdown(_batch([_summary("a")]))


def test_job_summary_markdown_shows_pages_and_errors():
    markdown = job_summary_markdown(_summary("a", "partial", pages=3).model_copy(
        update={"text_sources": {"ocr": 2, "text_layer": 1}, "mean_confidence": 0.9123}))
    assert markdown.startswith("# a.pdf")
    assert "| Item | Value |" in markdown and "| | |" not in markdown, "a header row that says something"
    assert "| Pages | 3 (3 read, 1 failed) |" in markdown
    assert "| Text from | OCR: 2 pages, text layer: 1 page |" in markdown
    assert "0.912" in markdown and "Error" not in markdown and "Text preview" not in markdown
    failed = job_summary_markdown(_summary("b", "failed", pages=0, category="bad_input"))
    assert "**Error** (bad_input): bytes are not a PDF" in failed
    shown = job_summary_markdown(_summary("a"), "Invoice ~~~ 42", ["/r/documents/a.parquet"])
    assert "## Text preview\n\n~~~text\nInvoice ~ ~ ~ 42\n~~~" in shown, "the preview cannot close its own fence"
    assert "## Files\n\n- `/r/documents/a.parquet`" in shown


def test_a_page_log_line_says_where_its_text_came_from():
    ocr = PageSummary(page_number=2, path="p2.json", status="ok", text_source="ocr", confidence=0.913, n_words=41,
                      duration_ms=900, engines=["paddle", "tesseract"], engine_errors={"easyocr": "not installed"})
    assert page_line(ocr, 1, 3) == ("page 2 (1 of 3 done): text from OCR, 41 words, confidence 0.91, OCR engines "
                                    "paddle, tesseract; engine errors: easyocr: not installed")
    digital = ocr.model_copy(update={"text_source": "text_layer", "engines": ["text_layer"], "engine_errors": {}})
    assert page_line(digital, 2, 3) == "page 2 (2 of 3 done): text from text layer, 41 words, confidence 0.91"
    failed = ocr.model_copy(update={"status": "failed", "error_category": "engine", "error": "it broke"})
    assert page_line(failed, 3, 3) == "page 2 (3 of 3 done): failed (engine): it broke"


def test_artifact_keys_are_valid():
    assert artifact_key("batch", "My_Batch.2026", "report") == "batch-my-batch-2026-report"
    assert artifact_key("document", "ab12") == "document-ab12"
