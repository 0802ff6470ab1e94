"""Error recovery (seed §7): what a docuforge.processing.error event carries, and what to do about it.

The decision comes from the typed error's category and retryable flag, never from its message.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from tasks.edit.request import Edits
from tasks.errors import Category, DocuforgeError
from tasks.events import EventName, emit
from tasks.models import JobSummary, Operation, ProcessOptions
from tasks.retry import delay_s, retry_for
from tasks.split.criteria import SplitCriteria

RETRYABLE_LABEL = "docuforge.error.retryable"
CATEGORY_LABEL = "docuforge.error.category"
ATTEMPT_TAG = "docuforge-attempt-"
"""A process-document run that error recovery starts carries the tag docuforge-attempt-<n>: bookkeeping that stays
out of the run form."""


def attempt_tag(attempt: int) -> str:
    return f"{ATTEMPT_TAG}{attempt}"


def attempt_of(tags: Iterable[str]) -> int:
    """Which run of its job a flow run is, by its tags (1 without an attempt tag)."""
    numbers = [tag.removeprefix(ATTEMPT_TAG) for tag in tags if tag.startswith(ATTEMPT_TAG)]
    return max((int(number) for number in numbers if number.isdigit()), default=1)


class RecoveryRequest(BaseModel):
    """The payload of docuforge.processing.error: enough to run the same job again."""

    job_id: str
    source_uri: str = Field(description="The document (credentials removed from URLs)")
    operation: Operation = "parse"
    error_category: Category = Category.internal
    error: str | None = None
    retryable: bool = False
    attempt: int = Field(1, ge=1, description="Which run of the job failed (1 = the first)")
    options: ProcessOptions = Field(ProcessOptions(), description="The options the failed run read it with")
    results_uri: str | None = None
    fields_schema: dict | str | None = Field(None, description="operation=extract: the schema it ran with")
    split_criteria: SplitCriteria | None = Field(None, description="operation=split: the criteria it ran with")
    edits: Edits | None = Field(None, description="operation=edit: the edits it ran with")


class RecoveryDecision(BaseModel):
    action: Literal["retry", "give_up"]
    delay_s: float = 0.0
    reason: str


def retryable_category(category: str | None) -> bool:
    """Whether errors of this category are retryable by default (for failures known only by their category): as the
    error class that declares the category is."""
    return any(cls.category == category and cls.retryable for cls in _error_classes(DocuforgeError)
               if "category" in vars(cls))


def _error_classes(cls: type[DocuforgeError]) -> list[type[DocuforgeError]]:
    return [cls] + [sub for child in cls.__subclasses__() for sub in _error_classes(child)]


def processing_error_payload(summary: JobSummary, options: ProcessOptions, retryable: bool, attempt: int,
                             fields_schema: dict | str | None = None,
                             split_criteria: SplitCriteria | None = None, edits: Edits | None = None) -> dict:
    request = RecoveryRequest(job_id=summary.job_id, source_uri=summary.source_uri, operation=summary.operation,
                              error_category=summary.error_category or Category.internal, error=summary.error,
                              retryable=retryable, attempt=attempt, options=options, results_uri=summary.results_uri,
                              fields_schema=fields_schema, split_criteria=split_criteria, edits=edits)
    return request.model_dump(mode="json")


def processing_error_labels(payload: dict) -> dict[str, str]:
    """Resource labels automations can match on (they match labels, not payloads)."""
    return {RETRYABLE_LABEL: str(payload["retryable"]).lower(), CATEGORY_LABEL: payload["error_category"]}


def emit_processing_error(summary: JobSummary, options: ProcessOptions, retryable: bool, attempt: int,
                          fields_schema: dict | str | None = None,
                          split_criteria: SplitCriteria | None = None, edits: Edits | None = None) -> str | None:
    """docuforge.processing.error for a failed job, labelled with its category and whether it is retryable."""
    payload = processing_error_payload(summary, options, retryable, attempt, fields_schema, split_criteria, edits)
    return emit(EventName.processing_error, summary.job_id, summary.source_uri, payload,
                labels=processing_error_labels(payload))


def decide(request: RecoveryRequest, max_attempts: int | None = None,
           backoff_base_s: float | None = None) -> RecoveryDecision:
    """Run a retryable failure again, after the retry policy's backoff for its category, until its runs are made
    (max_attempts and backoff_base_s, when given, stand in for the policy's runs and base)."""
    retry = retry_for(request.error_category, request.retryable)
    if retry is None:
        return RecoveryDecision(action="give_up", reason=f"{request.error_category} errors are not retryable")
    runs = max_attempts or retry.runs
    if request.attempt >= runs:
        return RecoveryDecision(action="give_up", reason=f"{request.attempt} of {runs} attempts made")
    return RecoveryDecision(action="retry", delay_s=delay_s(retry, request.attempt, backoff_base_s),
                            reason=f"{request.error_category}: attempt {request.attempt + 1} of {runs}")


def recovery_markdown(request: RecoveryRequest, decision: RecoveryDecision) -> str:
    outcome = {"retry": "runs the job again", "give_up": "gave up"}[decision.action]
    lines = [f"## Recovery of job `{request.job_id}`: {outcome}", "",
             f"- source: `{request.source_uri}`",
             f"- error: {request.error_category} on attempt {request.attempt}: {request.error or '-'}",
             f"- decision: **{decision.action}** ({decision.reason})"]
    if decision.delay_s:
        lines.append(f"- after a backoff of {decision.delay_s:g} s")
    return "\n".join(lines) + "\n"
