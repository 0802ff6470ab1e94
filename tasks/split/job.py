"""A split job's steps over the results dataset (seed §5), each a thin Prefect task over a plain function:
analyse structure → identify split points → split into sections → process each section → section metadata →
output files → `sections` rows → docuforge.split.completed."""
from __future__ import annotations

from collections import Counter

import pyarrow.dataset as ds
from prefect import task
from pydantic import BaseModel, Field

from tasks.events import EventName, emit
from tasks.retry import TASK_TIMEOUT, TASK_RETRIES
from tasks.split import output, points
from tasks.split.criteria import SplitCriteria
from tasks.split.points import PageFacts, SectionPlan, SplitPoints, Structure
from tasks.split.sections import SectionContent, SummaryLength, section_content
from tasks.store import ResultsStore
from tasks.textlayer import large, page_graphics

OPERATION = "split"
IMAGE_AREA = 0.02
"""A bitmap covering at least this share of a digital page makes it a page with images."""


class Section(BaseModel):
    plan: SectionPlan
    content: SectionContent


class SplitMetadata(BaseModel):
    total_sections: int
    original_pages: int
    pages_in_sections: int
    dropped_pages: dict[int, str] = Field(default_factory=dict)
    """Pages in no section, and why."""
    section_types: dict[str, int] = Field(default_factory=dict)
    languages: dict[str, int] = Field(default_factory=dict)
    criteria: dict = Field(default_factory=dict)


class SplitSummary(BaseModel):
    job_id: str
    source_uri: str
    status: str
    metadata: SplitMetadata
    sections: list[dict]
    """Each section's row (without its text), as in the `sections` table."""
    results_uri: str


def analyse_structure(store_uri: str, job_id: str, pdf_path: str, num_pages: int,
                   criteria: SplitCriteria) -> Structure:
    """The document's structure from its `pages`, `tables` and `figures` rows, its pages' ink and pictures, and its
    outline (when the criteria use it)."""
    store = ResultsStore(store_uri)
    only_job = ds.field("job_id") == job_id
    rows = store.dataset("pages").to_table(columns=["page_number", "status", "text", "text_source"],
                                           filter=only_job).to_pylist()
    table_pages = set(store.dataset("tables").to_table(columns=["page_number"], filter=only_job)
                      .column("page_number").to_pylist())
    image_pages = set(store.dataset("figures").to_table(columns=["page_number"], filter=only_job)
                      .column("page_number").to_pylist())
    image_pages |= {row["page_number"] for row in rows if _has_pictures(pdf_path, row)}
    return points.analyse_structure(pdf_path, num_pages, rows, table_pages, image_pages,
                                    with_outline=bool(criteria.outline_level))


def _has_pictures(pdf_path: str, row: dict) -> bool:
    """A hybrid page (a picture on a digital page), or a digital page with a sizeable bitmap; a scan's page image
    is not a picture."""
    if row["text_source"] == "hybrid":
        return True
    return row["text_source"] == "text_layer" and bool(large(page_graphics(pdf_path, row["page_number"]).images,
                                                             IMAGE_AREA))


def process_section(store_uri: str, job_id: str, plan: SectionPlan, facts: list[PageFacts],
                    summary_length: SummaryLength = "short") -> Section:
    """The seed's process_document_section: the section's text (its pages' rows), words, type, language,
    tables, images and summary."""
    rows = ResultsStore(store_uri).dataset("pages").to_table(
        columns=["page_number", "text"],
        filter=(ds.field("job_id") == job_id) & ds.field("page_number").isin(plan.pages)).to_pylist()
    texts = [row["text"] or "" for row in sorted(rows, key=lambda row: row["page_number"])]
    content = section_content(texts, sum(f.has_tables for f in facts), sum(f.has_images for f in facts),
                              len(plan.pages), summary_length)
    return Section(plan=plan, content=content)


def section_metadata(sections: list[Section], split: SplitPoints, criteria: SplitCriteria,
                     num_pages: int) -> SplitMetadata:
    return SplitMetadata(
        total_sections=len(sections), original_pages=num_pages,
        pages_in_sections=sum(len(s.plan.pages) for s in sections), dropped_pages=split.dropped,
        section_types=dict(Counter(s.content.section_type for s in sections)),
        languages=dict(Counter(s.content.language or "unknown" for s in sections)),
        criteria=criteria.model_dump(exclude_defaults=True),
    )


def section_rows(job_id: str, sections: list[Section], uris: list[str], criteria: SplitCriteria) -> list[dict]:
    """The `sections` table's rows, one per section."""
    return [{"job_id": job_id, "section_index": s.plan.section_index, "page_start": s.plan.page_start,
             "page_end": s.plan.page_end, "boundary_reason": s.plan.boundary_reason,
             "boundary_score": s.plan.boundary_score, "output_uri": uri, "criteria": criteria.column(),
             **s.content.model_dump()}
            for s, uri in zip(sections, uris, strict=True)]


def write_sections(store_uri: str, job_id: str, day: str, rows: list[dict]) -> None:
    """The job's `sections` file, in its date partition (a re-run replaces it)."""
    ResultsStore(store_uri).write("sections", OPERATION, day, job_id, rows)


def split_summary(job_id: str, source_uri: str, metadata: SplitMetadata, rows: list[dict],
                  store_uri: str) -> SplitSummary:
    return SplitSummary(job_id=job_id, source_uri=source_uri, status="completed", metadata=metadata,
                        sections=[{k: v for k, v in row.items() if k != "text"} for row in rows],
                        results_uri=store_uri)


def emit_split(summary: SplitSummary) -> None:
    emit(EventName.split_completed, summary.job_id, summary.source_uri, {
        "job_id": summary.job_id, "status": summary.status, "results_uri": summary.results_uri,
        **summary.metadata.model_dump(mode="json", include={"total_sections", "original_pages", "pages_in_sections",
                                                            "section_types", "criteria"}),
        "sections": [{k: row[k] for k in ("section_index", "page_start", "page_end", "section_type",
                                          "boundary_reason", "output_uri")} for row in summary.sections],
    })


analyse_structure_task = task(name="analyse-structure", **TASK_RETRIES)(analyse_structure)
identify_split_points_task = task(name="identify-split-points", **TASK_TIMEOUT)(points.identify_split_points)
split_into_sections_task = task(name="split-into-sections", **TASK_TIMEOUT)(points.split_into_sections)
process_section_task = task(name="process-section", **TASK_RETRIES)(process_section)
section_metadata_task = task(name="section-metadata", **TASK_TIMEOUT)(section_metadata)
create_output_files_task = task(name="create-output-files", **TASK_RETRIES)(output.create_output_files)
write_sections_task = task(name="write-sections", **TASK_RETRIES)(write_sections)
