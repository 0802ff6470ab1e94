from datetime import UTC, datetime

import pytest

from flows.ocr_ensemble import recognisers
from tasks.ensemble import _sideways, _voted_line
from tasks.models import Document, Job, Line, PageImage, ProcessOptions, Word, union
from tasks.ocr.base import LineReading
from tasks.ocr.vote import fitted_calibration, vote_line


def _job() -> Job:
    document = Document(document_id="d", source_uri="x.pdf", local_path="x.pdf", mime_type="application/pdf",
                        size_bytes=1, num_pages=1)
    return Job(job_id="j", operation="parse", options=ProcessOptions(), work_dir="/tmp", started_at=datetime.now(UTC),
               document=document)


PAGE = PageImage(page_number=1, path="page.png", dpi=300, width=2480, height=3508)  # A4 at 300 dpi


def _tesseract_line(*words: tuple[str, float, float]) -> Line:
    """Tesseract's reading of a line 30 px high at the top of PAGE: words given as (text, x0, x1) in pixels."""
    boxes = [(x0 / PAGE.width, 100 / PAGE.height, x1 / PAGE.width, 130 / PAGE.height) for _, x0, x1 in words]
    return Line(text=" ".join(text for text, _, _ in words), bbox=union(boxes), confidence=0.8, engine="tesseract",
                words=[Word(text=text, bbox=box, confidence=0.8, engine="tesseract")
                       for (text, _, _), box in zip(words, boxes)])


def test_voted_line_keeps_every_engine_reading_with_its_own_confidence():
    tesseract = Line(text="Tota1 due", bbox=(0.1, 0.1, 0.5, 0.15), confidence=0.55, engine="tesseract",
                     words=[Word(text="Tota1", bbox=(0.1, 0.1, 0.3, 0.15), confidence=0.4, engine="tesseract"),
                            Word(text="due", bbox=(0.32, 0.1, 0.5, 0.15), confidence=0.9, engine="tesseract")])
    others = [LineReading(text="Total due", confidence=0.95, engine="paddle"),
              LineReading(text="Total due", confidence=0.8, engine="easyocr")]
    voted = _voted_line(_job(), tesseract, others, PAGE)
    assert voted.text == "Total due" and voted.engine == "ensemble" and 0 < voted.agreement <= 1
    assert [r.engine for r in voted.readings] == ["tesseract", "paddle", "easyocr"]
    paddle = voted.readings[1]
    assert [w.confidence for w in paddle.words] == [0.95, 0.95], "an engine's words carry its own confidence"
    assert [w.text for w in voted.words] == ["Total", "due"] and {w.engine for w in voted.words} == {"ensemble"}
    expected = vote_line([LineReading(text="Tota1 due", confidence=0.55, engine="tesseract"), *others],
                         ProcessOptions().engine_weights, fitted_calibration())
    assert [w.confidence for w in voted.words] == expected.word_confidences
    assert voted.words[0].bbox[0] == pytest.approx(0.1) and voted.words[1].bbox[2] == pytest.approx(0.5)



def test_a_break_at_a_wide_gap_survives_a_more_confident_reading_that_glues_the_words():
    tesseract = _tesseract_line(("SUMME", 100, 200), ("EUR", 600, 660), ("49,54", 675, 760))  # a column gap
    voted = _voted_line(_job(), tesseract, [LineReading(text="SUMMEEUR 49,54", confidence=0.99, engine="paddle")], PAGE)
    assert voted.text == "SUMME EUR 49,54"
    assert [(w.text, w.bbox) for w in voted.words] == [(w.text, w.bbox) for w in tesseract.words]


def test_a_break_at_an_ordinary_word_space_is_left_to_the_vote():
    tesseract = _tesseract_line(("SUMME", 100, 200), ("EUR", 210, 270), ("49,54", 600, 685))
    voted = _voted_line(_job(), tesseract, [LineReading(text="SUMMEEUR 49,54", confidence=0.99, engine="paddle")], PAGE)
    assert voted.text == "SUMMEEUR 49,54"
    assert voted.words[0].bbox == union([tesseract.words[0].bbox, tesseract.words[1].bbox])
    assert voted.words[1].bbox == tesseract.words[2].bbox


def test_no_break_is_added_where_every_engine_reads_one_word():
    tesseract = _tesseract_line(("SUMMEEUR", 100, 260), ("49,54", 600, 685))
    voted = _voted_line(_job(), tesseract, [LineReading(text="SUMMEEUR 49,54", confidence=0.99, engine="paddle")], PAGE)
    assert [w.text for w in voted.words] == ["SUMMEEUR", "49,54"]


def test_a_word_split_by_the_vote_gets_its_share_of_the_detector_word_box():
    tesseract = _tesseract_line(("SUMMEEUR", 100, 260), ("49,54", 600, 700))
    paddle = LineReading(text="SUMME EUR 49,54", confidence=0.99, engine="paddle")
    voted = _voted_line(_job(), tesseract, [paddle], PAGE)
    assert voted.text == "SUMME EUR 49,54"
    summe, eur, amount = (w.bbox for w in voted.words)
    assert summe[0] == pytest.approx(100 / PAGE.width) and summe[2] == pytest.approx(200 / PAGE.width)
    assert eur[0] == pytest.approx(200 / PAGE.width) and eur[2] == pytest.approx(260 / PAGE.width)
    assert amount == tesseract.words[1].bbox


@pytest.mark.parametrize(("mode", "detector", "engines", "weights", "expected"), [
    ("fast", "paddle", None, None, []),
    ("auto", "paddle", None, None, ["tesseract"]),
    ("ensemble", "paddle", None, None, ["tesseract", "easyocr"]),
    ("auto", "tesseract", None, None, ["paddle"]),
    ("ensemble", "tesseract", None, None, ["paddle", "easyocr"]),
    ("auto", "paddle", ["paddle", "easyocr"], None, ["easyocr"]),
    ("auto", "paddle", None, {"tesseract": 0.1, "paddle": 0.4, "easyocr": 0.5}, ["easyocr"]),
    ("ensemble", "paddle", None, {"tesseract": 0.1, "paddle": 0.4, "easyocr": 0.5}, ["easyocr", "tesseract"]),
])
def test_recognisers_by_mode(mode, detector, engines, weights, expected):
    options = ProcessOptions(ocr_mode=mode, line_detector=detector, **({"engines": engines} if engines else {}),
                             **({"engine_weights": weights} if weights else {}))
    assert recognisers(_job().model_copy(update={"options": options})) == expected


def test_a_page_whose_lines_stand_on_end_lies_on_its_side():
    lying = [(0.1, 0.1 + 0.05 * i, 0.8, 0.13 + 0.05 * i) for i in range(5)]
    standing = [(0.1 + 0.05 * i, 0.1, 0.13 + 0.05 * i, 0.8) for i in range(5)]
    digits = [(0.5, 0.9, 0.51, 0.92)] * 3  # short words stand a little taller than wide: they do not count
    square = PAGE.model_copy(update={"width": 1000, "height": 1000})
    assert not _sideways(lying + digits, square)
    assert _sideways(standing + lying[:1], square)
    assert not _sideways([], square)
