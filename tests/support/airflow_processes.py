"""A real Airflow for tests that need its scheduler: ``airflow scheduler``, ``airflow dag-processor`` and
``airflow api-server`` as child processes on 127.0.0.1, over a copy of the run's migrated SQLite database, with
the shipped DAGs and ``AIRFLOW__CORE__PARALLELISM=4`` (NOTES.md: the default 32 LocalExecutor workers take
5.5 GB). No triggerer: the shipped DAGs' operators wait in their worker unless ``[operators] default_deferrable``
says otherwise. ``airflow(...)`` runs the CLI against the same database (``airflow backfill create ...``),
asking again while SQLite answers "database is locked" (the scheduler holds it for a moment at a time)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sr_airflow.testing.servers import free_port, wait_for_port
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


@contextlib.contextmanager
def running_airflow(base: Path, extra_env: dict[str, str], *, dag_ids: tuple[str, ...] = (),
                    users: dict[str, tuple[str, str]] | None = None):
    """Airflow's scheduler, DAG processor and API server under ``base``; yields a ``RunningAirflow`` once the API
    answers and the DAG processor has listed ``dag_ids``. Every process is stopped (its whole group) at the end.
    With ``users`` (name -> (role, password)) Airflow asks for a login and the client logs in as the first."""
    import httpx

    home = base / "airflow"
    home.mkdir(parents=True)
    migrated_database(home, Path(os.environ["SR_AIRFLOW_TEST_RUN_DIR"]))  # the run's migrated template, copied
    port = free_port()
    env = _env(home, port, {**extra_env, **(_user_logins(home, users) if users else {})})
    processes = []
    logs = []
    try:
        for command in (["api-server", "--port", str(port), "--host", "127.0.0.1", "--workers", "1"],
                        ["scheduler"], ["dag-processor"]):
            log = open(base / f"{command[0]}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            processes.append(subprocess.Popen([AIRFLOW_BIN, *command], env=env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        wait_for_port(port, timeout=300, process=processes[0])
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        if users:
            name, (_, password) = next(iter(users.items()))
            token = wait_until(lambda: _token(client, name, password), 60, f"a token for {name}", interval=1)
            client.headers["Authorization"] = f"Bearer {token}"

        def listed() -> bool:
            response = client.get("/api/v2/dags", params={"limit": 100})
            found = {d["dag_id"] for d in response.json().get("dags", [])} if response.status_code == 200 else set()
            return set(dag_ids) <= found

        wait_until(listed, 240, f"the DAG processor listing {', '.join(dag_ids)}", interval=1)
        yield RunningAirflow(home, env, client, tuple(Path(log.name) for log in logs))
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        for log in logs:
            log.close()
