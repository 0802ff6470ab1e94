"""The S3 bridge against real parts: moto_server's S3 and SQS, bucket notifications, and a Prefect test server that
stores the events. Events are stored asynchronously, so reading them back waits with a deadline."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.settings import PREFECT_API_URL, temporary_settings

from blocks.storage import s3_client, sqs_client
from deployments.s3_bridge import BridgeOptions, notify_queue, parse_message, run_bridge
from tasks.events import EventName
from tests.conftest import free_port

pytestmark = pytest.mark.usefixtures("prefect_harness")


def received_events(bucket: str, expected: int, timeout_s: float = 30.0) -> list:
    """The bucket's docuforge.document.received events, once at least `expected` are stored (or the deadline passed)."""
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            query = EventFilter(event=EventNameFilter(name=[str(EventName.document_received)]),
                                resource=EventResourceFilter(id_prefix=[f"s3://{bucket}/"]))
            events = client.read_events(filter=query, limit=50).events
            if len(events) >= expected or time.monotonic() > deadline:
                return events
            time.sleep(0.25)


def messages_left(queue_url: str) -> int:
    attributes = sqs_client().get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


@pytest.fixture
def inbox(moto_endpoint) -> tuple[str, str]:
    """A bucket whose ObjectCreated notifications go to a fresh queue (1 s visibility timeout): (bucket, queue URL)."""
    name = f"inbox-{time.monotonic_ns()}"
    s3_client().create_bucket(Bucket=name)
    queue_url = sqs_client().create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    notify_queue(name, queue_url)
    return name, queue_url


def test_matching_uploads_become_events_and_everything_leaves_the_queue(inbox):
    bucket, queue_url = inbox
    s3, sqs = s3_client(), sqs_client()
    matching = {"inbox/Scan 1.pdf": b"%PDF-1.4 one", "inbox/receipt.PDF": b"%PDF-1.4 two, longer"}
    for key, data in {**matching, "archive/old.pdf": b"%PDF-1.4", "inbox/notes.txt": b"notes"}.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    sqs.send_message(QueueUrl=queue_url, MessageBody="{not json")
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"order": 17, "status": "shipped"}))

    report = run_bridge(BridgeOptions(queue_url=queue_url, prefixes=["inbox/"], suffixes=[".pdf"], wait_seconds=1),
                        once=True)

    # S3's test event, four uploads, a malformed and a foreign message.
    assert (report.received, report.sent, report.skipped, report.kept, report.deleted) == (7, 2, 5, 0, 7)
    events = received_events(bucket, expected=len(matching))
    assert sorted(event.resource.id for event in events) == sorted(f"s3://{bucket}/{key}" for key in matching)
    for event in events:
        key = event.payload["key"]
        assert event.payload["uri"] == event.resource.id == f"s3://{bucket}/{key}"
        assert event.payload["bucket"] == bucket
        assert event.payload["size"] == len(matching[key])
        assert event.payload["etag"] and event.payload["event_time"]
        assert event.payload["s3_event"].startswith("ObjectCreated:")
    assert messages_left(queue_url) == 0


def test_a_message_whose_event_cannot_be_sent_stays_on_the_queue(inbox):
    bucket, queue_url = inbox
    s3_client().put_object(Bucket=bucket, Key="inbox/kept.pdf", Body=b"%PDF-1.4")
    options = BridgeOptions(queue_url=queue_url, wait_seconds=1)

    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        failed = run_bridge(options, once=True)
    assert (failed.sent, failed.kept) == (0, 1)
    assert failed.skipped == 1, "S3's test event is deleted even though sending failed"

    # Not deleted: it is delivered again once its visibility timeout is over.
    sqs = sqs_client()
    again = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10, MaxNumberOfMessages=10,
                                AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    assert len(again) == 1
    assert [obj.key for obj in parse_message(again[0]["Body"])] == ["inbox/kept.pdf"]
    assert int(again[0]["Attributes"]["ApproximateReceiveCount"]) == 2
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=again[0]["ReceiptHandle"], VisibilityTimeout=0)

    recovered = run_bridge(options, once=True)
    assert (recovered.sent, recovered.deleted) == (1, 1)
    assert [event.resource.id for event in received_events(bucket, expected=1)] == [f"s3://{bucket}/inbox/kept.pdf"]
    assert messages_left(queue_url) == 0


def test_the_command_bridges_until_sigterm_then_exits_cleanly(inbox, tmp_path: Path):
    bucket, queue_url = inbox
    log = tmp_path / "bridge.log"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    with open(log, "wb") as out:
        bridge = subprocess.Popen([sys.executable, "-m", "flows.cli", "s3-bridge", "--queue-url", queue_url,
                                   "--suffix", ".pdf"], cwd=Path(__file__).resolve().parents[2], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        s3_client().put_object(Bucket=bucket, Key="drop/live.pdf", Body=b"%PDF-1.4")
        events = received_events(bucket, expected=1, timeout_s=60)
        assert [event.resource.id for event in events] == [f"s3://{bucket}/drop/live.pdf"], log.read_text()
        bridge.send_signal(signal.SIGTERM)
        assert bridge.wait(timeout=60) == 0, log.read_text()
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait()
    output = log.read_text()
    assert "SIGTERM received" in output and "stopped" in output
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in output
    assert messages_left(queue_url) == 0


def test_notify_keeps_the_buckets_other_notifications_and_replaces_its_own(inbox):
    from typer.testing import CliRunner

    from flows.cli import app

    bucket, queue_url = inbox
    other_url = sqs_client().create_queue(QueueName=f"{bucket}-audit")["QueueUrl"]
    notify_queue(bucket, other_url)
    for _ in range(2):
        result = CliRunner().invoke(app, ["s3-notify", "--bucket", bucket, "--queue-url", queue_url,
                                          "--prefix", "inbox/", "--suffix", ".pdf"])
        assert result.exit_code == 0, result.output

    queues = s3_client().get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert sorted(queue["QueueArn"].rsplit(":", 1)[-1] for queue in queues) == sorted([bucket, f"{bucket}-audit"])
    [ours] = [queue for queue in queues if queue["QueueArn"].endswith(f":{bucket}")]
    rules = {rule["Name"].lower(): rule["Value"] for rule in ours["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "inbox/", "suffix": ".pdf"}
    assert ours["Events"] == ["s3:ObjectCreated:*"]
