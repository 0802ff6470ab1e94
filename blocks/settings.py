"""Docuforge's own block types: where results go, how documents are read, which LLM provider the AI extraction calls.

`docuforge init` registers them and creates one of each under the names below; flows load them by name and fall
back to the embedded defaults when there is no such block (or no server).
"""
from __future__ import annotations

import os
from typing import Literal

from prefect.blocks.core import Block
from prefect.blocks.system import Secret
from prefect_aws import S3Bucket
from pydantic import Field, SecretStr, model_validator

from tasks.models import ProcessOptions

RESULTS_BLOCK = "docuforge-results"
OCR_BLOCK = "docuforge-ocr"
LLM_BLOCK = "docuforge-llm"
RESULTS_BUCKET_BLOCK = "docuforge-results-bucket"
AWS_CREDENTIALS_BLOCK = "docuforge-aws"
NOTIFY_BLOCK = "docuforge-notify"

LlmProvider = Literal["openai", "anthropic"]
PROVIDER_DEFAULTS: dict[str, tuple[str, str]] = {
    "openai": ("gpt-4o-mini", "OPENAI_API_KEY"),
    "anthropic": ("claude-3-5-sonnet-latest", "ANTHROPIC_API_KEY"),
}
"""Each provider's default model and the environment variable its SDK reads the key from."""


class ResultsStorage(Block):
    """Where the Parquet results dataset lives: a local folder, or an S3 location given by a prefect-aws S3Bucket
    block (bucket, folder, and the AwsCredentials with the endpoint)."""

    _block_type_name = "Docuforge Results Storage"
    _block_type_slug = "docuforge-results-storage"
    _description = "Where Docuforge writes its Parquet results dataset: a local folder or an S3Bucket block."

    folder: str | None = Field(None, title="Local folder",
                               description="A folder on the worker's machine (leave empty when an S3 bucket is set)")
    bucket: S3Bucket | None = Field(None, title="S3 bucket",
                                    description="An S3Bucket block: bucket, folder and the credentials to reach it "
                                                "(leave empty when a local folder is set)")

    @model_validator(mode="after")
    def _one_root(self) -> ResultsStorage:
        if (self.folder is None) == (self.bucket is None):
            raise ValueError("set exactly one of folder and bucket")
        return self

    @property
    def uri(self) -> str:
        """The results root as ResultsStore takes it: the folder, or s3://bucket/folder."""
        if self.bucket is None:
            return self.folder
        return "/".join(part for part in (f"s3://{self.bucket.bucket_name}", self.bucket.bucket_folder.strip("/"))
                        if part)


class OcrSettings(Block, ProcessOptions):
    """The processing options runs read documents with: each field of a run's options that the run leaves at its
    built-in value takes this block's value."""

    _block_type_name = "Docuforge OCR Settings"
    _block_type_slug = "docuforge-ocr-settings"
    _description = ("How Docuforge reads documents when a run does not say otherwise: OCR mode, engines and their "
                    "vote weights, dpi, language, pages, tables and figures, scan clean-up and size limits.")

    @property
    def options(self) -> ProcessOptions:
        return ProcessOptions.model_validate(self.model_dump(include=set(ProcessOptions.model_fields)))


class LlmProviderSettings(Block):
    """The LLM provider. Its API key is named here (a Prefect Secret block, or an environment variable); a key
    stored in the block itself is a SecretStr, hidden in the UI and in logs."""

    _block_type_name = "Docuforge LLM Provider"
    _block_type_slug = "docuforge-llm-provider"
    _description = ("The LLM that extraction calls for fields whose method is 'ai' (OpenAI or Anthropic, or another "
                    "endpoint speaking their API), and where its API key comes from.")

    provider: LlmProvider = Field("openai", title="Provider", description="Whose API is called: openai or anthropic")
    model: str | None = Field(None, title="Model", description="The model (default: gpt-4o-mini for openai, "
                                                               "claude-3-5-sonnet-latest for anthropic)")
    base_url: str | None = Field(None, title="Base URL", description="Another endpoint speaking the provider's API "
                                                                     "(default: the provider's own)")
    api_key_secret: str | None = Field(None, title="API key: Secret block",
                                       description="Name of the Prefect Secret block holding the API key")
    api_key_env: str | None = Field(None, title="API key: environment variable",
                                    description="Environment variable holding the API key (default: OPENAI_API_KEY "
                                                "or ANTHROPIC_API_KEY)")
    api_key: SecretStr | None = Field(None, title="API key",
                                      description="The API key itself, if neither of the above is used")

    @property
    def model_name(self) -> str:
        return self.model or PROVIDER_DEFAULTS[self.provider][0]

    def resolve_api_key(self) -> SecretStr | None:
        """The key from the block, else the named Secret block, else the environment variable; None without one."""
        if self.api_key is not None:
            return self.api_key
        if self.api_key_secret:
            return SecretStr(Secret.load(self.api_key_secret).get())
        value = os.environ.get(self.api_key_env or PROVIDER_DEFAULTS[self.provider][1])
        return SecretStr(value) if value else None


BLOCK_TYPES: list[type[Block]] = [ResultsStorage, OcrSettings, LlmProviderSettings]
