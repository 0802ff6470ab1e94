"""Splitting (seed §5). split_sections: analyse structure → identify split points → split into sections → process
each section (mapped) → section metadata → output files → `sections` rows; it runs inside process_document
(operation=split) once the pages are read, which sends docuforge.split.completed after the documents row. split_document: the deployment's flow (a
document and criteria in; its sections out)."""
from __future__ import annotations

from prefect import flow, unmapped
from prefect.states import Completed, Failed, State

from tasks.models import Job, ProcessOptions
from tasks.retry import FLOW_TIMEOUT
from tasks.split.criteria import SplitCriteria
from tasks.split.job import (
    OPERATION, SplitSummary, analyse_structure_task, create_output_files_task, identify_split_points_task,
    process_section_task, section_metadata_task, section_rows, split_into_sections_task, split_summary,
    write_sections_task,
)
from tasks.split.sections import SummaryLength


@flow(name="split-sections", **FLOW_TIMEOUT)
def split_sections(job: Job, criteria: SplitCriteria, results_uri: str,
                   summary_length: SummaryLength = "short") -> SplitSummary:
    """Cut a read document (its rows in the results) into sections, each with its metadata and its own PDF."""
    document = job.document
    structure = analyse_structure_task(results_uri, job.job_id, document.local_path, document.num_pages, criteria)
    split = identify_split_points_task(structure, criteria)
    plans = split_into_sections_task(structure, split, criteria)
    facts = [[structure.pages[page - 1] for page in plan.pages] for plan in plans]
    sections = process_section_task.map(unmapped(results_uri), unmapped(job.job_id), plans, facts,
                                        unmapped(summary_length)).result()
    metadata = section_metadata_task(sections, split, criteria, document.num_pages)
    uris = create_output_files_task(document.local_path, plans, results_uri, job.job_id)
    rows = section_rows(job.job_id, sections, uris, criteria)
    write_sections_task(results_uri, job.job_id, job.started_at.date().isoformat(), rows)
    return split_summary(job.job_id, document.source_uri, metadata, rows, results_uri)


@flow(name="split-document", **FLOW_TIMEOUT)
def split_document(
    source: str,
    split_criteria: SplitCriteria,
    options: ProcessOptions | None = None,
    results_uri: str | None = None,
) -> State:
    """Split a document into sections: one row each in `sections` (type, language, summary, pages, why it starts
    there) and one PDF each next to the results.

    Args:
        source: The document, a PDF: a path, file://, s3://bucket/key or http(s):// URL.
        split_criteria: Where to split (combinable): page ranges, every N pages, the outline's bookmarks, blank
            pages (dropped), restarting page numbers (documents of a bundle), a maximum section length.
        options: How to read the document (as for process-document).
        results_uri: Where the Parquet results and the sections' PDFs go (as for process-document).
    """
    from flows.pipeline import process_document  # process_document runs split_sections: imported here, not above

    processed = process_document(source=source, operation=OPERATION, options=options, results_uri=results_uri,
                                 split_criteria=split_criteria, return_state=True)
    job = processed.result(raise_on_failure=False)
    if job.status == "failed":
        return Failed(message=f"{job.error_category}: {job.error}", data=job)
    summary = SplitSummary.model_validate(job.split)
    return Completed(message=f"{summary.metadata.total_sections} sections", data=summary)
