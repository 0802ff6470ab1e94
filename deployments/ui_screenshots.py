"""Screenshots of the Prefect UI as a user meets it, for checking the front door by eye: a local stack
(deployments/local_stack.py), one sample upload run through the event chain, then headless Chromium on the
process-document run form, that run's page and summary artifact, the blocks (the OCR settings and results storage
ones opened), the automations and the concurrency limits.

    python -m deployments.ui_screenshots OUT_DIR        # needs Debian's chromium (apt-get install chromium)

Prints each PNG it wrote. The stack's server runs on a free port with PREFECT_API_URL set, which is what its UI
pages call (the README's port note).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from prefect.client.orchestration import SyncPrefectClient

from blocks.settings import OCR_BLOCK, RESULTS_BLOCK
from deployments.local_stack import REPO, LocalStack, wait_until

PAGES = {
    "run-form": "deployments/deployment/{deployment}/run",
    "flow-run": "runs/flow-run/{run}",
    "summary-artifact": "artifacts/artifact/{artifact}",
    "blocks": "blocks",
    "ocr-block": "blocks/block/{ocr_block}",
    "results-block": "blocks/block/{results_block}",
    "automations": "automations",
    "concurrency": "concurrency-limits",
}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1400,1800", "--virtual-time-budget=15000"]


def screenshots(out: Path) -> list[Path]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docuforge-ui-") as root, LocalStack(Path(root)) as stack:
        stack.s3().put_object(Bucket=stack.inbox_bucket, Key="sample.pdf",
                              Body=(REPO / "samples" / "sample.pdf").read_bytes())
        with SyncPrefectClient(stack.api_url) as api:
            deployment = api.read_deployment_by_name("process-document/process-document")
            run = wait_until(lambda: _finished_run(api, deployment.id), 600, "the sample's process-document run")
            ids = {"deployment": deployment.id, "run": run.id, "artifact": _summary_artifact(api, run.id),
                   "ocr_block": api.read_block_document_by_name(OCR_BLOCK, "docuforge-ocr-settings").id,
                   "results_block": api.read_block_document_by_name(RESULTS_BLOCK, "docuforge-results-storage").id}
        ui = stack.api_url.removesuffix("/api")
        written = []
        for name, path in PAGES.items():
            target = out / f"{name}.png"
            url = f"{ui}/{path.format(**ids)}"
            subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={root}/chromium",
                            f"--screenshot={target}", url], check=True, timeout=120,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            written.append(target)
        return written


def _summary_artifact(api: SyncPrefectClient, run_id):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType

    found = api.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                                                              type=ArtifactFilterType(any_=["markdown"])))
    return found[0].id


def _finished_run(api: SyncPrefectClient, deployment_id):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId

    runs = api.read_flow_runs(flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id])))
    return next((run for run in runs if run.state is not None and run.state.is_final()), None)


if __name__ == "__main__":
    for png in screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "ui-screenshots")):
        print(png)
