"""Error recovery's plain functions: the decision, the backoff, and the docuforge.processing.error payload."""
from __future__ import annotations

import pytest

from tasks.errors import Category
from tasks.models import JobSummary, ProcessOptions
from tasks.recovery import (
    RecoveryRequest, attempt_of, attempt_tag, decide, processing_error_labels, processing_error_payload,
    recovery_markdown, retryable_category,
)
from tasks.retry import FLAGGED, MAX_DELAY_S, delay_s, jittered, retry_for
from tasks.split.criteria import SplitCriteria


def request(category: Category, retryable: bool, attempt: int = 1) -> RecoveryRequest:
    return RecoveryRequest(job_id="j1", source_uri="s3://inbox/a.pdf", error_category=category, retryable=retryable,
                           attempt=attempt)


@pytest.mark.parametrize("category", [Category.bad_input, Category.not_found, Category.resource, Category.engine,
                                      Category.internal])
def test_not_retryable_gives_up_at_once(category):
    decision = decide(request(category, retryable=False))
    assert decision.action == "give_up" and "not retryable" in decision.reason


def test_retryable_error_runs_again_after_the_policys_short_backoff():
    decision = decide(request(Category.network, retryable=True))
    assert decision.action == "retry" and decision.delay_s == 1 and "attempt 2 of 3" in decision.reason


def test_the_flag_decides_not_the_category():
    """An error raised with retryable=True is retried whatever its category's default."""
    assert decide(request(Category.engine, retryable=True)).action == "retry"
    assert decide(request(Category.network, retryable=False)).action == "give_up"


def test_attempts_exhausted_gives_up():
    assert decide(request(Category.network, True, attempt=2), max_attempts=3).action == "retry"
    decision = decide(request(Category.network, True, attempt=3), max_attempts=3)
    assert decision.action == "give_up" and "3 of 3" in decision.reason


def test_rate_limit_backs_off_exponentially_up_to_five_minutes():
    assert [decide(request(Category.rate_limit, True, attempt), max_attempts=9).delay_s
            for attempt in (1, 2, 3, 4, 5)] == [20, 40, 80, 160, 300]
    assert decide(request(Category.rate_limit, True, attempt=2), max_attempts=9).delay_s == 40
    assert decide(request(Category.rate_limit, True), backoff_base_s=0.01).delay_s == pytest.approx(0.02)
    assert decide(request(Category.rate_limit, True, attempt=8), max_attempts=9).delay_s == 300


def test_categories_retryable_by_default_are_those_of_the_typed_errors():
    assert {c for c in Category if retryable_category(c)} == {Category.network, Category.rate_limit}
    assert not retryable_category(None) and not retryable_category("no-such-category")


def test_payload_is_a_recovery_request_with_labels_for_automations():
    options = ProcessOptions(dpi=200, pages="1-2")
    summary = JobSummary(job_id="j1", document_id=None, source_uri="https://example.com/a.pdf", operation="parse",
                         status="failed", error_category="network", error="download failed (timeout)",
                         results_uri="s3://results/docuforge")
    payload = processing_error_payload(summary, options, retryable=True, attempt=2)
    assert set(payload) == {"job_id", "source_uri", "operation", "error_category", "error", "retryable", "attempt",
                            "options", "results_uri", "fields_schema", "split_criteria", "edits"}
    assert payload["retryable"] is True and payload["attempt"] == 2 and payload["error_category"] == "network"
    again = RecoveryRequest.model_validate(payload)  # what the automation hands the error-recovery flow
    assert again.options == options and again.results_uri == "s3://results/docuforge"
    assert processing_error_labels(payload) == {"docuforge.error.retryable": "true",
                                                "docuforge.error.category": "network"}
    extraction = processing_error_payload(summary, options, retryable=True, attempt=1, fields_schema="receipt")
    assert RecoveryRequest.model_validate(extraction).fields_schema == "receipt", "an extract job reruns its schema"
    split = processing_error_payload(summary, options, retryable=True, attempt=1,
                                     split_criteria=SplitCriteria(outline_level=2, blank_pages=True))
    assert RecoveryRequest.model_validate(split).split_criteria == SplitCriteria(outline_level=2, blank_pages=True), \
        "a split job reruns its criteria"


def test_report_says_what_was_decided():
    failed = request(Category.rate_limit, True).model_copy(update={"error": "429 from the LLM"})
    text = recovery_markdown(failed, decide(failed))
    assert "runs the job again" in text and "429 from the LLM" in text and "backoff of 20 s" in text
    bad = request(Category.bad_input, False)
    assert "gave up" in recovery_markdown(bad, decide(bad))


def test_the_attempt_travels_as_a_run_tag():
    assert attempt_tag(2) == "docuforge-attempt-2"
    assert attempt_of(["docuforge", attempt_tag(3)]) == 3
    assert attempt_of(["docuforge", "docuforge-attempt-x"]) == 1 and attempt_of([]) == 1


def test_the_policy_gives_each_category_its_runs_and_honours_retry_after():
    assert retry_for(Category.bad_input, retryable=False) is None and retry_for(Category.network, False) is None
    assert retry_for(Category.rate_limit, True).runs == 5 and retry_for(Category.network, True).runs == 3
    assert retry_for(Category.engine, True) == FLAGGED, "an error raised as retryable gets the flagged policy"
    assert decide(request(Category.rate_limit, True, attempt=4)).action == "retry"
    assert decide(request(Category.rate_limit, True, attempt=5)).action == "give_up"
    assert decide(request(Category.network, True, attempt=3)).action == "give_up"
    assert delay_s(retry_for(Category.network, True), 1, retry_after_s=30) == 30
    assert delay_s(retry_for(Category.rate_limit, True), 20) == MAX_DELAY_S
    assert all(0.75 * 8 <= jittered(8) <= 1.25 * 8 for _ in range(50))
