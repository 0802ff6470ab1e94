import pytest

from tasks.extract.ai import NEEDS_AI
from tasks.extract.job import extract
from tasks.extract.rules import extract_fields, tokens_from_words
from tasks.extract.schema import ExtractionSchema, load_schema
from tasks.errors import BadInput
from tests.unit.word_pages import page


INVOICE = load_schema("invoice")


def fields(tokens, schema=INVOICE):
    return {r.field_name: r for r in extract_fields(schema, tokens)}


def test_values_right_of_their_labels_with_citations():
    tokens = page("ACME Ltd            Invoice Number:   INV-2024/007",
                  "                    Invoice Date:     March 5, 2024",
                  "Subtotal                 € 1.000,00",
                  "Total                    € 1.210,00")
    found = fields(tokens)
    assert found["invoice_number"].value == "INV-2024/007"
    assert found["date"].value == "2024-03-05" and found["date"].value_date.isoformat() == "2024-03-05"
    assert found["amount"].value == "1210.00" and found["amount"].value_number == 1210.0
    assert found["currency"].value == "EUR"
    number_word = next(t for t in tokens if t.text == "INV-2024/007")
    assert found["invoice_number"].bbox == number_word.bbox and found["invoice_number"].page_number == 1
    assert all(found[n].valid and found[n].method == "regex" and found[n].confidence == 0.9
               for n in ("invoice_number", "date", "amount", "currency"))
    assert found["lines"].valid and found["lines"].value is None, "no line items on this page: not an error"


def test_value_on_the_line_below_its_label():
    found = fields(page("Invoice Date:     Due Date:     Reference:",
                        "03/20/2023        04/04/2023    CUSTREF123",
                        "Invoice INV/2023/03/0008",
                        "Total   $ 279.84"))
    assert found["date"].value == "2023-03-20" and found["date"].confidence == 0.8
    assert found["invoice_number"].value == "INV/2023/03/0008"
    assert found["amount"].value == "279.84" and found["currency"].value == "USD"


def test_total_is_the_largest_labelled_amount_not_a_year_or_a_count():
    found = fields(page("Total   1   278.61   40.39   319.00",
                        "Totaal   € 717,97    op 21 april 2015   € 717,97",
                        "Discount of Rs -40.00"))
    assert found["amount"].value == "717.97"
    found = fields(page("Total  1  278.61  40.39  319.00", "Promotional Discount of Rs -40.00"))
    assert found["currency"].value == "INR"


def test_more_telling_hint_wins_and_filler_is_skipped():
    found = fields(page("Order Date: 15-10-2015", "Invoice Date: 20-10-2015", "Invoice No : # BLR_WFLD2015"))
    assert found["date"].value == "2015-10-20"
    assert found["invoice_number"].value == "BLR_WFLD2015"


def test_missing_required_field_is_invalid_and_ai_fields_wait_for_an_llm():
    schema = ExtractionSchema.model_validate({"version": "1", "fields": {
        "amount": {"type": "money", "hints": ["total"], "required": True},
        "vendor": {"type": "string", "method": "ai"},
        "note": {"type": "string", "hints": ["note"]},
        "lines": {"type": "array", "fields": [{"name": "price", "type": "money"}]},
    }})
    found = fields(page("Hello world"), schema)
    assert not found["amount"].valid and found["amount"].error == "required field not found"
    vendor = next(r for r in extract(schema, page("Hello world")) if r.field_name == "vendor")
    assert vendor.method == "ai" and not vendor.valid and vendor.error == NEEDS_AI, "ai fields wait for an LLM"
    assert found["note"].valid and found["note"].value is None
    assert found["lines"].valid and found["lines"].value is None and "no rows under a header" in found["lines"].error


def test_enum_boolean_and_free_text_fields():
    schema = ExtractionSchema.model_validate({"version": "2", "fields": [
        {"name": "kind", "type": "enum", "values": ["credit", "debit"], "hints": ["type"]},
        {"name": "paid", "type": "boolean", "hints": ["paid"]},
        {"name": "customer", "type": "string", "hints": ["customer"]},
        {"name": "count", "type": "number", "hints": ["items"]},
    ]})
    found = fields(page("Type: Debit", "Paid: yes", "Customer: Jane Doe        Page 2", "Items: 12"), schema)
    assert found["kind"].value == "debit" and found["paid"].value_bool is True and found["paid"].value == "true"
    assert found["customer"].value == "Jane Doe"
    assert found["count"].value_number == 12.0


def test_words_rows_keep_one_reading_per_line():
    box = {"x0": 0.1, "y0": 0.1, "x1": 0.2, "y1": 0.12}
    rows = [{"page_number": 1, "block_id": 0, "line_id": 0, "text": "Total", "bbox": box, "engine": "ensemble"},
            {"page_number": 1, "block_id": 0, "line_id": 0, "text": "Tota1", "bbox": box, "engine": "tesseract"},
            {"page_number": 1, "block_id": 0, "line_id": 1, "text": "9.99", "bbox": box, "engine": "ensemble"}]
    assert [t.text for t in tokens_from_words(rows)] == ["Total", "9.99"]


def test_label_glued_to_its_value_by_ocr_is_split():
    rows = [{"page_number": 1, "block_id": 0, "line_id": 0, "text": text, "engine": "ensemble",
             "bbox": {"x0": x0, "y0": 0.1, "x1": x0 + 0.15, "y1": 0.12}}
            for text, x0 in (("Invoice", 0.1), ("Number:42183017", 0.26), ("10:30", 0.5))]
    tokens = tokens_from_words(rows)
    assert [t.text for t in tokens] == ["Invoice", "Number:", "42183017", "10:30"]
    assert tokens[1].bbox[2] == tokens[2].bbox[0] and tokens[2].bbox[2] == pytest.approx(0.41)
    assert fields(tokens)["invoice_number"].value == "42183017"


def test_schema_validation(tmp_path):
    with pytest.raises(ValueError, match="needs values"):
        ExtractionSchema.model_validate({"version": "1", "fields": {"c": {"type": "enum"}}})
    with pytest.raises(ValueError, match="bad pattern"):
        ExtractionSchema.model_validate({"version": "1", "fields": {"c": {"pattern": "("}}})
    bad = tmp_path / "s.json"
    bad.write_text('{"fields": {}}')
    with pytest.raises(BadInput, match="not valid"):
        load_schema(bad)
    with pytest.raises(BadInput, match="not found"):
        load_schema(tmp_path / "missing.json")
    assert [f.name for f in INVOICE.fields] == ["amount", "date", "invoice_number", "currency", "lines"]


def test_bench_scores_exact_match_after_normalisation():
    from tasks.bench.extract import exact_match, score_document
    from tasks.extract.rules import FieldResult

    results = [FieldResult(field_name="amount", type="money", method="regex", value="319.00"),
               FieldResult(field_name="date", type="date", method="regex", value="2015-10-21"),
               FieldResult(field_name="invoice_number", type="string", method="regex", value="BLR_WFLD1"),
               FieldResult(field_name="currency", type="enum", method="regex", value="INR")]
    truth = {"amount": 319.0, "date": "2015-10-20", "invoice_number": "#BLR_WFLD1", "currency": "INR"}
    score = score_document("x.pdf", INVOICE, truth, results)
    assert [f.match for f in score.fields] == [True, False, True, True]
    unscored = score_document("y.pdf", INVOICE, {"date": "2015-10-21"}, results)
    per_field, overall = exact_match([score, unscored])
    assert per_field == {"amount": 1.0, "date": 0.5, "invoice_number": 1.0, "currency": 1.0} and overall == 0.8


def ocr_rows(*words: tuple[str, float], engine: str = "ensemble") -> list[dict]:
    """One OCR line of words (text, x0), each 0.01 wide per character and 0.02 high."""
    return [{"page_number": 1, "block_id": 0, "line_id": 0, "text": text, "engine": engine,
             "bbox": {"x0": x0, "y0": 0.1, "x1": x0 + 0.01 * len(text), "y1": 0.12}} for text, x0 in words]


def test_ocr_words_run_together_are_cut_apart_with_their_share_of_the_box():
    tokens = tokens_from_words(ocr_rows(("Factuurnummer:", 0.1), ("993548900IBAN", 0.25), ("Grand", 0.5),
                                        ("Total319.00", 0.56)))
    assert [t.text for t in tokens] == ["Factuurnummer:", "993548900", "IBAN", "Grand", "Total", "319.00"]
    assert tokens[1].bbox[0] == 0.25 and tokens[1].bbox[2] == pytest.approx(0.34)
    found = fields(tokens)
    assert found["invoice_number"].value == "993548900" and found["amount"].value == "319.00"


def test_ocr_numbers_broken_apart_or_with_look_alike_letters_are_repaired():
    tokens = tokens_from_words(ocr_rows(("Total", 0.1), ("$4", 0.3), (".11", 0.325), ("Date:", 0.5),
                                        ("O3/2O/2O23", 0.56)))
    assert [t.text for t in tokens] == ["Total", "$4.11", "Date:", "03/20/2023"]
    assert tokens[1].bbox == pytest.approx((0.3, 0.1, 0.355, 0.12))
    found = fields(tokens)
    assert found["amount"].value == "4.11" and found["currency"].value == "USD" and found["date"].value == "2023-03-20"
    grouped = tokens_from_words(ocr_rows(("Total", 0.1), ("€1", 0.3), ("284,50", 0.325)))
    assert fields(grouped)["amount"].value == "1284.50"


def test_columns_apart_and_text_layer_words_are_left_as_written():
    apart = tokens_from_words(ocr_rows(("Total", 0.1), ("1", 0.3), ("278.61", 0.4)))
    assert [t.text for t in apart] == ["Total", "1", "278.61"]
    exact = tokens_from_words(ocr_rows(("Total319.00", 0.1), ("4O.11", 0.3), engine="text_layer"))
    assert [t.text for t in exact] == ["Total319.00", "4O.11"]


def test_ocr_date_glued_to_the_next_column_is_still_read():
    found = fields(page("Invoice Date:     Due Date:", "03/20/202304/04/2023CUSTREF123"))
    assert found["date"].value == "2023-03-20"


def test_labels_match_without_accents():
    schema = ExtractionSchema.model_validate({"version": "1", "fields": {
        "total": {"type": "money", "hints": ["net à payer"]}}})
    assert fields(page("NET A PAYER     EUR 49,54"), schema)["total"].value == "49.54"
    assert fields(page("Net à payer:    EUR 49,54"), schema)["total"].value == "49.54"


def test_a_label_whose_spaces_ocr_dropped_is_still_a_label():
    schema = ExtractionSchema.model_validate({"version": "1", "fields": {
        "total": {"type": "money", "hints": ["zu zahlen", "total ttc"], "select": "largest"}}})
    assert fields(page("ZUZAHLEN     EUR 123,20", "CASH     EUR 130,00"), schema)["total"].value == "123.20"
    assert fields(page("TOTALTTC     EUR140,59", "CASH     EUR 150,00"), schema)["total"].value == "140.59"


def test_the_total_is_the_one_after_cash_rounding():
    schema = ExtractionSchema.model_validate({"version": "1", "fields": {
        "total": {"type": "money", "hints": ["total"], "select": "largest"}}})
    found = fields(page("Total Sales (Inclusive of GST)     60.31",
                        "Rounding Adj                      -0.01",
                        "Total                              60.30",
                        "Cash                               70.30"), schema)
    assert found["total"].value == "60.30"
    unlabelled = fields(page("TOTAL AMT.....     RM 60.31",
                             "ROUNDING ADJ....   60.30",
                             "CASH               RM 70.30",
                             "CHANGE             10.00"), schema)
    assert unlabelled["total"].value == "60.30", "the rounded total where OCR lost its label"
    assert fields(page("Total     60.31", "Paid by card", "Ref 60.30"), schema)["total"].value == "60.30"
