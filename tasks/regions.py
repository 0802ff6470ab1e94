"""Tables and figures on a page: which digital pages are worth the layout models' time, and what they find there.

The gate: the layout model costs ≈0.3 s of CPU a page, ten times what reading a text layer does, so on a digital
page it runs only where something besides running text is on the page: a bitmap (a figure), a few vector paths
(cell borders, rules, shading, charts) or text set in aligned columns (a table drawn without rules). It looks only
at what reading the text layer already gave: the words and one pass over the page's objects. Scanned pages cost
seconds of OCR each, and the models always look at them.
"""
from __future__ import annotations

import os
import re
from collections import Counter

import cv2

from tasks.enhance import turn_upright
from tasks.errors import CorruptDocument, InternalError, as_docuforge_error
from tasks.figures import MIN_AREA, crop_figure, figure_caption, find_figures_digital, find_figures_image
from tasks.markdown import page_markdown
from tasks.models import BBox, Document, Figure, PageResult, ProcessOptions, Table, Word
from tasks.render import discard, render_page
from tasks.tables import find_tables_digital, find_tables_image
from tasks.textlayer import PageGraphics, large

MIN_PATHS = 4
"""A page drawing at least this many vector paths may hold a ruled table or a chart (a header rule does not)."""

MIN_COLUMN_ROWS = 3
"""A page with at least this many rows of text whose columns start (or end) at the same place may hold a table."""

COLUMN_GAP = 1.0
"""Words further apart than this many times their row's height are in different columns."""

COLUMN_TOLERANCE = 0.01
"""Column edges this close (share of the page width) are aligned."""

NARROW_COLUMN = 0.3
"""A row counts only if one of its columns is narrower than this share of the page (two columns of prose do not)."""

LIST_MARKER = re.compile(r"[•·▪◦●■□‣⁃∙*\-–—]|\(?\d{1,3}[.)]|[a-zA-Z][.)]")
"""A column holding only this is a list's bullet or number, not a table column."""

RULE_READ_AS_TEXT = re.compile(r"[|¦]+")
"""OCR reads a table's vertical rules as words like this; they are not cell text."""

REGION_DPI = 150
"""Figure crops are rendered at this resolution, and scanned pages for the layout models (which shrink them
further)."""


def may_hold_regions(words: list[Word], graphics: PageGraphics) -> bool:
    """The gate: whether a digital page may hold a table or a figure."""
    return (bool(large(graphics.images, MIN_AREA)) or graphics.paths >= MIN_PATHS
            or aligned_rows(words) >= MIN_COLUMN_ROWS)


def aligned_rows(words: list[Word]) -> int:
    """The most rows of text with a column (other than a row's first) starting, or ending, at the same place."""
    edges: dict[str, list[tuple[float, int]]] = {"left": [], "right": []}
    for index, row in enumerate(_rows(words)):
        columns = [column for column in _columns(row) if not LIST_MARKER.fullmatch(column[0])]
        if len(columns) < 2 or min(x1 - x0 for _, x0, x1 in columns) >= NARROW_COLUMN:
            continue
        for _, x0, x1 in columns[1:]:
            edges["left"].append((x0, index))
            edges["right"].append((x1, index))
    return max(_most_at_one_place(found) for found in edges.values())


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words whose middles sit within half a word height of the row's first word, left to right."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=_middle):
        if rows and abs(_middle(word) - _middle(rows[-1][0])) <= (rows[-1][0].bbox[3] - rows[-1][0].bbox[1]) / 2:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [sorted(row, key=lambda w: w.bbox[0]) for row in rows]


def _middle(word: Word) -> float:
    return (word.bbox[1] + word.bbox[3]) / 2


def _columns(row: list[Word]) -> list[tuple[str, float, float]]:
    """A row's runs of words split at wide gaps: (text, x0, x1)."""
    height = max(w.bbox[3] - w.bbox[1] for w in row)
    columns = [[row[0].text, row[0].bbox[0], row[0].bbox[2]]]
    for word in row[1:]:
        if word.bbox[0] - columns[-1][2] > COLUMN_GAP * height:
            columns.append([word.text, word.bbox[0], word.bbox[2]])
        else:
            columns[-1][0] += " " + word.text
            columns[-1][2] = max(columns[-1][2], word.bbox[2])
    return [tuple(column) for column in columns]


def _most_at_one_place(edges: list[tuple[float, int]]) -> int:
    """The most distinct rows with an edge inside one window COLUMN_TOLERANCE wide."""
    edges = sorted(edges)
    rows: Counter[int] = Counter()
    best, start = 0, 0
    for x, row in edges:
        rows[row] += 1
        while x - edges[start][0] > COLUMN_TOLERANCE:
            rows[edges[start][1]] -= 1
            if not rows[edges[start][1]]:
                del rows[edges[start][1]]
            start += 1
        best = max(best, len(rows))
    return best


def digital_regions(page: PageResult, pdf_path: str, crops_dir: str, options: ProcessOptions) -> PageResult:
    """A digital page with its tables (cell text from the text layer) and figures, as `options` ask."""
    try:
        tables = find_tables_digital(pdf_path, page.page_number) if options.tables else []
        boxes = find_figures_digital(pdf_path, page.page_number, tables) if options.figures else []
        return _with_regions(page, pdf_path, tables, boxes, crops_dir)
    except Exception as exc:  # noqa: BLE001 - the page keeps its text; the failure is recorded on it
        return _search_failed(page, exc)


def scanned_regions(page: PageResult, document: Document, work_dir: str, crops_dir: str,
                    options: ProcessOptions) -> PageResult:
    """An OCR'd page with its tables and figures, as `options` ask. The page is rendered again and turned as the
    OCR turned it, so its words (boxes normalised to the upright page) give the cell text; nothing is read again.

    Cell text comes from each line's detector reading: its word boxes are measured, where a voted line whose text
    changed has its words spread evenly over the line, which puts words in the wrong cells."""
    try:
        image = upright_page(document, page, work_dir, options.limits.max_pixels)
        try:
            words = [word for block in page.blocks for line in block.lines
                     for word in (line.readings[0] if line.readings else line).words
                     if not RULE_READ_AS_TEXT.fullmatch(word.text)]
            tables = find_tables_image(image, words=words, page_number=page.page_number) if options.tables else []
            boxes = find_figures_image(image, tables) if options.figures else []
            return _with_regions(page, image, tables, boxes, crops_dir)
        finally:
            discard(image)
    except Exception as exc:  # noqa: BLE001 - the page keeps its text; the failure is recorded on it
        return _search_failed(page, exc)


def upright_page(document: Document, page: PageResult, work_dir: str, max_pixels: int) -> str:
    """The page rendered at REGION_DPI (in colour) and turned by the rotation and skew its OCR found."""
    rendered = render_page(document, page.page_number, REGION_DPI, work_dir, max_pixels, grayscale=False)
    image = cv2.imread(rendered.path, cv2.IMREAD_COLOR)
    discard(rendered.path)
    if image is None:
        raise CorruptDocument(f"page {page.page_number}: cannot read its rendering")
    target = os.path.join(work_dir, f"page-{page.page_number:05d}.upright.ppm")
    if not cv2.imwrite(target, turn_upright(image, page.rotation, page.skew_deg)):
        raise InternalError(f"could not write {target}")
    return target


def _with_regions(page: PageResult, source_path: str, tables: list[Table], boxes: list[BBox],
                  crops_dir: str) -> PageResult:
    lines = [line for block in page.blocks for line in block.lines]
    number = page.page_number
    figures = [Figure(bbox=box, caption=figure_caption(lines, box),
                      crop_path=crop_figure(source_path, box, crops_dir, page_number=number, dpi=REGION_DPI,
                                            name=f"page-{number:05d}-figure-{index}.png"))
               for index, box in enumerate(boxes)]
    return page.model_copy(update={"tables": tables, "figures": figures,
                                   "markdown": page_markdown(page.blocks, tables)})


def _search_failed(page: PageResult, exc: Exception) -> PageResult:
    return page.model_copy(update={"engine_errors": page.engine_errors | {"layout": as_docuforge_error(exc).message}})
