"""The searchable PDF on a real scan from ../shared/benchmarks: Tesseract's words (as the `words` table holds them)
placed as an invisible text layer; pdftotext finds the text, each word inside its box; the scan's image is not
touched; a page with a text layer of its own is copied unchanged; an image input becomes a PDF page, turned pages
get their text turned back onto the page."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pdf2image import convert_from_path
from pypdf import PdfReader, PdfWriter

from tasks.edit.request import Edits, as_edits
from tasks.edit.searchable import PageText, check_text, placed_words, searchable_pdf
from tasks.errors import BadInput
from tasks.models import PageResult
from tasks.ocr.tesseract import TesseractEngine
from tasks.store import page_rows
from tasks.textlayer import pdftotext, read_text_layer

pytestmark = pytest.mark.benchmarks
SCAN = "pdfs/scanned/slerexe_letter_ccitt1.pdf"
DIGITAL = "pdfs/born_digital/multi_page.pdf"
DPI = 200


def ocr_page(image_path: Path, page_number: int = 1) -> PageText:
    """The page read by Tesseract, then through the `words` rows the store writes for it."""
    blocks = TesseractEngine().read_page(str(image_path), DPI, "eng")
    page = PageResult(page_number=page_number, width=1, height=1, dpi=DPI, text_source="ocr", blocks=blocks,
                      text="\n".join(line.text for block in blocks for line in block.lines))
    words = placed_words(page_rows("job", page, [])["words"])[page_number]
    return PageText(page_number=page_number, text_source="ocr", status="ok", text=page.text, words=words)


def rendered(pdf: Path, folder: Path) -> Path:
    path = folder / "page.png"
    convert_from_path(str(pdf), dpi=DPI, first_page=1, last_page=1)[0].save(path, dpi=(DPI, DPI))
    return path


def word_boxes(pdf: str, page_number: int = 1) -> list[tuple[str, tuple[float, float, float, float]]]:
    """pdftotext's words with their boxes, normalised to the page (origin top-left)."""
    xml = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", pdftotext(pdf, page_number, "-bbox")))
    ns = "{http://www.w3.org/1999/xhtml}"
    page = xml.find(f".//{ns}page")
    width, height = float(page.get("width")), float(page.get("height"))
    return [(w.text, (float(w.get("xMin")) / width, float(w.get("yMin")) / height,
                      float(w.get("xMax")) / width, float(w.get("yMax")) / height))
            for w in page.iter(f"{ns}word")]


def centre_in(inner, outer, slack: float = 0.005) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] - slack <= cx <= outer[2] + slack and outer[1] - slack <= cy <= outer[3] + slack


@pytest.fixture(scope="module")
def scan_page(benchmarks, tmp_path_factory) -> PageText:
    return ocr_page(rendered(benchmarks / SCAN, tmp_path_factory.mktemp("scan")))


def test_a_scan_gets_its_words_at_their_boxes_and_keeps_its_image(benchmarks, scan_page, tmp_path):
    source = benchmarks / SCAN
    assert pdftotext(str(source), 1).strip() == "", "a scan without a text layer"
    out = tmp_path / "searchable.pdf"
    assert searchable_pdf(str(source), "application/pdf", [scan_page], str(out)) == [1]

    check = check_text(str(out), [scan_page])
    assert check.verified and check.cer <= 0.005
    assert "THE SLEREXE COMPANY LIMITED" in pdftotext(str(out), 1)

    found = word_boxes(str(out))
    assert sorted(text for text, _ in found) == sorted(word.text for word in scan_page.words)
    assert all(any(centre_in(box, word.bbox) for word in scan_page.words if word.text == text)
               for text, box in found), "every word is found inside its box"

    def images(pdf):
        page = PdfReader(pdf).pages[0]
        return [page["/Resources"]["/XObject"][name].get_object().get_data()
                for name in page["/Resources"]["/XObject"]]
    assert images(str(out)) == images(str(source)), "the scan's image is copied, not re-encoded"


def test_a_page_with_a_text_layer_is_copied_unchanged(benchmarks, scan_page, tmp_path):
    bundle = tmp_path / "bundle.pdf"
    writer = PdfWriter()
    writer.append(str(benchmarks / SCAN))
    writer.append(str(benchmarks / DIGITAL), pages=(0, 1))
    writer.write(bundle)
    digital = read_text_layer(str(bundle), 2)
    pages = [scan_page, PageText(page_number=2, text_source="text_layer", status="ok", text=digital.text)]
    out = tmp_path / "searchable.pdf"
    assert searchable_pdf(str(bundle), "application/pdf", pages, str(out)) == [1]
    assert PdfReader(out).pages[1].get_contents().get_data() == PdfReader(bundle).pages[1].get_contents().get_data()
    assert check_text(str(out), pages).verified


@pytest.mark.parametrize("rotation", [0, 90, 270])
def test_an_image_becomes_a_searchable_page_and_a_turned_page_gets_its_text_turned_back(
        benchmarks, scan_page, tmp_path, rotation):
    from PIL import Image

    upright = rendered(benchmarks / SCAN, tmp_path)
    image = tmp_path / "scan.png"
    with Image.open(upright) as page:  # as scanned: turning it `rotation` degrees clockwise makes it upright
        page.rotate(rotation, expand=True).save(image, dpi=(DPI, DPI))
    page = scan_page.model_copy(update={"rotation": rotation})
    out = tmp_path / "searchable.pdf"
    assert searchable_pdf(str(image), "image/png", [page], str(out)) == [1]
    assert len(PdfReader(out).pages) == 1 and check_text(str(out), [page]).cer <= 0.02
    (_, found), = [(t, box) for t, box in word_boxes(str(out)) if t == page.words[0].text][:1]
    x0, y0, x1, y1 = page.words[0].bbox
    expected = {0: (x0, y0, x1, y1), 90: (y0, 1 - x1, y1, 1 - x0), 270: (1 - y1, x0, 1 - y0, x1)}[rotation]
    assert centre_in(found, expected)


def test_an_edit_must_be_chosen():
    assert as_edits({"searchable": True}).kinds() == ["searchable"]
    assert Edits(searchable=True).fingerprint() != Edits().fingerprint()
    with pytest.raises(BadInput, match="at least one edit"):
        as_edits(None)
    with pytest.raises(BadInput, match="at least one edit"):
        as_edits({"searchable": False})
    with pytest.raises(BadInput, match="redact"):
        as_edits({"redact": ["x"]})
