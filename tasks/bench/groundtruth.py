"""Documents with known text, found by name next to their ground truth.

`X.gt.txt` (written by hand or by `bench degrade`) wins over `X.pdftotext.txt` (the text layer of a born-digital
PDF). Form feeds split a truth file into pages; a `.gt.txt` without one is the whole document's text.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DOCUMENT_SUFFIXES = (".pdf", ".png", ".tif", ".tiff", ".jpg", ".jpeg")
TRUTH_SUFFIXES = (".gt.txt", ".pdftotext.txt")
PAGE_BREAK = "\f"


@dataclass(frozen=True)
class GroundTruth:
    document: Path
    truth_file: Path
    text: str
    pages: tuple[str, ...] | None
    """One text per page, when the truth is split into pages; None when it only covers the whole document."""


def split_pages(text: str) -> list[str]:
    """Text with pages separated (pdftotext: terminated) by form feeds → one text per page."""
    return text.rstrip("\n").removesuffix(PAGE_BREAK).split(PAGE_BREAK)


def read_truth(document: Path, truth_file: Path) -> GroundTruth:
    raw = truth_file.read_text(encoding="utf-8")
    if PAGE_BREAK in raw or truth_file.name.endswith(".pdftotext.txt"):
        pages = tuple(split_pages(raw))
        return GroundTruth(document, truth_file, "\n".join(pages), pages)
    return GroundTruth(document, truth_file, raw, None)


def truth_file_for(document: Path) -> Path | None:
    candidates = (document.with_name(document.stem + suffix) for suffix in TRUTH_SUFFIXES)
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def find_documents(directory: Path) -> list[GroundTruth]:
    """Every document under `directory` (recursively) that has a ground-truth file, in path order."""
    found = []
    for document in sorted(directory.rglob("*")):
        if document.suffix.lower() not in DOCUMENT_SUFFIXES or not document.is_file():
            continue
        if truth_file := truth_file_for(document):
            found.append(read_truth(document, truth_file))
    return found
