"""The shipped sr_full_backup on a real Airflow (scheduler, DAG processor, API server as processes), with no
deferrable setting anywhere (neither sr_airflow.toml nor Airflow's configuration):

- with no triggerer running, the backup task says so once and waits in its worker (it never defers);
- once ``airflow triggerer`` runs, the backup task enters ``deferred`` while its job runs;
- each mapped backup emits an event of its own database's Asset ``starrocks://<conn>/<database>`` through the
  ``starrocks-backups`` AssetAlias: a DAG scheduled on db1's Asset runs after the backup of db1, and not after
  the backup of db2 alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.airflow_env import SHIPPED_DAGS
from tests.support.airflow_processes import AIRFLOW_BIN, running_airflow
from tests.support.emulators import FAST_PHASE, running_emulator
from tests.support.seeds import defaults_config, seed_sales
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CONN = "sr_assets"
DOWNSTREAM = "after_db1_backup"
DOWNSTREAM_DAG = '''
import pendulum
from airflow.sdk import DAG, Asset, task

with DAG("{dag_id}", schedule=[Asset("{uri}")], start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False):
    @task
    def noted(triggering_asset_events=None):
        return sorted(event.extra["snapshot_label"] for events in triggering_asset_events.values() for event in events)

    noted()
'''
HELD = 8  # seconds a BACKUP stays in UPLOADING while the test looks for the deferred task


def hold_uploading(emu, seconds: float) -> None:
    """Every job entering UPLOADING stays there ``seconds`` more (0: no more holding); docs/emulator.md."""
    emu.sql('ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "UPLOADING")',
            f'ADMIN SET FRONTEND CONFIG ("emulator_slow_seconds" = "{seconds}")')


def trigger(client, databases: list[str]) -> str:
    response = client.post("/api/v2/dags/sr_full_backup/dagRuns",
                           json={"logical_date": None, "conf": {"databases": databases}})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def run_state(client, dag_id: str, run_id: str, timeout: float = 300) -> str:
    def ended() -> str | None:
        state = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json().get("state")
        return state if state in ("success", "failed") else None

    return wait_until(ended, timeout, f"{dag_id} run {run_id} ending", interval=0.5)


def backup_state(client, run_id: str) -> str | None:
    response = client.get(f"/api/v2/dags/sr_full_backup/dagRuns/{run_id}/taskInstances/backup/0")
    return response.json().get("state") if response.status_code == 200 else None


def backup_log(home: Path, run_id: str) -> str:
    logs = sorted((home / "logs" / "dag_id=sr_full_backup" / f"run_id={run_id}").glob("task_id=backup/**/*.log"))
    assert logs, f"no log of the backup task of {run_id}"
    return "\n".join(path.read_text(errors="replace") for path in logs)


def asset_event_uris(client, source_run_id: str) -> list[str]:
    response = client.get("/api/v2/assets/events", params={"source_dag_id": "sr_full_backup", "limit": 100})
    response.raise_for_status()
    return sorted(e["uri"] for e in response.json()["asset_events"] if e["source_run_id"] == source_run_id)


def downstream_runs(client) -> list[dict]:
    response = client.get(f"/api/v2/dags/{DOWNSTREAM}/dagRuns", params={"limit": 100})
    response.raise_for_status()
    return response.json()["dag_runs"]


def triggerer_healthy(client) -> bool:
    triggerer = client.get("/api/v2/monitor/health").json().get("triggerer") or {}
    return triggerer.get("status") == "healthy"


def test_shipped_backup_defers_and_emits_its_database_asset(airflow_db, s3_server, aws_conn):
    base = Path(tempfile.mkdtemp(prefix="sr-e2e-assets-"))  # not pytest's basetemp: others' sessions prune it
    triggerer = None
    try:
        with running_emulator(CONN, s3_server, min_phase_seconds=FAST_PHASE) as emu:
            seed_sales(emu, "db1")
            seed_sales(emu, "db2")
            dags = base / "dags"
            dags.mkdir()
            (dags / "sr_full_backup.py").symlink_to(SHIPPED_DAGS / "sr_full_backup.py")
            (dags / f"{DOWNSTREAM}.py").write_text(DOWNSTREAM_DAG.format(dag_id=DOWNSTREAM,
                                                                         uri=f"starrocks://{CONN}/db1"))
            config = base / "sr_airflow.toml"
            # one retry, as docs/dags.md recommends on Airflow 3.3: the scheduler can fail a resumed deferred task on
            # the stale success of its deferring attempt (apache/airflow#72716); the retry adopts the job
            config.write_text(defaults_config(emu, aws_conn, "assets") + "retries = 1\nretry_delay_s = 1\n")
            assert "deferrable" not in config.read_text()
            extra = {"SR_AIRFLOW_CONFIG": str(config), "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
            with running_airflow(base, extra, dag_ids=("sr_full_backup", DOWNSTREAM)) as airflow:
                client = airflow.client
                assert "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE" not in airflow.env
                for dag_id in ("sr_full_backup", DOWNSTREAM):
                    assert client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).status_code == 200

                assert client.get("/api/v2/dags/sr_full_backup/tasks/backup").json()["retries"] == 1
                # No triggerer: one warning, and the wait polls in the worker.
                only_db2 = trigger(client, ["db2"])
                assert run_state(client, "sr_full_backup", only_db2) == "success", airflow.logs_tail()
                log = backup_log(airflow.home, only_db2)
                assert "No triggerer is running" in log and "Deferring" not in log
                assert asset_event_uris(client, only_db2) == [f"starrocks://{CONN}/db2"]

                # A triggerer: the same task defers while its job runs.
                with open(base / "triggerer.log", "wb") as log_file:  # the child keeps its own descriptor
                    triggerer = subprocess.Popen([AIRFLOW_BIN, "triggerer"], env=airflow.env, stdout=log_file,
                                                 stderr=subprocess.STDOUT, start_new_session=True)
                wait_until(lambda: triggerer_healthy(client), 180, "the triggerer's first heartbeat", interval=1)
                hold_uploading(emu, HELD)
                with_db1 = trigger(client, ["db1"])
                wait_until(lambda: backup_state(client, with_db1) == "deferred", 120,
                           "the backup task of db1 deferring", interval=0.3)
                hold_uploading(emu, 0)
                assert run_state(client, "sr_full_backup", with_db1) == "success", airflow.logs_tail()
                log = backup_log(airflow.home, with_db1)
                assert "Deferring" in log and "No triggerer is running" not in log
                assert asset_event_uris(client, with_db1) == [f"starrocks://{CONN}/db1"]

                # The DAG scheduled on db1's Asset ran once: after db1's backup, not after db2's.
                runs = wait_until(lambda: [r for r in downstream_runs(client) if r["state"] == "success"], 120,
                                  f"{DOWNSTREAM} running after the backup of db1", interval=0.5)
                assert len(downstream_runs(client)) == 1
                events = client.get(f"/api/v2/dags/{DOWNSTREAM}/dagRuns/{runs[0]['dag_run_id']}"
                                    "/upstreamAssetEvents").json()["asset_events"]
                assert [(e["uri"], e["source_run_id"]) for e in events] == [(f"starrocks://{CONN}/db1", with_db1)]
                assert events[0]["extra"]["snapshot_label"].startswith("full_")
    finally:
        if triggerer is not None:
            os.killpg(triggerer.pid, signal.SIGTERM)
            try:
                triggerer.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(triggerer.pid, signal.SIGKILL)
                triggerer.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)
