"""Docuforge's block types as plain values (saving and loading them is tests/flow/test_init.py)."""
from __future__ import annotations

import pytest
from prefect_aws import AwsCredentials, S3Bucket
from pydantic import ValidationError

from blocks.settings import BLOCK_TYPES, LlmProviderSettings, OcrSettings, ResultsStorage
from tasks.models import ProcessOptions


def test_block_types_have_docuforge_slugs():
    assert [cls.get_block_type_slug() for cls in BLOCK_TYPES] == [
        "docuforge-results-storage", "docuforge-ocr-settings", "docuforge-llm-provider"]


def test_results_storage_is_a_folder_or_an_s3_bucket():
    assert ResultsStorage(folder="/data/results").uri == "/data/results"
    bucket = S3Bucket(bucket_name="results", bucket_folder="docuforge/", credentials=AwsCredentials())
    assert ResultsStorage(bucket=bucket).uri == "s3://results/docuforge"
    assert ResultsStorage(bucket=bucket.model_copy(update={"bucket_folder": ""})).uri == "s3://results"
    for neither_or_both in ({}, {"folder": "/data", "bucket": bucket}):
        with pytest.raises(ValidationError, match="exactly one"):
            ResultsStorage(**neither_or_both)


def test_ocr_settings_default_to_the_embedded_options():
    assert OcrSettings().options == ProcessOptions()
    assert OcrSettings(dpi=200, ocr_mode="fast").options == ProcessOptions(dpi=200, ocr_mode="fast")


@pytest.mark.parametrize("cls", BLOCK_TYPES)
def test_every_block_field_is_labelled_and_described(cls):
    """The block pages show each field by its title (one without a title shows a bare value, such as "None")."""
    properties = cls.model_json_schema()["properties"]
    for name, spec in properties.items():
        assert spec.get("title") and spec.get("description"), f"{cls.__name__}.{name}"
    assert cls.get_description() and cls.__doc__


def test_ocr_settings_show_each_option_as_a_field():
    assert set(OcrSettings.model_json_schema()["properties"]) == set(ProcessOptions.model_fields)


def test_block_descriptions_promise_nothing_unbuilt():
    for cls in BLOCK_TYPES:
        assert "correction" not in cls.get_description().lower() and "agent" not in cls.get_description().lower()


def test_llm_key_comes_from_the_block_the_environment_or_nowhere(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    assert LlmProviderSettings().resolve_api_key() is None
    anthropic = LlmProviderSettings(provider="anthropic")
    assert anthropic.resolve_api_key().get_secret_value() == "sk-ant-from-env"
    assert anthropic.model_name.startswith("claude") and LlmProviderSettings().model_name == "gpt-4o-mini"
    monkeypatch.setenv("MY_KEY", "sk-mine")
    assert LlmProviderSettings(api_key_env="MY_KEY").resolve_api_key().get_secret_value() == "sk-mine"


def test_a_stored_llm_key_stays_hidden():
    block = LlmProviderSettings(api_key="sk-stored")
    assert block.resolve_api_key().get_secret_value() == "sk-stored"
    assert "sk-stored" not in repr(block) and "sk-stored" not in block.model_dump_json()
