"""Tesseract in this process, through tesserocr: word boxes and confidences, grouped into Tesseract's paragraphs and
lines.

tesserocr's wheel bundles libtesseract (built without OpenMP: a call runs on the calling thread only) but no
language data: that is Debian's (tesseract-ocr-eng, tesseract-ocr-osd), found by `tessdata_dir`. A Tesseract
instance must not be used by two threads at once, and pages run on a thread pool: each thread loads its own, one per
language (`tesseract_for`, ~12 MB and a fraction of a second each), and keeps it for its lifetime.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import tesserocr
from PIL import Image, ImageOps
from tesserocr import PSM, RIL, PyTessBaseAPI

from tasks.errors import EngineError
from tasks.models import BBox, Block, Line, Word, union
from tasks.ocr.base import LineReading, OcrEngine, pixel_box
from tasks.settings import get_settings

DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"
"""Where Debian's tesseract-ocr-<language> packages put the language data."""
LINE_MARGIN = 0.25
"""A line crop gets a white border this fraction of the line's height wide (Tesseract wants white around text).
White rather than more of the page: a crop reaching into the neighbouring lines makes Tesseract 5.5's single-line
mode read nothing at all (on receipts, CER 0.34 against 0.13)."""
NATIVE_MODES = ("1", "L", "RGB")
"""Image modes handed to Tesseract as they are; any other (CMYK, 16-bit, alpha, palette) is converted to RGB."""

_this_thread = threading.local()


class TesseractWord(NamedTuple):
    """A word Tesseract read, with the paragraph and line it belongs to (numbered in reading order)."""

    text: str
    confidence: float
    """0 to 1."""
    box: tuple[int, int, int, int]
    """Pixels: left, top, right, bottom."""
    line_box: tuple[int, int, int, int]
    paragraph: int
    line: int


@lru_cache
def tessdata_dir() -> str:
    """The folder of Tesseract's language data, ending in "/": TESSDATA_PREFIX when set, else the folder the
    installed `tesseract` program reads, else Debian's. EngineError when that folder does not exist."""
    folder = os.environ.get("TESSDATA_PREFIX") or _program_tessdata() or DEBIAN_TESSDATA
    if not os.path.isdir(folder):
        raise EngineError(f"tesseract: no language data folder {folder} "
                          "(install tesseract-ocr-eng, or set TESSDATA_PREFIX to the tessdata folder)")
    return os.path.join(folder, "")


def _program_tessdata() -> str | None:
    """The folder `tesseract --list-langs` names: 'List of available languages in "/usr/share/…/tessdata/" (2):'."""
    if shutil.which("tesseract") is None:
        return None
    try:
        listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'"([^"]+)"', listing.stdout)
    return found.group(1) if found else None


def installed_languages() -> list[str]:
    return sorted(name.removesuffix(".traineddata") for name in os.listdir(tessdata_dir())
                  if name.endswith(".traineddata"))


def tesseract_for(language: str) -> PyTessBaseAPI:
    """This thread's Tesseract for `language` ("eng", "eng+deu", "osd"), loaded on first use."""
    loaded = _this_thread.__dict__.setdefault("tesseracts", {})
    key = (tessdata_dir(), language)
    if key not in loaded:
        missing = set(language.split("+")) - set(installed_languages())
        if missing:
            raise EngineError(f"tesseract has no language data for {', '.join(sorted(missing))} in {tessdata_dir()}")
        try:
            loaded[key] = PyTessBaseAPI(path=tessdata_dir(), lang=language, init=True)
        except RuntimeError as exc:
            raise EngineError(f"tesseract could not load {language}: {exc}") from exc
    return loaded[key]


def read_words(image: Image.Image, dpi: int | None, language: str, page_mode: int = PSM.AUTO) -> list[TesseractWord]:
    """The words Tesseract reads on `image`, in its reading order. dpi None: Tesseract estimates it from the text."""
    tesseract = tesseract_for(language)
    tesseract.SetPageSegMode(page_mode)
    _show(tesseract, image, dpi)
    timeout_s = get_settings().program_timeout_s
    if not tesseract.Recognize(timeout=int(timeout_s * 1000)):
        raise EngineError(f"tesseract failed, or was still reading after {timeout_s:g} s")
    return _recognised_words(tesseract)


def upright_turn(image: Image.Image, dpi: int | None) -> tuple[int, float] | None:
    """The clockwise turn (0, 90, 180 or 270) that makes the page upright, and Tesseract's confidence in it (its
    orientation detection); None when the page has too little text to tell."""
    osd = tesseract_for("osd")
    osd.SetPageSegMode(PSM.OSD_ONLY)
    _show(osd, image, dpi)
    found = osd.DetectOrientationScript()
    if found is None:
        return None
    return (360 - found["orient_deg"]) % 360, found["orient_conf"]  # orient_deg: how far the page is turned


class TesseractEngine(OcrEngine):
    name = "tesseract"

    @classmethod
    def available(cls) -> str | None:
        try:
            return None if installed_languages() else f"no language data (*.traineddata) in {tessdata_dir()}"
        except EngineError as exc:
            return str(exc)

    def version(self) -> str:
        return f"{PyTessBaseAPI.Version()} (tesserocr {tesserocr.__version__})"

    def languages(self) -> list[str]:
        return installed_languages()

    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        page = _load(image_path)
        return _blocks(read_words(page, dpi or _declared_dpi(page), language), page.width, page.height, self.name)

    def detect_lines(self, image_path: str, dpi: int | None) -> list[BBox]:
        """Tesseract's line boxes that hold at least one word, in Tesseract's reading order."""
        page = _load(image_path)
        line_boxes = {word.line: word.line_box for word in read_words(page, dpi or _declared_dpi(page), "eng")}
        return [_normalised(box, page.width, page.height) for box in line_boxes.values()]

    def recognise_lines(self, image_path: str, boxes: list[BBox], language: str,
                        dpi: int | None = None) -> list[LineReading]:
        """Each box cropped, given a white border and read as a single line, at the page's dpi when known."""
        tesseract_for(language)  # no language data: an error even without boxes
        page = _load(image_path)
        dpi = dpi or _declared_dpi(page)
        return [self._read_line(page, box, dpi, language) for box in boxes]

    def _read_line(self, page: Image.Image, box: BBox, dpi: int | None, language: str) -> LineReading:
        x0, y0, x1, y1 = pixel_box(box, page.width, page.height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return LineReading(text="", confidence=0.0, engine=self.name)
        crop = ImageOps.expand(page.crop((x0, y0, x1, y1)), round(LINE_MARGIN * (y1 - y0)), fill="white")
        words = read_words(crop, dpi, language, PSM.SINGLE_LINE)
        confidence = mean_confidence(words)
        if not confidence:  # Tesseract guessed at specks: an unreadable crop
            return LineReading(text="", confidence=0.0, engine=self.name)
        return LineReading(text=" ".join(word.text for word in words), confidence=confidence, engine=self.name,
                           char_confidences=_char_confidences(words))


def _load(image_path: str) -> Image.Image:
    try:
        with Image.open(image_path) as image:
            image.load()
    except OSError as exc:
        raise EngineError(f"tesseract: cannot read image {os.path.basename(image_path)}") from exc
    return image if image.mode in NATIVE_MODES else image.convert("RGB")


def _show(tesseract: PyTessBaseAPI, image: Image.Image, dpi: int | None) -> None:
    try:
        tesseract.SetImage(image)
    except (RuntimeError, OSError) as exc:
        raise EngineError(f"tesseract could not take the image: {exc}") from exc
    if dpi:
        tesseract.SetSourceResolution(dpi)


def _recognised_words(tesseract: PyTessBaseAPI) -> list[TesseractWord]:
    words: list[TesseractWord] = []
    iterator = tesseract.GetIterator()
    if iterator is None:
        return words
    paragraph = line = -1
    line_box = (0, 0, 0, 0)
    while not iterator.Empty(RIL.BLOCK):
        if not iterator.Empty(RIL.WORD):  # image and rule blocks hold no words
            if iterator.IsAtBeginningOf(RIL.PARA):
                paragraph += 1
            if iterator.IsAtBeginningOf(RIL.TEXTLINE):
                line, line_box = line + 1, iterator.BoundingBox(RIL.TEXTLINE)
            text = iterator.GetUTF8Text(RIL.WORD).strip()
            if text:
                confidence = min(100.0, max(0.0, iterator.Confidence(RIL.WORD))) / 100
                words.append(TesseractWord(text, confidence, iterator.BoundingBox(RIL.WORD), line_box, paragraph, line))
        if not iterator.Next(RIL.WORD):
            break
    return words


def _declared_dpi(image: Image.Image) -> int | None:
    declared = image.info.get("dpi")
    return round(declared[0]) if declared and declared[0] > 1 else None


def _blocks(words: list[TesseractWord], width: int, height: int, engine: str) -> list[Block]:
    """Words grouped into Tesseract's lines and the lines into its paragraphs (a block each), in Tesseract's order."""
    lines: dict[tuple[int, int], list[Word]] = defaultdict(list)
    for word in words:
        lines[(word.paragraph, word.line)].append(
            Word(text=word.text, bbox=_normalised(word.box, width, height), confidence=word.confidence, engine=engine)
        )
    paragraphs: dict[int, list[Line]] = defaultdict(list)
    for (paragraph, _), line_words in lines.items():
        paragraphs[paragraph].append(
            Line(text=" ".join(w.text for w in line_words), bbox=union(w.bbox for w in line_words),
                 confidence=mean_confidence(line_words), engine=engine, words=line_words)
        )
    return [Block(bbox=union(line.bbox for line in group), lines=group) for group in paragraphs.values()]


def _normalised(box: tuple[int, int, int, int], width: int, height: int) -> BBox:
    left, top, right, bottom = box
    return (left / width, top / height, right / width, bottom / height)


def _char_confidences(words: list[TesseractWord]) -> list[float]:
    """One per character of the words joined by spaces: each word's confidence for its own characters, the mean of
    the two words beside it for a space."""
    confidences = [words[0].confidence] * len(words[0].text)
    for before, word in zip(words, words[1:]):
        confidences.append((before.confidence + word.confidence) / 2)
        confidences.extend([word.confidence] * len(word.text))
    return confidences


def mean_confidence(words: Sequence[Word | TesseractWord]) -> float:
    """Word confidences weighted by word length."""
    total = sum(len(w.text) for w in words)
    return sum(w.confidence * len(w.text) for w in words) / total if total else 0.0
