"""The global concurrency limit that caps OCR work across every run on the server (`docuforge init` creates it)."""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from prefect.concurrency.sync import concurrency
from prefect.settings import get_current_settings

OCR_LIMIT = "ocr"
DEFAULT_OCR_SLOTS = 2


def ocr_slot() -> AbstractContextManager:
    """One slot of the `ocr` limit, held while a page's OCR runs; without such a limit (no `docuforge init`) it
    holds nothing and waits for nothing. On the CLI's temporary API (no PREFECT_API_URL) nothing is asked of the
    API at all: one process shares nothing, its page workers are its limit, and asking for a slot that does not
    exist cost up to two seconds a page there."""
    if not get_current_settings().api.url:
        return nullcontext()
    return concurrency(OCR_LIMIT, occupy=1, strict=False, raise_on_lease_renewal_failure=False)
