"""The global concurrency limit that caps OCR work across every run on the server (`docuforge init` creates it)."""
from __future__ import annotations

from contextlib import AbstractContextManager

from prefect.concurrency.sync import concurrency

OCR_LIMIT = "ocr"
DEFAULT_OCR_SLOTS = 2


def ocr_slot() -> AbstractContextManager:
    """One slot of the `ocr` limit, held while a page's OCR runs; without such a limit (no `docuforge init`, or
    the CLI's temporary API) it holds nothing and waits for nothing."""
    return concurrency(OCR_LIMIT, occupy=1, strict=False, raise_on_lease_renewal_failure=False)
