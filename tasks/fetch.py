"""Fetch one input document (local path, file://, s3:// or http(s)://) and check that it is one we can process."""
from __future__ import annotations

import ipaddress
import re
import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

import filetype
import httpx
from pdf2image import pdfinfo_from_path
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFPopplerTimeoutError
from PIL import ImageFile, ImageSequence, JpegImagePlugin, PngImagePlugin, TiffImagePlugin
from prefect import task

from blocks.storage import s3_bucket, split_s3_uri
from tasks.aws_errors import AWS_ERRORS, aws_error
from tasks.errors import (
    BadInput,
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    EngineError,
    ForbiddenSource,
    NetworkError,
    NotFound,
    RateLimited,
    ResourceLimit,
    UnsupportedType,
    seconds,
)
from tasks.models import Document, Limits, sha256_file
from tasks.retry import TASK_RETRIES
from tasks.settings import get_settings

HTTP_SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
CHUNK_BYTES = 1 << 20
PDF_EOF_WINDOW_BYTES = 1024
SUPPORTED_TYPES = "PDF, PNG, JPEG, TIFF"
SUPPORTED_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})
# Each format's own reader rather than Image.open, which applies PIL's process-wide decompression-bomb
# limit; the pixel limit here is per call (Limits.max_pixels) and is checked before any pixel is decoded.
IMAGE_READERS: dict[str, type[ImageFile.ImageFile]] = {
    "image/png": PngImagePlugin.PngImageFile,
    "image/jpeg": JpegImagePlugin.JpegImageFile,
    "image/tiff": TiffImagePlugin.TiffImageFile,
}
SUPPORTED_MIME_TYPES = frozenset({"application/pdf", *IMAGE_READERS})
PIL_READ_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
TIFF_DATA_TAGS = (
    (TiffImagePlugin.STRIPOFFSETS, TiffImagePlugin.STRIPBYTECOUNTS),
    (TiffImagePlugin.TILEOFFSETS, TiffImagePlugin.TILEBYTECOUNTS),
)


def fetch_document(source: str, dest_dir: str, limits: Limits) -> Document:
    """The validated document at `source`: local files are used in place, remote ones downloaded into dest_dir."""
    path = _local_copy(source, Path(dest_dir), limits)
    mime_type, num_pages = _validate(path, redact_uri(source), limits)
    return Document(
        document_id=sha256_file(str(path)),
        source_uri=redact_uri(source),
        local_path=str(path),
        mime_type=mime_type,
        size_bytes=path.stat().st_size,
        num_pages=num_pages,
    )


def redact_uri(uri: str) -> str:
    """`uri` without credentials: no user:password@, and no query or fragment on http(s) URLs."""
    if "://" not in uri:
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return f"{uri.split('://', 1)[0]}://<malformed URL>"
    if parts.scheme in ("s3", "file"):
        return uri
    netloc = parts.netloc.rpartition("@")[2]
    if parts.scheme in HTTP_SCHEMES:
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return urlunsplit(parts._replace(netloc=netloc))


# ---- sources ----


def _local_copy(source: str, dest_dir: Path, limits: Limits) -> Path:
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme == "":
        return _existing_file(Path(source), source)
    if scheme == "file":
        return _existing_file(_file_uri_path(source), source)
    if scheme == "s3":
        bucket, key = _parse_s3_uri(source)
        return _download(dest_dir, key, lambda partial: _download_s3(bucket, key, partial, limits))
    if scheme in HTTP_SCHEMES:
        url = _parse_http_url(source)
        return _download(dest_dir, url.path, lambda partial: _download_http(url, partial, limits))
    raise BadInput(f"{redact_uri(source)}: unsupported source; use a local path, file://, s3:// or http(s)://")


def _existing_file(path: Path, source: str) -> Path:
    path = path.resolve()
    where = redact_uri(source)
    if not path.exists():
        raise NotFound(f"{where}: no such file")
    if not path.is_file():
        raise BadInput(f"{where} is a directory, not a file" if path.is_dir() else f"{where} is not a regular file")
    return path


def _file_uri_path(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise BadInput(f"{uri}: file:// URIs must name a local file (got host {parts.netloc!r})")
    return Path(url2pathname(parts.path))


def _download(dest_dir: Path, remote_name: str, download_to: Callable[[Path], None]) -> Path:
    """Download into dest_dir through a .part file, so a failed download never leaves a file that looks complete."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / f"source{_safe_suffix(remote_name)}"
    partial = final.with_name(final.name + ".part")
    try:
        download_to(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(final)
    return final


def _safe_suffix(remote_name: str) -> str:
    """The remote name's extension (kept for messages), when it is a plain one like '.pdf'."""
    suffix = PurePosixPath(remote_name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _write_capped(chunks: Iterator[bytes], path: Path, max_bytes: int, where: str) -> None:
    written = 0
    with path.open("wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > max_bytes:
                raise ResourceLimit(f"{where} is larger than the limit of {max_bytes:,} bytes")
            out.write(chunk)


# ---- s3 ----


def _parse_s3_uri(uri: str) -> tuple[str, str]:
    try:
        bucket_name, key = split_s3_uri(uri)
    except ValueError as exc:
        raise BadInput(f"{uri}: malformed s3 URI (expected s3://bucket/key)") from exc
    if not key:
        raise BadInput(f"{uri}: no object key (expected s3://bucket/key)")
    return bucket_name, key


def _download_s3(bucket_name: str, key: str, partial: Path, limits: Limits) -> None:
    uri = f"s3://{bucket_name}/{key}"
    bucket = s3_bucket(bucket_name)
    try:
        size = bucket.credentials.get_s3_client().head_object(Bucket=bucket_name, Key=key)["ContentLength"]
        if size > limits.max_bytes:
            raise ResourceLimit(f"{uri} is {size:,} bytes, over the limit of {limits.max_bytes:,}")
        # _sync=True: this function is synchronous even when called from async code.
        bucket.download_object_to_path(key, partial, _sync=True)
    except AWS_ERRORS as exc:
        raise aws_error(exc, uri, "S3") from exc


# ---- http(s) ----


def _download_http(url: httpx.URL, partial: Path, limits: Limits) -> None:
    target = url
    try:
        with httpx.Client(timeout=get_settings().http_timeout_s, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with _pinned_get(client, target, limits) as response:
                    if not response.is_redirect:
                        _save_response(response, partial, limits, redact_uri(str(target)))
                        return
                    target = _redirect_target(target, response)
    except httpx.TransportError as exc:
        reason = _one_line(exc) or type(exc).__name__
        raise NetworkError(f"{redact_uri(str(target))}: download failed ({reason})") from exc
    raise BadInput(f"{redact_uri(str(url))}: more than {MAX_REDIRECTS} redirects")


def _parse_http_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BadInput(f"{redact_uri(url)}: malformed URL ({exc})") from exc
    if not parsed.host:
        raise BadInput(f"{redact_uri(url)}: the URL has no host")
    return parsed


def _pinned_get(client: httpx.Client, url: httpx.URL, limits: Limits) -> AbstractContextManager[httpx.Response]:
    """GET `url` from the address that was checked, so a second DNS answer cannot swap in a private one."""
    address = _checked_address(url, limits)
    return client.stream(
        "GET",
        url.copy_with(host=address),
        headers={"Host": url.netloc.decode("ascii")},
        extensions={"sni_hostname": url.raw_host.decode("ascii")},
    )


def _checked_address(url: httpx.URL, limits: Limits) -> str:
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    where = redact_uri(str(url))
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            raise NotFound(f"{where}: host {host} not found") from exc
        raise NetworkError(f"{where}: cannot resolve {host} ({exc.strerror})") from exc
    if not limits.allow_private_urls:
        for address in addresses:
            if _is_non_public(address):
                named = address if address == host else f"{host} ({address})"
                raise ForbiddenSource(
                    f"{where}: {named} is a loopback, private, link-local or reserved address;"
                    " refusing to fetch from it (allow_private_urls permits this)"
                )
    return addresses[0]


def _is_non_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global  # also shared address space (100.64.0.0/10), used for some cloud metadata services
    )


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    try:
        target = current.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise BadInput(f"{redact_uri(str(current))} redirects to a malformed URL") from exc
    if target.scheme not in HTTP_SCHEMES:
        raise ForbiddenSource(f"{redact_uri(str(current))} redirects to a non-HTTP location ({target.scheme}:)")
    return target


def _save_response(response: httpx.Response, partial: Path, limits: Limits, where: str) -> None:
    _raise_for_status(response, where)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise ResourceLimit(f"{where} is {int(declared):,} bytes, over the limit of {limits.max_bytes:,}")
    _write_capped(response.iter_bytes(CHUNK_BYTES), partial, limits.max_bytes, where)


def _raise_for_status(response: httpx.Response, where: str) -> None:
    if response.is_success:
        return
    status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    if response.status_code in (404, 410):
        raise NotFound(f"{where}: {status}")
    if response.status_code == 429:
        retry_after = response.headers.get("retry-after")
        raise RateLimited(f"{where}: {status}" + (f" (Retry-After: {retry_after})" if retry_after else ""),
                          retry_after_s=seconds(retry_after))
    if response.status_code >= 500:
        raise NetworkError(f"{where}: {status}")
    raise BadInput(f"{where}: {status}")


# ---- validation ----


def _validate(path: Path, where: str, limits: Limits) -> tuple[str, int]:
    """The document's MIME type and page count, or the typed error that says why it cannot be processed."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocument(f"{where} is empty (0 bytes)")
    if size > limits.max_bytes:
        raise ResourceLimit(f"{where} is {size:,} bytes, over the limit of {limits.max_bytes:,}")
    mime_type = _supported_mime_type(path, where)
    if mime_type == "application/pdf":
        return mime_type, _pdf_page_count(path, where, limits)
    return mime_type, _image_page_count(path, mime_type, where, limits)


def _supported_mime_type(path: Path, where: str) -> str:
    kind = filetype.guess(str(path))
    if kind is not None and kind.mime in SUPPORTED_MIME_TYPES:
        return kind.mime
    message = f"{where}: unsupported file type: {_describe_content(path, kind)}"
    if path.suffix.lower() in SUPPORTED_SUFFIXES:
        message += f", although the name ends in {path.suffix}"
    raise UnsupportedType(f"{message} (supported: {SUPPORTED_TYPES})")


def _describe_content(path: Path, kind: filetype.Type | None) -> str:
    if kind is not None:
        return f"{kind.extension.upper()} file ({kind.mime})"
    with path.open("rb") as handle:
        head = handle.read(1024).lower()
    # filetype has no HTML matcher; an error page saved in place of the document is common enough to name.
    if b"<html" in head or b"<!doctype html" in head:
        return "HTML document"
    return "unknown type"


def _pdf_page_count(path: Path, where: str, limits: Limits) -> int:
    if not _ends_with_eof_marker(path):
        raise CorruptDocument(f"{where}: the PDF is truncated (no %%EOF marker at the end)")
    pages = _pdfinfo_pages(path, where)
    if pages == 0:
        raise CorruptDocument(f"{where}: the PDF has no pages")
    if pages > limits.max_pages:
        raise ResourceLimit(f"{where} has {pages:,} pages, over the limit of {limits.max_pages:,}")
    return pages


def _ends_with_eof_marker(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - PDF_EOF_WINDOW_BYTES))
        return b"%%EOF" in handle.read()


def _pdfinfo_pages(path: Path, where: str) -> int:
    try:
        return pdfinfo_from_path(str(path), timeout=get_settings().program_timeout_s)["Pages"]
    except PDFPageCountError as exc:
        if "Incorrect password" in str(exc):
            raise EncryptedDocument(f"{where}: the PDF is password-protected; provide an unprotected copy") from exc
        raise CorruptDocument(f"{where}: the PDF is damaged and cannot be read ({_poppler_reason(exc)})") from exc
    except PDFPopplerTimeoutError as exc:
        raise ResourceLimit(f"{where}: reading the PDF took longer than {get_settings().program_timeout_s:g} s") from exc
    except PDFInfoNotInstalledError as exc:
        raise EngineError("pdfinfo is not installed (install poppler-utils)") from exc


def _poppler_reason(exc: PDFPageCountError) -> str:
    """The first error poppler reported (pdf2image puts poppler's stderr after its own first line)."""
    errors = [line for line in str(exc).splitlines()[1:] if "Error" in line]
    return _one_line(errors[0]) if errors else "pdfinfo could not read it"


def _image_page_count(path: Path, mime_type: str, where: str, limits: Limits) -> int:
    pages = 0
    try:
        with IMAGE_READERS[mime_type](str(path)) as image:
            for pages, (width, height) in enumerate(_page_sizes(image, path.stat().st_size, where), start=1):
                if pages > limits.max_pages:
                    raise ResourceLimit(f"{where} has more than {limits.max_pages:,} pages, the limit")
                if width * height > limits.max_pixels:
                    which = f"page {pages}" if mime_type == "image/tiff" else "the image"
                    raise ResourceLimit(
                        f"{where}: {which} is {width}×{height} = {width * height:,} pixels, over the limit of"
                        f" {limits.max_pixels:,} (possible decompression bomb)"
                    )
            if mime_type == "image/png":
                image.verify()  # checks every chunk's CRC through to IEND without decoding the pixels
    except PIL_READ_ERRORS as exc:
        raise CorruptDocument(f"{where}: the image is damaged and cannot be read ({_one_line(exc)})") from exc
    return pages


def _page_sizes(image: ImageFile.ImageFile, file_size: int, where: str) -> Iterator[tuple[int, int]]:
    """(width, height) of each page, read from headers only: every frame of a TIFF, the one image otherwise."""
    if not isinstance(image, TiffImagePlugin.TiffImageFile):
        yield image.size
        return
    for page, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if _tiff_frame_data_end(frame) > file_size:
            raise CorruptDocument(f"{where}: the TIFF is truncated (page {page} runs past the end of the file)")
        yield frame.size


def _tiff_frame_data_end(frame: TiffImagePlugin.TiffImageFile) -> int:
    """The byte offset just past the current frame's pixel data, from its strip or tile tags."""
    for offsets_tag, counts_tag in TIFF_DATA_TAGS:
        offsets, counts = frame.tag_v2.get(offsets_tag), frame.tag_v2.get(counts_tag)
        if offsets and counts:
            return max(offset + count for offset, count in zip(_as_tuple(offsets), _as_tuple(counts)))
    return 0


def _as_tuple(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (value,)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# ---- Prefect task ----


fetch_document_task = task(name="fetch-document", **TASK_RETRIES)(fetch_document)
