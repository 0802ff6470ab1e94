"""Text that page layout analysis left out: ink outside every detected line, grouped into word-sized boxes.

Tesseract's page segmentation drops small isolated text, most often the numbers of a numbered list ("2.", "3."
hanging left of their paragraphs) and page numbers. What is left on the page once the detected lines are masked out
is cheap to find with connected components; only groups of character-sized ink are kept, so rules, specks and
pictures do not come back as text.
"""
from __future__ import annotations

from collections.abc import Callable
from statistics import median

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from tasks.models import BBox, Block, Line, union
from tasks.ocr.base import LineReading, pixel_box, split_words

MASK_MARGIN = 0.15
"""Detected lines are masked out grown by this fraction of their height, so their own edges do not come back."""
CHARACTER_HEIGHT = (0.45, 1.6)
"""A component counts as a character when its height lies in this range of the page's median line height."""
JOIN_GAP = 0.8
"""Ink closer than this many line heights side by side belongs to one group (a word or a short phrase). A comma or
full stop between two groups is no character but bridges them: "62,58" is one group."""
TRAILING_PUNCTUATION = 0.4
"""A group's box reaches this many line heights past its last character (punctuation is not character-sized)."""
MAX_GROUPS = 40
"""More leftover groups than this means the rest is a picture or a chart, not missed text: none is kept."""
SAME_LINE_SIMILARITY = 0.8
"""A reading of line + group must match the line's own text this closely for its extra words to count."""
MIN_CONFIDENCE = 0.5
"""A missed group's reading is kept only from this confidence, and only when it holds a letter or a digit."""


def missed_boxes(image_path: str, lines: list[Line]) -> list[BBox]:
    """Boxes (normalised) of character-sized ink outside every line."""
    if not lines:
        return []
    page = cv2.imread(image_path, cv2.IMREAD_GRAYSCALE)
    if page is None:
        return []
    height, width = page.shape
    line_height = median(line.bbox[3] - line.bbox[1] for line in lines) * height
    _, ink = cv2.threshold(page, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    for line in lines:
        x0, y0, x1, y1 = pixel_box(line.bbox, width, height, MASK_MARGIN)
        ink[y0:y1, x0:x1] = 0
    characters = _character_mask(ink, line_height)
    if not characters.any():
        return []
    # Characters side by side join into groups; a group reaches a little past its last character, for the full
    # stop after a list number.
    reach = max(1, round(JOIN_GAP * line_height))
    joined = cv2.dilate(characters, np.ones((1, reach), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if count - 1 > MAX_GROUPS:
        return []
    trail = TRAILING_PUNCTUATION * line_height
    groups = [(x + reach // 2, y, min(width, x + w - reach // 2 + trail), y + h) for x, y, w, h, _ in stats[1:]]
    return [(x0 / width, y0 / height, x1 / width, y1 / height) for x0, y0, x1, y1 in _join_on_rows(groups, reach)]


def _join_on_rows(boxes: list[BBox], gap: float) -> list[BBox]:
    """Boxes that follow each other on a row with at most `gap` between them, joined."""
    joined: list[BBox] = []
    for box in sorted(boxes):
        middle = (box[1] + box[3]) / 2
        at = next((i for i, left in enumerate(joined)
                   if left[1] <= middle <= left[3] and box[0] - left[2] <= gap), None)
        if at is None:
            joined.append(box)
        else:
            joined[at] = union((joined[at], box))
    return joined


def _character_mask(ink: np.ndarray, line_height: float) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    low, high = CHARACTER_HEIGHT
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    keep = (heights >= low * line_height) & (heights <= high * line_height) & (widths <= 2 * line_height)
    keep[0] = False  # the background
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def add_missed(blocks: list[Block], boxes: list[BBox], read: Callable[[list[BBox]], list[LineReading]]) -> list[Block]:
    """The blocks with each readable missed group added: to the line on its row (a list number left of its item
    starts that line), or as a block of its own.

    A group beside a line is read together with that line, since a recogniser reads a lone "5." badly; what the
    reading has beyond the line's own words is the group's text.
    """
    blocks = [block.model_copy(update={"lines": list(block.lines)}) for block in blocks]
    neighbours = [_line_on_row(blocks, box) for box in boxes]
    targets = [box if at is None else union((blocks[at[0]].lines[at[1]].bbox, box))
               for box, at in zip(boxes, neighbours)]
    for box, at, reading in zip(boxes, neighbours, read(targets)):
        if reading.confidence < MIN_CONFIDENCE:
            continue
        line = None if at is None else blocks[at[0]].lines[at[1]]
        before = line is not None and box[0] < line.bbox[0]
        text, continues = (reading.text, False) if line is None else _beyond_line(reading.text, line.text, before)
        if not any(char.isalnum() for char in text):
            continue
        if continues and line.words:
            box = union((box, line.words[0 if before else -1].bbox))
        found = Line(text=text, bbox=box, confidence=reading.confidence, engine=reading.engine,
                     words=split_words(text, box, reading.confidence, reading.engine))
        if line is None:
            blocks.append(Block(bbox=box, lines=[found]))
            continue
        block = blocks[at[0]]
        block.lines[at[1]] = _merge(line, found, before, continues)
        blocks[at[0]] = block.model_copy(update={"bbox": union((block.bbox, box))})
    return blocks


def _beyond_line(reading: str, line_text: str, before: bool) -> tuple[str, bool]:
    """What a reading of line + group has beyond the line's own text, at the side the group is on, and whether the
    group continues the line's word on that side ("284." + "87"): then that word is read again in full ("284.87").
    Nothing when the rest of the reading does not match the line."""
    if before:
        text, continues = _beyond_end(reading[::-1], line_text[::-1])
        return text[::-1], continues
    return _beyond_end(reading, line_text)


def _beyond_end(reading: str, line_text: str) -> tuple[str, bool]:
    """_beyond_line for a group after the line: the reading's end past its prefix closest to the line's text."""
    end = max(range(len(reading) + 1),
              key=lambda k: (Levenshtein.normalized_similarity(reading[:k].rstrip(), line_text), k))
    if Levenshtein.normalized_similarity(reading[:end].rstrip(), line_text) < SAME_LINE_SIMILARITY:
        return "", False
    continues = 0 < end < len(reading) and not reading[end - 1].isspace() and not reading[end].isspace()
    start = end - len(reading[:end].split()[-1]) if continues else end
    return reading[start:].strip(), continues


def _line_on_row(blocks: list[Block], box: BBox) -> tuple[int, int] | None:
    """The nearest line whose vertical extent holds the box's middle and that starts or ends within two of its
    heights of the box."""
    middle = (box[1] + box[3]) / 2
    best, best_gap = None, None
    for block_index, block in enumerate(blocks):
        for line_index, line in enumerate(block.lines):
            x0, y0, x1, y1 = line.bbox
            if not y0 <= middle <= y1:
                continue
            gap = max(x0 - box[2], box[0] - x1, 0.0)
            if gap <= 2 * (y1 - y0) and (best_gap is None or gap < best_gap):
                best, best_gap = (block_index, line_index), gap
    return best


def _merge(line: Line, found: Line, before: bool, continues: bool) -> Line:
    """The line with the found words on their side; `continues`: the found words start (or end) with the line's word
    on that side read in full, which they replace."""
    text, words = line.text.split(), line.words
    if continues:
        text, words = (text[1:], words[1:]) if before else (text[:-1], words[:-1])
    texts, words = ([found.text, *text], found.words + words) if before else ([*text, found.text], words + found.words)
    return Line(text=" ".join(texts), bbox=union((line.bbox, found.bbox)),
                confidence=min(line.confidence, found.confidence), engine=line.engine, words=words)

