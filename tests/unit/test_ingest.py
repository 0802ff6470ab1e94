"""Ingestion: listing a local folder or an S3 prefix, and deciding what still needs doing (no Prefect)."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from tasks.errors import NotFound
from tasks.ingest import Listed, completed_sources, list_documents, plan_ingestion
from tasks.models import ProcessOptions
from tasks.store import JobWriter, ResultsStore, options_column

SUFFIXES = [".pdf", ".png"]
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_local_folder_is_listed_recursively_by_suffix(tmp_path):
    for name in ("a.pdf", "sub/b.PDF", "sub/deeper/c.png", "notes.txt", "d.pdf.part"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    os.utime(tmp_path / "a.pdf", (T0.timestamp(), T0.timestamp()))
    listed = list_documents(str(tmp_path), SUFFIXES)
    assert [item.uri for item in listed] == [str(tmp_path / n) for n in ("a.pdf", "sub/b.PDF", "sub/deeper/c.png")]
    assert listed[0].last_modified == T0


def test_missing_folder_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        list_documents(str(tmp_path / "nope"), SUFFIXES)


def test_s3_prefix_is_a_folder(s3_bucket_name):
    import boto3

    s3 = boto3.client("s3")
    for key in ("inbox/a.pdf", "inbox/sub/b.png", "inbox/c.txt", "inbox2/d.pdf", "e.pdf"):
        s3.put_object(Bucket=s3_bucket_name, Key=key, Body=b"x")
    listed = list_documents(f"s3://{s3_bucket_name}/inbox", SUFFIXES)
    assert [item.uri for item in listed] == [f"s3://{s3_bucket_name}/inbox/a.pdf",
                                             f"s3://{s3_bucket_name}/inbox/sub/b.png"]
    assert all(item.last_modified.tzinfo is not None for item in listed)
    assert len(list_documents(f"s3://{s3_bucket_name}", SUFFIXES)) == 4


def test_missing_bucket_is_not_found(moto_endpoint):
    with pytest.raises(NotFound):
        list_documents("s3://no-such-bucket-here/inbox", SUFFIXES)


def _row(store: ResultsStore, job_id: str, source: str, status: str, started_at: datetime,
         options: ProcessOptions, operation: str = "parse") -> None:
    JobWriter(store, job_id, operation, started_at.date().isoformat()).commit({
        "source_uri": source, "status": status, "options": options_column(options),
        "started_at": started_at, "finished_at": started_at + timedelta(seconds=5)})


def test_completed_sources_are_those_done_with_the_same_operation_and_options(tmp_path):
    store = ResultsStore(str(tmp_path))
    fast = ProcessOptions(ocr_mode="fast")
    _row(store, "j1", "/in/a.pdf", "completed", T0, fast)
    _row(store, "j2", "/in/a.pdf", "completed", T0 + timedelta(hours=1), fast)
    _row(store, "j3", "/in/b.pdf", "failed", T0, fast)
    _row(store, "j4", "/in/c.pdf", "partial", T0, fast)
    _row(store, "j5", "/in/d.pdf", "completed", T0, ProcessOptions())
    _row(store, "j6", "/in/e.pdf", "completed", T0, fast, operation="split")
    assert completed_sources(str(tmp_path), "parse", fast) == {"/in/a.pdf": T0 + timedelta(hours=1)}
    assert completed_sources(str(tmp_path), "parse", ProcessOptions()) == {"/in/d.pdf": T0}


def test_completed_sources_of_an_empty_s3_root(s3_bucket_name):
    assert completed_sources(f"s3://{s3_bucket_name}/results", "parse", ProcessOptions()) == {}


def test_plan_skips_what_completed_after_its_last_change():
    listed = [Listed(uri="/in/a.pdf", last_modified=T0), Listed(uri="/in/b.pdf", last_modified=T0),
              Listed(uri="/in/c.pdf", last_modified=T0 + timedelta(hours=2)), Listed(uri="/in/d.pdf", last_modified=T0)]
    done = {"/in/a.pdf": T0 + timedelta(hours=1), "/in/c.pdf": T0 + timedelta(hours=1)}
    plan = plan_ingestion(listed, done, None)
    assert plan.pending == ["/in/b.pdf", "/in/c.pdf", "/in/d.pdf"] and plan.skipped == 1 and plan.deferred == 0
    capped = plan_ingestion(listed, done, 2)
    assert capped.pending == ["/in/b.pdf", "/in/c.pdf"] and capped.deferred == 1 and capped.listed == 4
