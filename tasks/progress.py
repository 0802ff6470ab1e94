"""Page progress: a log line per page and a Prefect progress artifact per document in a flow run, and listeners (the
CLI's progress bar)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import FlowRunContext

from tasks.models import Job, PageSummary
from tasks.report import artifact_key, page_line

Listener = Callable[[Job, PageSummary, int], None]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    _listeners.remove(listener)


class PageProgress:
    """Counts a job's finished pages and reports each one."""

    def __init__(self, job: Job, total: int):
        self.job, self.total, self.done = job, total, 0
        self._lock = threading.Lock()
        self._artifact = self._log = None
        if FlowRunContext.get() is not None:
            self._log = get_run_logger()
            self._artifact = create_progress_artifact(
                progress=0.0, key=artifact_key("progress", job.job_id),
                description=f"Pages done of {total} ({job.document.source_uri})"
            )

    def page_done(self, page: PageSummary) -> PageSummary:
        with self._lock:
            self.done += 1
            if self._artifact is not None:
                self._log.log(logging.WARNING if page.status == "failed" else logging.INFO,
                              page_line(page, self.done, self.total))
                update_progress_artifact(self._artifact, progress=100.0 * self.done / self.total)
        for listener in list(_listeners):
            listener(self.job, page, self.total)
        return page
