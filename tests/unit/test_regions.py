"""Tables and figures on pages: the cheap gate for digital pages, and tables in the page Markdown."""
from __future__ import annotations

import pytest

from tasks.markdown import page_markdown
from tasks.models import Block, Line, Word
from tasks.regions import aligned_rows, may_hold_regions
from tasks.tables import Cell, make_table
from tasks.textlayer import page_graphics, read_text_layer

pytestmark = pytest.mark.timeout(300)


def _words(rows: list[list[tuple[str, float, float]]], top: float = 0.1, height: float = 0.012) -> list[Word]:
    """Words laid out in rows: (text, x0, x1) each, one row every two word heights."""
    return [Word(text=text, bbox=(x0, top + 2 * height * r, x1, top + 2 * height * r + height), confidence=1.0,
                 engine="text_layer")
            for r, row in enumerate(rows) for text, x0, x1 in row]


def test_text_in_aligned_columns_counts_its_rows():
    table = [[("North", 0.1, 0.18), ("1,200", 0.4, 0.46), ("1,350", 0.6, 0.66)],
             [("South", 0.1, 0.18), ("980", 0.42, 0.46), ("1,020", 0.6, 0.66)],
             [("East", 0.1, 0.16), ("1,100", 0.4, 0.46), ("990", 0.62, 0.66)]]
    assert aligned_rows(_words(table)) == 3, "right-aligned numbers line up at their right edges"
    prose = [[("Running", 0.1, 0.2), ("text", 0.205, 0.25), ("fills", 0.255, 0.3), ("lines", 0.305, 0.35)]] * 5
    assert aligned_rows(_words(prose)) == 0
    bullets = [[("•", 0.1, 0.11), ("an item of a list, not a table", 0.15, 0.6)]] * 5
    assert aligned_rows(_words(bullets)) == 0, "a list's bullets are not a column"
    two_columns = [[("left column prose", 0.08, 0.47), ("right column prose", 0.53, 0.92)]] * 5
    assert aligned_rows(_words(two_columns)) == 0, "two columns of running text are not a table"


def test_plain_text_pages_are_not_looked_at(benchmarks):
    path = str(benchmarks / "pdfs/born_digital/multi_page.pdf")
    for number in range(1, 6):
        assert not may_hold_regions(read_text_layer(path, number).words, page_graphics(path, number)), f"page {number}"


@pytest.mark.parametrize("number", [7, 8, 9, 11, 12, 13])
def test_pages_with_tables_or_figures_are_looked_at(benchmarks, number):
    path = str(benchmarks / "pdfs/born_digital/redp5110_sampled.pdf")
    assert may_hold_regions(read_text_layer(path, number).words, page_graphics(path, number))


def test_a_table_drawn_without_rules_is_looked_at(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    path = str(tmp_path / "plain-table.pdf")
    SimpleDocTemplate(path, pagesize=A4).build([
        Paragraph("Sales grew in every region over the three years. " * 4, styles["Normal"]), Spacer(1, 20),
        Table([["Region", "2021", "2022"], ["North", "1,200", "1,350"], ["South", "980", "1,020"]],
              colWidths=[120, 80, 80])])
    graphics = page_graphics(path, 1)
    assert graphics.paths == 0 and graphics.images == []
    assert may_hold_regions(read_text_layer(path, 1).words, graphics), "its columns of text are enough"


def _line(text: str, y: float) -> Line:
    return Line(text=text, bbox=(0.1, y, 0.9, y + 0.02), confidence=1.0, engine="text_layer")


def test_a_table_takes_the_place_of_its_lines_in_the_markdown():
    blocks = [Block(bbox=(0.1, 0.1, 0.9, 0.5), lines=[_line("Before the table.", 0.1), _line("Item Qty", 0.2),
                                                      _line("Apple 3", 0.25)]),
              Block(bbox=(0.1, 0.5, 0.9, 0.6), lines=[_line("After the table.", 0.5)])]
    cells = [Cell(row=0, col=0, text="Item"), Cell(row=0, col=1, text="Qty"),
             Cell(row=1, col=0, text="Apple"), Cell(row=1, col=1, text="3")]
    table = make_table(1, (0.05, 0.18, 0.95, 0.3), cells)
    empty = make_table(1, (0.05, 0.7, 0.95, 0.8), [Cell(row=0, col=0), Cell(row=1, col=1)])
    assert page_markdown(blocks, [table, empty]) == "\n\n".join([
        "Before the table.", "| Item | Qty |\n|---|---|\n| Apple | 3 |", "After the table.", empty.markdown])
    assert page_markdown(blocks) == "Before the table. Item Qty Apple 3\n\nAfter the table."
