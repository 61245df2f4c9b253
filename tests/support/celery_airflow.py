"""A distributed Airflow on this machine, as production runs it on several: PostgreSQL as the metadata database,
Redis as the Celery broker, ``CeleryExecutor``, two schedulers, a DAG processor, the API server, two triggerers and
two Celery workers on different queues, every one a process group of its own on 127.0.0.1.

Each worker and triggerer has its own temporary ``AIRFLOW_HOME``, ``HOME`` and working directory, so nothing passes
between tasks through a local file: what a retry on another worker knows comes from the metadata database (through
the API server) or from StarRocks. Each component reports its name as its host name (``[core]
hostname_callable``), so the metadata database tells which worker ran a try and which triggerer holds a trigger.
Tasks are routed by a cluster policy (``airflow_local_settings.py``, the way a deployment routes tasks without
editing DAG files): ``sr_restore``'s tasks to the ``sr_restore`` queue, every other task to ``sr_backup``."""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sr_airflow.testing.servers import free_port, wait_for_port
from tests.support.airflow_processes import AIRFLOW_BIN, AirflowProcesses, _env
from tests.support.services import running_postgres, running_redis
from tests.support.waiting import wait_until

# worker name -> the queues it serves: both serve sr_backup (a killed worker's retry has somewhere to go), only
# worker_b serves sr_restore
WORKER_QUEUES = {"worker_a": ("sr_backup",), "worker_b": ("sr_backup", "sr_restore")}
TRIGGERERS = ("triggerer_a", "triggerer_b")

LOCAL_SETTINGS = '''
"""Cluster policy of the distributed test (tests/support/celery_airflow.py): restores to their own queue."""


def task_policy(task):
    task.queue = "sr_restore" if task.dag_id == "sr_restore" else "sr_backup"
'''

COMPONENT_NAME = '''
"""Each component of the distributed test reports its own name as its host name."""
import os


def hostname():
    return os.environ["SR_COMPONENT"]
'''


@dataclass
class DistributedAirflow:
    env: dict[str, str]
    client: object  # httpx.Client on the API server
    processes: AirflowProcesses
    database_url: str
    homes: dict[str, Path] = field(default_factory=dict)

    def query(self, statement: str, *params: object) -> list[tuple]:
        """Rows of ``statement`` on the metadata database (read from outside Airflow, as an operator would)."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.database_url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.exec_driver_sql(statement, params or ()).fetchall()]
        finally:
            engine.dispose()

    def kill(self, name: str) -> None:
        """SIGKILL component ``name`` and all its children (a host lost at once)."""
        self.processes.kill(name)

    def logs_tail(self, lines: int = 30) -> str:
        parts = []
        for path in self.processes.log_paths():
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"--- {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


def _own_place(base: Path, name: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` for component ``name`` with an AIRFLOW_HOME, HOME and working directory of its own."""
    place = base / name
    for sub in ("airflow", "home", "cwd"):
        (place / sub).mkdir(parents=True, exist_ok=True)
    return {**env, "SR_COMPONENT": name, "AIRFLOW_HOME": str(place / "airflow"), "HOME": str(place / "home"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(place / "airflow" / "logs")}


def _started(airflow: DistributedAirflow, dag_ids: tuple[str, ...]) -> None:
    """Until the API lists ``dag_ids``, both workers are ready and both triggerers heartbeat."""
    client = airflow.client

    def listed() -> bool:
        response = client.get("/api/v2/dags", params={"limit": 100})
        found = {d["dag_id"] for d in response.json().get("dags", [])} if response.status_code == 200 else set()
        return set(dag_ids) <= found

    wait_until(listed, 240, f"the DAG processor listing {', '.join(dag_ids)}", interval=1)
    for name in WORKER_QUEUES:
        log = airflow.processes.base / f"{name}.log"
        wait_until(lambda log=log: b" ready." in log.read_bytes(), 180, f"Celery {name} ready", interval=0.5)
    wait_until(lambda: {h for (h,) in airflow.query(
        "SELECT hostname FROM job WHERE job_type = 'TriggererJob' AND state = 'running'")} >= set(TRIGGERERS),
        180, "both triggerers heartbeating", interval=0.5)


@contextlib.contextmanager
def running_celery_airflow(base: Path, extra_env: dict[str, str], *, dag_ids: tuple[str, ...] = ()):
    """The distributed Airflow described above under ``base``; yields a ``DistributedAirflow`` once the DAGs are
    listed, both workers are ready and both triggerers heartbeat. Every process (group) is stopped at the end."""
    import httpx

    settings = base / "settings"
    settings.mkdir(parents=True)
    (settings / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    (settings / "sr_component.py").write_text(COMPONENT_NAME)
    with running_postgres() as database_url, running_redis() as broker_url:
        port = free_port()
        home = base / "airflow"
        home.mkdir()
        env = _env(home, port, {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database_url,
            # a killed worker's message is not handed out again while the test runs: the scheduler's retry is
            # the only second try
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "sr_component.hostname",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "1",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
            # a lost worker's task is failed (and retried) 20 s after its last heartbeat, not 300 s
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            # a lost triggerer's triggers go to the other one 6 s after its last heartbeat, not 30 s
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
            # the DAG files do not change during a test: parsed once, not every 5 s on a busy machine
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(settings), os.environ.get("PYTHONPATH")])),
            "SR_COMPONENT": "central",
            **extra_env,
        })
        migrated = subprocess.run([AIRFLOW_BIN, "db", "migrate"], env=env, capture_output=True, text=True,
                                  timeout=600)
        assert migrated.returncode == 0, f"airflow db migrate failed: {migrated.stderr[-3000:]}"
        processes = AirflowProcesses(base)
        airflow = DistributedAirflow(env, None, processes, database_url)
        try:
            processes.start("api-server", ["api-server", "--port", str(port), "--host", "127.0.0.1",
                                           "--workers", "1"], {**env, "SR_COMPONENT": "api_server"})
            processes.start("dag-processor", ["dag-processor"], {**env, "SR_COMPONENT": "dag_processor"})
            for name in ("scheduler_a", "scheduler_b"):
                processes.start(name, ["scheduler"], {**env, "SR_COMPONENT": name})
            for name in TRIGGERERS:
                own = _own_place(base, name, env)
                airflow.homes[name] = Path(own["HOME"])
                processes.start(name, ["triggerer", "--skip-serve-logs"], own, cwd=base / name / "cwd")
            for name, queues in WORKER_QUEUES.items():
                own = _own_place(base, name, env)
                airflow.homes[name] = Path(own["HOME"])
                processes.start(name, ["celery", "worker", "--queues", ",".join(queues), "--concurrency", "3",
                                       "--celery-hostname", f"{name}@127.0.0.1", "--skip-serve-logs",
                                       "--without-gossip", "--without-mingle"], own, cwd=base / name / "cwd")
            wait_for_port(port, timeout=300, process=processes.processes["api-server"])
            airflow.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            _started(airflow, dag_ids)
            yield airflow
        finally:
            processes.stop_all(grace=10)  # the API server takes about 12 s to stop on a loaded machine

