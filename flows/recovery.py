"""error-recovery (seed §7): started by the automation on docuforge.processing.error → decide → wait → run the
same job again (attempt + 1) or give up, with a report either way."""
from __future__ import annotations

import time
from typing import Annotated

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from pydantic import Field

from flows.pipeline import process_document
from tasks.recovery import RecoveryDecision, RecoveryRequest, decide

PROCESS_DOCUMENT = "process-document/process-document"


@flow(name="error-recovery")
def error_recovery(
    request: RecoveryRequest,
    max_attempts: Annotated[int, Field(ge=1)] = 3,
) -> RecoveryDecision:
    """Run a failed document's job again when its error is retryable, else record that recovery gave up.

    Args:
        request: The failed job, as the docuforge.processing.error event describes it.
        max_attempts: Runs of the same job after which recovery gives up.
    """
    decision = decide(request, max_attempts)
    create_markdown_artifact(
        key=f"recovery-{request.job_id[:16]}",
        markdown=f"## Recovery of job `{request.job_id}`\n\n- source: `{request.source_uri}`\n"
                 f"- error: {request.error_category} (attempt {request.attempt})\n"
                 f"- decision: **{decision.action}** — {decision.reason}\n",
        description="Error recovery decision",
    )
    if decision.action == "retry":
        time.sleep(decision.delay_s)
        rerun(request)
    return decision


def rerun(request: RecoveryRequest) -> None:
    """The same job again through the process-document deployment, or as a subflow where it is not deployed."""
    parameters = {"source": request.source_uri, "operation": request.operation,
                  "options": request.options.model_dump(mode="json"), "results_uri": request.results_uri,
                  "attempt": request.attempt + 1}
    try:
        run_deployment(PROCESS_DOCUMENT, parameters=parameters, timeout=0)
    except ObjectNotFound:
        process_document(source=request.source_uri, operation=request.operation, options=request.options,
                         results_uri=request.results_uri, attempt=request.attempt + 1, return_state=True)
