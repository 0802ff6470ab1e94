"""Event chaining (seed §8): workflow-orchestrator (process the documents, then merge / compare / combine them)
and workflow-step (conditional_processing and data_transformation steps that emit the next step's event).

The seed waits for each document's `document.processed` event; here the documents are processed by subflow
calls, which return when the documents are done, so there is nothing to wait for.
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from blocks.loading import default_results_uri
from flows.batch import process_documents
from tasks.batch import check_id, unique_sources
from tasks.events import EventName, emit_about, workflow_step_event
from tasks.report import publish_workflow_report
from tasks.retry import FLOW_TIMEOUT
from tasks.steps import ConditionalStep, evaluate_step_task, parse_step, transform_task
from tasks.workflow import WorkflowConfig, WorkflowResult, combine_documents_task, event_payload


@flow(name="workflow-orchestrator", **FLOW_TIMEOUT)
def workflow_orchestrator(
    workflow_id: str,
    documents: list[str],
    workflow_config: WorkflowConfig = WorkflowConfig(),
    results_uri: str | None = None,
) -> WorkflowResult:
    """Process several documents, then merge, compare or combine them; a report and docuforge.workflow.completed.

    Args:
        workflow_id: Names the workflow: its outputs go to <results>/workflows/<workflow_id>/.
        documents: The documents: paths, file:// or s3://bucket/key URIs.
        workflow_config: What to do once they are processed (type), and how to process them.
        results_uri: Where the Parquet results and the outputs go (default: $DOCUFORGE_RESULTS_URI, else
            the docuforge-results block, else ./docuforge-data/results).
    """
    check_id(workflow_id, "workflow id")
    store_uri = results_uri or default_results_uri()
    summaries = process_documents(unique_sources(documents), workflow_config.operation, workflow_config.options,
                                  store_uri, workflow_config.max_concurrent,
                                  fields_schema=workflow_config.fields_schema)
    result = combine_documents_task(store_uri, workflow_id, workflow_config, summaries)
    publish_workflow_report(result)
    emit_about(EventName.workflow_completed, "workflow", workflow_id, event_payload(result),
               related=[{"prefect.resource.id": f"docuforge.job.{d.job_id}", "prefect.resource.role": "job"}
                        for d in summaries if d.job_id])
    return result


@flow(name="workflow-step", **FLOW_TIMEOUT)
def workflow_step(workflow_id: str, step_type: str, step_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """One workflow step. conditional_processing: evaluate the condition on the context and, when it holds, emit
    docuforge.workflow.<next_step>; data_transformation: transform input_data, emit
    docuforge.workflow.data_transformed. Any other step type fails the run (bad_input).

    Args:
        workflow_id: The workflow the step belongs to (the events' resource: docuforge.workflow.<workflow_id>).
        step_type: conditional_processing or data_transformation.
        step_data: conditional_processing: condition, context, next_step, next_step_data; data_transformation:
            input_data, transformation_config (filter, select, rename), step_id.
    """
    check_id(workflow_id, "workflow id")
    step = parse_step(step_type, step_data or {})
    if isinstance(step, ConditionalStep):
        outcome = evaluate_step_task(step)
        if outcome["proceed"]:
            emit_about(workflow_step_event(step.next_step), "workflow", workflow_id,
                       step.next_step_data | {"workflow_id": workflow_id, "previous_result": outcome})
        return outcome
    transformed = transform_task(step.input_data, step.transformation_config)
    emit_about(EventName.workflow_data_transformed, "workflow", workflow_id,
               {"workflow_id": workflow_id, "step_id": step.step_id, "transformed_data": transformed})
    return {"transformed_data": transformed}
