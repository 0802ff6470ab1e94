from __future__ import annotations

import random

from tasks.layout import order_lines, reading_order, sort_lines
from tasks.models import BBox, Block, Line


def line(text: str, bbox: BBox) -> Line:
    return Line(text=text, bbox=bbox, confidence=0.9, engine="test")


def block(text: str, bbox: BBox) -> Block:
    return Block(bbox=bbox, lines=[line(text, bbox)])


def texts(blocks: list[Block]) -> list[str]:
    return [block.lines[0].text.split()[0] for block in blocks]


def shuffled(blocks: list[Block], seed: int = 7) -> list[Block]:
    copy = list(blocks)
    random.Random(seed).shuffle(copy)
    return copy


def column(name: str, x0: float, x1: float, tops: list[float], height: float = 0.12) -> list[Block]:
    """A column of prose: paragraphs whose lines are as long as set text's."""
    return [block(f"{name}{i} reads on as set prose does in a column", (x0, top, x1, top + height))
            for i, top in enumerate(tops, start=1)]


def test_single_column_reads_top_to_bottom():
    blocks = column("p", 0.1, 0.9, [0.05, 0.2, 0.35, 0.5, 0.65, 0.8])
    assert texts(reading_order(shuffled(blocks))) == ["p1", "p2", "p3", "p4", "p5", "p6"]


def test_single_column_with_indents_and_short_lines_stays_one_column():
    blocks = [
        block("title", (0.3, 0.05, 0.7, 0.1)),
        block("para", (0.1, 0.15, 0.9, 0.4)),
        block("indented", (0.2, 0.45, 0.9, 0.6)),
        block("short", (0.1, 0.65, 0.4, 0.7)),
    ]
    assert texts(reading_order(shuffled(blocks))) == ["title", "para", "indented", "short"]


def test_two_columns_read_left_column_then_right():
    left = column("L", 0.08, 0.47, [0.05, 0.2, 0.35, 0.5])
    right = column("R", 0.53, 0.92, [0.05, 0.2, 0.35, 0.5])
    assert texts(reading_order(shuffled(left + right))) == ["L1", "L2", "L3", "L4", "R1", "R2", "R3", "R4"]


def test_header_two_columns_and_footer_read_in_place():
    header = block("header", (0.08, 0.03, 0.92, 0.08))
    left = column("L", 0.08, 0.47, [0.12, 0.26, 0.4, 0.54, 0.68])
    right = column("R", 0.53, 0.92, [0.12, 0.3, 0.48, 0.66], height=0.15)
    footer = block("footer", (0.4, 0.95, 0.6, 0.97))
    ordered = texts(reading_order(shuffled([header, *left, *right, footer])))
    assert ordered == ["header", "L1", "L2", "L3", "L4", "L5", "R1", "R2", "R3", "R4", "footer"]


def test_two_column_section_between_full_width_paragraphs():
    intro = block("intro", (0.08, 0.05, 0.92, 0.2))
    left = column("L", 0.08, 0.47, [0.25, 0.4])
    right = column("R", 0.53, 0.92, [0.25, 0.4])
    outro = block("outro", (0.08, 0.6, 0.92, 0.75))
    ordered = texts(reading_order(shuffled([intro, *left, *right, outro])))
    assert ordered == ["intro", "L1", "L2", "R1", "R2", "outro"]


def test_two_column_sections_apart_read_section_by_section():
    """The gap between the sections is wider than the gutter, so the page is cut into rows first."""
    first = column("A", 0.08, 0.47, [0.05, 0.2]) + column("B", 0.53, 0.92, [0.05, 0.2])
    second = column("C", 0.08, 0.47, [0.45, 0.6]) + column("D", 0.53, 0.92, [0.45, 0.6])
    ordered = texts(reading_order(shuffled(first + second)))
    assert ordered == ["A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2"]


def test_overlapping_blocks_fall_back_to_rows_top_to_bottom_then_left_to_right():
    blocks = [
        block("a", (0.1, 0.1, 0.6, 0.3)),
        block("b", (0.5, 0.18, 0.9, 0.38)),
        block("c", (0.05, 0.25, 0.55, 0.5)),
    ]
    assert texts(reading_order(shuffled(blocks))) == ["a", "b", "c"]


def test_empty_and_single_block():
    lone = block("only", (0.1, 0.1, 0.9, 0.2))
    assert reading_order([]) == []
    assert texts(reading_order([lone])) == ["only"]


def test_lines_inside_a_block_come_out_top_to_bottom():
    lines = [line(f"line {i}", (0.1, 0.1 + 0.03 * i, 0.9, 0.12 + 0.03 * i)) for i in range(5)]
    paragraph = Block(bbox=(0.1, 0.1, 0.9, 0.25), lines=[lines[2], lines[0], lines[4], lines[1], lines[3]])
    (ordered,) = reading_order([paragraph])
    assert [line.text for line in ordered.lines] == ["line 0", "line 1", "line 2", "line 3", "line 4"]
    assert [line.text for line in paragraph.lines] == ["line 2", "line 0", "line 4", "line 1", "line 3"]


def test_sort_lines_reads_a_row_left_to_right_despite_small_vertical_jitter():
    lines = [
        line("Total", (0.1, 0.500, 0.2, 0.520)),
        line("42.00 EUR", (0.7, 0.503, 0.9, 0.523)),
        line("Date", (0.1, 0.451, 0.2, 0.471)),
        line("2024-05-01", (0.7, 0.449, 0.9, 0.469)),
    ]
    assert [line.text for line in sort_lines(lines)] == ["Date", "2024-05-01", "Total", "42.00 EUR"]


def test_sort_lines_keeps_consecutive_lines_apart():
    lines = [line(f"l{i}", (0.1, 0.1 + 0.025 * i, 0.9, 0.12 + 0.025 * i)) for i in range(6)]
    assert sort_lines(list(reversed(lines))) == lines


def test_receipt_items_and_their_prices_read_row_by_row():
    rows = [("Tiger Bucket", "95.00"), ("Chicken wings", "22.00"), ("French Fries", "12.00"), ("SubTotal", "179.00")]
    lines = []
    for i, (item, price) in enumerate(rows):
        top = 0.4 + 0.03 * i
        lines += [line(item, (0.1, top, 0.45, top + 0.02)), line(price, (0.75, top + 0.002, 0.9, top + 0.022))]
    header = line("BREWERY TAP", (0.3, 0.1, 0.7, 0.13))
    ordered = [ln.text for block in order_lines(shuffled_lines([header, *lines])) for ln in block.lines]
    assert ordered == ["BREWERY TAP"] + [text for row in rows for text in row]


def test_form_labels_and_their_values_read_row_by_row():
    pairs = [("Invoice No.", ": CR 1803/0064"), ("Date", ": 01-03-18 5:23:26 PM"), ("Cashier No.", ": KHOO"),
             ("Counter No.", ": C1"), ("Printed Date", ": 01-03-18 5:23:30 PM")]
    lines = []
    for i, (label, value) in enumerate(pairs):
        top = 0.2 + 0.025 * i
        lines += [line(label, (0.05, top, 0.3, top + 0.02)), line(value, (0.35, top, 0.8, top + 0.02))]
    ordered = [ln.text for block in order_lines(shuffled_lines(lines)) for ln in block.lines]
    assert ordered == [text for pair in pairs for text in pair]


def test_order_lines_keeps_prose_columns_apart_and_makes_paragraphs():
    prose = "reads on as set prose does in a column of text"
    left = [line(f"L{i} {prose}", (0.08, 0.1 + 0.025 * i, 0.47, 0.12 + 0.025 * i)) for i in range(6)]
    right = [line(f"R{i} {prose}", (0.53, 0.1 + 0.025 * i, 0.92, 0.12 + 0.025 * i)) for i in range(6)]
    blocks = order_lines(shuffled_lines(left + right))
    assert [[ln.text.split()[0] for ln in block.lines] for block in blocks] == [
        [f"L{i}" for i in range(6)], [f"R{i}" for i in range(6)]]


def shuffled_lines(lines: list[Line], seed: int = 3) -> list[Line]:
    copy = list(lines)
    random.Random(seed).shuffle(copy)
    return copy
