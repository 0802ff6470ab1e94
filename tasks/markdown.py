"""Post-processing: page text and Markdown (headings, paragraphs, lists) from blocks in reading order."""
from __future__ import annotations

import re
from statistics import median

from tasks.models import Block, Line

BULLET = re.compile(r"^\s*(?:[•·▪◦●■□‣⁃∙*]|[-–—](?=\s))\s*")
NUMBERED = re.compile(r"^\s*(\d{1,3}|[a-zA-Z])[.)]\s+")
HEADING_RATIOS = ((1.8, "#"), (1.35, "##"))


def page_text(blocks: list[Block]) -> str:
    return "\n\n".join("\n".join(line.text for line in block.lines) for block in blocks if block.lines)


def page_markdown(blocks: list[Block]) -> str:
    heights = [_height(line) for block in blocks for line in block.lines]
    if not heights:
        return ""
    body = median(heights)
    return "\n\n".join(part for block in blocks if (part := _block_markdown(block, body)))


def _height(line: Line) -> float:
    return line.bbox[3] - line.bbox[1]


def _block_markdown(block: Block, body_height: float) -> str:
    if not block.lines:
        return ""
    heading = _heading_marker(block, body_height)
    if heading:
        return f"{heading} {_join(block.lines)}"
    items, paragraph = [], []
    for line in block.lines:
        if BULLET.match(line.text) or NUMBERED.match(line.text):
            if paragraph:
                items.append(_join(paragraph))
            paragraph = [line]
        else:
            paragraph.append(line)
    items.append(_join(paragraph))
    return "\n".join(_list_item(item) for item in items if item)


def _heading_marker(block: Block, body_height: float) -> str:
    if len(block.lines) > 3 or body_height <= 0:
        return ""
    ratio = median(_height(line) for line in block.lines) / body_height
    return next((marker for threshold, marker in HEADING_RATIOS if ratio >= threshold), "")


def _list_item(text: str) -> str:
    if bullet := BULLET.match(text):
        return "- " + text[bullet.end():]
    if numbered := NUMBERED.match(text):
        return f"{numbered.group(1)}. " + text[numbered.end():]
    return text


def _join(lines: list[Line]) -> str:
    """Lines of a paragraph joined into one, mending words hyphenated across a line break."""
    text = ""
    for line in lines:
        piece = line.text.strip()
        if text.endswith("-") and piece[:1].islower():
            text = text[:-1] + piece
        else:
            text = f"{text} {piece}" if text else piece
    return text
