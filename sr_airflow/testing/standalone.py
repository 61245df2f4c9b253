"""``airflow standalone`` — the scheduler, DAG processor, triggerer and API server under one parent process — as a
child on 127.0.0.1, for ``make demo-ui`` (``demo_serve``) and the backups page test: its environment, its start in a
session of its own, the wait until every component is healthy, and the stop of the whole process group.

Standalone always runs the simple auth manager (Airflow 3.3.2 ``StandaloneCommand.calculate_env``). The logins come
from ``[core] simple_auth_manager_users`` and a passwords file written here (mode 600): with users other than
``admin:admin``, or with a passwords file that exists, standalone generates and echoes no password of its own
(``StandaloneCommand.find_user_info``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

AIRFLOW_BIN = str(Path(sys.executable).parent / "airflow")
# what GET /api/v2/monitor/health reports besides the metadata database (airflow/api/common/airflow_health.py);
# standalone itself waits on the same three heartbeats before it prints "Airflow is ready" (is_ready)
COMPONENTS = ("scheduler", "dag_processor", "triggerer")


class StandaloneNotReady(RuntimeError):
    """``airflow standalone`` exited, or a component was not healthy in time."""


def standalone_environment(env: Mapping[str, str], home: Path, port: int,
                           users: Mapping[str, tuple[str, str]] | None) -> dict[str, str]:
    """``env`` plus what standalone needs here: the API server on 127.0.0.1:``port`` (the workers' execution API
    there too), one JWT secret for every component (the scheduler signs the task tokens the API server checks),
    four LocalExecutor workers (the default 32 take GBs of memory) and real logins — ``users`` is name -> (role,
    password), written to ``home``/simple_auth_manager_passwords.json; None: no login, everyone is admin."""
    logins = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
    if users is not None:
        passwords = home / "simple_auth_manager_passwords.json"
        with contextlib.suppress(FileNotFoundError):
            passwords.unlink()
        descriptor = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump({name: password for name, (_, password) in users.items()}, file)
        roles = ",".join(f"{name}:{role}" for name, (role, _) in users.items())
        logins = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                  "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": roles,
                  "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords)}
    return {
        **env,
        # standalone starts its components as `airflow ...` found on PATH (SubCommand.run)
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "4",
        **logins,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "PYTHONUNBUFFERED": "1",  # standalone's lines reach its log as they happen (a failure message points there)
    }


class Standalone:
    """A started ``airflow standalone``: its process (the leader of its own process group), URL and log."""

    def __init__(self, process: subprocess.Popen, base_url: str, log_path: Path):
        self.process = process
        self.base_url = base_url
        self.log_path = log_path

    def health(self) -> dict | None:
        """``GET /api/v2/monitor/health`` (no login needed), or None while the API server does not answer."""
        import httpx

        try:
            response = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def wait_healthy(self, timeout: float = 600) -> None:
        """Until the API server answers and reports the metadata database, the scheduler, the DAG processor and the
        triggerer healthy (each heartbeating)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StandaloneNotReady(f"airflow standalone exited ({self.process.returncode}) before it was "
                                         f"ready; see {self.log_path}.")
            health = self.health()
            if health and all((health.get(part) or {}).get("status") == "healthy"
                              for part in ("metadatabase", *COMPONENTS)):
                return
            time.sleep(0.5)
        raise StandaloneNotReady(f"airflow standalone was not healthy within {timeout:.0f} s; see {self.log_path}.")

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the process group (standalone and every component it started), SIGKILL to whatever is left
        of it after ``grace`` seconds (on a busy 2-core machine the components take 10-17 s to exit)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=60)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:  # the components may outlive the standalone process a moment
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextlib.contextmanager
def running_standalone(env: Mapping[str, str], log_path: Path, *, stop_grace: float = 15) -> Iterator[Standalone]:
    """``airflow standalone`` with ``env`` (from ``standalone_environment``), its output in ``log_path``; yields
    at once (``wait_healthy`` waits for it) and stops its whole process group at the end (``Standalone.stop``)."""
    port = env["AIRFLOW__API__PORT"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen([AIRFLOW_BIN, "standalone"], env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        standalone = Standalone(process, f"http://127.0.0.1:{port}", log_path)
        try:
            yield standalone
        finally:
            standalone.stop(stop_grace)
