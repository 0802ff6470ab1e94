"""The one retry policy: how often and after how long work that failed runs again, by its error's category; and how
long a task or a flow may run.

Tasks (Prefect's task retries), error recovery (a failed job run again) and the S3 bridge (SQS polling) all decide
from here, never from an error's message."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

from prefect import Task, get_run_logger
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from tasks.errors import Category, DocuforgeError, as_docuforge_error
from tasks.settings import get_settings


@dataclass(frozen=True)
class Retry:
    runs: int
    """Runs in all, the first included."""
    base_s: float
    """Half the wait after the first run; the wait doubles after each further run, up to MAX_DELAY_S."""


POLICY: dict[Category, Retry] = {
    Category.network: Retry(runs=3, base_s=0.5),
    Category.rate_limit: Retry(runs=5, base_s=10.0),
}
FLAGGED = Retry(runs=2, base_s=0.5)
"""An error of another category raised as retryable (retryable=True)."""
MAX_DELAY_S = 300.0
JITTER = 0.25
"""Each wait is stretched or shrunk at random by up to this share, so failed runs do not come back in step."""


def retry_for(category: Category | str | None, retryable: bool) -> Retry | None:
    """How an error of this category is retried; None: it is not (a retry would fail the same way)."""
    if not retryable:
        return None
    return POLICY.get(category, FLAGGED)


def delay_s(retry: Retry, runs_made: int, base_s: float | None = None, retry_after_s: float | None = None) -> float:
    """The wait before the next run after runs_made runs: 2^runs_made × base (2 × base, 4 × base …), at most
    MAX_DELAY_S, never shorter than what the other side asked for (Retry-After)."""
    base = retry.base_s if base_s is None else base_s
    return max(min(MAX_DELAY_S, base * 2 ** runs_made), retry_after_s or 0.0)


def jittered(seconds: float) -> float:
    return seconds * random.uniform(1 - JITTER, 1 + JITTER)


def should_retry(task: Task, task_run: TaskRun, state: State) -> bool:
    """Prefect's retry condition for every task: retry while the error's category allows more runs, after the
    policy's wait (the task's own retry delay is zero; the wait happens here, so it can depend on the error)."""
    if not isinstance(state.data, BaseException):
        return False
    error = as_docuforge_error(state.data)
    retry = retry_for(error.category, error.retryable)
    if retry is None or task_run.run_count >= retry.runs:
        return False
    wait_s = jittered(delay_s(retry, task_run.run_count, retry_after_s=retry_after(error)))
    get_run_logger().info("%s error: run %d of %d in %.1f s (retry policy)", error.category, task_run.run_count + 1,
                          retry.runs, wait_s)
    time.sleep(wait_s)
    return True


def retry_after(error: DocuforgeError) -> float | None:
    return getattr(error, "retry_after_s", None)


TASK_TIMEOUT = {"timeout_seconds": get_settings().task_timeout_s}
"""Every task's time limit: `task(name=..., **TASK_TIMEOUT)`; a task over it fails as `resource`."""
TASK_RETRIES = {"retries": max(retry.runs for retry in [*POLICY.values(), FLAGGED]) - 1, "retry_delay_seconds": 0,
                "retry_condition_fn": should_retry, **TASK_TIMEOUT}
"""A task that retries: `task(name=..., **TASK_RETRIES)` (its time limit included)."""
FLOW_TIMEOUT = {"timeout_seconds": get_settings().flow_timeout_s}
"""Every flow's time limit: `@flow(name=..., **FLOW_TIMEOUT)`."""
