"""Scheduled ingestion: list a prefix (local folder or s3://bucket/prefix) and keep what has not been done yet."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.dataset as ds
from prefect import task
from pydantic import BaseModel

from blocks.storage import s3_client, split_s3_uri
from tasks.aws_errors import AWS_ERRORS, aws_error
from tasks.batch import BatchSummary
from tasks.errors import BadInput, NotFound
from tasks.models import ProcessOptions
from tasks.retry import TASK_RETRIES
from tasks.store import ResultsStore, options_column


class Listed(BaseModel):
    uri: str
    """As process-document records it in documents.source_uri: an absolute path or s3://bucket/key."""
    last_modified: datetime


def list_documents(prefix_uri: str, suffixes: list[str]) -> list[Listed]:
    """Every document under the prefix (recursively) whose name ends with one of the suffixes, in name order.
    An S3 prefix is a folder: s3://bucket/inbox lists inbox/..., not inbox2/...."""
    wanted = tuple(suffix.lower() for suffix in suffixes)
    listed = _list_s3(prefix_uri) if prefix_uri.startswith("s3://") else _list_local(prefix_uri)
    return sorted((item for item in listed if item.uri.lower().endswith(wanted)), key=lambda item: item.uri)


def _list_local(folder: str) -> list[Listed]:
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise NotFound(f"{folder}: no such folder")
    return [Listed(uri=str(path), last_modified=datetime.fromtimestamp(path.stat().st_mtime, UTC))
            for path in root.rglob("*") if path.is_file()]


def _list_s3(prefix_uri: str) -> list[Listed]:
    try:
        bucket, prefix = split_s3_uri(prefix_uri)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    folder = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
    try:
        pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
        return [Listed(uri=f"s3://{bucket}/{obj['Key']}", last_modified=obj["LastModified"])
                for page in pages for obj in page.get("Contents", []) if not obj["Key"].endswith("/")]
    except AWS_ERRORS as exc:
        raise aws_error(exc, prefix_uri, "S3") from exc


def completed_sources(results_uri: str, operation: str, options: ProcessOptions,
                      request: str | None = None) -> dict[str, datetime]:
    """Source → when its latest completed job with this operation, these options and this fields schema started."""
    rows = ResultsStore(results_uri).dataset("documents").to_table(
        columns=["source_uri", "started_at"],
        filter=(ds.field("operation") == operation) & (ds.field("status") == "completed")
        & (ds.field("options") == options_column(options, request)),
    ).to_pylist()
    latest: dict[str, datetime] = {}
    for row in rows:
        latest[row["source_uri"]] = max(row["started_at"], latest.get(row["source_uri"], row["started_at"]))
    return latest


class IngestionPlan(BaseModel):
    listed: int
    skipped: int
    """Listed documents with a completed job (same operation and options) started after their last change."""
    pending: list[str]
    """What this run processes."""
    deferred: int
    """Left for a later run by max_documents."""


class IngestionSummary(BaseModel):
    plan: IngestionPlan
    batch: BatchSummary | None
    """The batch that processed the pending documents (None when there were none)."""


def plan_ingestion(listed: list[Listed], completed: dict[str, datetime], max_documents: int | None) -> IngestionPlan:
    """Keep the listed documents that have no completed job started after the object was last written (a job that
    started before the write may have read the old bytes), at most max_documents of them."""
    todo = [item.uri for item in listed if item.uri not in completed or completed[item.uri] < item.last_modified]
    pending = todo if max_documents is None else todo[:max_documents]
    return IngestionPlan(listed=len(listed), skipped=len(listed) - len(todo), pending=pending,
                         deferred=len(todo) - len(pending))


list_documents_task = task(name="list-prefix", **TASK_RETRIES)(list_documents)
completed_sources_task = task(name="read-completed-jobs", **TASK_RETRIES)(completed_sources)
