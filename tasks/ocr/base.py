"""The one interface every OCR engine implements; adding an engine is one new module in this package."""
from __future__ import annotations

from abc import ABC, abstractmethod

from tasks.models import Block


class OcrEngine(ABC):
    name: str

    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def languages(self) -> list[str]: ...

    @abstractmethod
    def read_page(self, image_path: str, dpi: int | None, language: str) -> list[Block]:
        """Find and recognise the text on a page image: blocks of lines of words, boxes normalised to the image."""
