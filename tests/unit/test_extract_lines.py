import json
import shutil
import subprocess

import pytest

from tasks.bench.extract import line_match, render_scans, score_document
from tasks.extract.lines import extract_array
from tasks.extract.rules import FieldResult, extract_fields
from tasks.extract.schema import ExtractionSchema, FieldSpec
from tests.unit.word_pages import page

LINES = FieldSpec.model_validate({"name": "lines", "type": "array", "fields": {
    "name": {"type": "string", "hints": ["description", "item", "artikel"]},
    "quantity": {"type": "number", "hints": ["quantity", "qty", "aantal"]},
    "price_unit": {"type": "money", "hints": ["unit price", "prijs per stuk", "price", "prijs"]},
    "amount": {"type": "money", "hints": ["amount", "prijs incl"]},
}})
INVOICE = page(
    "Invoice Number: 42",
    "Description                  Quantity    Unit Price    Taxes    Amount",
    "--- Non Food ---",
    "Beeswax XL extra long name       1.00         42.00    15.00%    $ 42.00",
    "Office Chair                     2.00         35,50    15.00%    $ 71.00",
    "Subtotal                                                       $ 113.00",
    "Olive Oil                        1.00          1.00    15.00%     $ 1.00",
    "Total                                                          $ 114.00",
    "Payment terms: 15 Days          3.00          9.99",
)


def objects(result: FieldResult) -> list[dict]:
    return json.loads(result.value)


def test_rows_under_the_header_up_to_the_total_skip_titles_and_subtotals():
    result = extract_array(LINES, INVOICE)
    assert result.valid and result.type == "array" and result.method == "regex"
    assert objects(result) == [
        {"name": "Beeswax XL extra long name", "quantity": "1.00", "price_unit": "42.00", "amount": "42.00"},
        {"name": "Office Chair", "quantity": "2.00", "price_unit": "35.50", "amount": "71.00"},
        {"name": "Olive Oil", "quantity": "1.00", "price_unit": "1.00", "amount": "1.00"},
    ]
    header = [t for t in INVOICE if t.text == "Description"][0]
    last = [t for t in INVOICE if t.text == "Oil"][0]
    assert result.page_number == 1 and result.bbox[1] == header.bbox[1] and result.bbox[3] == last.bbox[3]
    assert result.confidence == pytest.approx(0.85)


def test_a_gap_ends_the_rows_and_a_cell_left_empty_is_null():
    tokens = page("Artikel                    Aantal   Prijs per stuk   BTW   Prijs incl. BTW",
                  "Apple iPad Air                  1         € 399,00   21%          € 399,00",
                  "Thuiskopieheffing               1                    21%            € 4,24",
                  "", "", "", "", "",
                  "Mario Kart                      1          € 44,99   21%           € 44,99")
    assert objects(extract_array(LINES, tokens)) == [
        {"name": "Apple iPad Air", "quantity": "1", "price_unit": "399.00", "amount": "399.00"},
        {"name": "Thuiskopieheffing", "quantity": "1", "price_unit": None, "amount": "4.24"},
    ]


def test_no_header_naming_the_sub_fields_is_not_found_and_required_makes_it_invalid():
    tokens = page("Description of the work", "Repair   42.00")
    result = extract_array(LINES, tokens)
    assert result.valid and result.value is None and "no rows under a header naming name" in result.error
    required = extract_array(LINES.model_copy(update={"required": True}), tokens)
    assert not required.valid and required.value is None


def test_detected_table_is_used_when_no_header_row_is_found_in_the_words():
    cells = [{"row": r, "col": c, "row_span": 1, "col_span": 1, "text": text}
             for r, row in enumerate([["Item", "Qty", "Price"], ["Widget", "2", "3.50"], ["Total", "", "7.00"]])
             for c, text in enumerate(row)]
    table = {"page_number": 2, "bbox": {"x0": 0.1, "y0": 0.2, "x1": 0.9, "y1": 0.4}, "cells": cells}
    result = extract_array(LINES, [], tables=[table])
    assert objects(result) == [{"name": "Widget", "quantity": "2", "price_unit": "3.50", "amount": None}]
    assert result.page_number == 2 and result.bbox == (0.1, 0.2, 0.9, 0.4)
    assert len(objects(extract_array(LINES, INVOICE, tables=[table]))) == 3  # rows from words come first


def test_extract_fields_fills_an_array_field_and_the_bench_scores_its_lines():
    schema = ExtractionSchema(version="1", fields=[LINES])
    result = {r.field_name: r for r in extract_fields(schema, INVOICE)}["lines"]
    assert len(objects(result)) == 3
    truth = {"lines": [{"name": "beeswax  XL extra long name", "price_unit": 42.0},
                       {"name": "Office Chair", "price_unit": "35.5", "qty": 2},
                       {"name": "Olive Oil", "price_unit": 2.0},
                       {"line_note": "not a line"},
                       {"name": "Missing", "price_unit": 5}]}
    score = score_document("x.pdf", schema, truth, [result])
    assert score.fields == []
    assert [(s.expected, s.got, s.matched) for s in score.lines] == [(4, 3, 2)]
    assert line_match([score]) == {"lines": (pytest.approx(2 / 3), 0.5)}


def test_render_scans_makes_image_only_pdfs_with_their_truth(tmp_path, benchmarks):
    source = benchmarks / "invoices"
    for suffix in (".pdf", ".json"):
        shutil.copy(source / f"AmazonWebServices{suffix}", tmp_path)
    shutil.copy(source / "AmazonWebServices.pdf", tmp_path / "no_truth.pdf")
    [scan] = render_scans(tmp_path, 50, tmp_path / "scans")
    assert scan.name == "AmazonWebServices.clean.pdf"
    assert scan.with_suffix(".json").read_text() == (source / "AmazonWebServices.json").read_text()
    text = subprocess.run(["pdftotext", str(scan), "-"], capture_output=True, text=True, check=True).stdout
    assert not text.strip()
