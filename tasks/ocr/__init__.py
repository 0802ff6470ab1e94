"""The OCR engines by name. Models load once per process: `get_engine` caches one instance per engine."""
from __future__ import annotations

import importlib
import threading

from tasks.errors import EngineError
from tasks.ocr.base import LineReading, OcrEngine

ENGINES: dict[str, str] = {
    "tesseract": "tasks.ocr.tesseract:TesseractEngine",
    "paddle": "tasks.ocr.paddle:PaddleEngine",
    "paddle-native": "tasks.ocr.paddle_native:PaddleNativeEngine",
    "easyocr": "tasks.ocr.easyocr:EasyOcrEngine",
}
"""Engine name → "module:class". The modules import their heavy packages lazily, so listing costs nothing."""

_instances: dict[str, OcrEngine] = {}
_load_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in ENGINES}
_engine_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in ENGINES}

__all__ = ["ENGINES", "LineReading", "OcrEngine", "available_engines", "engine_class", "engine_lock", "get_engine", "preload"]


def engine_class(name: str) -> type[OcrEngine]:
    if name not in ENGINES:
        raise EngineError(f"unknown OCR engine {name!r} (known: {', '.join(ENGINES)})")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def available_engines() -> dict[str, str | None]:
    """Every engine's name → None when it can run here, else the reason it cannot."""
    return {name: engine_class(name).available() for name in ENGINES}


def get_engine(name: str) -> OcrEngine:
    """The process's one instance of the engine (its models loaded on first use); EngineError when unavailable."""
    if name in _instances:
        return _instances[name]
    cls = engine_class(name)
    with _load_locks[name]:
        if name not in _instances:
            reason = cls.available()
            if reason is not None:
                raise EngineError(f"OCR engine {name} is not available: {reason}")
            _instances[name] = cls()
        return _instances[name]


def preload(names: list[str]) -> threading.Thread:
    """Load engines on a background thread, so their models are ready when the first line reaches them. A failure
    is left for that first real use to record."""
    def load() -> None:
        for name in names:
            try:
                get_engine(name)
            except Exception:  # noqa: BLE001, S110 - reported by the call that needs the engine
                pass

    thread = threading.Thread(target=load, name="docuforge-preload", daemon=True)
    thread.start()
    return thread


def engine_lock(name: str) -> threading.Lock:
    """Held around a model's inference: pages run on threads, and the engines' Python wrappers are not
    documented as thread-safe. Different engines still run at the same time."""
    return _engine_locks[name]
