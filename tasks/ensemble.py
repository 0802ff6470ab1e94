"""The OCR ensemble, page by page: one detection, every engine recognising the same line crops, a vote per line.

The line detector's engine finds the lines and reads them (PP-OCR's text detector by default; Tesseract's layout
pass, plus the ink it left out (`tasks.missed_text`), in fast mode or when chosen); the lines are put in reading
order (`tasks.layout.order_lines`), and the other engines read the same crops — all lines in `ensemble` mode, only
doubtful ones in `auto`. A word break the detector's engine saw at a wide gap of white survives the vote, and voted
words are boxed where its words lie. Work passes between steps as files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter
from rapidfuzz.distance import Levenshtein

from tasks.enhance import detect_orientation, enhance_page, is_blank, turn_page
from tasks.errors import as_docuforge_error
from tasks.layout import order_lines
from tasks.markdown import page_text
from tasks.missed_text import add_missed, missed_boxes
from tasks.models import BBox, Block, Job, Line, PageImage, PageSummary, ProcessOptions, Word, union
from tasks.ocr import engine_class, engine_lock, get_engine
from tasks.ocr.base import LineReading, split_words
from tasks.ocr.vote import fitted_calibration, should_escalate, vote_line
from tasks.page import PagePlan, enhanced_path, image_dir, page_result, save_page
from tasks.render import discard, render_page

UPSIDE_DOWN_SHARE = 0.5
"""A page whose lines read as turned 180° for more than this share of their width is turned over and read again."""
LEGIBLE = 0.5
"""A Tesseract reading at least this confident (per character) is of an upright page. 60 tuning scans (receipts
and forms): 54 upright pages read at 0.61 or more, 6 below 0.5; the same pages upside down at 0.13-0.34. A reading
below it goes through orientation detection, as every page did before."""
STANDING = 1.5
"""A line box this many times taller than wide stands on end (a short word or a digit alone is no taller than
about wide)."""
WIDE_GAP = 1.0
"""A gap between two words at least this many times their height is a column gap, not a space misread."""
MIN_TEXT_PIXELS = 8
"""A page image less wide or high than this holds no legible character (a 1×1 tracking pixel): it is blank."""
BLOCKS = TypeAdapter(list[Block])


class DetectedPage(BaseModel):
    """A page ready for recognition: its upright image and the detector's lines (the detection and its reading)."""

    image: PageImage
    blocks_path: str
    escalated: list[int] = Field(default_factory=list)
    """Indexes (in reading order) of the lines the recognisers read."""
    escalated_boxes: list[BBox] = Field(default_factory=list)
    escalated_texts: list[str] = Field(default_factory=list)
    """The detector engine's reading of each escalated line."""
    blank: bool = False


class EngineReadings(BaseModel):
    engine: str
    lines: list[int] = Field(default_factory=list)
    """Indexes (in reading order) of the lines read, one per reading."""
    readings: list[LineReading] = Field(default_factory=list)
    error: str | None = None


def line_detector(options: ProcessOptions) -> str:
    """The engine that finds the lines and reads them first: Tesseract in fast mode, else the chosen detector."""
    return "tesseract" if options.ocr_mode == "fast" else options.line_detector


def detect_page(job: Job, plan: PagePlan) -> DetectedPage:
    options = job.options
    image = render_page(job.document, plan.page_number, options.dpi, image_dir(job), options.limits.max_pixels,
                        options.enhance.grayscale)
    blocks_path = os.path.join(image_dir(job), f"page-{plan.page_number:04d}.lines.json")
    if min(image.width, image.height) < MIN_TEXT_PIXELS or is_blank(image.path):
        Path(blocks_path).write_bytes(BLOCKS.dump_json([]))
        return DetectedPage(image=image, blocks_path=blocks_path, blank=True)
    detector = line_detector(options)
    enhance = options.enhance.model_copy(update={"orientation": False})
    enhanced = enhance_page(image, enhance, enhanced_path(image.path))
    discard(image.path)
    blocks = get_engine(detector).read_page(enhanced.path, enhanced.dpi, options.language)
    if options.enhance.orientation:
        upright = _upright if engine_class(detector).classifies_line_orientation else _upright_by_legibility
        enhanced, blocks = upright(enhanced, blocks, detector, options.language)
    if detector == "tesseract":
        blocks = _with_missed_text(enhanced, blocks, options.language)
    blocks = order_lines([line for block in blocks for line in block.lines])
    Path(blocks_path).write_bytes(BLOCKS.dump_json(blocks))
    lines = [line for block in blocks for line in block.lines]
    escalated = [i for i, line in enumerate(lines) if _needs_others(job, line)]
    return DetectedPage(image=enhanced, blocks_path=blocks_path, escalated=escalated,
                        escalated_boxes=[lines[i].bbox for i in escalated],
                        escalated_texts=[lines[i].text for i in escalated])


def _upright(image: PageImage, blocks: list[Block], engine: str, language: str) -> tuple[PageImage, list[Block]]:
    """The page turned upright by what its lines show, and read again when turned: lines standing on end mean the
    page lies on its side (a quarter turn); then the engine's line classifier tells upright from upside down.
    Measured on real receipts, where Tesseract's orientation detection guesses (few lines of text), and cheaper."""
    detector = get_engine(engine)
    if _sideways([line.bbox for block in blocks for line in block.lines], image):
        image = turn_page(image, 90)
        blocks = detector.read_page(image.path, image.dpi, language)
    share = detector.upside_down_share(image.path, [line.bbox for block in blocks for line in block.lines])
    if share is None or share <= UPSIDE_DOWN_SHARE:
        return image, blocks
    image = turn_page(image, 180)
    return image, detector.read_page(image.path, image.dpi, language)


def _upright_by_legibility(image: PageImage, blocks: list[Block], engine: str,
                           language: str) -> tuple[PageImage, list[Block]]:
    """The page as read when its reading is legible and lies flat; else turned by Tesseract's orientation detection
    (and a reading both ways up when that is unsure) and read again. Upright pages, nearly all, are read once."""
    lines = [line for block in blocks for line in block.lines]
    if legibility(lines) >= LEGIBLE and not _sideways([line.bbox for line in lines], image):
        return image, blocks
    turn = detect_orientation(image.path, image.dpi)
    if not turn:
        return image, blocks
    image = turn_page(image, turn)
    return image, get_engine(engine).read_page(image.path, image.dpi, language)


def legibility(lines: list[Line]) -> float:
    """The lines' confidence weighted by their length in characters: 0 when nothing was read."""
    characters = sum(len(line.text) for line in lines)
    return sum(len(line.text) * line.confidence for line in lines) / characters if characters else 0.0


def _sideways(boxes: list[BBox], image: PageImage) -> bool:
    """More text runs down the page than across it: the length of the boxes standing on end against that of the
    boxes lying flat (in pixels)."""
    sizes = [((x1 - x0) * image.width, (y1 - y0) * image.height) for x0, y0, x1, y1 in boxes]
    standing = sum(height for width, height in sizes if height > STANDING * width)
    lying = sum(width for width, height in sizes if height <= STANDING * width)
    return standing > lying


def _with_missed_text(image: PageImage, blocks: list[Block], language: str) -> list[Block]:
    """Tesseract's layout plus the ink it left out, read line by line (list numbers, page numbers)."""
    boxes = missed_boxes(image.path, [line for block in blocks for line in block.lines])
    if not boxes:
        return blocks
    tesseract = get_engine("tesseract")
    return add_missed(blocks, boxes, lambda targets: tesseract.recognise_lines(image.path, targets, language,
                                                                               dpi=image.dpi))


def recognise_page(job: Job, page: DetectedPage, engine: str) -> EngineReadings:
    """One engine reads the page's escalated lines; a missing or crashing engine is recorded, not fatal."""
    if page.blank or not page.escalated:
        return EngineReadings(engine=engine)
    try:
        with engine_lock(engine):
            readings = get_engine(engine).recognise_lines(page.image.path, page.escalated_boxes, job.options.language,
                                                          dpi=page.image.dpi)
    except Exception as exc:  # noqa: BLE001 - any engine failure is recorded and the vote goes on without it
        return EngineReadings(engine=engine, error=as_docuforge_error(exc).message)
    return EngineReadings(engine=engine, lines=page.escalated, readings=readings)


def vote_page(job: Job, page: DetectedPage, others: list[EngineReadings]) -> PageSummary:
    blocks = _load_blocks(page)
    lines = [line for block in blocks for line in block.lines]
    by_line: dict[int, list[LineReading]] = {}
    for other in others:
        for index, reading in zip(other.lines, other.readings):
            by_line.setdefault(index, []).append(reading)
    for index, readings in by_line.items():
        lines[index] = _voted_line(job, lines[index], readings, page.image)
    voted = [Block(bbox=b.bbox, lines=[lines.pop(0) for _ in b.lines]) for b in blocks]
    result = page_result(page.image, "ocr", voted, page_text(voted))
    result.engine_errors = {o.engine: o.error for o in others if o.error}
    discard(page.image.path)
    discard(page.blocks_path)
    return save_page(job, result)


def _needs_others(job: Job, line: Line) -> bool:
    if job.options.ocr_mode == "ensemble":
        return True
    if job.options.ocr_mode == "fast":
        return False
    return should_escalate(_reading(line), job.options.escalate_below)


def _reading(line: Line) -> LineReading:
    return LineReading(text=line.text, confidence=line.confidence, engine=line.engine)


def _voted_line(job: Job, detected: Line, others: list[LineReading], image: PageImage) -> Line:
    voted = vote_line([_reading(detected), *others], job.options.engine_weights, fitted_calibration(),
                      firm_breaks=_wide_breaks(detected, image))
    if voted.text == detected.text:
        words = [w.model_copy(update={"confidence": c, "engine": "ensemble"})
                 for w, c in zip(detected.words, voted.word_confidences)]
    else:
        words = [w.model_copy(update={"confidence": c})
                 for w, c in zip(_voted_words(voted.text, detected), voted.word_confidences)]
    readings = [detected] + [
        Line(text=r.text, bbox=detected.bbox, confidence=r.confidence, engine=r.engine,
             words=split_words(r.text, detected.bbox, r.confidence, r.engine))
        for r in others
    ]
    return Line(text=voted.text, bbox=detected.bbox, confidence=voted.confidence, engine="ensemble", words=words,
                agreement=voted.agreement, readings=readings)


def _wide_breaks(line: Line, image: PageImage) -> list[int]:
    """Indexes of the spaces of the line's text that stand on a gap of white at least WIDE_GAP × the height of the
    words on either side (measured in pixels, between the detector's word boxes)."""
    starts = _word_starts(line)
    if starts is None:
        return []
    breaks = []
    for left, right, start in zip(line.words, line.words[1:], starts):
        gap = (right.bbox[0] - left.bbox[2]) * image.width
        height = max(left.bbox[3] - left.bbox[1], right.bbox[3] - right.bbox[1]) * image.height
        if gap >= WIDE_GAP * height:
            breaks.append(start + len(left.text))
    return breaks


def _voted_words(text: str, detected: Line) -> list[Word]:
    """The voted text's words, each boxed where the detector's reading of the same characters lies on the page
    (characters only the other engines read: the space between their neighbours). Without usable detector
    words, the line's width shared out by character count."""
    reference = _character_boxes(detected)
    if not reference:
        return split_words(text, detected.bbox, 0.0, "ensemble")
    boxes: list[BBox] = []
    for tag, src_start, src_end, dest_start, dest_end in Levenshtein.opcodes(detected.text, text):
        if tag in ("equal", "replace"):  # one character for one
            boxes.extend(reference[src_start:src_end])
        elif tag == "insert":
            before = reference[src_start - 1] if src_start else reference[0]
            after = reference[src_start] if src_start < len(reference) else reference[-1]
            between = (min(before[2], after[0]), min(before[1], after[1]), max(before[2], after[0]),
                       max(before[3], after[3]))
            boxes.extend([between] * (dest_end - dest_start))
    return [Word(text=match.group(), bbox=union(boxes[match.start() : match.end()]), confidence=0.0, engine="ensemble")
            for match in re.finditer(r"\S+", text)]


def _character_boxes(line: Line) -> list[BBox] | None:
    """A box per character of the line's text: each word's box shared out by its characters, the white between two
    words for the spaces. None where the words do not spell the text."""
    starts = _word_starts(line)
    if not starts:
        return None
    boxes: list[BBox] = []
    for index, (word, start) in enumerate(zip(line.words, starts)):
        x0, y0, x1, y1 = word.bbox
        left = line.words[index - 1].bbox if index else (x0, y0, x0, y1)  # before the first word: its left edge
        gap = (left[2], min(left[1], y0), max(left[2], x0), max(left[3], y1))
        boxes.extend([gap] * (start - len(boxes)))
        step = (x1 - x0) / len(word.text)
        boxes.extend((x0 + i * step, y0, x0 + (i + 1) * step, y1) for i in range(len(word.text)))
    return boxes


def _word_starts(line: Line) -> list[int] | None:
    """Where each of the line's words starts in its text; None unless the text is exactly the words, in order,
    separated by white space."""
    starts, position = [], 0
    for word in line.words:
        start = line.text.find(word.text, position)
        if not word.text or start < 0 or line.text[position:start].strip() or (start == position and starts):
            return None
        starts.append(start)
        position = start + len(word.text)
    return starts if position == len(line.text) and line.words else None


def _load_blocks(page: DetectedPage) -> list[Block]:
    return BLOCKS.validate_json(Path(page.blocks_path).read_bytes())
