"""process_document: fetch → validate → text layer → render → enhance → layout → OCR → tables and figures →
post-process → store → (operation=extract: fields; split: sections; edit: edited PDFs) → documents row →
events."""
from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, unmapped
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from blocks.loading import default_results_uri, ocr_options
from flows.editing import edit_pages
from flows.ocr_ensemble import ocr_ensemble
from flows.splitting import split_sections
from tasks.edit.job import emit_edit
from tasks.edit.request import Edits, as_edits
from tasks.errors import BadInput, as_docuforge_error
from tasks.events import EventName, emit
from tasks.extract.job import emit_extraction, resolve_schema, run_extraction
from tasks.extract.schema import ExtractionSchema
from tasks.fetch import fetch_document_task, redact_uri
from tasks.models import (
    Document, Job, JobSummary, Operation, PageResult, PageSummary, ProcessOptions, job_id_for, parse_page_ranges,
)
from tasks.page import failed_page, picture_page_task, plan_page_task, scanned_regions_task
from tasks.progress import PageProgress
from tasks.recovery import attempt_of, emit_processing_error, retryable_category
from tasks.report import publish_job_summary, text_preview
from tasks.retry import FLOW_TIMEOUT
from tasks.settings import get_settings
from tasks.split.criteria import SplitCriteria, as_criteria
from tasks.split.job import emit_split
from tasks.split.points import check_criteria
from tasks.store import JobWriter, ResultsStore, options_column, store_document_task, store_pages_task
from tasks.workarea import new_work_area, sweep_once_per_process


@flow(name="process-document", **FLOW_TIMEOUT, task_runner=ThreadPoolTaskRunner(max_workers=get_settings().page_workers))
def process_document(
    source: str,
    operation: Operation = "parse",
    options: ProcessOptions | None = None,
    results_uri: str | None = None,
    fields_schema: dict | str | None = None,
    split_criteria: SplitCriteria | None = None,
    edits: Edits | None = None,
) -> State:
    """Read one document (PDF, PNG, JPEG, TIFF from a path, file://, s3:// or http(s)://) into the results dataset.

    Args:
        source: The document: a path, file://, s3://bucket/key or http(s):// URL.
        operation: What to do with it (parse: text, Markdown, words, tables and figures; extract: that, then the
            schema's fields into `fields`; split: that, then sections by split_criteria into `sections`, each with
            its own PDF; edit: that, then the edits' PDFs, each with a row in `edits`).
        options: How to read it: OCR mode and engines, dpi, pages, enhancement, limits. Left empty: the
            docuforge-ocr block's settings (else the built-in values). Given: the block's settings, with the
            fields you change from the built-in values shown here.
        results_uri: Where the Parquet results go: a folder or s3://bucket/prefix
            (default: $DOCUFORGE_RESULTS_URI, else the docuforge-results block, else ./docuforge-data/results).
        fields_schema: For operation=extract: the schema inline (Docuforge's format or a JSON Schema document), a
            schema file, or a bundled schema's name such as 'invoice' or 'receipt' (default: 'invoice').
        split_criteria: For operation=split (required there): page ranges, every N pages, the outline's bookmarks,
            blank pages, restarting page numbers, a maximum section length; they combine.
        edits: For operation=edit (required there): the edits to make (a searchable PDF).
    """
    started_at = datetime.now(UTC)
    options = ocr_options(options)
    attempt = attempt_of(flow_run.tags)
    store_uri = results_uri or default_results_uri()
    sweep_once_per_process()
    work_dir = new_work_area()
    job = None
    try:
        schema = resolve_schema(fields_schema) if operation == "extract" else None
        criteria = as_criteria(split_criteria) if operation == "split" else None
        asked = as_edits(edits) if operation == "edit" else None
        job = start_job(source, operation, options, work_dir, started_at, schema or criteria or asked)
        if criteria is not None:
            check_criteria(criteria, job.document.mime_type, job.document.num_pages, job.document.local_path)
        pages = read_pages(job)
        summary = finish_job(job, pages, store_uri, attempt, fields_schema, schema, criteria, asked)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded as a failed row before the run fails
        summary = record_failure(job, source, operation, options, started_at, store_uri, exc, attempt,
                                 fields_schema, _valid_or_none(as_criteria, split_criteria),
                                 _valid_or_none(as_edits, edits))
    finally:
        if not get_settings().keep_work:
            shutil.rmtree(work_dir, ignore_errors=True)
    if summary.status == "failed":
        return Failed(message=f"{summary.error_category}: {summary.error}", data=summary)
    return Completed(message=f"{summary.status}: {summary.num_pages} pages", data=summary)


def start_job(source: str, operation: Operation, options: ProcessOptions, work_dir: str, started_at: datetime,
              request: ExtractionSchema | SplitCriteria | Edits | None = None) -> Job:
    """The job of this document, operation, options and request (an extraction's schema, a split's criteria, the
    edits)."""
    document = fetch_document_task(source, work_dir, options.limits)
    fingerprint = request.fingerprint() if request else None
    job = Job(job_id=job_id_for(document.document_id, operation, options, fingerprint), operation=operation,
              options=options, work_dir=work_dir, started_at=started_at, document=document, request=fingerprint)
    get_run_logger().info("%s: %s, %d pages, %d bytes; job %s (%s, OCR mode %s)", document.source_uri,
                          document.mime_type, document.num_pages, document.size_bytes, job.job_id, operation,
                          options.ocr_mode)
    return job


def _valid_or_none(read, value):
    """The request (split criteria, edits) to hand on to recovery, when it is valid at all."""
    try:
        return read(value)
    except BadInput:  # malformed or missing: nothing to run again with
        return None


def read_pages(job: Job) -> list[PageSummary]:
    """Text layer first; pages without a usable one go through OCR; tables and figures are found on digital pages
    as they are read and on OCR'd pages after. Every page comes back, failed or not."""
    try:
        numbers = parse_page_ranges(job.options.pages, job.document.num_pages)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    if not numbers:
        raise BadInput(f"no page of {job.document.num_pages} is in the range {job.options.pages!r}")
    progress = PageProgress(job, len(numbers))
    plans = plan_page_task.map(unmapped(job), numbers)
    done, needs_ocr = [], []
    for number, future in zip(numbers, plans):
        plan = _outcome(job, number, future)
        if isinstance(plan, PageSummary) or plan.summary is not None:
            done.append(progress.page_done(plan if isinstance(plan, PageSummary) else plan.summary))
        else:
            needs_ocr.append(plan)
    hybrid = [plan for plan in needs_ocr if plan.text_source == "hybrid"]
    scanned = [plan for plan in needs_ocr if plan.text_source == "ocr"]
    pictures = picture_page_task.map(unmapped(job), hybrid)
    if scanned:
        done += [progress.page_done(page) for page in find_scanned_regions(job, ocr_ensemble(job, scanned))]
    done += [progress.page_done(_outcome(job, plan.page_number, future)) for plan, future in zip(hybrid, pictures)]
    return sorted(done, key=lambda page: page.page_number)


def find_scanned_regions(job: Job, pages: list[PageSummary]) -> list[PageSummary]:
    """Tables and figures on the OCR'd pages; a page whose search cannot run stays as the OCR left it."""
    if not job.options.finds_regions:
        return pages
    read = [page for page in pages if page.status == "ok"]
    futures = scanned_regions_task.map(unmapped(job), read)
    searched = {page.page_number: _result_or(future, page) for page, future in zip(read, futures)}
    return [searched.get(page.page_number, page) for page in pages]


def _outcome(job: Job, page_number: int, future: PrefectFuture):
    """A page task's result, or the failed page it leaves behind."""
    state = future.wait() or future.state
    if state.is_completed():
        return future.result()
    return failed_page(job, page_number, future.result(raise_on_failure=False))


def _result_or(future: PrefectFuture, fallback: PageSummary) -> PageSummary:
    state = future.wait() or future.state
    return future.result() if state.is_completed() else fallback


def finish_job(job: Job, pages: list[PageSummary], store_uri: str, attempt: int = 1,
               fields_schema: dict | str | None = None, schema: ExtractionSchema | None = None,
               criteria: SplitCriteria | None = None, edits: Edits | None = None) -> JobSummary:
    """The pages' rows, an extraction's fields, a split's sections or the edits' PDFs, then the documents row and
    the events:
    whoever sees the row or an event finds the rest of the job in place."""
    failed = sum(page.status == "failed" for page in pages)
    status = "failed" if failed == len(pages) else "partial" if failed else "completed"
    summary = _summary(job, pages, status, store_uri)
    if status == "failed":
        summary.error_category, summary.error = _first_page_error(pages)
    day = job.started_at.date().isoformat()
    files = store_pages_task(store_uri, job.job_id, job.operation, day, [page.path for page in pages])
    extraction = split = edited = None
    if schema is not None and status != "failed":
        extraction = run_extraction(job.job_id, summary.source_uri, day, schema, store_uri)
        summary.extraction = extraction.model_dump(mode="json")
    if criteria is not None and status != "failed":
        split = split_sections(job, criteria, store_uri)
        summary.split = split.model_dump(mode="json")
    if edits is not None and status != "failed":
        edited = edit_pages(job, edits, store_uri)
        summary.edit = edited.model_dump(mode="json")
    row = _document_row(summary, job.document, job.options, job.started_at,
                        engines=sorted({e for page in pages for e in page.engines}),
                        request=job.request)
    files.append(store_document_task(store_uri, job.job_id, job.operation, day, row))
    log_results(summary, files)
    event = EventName.document_failed if status == "failed" else EventName.document_processed
    emit(event, job.job_id, job.document.source_uri, _event_payload(summary))
    if extraction is not None:
        emit_extraction(extraction)
    if split is not None:
        emit_split(split)
    if edited is not None:
        emit_edit(edited, edits)
    if status == "failed":
        emit_processing_error(summary, job.options, retryable_category(summary.error_category), attempt,
                              fields_schema, criteria, edits)
    publish_job_summary(summary, text_preview([page.path for page in pages]), files)
    return summary


def record_failure(job: Job | None, source: str, operation: Operation, options: ProcessOptions,
                   started_at: datetime, store_uri: str, exc: BaseException, attempt: int = 1,
                   fields_schema: dict | str | None = None,
                   split_criteria: SplitCriteria | None = None, edits: Edits | None = None) -> JobSummary:
    """A document that failed as a whole: a failed documents row, a docuforge.document.failed event and a
    docuforge.processing.error event (for error recovery).

    Once the document is fetched the failure belongs to its job, so a later successful run replaces the row;
    before that (missing file, refused URL) the job is keyed by the source.
    """
    error = as_docuforge_error(exc)
    document = job.document if job else None
    uri = document.source_uri if document else redact_uri(source)
    job_id = job.job_id if job else job_id_for(f"source:{uri}", operation, options)
    summary = JobSummary(job_id=job_id, document_id=document.document_id if document else None, source_uri=uri,
                         operation=operation, status="failed", error_category=str(error.category),
                         error=error.message, num_pages=document.num_pages if document else 0,
                         results_uri=store_uri, duration_ms=_ms_between(started_at, datetime.now(UTC)))
    writer = JobWriter(ResultsStore(store_uri), job_id, operation, started_at.date().isoformat())
    files = []
    try:
        files = writer.commit(_document_row(summary, document, options, started_at, engines=[],
                                            request=job.request if job else None))
        log_results(summary, files)
    finally:  # a results store that is down takes the row, not the events that let recovery run the job again
        emit(EventName.document_failed, job_id, uri, _event_payload(summary))
        emit_processing_error(summary, options, error.retryable, attempt, fields_schema, split_criteria, edits)
        publish_job_summary(summary, "", files)
    return summary


def log_results(summary: JobSummary, files: list[str]) -> None:
    log = get_run_logger()
    if summary.error:
        log.warning("job %s failed (%s): %s", summary.job_id, summary.error_category, summary.error)
    log.info("job %s %s: %d of %d pages read; results written to %s:\n%s", summary.job_id, summary.status,
             summary.pages_ok, summary.num_pages, summary.results_uri, "\n".join(files))


def _summary(job: Job, pages: list[PageSummary], status: str, store_uri: str) -> JobSummary:
    sources: dict[str, int] = {}
    for page in pages:
        sources[page.text_source] = sources.get(page.text_source, 0) + 1
    scored = [page for page in pages if page.confidence is not None]
    return JobSummary(
        job_id=job.job_id, document_id=job.document.document_id, source_uri=job.document.source_uri,
        operation=job.operation, status=status, num_pages=job.document.num_pages,
        pages_ok=sum(page.status == "ok" for page in pages), pages_failed=sum(page.status == "failed" for page in pages),
        text_sources=sources,
        mean_confidence=sum(page.confidence for page in scored) / len(scored) if scored else None,
        duration_ms=_ms_between(job.started_at, datetime.now(UTC)), results_uri=store_uri,
    )


def _first_page_error(pages: list[PageSummary]) -> tuple[str, str]:
    first = PageResult.model_validate_json(Path(pages[0].path).read_text())
    return first.error_category or "internal", f"every page failed; page {first.page_number}: {first.error}"


def _document_row(summary: JobSummary, document: Document | None, options: ProcessOptions,
                  started_at: datetime, engines: list[str], request: str | None = None) -> dict:
    return {
        "document_id": summary.document_id, "source_uri": summary.source_uri,
        "mime_type": document.mime_type if document else None,
        "size_bytes": document.size_bytes if document else None, "num_pages": summary.num_pages,
        "status": summary.status, "error_category": summary.error_category, "error": summary.error,
        "ocr_mode": options.ocr_mode, "engines": engines, "options": options_column(options, request),
        "pages_ok": summary.pages_ok, "pages_failed": summary.pages_failed, "started_at": started_at,
        "finished_at": datetime.now(UTC), "duration_ms": summary.duration_ms,
    }


def _event_payload(summary: JobSummary) -> dict:
    return summary.model_dump(mode="json", include={
        "job_id", "document_id", "operation", "status", "num_pages", "pages_failed", "error_category", "error",
        "duration_ms", "results_uri",
    })


def _ms_between(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() * 1000)


