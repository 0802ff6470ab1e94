"""Tesseract in-process (tesserocr): where its language data comes from, one instance per thread, line crops,
and a recognition that runs too long."""
from __future__ import annotations

import os
import threading

import pytest
from pdf2image import convert_from_path
from PIL import Image, ImageDraw, ImageFont

from tasks.bench.metrics import cer
from tasks.errors import EngineError
from tasks.ocr import get_engine
from tasks.ocr.tesseract import TesseractEngine, tessdata_dir, tesseract_for
from tasks.settings import get_settings


@pytest.fixture
def fresh_tessdata_dir():
    """tessdata_dir resolved again for the test, and again after it."""
    tessdata_dir.cache_clear()
    yield
    tessdata_dir.cache_clear()


@pytest.fixture(scope="module")
def letter(benchmarks, tmp_path_factory) -> tuple[str, str]:
    """The slerexe fax letter at 300 dpi (one page, ~30 lines), and its ground truth."""
    page = convert_from_path(benchmarks / "pdfs/scanned/slerexe_letter_ccitt1.pdf", dpi=300, grayscale=True)[0]
    path = tmp_path_factory.mktemp("letter") / "letter.png"
    page.save(path)
    return str(path), (benchmarks / "pdfs/scanned/slerexe_letter_ccitt1.gt.txt").read_text()


def _thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def test_language_data_is_where_the_tesseract_program_looks(monkeypatch, fresh_tessdata_dir):
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    assert tessdata_dir() == "/usr/share/tesseract-ocr/5/tessdata/"  # Debian's tesseract-ocr-eng and -osd
    assert {"eng", "osd"} <= set(TesseractEngine().languages())


def test_tessdata_prefix_names_the_language_data_folder(monkeypatch, fresh_tessdata_dir, tmp_path):
    (tmp_path / "eng.traineddata").symlink_to("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert tessdata_dir() == f"{tmp_path}/"
    assert TesseractEngine.available() is None and TesseractEngine().languages() == ["eng"]
    with pytest.raises(EngineError, match="no language data for osd"):
        tesseract_for("osd")


def test_missing_language_data_makes_tesseract_unavailable(monkeypatch, fresh_tessdata_dir, tmp_path):
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "nowhere"))
    assert "nowhere" in TesseractEngine.available()
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    tessdata_dir.cache_clear()
    assert "no language data" in TesseractEngine.available()


def test_each_thread_keeps_its_own_tesseract():
    mine = tesseract_for("eng")
    assert tesseract_for("eng") is mine
    other = []
    thread = threading.Thread(target=lambda: other.append(tesseract_for("eng")))
    thread.start()
    thread.join()
    assert other[0] is not mine


def test_tesseract_reads_on_the_calling_thread_only(letter):
    # no OpenMP worker pool: pages read on parallel threads do not compete with Tesseract's own threads
    path, _ = letter
    before = _thread_count()
    TesseractEngine().read_page(path, 300, "eng")
    assert _thread_count() == before


def test_a_recognition_that_runs_too_long_is_an_engine_error(monkeypatch, letter):
    path, _ = letter
    monkeypatch.setenv("DOCUFORGE_PROGRAM_TIMEOUT_S", "0.001")
    get_settings.cache_clear()
    try:
        with pytest.raises(EngineError, match="still reading"):
            TesseractEngine().read_page(path, 300, "eng")
    finally:
        get_settings.cache_clear()


def test_line_crops_leave_the_neighbouring_lines_out(letter):
    # paddle's line boxes are roomy: grown into the page, crops take in bits of the lines above and below, which
    # Tesseract's single-line mode then reads as nothing
    path, truth = letter
    boxes = get_engine("paddle").detect_lines(path, 300)
    readings = TesseractEngine().recognise_lines(path, boxes, "eng", dpi=300)
    assert cer(truth, "\n".join(r.text for r in readings)) <= 0.05


def test_a_line_reading_gives_each_word_its_confidence(tmp_path):
    page = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(page).text((30, 30), "Total due 42.00", font=ImageFont.load_default(size=48), fill=0)
    page.save(tmp_path / "line.png")
    [reading] = TesseractEngine().recognise_lines(str(tmp_path / "line.png"), [(0.0, 0.0, 1.0, 1.0)], "eng")
    assert reading.text == "Total due 42.00"
    spaces = [i for i, char in enumerate(reading.text) if char == " "]
    assert len(reading.char_confidences) == len(reading.text)
    assert reading.char_confidences[spaces[0]] == pytest.approx(
        (reading.char_confidences[0] + reading.char_confidences[spaces[0] + 1]) / 2)
