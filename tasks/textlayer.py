"""The PDF text layer: exact page text (pdftotext), word boxes (-bbox-layout) and the image regions on a page."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pypdfium2.raw as pdfium_c

from tasks.errors import CorruptDocument
from tasks.programs import run_program
from tasks.models import BBox, Block, Line, Word
from tasks.pdfium import pdf_page

_XHTML = "{http://www.w3.org/1999/xhtml}"
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
TEXT_LAYER = "text_layer"
PICTURE_AREA = 0.05
"""A bitmap covering at least this share of a page is a picture whose text is OCR'd."""


@dataclass
class TextLayerPage:
    text: str
    blocks: list[Block]
    width_pt: float
    height_pt: float

    @property
    def words(self) -> list[Word]:
        return [word for block in self.blocks for line in block.lines for word in line.words]

    @property
    def visible_chars(self) -> int:
        return sum(1 for ch in self.text if ch.isprintable() and not ch.isspace() and ch != "\ufffd")


def pdftotext(pdf_path: str, page_number: int, *extra: str) -> str:
    command = ["pdftotext", "-q", "-enc", "UTF-8", "-f", str(page_number), "-l", str(page_number), *extra, pdf_path, "-"]
    result = run_program(command, f"page {page_number}'s text layer")
    if result.returncode != 0:
        raise CorruptDocument(f"page {page_number}: the text layer cannot be read (pdftotext exit {result.returncode})")
    return result.stdout.decode("utf-8", errors="replace")


def read_text_layer(pdf_path: str, page_number: int) -> TextLayerPage:
    """The page's text exactly as pdftotext reads it, with blocks/lines/words in pdftotext's reading order."""
    text = pdftotext(pdf_path, page_number).rstrip("\f")
    layout = _XML_FORBIDDEN.sub("", pdftotext(pdf_path, page_number, "-bbox-layout"))
    page = ET.fromstring(layout).find(f".//{_XHTML}page")
    if page is None:
        raise CorruptDocument(f"page {page_number}: no page in the text layer")
    width, height = float(page.get("width")), float(page.get("height"))
    blocks = [_block(element, width, height) for element in page.iter(f"{_XHTML}block")]
    return TextLayerPage(text=text, blocks=[b for b in blocks if b.lines], width_pt=width, height_pt=height)


def _box(element: ET.Element, width: float, height: float) -> BBox:
    x0, y0, x1, y1 = (float(element.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
    return (_clamp(x0 / width), _clamp(y0 / height), _clamp(x1 / width), _clamp(y1 / height))


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _block(element: ET.Element, width: float, height: float) -> Block:
    lines = []
    for line in element.iter(f"{_XHTML}line"):
        words = [
            Word(text=w.text or "", bbox=_box(w, width, height), confidence=1.0, engine=TEXT_LAYER)
            for w in line.iter(f"{_XHTML}word")
        ]
        if words:
            lines.append(Line(text=" ".join(w.text for w in words), bbox=_box(line, width, height),
                              confidence=1.0, engine=TEXT_LAYER, words=words))
    return Block(bbox=_box(element, width, height), lines=lines)


@dataclass
class PageGraphics:
    """What is drawn on a page besides its text: the bitmaps' boxes (normalised, origin top-left) and the number
    of vector paths (rules, cell borders, shading, charts)."""

    images: list[BBox]
    paths: int


def page_graphics(pdf_path: str, page_number: int) -> PageGraphics:
    images, paths = [], 0
    with pdf_page(pdf_path, page_number) as page:
        width, height = page.get_size()
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=4):
            if obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
                paths += 1
                continue
            left, bottom, right, top = obj.get_bounds()
            images.append((_clamp(left / width), _clamp(1 - top / height),
                           _clamp(right / width), _clamp(1 - bottom / height)))
    return PageGraphics(images=images, paths=paths)


def large(boxes: list[BBox], min_area: float) -> list[BBox]:
    """The boxes covering at least `min_area` of the page."""
    return [box for box in boxes if (box[2] - box[0]) * (box[3] - box[1]) >= min_area]


def image_regions(pdf_path: str, page_number: int, min_area: float = PICTURE_AREA) -> list[BBox]:
    """Bitmap regions on a page covering at least `min_area` of it (normalised boxes, origin top-left)."""
    return large(page_graphics(pdf_path, page_number).images, min_area)
