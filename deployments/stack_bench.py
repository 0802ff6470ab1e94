"""Event → flow-run latency on the local stack: upload one object at a time and time how long until the deployment
trigger has created its process-document run, and until that run is running on the worker."""
from __future__ import annotations

import io
import statistics
import time
from datetime import UTC, datetime

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.sorting import FlowRunSort
from pydantic import BaseModel
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from deployments.local_stack import LocalStack, wait_until


class LatencySample(BaseModel):
    key: str
    created_s: float
    """Upload → the trigger's flow run exists."""
    started_s: float
    """Upload → the flow run is running on the worker."""


class LatencyReport(BaseModel):
    samples: list[LatencySample]

    @property
    def median_created_s(self) -> float:
        return statistics.median(s.created_s for s in self.samples)

    @property
    def median_started_s(self) -> float:
        return statistics.median(s.started_s for s in self.samples)

    @property
    def max_started_s(self) -> float:
        return max(s.started_s for s in self.samples)


def small_pdf(title: str, lines: int = 0) -> bytes:
    """One A4 page: the title, then `lines` numbered lines of text."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.drawString(72, 780, title)
    for i in range(lines):
        page.drawString(72, 750 - 14 * i, f"{title}: line {i + 1} of a document uploaded to the inbox bucket.")
    page.save()
    return out.getvalue()


def measure_event_latency(stack: LocalStack, uploads: int, timeout_s: float = 120) -> LatencyReport:
    s3 = stack.s3()
    samples = []
    with SyncPrefectClient(stack.api_url) as api:
        for i in range(uploads):
            key = f"bench/latency-{i:03d}-{time.time_ns()}.pdf"
            uploaded = datetime.now(UTC)
            s3.put_object(Bucket=stack.inbox_bucket, Key=key, Body=small_pdf(f"Latency probe {i}"))
            source = f"s3://{stack.inbox_bucket}/{key}"

            def started(source=source):
                recent = api.read_flow_runs(sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=20)
                runs = [run for run in recent if run.parameters.get("source") == source and run.start_time]
                return runs[0] if runs else None

            run = wait_until(started, timeout_s, f"the run for {key}", every_s=0.1)
            samples.append(LatencySample(key=key, created_s=(run.created - uploaded).total_seconds(),
                                         started_s=(run.start_time - uploaded).total_seconds()))
            wait_until(lambda run=run: api.read_flow_run(run.id).state.is_final(), timeout_s, f"{key} to finish")
    return LatencyReport(samples=samples)
