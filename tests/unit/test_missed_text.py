import subprocess

import cv2
import numpy as np
import pytest

from tasks.missed_text import add_missed, missed_boxes
from tasks.models import Block, Line
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
