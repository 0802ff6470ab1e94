"""docuforge.processing.error from process_document, and the error-recovery flow on the test harness (no
process-document deployment here, so the re-run is a subflow)."""
from __future__ import annotations

from pathlib import Path

import pytest
from prefect import tags
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId, FlowRunFilterParentFlowRunId

from flows.pipeline import process_document
from flows.recovery import error_recovery
from tasks.events import EventName
from tasks.models import ProcessOptions
from tasks.recovery import RecoveryRequest, attempt_tag
from tasks.report import artifact_key
from tasks.store import ResultsStore
from tests.flow.helpers import wait_for_events

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.pdf"
pytestmark = pytest.mark.usefixtures("prefect_harness")


def child_runs(parent_id) -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id])))


def corrupt_document(tmp_path: Path, attempt: int):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n this is not really a PDF \x00\x01\x02")
    with tags(attempt_tag(attempt)):
        state = process_document(source=str(bad), options=ProcessOptions(ocr_mode="fast"),
                                 results_uri=str(tmp_path / "results"), return_state=True)
    return state.result(raise_on_failure=False)


def test_a_corrupt_document_emits_a_processing_error_that_is_not_retryable(tmp_path):
    summary = corrupt_document(tmp_path, attempt=2)
    assert summary.status == "failed" and summary.error_category == "bad_input"
    [event] = wait_for_events(EventName.processing_error, summary.job_id)
    assert event.payload["retryable"] is False and event.payload["error_category"] == "bad_input"
    assert event.payload["attempt"] == 2 and event.payload["source_uri"] == str(tmp_path / "broken.pdf")
    assert event.resource["docuforge.error.retryable"] == "false", "the label the automations match"
    assert event.resource["docuforge.error.category"] == "bad_input"
    assert wait_for_events(EventName.document_failed, summary.job_id), "document.failed is still sent"


def test_a_non_retryable_failure_gives_up_without_running_the_job_again(tmp_path):
    summary = corrupt_document(tmp_path, attempt=1)
    [event] = wait_for_events(EventName.processing_error, summary.job_id)
    state = error_recovery(request=RecoveryRequest.model_validate(event.payload), return_state=True)
    assert state.is_completed() and state.result().action == "give_up"
    assert child_runs(state.state_details.flow_run_id) == []
    report = Artifact.get(artifact_key("recovery", summary.job_id))
    assert report is not None and "gave up" in report.data


def test_a_retryable_failure_runs_process_document_again_as_attempt_two(tmp_path):
    results = tmp_path / "results"
    request = RecoveryRequest(job_id="earlier-run", source_uri=str(SAMPLE), error_category="network",
                              error="download failed (timeout)", retryable=True, attempt=1,
                              options=ProcessOptions(ocr_mode="fast", pages="1"), results_uri=str(results))
    state = error_recovery(request=request, return_state=True)
    assert state.result().action == "retry"
    [rerun] = child_runs(state.state_details.flow_run_id)
    assert attempt_tag(2) in rerun.tags and "attempt" not in rerun.parameters and rerun.state.is_completed()
    rows = ResultsStore(str(results)).read("documents").to_pylist()
    assert [(row["status"], row["source_uri"]) for row in rows] == [("completed", str(SAMPLE))]


def test_a_rate_limit_backs_off_and_exhausted_attempts_give_up(tmp_path):
    limited = RecoveryRequest(job_id="limited", source_uri=str(SAMPLE), error_category="rate_limit", retryable=True,
                              attempt=2, options=ProcessOptions(ocr_mode="fast", pages="1"),
                              results_uri=str(tmp_path / "results"))
    decision = error_recovery(request=limited, max_attempts=3, backoff_base_s=0.001)
    assert decision.action == "retry" and decision.delay_s == pytest.approx(0.004)
    exhausted = limited.model_copy(update={"attempt": 3})
    state = error_recovery(request=exhausted, max_attempts=3, return_state=True)
    assert state.result().action == "give_up" and child_runs(state.state_details.flow_run_id) == []


def test_where_process_document_is_deployed_the_retry_is_a_run_of_the_deployment_after_the_backoff(tmp_path):
    deployment_id = process_document.to_deployment(name="process-document").apply()
    try:
        request = RecoveryRequest(job_id="limited", source_uri=str(SAMPLE), error_category="rate_limit",
                                  retryable=True, attempt=1, options=ProcessOptions(ocr_mode="fast", pages="1"),
                                  results_uri=str(tmp_path / "results"))
        state = error_recovery(request=request, backoff_base_s=60, return_state=True)
        assert state.result().action == "retry" and state.result().delay_s == 120
        with get_client(sync_client=True) as client:
            [run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id])))
        assert attempt_tag(2) in run.tags and run.parameters["options"]["pages"] == "1"
        assert run.state.is_scheduled() and (run.expected_start_time - state.timestamp).total_seconds() > 60
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment_id)
