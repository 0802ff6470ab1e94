"""Render one page at a time to an image file in the job's work area (never all pages in memory).

Work-area images are uncompressed PNM (.pgm/.ppm): poppler's PNG compression costs ~4 s a page at 300 dpi,
and the files live only until the page is read.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPopplerTimeoutError
from PIL import Image, ImageOps

from tasks.errors import CorruptDocument, ResourceLimit
from tasks.programs import run_program
from tasks.fetch import PIL_READ_ERRORS
from tasks.models import MIN_DPI, BBox, Document, PageImage
from tasks.pdfium import pdf_page
from tasks.settings import get_settings

PDF = "application/pdf"


def render_page(document: Document, page_number: int, dpi: int, out_dir: str, max_pixels: int,
                grayscale: bool = True) -> PageImage:
    os.makedirs(out_dir, exist_ok=True)
    stem = f"page-{page_number:04d}"
    if document.mime_type == PDF:
        return _render_pdf_page(document.local_path, page_number, dpi, out_dir, stem, max_pixels, grayscale)
    return _extract_image_frame(document.local_path, page_number, out_dir, stem, grayscale)


def _render_pdf_page(path: str, page_number: int, dpi: int, out_dir: str, stem: str, max_pixels: int,
                     grayscale: bool) -> PageImage:
    dpi = min(dpi, _dpi_within(path, page_number, max_pixels))
    try:
        (image_path,) = convert_from_path(
            path, dpi=dpi, first_page=page_number, last_page=page_number, output_folder=out_dir,
            output_file=stem, fmt="ppm", single_file=True, paths_only=True, grayscale=grayscale,
            timeout=get_settings().program_timeout_s,
        )
    except PDFPopplerTimeoutError as exc:
        raise ResourceLimit(f"page {page_number}: rendering took longer than "
                            f"{get_settings().program_timeout_s:g} s") from exc
    except Exception as exc:
        raise CorruptDocument(f"page {page_number} cannot be rendered: {exc}".splitlines()[0]) from exc
    with Image.open(image_path) as image:
        width, height = image.size
    return PageImage(page_number=page_number, path=image_path, dpi=dpi, width=width, height=height)


def discard(path: str) -> None:
    """A work-area file is removed once read, unless the work area is kept (DOCUFORGE_KEEP_WORK)."""
    if not get_settings().keep_work:
        Path(path).unlink(missing_ok=True)


def render_region(pdf_path: str, page_number: int, region: BBox, dpi: int, out_path: str) -> PageImage:
    """Only a region of a PDF page (normalised box), e.g. a picture on a digital page; out_path ends in .pgm."""
    width_pt, height_pt = page_size(pdf_path, page_number)
    scale = dpi / 72
    x, y = round(region[0] * width_pt * scale), round(region[1] * height_pt * scale)
    w, h = round((region[2] - region[0]) * width_pt * scale), round((region[3] - region[1]) * height_pt * scale)
    command = ["pdftoppm", "-q", "-r", str(dpi), "-f", str(page_number), "-l", str(page_number), "-x", str(x),
               "-y", str(y), "-W", str(max(w, 1)), "-H", str(max(h, 1)), "-gray", "-singlefile",
               pdf_path, out_path.removesuffix(".pgm")]
    result = run_program(command, f"page {page_number}'s region")
    if result.returncode != 0:
        raise CorruptDocument(f"page {page_number}: a region cannot be rendered (pdftoppm exit {result.returncode})")
    return PageImage(page_number=page_number, path=out_path, dpi=dpi, width=w, height=h)


def page_size(pdf_path: str, page_number: int) -> tuple[float, float]:
    """Width and height in points, as displayed (after /Rotate)."""
    with pdf_page(pdf_path, page_number) as page:
        return page.get_size()


def _dpi_within(path: str, page_number: int, max_pixels: int) -> int:
    """The highest resolution at which the page stays under the pixel limit (huge pages get less, down to
    MIN_DPI)."""
    width_pt, height_pt = page_size(path, page_number)
    dpi = int(72 * math.sqrt(max_pixels / max(width_pt * height_pt, 1.0)))
    if dpi < MIN_DPI:
        pixels = round(width_pt * height_pt * (MIN_DPI / 72) ** 2)
        raise ResourceLimit(
            f"the page is {width_pt / 72:,.0f} × {height_pt / 72:,.0f} inches: even at {MIN_DPI} dpi, the"
            f" least worth reading, it would be {pixels:,} pixels, over the limit of {max_pixels:,}"
        )
    return dpi


def _extract_image_frame(path: str, page_number: int, out_dir: str, stem: str, grayscale: bool) -> PageImage:
    with Image.open(path) as image:
        try:
            image.seek(page_number - 1)
            image.load()
        except PIL_READ_ERRORS as exc:
            raise CorruptDocument(f"the image data is damaged or cut short and cannot be decoded ({exc})") from exc
        dpi = _image_dpi(image)
        frame = ImageOps.exif_transpose(image)
        frame = frame.convert("L" if grayscale else "RGB")
        target = os.path.join(out_dir, f"{stem}.{'pgm' if grayscale else 'ppm'}")
        frame.save(target)
        return PageImage(page_number=page_number, path=target, dpi=dpi, width=frame.width, height=frame.height)


def _image_dpi(image: Image.Image) -> int | None:
    """The resolution the image declares; None when it declares none (OCR then estimates it from text height)."""
    declared = image.info.get("dpi")
    if not declared:
        return None
    value = round(float(declared[0]))
    return value if value >= 50 else None
