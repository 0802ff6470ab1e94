"""batch (seed §6): initialise → documents, batch_size at once → aggregate → report → store → event."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from blocks.loading import default_results_uri, ocr_options
from flows.pipeline import process_document
from tasks.batch import (
    DEFAULT_BATCH_SIZE, BatchSummary, aggregate, batch_id_for, check_id, event_payload, groups_of, outcome_summary,
    store_batch_task, unique_sources,
)
from tasks.events import EventName, emit_about
from tasks.models import JobSummary, Operation, ProcessOptions
from tasks.report import publish_batch_report
from tasks.retry import FLOW_TIMEOUT, TASK_TIMEOUT


@task(name="process-document-in-batch", cache_policy=NO_CACHE, **TASK_TIMEOUT)
def process_document_task(source: str, operation: Operation, options: ProcessOptions, results_uri: str,
                          fields_schema: dict | str | None = None) -> JobSummary:
    """process-document as a subflow; its failure is data (a failed summary), never this task's failure."""
    state = process_document(source=source, operation=operation, options=options, results_uri=results_uri,
                             fields_schema=fields_schema, return_state=True)
    return outcome_summary(state.result(raise_on_failure=False), source, operation, results_uri)


def process_documents(sources: list[str], operation: Operation, options: ProcessOptions, results_uri: str,
                      at_once: int, delay_s: float = 0.0, fields_schema: dict | str | None = None,
                      ) -> list[JobSummary]:
    """Every source through process-document, `at_once` at a time (a group finishes before the next starts, after
    `delay_s`); one summary per source, in order. Call it inside a flow."""
    summaries: list[JobSummary] = []
    for index, group in enumerate(groups_of(sources, at_once)):
        if index and delay_s:
            time.sleep(delay_s)
        futures = process_document_task.map(group, unmapped(operation), unmapped(options), unmapped(results_uri),
                                            unmapped(fields_schema))
        summaries += [future.result() for future in futures]
    return summaries


@flow(name="batch", **FLOW_TIMEOUT)
def batch(
    sources: list[str],
    operation: Operation = "parse",
    options: ProcessOptions | None = None,
    batch_size: Annotated[int, Field(ge=1)] = DEFAULT_BATCH_SIZE,
    batch_delay_s: Annotated[float, Field(ge=0)] = 0.0,
    results_uri: str | None = None,
    batch_id: str | None = None,
    fields_schema: dict | str | None = None,
) -> BatchSummary:
    """Process many documents: batch_size at once, one document's failure never failing the others, then a report.

    Args:
        sources: The documents: paths, file:// or s3://bucket/key URIs (a source listed twice is processed once).
        operation: What to do with each document.
        options: How to read each document: OCR mode and engines, dpi, pages, enhancement, limits. Left empty:
            the docuforge-ocr block's settings (else the built-in values). Given: the block's settings, with the
            fields you change from the built-in values shown here.
        batch_size: Documents processed at once; a batch finishes before the next one starts.
        batch_delay_s: Seconds to wait between batches.
        results_uri: Where the Parquet results go (default: $DOCUFORGE_RESULTS_URI,
            else the docuforge-results block, else ./docuforge-data/results).
        batch_id: Names the batch's row and artifacts (default: derived from the sources, operation and options,
            so running the same batch again replaces its row).
        fields_schema: For operation=extract: the schema inline, a schema file, or a bundled schema's name
            (default: 'invoice').
    """
    started_at = datetime.now(UTC)
    options = ocr_options(options)
    store_uri = results_uri or default_results_uri()
    sources = unique_sources(sources)
    batch_id = check_id(batch_id, "batch id") if batch_id else batch_id_for(sources, operation, options)
    documents = process_documents(sources, operation, options, store_uri, batch_size, batch_delay_s, fields_schema)
    summary = aggregate(batch_id, operation, options, batch_size, store_uri, started_at, documents)
    publish_batch_report(summary)
    store_batch_task(store_uri, summary)
    emit_about(EventName.batch_completed, "batch", batch_id, event_payload(summary))
    return summary
