"""Shared fixtures: the benchmark documents, a real S3 endpoint (moto_server) and Prefect's test harness."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from deployments.local_stack import free_port

pytest_plugins = ["tests.fakes.llm_server"]

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="docuforge-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

BENCHMARKS = Path(os.environ.get("DOCUFORGE_BENCHMARKS", Path(__file__).resolve().parents[2] / "shared" / "benchmarks"))


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.skip(f"benchmark documents not found at {BENCHMARKS} (set DOCUFORGE_BENCHMARKS)")
    return BENCHMARKS


@pytest.fixture(scope="session")
def moto_endpoint():
    """A real S3/SQS HTTP endpoint on 127.0.0.1, with the standard AWS variables pointing at it."""
    moto = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    if moto is None:
        pytest.fail("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
    patch = pytest.MonkeyPatch()
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        patch.setenv(key, value)
    yield endpoint
    patch.undo()
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_bucket_name(moto_endpoint) -> str:
    import boto3

    name = f"test-{time.monotonic_ns()}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (starting one takes seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
