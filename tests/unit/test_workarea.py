"""Work areas: made per job, and swept when a run that died left one behind."""
from __future__ import annotations

import os
import time

import pytest

from tasks.settings import get_settings
from tasks.workarea import new_work_area, stale_work_areas, sweep_work_areas


@pytest.fixture
def work_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCUFORGE_WORK_DIR", str(tmp_path / "work"))
    get_settings.cache_clear()
    yield tmp_path / "work"
    get_settings.cache_clear()


def age(path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_only_work_areas_nobody_wrote_to_for_longer_than_the_limit_are_swept(work_root):
    dead, live, fresh = (new_work_area() for _ in range(3))
    for area in (dead, live):
        os.makedirs(f"{area}/results")
        age(f"{area}/results", 30)
        age(area, 30)
    with open(f"{live}/page-00001.json", "w") as handle:  # a long job still writing its pages
        handle.write("{}")
    (work_root / "not-a-job").mkdir()
    age(work_root / "not-a-job", 30)

    assert [str(path) for path in stale_work_areas(str(work_root), 24 * 3600)] == [dead]
    assert sweep_work_areas() == [dead], "the default limit is DOCUFORGE_WORK_MAX_AGE_S (24 h)"
    assert not os.path.exists(dead) and os.path.isdir(live) and os.path.isdir(fresh)
    assert (work_root / "not-a-job").is_dir(), "only job work areas are removed"
    assert sweep_work_areas(max_age_s=0) == sorted([live, fresh])


def test_a_missing_work_folder_has_nothing_to_sweep(tmp_path):
    assert stale_work_areas(str(tmp_path / "none"), 0) == []
