import errno
import os
import socket

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


def test_an_extraction_job_is_one_per_fields_schema():
    from tasks.extract.job import resolve_schema

    invoice, receipt = resolve_schema("invoice"), resolve_schema("receipt")
    assert resolve_schema(invoice.model_dump()).fingerprint() == invoice.fingerprint(), "as extract_document passes it"
    by_invoice = job_id_for("doc", "extract", ProcessOptions(), invoice.fingerprint())
    assert by_invoice == job_id_for("doc", "extract", ProcessOptions(), invoice.fingerprint())
    assert by_invoice != job_id_for("doc", "extract", ProcessOptions(), receipt.fingerprint())


def test_errors_carry_category_and_retryability():
    assert CorruptDocument("x").category is Category.bad_input and not CorruptDocument("x").retryable
    assert is_retryable(NetworkError("down"))
    assert not is_retryable(NetworkError("down", retryable=False))
    unknown = as_docuforge_error(KeyError("k"))
    assert unknown.category is Category.internal and "KeyError" in unknown.message
    assert as_docuforge_error(MemoryError()).category is Category.resource


def test_builtin_os_errors_are_typed_by_their_kind(tmp_path):
    """Real errors from the operating system: a refused connection, a wait that ran out, a missing file, a full
    device."""
    from deployments.local_stack import free_port

    raised = []
    waiting, peer = socket.socketpair()
    waiting.settimeout(0.01)
    full = os.open("/dev/full", os.O_WRONLY)
    for attempt in (lambda: socket.create_connection(("127.0.0.1", free_port())), lambda: waiting.recv(1),
                    lambda: open(tmp_path / "missing.pdf", "rb"), lambda: os.write(full, b"x")):
        with pytest.raises(OSError) as caught:
            attempt()
        raised.append(as_docuforge_error(caught.value))
    os.close(full)
    waiting.close()
    peer.close()
    refused, timed_out, missing, no_space = raised
    assert refused.category is Category.network and refused.retryable
    assert timed_out.category is Category.resource and not timed_out.retryable
    assert missing.category is Category.not_found and str(tmp_path / "missing.pdf") in missing.message
    assert no_space.category is Category.resource and "no space left" in no_space.message
    denied = as_docuforge_error(PermissionError(errno.EACCES, "Permission denied", "/results/documents"))
    assert denied.category is Category.bad_input and "/results/documents" in denied.message


def test_modes_and_operations_not_built_yet_are_refused_not_run_as_something_else():
    from prefect.utilities.callables import parameter_schema
    from pydantic import ValidationError

    from flows.pipeline import process_document

    with pytest.raises(ValidationError):
        ProcessOptions(ocr_mode="agentic")
    form = parameter_schema(process_document.fn).model_dump()
    assert form["properties"]["operation"]["enum"] == ["parse", "extract", "split", "edit"], \
        "the run form offers only what works"
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
