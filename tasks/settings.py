"""Embedded defaults for every setting; each can be overridden by a DOCUFORGE_* environment variable."""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCUFORGE_")

    results_uri: str = Field("./docuforge-data/results", description="Where the Parquet results dataset lives")
    work_dir: str = Field(
        default_factory=lambda: os.path.join(tempfile.gettempdir(), "docuforge-work"),
        description="Per-job work areas (rendered pages, page results) live under this folder",
    )
    keep_work: bool = Field(False, description="Keep each job's work area after it finishes")
    page_workers: int = Field(default_factory=lambda: os.cpu_count() or 2, description="Pages processed at once")
    http_timeout_s: float = 60.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
