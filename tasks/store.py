"""The results dataset: every table's schema declared once, a streaming per-job writer, local and S3 roots.

Layout: <root>/<table>/operation=<op>/date=<YYYY-MM-DD>/<job_id>.parquet (hive partitions; the partition
columns live in the path only). One file per job per table: a re-run replaces it, in whatever date partition
the earlier run left it. Figure crops: <root>/crops/<job_id>/<name>.png, replaced the same way.
"""
from __future__ import annotations

import glob
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from prefect import task
from prefect_aws import AwsCredentials

from blocks.storage import arrow_s3, aws_credentials, s3_bucket, s3_client, split_s3_uri
from tasks.aws_errors import AWS_ERRORS, aws_error
from tasks.errors import BadInput, DocuforgeError, NetworkError, NotFound, as_docuforge_error
from tasks.models import BBox, Block, PageResult, ProcessOptions, Table, output_key
from tasks.retry import TASK_RETRIES

BBOX = pa.struct([("x0", pa.float32()), ("y0", pa.float32()), ("x1", pa.float32()), ("y1", pa.float32())])
CELL = pa.struct(
    [("row", pa.int32()), ("col", pa.int32()), ("row_span", pa.int32()), ("col_span", pa.int32()), ("text", pa.string())]
)
PARTITION_KEYS = ("operation", "date")

SCHEMAS: dict[str, pa.Schema] = {
    "documents": pa.schema([
        ("job_id", pa.string()), ("document_id", pa.string()), ("source_uri", pa.string()),
        ("mime_type", pa.string()), ("size_bytes", pa.int64()), ("num_pages", pa.int32()),
        ("status", pa.string()), ("error_category", pa.string()), ("error", pa.string()),
        ("ocr_mode", pa.string()), ("engines", pa.list_(pa.string())), ("options", pa.string()),
        ("pages_ok", pa.int32()), ("pages_failed", pa.int32()),
        ("started_at", pa.timestamp("us", tz="UTC")), ("finished_at", pa.timestamp("us", tz="UTC")),
        ("duration_ms", pa.int64()),
    ]),
    "pages": pa.schema([
        ("job_id", pa.string()), ("page_number", pa.int32()), ("width", pa.int32()), ("height", pa.int32()),
        ("dpi", pa.int32()), ("text_source", pa.string()), ("status", pa.string()),
        ("error_category", pa.string()), ("error", pa.string()), ("text", pa.string()), ("markdown", pa.string()),
        ("confidence", pa.float32()), ("rotation", pa.int16()), ("skew_deg", pa.float32()),
        ("n_words", pa.int32()), ("duration_ms", pa.int64()), ("engine_errors", pa.map_(pa.string(), pa.string())),
    ]),
    "lines": pa.schema([
        ("job_id", pa.string()), ("page_number", pa.int32()), ("block_id", pa.int32()), ("line_id", pa.int32()),
        ("text", pa.string()), ("bbox", BBOX), ("confidence", pa.float32()), ("engine", pa.string()),
        ("agreement", pa.float32()),
    ]),
    "words": pa.schema([
        ("job_id", pa.string()), ("page_number", pa.int32()), ("block_id", pa.int32()), ("line_id", pa.int32()),
        ("word_id", pa.int32()), ("text", pa.string()), ("bbox", BBOX), ("confidence", pa.float32()),
        ("engine", pa.string()),
    ]),
    "tables": pa.schema([
        ("job_id", pa.string()), ("page_number", pa.int32()), ("table_id", pa.int32()), ("bbox", BBOX),
        ("n_rows", pa.int32()), ("n_cols", pa.int32()), ("cells", pa.list_(CELL)), ("html", pa.string()),
        ("markdown", pa.string()),
    ]),
    "figures": pa.schema([
        ("job_id", pa.string()), ("page_number", pa.int32()), ("figure_id", pa.int32()), ("bbox", BBOX),
        ("crop_uri", pa.string()), ("caption", pa.string()),
    ]),
    "fields": pa.schema([
        ("job_id", pa.string()), ("field_name", pa.string()), ("value", pa.string()),
        ("value_number", pa.float64()), ("value_date", pa.date32()), ("value_bool", pa.bool_()),
        ("type", pa.string()), ("method", pa.string()), ("confidence", pa.float32()), ("page_number", pa.int32()),
        ("bbox", BBOX), ("valid", pa.bool_()), ("error", pa.string()),
    ]),
    "sections": pa.schema([
        ("job_id", pa.string()), ("section_index", pa.int32()), ("section_type", pa.string()),
        ("page_start", pa.int32()), ("page_end", pa.int32()), ("word_count", pa.int32()), ("language", pa.string()),
        ("has_tables", pa.bool_()), ("summary", pa.string()), ("output_uri", pa.string()),
        ("has_images", pa.bool_()), ("text", pa.string()),
        ("criteria", pa.string()), ("boundary_reason", pa.string()), ("boundary_score", pa.float32()),
    ]),
    "edits": pa.schema([
        ("job_id", pa.string()), ("kind", pa.string()), ("num_pages", pa.int32()),
        ("pages_changed", pa.list_(pa.int32())), ("words_added", pa.int32()), ("changes", pa.string()),
        ("output_uri", pa.string()), ("cer", pa.float32()), ("verified", pa.bool_()),
    ]),
    # One row per batch run, in a file named by batch id; sources[i] was processed as job_ids[i].
    "batches": pa.schema([
        ("batch_id", pa.string()), ("status", pa.string()), ("n_documents", pa.int32()),
        ("completed", pa.int32()), ("partial", pa.int32()), ("failed", pa.int32()),
        ("failures_by_category", pa.map_(pa.string(), pa.int32())), ("pages", pa.int64()),
        ("pages_failed", pa.int64()), ("batch_size", pa.int32()), ("options", pa.string()),
        ("sources", pa.list_(pa.string())), ("job_ids", pa.list_(pa.string())),
        ("started_at", pa.timestamp("us", tz="UTC")), ("finished_at", pa.timestamp("us", tz="UTC")),
        ("duration_ms", pa.int64()), ("documents_per_min", pa.float64()),
    ]),
}
JOB_TABLES = tuple(name for name, schema in SCHEMAS.items() if "job_id" in schema.names)
"""The tables a job writes (one file per job each); the others are written by their own flows."""


def options_column(options: ProcessOptions, request: str | None = None) -> str:
    """The `options` column of documents and batches: what changes a job's output besides its document and
    operation (`output_key`), as JSON."""
    return json.dumps(output_key(options, request), sort_keys=True)


def arrow_rows(table: str, rows: list[dict]) -> pa.Table:
    """Rows (dicts; missing columns are null, extra keys ignored) as an Arrow table of the table's schema."""
    schema = SCHEMAS[table]
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)


def bbox_dict(bbox: BBox) -> dict[str, float]:
    return dict(zip(("x0", "y0", "x1", "y1"), bbox))


def table_row(job_id: str, table_id: int, table: Table) -> dict:
    """One row of the `tables` dataset."""
    return {
        "job_id": job_id, "page_number": table.page_number, "table_id": table_id, "bbox": bbox_dict(table.bbox),
        "n_rows": table.n_rows, "n_cols": table.n_cols,
        "cells": [{"row": c.row, "col": c.col, "row_span": c.row_span, "col_span": c.col_span, "text": c.text}
                  for c in table.cells],
        "html": table.html, "markdown": table.markdown,
    }


def figure_row(job_id: str, page_number: int, figure_id: int, bbox: BBox, crop_uri: str, caption: str | None) -> dict:
    """One row of the `figures` dataset."""
    return {"job_id": job_id, "page_number": page_number, "figure_id": figure_id, "bbox": bbox_dict(bbox),
            "crop_uri": crop_uri, "caption": caption}


def page_rows(job_id: str, page: PageResult, crop_uris: list[str]) -> dict[str, list[dict]]:
    """The rows one page contributes to every table (every engine's reading included). Tables and figures are
    numbered on their page top to bottom; crop_uris: where each figure's crop was put."""
    lines, words = [], []
    for line_id, (block_id, line) in enumerate(_lines_in_order(page.blocks)):
        ids = {"job_id": job_id, "page_number": page.page_number, "block_id": block_id, "line_id": line_id}
        for reading in [line, *line.readings]:
            lines.append(ids | {"text": reading.text, "bbox": bbox_dict(reading.bbox),
                                "confidence": reading.confidence, "engine": reading.engine,
                                "agreement": reading.agreement})
            words += [ids | {"word_id": word_id, "text": word.text, "bbox": bbox_dict(word.bbox),
                             "confidence": word.confidence, "engine": word.engine}
                      for word_id, word in enumerate(reading.words)]
    n_words = sum(len(line.words) for _, line in _lines_in_order(page.blocks))
    page_row = page.model_dump(exclude={"blocks", "tables", "figures"}) | {"job_id": job_id, "n_words": n_words}
    tables = [table_row(job_id, table_id, table) for table_id, table in enumerate(page.tables)]
    figures = [figure_row(job_id, page.page_number, figure_id, figure.bbox, uri, figure.caption)
               for figure_id, (figure, uri) in enumerate(zip(page.figures, crop_uris, strict=True))]
    return {"pages": [page_row], "lines": lines, "words": words, "tables": tables, "figures": figures}


def _lines_in_order(blocks: list[Block]):
    for block_id, block in enumerate(blocks):
        for line in block.lines:
            yield block_id, line


@contextmanager
def typed_store_errors(root: str) -> Iterator[None]:
    """Failures to write the results dataset at `root` as typed errors, the one mapping for the store: S3's by
    `aws_error` (an outage is a retryable network error), the file system's and pyarrow's by their kind (a full
    disk is a resource error)."""
    try:
        yield
    except AWS_ERRORS as exc:
        raise aws_error(exc, root, "S3") from exc
    except OSError as exc:
        if root.startswith("s3://") and exc.errno is None and not isinstance(exc, FileNotFoundError):
            raise arrow_s3_error(exc, root) from exc
        raise as_docuforge_error(exc) from exc


def arrow_s3_error(exc: OSError, root: str) -> DocuforgeError:
    """pyarrow's S3 errors carry the AWS error's name only in their text ("AWS Error ACCESS_DENIED …")."""
    text = str(exc)
    if any(name in text for name in ("ACCESS_DENIED", "INVALID_ACCESS_KEY_ID", "SIGNATURE_DOES_NOT_MATCH")):
        return BadInput(f"{root}: S3 refused the credentials ({text.splitlines()[0]})")
    if "NO_SUCH_BUCKET" in text:
        return NotFound(f"{root}: no such bucket")
    return NetworkError(f"{root}: S3 could not be read ({text.splitlines()[0]})")


class ResultsStore:
    """A results root: a local folder or s3://bucket/prefix."""

    def __init__(self, uri: str):
        self.uri = uri.rstrip("/")
        self.is_s3 = self.uri.startswith("s3://")
        if self.is_s3:
            self.bucket_name, self.prefix = split_s3_uri(self.uri)
        else:
            self.uri = str(Path(self.uri).expanduser().resolve())

    @functools.cached_property
    def credentials(self) -> AwsCredentials:
        """An S3 root's credentials, resolved once per store (blocks.storage.aws_credentials)."""
        return aws_credentials()

    def key(self, table: str, operation: str, day: date | str, job_id: str) -> str:
        return f"{table}/operation={operation}/date={day}/{job_id}.parquet"

    def publish(self, local_file: str | None, table: str, operation: str, day: date | str, job_id: str) -> None:
        """Put a job's file for one table in place (or remove it when None), then drop stale copies."""
        key = self.key(table, operation, day, job_id)
        with typed_store_errors(self.uri):
            if local_file is not None:
                self._put(local_file, key)
            for stale in self._copies(table, operation, job_id):
                if stale != key or local_file is None:
                    self._delete(stale)

    def uri_of(self, key: str) -> str:
        return f"{self.uri}/{key}"

    def replace_files(self, prefix: str, files: dict[str, str]) -> None:
        """Put each local file at its key (under prefix), then remove whatever else lies under prefix."""
        with typed_store_errors(self.uri):
            for key, local_file in files.items():
                self._put(local_file, key)
            for stale in set(self._keys(prefix)) - set(files):
                self._delete(stale)

    def dataset(self, table: str) -> ds.Dataset:
        """The table as a pyarrow dataset (what DuckDB, pandas and Spark see, without Docuforge code)."""
        if self.is_s3:
            fs = arrow_s3(self.credentials)
            path = "/".join(p for p in (self.bucket_name, self.prefix, table) if p)
            try:
                with typed_store_errors(self.uri):
                    return ds.dataset(path, filesystem=fs, format="parquet", partitioning="hive",
                                      schema=_with_partitions(SCHEMAS[table]))
            except NotFound:  # no file yet: S3 has no empty folders, read it as a table with no rows
                return ds.dataset([], format="parquet", schema=_with_partitions(SCHEMAS[table]))
        root = os.path.join(self.uri, table)
        os.makedirs(root, exist_ok=True)
        return ds.dataset(root, format="parquet", partitioning="hive", schema=_with_partitions(SCHEMAS[table]))

    def write(self, table: str, operation: str, day: date | str, file_id: str, rows: list[dict]) -> None:
        """Replace one file of a small table (e.g. a batch's row) with these rows, written at once."""
        with typed_store_errors(self.uri), tempfile.TemporaryDirectory(prefix="docuforge-rows-") as folder:
            local = os.path.join(folder, f"{table}.parquet")
            pq.write_table(arrow_rows(table, rows), local)
            self.publish(local, table, operation, day, file_id)

    def read(self, table: str, job_id: str | None = None) -> pa.Table:
        dataset = self.dataset(table)
        with typed_store_errors(self.uri):
            return dataset.to_table(filter=(ds.field("job_id") == job_id) if job_id else None)

    def _put(self, local_file: str, key: str) -> None:
        if self.is_s3:
            s3_bucket(self.bucket_name, self.prefix, self.credentials).upload_from_path(local_file, key)
            return
        target = Path(self.uri, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(local_file, temporary)
        os.replace(temporary, target)

    def _copies(self, table: str, operation: str, job_id: str) -> list[str]:
        prefix = f"{table}/operation={operation}/"
        if self.is_s3:
            return [key for key in self._keys(prefix) if key.endswith(f"/{job_id}.parquet")]
        pattern = os.path.join(self.uri, prefix, "date=*", f"{job_id}.parquet")
        return [os.path.relpath(p, self.uri) for p in glob.glob(pattern)]

    def _keys(self, prefix: str) -> list[str]:
        """Every key under prefix (relative to the root)."""
        if self.is_s3:
            full = f"{self.prefix}/{prefix}" if self.prefix else prefix
            pages = s3_client(self.credentials).get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name,
                                                                                           Prefix=full)
            return [obj["Key"][len(self.prefix) + 1 if self.prefix else 0:]
                    for page in pages for obj in page.get("Contents", [])]
        return [os.path.relpath(p, self.uri) for p in glob.glob(os.path.join(self.uri, prefix, "**"), recursive=True)
                if os.path.isfile(p)]

    def _delete(self, key: str) -> None:
        if self.is_s3:
            full = f"{self.prefix}/{key}" if self.prefix else key
            s3_client(self.credentials).delete_object(Bucket=self.bucket_name, Key=full)
        else:
            Path(self.uri, key).unlink(missing_ok=True)


def _with_partitions(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field("operation", pa.string())).append(pa.field("date", pa.string()))


class JobWriter:
    """Streams one job's rows into local Parquet files, then publishes them (documents last).

    Rows are flushed in row groups, so memory stays flat however many pages the document has.
    """

    FLUSH_ROWS = 5000

    def __init__(self, store: ResultsStore, job_id: str, operation: str, day: date | str):
        self.store, self.job_id, self.operation, self.day = store, job_id, operation, day
        with typed_store_errors(store.uri):
            self._dir = tempfile.mkdtemp(prefix=f"docuforge-rows-{job_id[:8]}-")
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[dict]] = {name: [] for name in JOB_TABLES}
        self._crops: dict[str, str] = {}
        """Key in the store → the crop's file in the work area."""
        self._crops_prefix = f"crops/{job_id}/"

    def add(self, table: str, rows: Iterable[dict]) -> None:
        pending = self._pending[table]
        pending.extend(rows)
        if len(pending) >= self.FLUSH_ROWS:
            with typed_store_errors(self.store.uri):
                self._flush(table)

    def add_page(self, page: PageResult) -> None:
        uris = []
        for figure in page.figures:
            key = self._crops_prefix + os.path.basename(figure.crop_path)
            self._crops[key] = figure.crop_path
            uris.append(self.store.uri_of(key))
        for table, rows in page_rows(self.job_id, page, uris).items():
            self.add(table, rows)

    def publish_tables(self) -> list[str]:
        """Publish the figure crops and every table of the job but documents; where they are: one file per table
        with rows, then the crops' folder."""
        self.store.replace_files(self._crops_prefix, self._crops)
        files = [self._publish(table) for table in JOB_TABLES if table != "documents"]
        return [uri for uri in files if uri] + ([self.store.uri_of(self._crops_prefix)] if self._crops else [])

    def commit(self, document_row: dict) -> list[str]:
        """Publish the figure crops and every table of the job; the documents row goes last, so 'completed'
        implies the rest. Returns where the job's files are (publish_tables', then the documents file)."""
        try:
            files = self.publish_tables()
            self.add("documents", [document_row | {"job_id": self.job_id}])
            files.append(self._publish("documents"))
        finally:
            self.discard()
        return files

    def discard(self) -> None:
        """Drop the local files, published or not (a writer that failed may fail again as it closes)."""
        for writer in self._writers.values():
            with suppress(OSError):
                writer.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _flush(self, table: str) -> None:
        rows = self._pending[table]
        if not rows:
            return
        batch = arrow_rows(table, rows)
        if table not in self._writers:
            self._writers[table] = pq.ParquetWriter(os.path.join(self._dir, f"{table}.parquet"), SCHEMAS[table])
        self._writers[table].write_table(batch)
        rows.clear()

    def _publish(self, table: str) -> str | None:
        """The table's file of this job put in place (its URI), or removed when the job has no rows in it."""
        with typed_store_errors(self.store.uri):
            self._flush(table)
            writer = self._writers.pop(table, None)
            if writer is not None:
                writer.close()
        local = os.path.join(self._dir, f"{table}.parquet") if writer is not None else None
        self.store.publish(local, table, self.operation, self.day, self.job_id)
        return self.store.uri_of(self.store.key(table, self.operation, self.day, self.job_id)) if local else None


def store_pages(store_uri: str, job_id: str, operation: str, day: str, page_paths: list[str]) -> list[str]:
    """Stream the page results from the work area into every table of the results dataset but documents; where
    the job's files are."""
    writer = JobWriter(ResultsStore(store_uri), job_id, operation, day)
    try:
        for path in page_paths:
            writer.add_page(PageResult.model_validate_json(Path(path).read_text()))
        return writer.publish_tables()
    finally:
        writer.discard()


def store_document(store_uri: str, job_id: str, operation: str, day: str, document_row: dict) -> str:
    """The job's documents row, written once the rest of the job is (so 'completed' implies the rest); its file."""
    store = ResultsStore(store_uri)
    store.write("documents", operation, day, job_id, [document_row | {"job_id": job_id}])
    return store.uri_of(store.key("documents", operation, day, job_id))


store_pages_task = task(name="store-results", **TASK_RETRIES)(store_pages)
store_document_task = task(name="store-document-row", **TASK_RETRIES)(store_document)
