"""Tesseract through pytesseract: word boxes and confidences, grouped into Tesseract's paragraphs and lines."""
from __future__ import annotations

import os
import shutil
from collections import ChainMap, defaultdict
from functools import lru_cache

import pytesseract
from PIL import Image

from tasks.errors import EngineError
from tasks.models import BBox, Block, Line, Word, union
from tasks.ocr.base import LineReading, OcrEngine, pixel_box


def single_threaded_tesseract() -> None:
    """Every Tesseract that pytesseract starts in this process runs with OMP_THREAD_LIMIT=1 (unless the process's own
    environment sets it): pages run in parallel, and Tesseract's OpenMP threads spin against each other and run ~100x
    slower on a loaded 2-core machine. Only Tesseract's environment gets it: set process-wide, it also reaches the
    OpenMP of the libraries loaded here (paddle-native's oneDNN garbles lines under it).

    pytesseract (0.3.13, pinned) hands its module's `environ` to each subprocess it runs; that becomes a live view
    of os.environ with the limit as default."""
    if not isinstance(pytesseract.pytesseract.environ, ChainMap):
        pytesseract.pytesseract.environ = ChainMap(os.environ, {"OMP_THREAD_LIMIT": "1"})


single_threaded_tesseract()


LINE_MARGIN = 0.25
"""A line crop is grown by this fraction of the line's height on every side (Tesseract wants white around text)."""


class TesseractEngine(OcrEngine):
    name = "tesseract"

    @classmethod
    def available(cls) -> str | None:
        command = pytesseract.pytesseract.tesseract_cmd
        return None if shutil.which(command) else f"the {command} program is not installed"

    def version(self) -> str:
        return str(pytesseract.get_tesseract_version())

    @lru_cache
    def languages(self) -> list[str]:
        return sorted(pytesseract.get_languages(config=""))

    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        missing = set(language.split("+")) - set(self.languages())
        if missing:
            raise EngineError(f"tesseract has no language data for {', '.join(sorted(missing))}")
        config = "--psm 3" + (f" --dpi {dpi}" if dpi else "")
        with Image.open(image_path) as image:
            width, height = image.size
        try:
            data = pytesseract.image_to_data(image_path, lang=language, config=config,
                                             output_type=pytesseract.Output.DICT)
        except (pytesseract.TesseractError, OSError, RuntimeError) as exc:
            raise EngineError(f"tesseract failed: {exc}".splitlines()[0]) from exc
        return _blocks_from_data(data, width, height, self.name)

    def detect_lines(self, image_path: str, dpi: int | None) -> list[BBox]:
        """Tesseract's level-4 (line) boxes that hold at least one word, in Tesseract's reading order."""
        with Image.open(image_path) as image:
            width, height = image.size
        data = self._data(image_path, "--psm 3" + (f" --dpi {dpi}" if dpi else ""), "eng")
        with_words = {_line_key(data, i) for i, level in enumerate(data["level"])
                      if level == 5 and data["text"][i].strip()}
        return [_normalised(data["left"][i], data["top"][i], data["width"][i], data["height"][i], width, height)
                for i, level in enumerate(data["level"]) if level == 4 and _line_key(data, i) in with_words]

    def recognise_lines(self, image_path: str, boxes: list[BBox], language: str,
                        dpi: int | None = None) -> list[LineReading]:
        """Each box cropped (with a margin) and read as a single line (`--psm 7`), at the page's dpi when known."""
        self.check_language(language)
        with Image.open(image_path) as page:
            page.load()
        dpi = dpi or _declared_dpi(page)
        config = "--psm 7" + (f" --dpi {dpi}" if dpi else "")
        readings = []
        for box in boxes:
            x0, y0, x1, y1 = pixel_box(box, page.width, page.height, LINE_MARGIN)
            if x1 - x0 < 2 or y1 - y0 < 2:
                readings.append(LineReading(text="", confidence=0.0, engine=self.name))
                continue
            data = self._data(page.crop((x0, y0, x1, y1)), config, language)
            words = [Word(text=t.strip(), bbox=(0, 0, 1, 1), confidence=max(0.0, float(c)) / 100, engine=self.name)
                     for t, c, level in zip(data["text"], data["conf"], data["level"]) if level == 5 and t.strip()]
            confidence = mean_confidence(words)  # 0: Tesseract guessed at specks (an unreadable crop)
            readings.append(LineReading(text=" ".join(w.text for w in words) if confidence else "",
                                        confidence=confidence, engine=self.name))
        return readings

    @staticmethod
    def _data(image, config: str, language: str) -> dict:
        try:
            return pytesseract.image_to_data(image, lang=language, config=config, output_type=pytesseract.Output.DICT)
        except (pytesseract.TesseractError, OSError, RuntimeError) as exc:
            raise EngineError(f"tesseract failed: {exc}".splitlines()[0]) from exc


def _declared_dpi(image: Image.Image) -> int | None:
    declared = image.info.get("dpi")
    return round(declared[0]) if declared and declared[0] > 1 else None


def _line_key(data: dict, i: int) -> tuple:
    return data["block_num"][i], data["par_num"][i], data["line_num"][i]


def _blocks_from_data(data: dict, width: int, height: int, engine: str) -> list[Block]:
    """Tesseract's level-5 rows (words) grouped by paragraph and line, in Tesseract's order."""
    lines: dict[tuple, list[Word]] = defaultdict(list)
    for i, level in enumerate(data["level"]):
        text = data["text"][i].strip()
        if level != 5 or not text:
            continue
        box = _normalised(data["left"][i], data["top"][i], data["width"][i], data["height"][i], width, height)
        confidence = max(0.0, float(data["conf"][i])) / 100
        lines[(data["block_num"][i], data["par_num"][i], data["line_num"][i])].append(
            Word(text=text, bbox=box, confidence=confidence, engine=engine)
        )
    paragraphs: dict[tuple, list[Line]] = defaultdict(list)
    for (block, paragraph, _), words in lines.items():
        paragraphs[(block, paragraph)].append(
            Line(text=" ".join(w.text for w in words), bbox=union(w.bbox for w in words),
                 confidence=mean_confidence(words), engine=engine, words=words)
        )
    return [Block(bbox=union(line.bbox for line in group), lines=group) for group in paragraphs.values()]


def _normalised(left: int, top: int, w: int, h: int, width: int, height: int) -> BBox:
    return (left / width, top / height, (left + w) / width, (top + h) / height)


def mean_confidence(words: list[Word]) -> float:
    """Word confidences weighted by word length."""
    total = sum(len(w.text) for w in words)
    return sum(w.confidence * len(w.text) for w in words) / total if total else 0.0
