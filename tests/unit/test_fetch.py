"""fetch_document against real files, a real local HTTP server and a real S3 endpoint (moto_server)."""
from __future__ import annotations

import hashlib
import socket
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from tasks.errors import (
    BadInput,
    Category,
    CorruptDocument,
    DocuforgeError,
    EmptyDocument,
    EncryptedDocument,
    ForbiddenSource,
    NetworkError,
    NotFound,
    RateLimited,
    ResourceLimit,
    UnsupportedType,
)
from tasks.fetch import fetch_document, fetch_document_task, redact_uri
from tasks.models import Limits
from tasks.retry import retry_for

LOCAL_ONLY = Limits(allow_private_urls=True)


def expect_error(
    error_class: type[DocuforgeError], category: Category, source: str, dest: Path, limits: Limits = Limits()
) -> DocuforgeError:
    with pytest.raises(error_class) as caught:
        fetch_document(source, str(dest), limits)
    assert caught.value.category == category
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.fixture
def multi_page_pdf(benchmarks: Path) -> Path:
    return benchmarks / "pdfs" / "born_digital" / "multi_page.pdf"


@pytest.fixture
def pdf_bytes(multi_page_pdf: Path) -> bytes:
    return multi_page_pdf.read_bytes()


def encrypted_copy(original: Path, target: Path, **passwords: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(original))
    writer.encrypt(algorithm="AES-256", **passwords)
    writer.write(target)
    return target


# ---- local files ----


def test_valid_pdf_is_used_in_place(multi_page_pdf: Path, tmp_path: Path):
    document = fetch_document(str(multi_page_pdf), str(tmp_path / "work"), Limits())

    assert document.local_path == str(multi_page_pdf.resolve())
    assert document.mime_type == "application/pdf"
    assert document.num_pages == 5
    assert document.size_bytes == multi_page_pdf.stat().st_size
    assert document.document_id == hashlib.sha256(multi_page_pdf.read_bytes()).hexdigest()
    assert document.source_uri == str(multi_page_pdf)
    assert not (tmp_path / "work").exists()


def test_valid_png_from_file_uri(benchmarks: Path, tmp_path: Path):
    png = benchmarks / "invoices" / "AmazonWebServices.png"

    document = fetch_document(png.resolve().as_uri(), str(tmp_path), Limits())

    assert document.local_path == str(png.resolve())
    assert document.mime_type == "image/png"
    assert document.num_pages == 1
    assert document.document_id == hashlib.sha256(png.read_bytes()).hexdigest()


def test_zero_byte_file_is_empty(tmp_path: Path):
    empty = tmp_path / "empty.pdf"
    empty.touch()
    expect_error(EmptyDocument, Category.bad_input, str(empty), tmp_path)


def test_file_over_max_bytes_is_refused(multi_page_pdf: Path, tmp_path: Path):
    expect_error(ResourceLimit, Category.resource, str(multi_page_pdf), tmp_path, Limits(max_bytes=1000))


def test_truncated_pdf_is_corrupt(pdf_bytes: bytes, tmp_path: Path):
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(pdf_bytes[: len(pdf_bytes) // 2])

    error = expect_error(CorruptDocument, Category.bad_input, str(truncated), tmp_path)
    assert "truncated" in str(error)


def test_pdf_with_user_password_is_encrypted(multi_page_pdf: Path, tmp_path: Path):
    locked = encrypted_copy(multi_page_pdf, tmp_path / "locked.pdf", user_password="secret")
    expect_error(EncryptedDocument, Category.bad_input, str(locked), tmp_path)


def test_pdf_with_only_an_owner_password_is_accepted(multi_page_pdf: Path, tmp_path: Path):
    restricted = encrypted_copy(multi_page_pdf, tmp_path / "restricted.pdf", user_password="", owner_password="owner")

    document = fetch_document(str(restricted), str(tmp_path), Limits())

    assert document.mime_type == "application/pdf"
    assert document.num_pages == 5


def test_pdf_over_the_page_limit(multi_page_pdf: Path, tmp_path: Path):
    error = expect_error(ResourceLimit, Category.resource, str(multi_page_pdf), tmp_path, Limits(max_pages=1))
    assert "5 pages" in str(error)


def test_html_saved_as_pdf_is_named_in_the_message(tmp_path: Path):
    page = tmp_path / "invoice.pdf"
    page.write_text("<!DOCTYPE html>\n<html><body>Session expired</body></html>")

    error = expect_error(UnsupportedType, Category.bad_input, str(page), tmp_path)
    assert "HTML document" in str(error)
    assert ".pdf" in str(error)


def test_zip_is_unsupported(tmp_path: Path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a.txt", "hello")

    error = expect_error(UnsupportedType, Category.bad_input, str(archive), tmp_path)
    assert "ZIP" in str(error)


def test_text_file_is_unknown_type(tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("just some words\n")

    error = expect_error(UnsupportedType, Category.bad_input, str(notes), tmp_path)
    assert "unknown type" in str(error)
    assert "although" not in str(error)


def test_unsupported_scheme_is_bad_input(tmp_path: Path):
    error = expect_error(BadInput, Category.bad_input, "ftp://user:pw@files.example.com/a.pdf", tmp_path)
    assert "pw@" not in str(error)


def test_missing_file_is_not_found(tmp_path: Path):
    expect_error(NotFound, Category.not_found, str(tmp_path / "nowhere.pdf"), tmp_path)


def test_directory_is_bad_input(tmp_path: Path):
    error = expect_error(BadInput, Category.bad_input, str(tmp_path), tmp_path)
    assert "directory" in str(error)


def test_huge_image_is_a_decompression_bomb(tmp_path: Path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb)

    error = expect_error(ResourceLimit, Category.resource, str(bomb), tmp_path)
    assert "decompression bomb" in str(error)


def test_image_limit_is_ours_not_pils(tmp_path: Path):
    big = tmp_path / "big.png"
    Image.new("1", (20000, 20000)).save(big)  # 400 M pixels: over PIL's own default error threshold

    document = fetch_document(str(big), str(tmp_path), Limits(max_pixels=500_000_000))

    assert document.mime_type == "image/png"
    assert document.num_pages == 1


def test_truncated_png_is_corrupt(tmp_path: Path):
    png = tmp_path / "photo.png"
    Image.effect_noise((300, 200), 64).save(png)
    png.write_bytes(png.read_bytes()[:-2000])

    expect_error(CorruptDocument, Category.bad_input, str(png), tmp_path)


def save_tiff(path: Path, sizes: list[tuple[int, int]]) -> Path:
    frames = [Image.new("L", size, color=255) for size in sizes]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def test_multi_page_tiff_counts_frames(tmp_path: Path):
    tiff = save_tiff(tmp_path / "scan.tiff", [(100, 140), (100, 140), (140, 100)])

    document = fetch_document(str(tiff), str(tmp_path), Limits())

    assert document.mime_type == "image/tiff"
    assert document.num_pages == 3


def test_every_tiff_frame_is_checked_against_the_pixel_limit(tmp_path: Path):
    tiff = save_tiff(tmp_path / "scan.tif", [(100, 100), (1000, 1000)])

    error = expect_error(ResourceLimit, Category.resource, str(tiff), tmp_path, Limits(max_pixels=500_000))
    assert "page 2" in str(error)


def test_tiff_over_the_page_limit(tmp_path: Path):
    tiff = save_tiff(tmp_path / "scan.tif", [(50, 50)] * 3)
    expect_error(ResourceLimit, Category.resource, str(tiff), tmp_path, Limits(max_pages=2))


def test_truncated_tiff_is_corrupt(tmp_path: Path):
    tiff = save_tiff(tmp_path / "scan.tif", [(100, 100), (100, 100)])
    tiff.write_bytes(tiff.read_bytes()[:-500])

    expect_error(CorruptDocument, Category.bad_input, str(tiff), tmp_path)


# ---- http(s) ----


class RouteHandler(BaseHTTPRequestHandler):
    """Answers each path from server.routes (status, headers, body), counting requests and Host headers."""

    server: "DocumentServer"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.hits[path] += 1
        self.server.host_headers.append(self.headers["Host"])
        status, headers, body = self.server.routes.get(path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class DocumentServer(ThreadingHTTPServer):
    routes: dict[str, tuple[int, dict[str, str], bytes]]
    hits: Counter[str]
    host_headers: list[str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def http_server() -> Iterator[DocumentServer]:
    server = DocumentServer(("127.0.0.1", 0), RouteHandler)
    server.routes, server.hits, server.host_headers = {}, Counter(), []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def connection_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every outgoing socket connection and refuses it."""
    attempts: list[object] = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise ConnectionRefusedError("connection attempts are refused in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_http_200_downloads_into_dest_dir(host: str, http_server: DocumentServer, pdf_bytes: bytes, tmp_path: Path):
    http_server.routes["/files/report.pdf"] = (200, {"Content-Type": "application/pdf"}, pdf_bytes)
    port = http_server.server_address[1]
    url = f"http://reader:hunter2@{host}:{port}/files/report.pdf?X-Amz-Signature=abc"

    document = fetch_document(url, str(tmp_path / "work"), LOCAL_ONLY)

    local = Path(document.local_path)
    assert local.parent == tmp_path / "work"
    assert local.suffix == ".pdf"
    assert local.read_bytes() == pdf_bytes
    assert document.num_pages == 5
    assert document.document_id == hashlib.sha256(pdf_bytes).hexdigest()
    assert document.source_uri == f"http://{host}:{port}/files/report.pdf"
    assert http_server.host_headers == [f"{host}:{port}"]


def test_http_follows_redirects(http_server: DocumentServer, pdf_bytes: bytes, tmp_path: Path):
    http_server.routes["/old.pdf"] = (302, {"Location": "/new.pdf"}, b"")
    http_server.routes["/new.pdf"] = (200, {}, pdf_bytes)

    document = fetch_document(f"{http_server.base_url}/old.pdf", str(tmp_path), LOCAL_ONLY)

    assert Path(document.local_path).read_bytes() == pdf_bytes
    assert http_server.hits == Counter({"/old.pdf": 1, "/new.pdf": 1})


def test_http_redirect_loop_is_bad_input(http_server: DocumentServer, tmp_path: Path):
    http_server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    expect_error(BadInput, Category.bad_input, f"{http_server.base_url}/loop", tmp_path, LOCAL_ONLY)


def test_http_404_is_not_found(http_server: DocumentServer, tmp_path: Path):
    expect_error(NotFound, Category.not_found, f"{http_server.base_url}/missing.pdf", tmp_path, LOCAL_ONLY)


def test_http_429_is_rate_limited_with_retry_after(http_server: DocumentServer, tmp_path: Path):
    http_server.routes["/busy.pdf"] = (429, {"Retry-After": "17"}, b"slow down")

    error = expect_error(RateLimited, Category.rate_limit, f"{http_server.base_url}/busy.pdf", tmp_path, LOCAL_ONLY)
    assert "Retry-After: 17" in str(error)
    assert error.retryable and error.retry_after_s == 17, "the retry policy waits at least what the server asked"


def test_http_500_is_a_retryable_network_error(http_server: DocumentServer, tmp_path: Path):
    http_server.routes["/broken.pdf"] = (500, {}, b"oops")

    error = expect_error(NetworkError, Category.network, f"{http_server.base_url}/broken.pdf", tmp_path, LOCAL_ONLY)
    assert error.retryable


def test_http_403_is_bad_input(http_server: DocumentServer, tmp_path: Path):
    http_server.routes["/secret.pdf"] = (403, {}, b"no")
    error = expect_error(BadInput, Category.bad_input, f"{http_server.base_url}/secret.pdf", tmp_path, LOCAL_ONLY)
    assert not error.retryable


def test_http_body_over_max_bytes_stops_the_download(http_server: DocumentServer, tmp_path: Path):
    http_server.routes["/endless.pdf"] = (200, {}, b"%PDF-1.7\n" + b"0" * 200_000)  # no Content-Length

    limits = Limits(max_bytes=50_000, allow_private_urls=True)

    expect_error(ResourceLimit, Category.resource, f"{http_server.base_url}/endless.pdf", tmp_path, limits)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/doc.pdf",
        "http://localhost:{port}/doc.pdf",
        "http://10.0.0.1/doc.pdf",
        "https://169.254.169.254/latest/meta-data/",
        "http://[::1]/doc.pdf",
    ],
)
def test_private_addresses_are_refused_before_connecting(
    url: str, http_server: DocumentServer, connection_attempts: list[object], tmp_path: Path
):
    http_server.routes["/doc.pdf"] = (200, {}, b"%PDF-1.7\n%%EOF\n")
    source = url.format(port=http_server.server_address[1])

    expect_error(ForbiddenSource, Category.bad_input, source, tmp_path)

    assert connection_attempts == []
    assert http_server.hits == Counter()


def test_allow_private_urls_lets_the_connection_through(connection_attempts: list[object], tmp_path: Path):
    error = expect_error(NetworkError, Category.network, "http://10.0.0.1/doc.pdf", tmp_path, LOCAL_ONLY)

    assert connection_attempts == [("10.0.0.1", 80)]
    assert error.retryable


# ---- s3 ----


def test_s3_object_is_downloaded(s3_bucket_name: str, moto_endpoint: str, pdf_bytes: bytes, tmp_path: Path):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    s3.put_object(Bucket=s3_bucket_name, Key="in/report.pdf", Body=pdf_bytes)
    uri = f"s3://{s3_bucket_name}/in/report.pdf"

    document = fetch_document(uri, str(tmp_path / "work"), Limits())

    assert Path(document.local_path).parent == tmp_path / "work"
    assert Path(document.local_path).read_bytes() == pdf_bytes
    assert document.source_uri == uri
    assert document.num_pages == 5


def test_s3_missing_key_is_not_found(s3_bucket_name: str, tmp_path: Path):
    expect_error(NotFound, Category.not_found, f"s3://{s3_bucket_name}/nope.pdf", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_s3_missing_bucket_is_not_found(moto_endpoint: str, tmp_path: Path):
    expect_error(NotFound, Category.not_found, "s3://no-such-bucket-here/doc.pdf", tmp_path)


def test_s3_object_over_max_bytes_is_refused(
    s3_bucket_name: str, moto_endpoint: str, pdf_bytes: bytes, tmp_path: Path
):
    boto3.client("s3", endpoint_url=moto_endpoint).put_object(Bucket=s3_bucket_name, Key="big.pdf", Body=pdf_bytes)

    expect_error(ResourceLimit, Category.resource, f"s3://{s3_bucket_name}/big.pdf", tmp_path, Limits(max_bytes=1000))
    assert list(tmp_path.iterdir()) == []


def test_s3_unreachable_endpoint_is_a_network_error(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    error = expect_error(NetworkError, Category.network, "s3://bucket/doc.pdf", tmp_path)
    assert error.retryable


# ---- redact_uri ----


@pytest.mark.parametrize(
    ("uri", "redacted"),
    [
        ("https://user:pa55@example.com/a/b.pdf", "https://example.com/a/b.pdf"),
        ("https://example.com:8443/b.pdf?X-Amz-Signature=abc&X-Amz-Date=1#frag", "https://example.com:8443/b.pdf"),
        ("http://token@[::1]:8080/doc", "http://[::1]:8080/doc"),
        ("s3://bucket/key/with?odd=name", "s3://bucket/key/with?odd=name"),
        ("/data/in/report.pdf", "/data/in/report.pdf"),
        ("relative/report.pdf", "relative/report.pdf"),
        ("file:///data/in/report.pdf", "file:///data/in/report.pdf"),
        ("ftp://user:pw@files.example.com/doc.pdf", "ftp://files.example.com/doc.pdf"),
    ],
)
def test_redact_uri(uri: str, redacted: str):
    assert redact_uri(uri) == redacted


def test_error_messages_carry_no_credentials(http_server: DocumentServer, tmp_path: Path):
    url = f"http://admin:topsecret@127.0.0.1:{http_server.server_address[1]}/missing.pdf?token=hunter2"

    error = expect_error(NotFound, Category.not_found, url, tmp_path, LOCAL_ONLY)

    assert "topsecret" not in str(error)
    assert "hunter2" not in str(error)


# ---- the Prefect task ----


def test_task_retries_only_retryable_errors(prefect_harness, http_server: DocumentServer, tmp_path: Path):
    http_server.routes["/flaky.pdf"] = (503, {}, b"try later")
    with pytest.raises(NetworkError):
        fetch_document_task(f"{http_server.base_url}/flaky.pdf", str(tmp_path), LOCAL_ONLY)
    with pytest.raises(NotFound):
        fetch_document_task(f"{http_server.base_url}/gone.pdf", str(tmp_path), LOCAL_ONLY)

    runs = retry_for(Category.network, retryable=True).runs
    assert http_server.hits == Counter({"/flaky.pdf": runs, "/gone.pdf": 1}), "as many runs as the policy gives"
