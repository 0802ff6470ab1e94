"""Per-job work areas under DOCUFORGE_WORK_DIR: made for a job, removed when it ends, and swept when a run that
died (a killed worker, a lost machine) left one behind."""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from pathlib import Path

from prefect import task

from tasks.retry import TASK_TIMEOUT
from tasks.settings import get_settings

PREFIX = "job-"


def new_work_area() -> str:
    root = get_settings().work_dir
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix=PREFIX, dir=root)


def last_touched(area: Path) -> float:
    """When anything in the work area was last written (a live job writes page files as it goes)."""
    return max([area.stat().st_mtime, *(entry.stat().st_mtime for entry in area.iterdir())], default=0.0)


def stale_work_areas(root: str, max_age_s: float, now: float | None = None) -> list[Path]:
    """Job work areas under root untouched for longer than max_age_s."""
    now = time.time() if now is None else now
    if not os.path.isdir(root):
        return []
    return sorted(area for area in Path(root).glob(f"{PREFIX}*")
                  if area.is_dir() and now - last_touched(area) > max_age_s)


def sweep_work_areas(root: str | None = None, max_age_s: float | None = None) -> list[str]:
    """Remove the stale work areas; the paths removed."""
    settings = get_settings()
    stale = stale_work_areas(root or settings.work_dir, settings.work_max_age_s if max_age_s is None else max_age_s)
    for area in stale:
        shutil.rmtree(area, ignore_errors=True)
    return [str(area) for area in stale]


@functools.cache
def sweep_once_per_process() -> list[str]:
    """The sweep a worker's flow-run process makes when it starts its first job."""
    return sweep_work_areas()


sweep_work_areas_task = task(name="sweep-work-areas", **TASK_TIMEOUT)(sweep_work_areas)
