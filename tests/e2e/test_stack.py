"""End to end on a real stack: a Prefect server and process worker, moto's S3 and SQS, the S3 bridge, the
deployments of prefect.yaml and the automations of `docuforge init`. Objects uploaded with boto3 must come out as
rows in the S3 Parquet dataset, started by events alone."""
from __future__ import annotations

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter, FlowRunFilterDeploymentId
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

from deployments.local_stack import LocalStack, wait_until
from deployments.stack_bench import small_pdf
from tasks.events import EventName
from tasks.store import ResultsStore

pytestmark = pytest.mark.timeout(1200)
WAIT_S = 300


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with LocalStack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack):
    with SyncPrefectClient(stack.api_url) as client:
        yield client


@pytest.fixture
def aws_env(stack, monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, stack.env[key])


def _runs(api, deployment: str) -> list:
    found = api.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])))
    if not found:
        return []
    return api.read_flow_runs(flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[found[0].id])))


def _finished(runs: list) -> bool:
    return all(run.state is not None and run.state.is_final() for run in runs)


def test_uploads_become_rows_through_events_alone(stack, api, aws_env):
    s3 = stack.s3()
    uploads = {"invoices/first.pdf": small_pdf("First", 12), "invoices/second.pdf": small_pdf("Second", 30),
               "invoices/broken.pdf": b"%PDF-1.7\n this is not really a PDF \x00\x01\x02"}
    for key, body in uploads.items():
        s3.put_object(Bucket=stack.inbox_bucket, Key=key, Body=body)
    sources = {f"s3://{stack.inbox_bucket}/{key}" for key in uploads}

    def three_final_runs():
        runs = _runs(api, "process-document")
        return runs if len(runs) >= 3 and _finished(runs) else None

    runs = wait_until(three_final_runs, WAIT_S, f"three finished process-document runs; worker log:\n"
                                                f"{stack.log('worker')[-2000:]}", every_s=2)
    assert len(runs) == 3 and {run.parameters["source"] for run in runs} == sources
    assert all(run.created_by is not None and run.created_by.type == "AUTOMATION" for run in runs), \
        "started by the deployment trigger on docuforge.document.received"
    states = {run.parameters["source"]: run.state.type.value for run in runs}
    assert sorted(states.values()) == ["COMPLETED", "COMPLETED", "FAILED"]
    assert states[f"s3://{stack.inbox_bucket}/invoices/broken.pdf"] == "FAILED"

    store = ResultsStore(stack.results_uri)
    documents = {row["source_uri"]: row for row in store.read("documents").to_pylist()}
    assert set(documents) == sources
    assert documents[f"s3://{stack.inbox_bucket}/invoices/first.pdf"]["status"] == "completed"
    assert documents[f"s3://{stack.inbox_bucket}/invoices/second.pdf"]["status"] == "completed"
    broken = documents[f"s3://{stack.inbox_bucket}/invoices/broken.pdf"]
    assert broken["status"] == "failed" and broken["error_category"] == "bad_input"
    assert store.read("pages").num_rows == 2

    failed_event = EventFilter(event=EventNameFilter(name=[str(EventName.document_failed)]),
                               resource=EventResourceFilter(id=[f"docuforge.job.{broken['job_id']}"]))
    # events are stored asynchronously: a bounded wait, not a timing assertion
    wait_until(lambda: api.read_events(filter=failed_event, limit=50).events, WAIT_S,
               "docuforge.document.failed for the broken upload", every_s=1)
    recoveries = wait_until(lambda: [r for r in _runs(api, "error-recovery") if r.state and r.state.is_final()],
                            WAIT_S, "the recovery automation's run", every_s=2)
    assert [run.parameters["request"]["job_id"] for run in recoveries] == [broken["job_id"]]
    request = recoveries[0].parameters["request"]
    assert request["error_category"] == "bad_input" and request["retryable"] is False
    assert recoveries[0].state.is_completed(), "recovery gave up on a corrupt file without failing"
    assert recoveries[0].created_by is not None and recoveries[0].created_by.type == "AUTOMATION"

    # At-least-once delivery: the same object again is a fourth run of the same job, and no new rows.
    s3.put_object(Bucket=stack.inbox_bucket, Key="invoices/first.pdf", Body=uploads["invoices/first.pdf"])
    wait_until(lambda: len(runs := _runs(api, "process-document")) == 4 and _finished(runs), WAIT_S,
               "the fourth process-document run", every_s=2)
    again = {row["source_uri"]: row for row in store.read("documents").to_pylist()}
    assert len(store.read("documents").to_pylist()) == 3 and store.read("pages").num_rows == 2
    assert again[f"s3://{stack.inbox_bucket}/invoices/first.pdf"]["job_id"] == \
        documents[f"s3://{stack.inbox_bucket}/invoices/first.pdf"]["job_id"]
