"""Local test servers started as real processes on 127.0.0.1: an S3 API server (moto; one that checks keys) and a
GCS emulator.

Each is a context manager that picks a free port, starts the process in its own process group, waits until the
port answers, and stops the whole group on exit. Product code never imports this module.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"Server process exited with code {process.returncode} before port {port} opened.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"Nothing answered on 127.0.0.1:{port} within {timeout:.0f} s.")


def _venv_script(name: str) -> str:
    """A console script installed beside the running interpreter (the project's .venv), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed; install sr-airflow[test].")
    return found


class ServerProcess:
    """A child process serving on 127.0.0.1:<port>, stopped with its whole process group."""

    def __init__(self, argv: list[str], port: int, *, env: dict[str, str] | None = None,
                 log_path: str | os.PathLike | None = None, ready_timeout: float = 30.0):
        self.argv = argv
        self.port = port
        self.env = {**os.environ, **(env or {})}
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> ServerProcess:
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.argv, stdout=self._log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        try:
            wait_for_port(self.port, self.ready_timeout, self.process)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class S3Server(ServerProcess):
    """moto's S3 API server as a process. Any access key and secret key are accepted."""

    def __init__(self, port: int | None = None, **kwargs):
        port = port or free_port()
        super().__init__([_venv_script("moto_server"), "-H", "127.0.0.1", "-p", str(port)], port, **kwargs)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class GcsServer(ServerProcess):
    """gcp-storage-emulator (the GCS JSON API) as a process, in memory."""

    def __init__(self, port: int | None = None, **kwargs):
        port = port or free_port()
        argv = [_venv_script("gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port),
                "--in-memory", "--quiet"]
        super().__init__(argv, port, **kwargs)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class KeyCheckingS3Server(S3Server):
    """moto's S3 API server that checks credentials, as MinIO and AWS do: only ``access_key``/``secret_key`` (an IAM
    user it creates at start, allowed everything) sign requests it accepts; any other key is refused with
    ``InvalidAccessKeyId`` and a wrong secret with ``SignatureDoesNotMatch``. moto enforces IAM once
    ``INITIAL_NO_AUTH_ACTION_COUNT`` requests have been served; the first three create the user."""

    def __init__(self, port: int | None = None, **kwargs):
        env = {**kwargs.pop("env", {}), "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
        super().__init__(port, env=env, **kwargs)
        self.access_key = self.secret_key = ""

    def start(self) -> KeyCheckingS3Server:
        import json

        import boto3

        super().start()
        try:
            iam = boto3.client("iam", endpoint_url=self.endpoint_url, region_name="us-east-1",
                               aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
            iam.create_user(UserName="sr-airflow")
            key = iam.create_access_key(UserName="sr-airflow")["AccessKey"]
            iam.put_user_policy(UserName="sr-airflow", PolicyName="everything", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        except BaseException:
            self.stop()
            raise
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def client(self, region: str = "us-east-1"):
        """A boto3 S3 client signing with the server's key."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=region,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)
