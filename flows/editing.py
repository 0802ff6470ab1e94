"""Editing (issue 15): edit_pages turns a read document (its rows in the results) into the edited PDFs: the pages
as read → the searchable PDF → its text checked → the file next to the results → `edits` rows; it runs inside
process_document (operation=edit) once the pages are read, which sends docuforge.edit.completed after the documents
row. edit_document: the deployment's flow (a document and its edits in; the edited PDFs out)."""
from __future__ import annotations

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.edit.job import (
    OPERATION, SEARCHABLE, EditSummary, check_text_task, edit_summary, make_searchable_task, read_page_texts_task,
    searchable_row, store_edit_file_task, write_edits_task,
)
from tasks.edit.request import Edits
from tasks.models import Job, ProcessOptions
from tasks.retry import FLOW_TIMEOUT


@flow(name="edit-pages", **FLOW_TIMEOUT)
def edit_pages(job: Job, edits: Edits, results_uri: str) -> EditSummary:
    """Make each edit asked for (a searchable PDF for now) of a read document: one PDF and one `edits` row each."""
    document = job.document
    pages = read_page_texts_task(results_uri, job.job_id)
    path = make_searchable_task(document.local_path, document.mime_type, pages, job.work_dir)
    check = check_text_task(path, pages)
    uri = store_edit_file_task(path, results_uri, job.job_id, SEARCHABLE)
    rows = [searchable_row(job.job_id, pages, check, uri)]
    write_edits_task(results_uri, job.job_id, job.started_at.date().isoformat(), rows)
    return edit_summary(job.job_id, document.source_uri, rows, results_uri)


@flow(name="edit-document", **FLOW_TIMEOUT)
def edit_document(
    source: str,
    edits: Edits,
    options: ProcessOptions | None = None,
    results_uri: str | None = None,
) -> State:
    """Edit a document into new PDFs next to the results, each with a row in `edits` (what changed, whether the
    output was verified).

    Args:
        source: The document (PDF, PNG, JPEG, TIFF): a path, file://, s3://bucket/key or http(s):// URL.
        edits: What to make: a searchable PDF (an invisible text layer of the OCR'd words on the original pages).
        options: How to read the document (as for process-document).
        results_uri: Where the Parquet results and the edited PDFs go (as for process-document).
    """
    from flows.pipeline import process_document  # process_document runs edit_pages: imported here, not above

    processed = process_document(source=source, operation=OPERATION, options=options, results_uri=results_uri,
                                 edits=edits, return_state=True)
    job = processed.result(raise_on_failure=False)
    if job.status == "failed":
        return Failed(message=f"{job.error_category}: {job.error}", data=job)
    summary = EditSummary.model_validate(job.edit)
    verified = sum(row["verified"] for row in summary.edits)
    return Completed(message=f"{len(summary.edits)} edits, {verified} verified", data=summary)
