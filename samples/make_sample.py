"""Builds samples/sample.pdf: a born-digital page, a slightly skewed scan and an upside-down scan.

Run once by hand (needs reportlab, a dev dependency); the PDF it writes is committed.
"""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
BODY = [
    "Docuforge reads documents the way a careful clerk would.",
    "Pages with a text layer are read exactly; scanned pages",
    "are turned upright, straightened and recognised, and every",
    "word keeps its box and its confidence.",
    "",
    "Invoice number: DF-2026-0042",
    "Date: 24 November 2026",
    "Total due: EUR 1,284.50",
]


def scanned_page(lines: list[str], skew: float, upside_down: bool) -> Image.Image:
    dpi = 200
    page = Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 255)
    draw = ImageDraw.Draw(page)
    title, body = ImageFont.load_default(size=60), ImageFont.load_default(size=36)
    draw.text((150, 180), "Scanned letter", font=title, fill=0)
    for i, line in enumerate(lines):
        draw.text((150, 330 + i * 62), line, font=body, fill=0)
    page = page.rotate(skew, expand=False, fillcolor=255, resample=Image.BICUBIC)
    return page.rotate(180) if upside_down else page


def main() -> None:
    pdf = canvas.Canvas(str(HERE / "sample.pdf"), pagesize=A4)
    width, height = A4
    pdf.setFont("Helvetica-Bold", 22)
    pdf.drawString(72, height - 90, "Docuforge sample document")
    pdf.setFont("Helvetica", 11)
    y = height - 130
    for line in ["This first page is born digital: its text layer is read exactly, without OCR.",
                 "The next two pages are scans. Docuforge detects that they have no text layer,",
                 "renders them, turns them upright, straightens them and runs OCR.", "",
                 "What lands in the results dataset:"]:
        pdf.drawString(72, y, line)
        y -= 16
    for item in ["one documents row per job, with status and timings",
                 "one pages row per page, with text, Markdown and confidence",
                 "lines and words with boxes, confidences and the engine that read them"]:
        pdf.drawString(84, y, "\u2022  " + item)
        y -= 16
    for skew, upside_down in ((1.5, False), (0.0, True)):
        pdf.showPage()
        buffer = io.BytesIO()
        scanned_page(BODY, skew, upside_down).save(buffer, format="PNG")
        pdf.drawImage(ImageReader(buffer), 0, 0, width=width, height=height)
    pdf.save()


if __name__ == "__main__":
    main()
