"""A searchable PDF: the document's pages with an invisible text layer (render mode 3) of the OCR'd words, each
drawn at its box and stretched to its width, so pdftotext and a viewer's search and copy find the text where it is
on the page. PDF pages are kept as they are (their images are not touched; the text is added on top, pypdf merging
a reportlab overlay); an image input's frames become PDF pages of their own. Pages with a text layer of their own
are copied unchanged; a hybrid page gets only the words OCR'd from its pictures."""
from __future__ import annotations

from pydantic import BaseModel, Field
from rapidfuzz.distance import Levenshtein

from tasks.models import BBox, union
from tasks.textlayer import TEXT_LAYER, pdftotext

FONT = "Helvetica"
DESCENT = 0.2
"""How far above the bottom of its line a word's baseline is, as a share of the font size."""
WORD_GAP = 0.25
"""The least gap between two words of a line, as a share of the font size: pdftotext parts words at gaps (over a
tenth of the font size), not at space characters."""
MIN_SCALE = 1.0
"""The least horizontal scale (per cent) of a stretched run: overlapping boxes still leave their text in order."""
ASSUMED_DPI = 300
"""The resolution of an image input that declares none (its PDF page's size)."""
MAX_CER = 0.005
"""The most character error rate between the output's pdftotext and the pages' text at which the output counts as
verified (whitespace runs compared as one space)."""
VOTED = "ensemble"
"""The engine of a line the engines voted on; its other words are each engine's own reading."""


class PlacedWord(BaseModel):
    text: str
    bbox: BBox
    line: BBox
    """The box of the word's line: the words of a line share a baseline and a size."""


class PageText(BaseModel):
    """A page as the job read it: its text, and the words to place when its text came from OCR."""

    page_number: int
    text_source: str
    status: str
    rotation: int = 0
    text: str = ""
    words: list[PlacedWord] = Field(default_factory=list)

    @property
    def gets_text(self) -> bool:
        return self.status == "ok" and bool(self.words)


class TextCheck(BaseModel):
    cer: float
    verified: bool


def placed_words(rows: list[dict]) -> dict[int, list[PlacedWord]]:
    """Each page's words to place, from the `words` rows: a line's voted reading where engines voted, its only
    reading otherwise; none of the text layer's own words. In reading order."""
    lines: dict[tuple[int, int, int], list[dict]] = {}
    for row in rows:
        if row["engine"] != TEXT_LAYER and row["text"].strip():
            lines.setdefault((row["page_number"], row["block_id"], row["line_id"]), []).append(row)
    pages: dict[int, list[PlacedWord]] = {}
    for (page, _, _), words in sorted(lines.items()):
        if any(word["engine"] == VOTED for word in words):
            words = [word for word in words if word["engine"] == VOTED]
        words.sort(key=lambda word: word["word_id"])
        boxes = [_box(word["bbox"]) for word in words]
        line = union(boxes)
        pages.setdefault(page, []).extend(PlacedWord(text=word["text"].strip(), bbox=box, line=line)
                                          for word, box in zip(words, boxes))
    return pages


def _box(bbox: dict) -> BBox:
    return (bbox["x0"], bbox["y0"], bbox["x1"], bbox["y1"])


def draw_words(canvas, words: list[PlacedWord], width: float, height: float, rotation: int = 0) -> None:
    """The words as invisible text on a page of width × height points. `rotation`: the clockwise turn that made
    the page upright for OCR (the boxes are on the upright page); the text is turned back onto the page."""
    upright_w, upright_h = (height, width) if rotation in (90, 270) else (width, height)
    canvas.saveState()
    canvas.transform(*_upright_to_page(rotation, width, height))
    text = canvas.beginText()
    text.setTextRenderMode(3)
    for word, following in zip(words, [*words[1:], None]):
        size = max((word.line[3] - word.line[1]) * upright_h, 1.0)
        text.setFont(FONT, size)
        text.setTextOrigin(word.bbox[0] * upright_w, (1 - word.line[3]) * upright_h + DESCENT * size)
        left, right = word.bbox[0] * upright_w, word.bbox[2] * upright_w
        if following is None or following.line != word.line:
            _stretched(text, word.text, right - left, size)
            continue
        gap_at = min(right, following.bbox[0] * upright_w - WORD_GAP * size)  # touching boxes still part
        width = max(gap_at - left, (right - left) / 2)
        _stretched(text, word.text, width, size)
        _stretched(text, " ", following.bbox[0] * upright_w - left - width, size)
    canvas.drawText(text)
    canvas.restoreState()


def _stretched(text, chars: str, width: float, size: float) -> None:
    """`chars` drawn at the text cursor, stretched or squeezed to `width` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text.setHorizScale(max(100 * width / stringWidth(chars, FONT, size), MIN_SCALE))
    text.textOut(chars)


def _upright_to_page(rotation: int, width: float, height: float) -> tuple[float, ...]:
    """The matrix from the upright page's points to the page's (PDF order a b c d e f)."""
    return {0: (1, 0, 0, 1, 0, 0), 90: (0, 1, -1, 0, width, 0), 180: (-1, 0, 0, -1, width, height),
            270: (0, -1, 1, 0, 0, height)}[rotation % 360]


def searchable_pdf(source_path: str, mime_type: str, pages: list[PageText], out_path: str) -> list[int]:
    """Write the searchable PDF of the document at source_path; the numbers of the pages that got a text layer."""
    if mime_type == "application/pdf":
        return _searchable_from_pdf(source_path, pages, out_path)
    return _searchable_from_image(source_path, pages, out_path)


def _searchable_from_pdf(source_path: str, pages: list[PageText], out_path: str) -> list[int]:
    import io

    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen.canvas import Canvas

    writer = PdfWriter(clone_from=PdfReader(source_path))
    changed = []
    for page in pages:
        if not page.gets_text:
            continue
        target = writer.pages[page.page_number - 1]
        if target.rotation:
            target.transfer_rotation_to_content()  # the boxes are on the page as shown
        box = target.cropbox
        overlay = io.BytesIO()
        canvas = Canvas(overlay, pagesize=(float(box.width), float(box.height)))
        draw_words(canvas, page.words, float(box.width), float(box.height), page.rotation)
        canvas.save()
        target.merge_translated_page(PdfReader(overlay).pages[0], float(box.left), float(box.bottom))
        changed.append(page.page_number)
    with open(out_path, "wb") as handle:
        writer.write(handle)
    return changed


def _searchable_from_image(source_path: str, pages: list[PageText], out_path: str) -> list[int]:
    from PIL import Image, ImageOps
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(out_path)
    changed = []
    with Image.open(source_path) as image:
        for page in pages:
            image.seek(page.page_number - 1)
            frame = ImageOps.exif_transpose(image)
            dpi = round(float(image.info.get("dpi", (ASSUMED_DPI,))[0])) or ASSUMED_DPI
            width, height = frame.width * 72 / dpi, frame.height * 72 / dpi
            canvas.setPageSize((width, height))
            canvas.drawImage(ImageReader(frame), 0, 0, width, height)
            if page.gets_text:
                draw_words(canvas, page.words, width, height, page.rotation)
                changed.append(page.page_number)
            canvas.showPage()
    canvas.save()
    return changed


def check_text(pdf_path: str, pages: list[PageText], max_cer: float = MAX_CER) -> TextCheck:
    """The output's text (pdftotext) against the pages' text read by the job, over the pages read. A page given a
    text layer is read in the order its words were written (pdftotext -raw), so the check is of the words and
    their encoding, not of pdftotext's guess at the reading order of a layout; the others as the job read them."""
    read = [page for page in pages if page.status == "ok"]
    expected = _spaced(" ".join(page.text for page in read))
    found = _spaced(" ".join(pdftotext(pdf_path, page.page_number, *(["-raw"] if page.gets_text else []))
                             for page in read))
    cer = Levenshtein.distance(found, expected) / max(len(expected), 1)
    return TextCheck(cer=cer, verified=cer <= max_cer)


def _spaced(text: str) -> str:
    return " ".join(text.split())
