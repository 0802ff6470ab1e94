"""The one interface every OCR engine implements; adding an engine is one new module in this package.

"One detection, many recognisers": `detect_lines` finds the text lines of a page once, and every engine's
`recognise_lines` reads the same boxes, so the readings of a line can be aligned and voted on.
"""
from __future__ import annotations

import importlib.util
import math
import os
from abc import ABC, abstractmethod
from typing import ClassVar

import cv2
import numpy as np

from pydantic import BaseModel, Field

from tasks.errors import EngineError
from tasks.models import BBox, Block, Word


def read_image(image_path: str, engine: str, *, color: bool) -> np.ndarray:
    """A page or crop image as the engine's models want it; an unreadable file is that engine's error."""
    image = cv2.imread(image_path, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise EngineError(f"{engine}: cannot read image {os.path.basename(image_path)}")
    return image


def package_models_dir(package: str) -> str | None:
    """The `models` folder shipped inside an installed package, or None when the package is not installed."""
    spec = importlib.util.find_spec(package)
    return os.path.join(spec.submodule_search_locations[0], "models") if spec else None


class LineReading(BaseModel):
    """One engine's reading of one line crop."""

    text: str
    confidence: float = Field(ge=0, le=1)
    engine: str
    char_confidences: list[float] | None = None
    """One confidence per character of `text`, when the engine gives them."""


class OcrEngine(ABC):
    """Instances hold loaded models: create one per process (`tasks.ocr.get_engine`) and reuse it."""

    name: ClassVar[str]
    classifies_line_orientation: ClassVar[bool] = False
    """Whether `upside_down_share` answers: the engine then turns pages upright itself (see tasks.ensemble)."""

    @classmethod
    def available(cls) -> str | None:
        """None when the engine can run here, else why not (e.g. "package rapidocr is not installed")."""
        return None

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def languages(self) -> list[str]:
        """The languages it reads, as Tesseract codes ("eng", "deu", ...)."""

    @abstractmethod
    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        """Find and recognise the text on a page image: blocks of lines of words, boxes normalised to the image."""

    @abstractmethod
    def detect_lines(self, image_path: str, dpi: int | None) -> list[BBox]:
        """The text lines on a page image, normalised boxes (origin top-left), top to bottom."""

    @abstractmethod
    def recognise_lines(self, image_path: str, boxes: list[BBox], language: str,
                        dpi: int | None = None) -> list[LineReading]:
        """One reading per box, in the same order; "" with confidence 0 for a crop it cannot read.
        `dpi`: the page's resolution when known (engines that need it use it; the others ignore it)."""

    def upside_down_share(self, image_path: str, boxes: list[BBox]) -> float | None:
        """The share of the lines (weighted by width) that read as turned 180°, for an engine with a line
        orientation classifier; None for the others."""
        return None

    def check_language(self, language: str) -> None:
        missing = set(language.split("+")) - set(self.languages())
        if missing:
            raise EngineError(f"{self.name} has no model for {', '.join(sorted(missing))}")


def pixel_box(box: BBox, width: int, height: int, margin: float = 0.0) -> tuple[int, int, int, int]:
    """A normalised box as pixel bounds (x0, y0, x1, y1) inside the image, grown by `margin` × its height."""
    pad = margin * (box[3] - box[1]) * height
    return (max(0, math.floor(box[0] * width - pad)), max(0, math.floor(box[1] * height - pad)),
            min(width, math.ceil(box[2] * width + pad)), min(height, math.ceil(box[3] * height + pad)))


def top_to_bottom(boxes: list[BBox]) -> list[BBox]:
    """Rows top to bottom (boxes whose middles lie within half a line height form a row), each left to right."""
    rows: list[list[BBox]] = []
    for box in sorted(boxes, key=_middle_y):
        if rows and _middle_y(box) - _middle_y(rows[-1][0]) <= (rows[-1][0][3] - rows[-1][0][1]) / 2:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [box for row in rows for box in sorted(row)]


def split_words(text: str, box: BBox, confidence: float, engine: str) -> list[Word]:
    """Word boxes for an engine that boxes only lines: the line's width shared out by character count."""
    words = text.split()
    if not words:
        return []
    step = (box[2] - box[0]) / max(1, len(text))
    result, start = [], 0
    for word in words:
        start = text.index(word, start)
        x0 = box[0] + start * step
        result.append(Word(text=word, bbox=(x0, box[1], x0 + len(word) * step, box[3]),
                           confidence=confidence, engine=engine))
        start += len(word)
    return result


def _middle_y(box: BBox) -> float:
    return (box[1] + box[3]) / 2
