"""The OCR engines behind one interface (tesseract; PaddleOCR's PP-OCR models on ONNX Runtime, `paddle`, and on
Paddle's own runtime, `paddle-native`; easyocr), on a real scan: each reads the page on its own, and each recognises
the same detected line boxes ("one detection, many recognisers")."""
from __future__ import annotations

import logging
import os

import pytest
from pdf2image import convert_from_path

import tasks.ocr
from tasks.bench.metrics import cer
from tasks.errors import EngineError
from tasks.ocr import ENGINES, LineReading, OcrEngine, available_engines, engine_class, get_engine
from tasks.settings import get_settings

NAMES = list(ENGINES)


@pytest.fixture(scope="module")
def scan(benchmarks, tmp_path_factory) -> tuple[str, str]:
    """ocr_test.pdf page 1 rendered at 300 dpi, grayscale, and its ground truth."""
    image = convert_from_path(benchmarks / "pdfs/scanned/ocr_test.pdf", dpi=300, grayscale=True, fmt="png",
                              first_page=1, last_page=1)[0]
    path = tmp_path_factory.mktemp("ocr") / "ocr_test.png"
    image.save(path)
    return str(path), (benchmarks / "pdfs/scanned/ocr_test.gt.txt").read_text()


def test_every_engine_is_available_here():
    # ./quickstart installs every engine, so a missing one here is a broken install (at run time the ensemble
    # records a missing engine in pages.engine_errors and votes without it)
    assert available_engines() == {name: None for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_each_engine_is_loaded_once_per_process(name):
    engine = get_engine(name)
    assert isinstance(engine, OcrEngine) and engine.name == name
    assert get_engine(name) is engine
    assert engine.version() and "eng" in engine.languages()


def test_easyocr_shares_the_cores_between_the_pages_that_run_at_once():
    import torch

    get_engine("easyocr")
    workers = get_settings().page_workers
    assert 1 <= torch.get_num_threads() and torch.get_num_threads() * workers <= max(os.cpu_count() or 1, workers)


def test_an_unavailable_engine_is_an_engine_error(monkeypatch):
    monkeypatch.setattr(tasks.ocr, "_instances", {})
    unavailable = classmethod(lambda cls: "package rapidocr is not installed")
    monkeypatch.setattr(engine_class("paddle"), "available", unavailable)
    with pytest.raises(EngineError, match="paddle is not available: package rapidocr is not installed"):
        get_engine("paddle")
    with pytest.raises(EngineError, match="unknown OCR engine"):
        get_engine("nonesuch")


def test_preload_loads_in_the_background_and_leaves_failures_to_the_first_use(monkeypatch):
    monkeypatch.setattr(tasks.ocr, "_instances", {})
    monkeypatch.setattr(engine_class("paddle"), "available", classmethod(lambda cls: "no models here"))
    tasks.ocr.preload(["paddle", "tesseract"]).join(timeout=120)
    assert set(tasks.ocr._instances) == {"tesseract"}
    with pytest.raises(EngineError, match="no models here"):
        get_engine("paddle")


@pytest.mark.parametrize("name", NAMES)
def test_read_page_on_a_real_scan(name, scan):
    path, truth = scan
    blocks = get_engine(name).read_page(path, 300, "eng")
    lines = [line for block in blocks for line in block.lines]
    assert cer(truth, "\n".join(line.text for line in lines)) <= 0.1
    words = [word for line in lines for word in line.words]
    assert words and " ".join(w.text for w in words).split() == " ".join(line.text for line in lines).split()
    for item in lines + words:
        assert item.engine == name and 0 <= item.confidence <= 1
        assert 0 <= item.bbox[0] < item.bbox[2] <= 1 and 0 <= item.bbox[1] < item.bbox[3] <= 1


@pytest.mark.parametrize("detector", ["tesseract", "paddle", "paddle-native"])
def test_one_detection_many_recognisers(detector, scan):
    path, truth = scan
    boxes = get_engine(detector).detect_lines(path, 300)
    truth_lines = truth.strip().splitlines()
    assert len(boxes) == len(truth_lines)
    assert all(0 <= b[0] < b[2] <= 1 and 0 <= b[1] < b[3] <= 1 for b in boxes)
    assert [b[1] for b in boxes] == sorted(b[1] for b in boxes)  # top to bottom
    for name in NAMES:
        readings = get_engine(name).recognise_lines(path, boxes, "eng", dpi=300)
        assert len(readings) == len(boxes)
        assert all(isinstance(r, LineReading) and r.engine == name and 0 <= r.confidence <= 1 for r in readings)
        assert cer(truth, "\n".join(r.text for r in readings)) <= 0.1, name
        for reading, expected in zip(readings, truth_lines):  # same order as the boxes
            assert cer(expected, reading.text) <= 0.1, (name, reading.text)


@pytest.mark.parametrize("name", NAMES)
def test_unreadable_crops_read_as_empty(name, scan):
    path, _ = scan
    blank, empty = (0.1, 0.01, 0.5, 0.04), (0.5, 0.5, 0.5, 0.5)  # white margin above the text; a zero-size box
    readings = get_engine(name).recognise_lines(path, [blank, empty], "eng")
    assert [(r.text, r.confidence) for r in readings] == [("", 0.0), ("", 0.0)]


@pytest.mark.parametrize("name", ["tesseract", "paddle", "paddle-native"])
def test_per_character_confidences(name, scan):
    path, _ = scan
    boxes = get_engine("tesseract").detect_lines(path, 300)
    for reading in get_engine(name).recognise_lines(path, boxes, "eng"):
        assert reading.char_confidences is not None and len(reading.char_confidences) == len(reading.text)
        assert all(0 <= c <= 1 for c in reading.char_confidences)


@pytest.mark.parametrize("name", ["tesseract", "paddle", "easyocr"])  # paddle-native: test_ocr_paddle_native.py
def test_a_language_the_models_cannot_read_is_an_engine_error(name, scan):
    path, _ = scan
    with pytest.raises(EngineError, match="xyz"):
        get_engine(name).recognise_lines(path, [(0.1, 0.08, 0.9, 0.12)], "eng+xyz")


def test_paddle_never_downloads(tmp_path):
    from rapidocr.utils.download_file import DownloadFile, DownloadFileInput

    get_engine("paddle")
    with pytest.raises(EngineError, match="refusing to download"):
        DownloadFile.run(DownloadFileInput(file_url="http://127.0.0.1:9/model.onnx", save_path=tmp_path / "m.onnx",
                                           logger=logging.getLogger("test")))


def test_paddle_tells_an_upside_down_page_by_its_lines_and_tesseract_does_not_say(scan, tmp_path):
    import cv2

    path, _ = scan
    turned = str(tmp_path / "turned.png")
    cv2.imwrite(turned, cv2.rotate(cv2.imread(path), cv2.ROTATE_180))
    paddle = get_engine("paddle")
    assert paddle.upside_down_share(path, paddle.detect_lines(path, 300)) < 0.2
    assert paddle.upside_down_share(turned, paddle.detect_lines(turned, 300)) > 0.8
    assert paddle.upside_down_share(path, []) is None
    assert get_engine("tesseract").upside_down_share(path, paddle.detect_lines(path, 300)) is None
