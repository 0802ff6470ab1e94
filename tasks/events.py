"""Event names (declared once) and the helper that emits them."""
from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from prefect.events import emit_event

log = logging.getLogger(__name__)


class EventName(StrEnum):
    document_received = "docuforge.document.received"
    ocr_completed = "docuforge.ocr.completed"
    correction_completed = "docuforge.correction.completed"
    document_processed = "docuforge.document.processed"
    document_failed = "docuforge.document.failed"
    extraction_completed = "docuforge.extraction.completed"
    split_completed = "docuforge.split.completed"
    batch_completed = "docuforge.batch.completed"
    workflow_completed = "docuforge.workflow.completed"
    processing_error = "docuforge.processing.error"


def job_resource(job_id: str) -> dict[str, str]:
    return {"prefect.resource.id": f"docuforge.job.{job_id}", "prefect.resource.name": job_id}


def emit(name: EventName, job_id: str, document_uri: str, payload: dict[str, Any]) -> str | None:
    """Emit a job event (resource docuforge.job.<id>, related: the document). Returns the event id, if sent.

    Callers pass only redacted URIs and no secrets: payloads are visible in the Prefect UI.
    """
    event = emit_event(
        event=str(name),
        resource=job_resource(job_id),
        related=[{"prefect.resource.id": document_uri, "prefect.resource.role": "document"}],
        payload=payload,
    )
    if event is None:
        log.warning("event %s for job %s was not sent (no Prefect events client)", name, job_id)
        return None
    return str(event.id)
