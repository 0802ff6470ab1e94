"""Blocks by name, with the embedded defaults when there is no such block or no API to ask."""
from __future__ import annotations

import logging

from prefect.blocks.core import Block

from blocks.settings import LLM_BLOCK, OCR_BLOCK, RESULTS_BLOCK, LlmProviderSettings, OcrSettings, ResultsStorage
from tasks.models import ProcessOptions, overlay
from tasks.settings import get_settings

log = logging.getLogger(__name__)


def load_block(cls: type[Block], name: str) -> Block | None:
    try:
        return cls.load(name, validate=True)
    except ValueError:  # Prefect's answer for a block (or block type) that does not exist
        return None
    except Exception as exc:  # noqa: BLE001 - no server, or one that cannot answer: the defaults apply
        log.warning("block %s could not be loaded (%s); using the embedded defaults", name, type(exc).__name__)
        return None


def default_results_uri(name: str = RESULTS_BLOCK) -> str:
    """The results root when a run names none: $DOCUFORGE_RESULTS_URI, else the results block's, else the embedded
    default."""
    settings = get_settings()
    if "results_uri" in settings.model_fields_set:
        return settings.results_uri
    block = load_block(ResultsStorage, name)
    return block.uri if block is not None else settings.results_uri


def ocr_options(given: ProcessOptions | None = None, name: str = OCR_BLOCK) -> ProcessOptions:
    """The options a run reads with: the OCR settings block's (else the embedded defaults), with the fields in which
    the run's own options differ from the embedded defaults."""
    block = load_block(OcrSettings, name)
    settings = block.options if block is not None else ProcessOptions()
    return settings if given is None else overlay(settings, given, ProcessOptions())


def llm_provider(name: str = LLM_BLOCK) -> LlmProviderSettings:
    """The LLM provider block, else the embedded defaults (OpenAI, key from $OPENAI_API_KEY)."""
    return load_block(LlmProviderSettings, name) or LlmProviderSettings()
