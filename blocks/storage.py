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


ENVIRONMENT_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_WEB_IDENTITY_TOKEN_FILE",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
"""Variables by which a process's environment says which credentials or endpoint it means."""


def aws_credentials() -> AwsCredentials:
    """The credentials every S3 and SQS access uses: the environment's where it names any
    (ENVIRONMENT_CREDENTIALS), else the `docuforge-aws` block `docuforge init` saved, else the environment's
    (boto3's default chain: an instance or task role)."""
    if any(os.environ.get(name) for name in ENVIRONMENT_CREDENTIALS):
        return aws_credentials_from_env()
    from blocks.loading import load_block  # blocks.loading needs the models, which need the stores
    from blocks.settings import AWS_CREDENTIALS_BLOCK

    return load_block(AwsCredentials, AWS_CREDENTIALS_BLOCK) or aws_credentials_from_env()


def arrow_s3(credentials: AwsCredentials):
    """A pyarrow S3 filesystem with these credentials, endpoint and region (for reading datasets)."""
    from pyarrow.fs import S3FileSystem

    secret = credentials.aws_secret_access_key
    return S3FileSystem(access_key=credentials.aws_access_key_id,
                        secret_key=secret.get_secret_value() if secret else None,
                        session_token=credentials.aws_session_token.get_secret_value()
                        if credentials.aws_session_token else None,
                        endpoint_override=credentials.aws_client_parameters.endpoint_url or None,
                        region=credentials.region_name or None)


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
        credentials=credentials or aws_credentials(),
    )


def s3_client(credentials: AwsCredentials | None = None):
    """A boto3 S3 client configured like the S3Bucket block (for listing and deleting)."""
    return (credentials or aws_credentials()).get_s3_client()


def sqs_client(credentials: AwsCredentials | None = None):
    """A boto3 SQS client with the same credentials and endpoint as the S3 client."""
    return (credentials or aws_credentials()).get_client("sqs")
