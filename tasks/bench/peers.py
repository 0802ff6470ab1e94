"""Peers: what a user would run instead of Docuforge, with its defaults, in a child process of its own.

`python -m tasks.bench.peers NAME [--dpi N] FILE...` loads the peer once, reads the files one after another and
prints one JSON object (`PeerDocument`) per file and line, as soon as the file is read, so the documents read before
a crash are kept. PDFs are rendered with pdftoppm at `--dpi` for the peers that take images, one text per page.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

PDF_SUFFIX = ".pdf"

DocumentReader = Callable[[Path, int, Path], list[str]]
"""(document, dpi, scratch folder) → one text per page."""


class PeerDocument(BaseModel):
    """One line of a peer child's output."""

    document: str
    status: Literal["completed", "error", "skipped"]
    pages: list[str] = Field(default_factory=list, description="The text of each page")
    seconds: float = Field(0.0, description="Rendering (PDFs) and OCR of this document; the model load is not in it")
    error: str | None = None


@dataclass(frozen=True)
class Peer:
    name: str
    description: str
    load: Callable[[], DocumentReader] = field(repr=False)
    needs_modules: tuple[str, ...] = ()
    needs_programs: tuple[str, ...] = ()
    reads_images: bool = True
    env: dict[str, str] = field(default_factory=dict)

    def missing(self) -> str | None:
        """Why the peer cannot run here, or None when it can."""
        absent = [f"Python package {name}" for name in self.needs_modules if importlib.util.find_spec(name) is None]
        absent += [f"program {name}" for name in self.needs_programs if shutil.which(name) is None]
        return f"not installed ({', '.join(absent)})" if absent else None

    def skips(self, document: Path) -> bool:
        return not self.reads_images and document.suffix.lower() != PDF_SUFFIX


def page_images(document: Path, dpi: int, scratch: Path) -> list[Path]:
    """The image of each page: a PDF's pages rendered by pdftoppm, each frame of a multi-frame image, or the image."""
    from PIL import Image

    if document.suffix.lower() == PDF_SUFFIX:
        from pdf2image import convert_from_path

        # PPM: poppler's PNG compression would cost the peer seconds a page that are not OCR
        return [Path(path) for path in convert_from_path(document, dpi=dpi, output_folder=scratch, fmt="ppm",
                                                          paths_only=True)]
    with Image.open(document) as image:
        frames = getattr(image, "n_frames", 1)
        if frames == 1:
            return [document]
        paths = []
        for index in range(frames):
            image.seek(index)
            paths.append(scratch / f"frame-{index:04d}.png")
            image.save(paths[-1])
        return paths


def page_by_page(read_image: Callable[[Path], str]) -> DocumentReader:
    return lambda document, dpi, scratch: [read_image(page) for page in page_images(document, dpi, scratch)]


def rapidocr_reader() -> DocumentReader:
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})
    return page_by_page(lambda image: "\n".join(engine(str(image)).txts or ()))


def tesseract_reader() -> DocumentReader:
    import pytesseract
    from PIL import Image

    def read(path: Path) -> str:
        with Image.open(path) as image:
            return pytesseract.image_to_string(image)

    return page_by_page(read)


def split_form_feeds(text: str) -> list[str]:
    return text.removesuffix("\f").split("\f")


def ocrmypdf_reader() -> DocumentReader:
    def read(document: Path, dpi: int, scratch: Path) -> list[str]:
        sidecar = scratch / "sidecar.txt"
        # an image without resolution metadata is refused unless told one: the bench's --dpi
        image_dpi = [] if document.suffix.lower() == PDF_SUFFIX else ["--image-dpi", str(dpi)]
        subprocess.run(["ocrmypdf", "--quiet", "--sidecar", str(sidecar), *image_dpi, str(document),
                        str(scratch / "out.pdf")], check=True, capture_output=True, text=True)
        return split_form_feeds(sidecar.read_text(encoding="utf-8"))

    return read


def pdftotext_reader() -> DocumentReader:
    def read(document: Path, dpi: int, scratch: Path) -> list[str]:
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(document), "-"], check=True, capture_output=True,
                              text=True).stdout
        return split_form_feeds(text)

    return read


PEERS = {peer.name: peer for peer in (
    Peer("rapidocr", "PP-OCRv6 full page through rapidocr (its own detector, defaults)", rapidocr_reader,
         needs_modules=("rapidocr",), needs_programs=("pdftoppm",)),
    Peer("tesseract", "Tesseract full page: pytesseract.image_to_string with defaults", tesseract_reader,
         needs_modules=("pytesseract",), needs_programs=("tesseract", "pdftoppm"), env={"OMP_THREAD_LIMIT": "1"}),
    Peer("ocrmypdf", "OCRmyPDF with defaults, the text from its --sidecar", ocrmypdf_reader,
         needs_programs=("ocrmypdf",), env={"OMP_THREAD_LIMIT": "1"}),
    Peer("pdftotext", "pdftotext: the text layer of PDFs (images are skipped)", pdftotext_reader,
         needs_programs=("pdftotext",), reads_images=False),
)}


def read_document(peer: Peer, read: DocumentReader, document: Path, dpi: int) -> PeerDocument:
    if peer.skips(document):
        return PeerDocument(document=str(document), status="skipped", error=f"{peer.name} reads only PDFs")
    with tempfile.TemporaryDirectory(prefix=f"docuforge-peer-{peer.name}-") as scratch:
        started = time.perf_counter()
        try:
            pages = read(document, dpi, Path(scratch))
        except Exception as error:  # noqa: BLE001 — one unreadable document is that document's row, not the run's end
            detail = getattr(error, "stderr", None) or error
            return PeerDocument(document=str(document), status="error", error=f"{type(error).__name__}: {detail}")
        return PeerDocument(document=str(document), status="completed", pages=pages,
                            seconds=time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tasks.bench.peers", description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("documents", nargs="+", type=Path)
    parser.add_argument("--dpi", type=int, default=300, help="Resolution PDF pages are rendered at")
    args = parser.parse_args(argv)
    peer = PEERS[args.peer]
    read = peer.load()
    for document in args.documents:
        print(read_document(peer, read, document, args.dpi).model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
