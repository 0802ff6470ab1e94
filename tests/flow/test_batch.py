"""The batch and scheduled-ingestion flows on Prefect (test harness): documents to Parquet, reports, events."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from flows.batch import batch
from flows.ingestion import scheduled_ingestion
from tasks.events import EventName
from tasks.models import ProcessOptions
from tasks.report import artifact_key
from tasks.store import ResultsStore
from tests.flow.helpers import wait_for_events

pytestmark = pytest.mark.usefixtures("prefect_harness")
FAST = ProcessOptions(ocr_mode="fast", tables=False, figures=False)


def text_pdf(path: Path, *lines: str) -> Path:
    """A one-page PDF with a text layer (read without OCR)."""
    from reportlab.pdfgen import canvas

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path))
    for number, line in enumerate(lines):
        pdf.drawString(72, 780 - 18 * number, line)
    pdf.save()
    return path


def documents(results) -> list[dict]:
    return ResultsStore(str(results)).read("documents").to_pylist()


def test_one_corrupt_document_does_not_fail_the_batch(tmp_path):
    sources = [str(text_pdf(tmp_path / "in/a.pdf", "Invoice DF-1 for the first customer")),
               str(text_pdf(tmp_path / "in/b.pdf", "Invoice DF-2 for the second customer")),
               str(tmp_path / "in/corrupt.pdf")]
    Path(sources[2]).write_bytes(b"these bytes are not a PDF at all")
    results = tmp_path / "results"

    state = batch(sources=sources, options=FAST, batch_size=2, results_uri=str(results), return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert (summary.n_documents, summary.completed, summary.failed, summary.status) == (3, 2, 1, "partial")
    assert summary.failures_by_category == {"bad_input": 1} and summary.pages == 2
    assert [d.source_uri for d in summary.documents] == sources

    rows = {row["source_uri"]: row for row in documents(results)}
    assert [rows[s]["status"] for s in sources] == ["completed", "completed", "failed"]
    assert rows[sources[2]]["error_category"] == "bad_input"
    (batch_row,) = ResultsStore(str(results)).read("batches").to_pylist()
    assert batch_row["batch_id"] == summary.batch_id and batch_row["n_documents"] == 3
    assert batch_row["job_ids"] == [d.job_id for d in summary.documents] and batch_row["sources"] == sources

    flow_run_id = state.state_details.flow_run_id
    table = Artifact.get(artifact_key("batch", summary.batch_id, "documents"))
    assert table.flow_run_id == flow_run_id and table.type == "table"
    assert [row["status"] for row in json.loads(table.data)] == ["completed", "completed", "failed"]
    report = Artifact.get(artifact_key("batch", summary.batch_id, "report"))
    assert report.type == "markdown" and "| bad_input | 1 |" in report.data
    for document in summary.documents:
        artifact = Artifact.get(artifact_key("document", document.job_id))
        assert artifact.type == "markdown" and f"**{document.status}**" in artifact.data

    event = wait_for_events(EventName.batch_completed, summary.batch_id, kind="batch")[0]
    assert event.payload["failed"] == 1 and event.payload["failed_job_ids"] == [summary.documents[2].job_id]

    again = batch(sources=list(reversed(sources)), options=FAST, batch_size=3, results_uri=str(results))
    assert again.batch_id == summary.batch_id, "the same sources and options are the same batch"
    assert len(documents(results)) == 3 and ResultsStore(str(results)).read("batches").num_rows == 1


def test_bad_batch_size_is_refused_before_anything_runs(tmp_path):
    state = batch(sources=["x.pdf"], batch_size=0, results_uri=str(tmp_path), return_state=True)
    assert state.is_failed() and not (tmp_path / "documents").exists()


def test_ingestion_skips_what_completed_and_picks_up_changes(tmp_path):
    inbox, results = tmp_path / "inbox", tmp_path / "results"
    text_pdf(inbox / "a.pdf", "Delivery note 1 for the warehouse")
    text_pdf(inbox / "nested/b.pdf", "Delivery note 2 for the warehouse")
    (inbox / "readme.txt").write_text("not a document")

    first = scheduled_ingestion(prefix_uri=str(inbox), options=FAST, results_uri=str(results))
    assert (first.plan.listed, first.plan.skipped, first.batch.completed) == (2, 0, 2)

    second = scheduled_ingestion(prefix_uri=str(inbox), options=FAST, results_uri=str(results))
    assert second.plan.pending == [] and second.plan.skipped == 2 and second.batch is None

    text_pdf(inbox / "a.pdf", "Delivery note 1 for the warehouse, corrected")
    third = scheduled_ingestion(prefix_uri=str(inbox), options=FAST, results_uri=str(results))
    assert third.plan.pending == [str(inbox / "a.pdf")] and third.batch.completed == 1
    assert len(documents(results)) == 3, "the changed file is a new job; the other is not done again"

    other_options = scheduled_ingestion(prefix_uri=str(inbox), options=FAST.model_copy(update={"dpi": 200}),
                                        results_uri=str(results), max_documents=1)
    assert len(other_options.plan.pending) == 1 and other_options.plan.deferred == 1


def test_ingestion_from_s3_to_s3(s3_bucket_name, tmp_path):
    import boto3

    s3 = boto3.client("s3")
    for name in ("a", "b"):
        s3.upload_file(str(text_pdf(tmp_path / f"{name}.pdf", f"Scanned contract {name} with a text layer")),
                       s3_bucket_name, f"inbox/{name}.pdf")
    results = f"s3://{s3_bucket_name}/results"

    first = scheduled_ingestion(prefix_uri=f"s3://{s3_bucket_name}/inbox", options=FAST, results_uri=results)
    assert first.batch.completed == 2
    assert sorted(row["source_uri"] for row in documents(results)) == [
        f"s3://{s3_bucket_name}/inbox/a.pdf", f"s3://{s3_bucket_name}/inbox/b.pdf"]
    assert ResultsStore(results).read("batches").num_rows == 1

    second = scheduled_ingestion(prefix_uri=f"s3://{s3_bucket_name}/inbox", options=FAST, results_uri=results)
    assert second.plan.skipped == 2 and second.batch is None


def test_cli_batch_and_ingest(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    inbox, results = tmp_path / "inbox", str(tmp_path / "results")
    good = text_pdf(inbox / "good.pdf", "A short letter with a text layer")
    (inbox / "bad.pdf").write_bytes(b"not a PDF")
    result = CliRunner().invoke(app, ["batch", str(good), str(inbox / "bad.pdf"), "--batch-size", "1",
                                      "--out", results])
    assert result.exit_code == 1, result.output
    assert "good.pdf" in result.stdout and "1 completed, 0 partial, 1 failed" in result.stdout

    result = CliRunner().invoke(app, ["ingest", str(inbox), "--out", results])
    assert "2 listed, 1 already done, 1 to process" in result.stdout and result.exit_code == 1
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "missing"), "--out", results])
    assert result.exit_code == 1 and "not_found" in result.stderr
