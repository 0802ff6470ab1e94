"""The document model: the one vocabulary every stage speaks. Coordinates are normalised to 0–1 of the page."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

Operation = Literal["parse", "extract", "split", "edit"]
"""What process-document does."""
OcrMode = Literal["fast", "auto", "ensemble"]
"""agentic (LLM correction, seed §3) is offered once it is built (issue 14): until then it would run another mode."""
LineDetector = Literal["paddle", "tesseract"]
ENGINE_WEIGHTS: dict[str, float] = {"tesseract": 0.3, "paddle": 0.5, "easyocr": 0.2}
"""Each engine's vote weight, chosen on every engine's readings of 36 real scans of the tuning part (receipts and
forms) with the fitted calibration: with the seed's 0.4/0.4/0.2, Tesseract and EasyOCR overruled PP-OCR where it
was right (CER 0.1916 against 0.1885 for PP-OCR alone; 0.1884 with these)."""
TextSource = Literal["text_layer", "ocr", "hybrid"]
PageStatus = Literal["ok", "failed"]
JobStatus = Literal["completed", "partial", "failed"]
Model = TypeVar("Model", bound=BaseModel)
BBox = tuple[float, float, float, float]
"""x0, y0, x1, y1, normalised to the page (origin top-left)."""


def union(boxes: Iterable[BBox]) -> BBox:
    """The smallest box holding every one of the boxes."""
    x0, y0, x1, y1 = zip(*boxes)
    return (min(x0), min(y0), max(x1), max(y1))


def centre_inside(inner: BBox, outer: BBox) -> bool:
    """Whether the centre of `inner` lies in `outer` (edges included)."""
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]


class EnhanceOptions(BaseModel):
    grayscale: bool = Field(True, description="Convert scans to grayscale before OCR")
    orientation: bool = Field(True, description="Detect 90/180/270° page rotation and turn the page upright")
    deskew: bool = Field(True, description="Straighten pages scanned at a small angle")
    denoise: bool = Field(False, description="Remove speckle noise (slower; for poor scans)")
    binarize: bool = Field(False, description="Adaptive black-and-white thresholding")


class Limits(BaseModel):
    max_bytes: int = Field(512 * 1024 * 1024, description="Largest accepted file, in bytes")
    max_pages: int = Field(5000, description="Most pages accepted in one document")
    max_pixels: int = Field(200_000_000, description="Largest image or rendered page, in pixels")
    allow_private_urls: bool = Field(
        False, description="Allow http(s) sources that resolve to loopback, private or link-local addresses"
    )


MIN_DPI = 50
"""The least resolution worth reading a page at."""


class ProcessOptions(BaseModel):
    dpi: int = Field(300, ge=MIN_DPI, le=1200, description="Resolution pages are rendered at for OCR")
    pages: str | None = Field(None, description="Page ranges to process, e.g. '1-3,7' (default: all)")
    ocr_mode: OcrMode = Field("auto", description="fast: Tesseract alone; auto: the line detector's engine, doubtful "
                                                   "lines read again by the next engine; ensemble: every engine")
    language: str = Field("eng", description="OCR language(s), Tesseract codes joined by '+'")
    min_text_chars: int = Field(
        16, ge=0, description="A page whose text layer has fewer visible characters than this is OCR'd"
    )
    engines: list[str] = Field(
        ["tesseract", "paddle", "easyocr"],
        description="OCR engines that vote in auto and ensemble modes (the line detector's engine always reads)",
    )
    line_detector: LineDetector = Field(
        "paddle", description="auto and ensemble modes: whose line finder finds the lines every engine reads — PP-OCR's "
                              "text detector (paddle) or Tesseract's page layout. fast mode is Tesseract's own layout",
    )
    engine_weights: dict[str, float] = Field(
        ENGINE_WEIGHTS,
        description="Vote weight of each engine (multiplied by its calibrated confidence)",
    )
    escalate_below: float = Field(
        0.95, ge=0, le=1, description="auto mode: lines read with less confidence than this go to the cascade's engine"
    )
    tables: bool = Field(True, description="Find tables (cells, spans, HTML and Markdown) on the pages")
    figures: bool = Field(True, description="Find figures on the pages, with their captions, and store a crop of each")
    enhance: EnhanceOptions = Field(EnhanceOptions(), title="Enhance",
                                    description="How scans are cleaned up before OCR")
    limits: Limits = Field(Limits(), title="Size limits", description="What is refused before it is read")

    @property
    def finds_regions(self) -> bool:
        """Whether the layout models look for tables or figures at all."""
        return self.tables or self.figures

    def fingerprint(self) -> dict:
        """The options that change a job's output (limits only decide whether it runs)."""
        return self.model_dump(mode="json", exclude={"limits"})


def overlay(base: Model, given: Model, builtin: Model) -> Model:
    """`base` with the fields in which `given` differs from `builtin` taken from `given` (sub-models field by
    field): the options a run gives change only what it changes from the built-in values."""
    update = {}
    for name in type(given).model_fields:
        value, default = getattr(given, name), getattr(builtin, name)
        if isinstance(value, BaseModel):
            update[name] = overlay(getattr(base, name), value, default)
        elif value != default:
            update[name] = value
    return base.model_copy(update=update)


class Word(BaseModel):
    text: str
    bbox: BBox
    confidence: float
    engine: str


class Line(BaseModel):
    text: str
    bbox: BBox
    confidence: float
    engine: str
    words: list[Word] = Field(default_factory=list)
    agreement: float | None = None
    """How much the engines agreed on this line (ensemble lines only)."""
    readings: list["Line"] = Field(default_factory=list)
    """Each engine's own reading of this line, kept so the vote can be audited and re-weighted."""


class Block(BaseModel):
    bbox: BBox
    lines: list[Line] = Field(default_factory=list)


class Cell(BaseModel):
    row: int
    col: int
    row_span: int = 1
    col_span: int = 1
    text: str = ""
    bbox: BBox | None = None
    """The cell's box on the page (normalised), where known."""


class Table(BaseModel):
    page_number: int = 1
    bbox: BBox
    n_rows: int
    n_cols: int
    cells: list[Cell] = Field(default_factory=list)
    header_rows: int = 0
    """How many of the first rows are column headers (the <thead>); 0 when unknown."""
    method: str = ""
    """How the structure was found: 'ruled' (drawn cell borders) or 'model' (SLANet-plus)."""
    html: str = ""
    markdown: str = ""


class Figure(BaseModel):
    bbox: BBox
    crop_path: str
    """The crop (PNG) in the job's work area; the store puts it next to the results and records its URI."""
    caption: str | None = None


class Document(BaseModel):
    """A fetched, validated input, kept as a file in the job's work area."""

    document_id: str
    source_uri: str
    local_path: str
    mime_type: str
    size_bytes: int
    num_pages: int


class Job(BaseModel):
    job_id: str
    operation: Operation
    options: ProcessOptions
    work_dir: str
    started_at: datetime
    document: Document
    request: str | None = None
    """The fingerprint of what the operation was asked (output_key): part of the job's identity."""


class PageImage(BaseModel):
    """A page rendered to an image file: passed between tasks by path, never as pixels."""

    page_number: int
    path: str
    dpi: int | None
    width: int
    height: int
    rotation: int = 0
    skew_deg: float = 0.0


class PageResult(BaseModel):
    page_number: int
    width: int
    height: int
    dpi: int | None
    text_source: TextSource
    status: PageStatus = "ok"
    error_category: str | None = None
    error: str | None = None
    text: str = ""
    markdown: str = ""
    confidence: float | None = None
    rotation: int = 0
    skew_deg: float = 0.0
    duration_ms: int = 0
    engine_errors: dict[str, str] = Field(default_factory=dict)
    """Engines that were missing or failed on this page, and why (the page was read by the others; 'layout' when
    the table and figure search failed and the page kept its text)."""
    blocks: list[Block] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)


class PageSummary(BaseModel):
    """What a page task returns to the flow: the full result stays on disk at `path`."""

    page_number: int
    path: str
    status: PageStatus
    text_source: TextSource
    confidence: float | None
    n_words: int
    duration_ms: int
    engines: list[str] = Field(default_factory=list)
    engine_errors: dict[str, str] = Field(default_factory=dict)
    error_category: str | None = None
    error: str | None = None


class JobSummary(BaseModel):
    job_id: str
    document_id: str | None
    source_uri: str
    operation: Operation
    status: JobStatus
    error_category: str | None = None
    error: str | None = None
    num_pages: int = 0
    pages_ok: int = 0
    pages_failed: int = 0
    text_sources: dict[str, int] = Field(default_factory=dict)
    mean_confidence: float | None = None
    duration_ms: int = 0
    results_uri: str = ""
    extraction: dict | None = None
    """operation=extract: the extraction's summary (tasks.extract.job.ExtractionSummary as JSON)."""
    split: dict | None = None
    """operation=split: the split's summary (tasks.split.job.SplitSummary as JSON)."""
    edit: dict | None = None
    """operation=edit: the edits' summary (tasks.edit.job.EditSummary as JSON)."""


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def output_key(options: ProcessOptions, request: str | None = None) -> dict:
    """What a job's output depends on besides its document and operation: the options that change it and the
    fingerprint of what the operation was asked (an extraction's fields schema, a split's criteria, the edits)."""
    return options.fingerprint() | ({"request": request} if request else {})


def job_id_for(document_key: str, operation: str, options: ProcessOptions, request: str | None = None) -> str:
    """The same document, operation, options and request always give the same job (and so the same files)."""
    payload = json.dumps([document_key, operation, output_key(options, request)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def parse_page_ranges(spec: str | None, num_pages: int) -> list[int]:
    """'1-3,7' → [1, 2, 3, 7]; None → every page. Raises ValueError on a malformed spec."""
    if not spec:
        return list(range(1, num_pages + 1))
    return sorted({page for first, last in page_spans(spec) for page in range(first, min(last, num_pages) + 1)})


def page_spans(spec: str) -> list[tuple[int, int]]:
    """'1-3,7' → [(1, 3), (7, 7)], as written. Raises ValueError on a malformed spec."""
    spans = []
    for part in spec.replace(" ", "").split(","):
        start, sep, end = part.partition("-")
        if not start.isdigit() or (sep and not end.isdigit()):
            raise ValueError(f"bad page range {part!r} (expected e.g. '1-3,7')")
        first, last = int(start), int(end) if sep else int(start)
        if first < 1 or last < first:
            raise ValueError(f"bad page range {part!r}")
        spans.append((first, last))
    return spans
