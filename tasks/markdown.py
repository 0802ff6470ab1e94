"""Post-processing: page text and Markdown (headings, paragraphs, lists) from blocks in reading order."""
from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import median

from tasks.models import Block, Line, Table, centre_inside

BULLET = re.compile(r"^\s*(?:[•·▪◦●■□‣⁃∙*]|[-–—](?=\s))\s*")
NUMBERED = re.compile(r"^\s*(\d{1,3}|[a-zA-Z])[.)]\s+")
HEADING_RATIOS = ((1.8, "#"), (1.35, "##"))


def page_text(blocks: list[Block]) -> str:
    """Blocks apart by a blank line, lines by a line break; words hyphenated across a line break are mended, as in
    the Markdown and as `pdftotext` does for the text layer, so OCR'd and digital pages read alike."""
    return "\n\n".join(_join(block.lines, "\n") for block in blocks if block.lines)


def page_markdown(blocks: list[Block], tables: Sequence[Table] = ()) -> str:
    """Markdown of the blocks in order. A table's Markdown takes the place of the lines inside it (their text is
    in its cells), where the first of them was; a table with no line inside it goes last."""
    heights = [_height(line) for block in blocks for line in block.lines]
    body = median(heights) if heights else 0.0
    parts, placed = [], set()
    for block in blocks:
        outside: list[Line] = []
        for line in block.lines:
            table = _table_holding(line, tables)
            if table is None:
                outside.append(line)
                continue
            parts.append(_block_markdown(outside, body))
            outside = []
            if table not in placed:
                placed.add(table)
                parts.append(tables[table].markdown)
        parts.append(_block_markdown(outside, body))
    parts += [table.markdown for index, table in enumerate(tables) if index not in placed]
    return "\n\n".join(part for part in parts if part)


def _table_holding(line: Line, tables: Sequence[Table]) -> int | None:
    return next((index for index, table in enumerate(tables) if centre_inside(line.bbox, table.bbox)), None)


def _height(line: Line) -> float:
    return line.bbox[3] - line.bbox[1]


def _block_markdown(lines: list[Line], body_height: float) -> str:
    if not lines:
        return ""
    heading = _heading_marker(lines, body_height)
    if heading:
        return f"{heading} {_join(lines)}"
    items, paragraph = [], []
    for line in lines:
        if BULLET.match(line.text) or NUMBERED.match(line.text):
            if paragraph:
                items.append(_join(paragraph))
            paragraph = [line]
        else:
            paragraph.append(line)
    items.append(_join(paragraph))
    return "\n".join(_list_item(item) for item in items if item)


def _heading_marker(lines: list[Line], body_height: float) -> str:
    if len(lines) > 3 or body_height <= 0:
        return ""
    ratio = median(_height(line) for line in lines) / body_height
    return next((marker for threshold, marker in HEADING_RATIOS if ratio >= threshold), "")


def _list_item(text: str) -> str:
    if bullet := BULLET.match(text):
        return "- " + text[bullet.end():]
    if numbered := NUMBERED.match(text):
        return f"{numbered.group(1)}. " + text[numbered.end():]
    return text


def _join(lines: list[Line], separator: str = " ") -> str:
    """Lines joined into one text, mending words hyphenated across a line break."""
    text = ""
    for line in lines:
        piece = line.text.strip()
        if text.endswith("-") and text[-2:-1].isalpha() and piece[:1].islower():
            text = text[:-1] + piece
        else:
            text = f"{text}{separator}{piece}" if text else piece
    return text
