"""Scoring extraction against real documents' truth: receipts' entities as printed, forms' question → answer pairs."""
import json

from tasks.bench.extract import pair_f1, score_document, score_pairs, truth_of
from tasks.extract.rules import FieldResult
from tasks.extract.schema import load_schema


def auto(label, value):
    return FieldResult(field_name=label, type="string", method="auto", value=value)


def test_form_pairs_match_one_to_one_despite_ocr_slips():
    truth = [{"question": "Date:", "answer": "9/ 3/ 92"}, {"question": "Name / Phone Ext. :", "answer": "M. Hamann"},
             {"question": "Subject:", "answer": "Coal retention"}]
    found = [FieldResult(field_name="Date", type="date", method="auto", value="1992-09-03"),
             auto("Name/Phone Ext.", "M. Hamann"), auto("Date (2)", "9/ 3/ 92"),
             auto("Subject", "something else entirely")]
    score = score_pairs(truth, found)
    assert (score.expected, score.got, score.matched) == (3, 4, 2), "the second Date finds no truth pair left"
    precision, recall, f1 = pair_f1([score_document("form.png", load_schema("auto"), truth, found)])
    assert (precision, recall) == (0.5, 2 / 3) and abs(f1 - 4 / 7) < 1e-9


def test_receipt_truth_as_printed_is_compared_day_first(tmp_path):
    (tmp_path / "r.entities.json").write_text(json.dumps({"company": "SANYU STATIONERY SHOP", "date": "05/04/2018",
                                                          "address": "40170 SETIA ALAM", "total": "RM 9.00"}))
    truth = truth_of(tmp_path / "r.jpg")
    results = [FieldResult(field_name="date", type="date", method="regex", value="2018-04-05"),
               FieldResult(field_name="total", type="money", method="regex", value="9.00")]
    scores = {f.field_name: f.match for f in score_document("r.jpg", load_schema("receipt"), truth, results).fields}
    assert scores == {"company": False, "date": True, "address": False, "total": True}
