"""error-recovery (seed §7): started by an automation on docuforge.processing.error → decide → back off → run the
same job again (attempt + 1), or give up; a report either way."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

from prefect import flow, get_run_logger, tags
from prefect.artifacts import create_markdown_artifact
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.runtime import flow_run
from pydantic import Field

from flows.pipeline import process_document
from tasks.notify import notify
from tasks.recovery import RecoveryDecision, RecoveryRequest, attempt_tag, decide, recovery_markdown
from tasks.report import artifact_key
from tasks.retry import FLOW_TIMEOUT

PROCESS_DOCUMENT = "process-document/process-document"


@flow(name="error-recovery", **FLOW_TIMEOUT)
def error_recovery(
    request: RecoveryRequest,
    max_attempts: Annotated[int | None, Field(ge=1)] = None,
    backoff_base_s: Annotated[float | None, Field(ge=0)] = None,
) -> RecoveryDecision:
    """Run a failed document's job again when its error is retryable, else record that recovery gave up.

    Args:
        request: The failed job, as the docuforge.processing.error event describes it (its payload).
        max_attempts: Runs of the same job after which recovery gives up; empty: the retry policy's for the error's
            category (network 3, rate limit 5).
        backoff_base_s: The next run waits 2^attempt × this many seconds (at most 5 minutes); empty: the retry
            policy's for the error's category (network 0.5 s, rate limit 10 s).
    """
    decision = decide(request, max_attempts, backoff_base_s)
    report(request, decision)
    if decision.action == "retry":
        rerun(request, decision.delay_s)
    return decision


def report(request: RecoveryRequest, decision: RecoveryDecision) -> None:
    log = get_run_logger()
    if decision.action == "give_up":
        log.warning("job %s (%s): gave up: %s", request.job_id, request.source_uri, decision.reason)
        log.info(notify(f"Docuforge gave up on {request.source_uri}", recovery_markdown(request, decision)))
    else:
        log.info("job %s (%s): running it again: %s", request.job_id, request.source_uri, decision.reason)
    create_markdown_artifact(key=artifact_key("recovery", request.job_id),
                             markdown=recovery_markdown(request, decision),
                             description=f"Error recovery: {decision.action}")


def rerun(request: RecoveryRequest, delay_s: float) -> None:
    """The same job again (tagged as attempt + 1): a run of the process-document deployment scheduled after the
    backoff, or, where it is not deployed, a subflow after waiting out the backoff here."""
    tag = attempt_tag(request.attempt + 1)
    parameters = {"source": request.source_uri, "operation": request.operation,
                  "options": request.options.model_dump(mode="json"), "results_uri": request.results_uri,
                  "fields_schema": request.fields_schema,
                  "split_criteria": request.split_criteria.model_dump(mode="json") if request.split_criteria else None,
                  "edits": request.edits.model_dump(mode="json") if request.edits else None}
    try:
        run_deployment(PROCESS_DOCUMENT, parameters=parameters, timeout=0, tags=[tag],
                       scheduled_time=datetime.now(UTC) + timedelta(seconds=delay_s),
                       idempotency_key=f"error-recovery-{flow_run.id}")  # once, however often this run retries
    except ObjectNotFound:
        time.sleep(delay_s)
        with tags(tag):
            process_document(source=request.source_uri, operation=request.operation, options=request.options,
                             results_uri=request.results_uri, fields_schema=request.fields_schema,
                             split_criteria=request.split_criteria, edits=request.edits, return_state=True)
