"""The one retry policy: Prefect retries a task only when its error's category says retrying can help."""
from __future__ import annotations

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from tasks.errors import is_retryable


def retry_if_retryable(task: Task, task_run: TaskRun, state: State) -> bool:
    """Prefect's engine hands the raised exception over as the failed state's data."""
    return isinstance(state.data, BaseException) and is_retryable(state.data)
