"""Scanned versions of born-digital PDFs with exact ground truth: pages rendered, degraded and saved as images only.

Pages go through one at a time (render → degrade → single-page PDF on disk), so memory stays flat however long
the document; `pdfunite` joins the pages at the end. Every page's degradation is seeded from (seed, kind, page
index), so the same arguments always give the same pixels.
"""
from __future__ import annotations

import subprocess
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from pdf2image import convert_from_path
from PIL import Image

from tasks.bench.groundtruth import PAGE_BREAK, split_pages
from tasks.errors import EmptyDocument

Degradation = Callable[[np.ndarray, np.random.Generator, int], np.ndarray]
"""(grayscale page, random generator, dpi) → degraded grayscale page."""

BLUR_SIGMA_PX_AT_300_DPI = 1.5
NOISE_SIGMA = 25
LOW_DPI = 100
JPEG_QUALITY = 25
STORED_JPEG_QUALITY = 75
"""Each page is stored as a JPEG of a scanner's usual quality: its artifacts are slight next to the degradations."""


def blur(page: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    return cv2.GaussianBlur(page, (0, 0), sigmaX=BLUR_SIGMA_PX_AT_300_DPI * dpi / 300)


def noise(page: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    noisy = page + rng.standard_normal(page.shape, dtype=np.float32) * NOISE_SIGMA
    return np.clip(noisy, 0, 255).astype(np.uint8)


def skew(page: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    """Turned by 1–3° either way onto a white canvas large enough to keep every corner (and so all the text)."""
    angle = rng.uniform(1, 3) * rng.choice((-1, 1))
    height, width = page.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width, new_height = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += (new_width - width) / 2
    matrix[1, 2] += (new_height - height) / 2
    return cv2.warpAffine(page, matrix, (new_width, new_height), flags=cv2.INTER_LINEAR, borderValue=255)


def jpeg(page: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    _, encoded = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)


def low_dpi(page: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    """Down to LOW_DPI and back up: the detail a low-resolution scan never had."""
    scale = min(1.0, LOW_DPI / dpi)
    small = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_LINEAR)


def clean(page: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    return page


DEGRADATIONS: dict[str, Degradation] = {
    "clean": clean, "blur": blur, "noise": noise, "skew": skew, "jpeg": jpeg, "lowdpi": low_dpi,
}
DEFAULT_KINDS = ("blur", "noise", "skew", "jpeg", "lowdpi")


def page_rng(seed: int, kind: str, page_index: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(kind.encode()), page_index])


def source_page_texts(pdf: Path, max_pages: int | None = None) -> list[str]:
    """The text layer of each page, exactly as pdftotext gives it."""
    last_page = ["-l", str(max_pages)] if max_pages else []
    result = subprocess.run(
        ["pdftotext", "-q", "-enc", "UTF-8", *last_page, str(pdf), "-"], capture_output=True, check=True, timeout=600
    )
    return split_pages(result.stdout.decode("utf-8"))


def render_page(pdf: Path, page_number: int, dpi: int) -> np.ndarray:
    [image] = convert_from_path(pdf, dpi=dpi, first_page=page_number, last_page=page_number, grayscale=True)
    return np.asarray(image)


def write_image_pdf(page: np.ndarray, target: Path, dpi: int) -> None:
    Image.fromarray(page).save(target, "PDF", resolution=dpi, quality=STORED_JPEG_QUALITY)


def join_pdfs(parts: Sequence[Path], target: Path) -> None:
    subprocess.run(["pdfunite", *map(str, parts), str(target)], capture_output=True, check=True, timeout=600)


def degraded_name(source: Path, kind: str, suffix: str) -> str:
    return f"{source.stem}.{kind}{suffix}"


def degrade_pdf(
    source: Path,
    out_dir: Path,
    kinds: Sequence[str] = DEFAULT_KINDS,
    dpi: int = 300,
    max_pages: int | None = None,
    repeat: int = 1,
    seed: int = 0,
) -> list[Path]:
    """Write `<stem>.<kind>.pdf` and its `<stem>.<kind>.gt.txt` for each kind; returns the PDFs written.

    The document is the source's first `max_pages` pages, `repeat` times over.
    """
    unknown = set(kinds) - DEGRADATIONS.keys()
    if unknown:
        raise ValueError(f"unknown degradation(s) {sorted(unknown)}; known: {sorted(DEGRADATIONS)}")
    texts = source_page_texts(source, max_pages)
    if not "".join(texts).strip():
        raise EmptyDocument(f"{source} has no text layer to serve as ground truth")
    page_numbers = list(range(1, len(texts) + 1)) * repeat
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".degrade-") as work:
        parts: dict[str, list[Path]] = {kind: [] for kind in kinds}
        for index, page_number in enumerate(page_numbers):
            page = render_page(source, page_number, dpi)
            for kind in kinds:
                part = Path(work, f"{kind}-{index:06d}.pdf")
                write_image_pdf(DEGRADATIONS[kind](page, page_rng(seed, kind, index), dpi), part, dpi)
                parts[kind].append(part)
        truth = "".join(texts[number - 1] + PAGE_BREAK for number in page_numbers)
        for kind in kinds:
            join_pdfs(parts[kind], out_dir / degraded_name(source, kind, ".pdf"))
            (out_dir / degraded_name(source, kind, ".gt.txt")).write_text(truth, encoding="utf-8")
    return [out_dir / degraded_name(source, kind, ".pdf") for kind in kinds]
