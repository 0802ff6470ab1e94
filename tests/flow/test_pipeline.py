"""process_document on Prefect (test harness), from file to Parquet and events."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from prefect.artifacts import Artifact

from flows.pipeline import process_document
from tasks.bench.metrics import cer
from tasks.events import EventName
from tasks.models import ProcessOptions
from tasks.report import artifact_key
from tasks.store import ResultsStore
from tests.flow.helpers import wait_for_events, wait_for_logs

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.pdf"
pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(source, results, **options):
    state = process_document(source=str(source), options=ProcessOptions(**options), results_uri=str(results),
                             return_state=True)
    return state, state.result(raise_on_failure=False)


def test_sample_document_end_to_end(tmp_path):
    state, summary = run(SAMPLE, tmp_path)
    assert state.is_completed() and summary.status == "completed"
    assert summary.num_pages == 3 and summary.text_sources == {"text_layer": 1, "ocr": 2}

    pages = pd.read_parquet(tmp_path / "pages").sort_values("page_number")
    assert list(pages.text_source) == ["text_layer", "ocr", "ocr"]
    assert list(pages.status) == ["ok"] * 3
    assert pages.iloc[0].markdown.startswith("# Docuforge sample document")
    assert "- one documents row per job" in pages.iloc[0].markdown
    assert list(pages.rotation) == [0, 0, 180], "the upside-down scan is turned upright"
    for scan in pages.iloc[1:].itertuples():
        assert "Invoice number: DF-2026-0042" in scan.text
        assert "Total due: EUR 1,284.50" in scan.text
        assert scan.confidence > 0.8

    words = duckdb.sql(f"select * from read_parquet('{tmp_path}/words/**/*.parquet', hive_partitioning=true)").df()
    # auto mode: PP-OCR finds and reads the scans' lines, and Tesseract reads again the lines it doubted
    assert {"text_layer", "paddle"} <= set(words.engine) <= {"text_layer", "tesseract", "paddle", "ensemble"}
    assert set(words[words.page_number == 1].engine) == {"text_layer"} and set(words.operation) == {"parse"}
    documents = duckdb.sql(f"select * from read_parquet('{tmp_path}/documents/**/*.parquet', "
                           "hive_partitioning=true)").df()
    assert len(documents) == 1 and documents.status[0] == "completed" and documents.num_pages[0] == 3
    assert (wait_for_events(EventName.document_processed, summary.job_id)[0].payload["status"]) == "completed"


def test_a_run_logs_its_pages_and_results_and_publishes_keyed_readable_artifacts(tmp_path):
    state, summary = run(SAMPLE, tmp_path, pages="1-2", ocr_mode="fast")
    assert summary.status == "completed"
    logs = wait_for_logs(state.state_details.flow_run_id, until=("page 1 (", "page 2 (", "results written to"))
    [digital] = [line for line in logs if line.startswith("page 1 (")]
    [scan] = [line for line in logs if line.startswith("page 2 (")]
    assert "text from text layer" in digital and " words" in digital
    assert "text from OCR" in scan and "confidence 0." in scan and "OCR engines tesseract" in scan
    [results] = [line for line in logs if "results written to" in line]
    documents_file = f"{ResultsStore(str(tmp_path)).uri}/documents/operation=parse/"
    assert documents_file in results and f"/{summary.job_id}.parquet" in results
    assert any(line.startswith(f"{SAMPLE}: application/pdf, 3 pages") for line in logs)

    report = Artifact.get(artifact_key("document", summary.job_id))
    assert report.type == "markdown" and "| | |" not in report.data
    assert "| Text from | OCR: 1 page, text layer: 1 page |" in report.data
    assert "## Text preview" in report.data and "Docuforge sample document" in report.data
    assert "## Files" in report.data and documents_file in report.data
    progress = Artifact.get(artifact_key("progress", summary.job_id))
    assert progress.type == "progress" and float(progress.data) == 100.0


def test_same_request_twice_is_one_job_with_no_duplicate_rows(tmp_path):
    _, first = run(SAMPLE, tmp_path, pages="1")
    _, second = run(SAMPLE, tmp_path, pages="1")
    assert first.job_id == second.job_id
    store = ResultsStore(str(tmp_path))
    assert store.read("documents").num_rows == 1 and store.read("pages").num_rows == 1
    _, other = run(SAMPLE, tmp_path, pages="2")
    assert other.job_id != first.job_id and store.read("documents").num_rows == 2


def test_bad_document_fails_with_row_and_event(tmp_path):
    bad = tmp_path / "report.pdf"
    bad.write_text("<!DOCTYPE html><html><body>not a pdf</body></html>")
    state, summary = run(bad, tmp_path / "results")
    assert state.is_failed() and summary.status == "failed" and summary.error_category == "bad_input"
    assert "HTML" in summary.error
    row = ResultsStore(str(tmp_path / "results")).read("documents").to_pylist()[0]
    assert row["status"] == "failed" and row["error_category"] == "bad_input" and row["job_id"] == summary.job_id
    event = wait_for_events(EventName.document_failed, summary.job_id)[0]
    assert event.payload["error_category"] == "bad_input"
    assert event.related[0].id == str(bad)


def test_page_out_of_range_is_bad_input(tmp_path):
    state, summary = run(SAMPLE, tmp_path, pages="9")
    assert state.is_failed() and summary.error_category == "bad_input" and "range" in summary.error
    assert summary.document_id is not None, "a fetched document's failure belongs to its job"
    row = ResultsStore(str(tmp_path)).read("documents").to_pylist()[0]
    assert row["job_id"] == summary.job_id and row["num_pages"] == 3 and row["mime_type"] == "application/pdf"


@pytest.mark.parametrize("name,max_cer", [("slerexe_letter_ccitt1", 0.05), ("ocr_test", 0.02)])
def test_scanned_benchmarks_accuracy(benchmarks, tmp_path, name, max_cer):
    folder = benchmarks / "pdfs/scanned"
    _, summary = run(folder / f"{name}.pdf", tmp_path)
    text = "\n".join(ResultsStore(str(tmp_path)).read("pages").to_pandas().sort_values("page_number").text)
    assert cer((folder / f"{name}.gt.txt").read_text(), text) <= max_cer


@pytest.mark.parametrize("mode", ["auto", "fast"])
def test_rotated_pages_all_read_correctly(benchmarks, tmp_path, mode):
    """auto orients by PP-OCR's lines; fast reads first and orients only what reads poorly or lies on its side."""
    folder = benchmarks / "pdfs/scanned"
    _, summary = run(folder / "nemotron_multipage.pdf", tmp_path, ocr_mode=mode)
    truth = (folder / "nemotron_multipage.gt.txt").read_text().split("\f")
    pages = ResultsStore(str(tmp_path)).read("pages").to_pandas().sort_values("page_number")
    assert len(pages) == 4
    assert sorted(pages.rotation) == [0, 90, 180, 270]
    for page in pages.itertuples():
        assert cer(truth[page.page_number - 1], page.text) <= 0.02, f"page {page.page_number} ({page.rotation}°)"


def test_born_digital_pages_equal_the_text_layer(benchmarks, tmp_path):
    folder = benchmarks / "pdfs/born_digital"
    _, summary = run(folder / "multi_page.pdf", tmp_path)
    truth = (folder / "multi_page.pdftotext.txt").read_text().split("\f")[:-1]
    pages = ResultsStore(str(tmp_path)).read("pages").to_pandas().sort_values("page_number")
    assert list(pages.text_source) == ["text_layer"] * 5
    assert list(pages.text) == truth


def test_s3_source_and_s3_results(s3_bucket_name, tmp_path):
    """Production's path: the document and the results both in S3 (a real S3 endpoint: moto_server)."""
    import boto3

    s3 = boto3.client("s3")
    s3.upload_file(str(SAMPLE), s3_bucket_name, "inbox/sample.pdf")
    results = f"s3://{s3_bucket_name}/results"
    state, summary = run(f"s3://{s3_bucket_name}/inbox/sample.pdf", results, pages="1")
    assert state.is_completed() and summary.source_uri == f"s3://{s3_bucket_name}/inbox/sample.pdf"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket_name, Prefix="results/")["Contents"]}
    assert {f"results/{table}/operation=parse/date={_today()}/{summary.job_id}.parquet"
            for table in ("documents", "pages", "lines", "words")} <= keys
    store = ResultsStore(results)
    assert store.read("pages").to_pylist()[0]["text_source"] == "text_layer"
    _, missing = run(f"s3://{s3_bucket_name}/inbox/nothing.pdf", results)
    assert missing.status == "failed" and missing.error_category == "not_found"
    assert store.read("documents").num_rows == 2


def test_credentials_in_a_source_url_never_reach_rows_or_events(tmp_path):
    source = "http://alice:hunter2@127.0.0.1:9/doc.pdf?X-Amz-Signature=deadbeef"
    _, summary = run(source, tmp_path)
    row = ResultsStore(str(tmp_path)).read("documents").to_pylist()[0]
    event = wait_for_events(EventName.document_failed, summary.job_id)[0]
    for text in (str(row), event.model_dump_json(), summary.model_dump_json()):
        assert "hunter2" not in text and "deadbeef" not in text and "alice" not in text


def test_two_column_scan_reads_in_column_order(benchmarks, tmp_path):
    from pdf2image import convert_from_path

    folder = benchmarks / "pdfs/born_digital"
    (image,) = convert_from_path(folder / "amt_handbook_sample.pdf", dpi=300, grayscale=True, fmt="png",
                                 output_folder=tmp_path, paths_only=True, single_file=True, output_file="page")
    _, summary = run(image, tmp_path / "results")
    page = ResultsStore(str(tmp_path / "results")).read("pages").to_pylist()[0]
    assert summary.status == "completed" and page["text_source"] == "ocr"
    truth = (folder / "amt_handbook_sample.pdftotext.txt").read_text().split("\f")[0]
    assert cer(truth, page["text"]) <= 0.05, "columns interleaved or text lost"


def test_pictures_on_digital_pages_are_ocrd(benchmarks, tmp_path):
    folder = benchmarks / "pdfs/born_digital"
    _, summary = run(folder / "redp5110_sampled.pdf", tmp_path, pages="14")
    store = ResultsStore(str(tmp_path))
    page = store.read("pages").to_pylist()[0]
    truth = (folder / "redp5110_sampled.pdftotext.txt").read_text().split("\f")[13]
    assert page["text_source"] == "hybrid" and page["text"].startswith(truth)
    words = store.read("words").to_pandas()
    ocr_words = words[words.engine == "tesseract"]
    assert len(ocr_words) > 10
    inside = ocr_words.bbox.map(lambda b: b["y0"] >= 0.1 and b["y1"] <= 0.9)
    assert inside.all(), "OCR'd words sit inside the page's pictures"


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()


def test_multi_page_tiff(tmp_path):
    from pdf2image import convert_from_path

    frames = convert_from_path(SAMPLE, dpi=150, first_page=2, last_page=3, grayscale=True)
    tiff = tmp_path / "scans.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(150, 150), compression="tiff_lzw")
    _, summary = run(tiff, tmp_path / "results")
    pages = ResultsStore(str(tmp_path / "results")).read("pages").to_pandas().sort_values("page_number")
    assert summary.status == "completed" and list(pages.page_number) == [1, 2]
    assert list(pages.dpi) == [150, 150] and list(pages.rotation) == [0, 180]
    assert all("Total due: EUR 1,284.50" in text for text in pages.text)


def _pdf(*objects: str) -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog), with a correct cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _page_tree_loop(path: Path) -> None:
    path.write_bytes(_pdf("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"))


def _huge_page(path: Path) -> None:
    path.write_bytes(_pdf("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                          "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200000 200000] >>"))


def _jpeg_cut_in_half(path: Path) -> None:
    import io

    from PIL import Image

    whole = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(whole, "JPEG")
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])


@pytest.mark.parametrize("name,make,category,says", [
    ("loop.pdf", _page_tree_loop, "bad_input", "damaged"),
    ("huge.pdf", _huge_page, "resource", "2,778 × 2,778 inches"),
    ("half.jpg", _jpeg_cut_in_half, "bad_input", "cut short"),
])
def test_a_broken_document_fails_with_its_own_category_row_and_event(tmp_path, name, make, category, says):
    make(tmp_path / name)
    state, summary = run(tmp_path / name, tmp_path / "results")
    assert state.is_failed() and summary.error_category == category and says in summary.error
    row = ResultsStore(str(tmp_path / "results")).read("documents").to_pylist()[0]
    assert row["status"] == "failed" and row["error_category"] == category and row["job_id"] == summary.job_id
    event = wait_for_events(EventName.processing_error, summary.job_id)[0]
    assert event.payload["error_category"] == category


def test_a_one_pixel_image_is_a_blank_page(tmp_path):
    """A 1×1 PNG (a tracking pixel) is a valid image with no text in it: read like a blank page."""
    from PIL import Image

    Image.new("L", (1, 1), 255).save(tmp_path / "pixel.png")
    state, summary = run(tmp_path / "pixel.png", tmp_path / "results")
    assert state.is_completed() and summary.status == "completed" and summary.num_pages == 1
    page = ResultsStore(str(tmp_path / "results")).read("pages").to_pylist()[0]
    assert page["status"] == "ok" and page["text"] == "" and page["n_words"] == 0


def test_a_results_store_that_is_down_fails_as_a_retryable_network_error(moto_endpoint, monkeypatch, tmp_path):
    from deployments.local_stack import free_port
    from tasks.models import job_id_for, sha256_file

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    options = ProcessOptions(pages="1", tables=False, figures=False)  # a job no other test runs (events stay)
    state = process_document(source=str(SAMPLE), options=options, results_uri="s3://results/out", return_state=True)
    assert state.is_failed()
    event = wait_for_events(EventName.processing_error, job_id_for(sha256_file(str(SAMPLE)), "parse", options))[0]
    assert event.payload["error_category"] == "network" and event.payload["retryable"]


def test_a_page_over_the_time_limit_fails_that_page_as_resource_and_the_document_goes_on(monkeypatch, tmp_path):
    import flows.ocr_ensemble as ocr_ensemble

    # the limit DOCUFORGE_TASK_TIMEOUT_S sets at import, made tiny for this run: the real detector outlives it
    monkeypatch.setattr(ocr_ensemble, "detect_page_task", ocr_ensemble.detect_page_task.with_options(
        timeout_seconds=0.01))
    state, summary = run(SAMPLE, tmp_path, ocr_mode="fast", tables=False, figures=False)
    assert state.is_completed() and summary.status == "partial" and summary.num_pages == 3
    pages = pd.read_parquet(tmp_path / "pages").sort_values("page_number")
    assert list(pages.status) == ["ok", "failed", "failed"], "the text-layer page needs no OCR and is read"
    assert set(pages.error_category.dropna()) == {"resource"} and "timed out" in pages.error.iloc[1]
