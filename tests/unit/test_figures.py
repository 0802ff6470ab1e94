"""Figures: regions on digital pages, PNG crops, captions."""
from __future__ import annotations

import pyarrow as pa
import pytest
from PIL import Image, ImageDraw

from tasks.figures import crop_figure, figure_caption, find_figures_digital
from tasks.models import Line
from tasks.store import SCHEMAS, figure_row
from tasks.tables import make_table
from tasks.textlayer import read_text_layer

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def figure_pdf(tmp_path_factory) -> str:
    """An A4 page: a paragraph, a 300 × 200 pt picture at (150, 250) pt from the top-left, its caption below."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder = tmp_path_factory.mktemp("figures")
    picture = Image.new("RGB", (600, 400), "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 40, 560, 360), outline="navy", width=8)
    draw.ellipse((150, 100, 450, 300), fill="orange")
    picture.save(folder / "picture.png")
    path = folder / "figure.pdf"
    width, height = A4
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("Helvetica", 11)
    for i in range(6):
        page.drawString(72, height - 100 - i * 15, "Running text above the figure, long enough to be a paragraph.")
    page.drawImage(str(folder / "picture.png"), 150, height - 450, width=300, height=200)
    page.drawString(150, height - 468, "Figure 3. An orange disc in a frame.")
    for i in range(6):
        page.drawString(72, height - 520 - i * 15, "Running text below the figure, long enough to be a paragraph.")
    page.save()
    return str(path)


def test_picture_on_a_digital_page_is_found(figure_pdf):
    (box,) = find_figures_digital(figure_pdf, 1)
    width, height = 595.2756, 841.8898
    expected = (150 / width, 250 / height, 450 / width, 450 / height)
    assert all(abs(a - b) < 0.02 for a, b in zip(box, expected)), box


def test_figures_that_are_tables_are_left_out(figure_pdf):
    (box,) = find_figures_digital(figure_pdf, 1)
    table = make_table(1, box, [])
    assert find_figures_digital(figure_pdf, 1, tables=[table]) == []


def test_crop_from_a_pdf_is_a_png_of_the_region(figure_pdf, tmp_path):
    box = (150 / 595.2756, 250 / 841.8898, 450 / 595.2756, 450 / 841.8898)
    path = crop_figure(figure_pdf, box, str(tmp_path / "crops"), page_number=1, dpi=144, name="f1.png")
    with Image.open(path) as crop:
        assert crop.format == "PNG"
        assert abs(crop.width - 600) <= 3 and abs(crop.height - 400) <= 3  # 300 × 200 pt at 144 dpi
        assert crop.convert("RGB").getpixel((300, 200))[:3] == pytest.approx((255, 165, 0), abs=30)  # orange


def test_crop_from_an_image(tmp_path):
    source = tmp_path / "page.png"
    Image.new("RGB", (1000, 500), "white").save(source)
    path = crop_figure(str(source), (0.1, 0.2, 0.5, 0.6), str(tmp_path / "out"))
    with Image.open(path) as crop:
        assert crop.size == (400, 200)


def test_caption_is_the_figure_line_below(figure_pdf):
    (box,) = find_figures_digital(figure_pdf, 1)
    lines = [line for block in read_text_layer(figure_pdf, 1).blocks for line in block.lines]
    assert figure_caption(lines, box) == "Figure 3. An orange disc in a frame."


def test_caption_prefers_the_line_under_the_figure_to_one_beside_it():
    def line(text, box):
        return Line(text=text, bbox=box, confidence=1.0, engine="text_layer")

    lines = [line("Figure 1. Left.", (0.10, 0.51, 0.30, 0.53)), line("Figure 2. Right.", (0.55, 0.505, 0.8, 0.525)),
             line("It continues here.", (0.10, 0.535, 0.28, 0.555)), line("Body text.", (0.1, 0.6, 0.9, 0.62))]
    assert figure_caption(lines, (0.1, 0.2, 0.5, 0.5)) == "Figure 1. Left. It continues here."
    assert figure_caption(lines, (0.55, 0.2, 0.9, 0.5)) == "Figure 2. Right."
    assert figure_caption(lines, (0.1, 0.7, 0.5, 0.9)) is None


def test_figure_row_matches_the_declared_schema():
    row = figure_row("job", 2, 0, (0.1, 0.2, 0.3, 0.4), "s3://bucket/crops/job/p2-0.png", "Figure 1.")
    assert pa.Table.from_pylist([row], schema=SCHEMAS["figures"]).num_rows == 1
