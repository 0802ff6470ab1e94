"""The docuforge command: exit codes, JSON output, and bad input that never stops the other documents."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from flows.cli import app
from tasks.store import ResultsStore
from tests.flow.helpers import wait_for_events
from tasks.events import EventName

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.pdf"
pytestmark = pytest.mark.usefixtures("prefect_harness")


def _bad_inputs(folder: Path, benchmarks: Path) -> dict[str, tuple[str, str]]:
    """input → (expected error category, a word the message must contain)."""
    from pypdf import PdfReader, PdfWriter

    (folder / "empty.pdf").write_bytes(b"")
    whole = (benchmarks / "pdfs/born_digital/multi_page.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    writer = PdfWriter(clone_from=PdfReader(benchmarks / "pdfs/born_digital/code_and_formula.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner")
    writer.write(folder / "encrypted.pdf")
    (folder / "page.pdf").write_text("<html><body>Saved from a browser</body></html>")
    Image.new("1", (20000, 20000)).save(folder / "bomb.png")
    (folder / "notes.txt").write_text("plain text is not a document type we read")
    return {
        str(folder / "empty.pdf"): ("bad_input", "empty"),
        str(folder / "truncated.pdf"): ("bad_input", "truncated"),
        str(folder / "encrypted.pdf"): ("bad_input", "password"),
        str(folder / "page.pdf"): ("bad_input", "HTML"),
        str(folder / "bomb.png"): ("resource", "pixels"),
        str(folder / "notes.txt"): ("bad_input", "unsupported"),
        str(folder / "missing.pdf"): ("not_found", "missing.pdf"),
        "http://127.0.0.1:9/secret.pdf": ("bad_input", "127.0.0.1"),
        "http://169.254.169.254/latest/meta-data": ("bad_input", "169.254.169.254"),
    }


def test_bad_inputs_fail_alone_and_the_batch_goes_on(benchmarks, tmp_path):
    bad = _bad_inputs(tmp_path, benchmarks)
    results = tmp_path / "results"
    result = CliRunner().invoke(app, ["parse", str(SAMPLE), *bad, "--pages", "1", "--out", str(results), "--json"])
    assert result.exit_code == 1, result.output
    summaries = {s["source_uri"]: s for s in json.loads(result.stdout)}
    assert summaries[str(SAMPLE)]["status"] == "completed"
    for source, (category, word) in bad.items():
        summary = summaries[source]
        assert summary["status"] == "failed", source
        assert summary["error_category"] == category, (source, summary["error"])
        assert word.lower() in summary["error"].lower(), (source, summary["error"])
        assert "\n" not in summary["error"]
    documents = ResultsStore(str(results)).read("documents").to_pandas().set_index("source_uri")
    assert len(documents) == len(bad) + 1
    assert set(documents.loc[list(bad), "status"]) == {"failed"}
    assert wait_for_events(EventName.document_failed, summaries[str(tmp_path / "bomb.png")]["job_id"])


def test_page_limit(benchmarks, tmp_path, monkeypatch):
    from flows import cli
    from tasks.models import ProcessOptions

    options = ProcessOptions(limits={"max_pages": 5})
    summaries = cli.run_documents([str(benchmarks / "pdfs/born_digital/redp5110_sampled.pdf")], options,
                                  str(tmp_path), show_progress=False)
    assert summaries[0].status == "failed" and summaries[0].error_category == "resource"
    assert "18" in summaries[0].error


def test_summary_table_and_exit_zero(tmp_path):
    result = CliRunner().invoke(app, ["parse", str(SAMPLE), "--pages", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "sample.pdf" in result.stdout and "completed" in result.stdout and "text layer: 1 page" in result.stdout


def test_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["parse", str(SAMPLE), "--pages", "3-1"]).exit_code == 2
    assert runner.invoke(app, ["parse"]).exit_code == 2
    assert runner.invoke(app, ["parse", str(SAMPLE), "--ocr-mode", "magic"]).exit_code == 2
    unknown = runner.invoke(app, ["parse", str(SAMPLE), "--engines", "tesseract,nonesuch"])
    assert unknown.exit_code == 2 and "nonesuch" in unknown.output
    help_text = runner.invoke(app, ["--help"]).stdout
    for command in ("parse", "demo", "bench"):
        assert command in help_text


def test_engines_pick_the_voting_set_and_the_line_detector_reads_too(tmp_path):
    result = CliRunner().invoke(app, ["parse", str(SAMPLE), "--pages", "2", "--ocr-mode", "ensemble",
                                      "--engines", "easyocr", "--line-detector", "tesseract", "--out", str(tmp_path),
                                      "--json"])
    assert result.exit_code == 0, result.output
    engines = set(ResultsStore(str(tmp_path)).read("lines").column("engine").to_pylist())
    assert engines == {"tesseract", "easyocr", "ensemble"}


def test_extract_prints_fields_and_exits_by_validity(benchmarks, tmp_path):
    invoice = str(benchmarks / "invoices" / "coolblue2.pdf")
    result = CliRunner().invoke(app, ["extract", invoice, "--schema", "invoice", "--auto", "--out", str(tmp_path),
                                      "--json"])
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    fields = {f["field_name"]: f for f in summary["fields"]}
    assert fields["amount"]["value"] == "4904.94" and fields["invoice_number"]["value"] == "992288600"
    assert any(f["method"] == "auto" for f in fields.values()), "--auto adds the form's pairs to the schema's fields"
    bad = CliRunner().invoke(app, ["extract", invoice, "--schema", "no-such-schema", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "not found" in bad.output


def test_split_prints_each_section_and_refuses_a_bad_criterion(benchmarks, tmp_path):
    from pypdf import PdfWriter

    bundle = tmp_path / "bundle.pdf"
    writer = PdfWriter()
    for name in ("invoices/FlipkartInvoice.pdf", "invoices/QualityHosting.pdf"):
        writer.append(str(benchmarks / name))
    writer.write(bundle)
    result = CliRunner().invoke(app, ["split", str(bundle), "--by", "documents", "--by", "max-pages:1",
                                      "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    assert [(s["page_start"], s["page_end"], s["boundary_reason"]) for s in summary["sections"]] == [
        (1, 1, "start"), (2, 2, "page numbering restarts (page 1)"), (3, 3, "max pages")]
    table = CliRunner().invoke(app, ["split", str(bundle), "--by", "documents", "--out", str(tmp_path / "out")])
    assert table.exit_code == 0 and "section-002-p2-3.pdf" in table.stdout and "invoice" in table.stdout
    assert CliRunner().invoke(app, ["split", str(bundle), "--by", "chapters"]).exit_code == 2
    no_outline = CliRunner().invoke(app, ["split", str(bundle), "--by", "outline", "--out", str(tmp_path / "out")])
    assert no_outline.exit_code == 1 and "bad_input" in no_outline.output and "no outline" in no_outline.output


def test_edit_prints_each_searchable_pdf_and_refuses_no_edit(benchmarks, tmp_path):
    from pdf2image import convert_from_path
    from pypdf import PdfReader

    from tasks.textlayer import pdftotext

    image = tmp_path / "letter.png"
    scan = benchmarks / "pdfs/scanned/slerexe_letter_ccitt1.pdf"
    convert_from_path(str(scan), dpi=200)[0].save(image, dpi=(200, 200))
    result = CliRunner().invoke(app, ["edit", str(image), "--searchable", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    uri = result.stdout.splitlines()[0]
    assert uri.endswith("/searchable.pdf") and "verified" in result.stdout
    assert len(PdfReader(uri).pages) == 1 and "SLEREXE" in pdftotext(uri, 1), "the image became a searchable page"
    refused = CliRunner().invoke(app, ["edit", str(image), "--out", str(tmp_path / "out")])
    assert refused.exit_code == 2 and "--searchable" in refused.output
