"""Event names (declared once) and the helpers that emit them."""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from prefect.events import emit_event

from tasks.errors import BadInput

log = logging.getLogger(__name__)


class EventName(StrEnum):
    document_received = "docuforge.document.received"
    ocr_completed = "docuforge.ocr.completed"
    document_processed = "docuforge.document.processed"
    document_failed = "docuforge.document.failed"
    extraction_completed = "docuforge.extraction.completed"
    split_completed = "docuforge.split.completed"
    edit_completed = "docuforge.edit.completed"
    batch_completed = "docuforge.batch.completed"
    workflow_completed = "docuforge.workflow.completed"
    processing_error = "docuforge.processing.error"
    workflow_data_transformed = "docuforge.workflow.data_transformed"
    workflow_start = "docuforge.workflow.start"
    workflow_step = "docuforge.workflow.step"


WORKFLOW_EVENT_PREFIX = "docuforge.workflow."
STEP_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def workflow_step_event(next_step: str) -> str:
    """The event that starts a workflow's next step: docuforge.workflow.<next_step>. The step must be a plain
    identifier and not one of the declared workflow events (a step cannot announce a workflow's completion)."""
    name = WORKFLOW_EVENT_PREFIX + next_step
    if not STEP_NAME.fullmatch(next_step) or name in set(EventName):
        declared = sorted(n.removeprefix(WORKFLOW_EVENT_PREFIX) for n in EventName
                          if n.startswith(WORKFLOW_EVENT_PREFIX))
        raise BadInput(f"next step {next_step!r} must be a lowercase identifier (a-z, 0-9, _) other than {declared}")
    return name


def emit(name: EventName, job_id: str, document_uri: str, payload: dict[str, Any],
         labels: dict[str, str] | None = None) -> str | None:
    """Emit a job event (resource docuforge.job.<id>, related: the document). Returns the event id, if sent.

    Callers pass only redacted URIs and no secrets: payloads are visible in the Prefect UI.
    """
    return emit_about(name, "job", job_id, payload,
                      related=[{"prefect.resource.id": document_uri, "prefect.resource.role": "document"}],
                      labels=labels)


def emit_about(name: str, kind: str, key: str, payload: dict[str, Any],
               related: Sequence[dict[str, str]] = (), labels: dict[str, str] | None = None) -> str | None:
    """Emit an event about docuforge.<kind>.<key> (a job, batch or workflow). Returns the event id, if sent.
    `labels` go on the resource, where automations can match them."""
    event = emit_event(
        event=str(name),
        resource={"prefect.resource.id": f"docuforge.{kind}.{key}", "prefect.resource.name": key, **(labels or {})},
        related=list(related),
        payload=payload,
    )
    if event is None:
        log.warning("event %s for %s %s was not sent (no Prefect events client)", name, kind, key)
        return None
    return str(event.id)
