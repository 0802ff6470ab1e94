"""S3 access through prefect-aws: the same client code for production buckets and the local moto endpoint."""
from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from prefect_aws import AwsCredentials, S3Bucket
from prefect_aws.client_parameters import AwsClientParameters


def aws_credentials_from_env(env: Mapping[str, str] | None = None) -> AwsCredentials:
    """Credentials from the standard AWS variables (of `env`, default this process's environment);
    AWS_ENDPOINT_URL points every client at another endpoint."""
    env = os.environ if env is None else env
    endpoint = env.get("AWS_ENDPOINT_URL") or None
    return AwsCredentials(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        region_name=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION"),
        aws_client_parameters=AwsClientParameters(endpoint_url=endpoint),
    )


def split_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' → ('bucket', 'a/b')."""
    parts = urlsplit(uri, allow_fragments=False)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    key = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.netloc, key.lstrip("/")


def s3_bucket(bucket_name: str, folder: str = "", credentials: AwsCredentials | None = None) -> S3Bucket:
    return S3Bucket(
        bucket_name=bucket_name,
        bucket_folder=folder.strip("/"),
        credentials=credentials or aws_credentials_from_env(),
    )


def s3_client(credentials: AwsCredentials | None = None):
    """A boto3 S3 client configured like the S3Bucket block (for listing and deleting)."""
    return (credentials or aws_credentials_from_env()).get_s3_client()


def sqs_client(credentials: AwsCredentials | None = None):
    """A boto3 SQS client with the same credentials and endpoint as the S3 client."""
    return (credentials or aws_credentials_from_env()).get_client("sqs")
