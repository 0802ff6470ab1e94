"""Tables: detection and structure on images and digital PDFs, HTML/Markdown output, and the table benchmark."""
from __future__ import annotations

import json
import shutil
from collections import Counter

import pyarrow as pa
import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from flows.bench_cli import bench_app
from tasks.bench.tables import (
    adjacency_relations,
    adjacency_score,
    read_icdar_structure,
    teds,
)
from tasks.store import SCHEMAS, table_row
from tasks.tables import Cell, find_tables_digital, find_tables_image, make_table

pytestmark = pytest.mark.timeout(300)

ROWS = [["Item", "Qty", "Price", "Total"], ["Apple", "3", "1.20", "3.60"], ["Pear", "2", "0.80", "1.60"]]
"""A 3 × 4 table (3 rows, 4 columns)."""


def grid(table) -> list[list[str]]:
    cells = [["?"] * table.n_cols for _ in range(table.n_rows)]
    for cell in table.cells:
        cells[cell.row][cell.col] = cell.text
    return cells


# ---- images ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ruled_page(tmp_path_factory) -> str:
    """A page image at 150 dpi: a title, a paragraph, a ruled 3 × 4 table, more paragraphs."""
    font, title = ImageFont.load_default(size=28), ImageFont.load_default(size=40)
    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    draw.text((120, 120), "Quarterly fruit report", font=title, fill="black")
    for i, line in enumerate(["The table below lists the fruit bought this quarter and what it cost.",
                              "Prices are in euro and include tax."]):
        draw.text((120, 220 + i * 45), line, font=font, fill="black")
    x0, y0, width, height = 120, 360, 250, 70
    for r in range(4):
        draw.line([(x0, y0 + r * height), (x0 + 4 * width, y0 + r * height)], fill="black", width=3)
    for c in range(5):
        draw.line([(x0 + c * width, y0), (x0 + c * width, y0 + 3 * height)], fill="black", width=3)
    for r, row in enumerate(ROWS):
        for c, text in enumerate(row):
            draw.text((x0 + c * width + 20, y0 + r * height + 20), text, font=font, fill="black")
    for i in range(8):
        draw.text((120, 700 + i * 45), "More text follows in the report, describing the results in detail.",
                  font=font, fill="black")
    path = tmp_path_factory.mktemp("tables") / "page.png"
    image.save(path, dpi=(150, 150))
    return str(path)


def test_ruled_table_on_a_page_image_is_found_with_its_cells(ruled_page):
    tables = find_tables_image(ruled_page, dpi=150)
    assert len(tables) == 1
    table = tables[0]
    assert (table.n_rows, table.n_cols) == (3, 4)
    assert grid(table) == ROWS
    x0, y0, x1, y1 = table.bbox  # the table is at x 120–1120, y 360–570 of 1240 × 1754
    assert x0 < 0.12 and x1 > 0.88 and y0 < 0.21 and y1 > 0.31


def test_table_crop_read_as_one_table(ruled_page, tmp_path):
    crop = tmp_path / "crop.png"
    Image.open(ruled_page).crop((100, 340, 1150, 600)).save(crop)
    (table,) = find_tables_image(str(crop), dpi=150, whole_image=True)
    assert grid(table) == ROWS
    assert table.bbox == (0.0, 0.0, 1.0, 1.0)


def test_words_from_the_caller_are_used_instead_of_ocr(ruled_page, tmp_path):
    from tasks.models import Word

    crop = tmp_path / "crop.png"
    Image.open(ruled_page).crop((100, 340, 1150, 600)).save(crop)
    # A word placed in the middle of the second row, third column (the '1.20' cell).
    word = Word(text="given", bbox=(0.55, 0.42, 0.6, 0.5), confidence=1.0, engine="test")
    (table,) = find_tables_image(str(crop), dpi=150, whole_image=True, words=[word])
    assert [(c.row, c.col) for c in table.cells if c.text] == [(1, 2)]


# ---- digital PDFs ---------------------------------------------------------------------------------------------

REGIONS = [["Region", "2021", "2022", "2023"], ["North", "1,200", "1,350", "1,410"], ["South", "980", "1,020", "1,100"]]


def reportlab_pdf(path, ruled: bool) -> str:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    table = Table(REGIONS, colWidths=[120, 80, 80, 80])
    if ruled:
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.8, colors.black)]))
    else:  # a typical "booktabs" table: rules above and below the header and at the bottom only
        table.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, 0), 1, colors.black),
                                   ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                                   ("LINEBELOW", (0, -1), (-1, -1), 1, colors.black)]))
    story = [Paragraph("Sales by region", styles["Title"]),
             Paragraph("Sales grew in every region over the three years. " * 4, styles["Normal"]),
             Spacer(1, 20), table, Spacer(1, 20),
             Paragraph("The northern region grew fastest. " * 6, styles["Normal"])]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return str(path)


@pytest.mark.parametrize(("ruled", "method"), [(True, "ruled"), (False, "model")])
def test_table_on_a_digital_pdf_page(tmp_path, ruled, method):
    pdf = reportlab_pdf(tmp_path / f"table-{ruled}.pdf", ruled)
    (table,) = find_tables_digital(pdf, 1)
    assert table.method == method
    assert (table.n_rows, table.n_cols) == (3, 4)
    assert grid(table) == REGIONS
    assert table.page_number == 1 and 0 < table.bbox[0] < table.bbox[2] < 1 and 0 < table.bbox[1] < table.bbox[3] < 1


def test_page_without_a_table_gives_none(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    path = tmp_path / "prose.pdf"
    SimpleDocTemplate(str(path), pagesize=A4).build(
        [Paragraph("A heading", styles["Title"])] +
        [Paragraph("Plain running text with no table in it at all. " * 8, styles["Normal"]) for _ in range(4)])
    assert find_tables_digital(str(path), 1) == []


# ---- output formats -------------------------------------------------------------------------------------------

def spanning_table():
    cells = [Cell(row=0, col=0, row_span=2, text="Name"), Cell(row=0, col=1, col_span=2, text="Score"),
             Cell(row=1, col=1, text="A"), Cell(row=1, col=2, text="B"),
             Cell(row=2, col=0, text="x < y | z"), Cell(row=2, col=1, text="1"), Cell(row=2, col=2, text="2")]
    return make_table(3, (0.1, 0.2, 0.9, 0.5), cells, header_rows=2)


def test_html_has_head_body_and_spans():
    table = spanning_table()
    assert (table.n_rows, table.n_cols) == (3, 3)
    assert table.html == (
        '<table><thead><tr><td rowspan="2">Name</td><td colspan="2">Score</td></tr>'
        "<tr><td>A</td><td>B</td></tr></thead>"
        "<tbody><tr><td>x &lt; y | z</td><td>1</td><td>2</td></tr></tbody></table>"
    )


def test_markdown_is_a_pipe_table_with_spans_left_blank():
    assert spanning_table().markdown == "\n".join([
        "| Name | Score |  |",
        "|---|---|---|",
        "|  | A | B |",
        "| x < y \\| z | 1 | 2 |",
    ])


def test_table_row_matches_the_declared_schema():
    row = table_row("job", 0, spanning_table())
    written = pa.Table.from_pylist([row], schema=SCHEMAS["tables"])
    assert written.num_rows == 1
    assert written.column("cells")[0].as_py()[1] == {"row": 0, "col": 1, "row_span": 1, "col_span": 2,
                                                     "text": "Score"}


# ---- metrics --------------------------------------------------------------------------------------------------

def test_teds_of_identical_tables_is_one_and_of_a_changed_one_less():
    html = spanning_table().html
    assert teds(html, html) == 1.0
    assert teds(html.replace(">A<", ">Q<"), html) < 1.0
    assert teds(html.replace('colspan="2"', ""), html, structure_only=True) < 1.0
    assert teds(html.replace(">A<", ">Q<"), html, structure_only=True) == 1.0


def test_adjacency_relations_skip_empty_cells_and_follow_spans():
    # | a |   | b |
    # | c (two columns) | d |
    cells = [Cell(row=0, col=0, text="a"), Cell(row=0, col=1, text=" "), Cell(row=0, col=2, text="b"),
             Cell(row=1, col=0, col_span=2, text="c"), Cell(row=1, col=2, text="d")]
    assert adjacency_relations(cells) == Counter(
        {("a", "b", "H"): 1, ("c", "d", "H"): 1, ("a", "c", "V"): 1, ("b", "d", "V"): 1})


def test_adjacency_f1_counts_matching_relations():
    truth = adjacency_relations([Cell(row=0, col=0, text="A"), Cell(row=0, col=1, text="B"),
                                 Cell(row=1, col=0, text="C"), Cell(row=1, col=1, text="D")])
    found = adjacency_relations([Cell(row=0, col=0, text="A"), Cell(row=0, col=1, text="B"),
                                 Cell(row=1, col=0, col_span=2, text="C D")])  # the last row's cells merged
    score = adjacency_score(truth, found)
    assert (score.correct, score.truth, score.found) == (1, 4, 3)  # only A→B survives
    assert score.f1 == pytest.approx(2 / 7)
    assert adjacency_score(truth, truth).f1 == 1.0


# ---- real documents -------------------------------------------------------------------------------------------

def test_icdar2013_page_end_to_end(benchmarks):
    folder = benchmarks / "tables/icdar2013"
    truth_regions = read_icdar_structure(folder / "us-005-str.xml")
    truth = sum((adjacency_relations(cells) for _, cells in truth_regions), Counter())
    tables = find_tables_digital(str(folder / "us-005.pdf"), 1)
    found = sum((adjacency_relations(t.cells) for t in tables), Counter())
    assert len(tables) == len(truth_regions) == 1
    assert adjacency_score(truth, found).f1 >= 0.9


def test_pubtabnet_image_end_to_end(benchmarks):
    folder = benchmarks / "tables/pubtabnet"
    name = "PMC5679144_002_01.png"
    truth = json.loads((folder / "gt_teds.json").read_text())[name]["html"]
    (table,) = find_tables_image(str(folder / name), dpi=None, whole_image=True)
    assert teds(table.html, truth, structure_only=True) >= 0.95
    assert teds(table.html, truth) >= 0.85


def test_bench_tables_command_scores_both_datasets(benchmarks, tmp_path):
    source = benchmarks / "tables"
    (tmp_path / "pubtabnet").mkdir()
    (tmp_path / "icdar2013").mkdir()
    name = "PMC5679144_002_01.png"
    shutil.copy(source / "pubtabnet" / name, tmp_path / "pubtabnet" / name)
    truth = json.loads((source / "pubtabnet/gt_teds.json").read_text())
    (tmp_path / "pubtabnet/gt_teds.json").write_text(json.dumps({name: truth[name]}))
    for suffix in (".pdf", "-str.xml"):
        shutil.copy(source / "icdar2013" / f"us-005{suffix}", tmp_path / "icdar2013" / f"us-005{suffix}")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(bench_app, ["tables", str(tmp_path), "--out-json", str(out)])
    assert result.exit_code == 0, result.output
    assert "TEDS" in result.output and "adjacency" in result.output
    report = json.loads(out.read_text())
    assert report["summary"]["pubtabnet"]["teds"] >= 0.85
    assert report["summary"]["icdar2013"]["adjacency_f1"] >= 0.9
    assert {row["document"] for row in report["documents"]} == {f"pubtabnet/{name}", "icdar2013/us-005.pdf"}
