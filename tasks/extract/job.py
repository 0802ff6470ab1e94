"""An extraction job's steps over the results dataset: read the words back, extract, write the `fields` rows."""
from __future__ import annotations

from pydantic import BaseModel
from prefect import task

from tasks.errors import BadInput
from tasks.extract.rules import FieldResult, extract_fields, overall_confidence, tokens_from_words
from tasks.extract.schema import ExtractionSchema, load_schema
from tasks.retry import retry_if_retryable
from tasks.store import ResultsStore

OPERATION = "extract"
DEFAULT_SCHEMA = "invoice"


class ExtractionSummary(BaseModel):
    job_id: str
    source_uri: str
    schema_name: str
    schema_version: str
    status: str
    fields: list[FieldResult]
    confidence: float | None
    results_uri: str


def resolve_schema(schema: dict | None, schema_path: str | None) -> ExtractionSchema:
    """The schema given inline, else from its file, else the bundled invoice schema."""
    if schema is not None and schema_path is not None:
        raise BadInput("give the schema inline or as a path, not both")
    if schema is not None:
        try:
            return ExtractionSchema.model_validate(schema)
        except ValueError as exc:
            raise BadInput(f"the schema is not valid: {exc}") from exc
    return load_schema(schema_path or DEFAULT_SCHEMA)


def extract_job(store_uri: str, job_id: str, schema: ExtractionSchema) -> list[FieldResult]:
    """The schema's fields from the job's words in the results dataset."""
    words = ResultsStore(store_uri).read("words", job_id).to_pylist()
    return extract_fields(schema, tokens_from_words(words))


def write_fields(store_uri: str, job_id: str, results: list[FieldResult]) -> str:
    """The job's `fields` file, in the date partition of its documents row (a re-run replaces it)."""
    store = ResultsStore(store_uri)
    documents = store.read("documents", job_id).to_pylist()
    day = documents[0]["date"]
    store.write("fields", OPERATION, day, job_id, [result.row(job_id) for result in results])
    return day


def summarise(job_id: str, source_uri: str, schema: ExtractionSchema, results: list[FieldResult],
              store_uri: str) -> ExtractionSummary:
    status = "completed" if all(result.valid for result in results) else "partial"
    return ExtractionSummary(job_id=job_id, source_uri=source_uri, schema_name=schema.name,
                             schema_version=schema.version, status=status, fields=results,
                             confidence=overall_confidence(results), results_uri=store_uri)


@task(name="extract-fields", retries=2, retry_delay_seconds=5, retry_condition_fn=retry_if_retryable)
def extract_job_task(store_uri: str, job_id: str, schema: ExtractionSchema) -> list[FieldResult]:
    return extract_job(store_uri, job_id, schema)


@task(name="store-fields", retries=2, retry_delay_seconds=5, retry_condition_fn=retry_if_retryable)
def write_fields_task(store_uri: str, job_id: str, results: list[FieldResult]) -> str:
    return write_fields(store_uri, job_id, results)
