import pytest

from tasks.errors import Category, CorruptDocument, NetworkError, as_docuforge_error, is_retryable
from tasks.models import ENGINE_WEIGHTS, ProcessOptions, job_id_for, overlay, parse_page_ranges


def test_page_ranges():
    assert parse_page_ranges("1-3,7", 10) == [1, 2, 3, 7]
    assert parse_page_ranges(None, 3) == [1, 2, 3]
    assert parse_page_ranges("2-99", 4) == [2, 3, 4]
    assert parse_page_ranges("9", 4) == []
    for bad in ("0", "3-1", "a", "1-", "1,,2"):
        with pytest.raises(ValueError):
            parse_page_ranges(bad, 10)


def test_job_id_is_stable_and_depends_on_what_changes_output():
    options = ProcessOptions()
    same = job_id_for("doc", "parse", ProcessOptions())
    assert job_id_for("doc", "parse", options) == same
    assert job_id_for("doc", "extract", options) != same
    assert job_id_for("doc", "parse", ProcessOptions(dpi=200)) != same
    assert job_id_for("other", "parse", options) != same
    relaxed = ProcessOptions(limits={"max_pages": 3})
    assert job_id_for("doc", "parse", relaxed) == same, "limits decide whether a job runs, not what it produces"


def test_errors_carry_category_and_retryability():
    assert CorruptDocument("x").category is Category.bad_input and not CorruptDocument("x").retryable
    assert is_retryable(NetworkError("down"))
    assert not is_retryable(NetworkError("down", retryable=False))
    unknown = as_docuforge_error(KeyError("k"))
    assert unknown.category is Category.internal and "KeyError" in unknown.message
    assert as_docuforge_error(MemoryError()).category is Category.resource


def test_modes_and_operations_not_built_yet_are_refused_not_run_as_something_else():
    from prefect.utilities.callables import parameter_schema
    from pydantic import ValidationError

    from flows.pipeline import process_document

    with pytest.raises(ValidationError):
        ProcessOptions(ocr_mode="agentic")
    form = parameter_schema(process_document.fn).model_dump()
    assert form["properties"]["operation"]["enum"] == ["parse", "extract"], "the run form offers only what works"
    assert form["definitions"]["ProcessOptions"]["properties"]["ocr_mode"]["enum"] == ["fast", "auto", "ensemble"]


def test_options_given_change_only_what_differs_from_the_built_in_values():
    settings = ProcessOptions(dpi=200, engines=["paddle"], enhance={"denoise": True})
    given = ProcessOptions(ocr_mode="fast", enhance={"binarize": True})
    merged = overlay(settings, given, ProcessOptions())
    assert (merged.dpi, merged.engines, merged.ocr_mode) == (200, ["paddle"], "fast")
    assert merged.enhance.denoise and merged.enhance.binarize, "sub-models merge field by field"
    assert overlay(settings, ProcessOptions(), ProcessOptions()) == settings
    assert overlay(settings, merged, ProcessOptions()) == merged, "merging a merged set again changes nothing"


def test_mutable_defaults_are_copies():
    options = ProcessOptions()
    options.engine_weights["paddle"] = 9.0
    options.engines.append("other")
    assert ProcessOptions().engine_weights == ENGINE_WEIGHTS and ENGINE_WEIGHTS["paddle"] != 9.0
    assert "other" not in ProcessOptions().engines
