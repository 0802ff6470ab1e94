"""sweep-work-areas: the scheduled maintenance flow that removes work areas left by runs that died."""
from __future__ import annotations

from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import Field

from tasks.retry import FLOW_TIMEOUT
from tasks.settings import get_settings
from tasks.workarea import sweep_work_areas_task


@flow(name="sweep-work-areas", **FLOW_TIMEOUT)
def sweep_work_areas(
    max_age_hours: Annotated[float, Field(gt=0)] = get_settings().work_max_age_s / 3600,
) -> list[str]:
    """Remove job work areas (under DOCUFORGE_WORK_DIR) nobody has written to for longer than max_age_hours: what a
    killed worker or a lost machine left behind. Finished jobs remove their own.

    Args:
        max_age_hours: Work areas untouched for longer than this are removed (keep it above the longest a job may
            run, DOCUFORGE_FLOW_TIMEOUT_S).
    """
    removed = sweep_work_areas_task(max_age_s=max_age_hours * 3600)
    log = get_run_logger()
    log.info("%d stale work areas removed under %s", len(removed), get_settings().work_dir)
    for path in removed:
        log.info("removed %s", path)
    return removed
