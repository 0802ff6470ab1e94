import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tasks.missed_text import add_missed, missed_boxes
from tasks.models import Block, Line, Word
from tasks.ocr import get_engine
from tasks.ocr.base import LineReading


@pytest.fixture(scope="module")
def numbered_list_page(benchmarks, tmp_path_factory):
    """Page 4 of the essay: a numbered list whose numbers hang left of their items; Tesseract's layout keeps "1."
    and drops 2 to 5."""
    prefix = tmp_path_factory.mktemp("page") / "page"
    subprocess.run(["pdftoppm", "-r", "300", "-f", "4", "-l", "4", "-singlefile", "-gray", "-png",
                    str(benchmarks / "pdfs/born_digital/multi_page.pdf"), str(prefix)], check=True)
    return f"{prefix}.png"


def _lines(blocks: list[Block]) -> list[str]:
    return [line.text for block in blocks for line in block.lines]


def test_list_numbers_left_out_by_the_layout_are_read_into_their_lines(numbered_list_page):
    tesseract = get_engine("tesseract")
    blocks = tesseract.read_page(numbered_list_page, 300, "eng")
    assert not any(text.startswith("2. Integration") for text in _lines(blocks))

    boxes = missed_boxes(numbered_list_page, [line for block in blocks for line in block.lines])
    completed = add_missed(blocks, boxes, lambda targets: tesseract.recognise_lines(numbered_list_page, targets, "eng",
                                                                                    dpi=300))

    starts = [text.split(":")[0] for text in _lines(completed) if text[:1].isdigit()]
    assert starts == ["1.", "2. Integration with Other Tools", "3. Voice Typing", "4. Multimedia Documents",
                      "5. Cross-Platform Accessibility"]
    assert len(_lines(completed)) == len(_lines(blocks))  # joined to their lines, not added as lines of their own


def test_pictures_and_specks_are_not_taken_for_missed_text(tmp_path):
    rng = np.random.default_rng(0)
    page = np.full((1200, 1000), 255, np.uint8)
    for _ in range(300):  # a scatter plot's markers: many small blobs, as tall as the text
        x, y = rng.integers(50, 950), rng.integers(300, 1150)
        cv2.circle(page, (int(x), int(y)), 8, 0, -1)
    cv2.putText(page, "Some text on a line", (50, 100), cv2.FONT_HERSHEY_SIMPLEX, 1, 0, 2)
    path = str(tmp_path / "page.png")
    cv2.imwrite(path, page)
    text_line = Line(text="Some text on a line", bbox=(0.04, 0.06, 0.4, 0.09), confidence=0.9, engine="tesseract")

    assert missed_boxes(path, [text_line]) == []
    assert missed_boxes(path, []) == []


def test_a_group_off_every_line_becomes_a_block_and_unreadable_ones_are_dropped():
    line = Line(text="Total due", bbox=(0.1, 0.1, 0.3, 0.12), confidence=0.9, engine="tesseract")
    page_number, speck = (0.48, 0.95, 0.52, 0.97), (0.8, 0.5, 0.81, 0.51)
    readings = {page_number: LineReading(text="12", confidence=0.9, engine="tesseract"),
                speck: LineReading(text=".,", confidence=0.9, engine="tesseract")}

    blocks = add_missed([Block(bbox=line.bbox, lines=[line])], [page_number, speck],
                        lambda targets: [readings[target] for target in targets])

    assert [_lines([block]) for block in blocks] == [["Total due"], ["12"]]
    assert blocks[1].bbox == page_number


def test_a_reading_that_does_not_match_its_line_adds_nothing():
    line = Line(text="Voice Typing: Speech", bbox=(0.2, 0.5, 0.8, 0.52), confidence=0.9, engine="tesseract")
    marker = (0.18, 0.5, 0.195, 0.52)

    blocks = add_missed([Block(bbox=line.bbox, lines=[line])], [marker],
                        lambda targets: [LineReading(text="3. Something else entirely", confidence=0.9,
                                                     engine="tesseract")])

    assert _lines(blocks) == ["Voice Typing: Speech"]


def test_a_group_that_continues_the_lines_last_word_completes_that_word():
    """Tesseract's layout cut "284.87" at the right edge of a receipt to "284."; the cents come back as a group that
    the reading of line + group shows to be the end of that word, not a word of its own."""
    words = [Word(text=text, bbox=(x0, 0.79, x1, 0.81), confidence=0.95, engine="tesseract")
             for text, x0, x1 in (("TOTAL", 0.09, 0.19), ("£", 0.75, 0.77), ("284.", 0.79, 0.86))]
    line = Line(text="TOTAL £ 284.", bbox=(0.09, 0.79, 0.86, 0.81), confidence=0.95, engine="tesseract", words=words)
    cents = (0.872, 0.79, 0.92, 0.81)

    blocks = add_missed([Block(bbox=line.bbox, lines=[line])], [cents],
                        lambda targets: [LineReading(text="TOTAL £ 284.87", confidence=0.9, engine="tesseract")])

    completed = blocks[0].lines[0]
    assert len(blocks) == 1 and len(blocks[0].lines) == 1
    assert completed.text == "TOTAL £ 284.87"
    assert [w.text for w in completed.words] == ["TOTAL", "£", "284.87"]
    assert completed.words[-1].bbox == (0.79, 0.79, 0.92, 0.81)  # the citation covers the whole amount
    assert completed.bbox == (0.09, 0.79, 0.92, 0.81)


def test_a_group_before_the_line_that_starts_its_first_word_completes_it():
    line = Line(text="2 Main Street", bbox=(0.3, 0.2, 0.6, 0.22), confidence=0.9, engine="tesseract",
                words=[Word(text=text, bbox=(x0, 0.2, x1, 0.22), confidence=0.9, engine="tesseract")
                       for text, x0, x1 in (("2", 0.3, 0.32), ("Main", 0.34, 0.45), ("Street", 0.47, 0.6))])
    digit = (0.28, 0.2, 0.299, 0.22)

    blocks = add_missed([Block(bbox=line.bbox, lines=[line])], [digit],
                        lambda targets: [LineReading(text="12 Main Street", confidence=0.9, engine="tesseract")])

    assert _lines(blocks) == ["12 Main Street"]
    assert blocks[0].lines[0].words[0].text == "12" and blocks[0].lines[0].words[0].bbox == (0.28, 0.2, 0.32, 0.22)


def test_an_amount_split_at_its_decimal_comma_is_one_group(tmp_path):
    """A comma is not character-sized, so "62,58" in a monospace font is two runs of characters as far apart as two
    words; the comma between them still makes them one group."""
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 22)
    page = Image.new("L", (640, 200), 255)
    draw = ImageDraw.Draw(page)
    draw.text((40, 80), "SUBTOTAL", font=font, fill=0)
    draw.text((520, 80), "62,58", font=font, fill=0)
    path = str(tmp_path / "row.png")
    page.save(path)
    left, top, right, bottom = draw.textbbox((40, 80), "SUBTOTAL", font=font)
    line = Line(text="SUBTOTAL", bbox=(left / 640, top / 200, right / 640, bottom / 200), confidence=0.9,
                engine="tesseract")

    boxes = missed_boxes(path, [line])

    assert len(boxes) == 1
    amount = draw.textbbox((520, 80), "62,58", font=font)
    assert boxes[0][0] * 640 <= amount[0] + 1 and boxes[0][2] * 640 >= amount[2] - 1
