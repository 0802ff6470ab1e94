"""The S3 bridge's plain functions: SQS message bodies (real S3 notification shapes) → objects → events."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from deployments.s3_bridge import (
    BridgeOptions,
    ForeignMessage,
    MalformedMessage,
    S3Object,
    event_id,
    objects_to_announce,
    parse_message,
    received_event,
    wanted,
)
from tasks.aws_errors import aws_error
from tasks.errors import NetworkError, NotFound, RateLimited
from tasks.events import EventName


def s3_record(key: str = "inbox/Happy+Face.pdf", event_name: str = "ObjectCreated:Put", bucket: str = "mybucket",
              **object_fields) -> dict:
    """One record as AWS documents it (event message structure, version 2.1)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-west-2",
        "eventTime": "2026-11-03T10:15:02.123Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                             "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "docuforge-inbox",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                       "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                       "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko", "sequencer": "0055AED6DCD90281E5",
                       **object_fields},
        },
    }


def notification(*records: dict) -> str:
    return json.dumps({"Records": list(records)})


def test_object_created_gives_the_decoded_key_and_its_metadata():
    [obj] = parse_message(notification(s3_record("inbox/Q3+report+%28final%29%3D%C3%A9.pdf")))
    assert obj.bucket == "mybucket"
    assert obj.key == "inbox/Q3 report (final)=é.pdf"
    assert obj.uri == "s3://mybucket/inbox/Q3 report (final)=é.pdf"
    assert (obj.size, obj.etag, obj.sequencer) == (1024, "d41d8cd98f00b204e9800998ecf8427e", "0055AED6DCD90281E5")
    assert obj.event_time == "2026-11-03T10:15:02.123Z"
    assert obj.s3_event == "ObjectCreated:Put"


def test_a_plus_in_a_key_arrives_encoded_and_is_kept():
    [obj] = parse_message(notification(s3_record("a%2Bb+c.pdf")))
    assert obj.key == "a+b c.pdf"


def test_every_created_record_counts_and_other_event_types_are_left_out():
    body = notification(s3_record("one.pdf", "ObjectCreated:CompleteMultipartUpload"),
                        s3_record("gone.pdf", "ObjectRemoved:Delete"),
                        s3_record("two.pdf", "ObjectCreated:Copy"))
    assert [obj.key for obj in parse_message(body)] == ["one.pdf", "two.pdf"]


def test_size_and_etag_are_optional():
    record = s3_record("x.pdf")
    record["s3"]["object"] = {"key": "x.pdf"}
    [obj] = parse_message(notification(record))
    assert (obj.size, obj.etag, obj.sequencer) == (None, None, None)


def test_s3_test_event_announces_nothing():
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-03T10:00:00.000Z",
                       "Bucket": "mybucket", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3"})
    assert parse_message(body) == []


def test_notification_delivered_through_sns_is_unwrapped():
    body = json.dumps({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:inbox-events",
        "Subject": "Amazon S3 Notification",
        "Message": notification(s3_record("via+sns.pdf")),
        "Timestamp": "2026-11-03T10:15:02.456Z",
        "SignatureVersion": "1",
    })
    assert [obj.uri for obj in parse_message(body)] == ["s3://mybucket/via sns.pdf"]


@pytest.mark.parametrize("body", ["", "not json", "{\"Records\": [", None])
def test_bodies_that_are_not_json_are_malformed(body):
    with pytest.raises(MalformedMessage):
        parse_message(body)


@pytest.mark.parametrize("record_change", [
    lambda r: r["s3"]["object"].pop("key"),
    lambda r: r["s3"]["bucket"].pop("name"),
    lambda r: r["s3"]["object"].update(key=""),
    lambda r: r["s3"]["object"].update(size="big"),
    lambda r: r.pop("s3"),
])
def test_s3_records_without_usable_bucket_or_key_are_malformed(record_change):
    record = s3_record()
    record_change(record)
    with pytest.raises(MalformedMessage):
        parse_message(notification(record))


@pytest.mark.parametrize("body", [
    json.dumps({"hello": "world"}),
    json.dumps([1, 2, 3]),
    json.dumps("a string"),
    json.dumps({"Records": []}),
    json.dumps({"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {}}]}),
    # S3 events routed through EventBridge have another shape; the bridge reads S3's own notifications only.
    json.dumps({"version": "0", "detail-type": "Object Created", "source": "aws.s3",
                "detail": {"bucket": {"name": "b"}, "object": {"key": "k.pdf"}}}),
    json.dumps({"Type": "Notification", "Message": json.dumps({"alert": "disk full"})}),
])
def test_well_formed_messages_that_are_not_s3_notifications_are_foreign(body):
    with pytest.raises(ForeignMessage):
        parse_message(body)


def obj(key: str) -> S3Object:
    return S3Object(bucket="b", key=key, s3_event="ObjectCreated:Put")


def test_filters_prefix_and_case_insensitive_suffix():
    assert wanted(obj("inbox/a.PDF"), ["inbox/"], [".pdf"])
    assert wanted(obj("scans/a.tif"), ["inbox/", "scans/"], [".pdf", ".tif"])
    assert not wanted(obj("other/a.pdf"), ["inbox/"], [".pdf"])
    assert not wanted(obj("inbox/a.txt"), ["inbox/"], [".pdf"])
    assert wanted(obj("anything.bin"), [], [])
    assert not wanted(obj("inbox/folder/"), [], []), "a folder placeholder is not a document"


def test_event_names_the_object_and_carries_what_a_trigger_needs():
    [created] = parse_message(notification(s3_record("inbox/My+Scan.pdf")))
    event = received_event(created)
    assert event.event == EventName.document_received == "docuforge.document.received"
    assert event.resource.id == "s3://mybucket/inbox/My Scan.pdf"
    assert event.resource["prefect.resource.name"] == "inbox/My Scan.pdf"
    assert event.resource["docuforge.s3.bucket"] == "mybucket"
    assert event.payload == {"uri": "s3://mybucket/inbox/My Scan.pdf", "bucket": "mybucket", "key": "inbox/My Scan.pdf",
                             "size": 1024, "etag": "d41d8cd98f00b204e9800998ecf8427e",
                             "event_time": "2026-11-03T10:15:02.123Z", "s3_event": "ObjectCreated:Put"}


def test_a_redelivered_notification_gets_the_same_event_id_and_a_new_upload_another():
    body = notification(s3_record("inbox/a.pdf"))
    assert event_id(parse_message(body)[0]) == event_id(parse_message(body)[0])
    uploaded_again = notification(s3_record("inbox/a.pdf", sequencer="0055AED6DCD90281F0"))
    assert event_id(parse_message(uploaded_again)[0]) != event_id(parse_message(body)[0])


def test_objects_to_announce_skips_bad_and_filtered_messages_without_raising(caplog):
    options = BridgeOptions(queue_url="q", prefixes=["inbox/"], suffixes=[".pdf"])
    messages = {
        "good": notification(s3_record("inbox/a.pdf")),
        "outside": notification(s3_record("archive/a.pdf")),
        "malformed": "{not json",
        "foreign": json.dumps({"hello": "world"}),
    }
    found = {name: objects_to_announce({"MessageId": name, "Body": body}, options) for name, body in messages.items()}
    assert [o.uri for o in found["good"]] == ["s3://mybucket/inbox/a.pdf"]
    assert found["outside"] == found["malformed"] == found["foreign"] == []
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "s3://mybucket/archive/a.pdf" in warned and "malformed" in warned and "foreign" in warned


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "ReceiveMessage")


def sqs_failure(exc: Exception):
    return aws_error(exc, "http://127.0.0.1:1/123/inbox", "SQS")


def test_sqs_failures_are_typed_so_only_passing_trouble_is_retried():
    assert isinstance(sqs_failure(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")), NetworkError)
    assert isinstance(sqs_failure(client_error("RequestThrottled", 403)), RateLimited)
    assert sqs_failure(client_error("InternalError", 500)).retryable
    missing = sqs_failure(client_error("AWS.SimpleQueueService.NonExistentQueue", 400))
    assert isinstance(missing, NotFound) and not missing.retryable
    assert not sqs_failure(client_error("InvalidClientTokenId", 403)).retryable
