"""AWS failures (S3 and SQS through boto3) as Docuforge's typed errors: one mapping for every caller.

Network trouble, throttling and server errors are retryable; a missing bucket, key or queue is not_found; any
other refusal (credentials, permissions, a malformed request) is bad_input.
"""
from __future__ import annotations

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.exceptions import RetriesExceededError

from tasks.errors import BadInput, DocuforgeError, NetworkError, NotFound, RateLimited

NETWORK_ERRORS = (BotoConnectionError, HTTPClientError, RetriesExceededError)
AWS_ERRORS = (ClientError, S3UploadFailedError, *NETWORK_ERRORS)
"""What a boto3 call raises when AWS (or the way to it) fails; `aws_error` types each of them."""
NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NotFound",
                             "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
THROTTLE_CODES = frozenset({"SlowDown", "503", "429", "Throttling", "ThrottlingException", "RequestThrottled",
                            "TooManyRequests", "TooManyRequestsException", "RequestLimitExceeded"})


def aws_error(exc: Exception, what: str, service: str) -> DocuforgeError:
    """The typed form of a failed call to `service` (S3, SQS) about `what` (a URI, a queue)."""
    if isinstance(exc, NETWORK_ERRORS):
        return NetworkError(f"{what}: cannot reach {service} ({' '.join(str(exc).split())})")
    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__  # boto3 raises the upload's ClientError again as this, its code in the message only
    if not isinstance(exc, ClientError):
        raise TypeError(f"not an AWS failure: {type(exc).__name__}")
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in NOT_FOUND_CODES:
        return NotFound(f"{what}: does not exist ({code}); check the name")
    if code in THROTTLE_CODES or status in (429, 503):
        return RateLimited(f"{what}: {service} is throttling requests ({code})")
    if status >= 500:
        return NetworkError(f"{what}: {service} server error ({code})")
    return BadInput(f"{what}: {service} refused the request ({code})")
