"""Reading order of a page's text blocks, by recursive XY-cut."""
from __future__ import annotations

from tasks.models import BBox, Block, Line

X_AXIS, Y_AXIS = 0, 1
"""Indexes into a bbox: (x0, y0, x1, y1)[axis] is a block's start on that axis, [axis + 2] its end."""


def reading_order(blocks: list[Block]) -> list[Block]:
    """The blocks in reading order, each with its lines top to bottom.

    Recursive XY-cut: split the blocks at the widest empty gap, either between columns (a vertical gap)
    or between rows (a horizontal gap), and order each side the same way: left before right, top before
    bottom. Two columns under a full-width header therefore read header, left column, right column.
    """
    return [block.model_copy(update={"lines": sort_lines(block.lines)}) for block in _xy_cut(blocks)]


def sort_lines(lines: list[Line]) -> list[Line]:
    """Top to bottom; lines whose middles sit within half a line height of each other read left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: _middle_y(line.bbox)):
        if rows and _middle_y(line.bbox) - _middle_y(rows[-1][0].bbox) <= _height(rows[-1][0].bbox) / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda line: line.bbox[0])]


def _xy_cut(blocks: list[Block]) -> list[Block]:
    if len(blocks) <= 1:
        return blocks
    column_gap, column_cut = _widest_gap(blocks, X_AXIS)
    row_gap, row_cut = _widest_gap(blocks, Y_AXIS)
    if max(column_gap, row_gap) <= 0:
        return sorted(blocks, key=lambda block: (block.bbox[1], block.bbox[0]))
    axis, cut = (X_AXIS, column_cut) if column_gap > row_gap else (Y_AXIS, row_cut)
    before = [block for block in blocks if block.bbox[axis + 2] <= cut]
    after = [block for block in blocks if block.bbox[axis + 2] > cut]
    return _xy_cut(before) + _xy_cut(after)


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


def _middle_y(bbox: BBox) -> float:
    return (bbox[1] + bbox[3]) / 2


def _height(bbox: BBox) -> float:
    return bbox[3] - bbox[1]
