"""Typed errors. Each carries a category and whether retrying can help; callers decide from those, never from messages."""
from __future__ import annotations

import errno
from enum import StrEnum


class Category(StrEnum):
    bad_input = "bad_input"
    not_found = "not_found"
    network = "network"
    rate_limit = "rate_limit"
    resource = "resource"
    engine = "engine"
    internal = "internal"


class DocuforgeError(Exception):
    category: Category = Category.internal
    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None):
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable

    @property
    def message(self) -> str:
        return str(self)


class BadInput(DocuforgeError):
    category = Category.bad_input


class EmptyDocument(BadInput):
    pass


class UnsupportedType(BadInput):
    pass


class CorruptDocument(BadInput):
    pass


class EncryptedDocument(BadInput):
    pass


class ForbiddenSource(BadInput):
    """A URL that resolves to a loopback, private or link-local address."""


class NotFound(DocuforgeError):
    category = Category.not_found


class NetworkError(DocuforgeError):
    category = Category.network
    retryable = True


class RateLimited(DocuforgeError):
    category = Category.rate_limit
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s
        """How long the other side asked us to wait (its Retry-After), when it said."""


def seconds(retry_after: str | None) -> float | None:
    """A Retry-After header's delay in seconds (its HTTP-date form counts as not given)."""
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:
        return None


class ResourceLimit(DocuforgeError):
    """Input over a configured limit: bytes, pages or pixels."""

    category = Category.resource


class EngineError(DocuforgeError):
    category = Category.engine


class InternalError(DocuforgeError):
    category = Category.internal


def as_docuforge_error(exc: BaseException) -> DocuforgeError:
    """The typed form of any exception; unknown ones are internal errors."""
    if isinstance(exc, DocuforgeError):
        return exc
    if isinstance(exc, MemoryError):
        return ResourceLimit("out of memory")
    if isinstance(exc, OSError):
        return _os_error(exc)
    return InternalError(f"{type(exc).__name__}: {exc}")


def _os_error(exc: OSError) -> DocuforgeError:
    """Operating-system errors by their kind. Every network client Docuforge uses types its own timeouts where it is
    called, so a builtin TimeoutError that gets here is a wait on local work, Prefect's timeout_seconds among them:
    the work took too long (resource), and running it again would take as long."""
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, ConnectionError):
        return NetworkError(f"{where}connection failed ({reason})")
    if isinstance(exc, TimeoutError):
        return ResourceLimit(f"{where}timed out ({reason})")
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"{where}no such file or folder")
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return BadInput(f"{where}not allowed ({reason}); check the permissions of this location")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ResourceLimit(f"{where}no space left ({reason}); free some or use another location")
    return InternalError(f"{type(exc).__name__}: {exc}")


def is_retryable(exc: BaseException) -> bool:
    return as_docuforge_error(exc).retryable
