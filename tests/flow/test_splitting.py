"""split-document on Prefect (test harness): a bundle of real documents → `sections` rows, one PDF per section,
docuforge.split.completed; a criterion that cannot apply fails the document as bad_input."""
from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from flows.pipeline import process_document
from flows.splitting import split_document
from tasks.events import EventName
from tasks.models import ProcessOptions
from tasks.split.criteria import SplitCriteria
from tasks.store import ResultsStore
from tests.flow.helpers import wait_for_events

pytestmark = pytest.mark.usefixtures("prefect_harness")
OPTIONS = ProcessOptions(tables=False, figures=False)
DOCUMENTS = ["invoices/coolblue1.pdf", "invoices/QualityHosting.pdf", "pdfs/born_digital/multi_page.pdf"]


def make_bundle(benchmarks: Path, path: Path) -> Path:
    """coolblue1 (1 page), blank, QualityHosting (2), blank, multi_page (5): one bookmark per document."""
    writer = PdfWriter()
    for name in DOCUMENTS:
        writer.append(str(benchmarks / name), outline_item=Path(name).stem)
        writer.add_blank_page()
    writer.remove_page(len(writer.pages) - 1)
    writer.write(path)
    return path


def test_a_bundle_split_by_outline_blank_pages_and_length(benchmarks, tmp_path):
    source = make_bundle(benchmarks, tmp_path / "bundle.pdf")
    criteria = SplitCriteria(outline_level=1, blank_pages=True, max_pages=3)
    state = split_document(source=str(source), split_criteria=criteria, options=OPTIONS,
                           results_uri=str(tmp_path / "results"), return_state=True)
    summary = state.result()
    assert state.is_completed() and summary.metadata.total_sections == 4
    assert summary.metadata.dropped_pages == {2: "blank", 5: "blank"}

    store = ResultsStore(str(tmp_path / "results"))
    rows = sorted(store.read("sections", summary.job_id).to_pylist(), key=lambda row: row["section_index"])
    assert [(r["page_start"], r["page_end"], r["boundary_reason"]) for r in rows] == [
        (1, 1, "start; outline: coolblue1"), (3, 4, "outline: QualityHosting"), (6, 8, "outline: multi_page"),
        (9, 10, "max pages")]
    assert [(r["section_type"], r["language"]) for r in rows[:2]] == [("invoice", "nl"), ("invoice", "de")]
    assert {r["language"] for r in rows[2:]} == {"en"} and all(r["operation"] == "split" for r in rows)
    assert all(r["word_count"] > 50 and r["summary"] and r["text"] and r["criteria"] for r in rows)
    assert "Coolblue" in rows[0]["text"] and not any(r["has_tables"] for r in rows)

    bundle = PdfReader(source)
    for row in rows:
        section = PdfReader(row["output_uri"])
        assert len(section.pages) == row["page_end"] - row["page_start"] + 1
        assert section.pages[0].extract_text() == bundle.pages[row["page_start"] - 1].extract_text()

    event = wait_for_events(EventName.split_completed, summary.job_id)[0]
    assert event.payload["total_sections"] == 4 and len(event.payload["sections"]) == 4

    again = split_document(source=str(source), split_criteria=criteria, options=OPTIONS,
                           results_uri=str(tmp_path / "results"))
    assert again.job_id == summary.job_id and store.read("sections").num_rows == 4, "a re-run replaces its rows"
    assert len(list(Path(tmp_path / "results" / "splits" / summary.job_id).iterdir())) == 4

    other = split_document(source=str(source), split_criteria=SplitCriteria(every_pages=5), options=OPTIONS,
                           results_uri=str(tmp_path / "results"))
    assert other.job_id != summary.job_id and other.metadata.total_sections == 2, "other criteria, another job"


def test_a_criterion_that_cannot_apply_fails_the_document_as_bad_input(benchmarks, tmp_path):
    source = benchmarks / "pdfs/born_digital/redp5110_sampled.pdf"
    state = process_document(source=str(source), operation="split", options=OPTIONS,
                             split_criteria=SplitCriteria(outline_level=1), results_uri=str(tmp_path),
                             return_state=True)
    job = state.result(raise_on_failure=False)
    assert state.is_failed() and job.error_category == "bad_input" and "no outline" in job.error
    store = ResultsStore(str(tmp_path))
    (row,) = store.read("documents", job.job_id).to_pylist()
    assert (row["status"], row["error_category"], row["operation"]) == ("failed", "bad_input", "split")
    assert store.read("sections").num_rows == 0
    assert wait_for_events(EventName.document_failed, job.job_id)[0].payload["error_category"] == "bad_input"

    missing = process_document(source=str(source), operation="split", results_uri=str(tmp_path), return_state=True)
    assert missing.is_failed() and "needs split criteria" in missing.result(raise_on_failure=False).error
