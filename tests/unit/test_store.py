import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tasks.errors import NetworkError, NotFound
from tasks.models import Block, Line, PageResult, Word
from tasks.store import JOB_TABLES, SCHEMAS, JobWriter, ResultsStore


def _page(number: int, text: str = "hello world") -> PageResult:
    words = [Word(text=t, bbox=(0.1 * i, 0.1, 0.1 * i + 0.05, 0.12), confidence=0.9, engine="tesseract")
             for i, t in enumerate(text.split())]
    line = Line(text=text, bbox=(0.0, 0.1, 0.5, 0.12), confidence=0.9, engine="tesseract", words=words)
    return PageResult(page_number=number, width=100, height=200, dpi=300, text_source="ocr", text=text,
                      markdown=text, confidence=0.9, blocks=[Block(bbox=line.bbox, lines=[line])])


def _document(status: str = "completed") -> dict:
    now = datetime.now(UTC)
    return {"document_id": "d" * 64, "source_uri": "/x.pdf", "status": status, "num_pages": 2,
            "engines": ["tesseract"], "started_at": now, "finished_at": now, "duration_ms": 5}


def _write(store: ResultsStore, job_id: str, day: str, pages: int = 2, status: str = "completed") -> None:
    writer = JobWriter(store, job_id, "parse", day)
    for number in range(1, pages + 1):
        writer.add_page(_page(number))
    writer.commit(_document(status))


def test_rows_land_in_hive_partitions_readable_without_docuforge(tmp_path):
    store = ResultsStore(str(tmp_path))
    _write(store, "job1", "2026-11-24")
    assert (tmp_path / "pages/operation=parse/date=2026-11-24/job1.parquet").is_file()
    assert not (tmp_path / "tables").exists(), "a table with no rows gets no file"
    words = duckdb.sql(f"select * from read_parquet('{tmp_path}/words/**/*.parquet', hive_partitioning=true)").df()
    assert list(words.text) == ["hello", "world"] * 2
    assert set(words.operation) == {"parse"}
    assert words.bbox[1]["x0"] == pytest.approx(0.1)
    documents = pd.read_parquet(tmp_path / "documents")
    assert documents.loc[0, "status"] == "completed" and documents.loc[0, "job_id"] == "job1"
    assert list(documents.loc[0, "engines"]) == ["tesseract"]


def test_rerun_replaces_even_across_dates(tmp_path):
    store = ResultsStore(str(tmp_path))
    _write(store, "job1", "2026-11-23", pages=3, status="failed")
    _write(store, "job2", "2026-11-23")
    _write(store, "job1", "2026-11-24", pages=2)
    pages = store.read("pages").to_pandas()
    assert len(pages[pages.job_id == "job1"]) == 2 and len(pages[pages.job_id == "job2"]) == 2
    documents = store.read("documents").to_pandas().set_index("job_id")
    assert documents.loc["job1", "status"] == "completed" and documents.loc["job1", "date"] == "2026-11-24"
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.rglob(".*"))


def test_rows_stream_in_row_groups(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(JobWriter, "FLUSH_ROWS", 3)
    store = ResultsStore(str(tmp_path))
    _write(store, "big", "2026-11-24", pages=10)
    (words_file,) = tmp_path.glob("words/**/big.parquet")
    assert pq.ParquetFile(words_file).num_row_groups > 1
    assert store.read("words", "big").num_rows == 20


def test_every_table_schema_is_declared():
    assert set(SCHEMAS) == {"documents", "pages", "lines", "words", "tables", "figures", "fields", "sections",
                            "edits", "batches"}
    assert set(SCHEMAS) - set(JOB_TABLES) == {"batches"}
    assert all("job_id" in SCHEMAS[table].names for table in JOB_TABLES)
    assert not any({"operation", "date"} & set(schema.names) for schema in SCHEMAS.values())


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_table_with_no_files_reads_as_zero_rows(tmp_path, request, where):
    root = str(tmp_path) if where == "local" else f"s3://{request.getfixturevalue('s3_bucket_name')}/results"
    documents = ResultsStore(root).read("documents")
    assert documents.num_rows == 0
    assert documents.schema.names == SCHEMAS["documents"].names + ["operation", "date"]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_write_replaces_a_small_tables_file_across_dates(tmp_path, request, where):
    root = str(tmp_path) if where == "local" else f"s3://{request.getfixturevalue('s3_bucket_name')}/results"
    store = ResultsStore(root)
    store.write("batches", "parse", "2026-11-23", "b1", [{"batch_id": "b1", "n_documents": 3}])
    store.write("batches", "parse", "2026-11-23", "b2", [{"batch_id": "b2", "n_documents": 1}])
    store.write("batches", "parse", "2026-11-24", "b1", [{"batch_id": "b1", "n_documents": 2}])
    rows = sorted(store.read("batches").to_pylist(), key=lambda row: row["batch_id"])
    assert [(r["batch_id"], r["n_documents"], r["date"]) for r in rows] == [("b1", 2, "2026-11-24"),
                                                                           ("b2", 1, "2026-11-23")]


def test_s3_round_trip_through_prefect_aws(s3_bucket_name):
    import boto3

    store = ResultsStore(f"s3://{s3_bucket_name}/results")
    _write(store, "job1", "2026-11-23", pages=3)
    _write(store, "job1", "2026-11-24", pages=2)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket_name)["Contents"]]
    assert "results/pages/operation=parse/date=2026-11-24/job1.parquet" in keys
    assert not any("date=2026-11-23" in key for key in keys)
    assert store.read("pages").num_rows == 2
    assert store.read("documents").to_pandas().loc[0, "status"] == "completed"


@pytest.mark.parametrize("table", ["documents", "pages", "lines", "words"])
def test_every_written_table_reads_with_duckdb_and_pandas(tmp_path, table):
    store = ResultsStore(str(tmp_path))
    _write(store, "job1", "2026-11-24", pages=3)
    _write(store, "job2", "2026-11-25", pages=1)
    expected = {"documents": 2, "pages": 4, "lines": 4, "words": 8}[table]
    with_duckdb = duckdb.sql(f"select * from read_parquet('{tmp_path}/{table}/**/*.parquet', "
                             "hive_partitioning=true)").df()
    with_pandas = pd.read_parquet(tmp_path / table)
    assert len(with_duckdb) == len(with_pandas) == expected
    assert set(with_pandas.columns) == set(SCHEMAS[table].names) | {"operation", "date"}
    assert sorted(with_duckdb.job_id.unique()) == ["job1", "job2"]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_tables_figures_and_crops_are_written_and_replaced(tmp_path, request, where):
    from PIL import Image

    from tasks.models import Figure
    from tasks.tables import Cell, make_table

    root = str(tmp_path / "results") if where == "local" else f"s3://{request.getfixturevalue('s3_bucket_name')}/out"
    store = ResultsStore(root)
    crop = tmp_path / "page-00001-figure-0.png"
    Image.new("RGB", (40, 30), "orange").save(crop)
    page = _page(1)
    page.tables = [make_table(1, (0.1, 0.1, 0.5, 0.2), [Cell(row=0, col=0, text="a"), Cell(row=1, col=1, text="b")])]
    page.figures = [Figure(bbox=(0.1, 0.5, 0.6, 0.9), crop_path=str(crop), caption="Figure 1. Orange.")]
    writer = JobWriter(store, "job1", "parse", "2026-11-24")
    writer.add_page(page)
    writer.commit(_document())

    (table,) = store.read("tables").to_pylist()
    assert (table["table_id"], table["n_rows"], table["n_cols"]) == (0, 2, 2) and table["html"].startswith("<table>")
    (figure,) = store.read("figures").to_pylist()
    assert figure["caption"] == "Figure 1. Orange." and figure["figure_id"] == 0
    assert figure["crop_uri"] == f"{store.uri}/crops/job1/page-00001-figure-0.png"
    assert _files(store, "crops") == ["crops/job1/page-00001-figure-0.png"]

    _write(store, "job1", "2026-11-24", pages=1)  # the same job again, finding no table or figure this time
    assert _files(store, "tables") == _files(store, "figures") == _files(store, "crops") == []
    assert len(_files(store, "pages")) == 1


def _files(store: ResultsStore, folder: str) -> list[str]:
    if store.is_s3:
        import boto3

        listed = boto3.client("s3").list_objects_v2(Bucket=store.bucket_name, Prefix=f"{store.prefix}/{folder}/")
        return [o["Key"].removeprefix(f"{store.prefix}/") for o in listed.get("Contents", [])]
    return sorted(str(p.relative_to(store.uri)) for p in Path(store.uri, folder).rglob("*") if p.is_file())


# ---- failures while writing, typed where they happen ----


def test_an_s3_outage_while_writing_is_a_retryable_network_error(moto_endpoint, monkeypatch):
    from deployments.local_stack import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(NetworkError) as caught:
        _write(ResultsStore("s3://results/out"), "job1", "2026-11-24")
    assert caught.value.retryable and "s3://results/out" in caught.value.message


def test_an_s3_outage_while_reading_is_a_retryable_network_error(moto_endpoint, monkeypatch):
    from deployments.local_stack import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(NetworkError) as caught:
        ResultsStore("s3://results/out").read("documents")
    assert caught.value.retryable and "s3://results/out" in caught.value.message


def test_without_aws_variables_the_store_uses_the_docuforge_aws_block(prefect_harness, moto_endpoint, monkeypatch,
                                                                       s3_bucket_name):
    from prefect_aws import AwsCredentials

    from blocks.settings import AWS_CREDENTIALS_BLOCK
    from blocks.storage import ENVIRONMENT_CREDENTIALS, aws_credentials_from_env

    aws_credentials_from_env().save(AWS_CREDENTIALS_BLOCK, overwrite=True)  # what `docuforge init` saves
    try:
        for name in ENVIRONMENT_CREDENTIALS:
            monkeypatch.delenv(name, raising=False)
        store = ResultsStore(f"s3://{s3_bucket_name}/from-block")
        assert store.credentials.aws_client_parameters.endpoint_url == moto_endpoint, "only the block names moto"
        _write(store, "job1", "2026-11-24")
        assert store.read("documents").num_rows == 1
    finally:
        AwsCredentials.delete(AWS_CREDENTIALS_BLOCK)


def test_a_missing_bucket_while_writing_is_not_found(moto_endpoint):
    with pytest.raises(NotFound, match="NoSuchBucket"):
        _write(ResultsStore("s3://no-such-bucket-here/out"), "job1", "2026-11-24")


FILL_THEN_WRITE = """
import os, sys, tempfile
from datetime import UTC, datetime
root = sys.argv[1]
tempfile.tempdir = os.path.join(root, "tmp")
os.makedirs(tempfile.tempdir)
filler = os.open(os.path.join(root, "filler"), os.O_WRONLY | os.O_CREAT)
try:
    while os.write(filler, bytes(1 << 16)):
        pass
except OSError:
    pass
from tasks.errors import DocuforgeError
from tasks.store import JobWriter, ResultsStore
now = datetime.now(UTC)
try:
    JobWriter(ResultsStore(os.path.join(root, "results")), "job1", "parse", "2026-11-24").commit(
        {"status": "completed", "started_at": now, "finished_at": now})
except DocuforgeError as error:
    print(error.category, error.message)
"""


def test_a_full_disk_while_writing_is_a_resource_error(tmp_path):
    """A real full file system: a 1 MiB tmpfs, filled, mounted in a mount namespace of the test's own."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no user and mount namespaces here (unshare -rm) to mount a small file system in")
    command = f'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" -c "$3" "$1"'
    done = subprocess.run([unshare, "-rm", "sh", "-c", command, "sh", str(tmp_path), sys.executable, FILL_THEN_WRITE],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("resource ") and "no space left" in done.stdout
