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
    notify_url: str | None = Field(
        None, description="A webhook `docuforge init` saves as the docuforge-notify block: error recovery POSTs to it "
                          "when it gives up on a job")
    work_max_age_s: float = Field(
        24 * 3600.0, description="Work areas older than this are left over by a run that died: the sweeper removes "
                                 "them (keep it above flow_timeout_s)")
    program_timeout_s: float = Field(
        300.0, description="Longest an external program (pdftotext, pdftoppm, pdfinfo) or one Tesseract read may run; "
                           "then that page fails as `resource`")
    task_timeout_s: float = Field(
        1800.0, description="Longest one task may run (a page's OCR, a store write); then it fails as `resource`")
    flow_timeout_s: float = Field(
        6 * 3600.0, description="Longest one flow run may take (a document, a batch); then it fails as `resource`")


@lru_cache
def get_settings() -> Settings:
    return Settings()
