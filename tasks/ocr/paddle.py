"""PaddleOCR's PP-OCR models (PP-OCRv6 small detector and recogniser) on ONNX Runtime, through `rapidocr`.

The ONNX models ship inside rapidocr's wheel. They are passed to it by path (`Det/Rec/Cls.model_path`), so it
never looks for them elsewhere, and its downloader is switched off for this process: a model that is not in
the installed package is an error, never a download.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from importlib import metadata

import numpy as np

from tasks.errors import EngineError
from tasks.layout import order_lines
from tasks.models import BBox, Block, Line, Word
from tasks.ocr.base import (
    LineReading, OcrEngine, package_models_dir, pixel_box, read_image, split_words, top_to_bottom,
)

MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx",
          "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}
"""The models in rapidocr's wheel. The line classifier (180° lines) is not part of reading: it only tells whether a
page is upside down (`upside_down_share`)."""

CLASSIFIER_ASPECT = 4
"""The line classifier reads 192 × 48 pixels."""
MAX_CLASSIFIER_LINES = 24
"""upside_down_share reads at most this many lines, the longest: a form of a hundred lines tells its orientation
no better than a sample of them, and costs four times as long."""
MIN_LINE_CONFIDENCE = 0.5
"""read_page drops lines read with less confidence (rapidocr's own `text_score`): mostly specks and rules."""
LINE_MARGIN = 0.15
"""A line crop is grown by this fraction of its height on every side before recognition."""

# What PP-OCRv6's multilingual recogniser reads (rapidocr's names), as Tesseract codes.
_LANGUAGES = dict(pair.split(":") for pair in (
    "af:afr az:aze bs:bos ca:cat ch:chi_sim chinese_cht:chi_tra cs:ces cy:cym da:dan de:deu en:eng es:spa et:est "
    "eu:eus fi:fin fr:fra ga:gle gl:glg hr:hrv hu:hun id:ind is:isl it:ita japan:jpn ku:kmr la:lat lb:ltz lt:lit "
    "lv:lav mi:mri ms:msa mt:mlt nl:nld no:nor oc:oci pl:pol pt:por qu:que ro:ron rs_latin:srp_latn sk:slk sl:slv "
    "sq:sqi sv:swe sw:swa tl:tgl tr:tur uz:uzb vi:vie").split())


def _models_dir() -> str | None:
    return package_models_dir("rapidocr")


class PaddleEngine(OcrEngine):
    name = "paddle"
    classifies_line_orientation = True

    @classmethod
    def available(cls) -> str | None:
        for package in ("rapidocr", "onnxruntime"):
            if importlib.util.find_spec(package) is None:
                return f"package {package} is not installed"
        missing = [f for f in MODELS.values() if not os.path.isfile(os.path.join(_models_dir(), f))]
        return f"rapidocr's packaged models are missing: {', '.join(missing)}" if missing else None

    def __init__(self) -> None:
        from rapidocr import RapidOCR
        from rapidocr.utils.download_file import DownloadFile

        DownloadFile._make_http_request = classmethod(_refuse_download)
        params = {f"{task}.model_path": os.path.join(_models_dir(), file) for task, file in MODELS.items()}
        params.update({"Global.use_cls": False, "Global.log_level": "error"})
        self._ocr = RapidOCR(params=params)
        self._recogniser = self._ocr._load_rec_model()  # the detector loads on first use (not in the cascade)
        if not self._recogniser.session.have_key():
            raise EngineError("paddle: the recognition model carries no character list")
        self._lock = threading.Lock()  # RapidOCR keeps per-call settings on the instance

    def version(self) -> str:
        versions = f"rapidocr {metadata.version('rapidocr')}, onnxruntime {metadata.version('onnxruntime')}"
        return f"PP-OCRv6 small ({versions})"

    def languages(self) -> list[str]:
        return sorted(_LANGUAGES.values())

    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        """Lines detected on rapidocr's downscaled page, recognised from full-resolution crops (more accurate
        than rapidocr's own pipeline, which crops the downscaled page), with rapidocr's word boxes."""
        self.check_language(language)
        image = read_image(image_path, self.name, color=True)
        height, width = image.shape[:2]
        lines = []
        boxes = self._detect(image)
        for box, (reading, words) in zip(boxes, self._recognise(image, boxes, with_words=True)):
            if reading.confidence < MIN_LINE_CONFIDENCE:
                continue
            if [t for t, _, _ in words] == reading.text.split():
                words = [Word(text=t, bbox=_bbox(p, width, height), confidence=_unit(c), engine=self.name)
                         for t, c, p in words]
            else:  # rapidocr's words do not spell the line: share the line's width out by characters
                words = split_words(reading.text, box, reading.confidence, self.name)
            lines.append(Line(text=reading.text, bbox=box, confidence=reading.confidence, engine=self.name,
                              words=words))
        return order_lines(lines)

    def detect_lines(self, image_path: str, dpi: int | None) -> list[BBox]:
        return self._detect(read_image(image_path, self.name, color=True))

    def recognise_lines(self, image_path: str, boxes: list[BBox], language: str,
                        dpi: int | None = None) -> list[LineReading]:
        self.check_language(language)
        return [reading for reading, _ in self._recognise(read_image(image_path, self.name, color=True), boxes)]

    def upside_down_share(self, image_path: str, boxes: list[BBox]) -> float | None:
        image = read_image(image_path, self.name, color=True)
        height, width = image.shape[:2]
        longest = sorted(boxes, key=lambda box: box[2] - box[0], reverse=True)[:MAX_CLASSIFIER_LINES]
        pieces = [piece for x0, y0, x1, y1 in (pixel_box(box, width, height) for box in longest)
                  if x1 - x0 >= 2 and y1 - y0 >= 2 for piece in _classifier_pieces(image[y0:y1, x0:x1])]
        if not pieces:
            return None
        with self._lock:
            found = self._ocr._load_cls_model()(pieces)
        turned = sum(piece.shape[1] for piece, (label, _) in zip(pieces, found.cls_res) if "180" in label)
        return turned / sum(piece.shape[1] for piece in pieces)

    def _detect(self, image: np.ndarray) -> list[BBox]:
        height, width = image.shape[:2]
        with self._lock:
            found = self._ocr(image, use_det=True, use_cls=False, use_rec=False)
        if found.boxes is None or len(found.boxes) == 0:
            return []
        return top_to_bottom([_bbox(polygon, width, height) for polygon in found.boxes])

    def _recognise(self, image: np.ndarray, boxes: list[BBox], with_words: bool = False) -> list[tuple]:
        """(reading, words) per box; words, when asked for, are (text, confidence, quad in page pixels)."""
        from rapidocr.ch_ppocr_rec import TextRecInput

        height, width = image.shape[:2]
        results = [(LineReading(text="", confidence=0.0, engine=self.name), []) for _ in boxes]
        crops, quads, readable = [], [], []
        for i, box in enumerate(boxes):
            x0, y0, x1, y1 = pixel_box(box, width, height, LINE_MARGIN)
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                crops.append(image[y0:y1, x0:x1])
                quads.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32))
                readable.append(i)
        if not crops:
            return results
        with self._lock:
            found = self._recogniser(TextRecInput(img=crops, return_word_box=True))
            confs = [info.confs for info in found.word_results]
            words = self._ocr.cal_rec_boxes(crops, quads, found).word_results if with_words else [[]] * len(crops)
        for i, text, score, chars, line_words in zip(readable, found.txts, found.scores, confs, words):
            chars = [_unit(c) for c in chars] if len(chars) == len(text) and text == text.strip() else None
            reading = LineReading(text=text.strip(), confidence=_unit(score) if text.strip() else 0.0,
                                  engine=self.name, char_confidences=chars if text else None)
            results[i] = (reading, list(line_words))
        return results


def _classifier_pieces(crop: np.ndarray) -> list[np.ndarray]:
    """A line crop cut into pieces about as long as the line classifier's input (CLASSIFIER_ASPECT times their
    height): squeezed whole into it, a long line is often called upside down."""
    height, width = crop.shape[:2]
    count = max(1, round(width / (CLASSIFIER_ASPECT * height)))
    return [crop[:, width * i // count : width * (i + 1) // count] for i in range(count)]


def _bbox(polygon, width: int, height: int) -> BBox:
    points = np.asarray(polygon, dtype=float).reshape(-1, 2)
    (x0, y0), (x1, y1) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
    return (max(0.0, x0 / width), max(0.0, y0 / height), min(1.0, x1 / width), min(1.0, y1 / height))


def _unit(value) -> float:
    return min(1.0, max(0.0, float(value)))


def _refuse_download(cls, url: str, logger) -> None:
    raise EngineError(f"paddle: refusing to download {url}: models must come from the installed rapidocr package")
