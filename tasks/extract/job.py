"""An extraction job's steps over the results dataset: read the words back, run each method on its fields in
parallel, validate, write the `fields` rows; the event once the job's documents row is written."""
from __future__ import annotations

from prefect import task
from pydantic import BaseModel

from blocks.loading import llm_provider
from blocks.settings import LlmProviderSettings
from tasks.events import EventName, emit
from tasks.extract.ai import NEEDS_AI, extract_with_ai
from tasks.extract.auto import auto_pairs
from tasks.extract.nlp import extract_with_nlp
from tasks.extract.rules import FieldResult, Token, extract_fields, overall_confidence, tokens_from_words
from tasks.extract.schema import ExtractionSchema, FieldSpec, load_schema, parse_schema
from tasks.extract.validate import validate
from tasks.retry import TASK_RETRIES
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


def resolve_schema(schema: dict | str | None) -> ExtractionSchema:
    """The schema given inline (Docuforge's format or a JSON Schema document), else a file or a bundled schema's
    name, else the bundled invoice schema."""
    if isinstance(schema, dict):
        return parse_schema(schema)
    return load_schema(schema or DEFAULT_SCHEMA)


def read_tokens(store_uri: str, job_id: str) -> list[Token]:
    return tokens_from_words(ResultsStore(store_uri).read("words", job_id).to_pylist())


def extract_by_method(method: str, schema: ExtractionSchema, tokens: list[Token],
                      llm: LlmProviderSettings | None = None) -> list[FieldResult]:
    """The fields of one method. Without an LLM key, ai fields take what the rules and NLP find and say they need
    the ai method where those find nothing."""
    specs = [spec for spec in schema.fields if spec.method == method]
    if method == "auto":
        return auto_pairs(tokens)
    if method == "regex":
        return extract_fields(schema.model_copy(update={"fields": specs}), tokens)
    if method == "nlp":
        return extract_with_nlp(specs, tokens)
    if llm is not None and _has_key(llm):
        return extract_with_ai(specs, tokens, llm)
    return _without_llm(specs, tokens)


def _has_key(llm: LlmProviderSettings) -> bool:
    try:
        return llm.resolve_api_key() is not None
    except ValueError:
        return True  # a Secret block named but missing: the ai method's failure says so


def _without_llm(specs: list[FieldSpec], tokens: list[Token]) -> list[FieldResult]:
    """Each field as the rules read it alone, else as the NLP method does (the page's entities found once)."""
    by_rules = [extract_fields(ExtractionSchema(version="1", fields=[spec]), tokens)[0] for spec in specs]
    missed = [spec for spec, found in zip(specs, by_rules) if found.value is None]
    by_nlp = {found.field_name: found for found in extract_with_nlp(missed, tokens)} if missed else {}
    return [found if found.value is not None
            else by_nlp[spec.name] if by_nlp[spec.name].value is not None
            else FieldResult(field_name=spec.name, type=spec.type, method="ai", valid=False, error=NEEDS_AI)
            for spec, found in zip(specs, by_rules)]


def extract(schema: ExtractionSchema, tokens: list[Token], llm: LlmProviderSettings | None = None) -> list[FieldResult]:
    """Every field of the schema (without Prefect: one method after the other)."""
    return combine(schema, [extract_by_method(method, schema, tokens, llm) for method in methods(schema)])


def methods(schema: ExtractionSchema) -> list[str]:
    return sorted({spec.method for spec in schema.fields} | ({"auto"} if schema.auto else set()))


def combine(schema: ExtractionSchema, by_method: list[list[FieldResult]]) -> list[FieldResult]:
    """The schema's fields validated, in schema order, then the form's other key → value pairs (auto): those not
    named or cited by a schema field."""
    found = {r.field_name: r for results in by_method for r in results if r.method != "auto"}
    named = [validate(spec, found[spec.name]) for spec in schema.fields]
    cited = {(r.page_number, r.bbox) for r in named if r.bbox is not None}
    return named + [r for results in by_method for r in results if r.method == "auto" and r.field_name not in found
                    and (r.page_number, r.bbox) not in cited]


def write_fields(store_uri: str, job_id: str, day: str, results: list[FieldResult]) -> None:
    """The job's `fields` file, in its date partition (a re-run replaces it)."""
    ResultsStore(store_uri).write("fields", OPERATION, day, job_id, [result.row(job_id) for result in results])


def summarise(job_id: str, source_uri: str, schema: ExtractionSchema, results: list[FieldResult],
              store_uri: str) -> ExtractionSummary:
    status = "completed" if all(result.valid for result in results) else "partial"
    return ExtractionSummary(job_id=job_id, source_uri=source_uri, schema_name=schema.name,
                             schema_version=schema.version, status=status, fields=results,
                             confidence=overall_confidence(results), results_uri=store_uri)


def emit_extraction(summary: ExtractionSummary) -> None:
    emit(EventName.extraction_completed, summary.job_id, summary.source_uri, summary.model_dump(
        mode="json", include={"job_id", "schema_name", "schema_version", "status", "confidence", "results_uri"})
        | {"fields_found": sum(r.value is not None for r in summary.fields),
           "fields_invalid": [r.field_name for r in summary.fields if not r.valid]})


@task(name="extract-fields", **TASK_RETRIES)
def extract_method_task(method: str, store_uri: str, job_id: str, schema: ExtractionSchema) -> list[FieldResult]:
    return extract_by_method(method, schema, read_tokens(store_uri, job_id), llm_provider() if method == "ai" else None)


@task(name="store-fields", **TASK_RETRIES)
def write_fields_task(store_uri: str, job_id: str, day: str, results: list[FieldResult]) -> None:
    write_fields(store_uri, job_id, day, results)


def run_extraction(job_id: str, source_uri: str, day: str, schema: ExtractionSchema,
                   store_uri: str) -> ExtractionSummary:
    """In a flow: each method's fields as a task of its own, run side by side; then validate and store."""
    futures = [extract_method_task.submit(method, store_uri, job_id, schema) for method in methods(schema)]
    results = combine(schema, [future.result() for future in futures])
    write_fields_task(store_uri, job_id, day, results)
    return summarise(job_id, source_uri, schema, results, store_uri)
