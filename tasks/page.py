"""A page's text layer (and the pictures on it), and the tables and figures on it. Results go to a JSON file in the
work area; the flow gets a small summary."""
from __future__ import annotations

import os
import time
from pathlib import Path

from prefect import task
from pydantic import BaseModel, Field

from tasks.errors import as_docuforge_error
from tasks.markdown import page_markdown, page_text
from tasks.models import BBox, Block, Job, Line, PageImage, PageResult, PageSummary, TextSource, centre_inside, union
from tasks.ocr import get_engine
from tasks.ocr.tesseract import mean_confidence
from tasks.regions import digital_regions, may_hold_regions, scanned_regions
from tasks.render import PDF, discard, render_region
from tasks.retry import TASK_TIMEOUT, TASK_RETRIES
from tasks.textlayer import PICTURE_AREA, large, page_graphics, read_text_layer


class PagePlan(BaseModel):
    page_number: int
    text_source: TextSource
    image_regions: list[BBox] = Field(default_factory=list)
    summary: PageSummary | None = None
    """Set when the page is finished already (its text layer was enough)."""


def result_path(job: Job, page_number: int) -> str:
    return os.path.join(job.work_dir, "results", f"page-{page_number:05d}.json")


def image_dir(job: Job) -> str:
    return os.path.join(job.work_dir, "images")


def crops_dir(job: Job) -> str:
    return os.path.join(job.work_dir, "crops")


def enhanced_path(image_path: str) -> str:
    stem, suffix = os.path.splitext(image_path)
    return f"{stem}.enhanced{suffix}"


def plan_page(job: Job, page_number: int) -> PagePlan:
    """Read the text layer; a page whose layer is usable is finished here, the rest need OCR."""
    document = job.document
    if document.mime_type != PDF:
        return PagePlan(page_number=page_number, text_source="ocr")
    started = time.monotonic()
    layer = read_text_layer(document.local_path, page_number)
    if layer.visible_chars < job.options.min_text_chars:
        return PagePlan(page_number=page_number, text_source="ocr")
    graphics = page_graphics(document.local_path, page_number)
    pictures = large(graphics.images, PICTURE_AREA)
    if pictures and job.options.ocr_mode != "fast":
        return PagePlan(page_number=page_number, text_source="hybrid", image_regions=pictures)
    scale = job.options.dpi / 72
    page = PageResult(
        page_number=page_number, width=round(layer.width_pt * scale), height=round(layer.height_pt * scale),
        dpi=job.options.dpi, text_source="text_layer", text=layer.text, markdown=page_markdown(layer.blocks),
        confidence=1.0, blocks=layer.blocks,
    )
    if job.options.finds_regions and may_hold_regions(layer.words, graphics):
        page = digital_regions(page, document.local_path, crops_dir(job), job.options)
    page.duration_ms = _ms_since(started)
    return PagePlan(page_number=page_number, text_source="text_layer", summary=save_page(job, page))


def picture_page(job: Job, plan: PagePlan) -> PageSummary:
    """A digital page with pictures: the text layer as it is, plus OCR of the text inside the pictures; and its
    tables and figures."""
    started = time.monotonic()
    page = _hybrid_page(job, plan)
    if job.options.finds_regions:
        page = digital_regions(page, job.document.local_path, crops_dir(job), job.options)
    page.duration_ms = _ms_since(started)
    return save_page(job, page)


def scanned_page_regions(job: Job, summary: PageSummary) -> PageSummary:
    """The tables and figures on an OCR'd page, added to its result."""
    started = time.monotonic()
    page = PageResult.model_validate_json(Path(summary.path).read_text())
    page = scanned_regions(page, job.document, os.path.join(image_dir(job), "regions"), crops_dir(job), job.options)
    page.duration_ms += _ms_since(started)
    return save_page(job, page)


def _hybrid_page(job: Job, plan: PagePlan) -> PageResult:
    path, number, dpi = job.document.local_path, plan.page_number, job.options.dpi
    layer = read_text_layer(path, number)
    layer_words = [w.bbox for b in layer.blocks for line in b.lines for w in line.words]
    os.makedirs(image_dir(job), exist_ok=True)
    image_blocks = []
    for index, region in enumerate(plan.image_regions):
        crop_path = os.path.join(image_dir(job), f"page-{number:04d}-region-{index}.pgm")
        crop = render_region(path, number, region, dpi, crop_path)
        try:
            found = get_engine("tesseract").read_page(crop.path, crop.dpi, job.options.language)
        finally:
            discard(crop.path)
        image_blocks += [b for b in (_only_new_text(_to_page(b, region), layer_words) for b in found) if b.lines]
    scale = dpi / 72
    page = PageImage(page_number=number, path=path, dpi=dpi, width=round(layer.width_pt * scale),
                     height=round(layer.height_pt * scale))
    text = layer.text + ("\n\n" + page_text(image_blocks) if image_blocks else "")
    return page_result(page, "hybrid" if image_blocks else "text_layer", layer.blocks + image_blocks, text)


def _to_page(block: Block, region: BBox) -> Block:
    """Boxes normalised to a crop, re-expressed on the whole page."""
    x0, y0, x1, y1 = region

    def move(b: BBox) -> BBox:
        return (x0 + b[0] * (x1 - x0), y0 + b[1] * (y1 - y0), x0 + b[2] * (x1 - x0), y0 + b[3] * (y1 - y0))

    lines = [
        line.model_copy(update={"bbox": move(line.bbox),
                                "words": [w.model_copy(update={"bbox": move(w.bbox)}) for w in line.words]})
        for line in block.lines
    ]
    return Block(bbox=move(block.bbox), lines=lines)


def _only_new_text(block: Block, layer_words: list[BBox]) -> Block:
    """Drop OCR words that the text layer already has (text drawn over an image)."""
    lines = []
    for line in block.lines:
        words = [w for w in line.words if not any(centre_inside(w.bbox, box) for box in layer_words)]
        if words:
            lines.append(Line(text=" ".join(w.text for w in words), bbox=union(w.bbox for w in words),
                              confidence=mean_confidence(words), engine=line.engine, words=words))
    return Block(bbox=union(line.bbox for line in lines) if lines else block.bbox, lines=lines)


def page_result(image: PageImage, source: TextSource, blocks: list[Block], text: str) -> PageResult:
    words = [w for b in blocks for line in b.lines for w in line.words]
    return PageResult(
        page_number=image.page_number, width=image.width, height=image.height, dpi=image.dpi, text_source=source,
        text=text, markdown=page_markdown(blocks), confidence=mean_confidence(words) if words else None,
        rotation=image.rotation, skew_deg=image.skew_deg, blocks=blocks,
    )


def failed_page(job: Job, page_number: int, error: BaseException) -> PageSummary:
    """A page that could not be read still gets its row, with the reason."""
    typed = as_docuforge_error(error)
    page = PageResult(page_number=page_number, width=0, height=0, dpi=job.options.dpi, text_source="ocr",
                      status="failed", error_category=str(typed.category), error=typed.message)
    return save_page(job, page)


def save_page(job: Job, page: PageResult) -> PageSummary:
    path = result_path(job, page.page_number)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp"
    Path(temporary).write_text(page.model_dump_json())
    os.replace(temporary, path)
    words = [w for b in page.blocks for line in b.lines for w in line.words]
    return PageSummary(page_number=page.page_number, path=path, status=page.status, text_source=page.text_source,
                       confidence=page.confidence, n_words=len(words), duration_ms=page.duration_ms,
                       engines=sorted({w.engine for w in words}), engine_errors=page.engine_errors,
                       error_category=page.error_category, error=page.error)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


plan_page_task = task(name="read-text-layer", **TASK_RETRIES)(plan_page)
picture_page_task = task(name="ocr-pictures", **TASK_RETRIES)(picture_page)
scanned_regions_task = task(name="find-tables-figures", **TASK_TIMEOUT)(scanned_page_regions)
