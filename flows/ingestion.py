"""scheduled-ingestion: list a prefix → skip what already completed → run the batch flow on the rest."""
from __future__ import annotations

from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import Field

from blocks.loading import default_results_uri, ocr_options
from flows.batch import batch
from tasks.batch import DEFAULT_BATCH_SIZE
from tasks.extract.job import OPERATION as EXTRACT, resolve_schema
from tasks.fetch import SUPPORTED_SUFFIXES
from tasks.ingest import IngestionSummary, completed_sources_task, list_documents_task, plan_ingestion
from tasks.models import Operation, ProcessOptions
from tasks.retry import FLOW_TIMEOUT


@flow(name="scheduled-ingestion", **FLOW_TIMEOUT)
def scheduled_ingestion(
    prefix_uri: str,
    suffixes: list[str] = sorted(SUPPORTED_SUFFIXES),
    operation: Operation = "parse",
    options: ProcessOptions | None = None,
    batch_size: Annotated[int, Field(ge=1)] = DEFAULT_BATCH_SIZE,
    results_uri: str | None = None,
    max_documents: Annotated[int | None, Field(ge=1)] = None,
    fields_schema: dict | str | None = None,
) -> IngestionSummary:
    """Process the documents under a prefix that have not been processed yet (or have changed since).

    Args:
        prefix_uri: Where the documents are: a local folder or s3://bucket/prefix (listed recursively).
        suffixes: Which files are documents, by name ending (any case).
        operation: What to do with each document.
        options: How to read each document; a document done with other options (or schema) is done again. Left
            empty: the docuforge-ocr block's settings (else the built-in values). Given: the block's settings, with
            the fields you change from the built-in values shown here.
        batch_size: Documents processed at once.
        results_uri: Where the Parquet results go (default: $DOCUFORGE_RESULTS_URI,
            else the docuforge-results block, else ./docuforge-data/results).
        max_documents: Process at most this many documents in this run (the rest wait for the next one).
        fields_schema: For operation=extract: the schema inline, a schema file, or a bundled schema's name
            (default: 'invoice').
    """
    options = ocr_options(options)
    store_uri = results_uri or default_results_uri()
    listed = list_documents_task(prefix_uri, suffixes)
    fingerprint = resolve_schema(fields_schema).fingerprint() if operation == EXTRACT else None
    done = completed_sources_task(store_uri, operation, options, fingerprint)
    plan = plan_ingestion(listed, done, max_documents)
    get_run_logger().info("%s: %d documents listed, %d already done, %d to process now, %d left for later",
                          prefix_uri, plan.listed, plan.skipped, len(plan.pending), plan.deferred)
    report = batch(sources=plan.pending, operation=operation, options=options, batch_size=batch_size,
                   results_uri=store_uri, fields_schema=fields_schema) if plan.pending else None
    return IngestionSummary(plan=plan, batch=report)
