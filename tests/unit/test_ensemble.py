from datetime import UTC, datetime

import pytest

from flows.ocr_ensemble import recognisers
from tasks.ensemble import _voted_line
from tasks.models import Document, Job, Line, PageImage, ProcessOptions, Word
from tasks.ocr.base import LineReading
from tasks.ocr.vote import vote_line


def _job() -> Job:
    document = Document(document_id="d", source_uri="x.pdf", local_path="x.pdf", mime_type="application/pdf",
                        size_bytes=1, num_pages=1)
    return Job(job_id="j", operation="parse", options=ProcessOptions(), work_dir="/tmp", started_at=datetime.now(UTC),
               document=document)


def test_voted_line_keeps_every_engine_reading_with_its_own_confidence():
    tesseract = Line(text="Tota1 due", bbox=(0.1, 0.1, 0.5, 0.15), confidence=0.55, engine="tesseract",
                     words=[Word(text="Tota1", bbox=(0.1, 0.1, 0.3, 0.15), confidence=0.4, engine="tesseract"),
                            Word(text="due", bbox=(0.32, 0.1, 0.5, 0.15), confidence=0.9, engine="tesseract")])
    others = [LineReading(text="Total due", confidence=0.95, engine="paddle"),
              LineReading(text="Total due", confidence=0.8, engine="easyocr")]
    voted = _voted_line(_job(), tesseract, others)
    assert voted.text == "Total due" and voted.engine == "ensemble" and 0 < voted.agreement <= 1
    assert [r.engine for r in voted.readings] == ["tesseract", "paddle", "easyocr"]
    paddle = voted.readings[1]
    assert [w.confidence for w in paddle.words] == [0.95, 0.95], "an engine's words carry its own confidence"
    assert [w.text for w in voted.words] == ["Total", "due"] and {w.engine for w in voted.words} == {"ensemble"}
    expected = vote_line([LineReading(text="Tota1 due", confidence=0.55, engine="tesseract"), *others],
                         ProcessOptions().engine_weights)
    assert [w.confidence for w in voted.words] == expected.word_confidences
    assert voted.words[0].bbox[0] == pytest.approx(0.1) and voted.words[1].bbox[2] == pytest.approx(0.5)




@pytest.mark.parametrize(("mode", "engines", "weights", "expected"), [
    ("fast", None, None, []),
    ("auto", None, None, ["paddle"]),
    ("ensemble", None, None, ["paddle", "easyocr"]),
    ("auto", ["tesseract", "easyocr"], None, ["easyocr"]),
    ("auto", None, {"tesseract": 0.4, "paddle": 0.1, "easyocr": 0.5}, ["easyocr"]),
    ("ensemble", None, {"tesseract": 0.4, "paddle": 0.1, "easyocr": 0.5}, ["easyocr", "paddle"]),
])
def test_recognisers_by_mode(mode, engines, weights, expected):
    options = ProcessOptions(ocr_mode=mode, **({"engines": engines} if engines else {}),
                             **({"engine_weights": weights} if weights else {}))
    assert recognisers(_job().model_copy(update={"options": options})) == expected
