"""Helpers for flow tests: read what the Prefect server recorded."""
from __future__ import annotations

import time

from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

from tasks.events import EventName


def wait_for_events(name: EventName | str, job_id: str, timeout: float = 30.0, kind: str = "job") -> list:
    """Events the server has stored for a job (or batch, workflow: `kind`); they are written asynchronously, hence
    the bounded wait."""
    query = EventFilter(event=EventNameFilter(name=[str(name)]),
                        resource=EventResourceFilter(id=[f"docuforge.{kind}.{job_id}"]))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            events = client.read_events(filter=query, limit=50).events
            if events or time.monotonic() > deadline:
                return events
            time.sleep(0.5)


def wait_for_logs(flow_run_id, until: str | tuple[str, ...], timeout: float = 120.0) -> list[str]:
    """A flow run's log messages, once they contain each of `until` (logs reach the server in batches, later on a
    busy machine: hence the bounded wait)."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    wanted = (until,) if isinstance(until, str) else until
    query = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            messages = [log.message for log in client.read_logs(log_filter=query, limit=200)]
            if all(any(text in message for message in messages) for text in wanted) or time.monotonic() > deadline:
                return messages
            time.sleep(0.5)
