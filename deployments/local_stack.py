"""A whole Docuforge stack on one machine, for the end-to-end test and the stack benchmarks: moto_server (S3 + SQS),
a Prefect server on SQLite, `docuforge init`, `prefect deploy --all`, a process worker and the S3 bridge.

Every process it starts runs in its own session and is stopped by its PID (its group: a worker's flow-run
children go with it). Logs land in `<root>/logs/<name>.log`.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout_s: float, what: str, every_s: float = 0.25):
    """check() until it returns something truthy; TimeoutError naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


@dataclass
class LocalStack:
    root: Path
    inbox_bucket: str = "inbox"
    results_bucket: str = "results"
    queue_name: str = "docuforge-inbox"
    worker_query_s: float = 0.5
    """How often the worker asks for scheduled runs (Prefect's default, 10 s, dominates event → run latency)."""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    queue_url: str = ""

    @property
    def api_url(self) -> str:
        return self.env["PREFECT_API_URL"]

    @property
    def s3_endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    @property
    def results_uri(self) -> str:
        return self.env["DOCUFORGE_RESULTS_URI"]

    def start(self) -> LocalStack:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        s3_port, api_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(self.root / "prefect-home"),
            "PREFECT_API_URL": f"http://127.0.0.1:{api_port}/api",
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.root / 'prefect.db'}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": str(self.worker_query_s),
            "PREFECT_WORKER_PREFETCH_SECONDS": str(self.worker_query_s),
            "DO_NOT_TRACK": "1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "AWS_ACCESS_KEY_ID": "local-stack",
            "AWS_SECRET_ACCESS_KEY": "local-stack-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "DOCUFORGE_RESULTS_URI": f"s3://{self.results_bucket}/docuforge",
            "PWD": str(REPO),  # prefect.yaml's pull step: the checkout the deployments run from
        }
        self.env.pop("PREFECT_PROFILES_PATH", None)
        try:
            self._spawn("moto", [_tool("moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)])
            self._spawn("prefect-server", [_tool("prefect"), "server", "start", "--host", "127.0.0.1",
                                           "--port", str(api_port)])
            wait_until(self._s3_up, 30, "moto_server")
            self._create_inbox()
            wait_until(self._api_up, 120, "the Prefect server")
            self.run(["docuforge", "init"])
            self.run(["prefect", "--no-prompt", "deploy", "--all"])
            self.run(["docuforge", "init"])  # again: the automations name deployments that exist now
            self._spawn("worker", [_tool("prefect"), "worker", "start", "--pool", "docuforge", "--type", "process"])
            self._spawn("bridge", [_tool("docuforge"), "s3-bridge", "--queue-url", self.queue_url])
        except BaseException:
            self.stop()
            raise
        return self

    def run(self, argv: list[str], timeout_s: float = 300) -> subprocess.CompletedProcess:
        """A command of the stack's environment, in the checkout; its output goes to the logs; raises on failure."""
        log = self.root / "logs" / f"{Path(argv[0]).name}-{argv[1].strip('-')}.log"
        with open(log, "a") as out:
            done = subprocess.run([_tool(argv[0]), *argv[1:]], cwd=REPO, env=self.env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}; see {log}:\n{log.read_text()[-3000:]}")
        return done

    def s3(self):
        return boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
                            aws_access_key_id="local-stack", aws_secret_access_key="local-stack-secret")

    def stop(self) -> None:
        """Every process the stack started, by PID: SIGTERM to its group, SIGKILL after 10 s."""
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait(timeout=10)
        self.processes.clear()

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.root / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        self.processes[name] = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def _s3_up(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", int(self.s3_endpoint.rsplit(":", 1)[1])), timeout=0.5).close()
            return True
        except OSError:
            return False

    def _api_up(self) -> bool:
        if self.processes["prefect-server"].poll() is not None:
            raise RuntimeError(f"the Prefect server exited:\n{self.log('prefect-server')[-3000:]}")
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _create_inbox(self) -> None:
        from deployments.s3_bridge import notify_queue

        s3 = self.s3()
        for bucket in (self.inbox_bucket, self.results_bucket):
            s3.create_bucket(Bucket=bucket)
        sqs = boto3.client("sqs", endpoint_url=self.s3_endpoint, region_name="us-east-1",
                           aws_access_key_id="local-stack", aws_secret_access_key="local-stack-secret")
        self.queue_url = sqs.create_queue(QueueName=self.queue_name)["QueueUrl"]
        notify_queue(self.inbox_bucket, self.queue_url, client_env=self.env)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _tool(name: str) -> str:
    return shutil.which(name, path=str(BIN)) or shutil.which(name) or name


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass
