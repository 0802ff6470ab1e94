"""Workflow merge / compare / combine, the condition language and transformations, the report (no Prefect)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.errors import BadInput
from tasks.events import workflow_step_event
from tasks.models import JobSummary
from tasks.report import workflow_markdown
from tasks.steps import ConditionalStep, TransformationStep, evaluate, parse_step, transform
from tasks.store import JobWriter, ResultsStore
from tasks.workflow import (
    DocumentText, WorkflowConfig, combine_documents, combine_fields, compare_texts, event_payload, merged_markdown,
)
from tests.unit.test_store import _page

CONTEXT = {"document": {"status": "completed", "pages": 4, "tags": ["invoice", "eu"]},
           "pages": [{"confidence": 0.7}, {"confidence": 0.95}]}


def _condition(**kw):
    return ConditionalStep.model_validate({"condition": kw, "next_step": "x"}).condition


@pytest.mark.parametrize("condition,expected", [
    ({"field": "document.status", "op": "eq", "value": "completed"}, True),
    ({"field": "document.status", "op": "ne", "value": "completed"}, False),
    ({"field": "document.pages", "op": "gt", "value": 3}, True),
    ({"field": "document.pages", "op": "lt", "value": 3}, False),
    ({"field": "document.pages", "op": "le", "value": 4}, True),
    ({"field": "pages.1.confidence", "op": "ge", "value": 0.9}, True),
    ({"field": "document.status", "op": "in", "value": ["completed", "partial"]}, True),
    ({"field": "document.status", "op": "not_in", "value": ["completed"]}, False),
    ({"field": "document.tags", "op": "contains", "value": "eu"}, True),
    ({"field": "document.language", "op": "exists"}, False),
    ({"field": "document.language", "op": "exists", "value": False}, True),
    ({"field": "document.language", "op": "eq", "value": None}, False),
    ({"field": "pages.9.confidence", "op": "lt", "value": 1}, False),
    ({"all": [{"field": "document.pages", "op": "gt", "value": 3},
              {"any": [{"field": "document.status", "op": "eq", "value": "failed"},
                       {"field": "document.tags", "op": "contains", "value": "invoice"}]}]}, True),
    ({"all": [{"field": "document.pages", "op": "gt", "value": 3},
              {"field": "document.status", "op": "eq", "value": "failed"}]}, False),
])
def test_conditions(condition, expected):
    step = ConditionalStep.model_validate({"condition": condition, "context": CONTEXT, "next_step": "review"})
    assert evaluate(step.condition, step.context) is expected


def test_conditions_are_data_not_code():
    with pytest.raises(BadInput, match="unknown workflow step type"):
        parse_step("python", {})
    with pytest.raises(BadInput, match="conditional_processing"):
        parse_step("conditional_processing", {"condition": {"field": "a", "op": "__import__"}, "next_step": "x"})
    with pytest.raises(BadInput):
        parse_step("conditional_processing", {"condition": {"field": "a", "op": "eq", "vale": 1}, "next_step": "x"})
    with pytest.raises(BadInput, match="cannot apply gt"):
        evaluate(_condition(field="document.status", op="gt", value=3), CONTEXT)


@pytest.mark.parametrize("next_step", ["Review", "re.view", "review step", "completed", "data_transformed", ""])
def test_next_step_must_be_a_plain_identifier_and_not_a_declared_event(next_step):
    with pytest.raises(BadInput):
        workflow_step_event(next_step)
    with pytest.raises(BadInput):
        parse_step("conditional_processing", {"condition": {"field": "a", "op": "exists"}, "next_step": next_step})


def test_next_step_event_name():
    assert workflow_step_event("manual_review") == "docuforge.workflow.manual_review"


def test_transformation_filters_selects_and_renames():
    step = parse_step("data_transformation", {
        "step_id": "s1",
        "input_data": [{"name": "a.pdf", "pages": 3, "meta": {"lang": "en"}},
                       {"name": "b.pdf", "pages": 1, "meta": {"lang": "de"}}],
        "transformation_config": {"filter": {"field": "pages", "op": "gt", "value": 2},
                                  "select": ["name", "meta.lang", "missing"], "rename": {"meta.lang": "language"}},
    })
    assert isinstance(step, TransformationStep)
    assert transform(step.input_data, step.transformation_config) == [{"name": "a.pdf", "language": "en"}]


def test_transformation_of_one_record():
    config = parse_step("data_transformation", {"input_data": {}, "transformation_config": {
        "filter": {"field": "ok", "op": "eq", "value": True}, "rename": {"x": "y"}}}).transformation_config
    assert transform({"ok": True, "x": 1}, config) == {"ok": True, "y": 1}
    assert transform({"ok": False, "x": 1}, config) is None


def _text(name: str, text: str) -> DocumentText:
    return DocumentText(job_id=f"job-{name}", source_uri=f"/in/{name}.pdf", markdown=f"# {name}\n\n{text}", text=text)


def test_merge_keeps_every_document_in_order():
    merged = merged_markdown([_text("a", "alpha"), _text("b", "beta")])
    assert merged.index("<!-- /in/a.pdf (job job-a) -->") < merged.index("# a") < merged.index("---") \
        < merged.index("# b")


def test_compare_scores_pairs_and_lists_differing_lines():
    a = _text("a", "Invoice DF-1\nTotal: 100 EUR\nThank you")
    b = _text("b", "Invoice DF-1\nTotal: 120 EUR\nThank you")
    c = _text("c", "Thank you\nInvoice DF-1\nTotal: 100 EUR")
    ab, ac, bc = compare_texts([a, b, c], max_diff_lines=10)
    assert (ab.a, ab.b) == ("/in/a.pdf", "/in/b.pdf")
    assert ab.only_in_a == ["Total: 100 EUR"] and ab.only_in_b == ["Total: 120 EUR"]
    assert 0.9 < ab.similarity < 1
    assert ac.token_similarity == 1.0 and ac.similarity < 1, "the same words in another order"
    assert compare_texts([a, a.model_copy(update={"source_uri": "/in/a2.pdf"})], 10)[0].similarity == 1.0
    assert compare_texts([a, b], max_diff_lines=0)[0].only_in_a == []


def test_fields_are_combined_by_name_with_the_agreed_value():
    documents = [JobSummary(job_id=j, document_id=None, source_uri=f"/in/{j}.pdf", operation="extract",
                            status="completed") for j in ("j1", "j2")]
    rows = [{"job_id": "j2", "field_name": "total", "value": "100", "confidence": 0.9, "page_number": 1},
            {"job_id": "j1", "field_name": "total", "value": "100", "confidence": 0.8, "page_number": 2},
            {"job_id": "j1", "field_name": "date", "value": "2026-11-24", "confidence": 1.0, "page_number": 1},
            {"job_id": "j2", "field_name": "date", "value": "2026-11-25", "confidence": 1.0, "page_number": 1}]
    date, total = combine_fields(rows, documents)
    assert total.field_name == "total" and total.agreed == "100"
    assert [v.source_uri for v in total.values] == ["/in/j1.pdf", "/in/j2.pdf"]
    assert date.agreed is None and [v.value for v in date.values] == ["2026-11-24", "2026-11-25"]


def _stored_document(store: ResultsStore, job_id: str, texts: list[str], status: str = "completed") -> JobSummary:
    writer = JobWriter(store, job_id, "parse", "2026-11-24")
    for number, text in enumerate(texts, start=1):
        writer.add_page(_page(number, text))
    now = datetime.now(UTC)
    writer.commit({"source_uri": f"/in/{job_id}.pdf", "status": status, "started_at": now, "finished_at": now})
    return JobSummary(job_id=job_id, document_id=None, source_uri=f"/in/{job_id}.pdf", operation="parse",
                      status=status, num_pages=len(texts))


def test_combine_documents_writes_outputs_and_replaces_them(tmp_path):
    store = ResultsStore(str(tmp_path))
    documents = [_stored_document(store, "j1", ["first page", "second page"]),
                 _stored_document(store, "j2", ["other text"]),
                 JobSummary(job_id="j3", document_id=None, source_uri="/in/bad.pdf", operation="parse",
                            status="failed", error_category="bad_input", error="not a PDF")]
    merged = combine_documents(str(tmp_path), "wf-1", WorkflowConfig(type="merge"), documents)
    assert merged.status == "partial" and merged.outputs == {"merged.md": f"{tmp_path}/workflows/wf-1/merged.md"}
    text = Path(tmp_path, "workflows/wf-1/merged.md").read_text()
    assert text.index("first page") < text.index("second page") < text.index("other text")
    assert "bad.pdf" not in text

    compared = combine_documents(str(tmp_path), "wf-1", WorkflowConfig(type="compare"), documents)
    (pair,) = compared.comparisons
    assert pair.only_in_a == ["first page", "second page"] and pair.only_in_b == ["other text"]
    assert json.loads(Path(tmp_path, "workflows/wf-1/comparison.json").read_text())[0]["b"] == "/in/j2.pdf"
    assert not Path(tmp_path, "workflows/wf-1/merged.md").exists(), "a re-run replaces the workflow's outputs"

    report = workflow_markdown(compared)
    assert "| `/in/j1.pdf` | `/in/j2.pdf` |" in report and "- `+` other text" in report
    assert event_payload(compared)["comparisons"][0]["similarity"] == pair.similarity


def test_extract_and_combine_says_when_there_are_no_fields(tmp_path):
    store = ResultsStore(str(tmp_path))
    documents = [_stored_document(store, "j1", ["text"])]
    result = combine_documents(str(tmp_path), "wf-2", WorkflowConfig(type="extract_and_combine"), documents)
    assert result.fields == [] and result.outputs == {} and "no fields" in result.note
    assert "no fields" in workflow_markdown(result)


def test_compare_of_fewer_than_two_read_documents_says_so(tmp_path):
    store = ResultsStore(str(tmp_path))
    result = combine_documents(str(tmp_path), "wf-3", WorkflowConfig(type="compare"),
                               [_stored_document(store, "j1", ["text"])])
    assert result.comparisons == [] and "two documents" in result.note
