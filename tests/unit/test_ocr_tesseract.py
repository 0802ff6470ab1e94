import pytest
from PIL import Image, ImageDraw, ImageFont

from tasks.bench.metrics import cer
from tasks.errors import EngineError
from tasks.ocr.tesseract import TesseractEngine
from tasks.render import render_page
from tasks.models import Document


def _pdf_document(path) -> Document:
    return Document(document_id="x", source_uri=str(path), local_path=str(path), mime_type="application/pdf",
                    size_bytes=path.stat().st_size, num_pages=1)


def test_reads_a_clean_scan_with_boxes_and_confidences(benchmarks, tmp_path):
    page = render_page(_pdf_document(benchmarks / "pdfs/scanned/ocr_test.pdf"), 1, 300, str(tmp_path), 10**9)
    blocks = TesseractEngine().read_page(page.path, page.dpi, "eng")
    text = "\n".join(line.text for block in blocks for line in block.lines)
    assert cer((benchmarks / "pdfs/scanned/ocr_test.gt.txt").read_text(), text) <= 0.02
    words = [w for b in blocks for line in b.lines for w in line.words]
    assert all(0 <= w.confidence <= 1 and w.engine == "tesseract" for w in words)
    assert all(0 <= w.bbox[0] < w.bbox[2] <= 1 and 0 <= w.bbox[1] < w.bbox[3] <= 1 for w in words)


def test_rendering_respects_the_pixel_limit(benchmarks, tmp_path):
    page = render_page(_pdf_document(benchmarks / "pdfs/scanned/ocr_test.pdf"), 1, 300, str(tmp_path), 1_000_000)
    assert page.width * page.height <= 1_000_000 and page.dpi < 300


def test_blank_image_gives_no_text(tmp_path):
    path = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(path)
    assert TesseractEngine().read_page(str(path), 300, "eng") == []


def test_low_resolution_image_without_dpi_metadata(tmp_path):
    path = tmp_path / "small.png"
    image = Image.new("L", (900, 200), 255)
    ImageDraw.Draw(image).text((20, 60), "Quarterly revenue grew", font=ImageFont.load_default(size=48), fill=0)
    image.save(path)
    blocks = TesseractEngine().read_page(str(path), None, "eng")
    assert " ".join(line.text for b in blocks for line in b.lines) == "Quarterly revenue grew"


def test_missing_language_is_an_engine_error(tmp_path):
    path = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(path)
    with pytest.raises(EngineError, match="xyz"):
        TesseractEngine().read_page(str(path), 300, "eng+xyz")
