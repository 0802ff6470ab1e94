import json
from datetime import date

import numpy as np
from PIL import Image

from tasks.bench.extract import exact_match, mean_similarity, score_document, truth_of
from tasks.bench.receipts import generate_receipts
from tasks.extract.rules import FieldResult
from tasks.extract.schema import load_schema


def test_receipts_are_scanned_images_with_their_ground_truth(tmp_path):
    paths = generate_receipts(tmp_path / "a", count=3, seed=4)
    assert [p.name for p in paths] == ["receipt-0000.png", "receipt-0001.png", "receipt-0002.png"]
    for path in paths:
        image = np.asarray(Image.open(path))
        assert image.ndim == 2 and min(image.shape) > 500
        assert 0 < (image < 128).mean() < 0.2  # ink on paper
        truth = truth_of(path)
        assert set(truth) == {"company", "date", "address", "total"}
        assert date.fromisoformat(truth["date"]) and float(truth["total"]) > 0 and truth["company"] and \
            truth["address"]
    again = generate_receipts(tmp_path / "b", count=3, seed=4)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    other = generate_receipts(tmp_path / "c", count=3, seed=5)
    assert [p.read_bytes() for p in other] != [p.read_bytes() for p in paths]


def test_receipt_scores_exact_match_and_text_similarity(tmp_path):
    truth = {"company": "Golden Bakery Sdn Bhd", "date": "2018-04-05",
             "address": "NO. 12, JALAN MERDEKA 3, TAMAN DAYA", "total": "10.60"}
    (tmp_path / "r.json").write_text(json.dumps([truth]))
    schema = load_schema("receipt")

    def result(name, kind, value):
        return FieldResult(field_name=name, type=kind, method="nlp", value=value)

    perfect = score_document("r.png", schema, truth_of(tmp_path / "r.png"), [
        result("company", "string", "GOLDEN  BAKERY SDN BHD"), result("date", "date", "2018-04-05"),
        result("address", "string", "NO. 12, JALAN MERDEKA 3, TAMAN DAYA"), result("total", "money", "10.6")])
    assert all(f.match for f in perfect.fields)
    assert {f.field_name: f.similarity for f in perfect.fields if f.similarity is not None} == {
        "company": 1.0, "address": 1.0}
    close = score_document("s.png", schema, truth, [result("company", "string", "GOLDEN BAKERY SDN BHD"),
                                                    result("address", "string", "NO. 12, JALAN MERDEKA 3 TAMAN DAYA"),
                                                    result("total", "money", "10.06")])
    assert [f.match for f in close.fields] == [True, False, False, False]
    per_field, overall = exact_match([perfect, close])
    assert per_field == {"company": 1.0, "date": 0.5, "address": 0.5, "total": 0.5} and overall == 0.625
    similarity = mean_similarity([perfect, close])
    assert similarity["company"] == 1.0 and 0.95 < similarity["address"] < 1.0
