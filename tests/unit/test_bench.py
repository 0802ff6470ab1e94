"""The OCR benchmark: metrics, ground-truth discovery and the split, degraded scans, peers and the child-process
runs."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from rich.console import Console
from typer.testing import CliRunner

from flows import bench_cli
from flows.bench_cli import bench_app
from tasks.bench.degrade import DEGRADATIONS, degrade_pdf, source_page_texts
from tasks.bench.groundtruth import GroundTruth, find_documents, is_held_out, read_truth, select_part, split_pages
from tasks.bench.metrics import TextScore, bag_of_words_f1, cer, normalise, score
from tasks.bench.ocr import (
    BenchOptions, BenchReport, DocumentMeasurement, RunMeasurement, best_peer, docuforge_parse, measure_docuforge,
    measure_peer, ratio, total,
)
from tasks.bench.peers import PEERS, Peer
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


# --- the split between tuning and held-out documents -------------------------------------------------------------


def truths_named(names: list[str]) -> list[GroundTruth]:
    return [GroundTruth(Path("scans") / f"{name}.jpg", Path("scans") / f"{name}.gt.txt", name, None) for name in names]


def test_a_document_is_held_out_by_its_name_alone():
    assert [name for name in (f"{i:03d}" for i in range(12)) if is_held_out(Path(f"{name}.jpg"))] == ["004", "006", "010"]
    assert is_held_out(Path("a/004.jpg")) and is_held_out(Path("b/004.png"))  # the stem decides, not folder or type


def test_the_parts_split_the_documents_and_keep_path_order():
    documents = truths_named([f"{i:03d}" for i in range(200)])

    tune, holdout = select_part(documents, "tune"), select_part(documents, "holdout")

    assert {t.document for t in tune}.isdisjoint({t.document for t in holdout})
    assert sorted(tune + holdout, key=lambda t: t.document) == documents
    assert 0.15 < len(holdout) / len(documents) < 0.35
    assert select_part(documents, "tune") == tune  # deterministic
    assert select_part(documents, "all", limit=3) == documents[:3]
    assert select_part(documents, "holdout", limit=2) == holdout[:2]


# --- ratios against the best peer and the comparison table ---------------------------------------------------


def run_of(name: str, peer: bool, edits: int, seconds: float, status: str = "completed") -> RunMeasurement:
    """A run over one 10-page document of 1000 characters."""
    document = DocumentMeasurement(document="scans/a.jpg", status=status, pages=10, seconds=seconds,
                                   document_score=TextScore(edits=edits, reference_chars=1000))
    return RunMeasurement(run=name, peer=peer, documents=[document], total=total([document]))


def sample_report() -> BenchReport:
    return BenchReport(directory="scans", options=BenchOptions(modes=["ensemble"]), documents=["scans/a.jpg"], runs=[
        run_of("docuforge ensemble", False, edits=85, seconds=60),  # 10 pages/min
        run_of("rapidocr", True, edits=100, seconds=30),  # 20 pages/min
        run_of("tesseract", True, edits=200, seconds=10),
        run_of("pdftotext", True, edits=10, seconds=1, status="skipped"),  # did not read every document
    ])


def test_ratios_are_against_the_peer_with_the_lowest_cer_that_read_every_document():
    report = sample_report()

    assert best_peer(report.runs).run == report.best_peer == "rapidocr"
    ensemble = report.ratios["docuforge ensemble"]
    assert (ensemble.peer, ensemble.cer, ensemble.speed) == ("rapidocr", pytest.approx(0.85), pytest.approx(0.5))
    assert report.ratios["tesseract"].cer == pytest.approx(2.0) and report.ratios["tesseract"].speed == pytest.approx(3)
    assert report.ratios["rapidocr"].cer == 1.0
    assert ratio(0.1, 0.0) is None and ratio(None, 0.5) is None


def test_no_ratios_without_a_peer_that_read_every_document():
    report = sample_report()
    report.runs = [run for run in report.runs if run.run in ("docuforge ensemble", "pdftotext")]
    assert report.best_peer is None and report.ratios == {}


def test_the_comparison_table_has_the_ratio_columns():
    console = Console(record=True, width=250)
    console.print(bench_cli.comparison_table(sample_report()))
    text = console.export_text()

    for header in ("CER", "F1", "pages/min", "CER × best", "speed × best"):
        assert header in text
    ensemble = next(line for line in text.splitlines() if "docuforge ensemble" in line)
    assert "8.50%" in ensemble and "10.0" in ensemble and "0.85×" in ensemble and "0.50×" in ensemble


def test_peers_are_named_or_all():
    assert bench_cli.parse_peers("") == ([], True)
    assert bench_cli.parse_peers("rapidocr, tesseract") == (["rapidocr", "tesseract"], True)
    assert bench_cli.parse_peers("all") == (list(PEERS), False)
    with pytest.raises(typer.BadParameter):
        bench_cli.parse_peers("rapidocr,abbyy")


# --- peers, run for real on a generated image ------------------------------------------------------------------

LINE = "Invoice 4711 total 99.50 EUR"


@pytest.fixture(scope="module")
def text_image(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("peers")
    image = Image.new("L", (1400, 200), 255)
    ImageDraw.Draw(image).text((40, 60), LINE, fill=0, font=ImageFont.load_default(size=64))
    image.save(folder / "line.png", dpi=(300, 300))
    (folder / "line.gt.txt").write_text(LINE + "\n")
    return folder / "line.png"


@pytest.mark.parametrize("peer", ["tesseract", "rapidocr"])
def test_a_peer_child_prints_one_json_line_per_document(text_image: Path, tmp_path: Path, peer: str):
    missing = tmp_path / "missing.png"

    child = subprocess.run([sys.executable, "-m", "tasks.bench.peers", peer, str(text_image), str(missing)],
                           capture_output=True, text=True, timeout=240, env={**os.environ, **PEERS[peer].env})

    assert child.returncode == 0, child.stderr
    read, unreadable = map(json.loads, child.stdout.splitlines())
    assert (read["document"], read["status"], read["error"]) == (str(text_image), "completed", None)
    assert len(read["pages"]) == 1 and read["seconds"] > 0
    assert cer(LINE, read["pages"][0]) < 0.1
    assert (unreadable["document"], unreadable["status"]) == (str(missing), "error")


def test_a_peer_that_does_not_read_images_skips_them(text_image: Path):
    [skipped] = measure_peer(find_documents(text_image.parent), BenchOptions(), "pdftotext").documents
    assert skipped.status == "skipped" and skipped.document_score is None


def test_a_peer_that_is_not_installed_is_a_row_that_says_so(text_image: Path, monkeypatch):
    monkeypatch.setitem(PEERS, "ghost", Peer("ghost", "never installed", load=dict, needs_programs=("no-such-ocr",)))

    run = measure_peer(find_documents(text_image.parent), BenchOptions(), "ghost")

    assert not run.installed and "no-such-ocr" in run.error and run.failed


# --- Docuforge's runs, against a stand-in that honours the `docuforge parse --json` contract ---------------------

FAKE_PARSE = '''
import json, pathlib, subprocess, sys
import pyarrow as pa, pyarrow.parquet as pq

crash_before = int(sys.argv[1])
documents, out = sys.argv[2:sys.argv.index("--out")], sys.argv[sys.argv.index("--out") + 1]


def write(table, job_id, rows):
    folder = pathlib.Path(out, table, "operation=parse", "date=2025-01-01")
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{job_id}.parquet")


summaries = []
for index, document in enumerate(documents):
    if index == crash_before:
        sys.exit("Segmentation fault")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", document, "-"], capture_output=True, text=True).stdout
    pages = text.removesuffix("\\f").split("\\f")
    job_id = f"job-{index}"
    write("pages", job_id, [{"job_id": job_id, "page_number": n, "text": page} for n, page in enumerate(pages, 1)])
    summary = {"job_id": job_id, "source_uri": document, "status": "completed", "num_pages": len(pages),
               "duration_ms": 100, "error": None}
    write("documents", job_id, [summary])
    summaries.append(summary)
print(json.dumps(summaries))
'''


@pytest.fixture
def fake_parse(tmp_path: Path):
    """A `ParseCommand` for the stand-in, which dies before its `crash_before`-th document."""
    script = tmp_path / "fake_parse.py"
    script.write_text(FAKE_PARSE)

    def command(crash_before: int = -1):
        return lambda documents, out_dir, options, mode: [
            sys.executable, str(script), str(crash_before), *map(str, documents), "--out", str(out_dir)]

    return command


def born_digital(benchmarks: Path) -> list[GroundTruth]:
    return find_documents(benchmarks / "pdfs/born_digital")


def test_measures_all_documents_of_a_mode_in_one_child(benchmarks: Path, fake_parse):
    truths = born_digital(benchmarks)

    run = measure_docuforge(truths, BenchOptions(), "fast", command=fake_parse())

    assert run.run == "docuforge fast" and run.error is None and not run.failed
    assert [each.document for each in run.documents] == [str(truth.document) for truth in truths]
    assert all(each.status == "completed" and each.page_score.cer == 0.0 for each in run.documents)
    assert run.total.pages == 27 and run.total.document_score.f1 == 1.0
    assert run.total.pages_per_min == pytest.approx(27 / 0.5 * 60)  # five jobs of 100 ms
    assert run.peak_rss_mb > 0 and run.wall_s > 0


def test_a_crashed_child_keeps_the_documents_it_finished(benchmarks: Path, fake_parse):
    truths = born_digital(benchmarks)

    run = measure_docuforge(truths, BenchOptions(), "auto", command=fake_parse(crash_before=2))

    assert [each.status for each in run.documents] == ["completed"] * 2 + ["error"] * 3
    assert "stopped before it" in run.documents[2].error and "Segmentation fault" in run.documents[2].error
    assert "crashed" in run.error and run.failed
    assert run.total.status == "2/5 completed"


@pytest.mark.parametrize(
    ("program", "message"),
    [("import sys; sys.exit(3)", "exit 3"), ("print('not json')", "no result on stdout")],
)
def test_a_failing_child_is_an_error_row_for_every_document(benchmarks: Path, program: str, message: str):
    truths = find_documents(benchmarks / "pdfs/scanned")[:2]

    run = measure_docuforge(truths, BenchOptions(), "fast", command=lambda *_: [sys.executable, "-c", program])

    assert all(each.status == "error" and message in each.error for each in run.documents)
    assert run.total.status == "0/2 completed"


def test_docuforge_gets_the_options_with_tables_and_figures_off_by_default():
    argv = docuforge_parse([Path("a.pdf"), Path("b.png")], Path("out"), BenchOptions(dpi=200), "ensemble")
    assert argv[argv.index("parse") + 1:argv.index("--out")] == ["a.pdf", "b.png"]
    assert {"--no-tables", "--no-figures", "--json"} <= set(argv)
    assert argv[argv.index("--dpi") + 1] == "200" and argv[argv.index("--ocr-mode") + 1] == "ensemble"
    with_tables = docuforge_parse([Path("a.pdf")], Path("out"), BenchOptions(tables=True, figures=True), "fast")
    assert {"--tables", "--figures"} <= set(with_tables)


def test_ocr_command_prints_the_tables_and_writes_json(benchmarks: Path, fake_parse, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(bench_cli, "measure_docuforge", functools.partial(measure_docuforge, command=fake_parse()))
    out_json = tmp_path / "report.json"

    result = CliRunner(env={"COLUMNS": "250"}).invoke(bench_app, [
        "ocr", str(benchmarks / "pdfs/born_digital"), "--out-json", str(out_json), "--modes", "fast,auto",
        "--peer", "pdftotext", "--limit", "3",
    ])

    assert result.exit_code == 0, result.output
    assert "part all: 3 documents" in result.output and "code_and_formula.pdf" in result.output
    assert "speed × best" in result.output and "against pdftotext" in result.output
    report = json.loads(out_json.read_text())
    assert [run["run"] for run in report["runs"]] == ["docuforge fast", "docuforge auto", "pdftotext"]
    assert report["options"]["part"] == "all" and len(report["documents"]) == 3
    assert report["best_peer"] == "pdftotext"
    assert all(len(run["documents"]) == 3 for run in report["runs"])
    assert report["runs"][2]["total"]["document_score"]["cer"] == 0.0


def test_ocr_command_fails_for_a_named_peer_that_is_not_installed(benchmarks: Path, fake_parse, monkeypatch):
    monkeypatch.setattr(bench_cli, "measure_docuforge", functools.partial(measure_docuforge, command=fake_parse()))
    monkeypatch.setitem(PEERS, "ghost", Peer("ghost", "never installed", load=dict, needs_programs=("no-such-ocr",)))

    result = CliRunner(env={"COLUMNS": "250"}).invoke(
        bench_app, ["ocr", str(benchmarks / "pdfs/born_digital"), "--peer", "ghost", "--limit", "1"])

    assert result.exit_code == 1
    assert "not installed" in result.output and "no-such-ocr" in result.output


def test_ocr_command_refuses_an_empty_part(tmp_path: Path):
    (tmp_path / "004.png").write_bytes(b"")
    (tmp_path / "004.gt.txt").write_text("x")
    result = CliRunner().invoke(bench_app, ["ocr", str(tmp_path), "--part", "tune"])
    assert result.exit_code == 1 and "no documents" in result.output


# --- the real pipeline -------------------------------------------------------------------------------------------


@pytest.mark.benchmarks
def test_bench_ocr_runs_the_real_pipeline(benchmarks: Path, tmp_path: Path):
    for name in ("ocr_test.pdf", "ocr_test.gt.txt"):
        (tmp_path / name).symlink_to(benchmarks / "pdfs/scanned" / name)
    out_json = tmp_path / "report.json"

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        bench_app, ["ocr", str(tmp_path), "--out-json", str(out_json), "--dpi", "200", "--modes", "fast,ensemble",
                    "--peer", "tesseract"]
    )

    assert result.exit_code == 0, result.output
    fast, ensemble, tesseract = json.loads(out_json.read_text())["runs"]
    assert [fast["run"], ensemble["run"], tesseract["run"]] == ["docuforge fast", "docuforge ensemble", "tesseract"]
    for run in (fast, ensemble, tesseract):
        assert run["documents"][0]["status"] == "completed"
        assert run["documents"][0]["document_score"]["cer"] < 0.1
    assert set(fast["total"]["engine_scores"]) == {"tesseract"}
    assert set(ensemble["total"]["engine_scores"]) == {"tesseract", "paddle", "easyocr"}
    assert "engine paddle" in result.output
