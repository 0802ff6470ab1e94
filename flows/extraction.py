"""extract_document: process the document (text layer or OCR) → read its words back → extract the schema's
fields → store them in `fields` → event."""
from __future__ import annotations

from prefect import flow
from prefect.states import Completed, Failed, State

from blocks.loading import default_results_uri
from flows.pipeline import process_document
from tasks.events import EventName, emit
from tasks.extract.job import OPERATION, extract_job_task, resolve_schema, summarise, write_fields_task
from tasks.models import ProcessOptions


@flow(name="extract-document")
def extract_document(
    source: str,
    fields_schema: dict | None = None,
    schema_path: str | None = None,
    options: ProcessOptions | None = None,
    results_uri: str | None = None,
) -> State:
    """Extract typed fields, each with a confidence and a citation (page and box of its words), into `fields`.

    Args:
        source: The document: a path, file://, s3://bucket/key or http(s):// URL.
        fields_schema: The extraction schema (version, fields with type, method, hints, pattern, required).
        schema_path: A schema JSON file, or the name of a bundled schema (default: 'invoice').
        options: How to read the document (as for process-document).
        results_uri: Where the Parquet results go (as for process-document).
    """
    spec = resolve_schema(fields_schema, schema_path)
    store_uri = results_uri or default_results_uri()
    processed = process_document(source=source, operation=OPERATION, options=options, results_uri=store_uri,
                                 return_state=True)
    job = processed.result(raise_on_failure=False)
    if job.status == "failed":
        return Failed(message=f"{job.error_category}: {job.error}", data=job)
    results = extract_job_task(store_uri, job.job_id, spec)
    write_fields_task(store_uri, job.job_id, results)
    summary = summarise(job.job_id, job.source_uri, spec, results, store_uri)
    emit(EventName.extraction_completed, job.job_id, job.source_uri, summary.model_dump(
        mode="json", include={"job_id", "schema_name", "schema_version", "status", "confidence", "results_uri"})
        | {"fields_found": sum(r.value is not None for r in results), "fields_invalid": [
            r.field_name for r in results if not r.valid]})
    return Completed(message=f"{summary.status}: {len(results)} fields", data=summary)
