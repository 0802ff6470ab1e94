"""The S3 → SQS → Prefect bridge: S3 ObjectCreated notifications read from an SQS queue become
`docuforge.document.received` events (resource `s3://bucket/key`) on the Prefect API.

Delivery is at least once. A message is deleted only after the Prefect API has accepted its events; when sending
fails the message stays, and SQS shows it again after its visibility timeout. Messages that can never become an
event (malformed bodies, foreign messages, S3's test event, keys outside the filters) are logged and deleted, so they
do not come back forever. An event's id is derived from the notification, so the copy a redelivered message sends
carries the same id and the Prefect server drops it (it stores an event id once and evaluates triggers for it once
within 30 minutes); processing a document twice is harmless anyway (idempotent jobs).
"""
from __future__ import annotations

import json
import logging
import signal
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote_plus

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.events import Event
from prefect.settings import PREFECT_API_URL
from pydantic import BaseModel, Field, ValidationError

from blocks.storage import aws_credentials_from_env, sqs_client
from tasks.aws_errors import AWS_ERRORS, aws_error
from tasks.errors import BadInput, Category
from tasks.events import EventName
from tasks.retry import delay_s, jittered, retry_for

log = logging.getLogger(__name__)

EVENT_ID_NAMESPACE = uuid.UUID("2a83b75c-6b13-4421-acba-87add9bcb279")


class MalformedMessage(BadInput):
    """A body that is not JSON, or an S3 record without a usable bucket name or object key."""


class ForeignMessage(BadInput):
    """Well-formed JSON that is not an S3 event notification."""


class S3Object(BaseModel, frozen=True):
    """An object that an S3 ObjectCreated notification announces."""

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)
    size: int | None = None
    etag: str | None = None
    event_time: str | None = None
    s3_event: str = Field(description="S3's event name, e.g. ObjectCreated:Put")
    sequencer: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class BridgeOptions(BaseModel):
    queue_url: str = Field(min_length=1)
    prefixes: list[str] = Field(default_factory=list, description="Keys must start with one of these (none: any)")
    suffixes: list[str] = Field(default_factory=list,
                                description="Keys must end with one of these, case-insensitive (none: any)")
    wait_seconds: int = Field(20, ge=0, le=20, description="SQS long poll: how long one receive waits for messages")
    max_messages: int = Field(10, ge=1, le=10, description="Messages per receive")


class PassReport(BaseModel):
    received: int = 0
    sent: int = 0
    """Events the Prefect API accepted."""
    deleted: int = 0
    skipped: int = 0
    """Messages deleted without an event: malformed, foreign, S3 test events, keys outside the filters."""
    kept: int = 0
    """Messages left on the queue because their events could not be sent."""

    def add(self, other: PassReport) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# --- messages → objects → events (plain functions) ---------------------------------------------------------------

def parse_message(body: str) -> list[S3Object]:
    """The created objects an SQS message body announces: [] for S3's test event and for other S3 event types.

    Takes S3's own notification and the same wrapped by SNS. Raises MalformedMessage or ForeignMessage.
    """
    document = _json(body)
    wrapped_by_sns = isinstance(document, dict) and document.get("Type") == "Notification"
    if wrapped_by_sns and isinstance(document.get("Message"), str):
        document = _json(document["Message"])
    if not isinstance(document, dict):
        raise ForeignMessage("not a JSON object")
    if document.get("Event") == "s3:TestEvent":
        return []
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        raise ForeignMessage("no event records")
    if not all(isinstance(record, dict) and record.get("eventSource") == "aws:s3" for record in records):
        raise ForeignMessage("records that are not S3 events")
    return [_created_object(record) for record in records
            if str(record.get("eventName", "")).startswith("ObjectCreated:")]


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise MalformedMessage("body is not JSON") from exc


def _created_object(record: dict[str, Any]) -> S3Object:
    s3 = record.get("s3")
    try:
        bucket, obj = s3["bucket"], s3["object"]
        return S3Object(bucket=bucket["name"], key=unquote_key(obj["key"]), size=obj.get("size"),
                        etag=obj.get("eTag"), event_time=record.get("eventTime"), s3_event=record["eventName"],
                        sequencer=obj.get("sequencer"))
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise MalformedMessage("S3 record without a usable bucket name or object key") from exc


def unquote_key(key: str) -> str:
    """S3 notifications URL-encode keys with '+' for spaces."""
    return unquote_plus(key)


def wanted(obj: S3Object, prefixes: Sequence[str], suffixes: Sequence[str]) -> bool:
    """Inside the filters, and not a folder placeholder ('a/b/')."""
    key = obj.key
    return (not key.endswith("/")
            and (not prefixes or key.startswith(tuple(prefixes)))
            and (not suffixes or key.lower().endswith(tuple(suffix.lower() for suffix in suffixes))))


def event_id(obj: S3Object) -> uuid.UUID:
    """The same notification always gets the same id (the Prefect server drops repeats); a new upload a new one."""
    marks = (obj.sequencer, obj.etag, obj.event_time)
    if not any(marks):
        return uuid.uuid4()
    return uuid.uuid5(EVENT_ID_NAMESPACE, "\n".join([obj.uri, *(mark or "" for mark in marks)]))


def received_event(obj: S3Object) -> Event:
    return Event(
        id=event_id(obj),
        event=str(EventName.document_received),
        resource={"prefect.resource.id": obj.uri, "prefect.resource.name": obj.key,
                  "docuforge.s3.bucket": obj.bucket},
        payload={"uri": obj.uri, "bucket": obj.bucket, "key": obj.key, "size": obj.size, "etag": obj.etag,
                 "event_time": obj.event_time, "s3_event": obj.s3_event},
    )


def objects_to_announce(message: Mapping[str, Any], options: BridgeOptions) -> list[S3Object]:
    """The objects of one SQS message that become events; everything left out is logged."""
    message_id = message.get("MessageId", "?")
    try:
        objects = parse_message(message.get("Body"))
    except BadInput as exc:
        log.warning("message %s skipped: %s", message_id, exc)
        return []
    if not objects:
        log.info("message %s announces no created object (S3 test event or another event type)", message_id)
    chosen = [obj for obj in objects if wanted(obj, options.prefixes, options.suffixes)]
    for obj in objects:
        if obj not in chosen:
            log.warning("%s is outside the prefix/suffix filters; skipped", obj.uri)
    return chosen


# --- Prefect and SQS ---------------------------------------------------------------------------------------------

def send_events(prefect: SyncPrefectClient, events: Sequence[Event]) -> None:
    """Return only once the Prefect API has accepted the events; raise otherwise.

    `emit_event` hands events to a background worker and never says whether they arrived. `POST /events` answers
    204 after the server has taken them into its event pipeline (where triggers and automations see them).
    """
    prefect.request("POST", "/events", json=[event.model_dump(mode="json") for event in events])


def delete_messages(sqs, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> int:
    """Delete what was handled; returns how many went. A failed delete only means the message comes back."""
    if not messages:
        return 0
    entries = [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]} for i, message in enumerate(messages)]
    failed = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
    for failure in failed:
        log.warning("message %s not deleted (%s); it will be delivered again",
                    messages[int(failure["Id"])].get("MessageId"), failure.get("Code"))
    return len(messages) - len(failed)


def handle_messages(sqs, prefect: SyncPrefectClient, options: BridgeOptions,
                    messages: Sequence[Mapping[str, Any]]) -> PassReport:
    """One batch: events for the wanted objects, then delete every message that is done with."""
    report = PassReport(received=len(messages))
    done, pending, events = [], [], []
    for message in messages:
        objects = objects_to_announce(message, options)
        if objects:
            pending.append(message)
            events.extend(received_event(obj) for obj in objects)
        else:
            done.append(message)
    report.skipped = len(done)
    if events:
        try:
            send_events(prefect, events)
        except (httpx.HTTPError, OSError) as exc:
            log.warning("%d event(s) not accepted by the Prefect API (%s: %s); their %d message(s) stay on the "
                        "queue and come back after the visibility timeout", len(events), type(exc).__name__, exc,
                        len(pending))
            report.kept = len(pending)
        else:
            for event in events:
                log.info("%s %s", event.event, event.resource.id)
            report.sent = len(events)
            done.extend(pending)
    report.deleted = delete_messages(sqs, options.queue_url, done)
    return report


def receive(sqs, options: BridgeOptions) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=options.queue_url, MaxNumberOfMessages=options.max_messages,
                               WaitTimeSeconds=options.wait_seconds).get("Messages", [])


# --- the loop ----------------------------------------------------------------------------------------------------

class _Interrupted(BaseException):
    """A stop signal arrived during a long poll."""


class _Shutdown:
    """SIGTERM/SIGINT ask the loop to stop after the batch in hand. During a long poll nothing is in hand yet, so they
    interrupt it: a message SQS was handing over just becomes visible again after its visibility timeout."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.polling = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Shutdown:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: object) -> None:
        log.info("%s received: stopping after the current batch", signal.Signals(signum).name)
        self.requested.set()
        if self.polling:
            self.polling = False
            raise _Interrupted


def backoff_s(failures: int, category: Category = Category.network) -> float:
    """The retry policy's wait after consecutive failures of this category (the bridge never gives up: it is a
    service, and SQS keeps the messages)."""
    return jittered(delay_s(retry_for(category, True), failures))


def run_bridge(options: BridgeOptions, *, once: bool = False) -> PassReport:
    """Receive → send → delete until SIGTERM/SIGINT; with `once`, until a receive comes back empty or a send fails.

    SQS trouble that can pass (network, throttling, server errors) is retried with backoff; a missing queue or
    refused credentials raise. Events go to PREFECT_API_URL.
    """
    if not PREFECT_API_URL.value():
        log.warning("PREFECT_API_URL is not set: events go to a temporary local Prefect API that no deployment "
                    "trigger listens to")
    sqs = sqs_client()
    total = PassReport()
    failures = 0
    log.info("bridging %s (prefixes: %s, suffixes: %s)", options.queue_url, options.prefixes or "any",
             options.suffixes or "any")
    with get_client(sync_client=True) as prefect, _Shutdown() as shutdown:
        while not shutdown.requested.is_set():
            try:
                shutdown.polling = True
                try:
                    messages = receive(sqs, options)
                finally:
                    shutdown.polling = False
                report = handle_messages(sqs, prefect, options, messages)
            except _Interrupted:
                break
            except AWS_ERRORS as exc:
                error = aws_error(exc, options.queue_url, "SQS")
                if not error.retryable:
                    raise error from exc
                failures += 1
                wait_s = backoff_s(failures, error.category)
                log.warning("%s; retrying in %.0f s", error, wait_s)
                shutdown.requested.wait(wait_s)
                continue
            total.add(report)
            if once and (not messages or report.kept):
                break
            if report.kept:
                failures += 1
                shutdown.requested.wait(backoff_s(failures))
            else:
                failures = 0
    log.info("stopped: %s", total)
    return total


# --- wiring a bucket to a queue ----------------------------------------------------------------------------------

def notify_queue(bucket: str, queue_url: str, *, prefix: str = "", suffix: str = "",
                 client_env: Mapping[str, str] | None = None) -> str:
    """Point the bucket's ObjectCreated notifications at the queue; returns the queue's ARN.

    The bucket's other notification settings are kept, and running it again replaces its own entry (named
    `docuforge-<queue name>`). On AWS the queue's access policy must allow s3.amazonaws.com to SendMessage.
    `client_env` holds the AWS_* variables to use instead of this process's.
    """
    credentials = aws_credentials_from_env(client_env)
    queue_arn = sqs_client(credentials).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3 = credentials.get_s3_client()
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    config = {name: value for name, value in current.items() if name in {
        "TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations", "EventBridgeConfiguration"}}
    entry_id = f"docuforge-{queue_arn.rsplit(':', 1)[-1]}"
    entry: dict[str, Any] = {"Id": entry_id, "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}
    rules = [{"Name": name, "Value": value} for name, value in (("prefix", prefix), ("suffix", suffix)) if value]
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    others = [queue for queue in config.get("QueueConfigurations", []) if queue.get("Id") != entry_id]
    config["QueueConfigurations"] = [*others, entry]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    log.info("s3://%s ObjectCreated notifications → %s", bucket, queue_arn)
    return queue_arn
