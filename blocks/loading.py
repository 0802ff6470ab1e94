"""Blocks by name, with the embedded defaults when there is no such block or no API to ask."""
from __future__ import annotations

import logging
import os

from prefect.blocks.core import Block

from blocks.settings import OCR_BLOCK, RESULTS_BLOCK, OcrSettings, ResultsStorage
from tasks.models import ProcessOptions
from tasks.settings import get_settings

log = logging.getLogger(__name__)


def load_block(cls: type[Block], name: str) -> Block | None:
    try:
        return cls.load(name, validate=True)
    except ValueError:  # Prefect's answer for a block that does not exist
        return None
    except Exception as exc:  # noqa: BLE001 - no server, or one that cannot answer: the defaults apply
        log.warning("block %s could not be loaded (%s); using the embedded defaults", name, type(exc).__name__)
        return None


def default_results_uri(name: str = RESULTS_BLOCK) -> str:
    """$DOCUFORGE_RESULTS_URI, else the results block's URI, else the embedded default."""
    if "DOCUFORGE_RESULTS_URI" in os.environ:
        return get_settings().results_uri
    block = load_block(ResultsStorage, name)
    return block.uri if block is not None else get_settings().results_uri


def ocr_options(name: str = OCR_BLOCK) -> ProcessOptions:
    block = load_block(OcrSettings, name)
    return block.options if block is not None else ProcessOptions()
