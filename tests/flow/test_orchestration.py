"""workflow-orchestrator and workflow-step on Prefect (test harness): outputs, reports and the events they emit."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from flows.orchestration import workflow_orchestrator, workflow_step
from tasks.errors import BadInput
from tasks.events import EventName
from tasks.store import ResultsStore
from tasks.workflow import WorkflowConfig
from tests.flow.helpers import wait_for_events
from tests.flow.test_batch import FAST, text_pdf

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_merge_then_compare_two_documents(tmp_path):
    a = text_pdf(tmp_path / "a.pdf", "Contract version one", "Price: 100 EUR per month", "Term: 12 months")
    b = text_pdf(tmp_path / "b.pdf", "Contract version one", "Price: 120 EUR per month", "Term: 12 months")
    results = tmp_path / "results"

    merged = workflow_orchestrator(workflow_id="contracts-1", documents=[str(a), str(b)], results_uri=str(results),
                                   workflow_config=WorkflowConfig(type="merge", options=FAST, max_concurrent=2))
    assert merged.status == "completed" and [d.status for d in merged.documents] == ["completed", "completed"]
    text = Path(results, "workflows/contracts-1/merged.md").read_text()
    assert text.index("Price: 100 EUR") < text.index("Price: 120 EUR")
    assert merged.outputs == {"merged.md": f"{results}/workflows/contracts-1/merged.md"}
    event = wait_for_events(EventName.workflow_completed, "contracts-1", kind="workflow")[0]
    assert event.payload["type"] == "merge" and event.payload["outputs"] == merged.outputs
    assert {r.id for r in event.related if r.role == "job"} == {f"docuforge.job.{d.job_id}" for d in merged.documents}

    compared = workflow_orchestrator(workflow_id="contracts-1", documents=[str(a), str(b)], results_uri=str(results),
                                     workflow_config=WorkflowConfig(type="compare", options=FAST))
    (pair,) = compared.comparisons
    assert pair.only_in_a == ["Price: 100 EUR per month"] and pair.only_in_b == ["Price: 120 EUR per month"]
    assert 0.8 < pair.similarity < 1
    assert json.loads(Path(results, "workflows/contracts-1/comparison.json").read_text())[0]["a"] == str(a)
    assert not Path(results, "workflows/contracts-1/merged.md").exists()
    assert ResultsStore(str(results)).read("documents").num_rows == 2, "the documents were not processed twice"
    report = Artifact.get("workflow-contracts-1")
    assert report.type == "markdown" and "Price: 120 EUR per month" in report.data


def test_a_bad_workflow_id_fails_before_processing(tmp_path):
    state = workflow_orchestrator(workflow_id="../escape", documents=["x.pdf"], results_uri=str(tmp_path),
                                  return_state=True)
    assert state.is_failed() and isinstance(state.result(raise_on_failure=False), BadInput)
    assert not (tmp_path / "documents").exists()


def test_conditional_step_emits_the_next_step_only_when_the_condition_holds():
    context = {"document": {"pages": 4, "status": "completed"}}

    def run(threshold: int, next_step: str) -> dict:
        return workflow_step(workflow_id="wf-cond", step_type="conditional_processing", step_data={
            "condition": {"field": "document.pages", "op": "gt", "value": threshold},
            "context": context, "next_step": next_step, "next_step_data": {"priority": "high"}})

    assert run(10, "never_step") == {"proceed": False, "next_step": "never_step"}
    assert run(3, "review") == {"proceed": True, "next_step": "review"}
    (event,) = wait_for_events("docuforge.workflow.review", "wf-cond", kind="workflow")
    assert event.payload == {"priority": "high", "workflow_id": "wf-cond",
                             "previous_result": {"proceed": True, "next_step": "review"}}
    assert wait_for_events("docuforge.workflow.never_step", "wf-cond", timeout=0, kind="workflow") == []


def test_data_transformation_step_emits_the_transformed_data():
    transformed = workflow_step(workflow_id="wf-data", step_type="data_transformation", step_data={
        "step_id": "pick", "input_data": [{"name": "a.pdf", "pages": 3}, {"name": "b.pdf", "pages": 1}],
        "transformation_config": {"filter": {"field": "pages", "op": "ge", "value": 2}, "rename": {"name": "file"}}})
    assert transformed == {"transformed_data": [{"file": "a.pdf", "pages": 3}]}
    (event,) = wait_for_events(EventName.workflow_data_transformed, "wf-data", kind="workflow")
    assert event.payload["step_id"] == "pick" and event.payload["transformed_data"] == [{"file": "a.pdf", "pages": 3}]


def test_unknown_step_type_fails_the_run_with_bad_input():
    state = workflow_step(workflow_id="wf-x", step_type="send_email", step_data={}, return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, BadInput) and "unknown workflow step type 'send_email'" in str(error)
