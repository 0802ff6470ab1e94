"""Reading order of a page's text, by recursive XY-cut, and the blocks (paragraphs) of lines read in that order."""
from __future__ import annotations

from statistics import median

from tasks.models import BBox, Block, Line, union

X_AXIS, Y_AXIS = 0, 1
"""Indexes into a bbox: (x0, y0, x1, y1)[axis] is a block's start on that axis, [axis + 2] its end."""
MAX_SHARED_ROWS = 0.5
"""When more than this share of the lines on either side of a vertical gap sit on a row with a line across it, the
gap parts the cells of rows (items and prices, labels and values) and the region reads row by row, as a receipt or
a form does..."""
MIN_COLUMN_CHARACTERS = 25
"""...unless both sides are columns of prose, whose lines (the median) hold at least this many characters: set
prose aligns its lines across the gutter too, but labels, values and prices are short."""


def reading_order(blocks: list[Block]) -> list[Block]:
    """The blocks in reading order, each with its lines top to bottom.

    Recursive XY-cut: split the blocks at the widest empty gap, either between columns (a vertical gap)
    or between rows (a horizontal gap), and order each side the same way: left before right, top before
    bottom. Two columns under a full-width header therefore read header, left column, right column. A vertical
    gap that only parts the cells of rows (a narrow column of prices beside their items) does not make columns:
    such a region is cut between rows instead, or read row by row.
    """
    return [block.model_copy(update={"lines": sort_lines(block.lines)}) for block in _xy_cut(blocks)]


def order_lines(lines: list[Line]) -> list[Block]:
    """Lines (of any detector) in reading order, gathered into paragraphs: XY-cut over the lines themselves, so a
    detector's grouping cannot tangle rows and columns."""
    ordered = reading_order([Block(bbox=line.bbox, lines=[line]) for line in lines])
    return paragraphs([line for block in ordered for line in block.lines])


def paragraphs(lines: list[Line]) -> list[Block]:
    """Consecutive lines (in reading order) as blocks: a line joins the block before it when it continues the block's
    last line on the same row (a gap under two line heights: detectors that box fragments of lines), or starts the
    next row under the block (overlapping it horizontally, less than half a line height below)."""
    blocks: list[list[Line]] = []
    for line in lines:
        if blocks and _continues(blocks[-1], line):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return [Block(bbox=union(line.bbox for line in block), lines=block) for block in blocks]


def sort_lines(lines: list[Line]) -> list[Line]:
    """Top to bottom; lines whose middles sit within half a line height of each other read left to right."""
    return _row_major(lines)


def _row_major(items: list[Line] | list[Block]) -> list:
    rows: list[list] = []
    for item in sorted(items, key=lambda item: _middle_y(item.bbox)):
        if rows and _middle_y(item.bbox) - _middle_y(rows[-1][0].bbox) <= _height(rows[-1][0].bbox) / 2:
            rows[-1].append(item)
        else:
            rows.append([item])
    return [item for row in rows for item in sorted(row, key=lambda item: item.bbox[0])]


def _continues(block: list[Line], line: Line) -> bool:
    last = block[-1]
    height = min(_height(last.bbox), _height(line.bbox))
    if _same_row(last.bbox, line.bbox):
        return -height / 2 <= line.bbox[0] - last.bbox[2] < 2 * height
    left, right = min(x.bbox[0] for x in block), max(x.bbox[2] for x in block)
    gap = line.bbox[1] - last.bbox[3]  # negative where padded boxes overlap
    return line.bbox[0] < right and left < line.bbox[2] and -0.5 * height <= gap < 0.5 * height


def _xy_cut(blocks: list[Block]) -> list[Block]:
    if len(blocks) <= 1:
        return blocks
    column_gap, column_cut = _widest_gap(blocks, X_AXIS)
    row_gap, row_cut = _widest_gap(blocks, Y_AXIS)
    if max(column_gap, row_gap) <= 0:
        return _row_major(blocks)
    if column_gap > row_gap:
        left, right = _split(blocks, X_AXIS, column_cut)
        if _text_columns(left, right):
            return _xy_cut(left) + _xy_cut(right)
        if row_gap <= 0:
            return [_rows(blocks)]
    above, below = _split(blocks, Y_AXIS, row_cut)
    return _xy_cut(above) + _xy_cut(below)


def _split(blocks: list[Block], axis: int, cut: float) -> tuple[list[Block], list[Block]]:
    return ([block for block in blocks if block.bbox[axis + 2] <= cut],
            [block for block in blocks if block.bbox[axis + 2] > cut])


def _text_columns(left: list[Block], right: list[Block]) -> bool:
    """Whether a vertical gap parts columns of text (read one after the other) rather than the cells of rows."""
    left_lines = [line for block in left for line in block.lines]
    right_lines = [line for block in right for line in block.lines]
    if max(_shared_rows(left_lines, right_lines), _shared_rows(right_lines, left_lines)) <= MAX_SHARED_ROWS:
        return True
    return all(median(len(line.text) for line in side) >= MIN_COLUMN_CHARACTERS for side in (left_lines, right_lines))


def _shared_rows(lines: list[Line], across: list[Line]) -> float:
    """The share of the lines that sit on a row with a line across the gap."""
    return sum(any(_same_row(line.bbox, other.bbox) for other in across) for line in lines) / len(lines)


def _rows(blocks: list[Block]) -> Block:
    """Blocks whose lines interleave row by row, as one block read row by row."""
    lines = [line for block in blocks for line in block.lines]
    return Block(bbox=union(block.bbox for block in blocks), lines=sort_lines(lines))


def _widest_gap(blocks: list[Block], axis: int) -> tuple[float, float]:
    """(width, middle) of the widest stretch along the axis that no block covers; width 0 when none does."""
    spans = sorted((block.bbox[axis], block.bbox[axis + 2]) for block in blocks)
    widest, middle = 0.0, 0.0
    covered_to = spans[0][1]
    for start, end in spans[1:]:
        if start - covered_to > widest:
            widest, middle = start - covered_to, (start + covered_to) / 2
        covered_to = max(covered_to, end)
    return widest, middle


def _span(blocks: list[Block]) -> float:
    return max(block.bbox[2] for block in blocks) - min(block.bbox[0] for block in blocks)


def _same_row(a: BBox, b: BBox) -> bool:
    return abs(_middle_y(a) - _middle_y(b)) <= min(_height(a), _height(b)) / 2


def _middle_y(bbox: BBox) -> float:
    return (bbox[1] + bbox[3]) / 2


def _height(bbox: BBox) -> float:
    return bbox[3] - bbox[1]
