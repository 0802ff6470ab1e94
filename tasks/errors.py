"""Typed errors. Each carries a category and whether retrying can help; callers decide from those, never from messages."""
from __future__ import annotations

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
    return InternalError(f"{type(exc).__name__}: {exc}")


def is_retryable(exc: BaseException) -> bool:
    return as_docuforge_error(exc).retryable
