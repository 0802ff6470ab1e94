"""Batches: a stable batch id, the groups a batch is run in, and the aggregate of its documents' outcomes."""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from prefect import task
from pydantic import BaseModel

from tasks.errors import BadInput, InternalError, as_docuforge_error
from tasks.fetch import redact_uri
from tasks.models import JobStatus, JobSummary, Operation, ProcessOptions
from tasks.retry import TASK_RETRIES
from tasks.store import ResultsStore, options_column

DEFAULT_BATCH_SIZE = 5
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class BatchSummary(BaseModel):
    batch_id: str
    operation: Operation
    status: JobStatus
    n_documents: int
    completed: int
    partial: int
    failed: int
    failures_by_category: dict[str, int]
    pages: int
    pages_failed: int
    batch_size: int
    options: str
    """The options' fingerprint as JSON, as in the documents table."""
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    documents_per_min: float | None
    results_uri: str
    documents: list[JobSummary]


def check_id(value: str, what: str) -> str:
    """Batch and workflow ids name files and folders of the results: letters, digits, '.', '_' and '-' only."""
    if not SAFE_ID.fullmatch(value) or ".." in value:
        raise BadInput(f"{what} {value!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or "
                       "digit")
    return value


def unique_sources(sources: Iterable[str]) -> list[str]:
    """The sources in their order, each once (the same source twice would be the same job)."""
    return list(dict.fromkeys(sources))


def batch_id_for(sources: Iterable[str], operation: str, options: ProcessOptions) -> str:
    """The same sources (in any order), operation and options are the same batch, so a retried batch replaces
    its own row."""
    payload = json.dumps([sorted(set(sources)), operation, options.fingerprint()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def groups_of(items: list[str], size: int) -> list[list[str]]:
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [items[start:start + size] for start in range(0, len(items), size)]


def outcome_summary(result: object, source: str, operation: Operation, results_uri: str) -> JobSummary:
    """What a process-document run left: its JobSummary, or (where the run itself broke before it could record
    one, e.g. the results store was unreachable) a failed summary with no job."""
    if isinstance(result, JobSummary):
        return result
    error = as_docuforge_error(result if isinstance(result, BaseException) else InternalError(f"no summary: {result}"))
    return JobSummary(job_id="", document_id=None, source_uri=redact_uri(source), operation=operation,
                      status="failed", error_category=str(error.category), error=error.message,
                      results_uri=results_uri)


def overall_status(statuses: list[str]) -> JobStatus:
    """completed when every document completed (or there were none), failed when every one failed."""
    if all(status == "completed" for status in statuses):
        return "completed"
    return "failed" if all(status == "failed" for status in statuses) else "partial"


def aggregate(batch_id: str, operation: Operation, options: ProcessOptions, batch_size: int, results_uri: str,
              started_at: datetime, documents: list[JobSummary], finished_at: datetime | None = None) -> BatchSummary:
    finished_at = finished_at or datetime.now(UTC)
    statuses = Counter(document.status for document in documents)
    n = len(documents)
    duration_ms = round((finished_at - started_at).total_seconds() * 1000)
    return BatchSummary(
        batch_id=batch_id, operation=operation, status=overall_status([d.status for d in documents]),
        n_documents=n, completed=statuses["completed"], partial=statuses["partial"], failed=statuses["failed"],
        failures_by_category=dict(Counter(d.error_category for d in documents if d.status == "failed")),
        pages=sum(d.num_pages for d in documents), pages_failed=sum(d.pages_failed for d in documents),
        batch_size=batch_size, options=options_column(options),
        started_at=started_at, finished_at=finished_at, duration_ms=duration_ms,
        documents_per_min=round(n / (duration_ms / 60000), 2) if n and duration_ms > 0 else None,
        results_uri=results_uri, documents=documents,
    )


def batch_row(summary: BatchSummary) -> dict:
    """The batch's row in the `batches` table."""
    return summary.model_dump(exclude={"documents", "operation", "results_uri"}) | {
        "sources": [d.source_uri for d in summary.documents], "job_ids": [d.job_id for d in summary.documents],
    }


def event_payload(summary: BatchSummary) -> dict:
    """docuforge.batch.completed's payload: the totals, and the failed jobs (payloads show in the UI)."""
    return summary.model_dump(mode="json", exclude={"documents", "options"}) | {
        "failed_job_ids": [d.job_id for d in summary.documents if d.status == "failed" and d.job_id],
    }


def store_batch(results_uri: str, summary: BatchSummary) -> None:
    """One file per batch: a re-run of the same batch replaces its row."""
    ResultsStore(results_uri).write("batches", summary.operation, summary.started_at.date().isoformat(),
                                    summary.batch_id, [batch_row(summary)])


store_batch_task = task(name="store-batch", **TASK_RETRIES)(store_batch)
