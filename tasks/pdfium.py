"""PDFium is not thread-safe and pages run on threads: every use of it goes through this lock."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2

from tasks.errors import CorruptDocument

_lock = threading.Lock()


@contextmanager
def pdf_page(path: str, page_number: int) -> Iterator[pypdfium2.PdfPage]:
    with _lock:
        pdf = pypdfium2.PdfDocument(path)
        try:
            yield _loaded(pdf, page_number)
        finally:
            pdf.close()


def _loaded(pdf: pypdfium2.PdfDocument, page_number: int) -> pypdfium2.PdfPage:
    try:
        return pdf[page_number - 1]
    except pypdfium2.PdfiumError as exc:
        raise CorruptDocument(f"this page of the PDF is damaged and cannot be loaded (PDFium: {exc})") from exc
