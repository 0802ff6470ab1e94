"""`docuforge init` against a real Prefect API (the test harness) and a real S3 endpoint (moto_server): blocks,
work pool, the `ocr` limit and the automations, created once however often init runs; blocks loaded by name with
the embedded defaults when absent; the automations start error-recovery runs from real events."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter, DeploymentFilterName, FlowRunFilter, FlowRunFilterDeploymentId,
)
from prefect.events.schemas.automations import AutomationCore
from prefect.exceptions import ObjectNotFound
from prefect_aws import AwsCredentials
from typer.testing import CliRunner

from blocks.loading import default_results_uri, llm_provider, load_block, ocr_options
from blocks.settings import (
    AWS_CREDENTIALS_BLOCK, LLM_BLOCK, NOTIFY_BLOCK, OCR_BLOCK, RESULTS_BLOCK, RESULTS_BUCKET_BLOCK,
    LlmProviderSettings, OcrSettings, ResultsStorage,
)
from deployments.init import AUTOMATIONS, DEPLOYMENT_TAG, WORK_POOL, init
from flows.batch import batch
from flows.cli import app
from flows.ingestion import scheduled_ingestion
from flows.pipeline import process_document
from flows.recovery import error_recovery
from tasks.limits import DEFAULT_OCR_SLOTS, OCR_LIMIT
from tasks.models import JobSummary, ProcessOptions
from tasks.recovery import RecoveryRequest, emit_processing_error
from tasks.settings import Settings, get_settings
from tasks.store import ResultsStore
from tests.flow.helpers import wait_for_logs

pytestmark = pytest.mark.usefixtures("prefect_harness")
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample.pdf"
AUTOMATION_SPECS = yaml.safe_load(AUTOMATIONS.read_text())["automations"]
AUTOMATION_NAMES = [spec["name"] for spec in AUTOMATION_SPECS]
BLOCKS = {RESULTS_BLOCK: "docuforge-results-storage", RESULTS_BUCKET_BLOCK: "s3-bucket",
          AWS_CREDENTIALS_BLOCK: "aws-credentials", OCR_BLOCK: "docuforge-ocr-settings",
          LLM_BLOCK: "docuforge-llm-provider", NOTIFY_BLOCK: "custom-webhook"}


def remove_what_init_makes() -> None:
    """Other tests share the harness: no automation may fire, no limit throttle and no block redirect their runs."""
    with get_client(sync_client=True) as client:
        for name in AUTOMATION_NAMES:
            for automation in client.read_automations_by_name(name):
                client.delete_automation(automation.id)
        for deployment in client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["error-recovery"]))):
            client.delete_deployment(deployment.id)
        for call in (lambda: client.delete_global_concurrency_limit_by_name(OCR_LIMIT),
                     lambda: client.delete_work_pool(WORK_POOL)):
            try:
                call()
            except ObjectNotFound:
                pass
        for name, slug in BLOCKS.items():
            try:
                client.delete_block_document(client.read_block_document_by_name(name, slug).id)
            except ObjectNotFound:
                pass


@pytest.fixture
def server(monkeypatch):
    """A harness with nothing of init's on it, and no DOCUFORGE_RESULTS_URI."""
    monkeypatch.delenv("DOCUFORGE_RESULTS_URI", raising=False)
    get_settings.cache_clear()
    remove_what_init_makes()
    with get_client(sync_client=True) as client:
        yield client
    remove_what_init_makes()
    get_settings.cache_clear()


def deploy_error_recovery() -> None:
    """What `prefect deploy` registers for error-recovery (without a worker to run it)."""
    error_recovery.to_deployment(name="error-recovery").apply()


def actions(steps) -> dict[str, str]:
    return {step.what.split(" (")[0]: step.action for step in steps}


def test_without_blocks_flows_use_the_embedded_defaults(server):
    assert load_block(ResultsStorage, RESULTS_BLOCK) is None
    assert default_results_uri() == Settings.model_fields["results_uri"].default
    assert ocr_options() == ProcessOptions()
    assert llm_provider() == LlmProviderSettings()


def test_init_twice_creates_each_thing_once_and_the_results_block_is_an_s3_root(
        server, moto_endpoint, s3_bucket_name):
    results_uri = f"s3://{s3_bucket_name}/docuforge"
    first = CliRunner().invoke(app, ["init", "--results-uri", results_uri, "--s3-endpoint", moto_endpoint])
    assert first.exit_code == 0, first.output
    assert "docuforge-results" in first.output and "testing-secret" not in first.output, "no secret is printed"

    deploy_error_recovery()
    second = actions(init(results_uri, ocr_slots=None))
    assert {second[f"automation {name}"] for name in AUTOMATION_NAMES} == {"created"}
    assert second[f"global concurrency limit {OCR_LIMIT}"] == "kept"
    third = actions(init(results_uri, ocr_slots=DEFAULT_OCR_SLOTS + 1))
    assert {third[f"automation {name}"] for name in AUTOMATION_NAMES} == {"kept"}
    assert third[f"block {RESULTS_BLOCK}"] == "updated" and third[f"block {OCR_BLOCK}"] == "kept"

    assert [pool.type for pool in server.read_work_pools() if pool.name == WORK_POOL] == ["process"]
    assert server.read_work_pool(WORK_POOL).base_job_template["job_configuration"], "the process worker's template"
    limits = [limit for limit in server.read_global_concurrency_limits(limit=200) if limit.name == OCR_LIMIT]
    assert [limit.limit for limit in limits] == [DEFAULT_OCR_SLOTS + 1]
    recovery = server.read_deployment_by_name("error-recovery/error-recovery")
    for spec in AUTOMATION_SPECS:
        [automation] = server.read_automations_by_name(spec["name"])
        assert automation.enabled and automation.actions[0].deployment_id == recovery.id
        assert automation.description == spec["description"], "the UI shows what the automation is for"

    storage = ResultsStorage.load(RESULTS_BLOCK)
    assert storage.uri == results_uri == default_results_uri()
    assert storage.bucket.credentials.aws_client_parameters.endpoint_url == moto_endpoint
    assert AwsCredentials.load(AWS_CREDENTIALS_BLOCK).aws_secret_access_key.get_secret_value() == "testing-secret"
    store = ResultsStore(default_results_uri())
    store.write("documents", "parse", "2026-11-24", "job-1", [{"job_id": "job-1", "status": "completed"}])
    assert store.read("documents").to_pylist()[0]["status"] == "completed"


def test_init_repairs_a_recovery_automation_saved_from_the_ui(server, tmp_path):
    """Saving the automation in the UI, changing nothing, replaced its `{{ event.payload }}` request with the
    object the form showed: the same edit through the API, then init."""
    deploy_error_recovery()
    init(str(tmp_path / "results"))
    edited, kept = AUTOMATION_NAMES
    [automation] = server.read_automations_by_name(edited)
    form_value = RecoveryRequest(job_id="", source_uri="").model_dump(mode="json")
    action = automation.actions[0].model_copy(update={"parameters": {"request": form_value}})
    server.update_automation(automation.id, AutomationCore.model_validate(
        automation.model_dump(include=set(AutomationCore.model_fields) - {"owner_resource"})
        | {"actions": [action], "enabled": False}))
    assert server.read_automations_by_name(edited)[0].actions[0].parameters == {"request": form_value}

    steps = actions(init(str(tmp_path / "results")))
    assert steps[f"automation {edited}"] == ("repaired: actions[0].parameters.request differed from "
                                             "automations.yaml")
    assert steps[f"automation {kept}"] == "kept"
    [repaired] = server.read_automations_by_name(edited)
    assert repaired.actions[0].parameters == {"request": "{{ event.payload }}"}
    assert not repaired.enabled, "a pause made in the UI is the user's to undo"


def test_init_names_the_deployments_concurrency_limits(server, tmp_path):
    deployment_id = error_recovery.to_deployment(name="error-recovery", tags=[DEPLOYMENT_TAG],
                                                 concurrency_limit=2).apply()
    assert server.read_deployment(deployment_id).global_concurrency_limit.name == f"deployment:{deployment_id}"
    steps = actions(init(str(tmp_path / "results")))
    assert steps["concurrency limit deployment-error-recovery"] == f"renamed from deployment:{deployment_id}"
    limit = server.read_deployment(deployment_id).global_concurrency_limit
    assert (limit.name, limit.limit) == ("deployment-error-recovery", 2)
    again = actions(init(str(tmp_path / "results")))
    assert again["concurrency limit deployment-error-recovery"] == "kept"


def test_runs_read_the_ocr_settings_block_and_change_only_what_they_give(server, tmp_path):
    OcrSettings(pages="1", ocr_mode="fast", dpi=200).save(OCR_BLOCK)
    results = str(tmp_path / "results")

    def options_of(job_id: str) -> dict:
        [row] = ResultsStore(results).read("documents", job_id).to_pylist()
        return json.loads(row["options"])

    given = process_document(source=str(SAMPLE), options=ProcessOptions(dpi=150), results_uri=results)
    assert given.pages_ok == 1
    assert {"pages": "1", "ocr_mode": "fast", "dpi": 150}.items() <= options_of(given.job_id).items()
    [document] = batch(sources=[str(SAMPLE)], results_uri=results).documents
    assert {"pages": "1", "ocr_mode": "fast", "dpi": 200}.items() <= options_of(document.job_id).items()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "sample.pdf").write_bytes(SAMPLE.read_bytes())
    ingested = scheduled_ingestion(prefix_uri=str(inbox), results_uri=results)
    assert [d.job_id for d in ingested.batch.documents] == [document.job_id], "the block's options, as batch's"


def test_the_environment_beats_the_block_and_a_folder_block_is_a_folder(server, tmp_path, monkeypatch):
    init(str(tmp_path / "results"))
    assert default_results_uri() == str(tmp_path / "results")
    monkeypatch.setenv("DOCUFORGE_RESULTS_URI", str(tmp_path / "from-env"))
    get_settings.cache_clear()
    assert default_results_uri() == str(tmp_path / "from-env")


def test_the_automations_run_error_recovery_with_the_event_payload(server, tmp_path):
    deploy_error_recovery()
    init(str(tmp_path / "results"))
    options = ProcessOptions(ocr_mode="fast", pages="1")
    failures = {}
    for job_id, category in (("job-network", "network"), ("job-corrupt", "bad_input")):
        failures[job_id] = JobSummary(job_id=job_id, document_id=None, source_uri=f"s3://inbox/{job_id}.pdf",
                                      operation="parse", status="failed", error_category=category,
                                      error="it failed", results_uri=str(tmp_path / "results"))

    recovery = server.read_deployment_by_name("error-recovery/error-recovery")
    query = FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[recovery.id]))
    runs = []

    def started() -> set[str]:
        return {run.parameters["request"]["job_id"] for run in runs}

    # On SQLite, Prefect's server loads a new automation into its triggers in a task after the commit: an event
    # that arrives before that task ran is not matched. An event without a run after a while is sent again.
    for _ in range(6):
        for job_id, summary in failures.items():
            if job_id not in started():
                emit_processing_error(summary, options, job_id == "job-network", attempt=1)
        deadline = time.monotonic() + 30
        while started() != set(failures) and time.monotonic() < deadline:
            time.sleep(0.5)
            runs = server.read_flow_runs(flow_run_filter=query)
        if started() == set(failures):
            break
    requests = {run.parameters["request"]["job_id"]: RecoveryRequest.model_validate(run.parameters["request"])
                for run in runs}
    assert set(requests) == {"job-network", "job-corrupt"}, "each automation started one run"
    assert requests["job-network"].retryable and not requests["job-corrupt"].retryable
    assert requests["job-network"].options == options and requests["job-network"].attempt == 1
    assert all(run.created_by is not None and run.created_by.type == "AUTOMATION" for run in runs)


class Receiver(ThreadingHTTPServer):
    """A local webhook endpoint that keeps what is POSTed to it."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_recovery_that_gives_up_notifies_through_the_block_init_saves_and_never_logs_its_url(server, tmp_path):
    receiver = Receiver()
    try:
        gave_up = RecoveryRequest(job_id="job-bad", source_uri="s3://inbox/broken.pdf", error_category="bad_input",
                                  error="the PDF is damaged", retryable=False, results_uri=str(tmp_path))
        state = error_recovery(request=gave_up, return_state=True)
        logs = wait_for_logs(state.state_details.flow_run_id, until="no notification sent")
        assert any(f"no {NOTIFY_BLOCK} block" in line for line in logs) and receiver.posts == []

        url = f"http://127.0.0.1:{receiver.server_port}/hooks/secret-token-123"
        steps = actions(init(str(tmp_path / "results"), notify_url=url))
        assert steps[f"block {NOTIFY_BLOCK}"] == "created"
        assert actions(init(str(tmp_path / "results")))[f"block {NOTIFY_BLOCK}"] == "kept"
        state = error_recovery(request=gave_up, return_state=True)
        [(path, payload)] = receiver.posts
        assert path == "/hooks/secret-token-123" and payload["subject"] == "Docuforge gave up on s3://inbox/broken.pdf"
        assert "job-bad" in payload["text"] and "the PDF is damaged" in payload["text"]
        logs = wait_for_logs(state.state_details.flow_run_id, until="notification sent")
        assert not any("secret-token-123" in line for line in logs), "the webhook's URL is a secret"
    finally:
        receiver.shutdown()
