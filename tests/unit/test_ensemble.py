from datetime import UTC, datetime

import pytest

from tasks.ensemble import DetectedPage, EngineReadings, _voted_line, disputed
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


def _detected(texts: list[str]) -> DetectedPage:
    image = PageImage(page_number=1, path="page.pgm", dpi=300, width=100, height=100)
    boxes = [(0.1, 0.1 * i, 0.9, 0.1 * i + 0.05) for i in range(len(texts))]
    return DetectedPage(image=image, blocks_path="lines.json", escalated=[0, 2, 5], escalated_boxes=boxes,
                        escalated_texts=texts)


def test_cascade_sends_on_only_the_lines_the_first_engine_read_differently():
    page = _detected(["Tota1 due", "Invoice", "12.50"])
    paddle = EngineReadings(engine="paddle", lines=[0, 2, 5], readings=[
        LineReading(text="Total due", confidence=0.9, engine="paddle"),
        LineReading(text="Invoice", confidence=0.9, engine="paddle"),
        LineReading(text="12.5O", confidence=0.9, engine="paddle")])

    rest = disputed(page, paddle)

    assert rest.escalated == [0, 5] and rest.escalated_texts == ["Tota1 due", "12.50"]
    assert rest.escalated_boxes == [page.escalated_boxes[0], page.escalated_boxes[2]]


def test_cascade_sends_on_every_doubtful_line_when_the_first_engine_failed():
    page = _detected(["a", "b", "c"])
    assert disputed(page, EngineReadings(engine="paddle", error="paddle: crashed")) == page
