"""Error recovery (seed §7): what a docuforge.processing.error event carries, and what to do about it.

The decision comes from the typed error's category and retryable flag, never from its message.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tasks.errors import Category, DocuforgeError
from tasks.models import JobSummary, Operation, ProcessOptions

RATE_LIMIT_BASE_S = 10.0
MAX_DELAY_S = 300.0


class RecoveryRequest(BaseModel):
    """The payload of docuforge.processing.error: enough to run the same job again."""

    job_id: str
    source_uri: str
    operation: Operation = "parse"
    error_category: Category = Category.internal
    retryable: bool = False
    attempt: int = Field(1, ge=1)
    options: ProcessOptions = Field(default_factory=ProcessOptions)
    results_uri: str | None = None


class RecoveryDecision(BaseModel):
    action: Literal["retry", "give_up"]
    delay_s: float = 0.0
    reason: str


def retryable_category(category: str) -> bool:
    """Whether errors of this category are retryable by default (for failures known only by their category)."""
    return any(cls.category == category and cls.retryable for cls in _error_classes(DocuforgeError))


def _error_classes(cls: type[DocuforgeError]) -> list[type[DocuforgeError]]:
    return [cls] + [sub for child in cls.__subclasses__() for sub in _error_classes(child)]


def processing_error_payload(summary: JobSummary, options: ProcessOptions, retryable: bool, attempt: int) -> dict:
    request = RecoveryRequest(job_id=summary.job_id, source_uri=summary.source_uri, operation=summary.operation,
                              error_category=summary.error_category or Category.internal, retryable=retryable,
                              attempt=attempt, options=options, results_uri=summary.results_uri)
    return request.model_dump(mode="json") | {"error": summary.error}


def decide(request: RecoveryRequest, max_attempts: int) -> RecoveryDecision:
    """Retry a retryable failure until max_attempts runs have been made; rate limits back off exponentially
    (10 s, 20 s, 40 s … at most 5 min), other retryable errors run again at once."""
    if not request.retryable:
        return RecoveryDecision(action="give_up", reason=f"{request.error_category} errors are not retryable")
    if request.attempt >= max_attempts:
        return RecoveryDecision(action="give_up", reason=f"{request.attempt} of {max_attempts} attempts made")
    delay = min(MAX_DELAY_S, 2 ** request.attempt * RATE_LIMIT_BASE_S) \
        if request.error_category == Category.rate_limit else 0.0
    return RecoveryDecision(action="retry", delay_s=delay, reason=f"{request.error_category}: attempt "
                                                                   f"{request.attempt + 1} of {max_attempts}")
