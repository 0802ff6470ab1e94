"""extract_document: process the document (text layer or OCR) → find the schema's fields by their methods, side by
side → validate → store them in `fields` → event. The steps run inside process_document (operation=extract)."""
from __future__ import annotations

from prefect import flow
from prefect.states import Completed, Failed, State

from flows.pipeline import process_document
from tasks.extract.job import OPERATION, ExtractionSummary, resolve_schema
from tasks.models import ProcessOptions
from tasks.retry import FLOW_TIMEOUT


@flow(name="extract-document", **FLOW_TIMEOUT)
def extract_document(
    source: str,
    fields_schema: dict | str | None = None,
    options: ProcessOptions | None = None,
    results_uri: str | None = None,
) -> State:
    """Extract typed fields, each with a confidence and a citation (page and box of its words), into `fields`.

    Args:
        source: The document: a path, file://, s3://bucket/key or http(s):// URL.
        fields_schema: The extraction schema inline (version, fields with type, method, hints, pattern, required;
            or a JSON Schema document), a schema file, or a bundled schema's name (default: 'invoice').
        options: How to read the document (as for process-document: left empty, the docuforge-ocr block's
            settings; given, the block's settings with the fields you change from the built-in values).
        results_uri: Where the Parquet results go (as for process-document).
    """
    schema = resolve_schema(fields_schema)
    processed = process_document(source=source, operation=OPERATION, options=options, results_uri=results_uri,
                                 fields_schema=schema.model_dump(), return_state=True)
    job = processed.result(raise_on_failure=False)
    if job.status == "failed":
        return Failed(message=f"{job.error_category}: {job.error}", data=job)
    summary = ExtractionSummary.model_validate(job.extraction)
    return Completed(message=f"{summary.status}: {len(summary.fields)} fields", data=summary)
