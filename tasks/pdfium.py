"""PDFium is not thread-safe and pages run on threads: every use of it goes through this lock."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2

_lock = threading.Lock()


@contextmanager
def pdf_page(path: str, page_number: int) -> Iterator[pypdfium2.PdfPage]:
    with _lock:
        pdf = pypdfium2.PdfDocument(path)
        try:
            yield pdf[page_number - 1]
        finally:
            pdf.close()
