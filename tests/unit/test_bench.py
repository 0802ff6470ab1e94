"""The OCR benchmark: metrics, ground-truth discovery, degraded scans and the child-process runner."""
from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from flows import bench_cli
from flows.bench_cli import bench_app
from tasks.bench.degrade import DEGRADATIONS, degrade_pdf, source_page_texts
from tasks.bench.groundtruth import find_documents, read_truth, split_pages
from tasks.bench.metrics import bag_of_words_f1, cer, normalise, score
from tasks.bench.ocr import BenchOptions, measure_document, total
from tasks.errors import EmptyDocument

pytestmark = pytest.mark.timeout(300)

# --- metrics -------------------------------------------------------------------------------------------------


def test_normalise_casefolds_and_collapses_whitespace():
    assert normalise("  Straße\tIS\n\n here  ") == "strasse is here"


def test_normalise_makes_typography_plain_and_drops_bullets():
    assert normalise("•\n\n•\nApple’s “ﬁle” — 1–2") == "apple's \"file\" - 1-2"
    assert normalise("• one ▪ two") == normalise("one two")


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("abcd", "abed", 0.25),  # one substitution in four characters
        ("kitten", "sitting", 0.5),  # two substitutions and one insertion in six
        ("Hello  World", "hello\nworld", 0.0),  # case and whitespace do not count
        ("abc", "", 1.0),
        ("", "", 0.0),
        ("", "x", 1.0),
    ],
)
def test_cer(reference, hypothesis, expected):
    assert cer(reference, hypothesis) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("a b c", "c b a", 1.0),  # order does not matter
        ("the cat the hat", "the hat cat dog", 0.75),  # 3 matched of 4 and 4 words: 2·3 / (4 + 4)
        ("The Cat", "the cat the cat", 2 / 3),  # a repeated word matches only as often as the reference has it
        ("a", "", 0.0),
        ("", "", 1.0),
    ],
)
def test_bag_of_words_f1(reference, hypothesis, expected):
    assert bag_of_words_f1(reference, hypothesis) == pytest.approx(expected)


def test_scores_add_up_weighted_by_length():
    combined = score("abcd", "abed") + score("ab", "")
    assert (combined.edits, combined.reference_chars) == (3, 6)
    assert combined.cer == pytest.approx(0.5)


# --- ground truth ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pages"),
    [("one\ftwo\f", ["one", "two"]), ("one\ftwo\n", ["one", "two"]), ("one\f\f", ["one", ""]), ("one", ["one"])],
)
def test_split_pages(text, pages):
    assert split_pages(text) == pages


def test_finds_the_benchmark_documents_and_their_truth(benchmarks: Path):
    found = {truth.document.relative_to(benchmarks).as_posix(): truth for truth in find_documents(benchmarks)}

    assert len([name for name in found if name.startswith("pdfs/born_digital/")]) == 5
    assert len(found["pdfs/born_digital/redp5110_sampled.pdf"].pages) == 18
    assert len(found["pdfs/born_digital/multi_page.pdf"].pages) == 5
    assert len(found["pdfs/scanned/nemotron_multipage.pdf"].pages) == 4
    slerexe = found["pdfs/scanned/slerexe_letter_ccitt1.pdf"]
    assert slerexe.pages is None and slerexe.truth_file.name == "slerexe_letter_ccitt1.gt.txt"
    assert "invoices/FlipkartInvoice.png" in found
    assert found["invoices/QualityHosting.pdf"].truth_file.name == "QualityHosting.pdftotext.txt"
    assert not any(name.startswith("tables/") for name in found)


# --- degraded scans --------------------------------------------------------------------------------------------

SOURCE = "pdfs/born_digital/code_and_formula.pdf"


def page_images(pdf: Path) -> list[bytes]:
    return [page.images[0].data for page in PdfReader(pdf).pages]


@pytest.fixture(scope="module")
def degraded(benchmarks: Path, tmp_path_factory) -> Path:
    out_dir = tmp_path_factory.mktemp("degraded")
    degrade_pdf(benchmarks / SOURCE, out_dir, list(DEGRADATIONS), dpi=50, max_pages=2, repeat=2, seed=7)
    return out_dir


def test_degraded_pdfs_are_image_only_with_exact_per_page_truth(benchmarks: Path, degraded: Path):
    source_pages = source_page_texts(benchmarks / SOURCE)
    for kind in DEGRADATIONS:
        pdf = degraded / f"code_and_formula.{kind}.pdf"
        text_layer = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert text_layer.strip() == ""
        assert len(PdfReader(pdf).pages) == 4
        truth = read_truth(pdf, degraded / f"code_and_formula.{kind}.gt.txt")
        assert truth.pages == (*source_pages, *source_pages)


def test_degraded_documents_are_found_with_per_page_truth(degraded: Path):
    found = find_documents(degraded)
    assert [truth.document.name for truth in found] == sorted(f"code_and_formula.{kind}.pdf" for kind in DEGRADATIONS)
    assert all(len(truth.pages) == 4 for truth in found)


def test_degrading_is_deterministic_for_a_seed(benchmarks: Path, degraded: Path, tmp_path: Path):
    kinds = ["noise", "skew"]
    degrade_pdf(benchmarks / SOURCE, tmp_path / "same", kinds, dpi=50, max_pages=2, repeat=2, seed=7)
    degrade_pdf(benchmarks / SOURCE, tmp_path / "other", kinds, dpi=50, max_pages=2, repeat=2, seed=8)
    for kind in kinds:
        name = f"code_and_formula.{kind}.pdf"
        assert page_images(tmp_path / "same" / name) == page_images(degraded / name)
        assert page_images(tmp_path / "other" / name) != page_images(degraded / name)


def test_degrade_refuses_a_pdf_without_text_layer(benchmarks: Path, tmp_path: Path):
    with pytest.raises(EmptyDocument):
        degrade_pdf(benchmarks / "pdfs/scanned/ocr_test.pdf", tmp_path, ["blur"], dpi=50)


def test_degrade_command(benchmarks: Path, tmp_path: Path):
    result = CliRunner().invoke(
        bench_app,
        ["degrade", str(benchmarks / "pdfs/scanned"), str(tmp_path), "--dpi", "50", "--kinds", "blur"],
    )
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output  # the scans have no text layer to take the truth from
    assert list(tmp_path.glob("*.pdf")) == []

    result = CliRunner().invoke(bench_app, ["degrade", str(benchmarks / "pdfs/scanned"), str(tmp_path), "--kinds", "x"])
    assert result.exit_code != 0


# --- the runner, against a stand-in that honours the `docuforge parse --json` contract ----------------------------

FAKE_PARSE = '''
import json, pathlib, subprocess, sys
import pyarrow as pa, pyarrow.parquet as pq

document, out = sys.argv[2], sys.argv[sys.argv.index("--out") + 1]
text = subprocess.run(["pdftotext", "-enc", "UTF-8", document, "-"], capture_output=True, text=True, check=True).stdout
pages = text.removesuffix("\\f").split("\\f")
folder = pathlib.Path(out, "pages", "operation=parse", "date=2025-01-01")
folder.mkdir(parents=True)
table = {"job_id": ["job-1"] * len(pages), "page_number": list(range(1, len(pages) + 1)), "text": pages}
pq.write_table(pa.table(table), folder / "job-1.parquet")
print(json.dumps([{"job_id": "job-1", "status": "completed", "num_pages": len(pages), "duration_ms": 100}]))
'''


@pytest.fixture
def fake_parse(tmp_path: Path):
    script = tmp_path / "fake_parse.py"
    script.write_text(FAKE_PARSE)
    return lambda document, out_dir, options: [sys.executable, str(script), "parse", str(document), "--out", str(out_dir)]


def test_measures_a_document_through_a_child_process(benchmarks: Path, fake_parse):
    [truth] = [each for each in find_documents(benchmarks / "pdfs/born_digital") if each.document.stem == "multi_page"]

    measured = measure_document(truth, BenchOptions(), "multi_page.pdf", command=fake_parse)

    assert measured.status == "completed" and measured.error is None
    assert measured.pages == 5
    assert measured.page_score.cer == 0.0 and measured.page_score.f1 == 1.0
    assert measured.document_score.cer == 0.0
    assert measured.pages_per_s == pytest.approx(50.0)
    assert measured.peak_rss_mb > 0 and measured.wall_s > 0


@pytest.mark.parametrize(
    ("program", "message"),
    [("import sys; sys.exit(3)", "exit 3"), ("print('not json')", "no job summary")],
)
def test_a_failing_child_is_an_error_row(benchmarks: Path, program: str, message: str):
    [truth] = find_documents(benchmarks / "pdfs/scanned")[:1]

    measured = measure_document(truth, BenchOptions(), command=lambda *_: [sys.executable, "-c", program])

    assert measured.status == "error" and message in measured.error
    assert total([measured]).status == "0/1 completed"


def test_ocr_command_prints_a_table_and_writes_json(benchmarks: Path, fake_parse, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(bench_cli, "measure_document", functools.partial(measure_document, command=fake_parse))
    out_json = tmp_path / "report.json"

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        bench_app, ["ocr", str(benchmarks / "pdfs/born_digital"), "--out-json", str(out_json)]
    )

    assert result.exit_code == 0, result.output
    assert "multi_page.pdf" in result.output and "total" in result.output
    [report] = json.loads(out_json.read_text())
    assert report["options"]["ocr_mode"] == "auto"
    assert len(report["documents"]) == 5
    assert report["total"]["pages"] == 27
    assert report["total"]["page_score"]["cer"] == 0.0


# --- the real pipeline -------------------------------------------------------------------------------------------


@pytest.mark.benchmarks
def test_bench_ocr_runs_the_real_pipeline(benchmarks: Path, tmp_path: Path):
    for name in ("ocr_test.pdf", "ocr_test.gt.txt"):
        (tmp_path / name).symlink_to(benchmarks / "pdfs/scanned" / name)
    out_json = tmp_path / "report.json"

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        bench_app, ["ocr", str(tmp_path), "--out-json", str(out_json), "--dpi", "200", "--modes", "fast,ensemble"]
    )

    assert result.exit_code == 0, result.output
    fast, ensemble = json.loads(out_json.read_text())
    assert [fast["options"]["ocr_mode"], ensemble["options"]["ocr_mode"]] == ["fast", "ensemble"]
    for report in (fast, ensemble):
        assert report["documents"][0]["status"] == "completed"
        assert report["documents"][0]["document_score"]["cer"] < 0.1
    assert set(fast["total"]["engine_scores"]) == {"tesseract"}
    assert set(ensemble["total"]["engine_scores"]) == {"tesseract", "paddle", "easyocr"}
    assert "engine paddle" in result.output
