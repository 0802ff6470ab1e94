"""External programs (poppler's pdftotext and pdftoppm, tesseract), each run through here: a timeout from settings
and typed errors, as OCRmyPDF's `_exec` wrappers do."""
from __future__ import annotations

import subprocess

from tasks.errors import EngineError, ResourceLimit
from tasks.settings import get_settings


def run_program(command: list[str], what: str) -> subprocess.CompletedProcess:
    """Run `command` (its output captured); ResourceLimit when it outlives DOCUFORGE_PROGRAM_TIMEOUT_S, EngineError
    when it is not installed. The caller judges the exit status."""
    timeout_s = get_settings().program_timeout_s
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ResourceLimit(f"{what}: {command[0]} was still running after {timeout_s:g} s") from exc
    except FileNotFoundError as exc:
        raise EngineError(f"{command[0]} is not installed") from exc
