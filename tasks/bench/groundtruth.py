"""Documents with known text, found by name next to their ground truth.

`X.gt.txt` (written by hand or by `bench degrade`) wins over `X.pdftotext.txt` (the text layer of a born-digital
PDF). Form feeds split a truth file into pages; a `.gt.txt` without one is the whole document's text.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DOCUMENT_SUFFIXES = (".pdf", ".png", ".tif", ".tiff", ".jpg", ".jpeg")
TRUTH_SUFFIXES = (".gt.txt", ".pdftotext.txt")
PAGE_BREAK = "\f"
HELD_OUT_ONE_IN = 4

Part = Literal["tune", "holdout", "all"]


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


def is_held_out(document: Path) -> bool:
    """The fixed split between the documents a change may be tuned on and those it is only reported on.

    A document is held out when `zlib.crc32(<file stem>.encode()) % 4 == 0` (about a quarter of them), else it is in
    the tuning part. The rule reads only the name, so it never changes with the folder's contents, the machine or
    the run: tune with `--part tune`, report with `--part holdout`, and never the other way round.
    """
    return zlib.crc32(document.stem.encode()) % HELD_OUT_ONE_IN == 0


def select_part(documents: list[GroundTruth], part: Part, limit: int | None = None) -> list[GroundTruth]:
    """The documents of one part (in the order given: path order from `find_documents`), the first `limit` of them."""
    chosen = [truth for truth in documents if part == "all" or is_held_out(truth.document) == (part == "holdout")]
    return chosen[:limit]
