"""External programs run through one wrapper: a timeout from settings, and typed errors."""
from __future__ import annotations

import pytest

from tasks.errors import Category, EngineError, ResourceLimit
from tasks.programs import run_program
from tasks.settings import get_settings


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setenv("DOCUFORGE_PROGRAM_TIMEOUT_S", "0.2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_program_that_hangs_is_stopped_as_a_resource_error(short_timeout):
    with pytest.raises(ResourceLimit, match=r"page 3: sleep was still running after 0.2 s") as caught:
        run_program(["sleep", "5"], "page 3")
    assert caught.value.category == Category.resource and not caught.value.retryable


def test_a_program_that_is_not_installed_is_an_engine_error():
    with pytest.raises(EngineError, match="no-such-program is not installed"):
        run_program(["no-such-program", "--version"], "page 1")


def test_a_program_that_finishes_hands_back_its_output_and_status():
    result = run_program(["sh", "-c", "echo read; exit 3"], "page 1")
    assert result.stdout == b"read\n" and result.returncode == 3
