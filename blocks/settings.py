"""Docuforge's own block types: where results go, how documents are read, which LLM provider corrects and extracts.

`docuforge init` registers them and creates one of each under the names below; flows load them by name and fall
back to the embedded defaults when there is no such block (or no server).
"""
from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field

from tasks.models import ProcessOptions

RESULTS_BLOCK = "docuforge-results"
OCR_BLOCK = "docuforge-ocr"
LLM_BLOCK = "docuforge-llm"


class ResultsStorage(Block):
    """Where the Parquet results dataset lives: a local folder or s3://bucket/prefix."""

    _block_type_slug = "docuforge-results-storage"
    _description = "Where Docuforge writes its Parquet results dataset (a local folder or s3://bucket/prefix)."

    uri: str = Field(description="A local folder or s3://bucket/prefix (S3 access: the standard AWS variables)")


class OcrSettings(Block):
    """The processing options documents are read with when a run does not give its own."""

    _block_type_slug = "docuforge-ocr-settings"
    _description = "How Docuforge reads documents: OCR mode, engines and their weights, dpi, language, limits."

    options: ProcessOptions = Field(default_factory=ProcessOptions)


class LlmProviderSettings(Block):
    """The LLM provider; its key is named here (a Secret block or an environment variable), never stored here."""

    _block_type_slug = "docuforge-llm-provider"
    _description = "The LLM provider Docuforge's correction and extraction agents call."

    provider: Literal["openai", "anthropic"] = "openai"
    model: str = "gpt-4o-mini"
    base_url: str | None = Field(None, description="Another endpoint speaking the provider's API")
    api_key_secret: str | None = Field(None, description="Name of the Prefect Secret block holding the API key")
    api_key_env: str | None = Field("OPENAI_API_KEY", description="Environment variable holding the API key")


BLOCK_TYPES: list[type[Block]] = [ResultsStorage, OcrSettings, LlmProviderSettings]
