"""A real Airflow for tests that need its scheduler: ``airflow scheduler``, ``airflow dag-processor`` and
``airflow api-server`` as child processes on 127.0.0.1, over a copy of the run's migrated SQLite database, with
the shipped DAGs and ``AIRFLOW__CORE__PARALLELISM=4`` (NOTES.md: the default 32 LocalExecutor workers take
5.5 GB). No triggerer: the shipped DAGs' waits find none running (the API server says so) and poll in their worker
after one warning (operators/base.py, ``will_defer``). ``airflow(...)`` runs the CLI against the same database
(``airflow backfill create ...``), asking again while SQLite answers "database is locked" (the scheduler holds it
for a moment at a time).

``starting_standalone`` runs the same Airflow as ``airflow standalone`` does (the four components, the triggerer
too, under one parent; ``sr_airflow.testing.standalone``, which ``make demo-ui`` uses as well)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sr_airflow.testing.servers import free_port, wait_for_port
from sr_airflow.testing.standalone import Standalone, running_standalone, standalone_environment
from tests.support.airflow_env import SHIPPED_DAGS, migrated_database
from tests.support.waiting import wait_until

AIRFLOW_BIN = str(Path(sys.executable).parent / "airflow")


@dataclass
class RunningAirflow:
    home: Path
    env: dict[str, str]
    client: object  # httpx.Client on the API server
    logs: tuple[Path, ...] = ()

    def logs_tail(self, lines: int = 40) -> str:
        """The last lines of each component's log (for a failure message)."""
        parts = []
        for path in self.logs:
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"--- {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def airflow(self, *args: str, happened=None, timeout: float = 120) -> None:
        """``airflow <args>`` against this Airflow's database, asked again while SQLite answers "database is
        locked" — unless ``happened()`` says the locked attempt did its work all the same (a commit can land
        before the error)."""

        def attempt() -> bool:
            done = subprocess.run([AIRFLOW_BIN, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
            if done.returncode == 0:
                return True
            if "database is locked" in done.stderr + done.stdout:
                return bool(happened and happened())
            raise AssertionError(f"airflow {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")

        wait_until(attempt, 180, f"airflow {' '.join(args)} (SQLite locked)", interval=1)

    def backfills(self, dag_id: str) -> list[dict]:
        response = self.client.get("/api/v2/backfills", params={"dag_id": dag_id, "limit": 100})
        response.raise_for_status()
        return response.json()["backfills"]

    def runs(self, dag_id: str) -> list[dict]:
        response = self.client.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100})
        response.raise_for_status()
        return response.json()["dag_runs"]


def _env(home: Path, port: int, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
    env.update({
        # the components start their own children as `airflow ...` found on PATH
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(SHIPPED_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # one secret for every component: the scheduler signs the task tokens the API server checks
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "NO_GCE_CHECK": "True",
    })
    env.update(extra)
    return env


def _user_logins(home: Path, users: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The simple auth manager with real logins instead of "everyone is admin": ``users`` is name -> (role,
    password); the passwords file is written before the API server reads it."""
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({name: password for name, (_, password) in users.items()}))
    return {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{n}:{role}" for n, (role, _) in users.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords)}


def _token(client, name: str, password: str) -> str | None:
    response = client.post("/auth/token", json={"username": name, "password": password})
    return response.json()["access_token"] if response.status_code == 201 else None


class AirflowProcesses:
    """Airflow components as child processes, each in a process group of its own with its own log file under
    ``base``: started by name, killed by name (a failover test's SIGKILL), all stopped together at the end."""

    def __init__(self, base: Path):
        self.base = base
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, object] = {}

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
        """``airflow <args>`` as component ``name`` (its log: ``<base>/<name>.log``)."""
        log = open(self.base / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop_all
        self._logs[name] = log
        self.processes[name] = subprocess.Popen([AIRFLOW_BIN, *args], env=env, cwd=cwd, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        return self.processes[name]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to component ``name``'s whole group (its children too) and wait for it to end."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=60)

    def log_paths(self) -> tuple[Path, ...]:
        return tuple(self.base / f"{name}.log" for name in self._logs)

    def stop_all(self, grace: float = 60) -> None:
        """SIGTERM every group, then SIGKILL what has not ended within ``grace`` seconds; close the logs."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):  # a child left in the group after its leader ended
                os.killpg(process.pid, signal.SIGKILL)
        for log in self._logs.values():
            log.close()


@contextlib.contextmanager
def running_airflow(base: Path, extra_env: dict[str, str], *, dag_ids: tuple[str, ...] = (),
                    users: dict[str, tuple[str, str]] | None = None):
    """Airflow's scheduler, DAG processor and API server under ``base``; yields a ``RunningAirflow`` once the API
    answers and the DAG processor has listed ``dag_ids``. Every process is stopped (its whole group) at the end.
    With ``users`` (name -> (role, password)) Airflow asks for a login and the client logs in as the first."""

    home = base / "airflow"
    home.mkdir(parents=True)
    migrated_database(home, Path(os.environ["SR_AIRFLOW_TEST_RUN_DIR"]))  # the run's migrated template, copied
    port = free_port()
    env = _env(home, port, {**extra_env, **(_user_logins(home, users) if users else {})})
    processes = AirflowProcesses(base)
    try:
        for command in (["api-server", "--port", str(port), "--host", "127.0.0.1", "--workers", "1"],
                        ["scheduler"], ["dag-processor"]):
            processes.start(command[0], command, env)
        wait_for_port(port, timeout=300, process=processes.processes["api-server"])
        login = None
        if users:
            name, (_, password) = next(iter(users.items()))
            login = (name, password)
        client = _client_once_listed(f"http://127.0.0.1:{port}", login, dag_ids, interval=1)
        yield RunningAirflow(home, env, client, processes.log_paths())
    finally:
        processes.stop_all()


@dataclass
class StartingAirflow:
    """An ``airflow standalone`` that may still be starting; ``ready`` waits for it."""

    standalone: Standalone
    home: Path
    env: dict[str, str]
    login: tuple[str, str] | None  # the client's user and password; None: no login (everyone is admin)

    def ready(self, dag_ids: tuple[str, ...] = (), timeout: float = 300) -> RunningAirflow:
        """Once every component is healthy, a token for the login answers and the DAG processor has listed
        ``dag_ids``: the ``RunningAirflow`` (its client logged in)."""
        self.standalone.wait_healthy(timeout)
        client = _client_once_listed(self.standalone.base_url, self.login, dag_ids, interval=0.5)
        return RunningAirflow(self.home, self.env, client, (self.standalone.log_path,))


def _client_once_listed(base_url: str, login: tuple[str, str] | None, dag_ids, *, interval: float):
    """An API client logged in as ``login`` (user, password; None: no login), returned once the DAG processor has
    listed ``dag_ids``."""
    import httpx

    client = httpx.Client(base_url=base_url, timeout=30)
    if login:
        name, password = login
        token = wait_until(lambda: _token(client, name, password), 60, f"a token for {name}", interval=1)
        client.headers["Authorization"] = f"Bearer {token}"

    def listed() -> bool:
        response = client.get("/api/v2/dags", params={"limit": 100})
        found = {d["dag_id"] for d in response.json().get("dags", [])} if response.status_code == 200 else set()
        return set(dag_ids) <= found

    wait_until(listed, 240, f"the DAG processor listing {', '.join(dag_ids)}", interval=interval)
    return client


@contextlib.contextmanager
def starting_standalone(base: Path, extra_env: dict[str, str], *, users: dict[str, tuple[str, str]] | None = None):
    """``airflow standalone`` under ``base`` with the shipped DAGs over a copy of the run's migrated database and
    ``users`` (name -> (role, password); the client logs in as the first; None: no login). Yields a
    ``StartingAirflow`` at once, so the caller can prepare its data while Airflow starts; its whole process group
    is stopped at the end."""
    home = base / "airflow"
    home.mkdir(parents=True)
    migrated_database(home, Path(os.environ["SR_AIRFLOW_TEST_RUN_DIR"]))
    port = free_port()
    quiet = {  # the DAG files are parsed once at the start (not every few seconds: CPU and SQLite writes), and a
             # task waits longer for a busy API server on a loaded machine ([workers] execution_api_timeout, 5 s)
             "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
             "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
             "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30"}
    env = standalone_environment(_env(home, port, {**quiet, **extra_env}), home, port, users)
    # a test's Airflow has nothing to finish at the end: 5 s for its components to exit, then SIGKILL
    with running_standalone(env, base / "standalone.log", stop_grace=5) as standalone:
        login = next(((name, password) for name, (_, password) in users.items()), None) if users else None
        yield StartingAirflow(standalone, home, env, login)
