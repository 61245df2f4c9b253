"""The shipped DAGs on a distributed Airflow (issue 20, parts 1 and 2): PostgreSQL, Redis, CeleryExecutor, two
schedulers, two Celery workers on different queues, two triggerers, the API server and a DAG processor
(tests/support/celery_airflow.py), against the emulator and the S3 API server. Everything is checked from outside:
the emulator's query log (one BACKUP / RESTORE per task), the catalog in S3, the restored rows, and the metadata
database (which worker ran a try, which triggerer holds a trigger). ``SR_KEEP_DISTRIBUTED=1`` keeps the
components' logs and homes (under /tmp/sr-distributed-*) for a look after a failure.

The failover cases SIGKILL a whole component while the shipped DAGs' tasks wait on their jobs: the triggerer that
holds deferred backup and restore waits (Airflow gives the triggers to the other triggerer), then a Celery worker
while an incremental backup waits in it (the scheduler fails the silent try, the retry goes to the other worker
and adopts the job that is still running)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.celery_airflow import TRIGGERERS, WORKER_QUEUES, running_celery_airflow
from tests.support.emulators import FAST_PHASE, running_emulator
from tests.support.figures import count
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET, aws_connection_uri
from tests.support.seeds import defaults_config, seed_daily, seed_sales
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(600)]

PREFIX = "distributed"
FULL_DATABASES = ("dist_a", "dist_b", "dist_c")
DAILY = "dist_daily"
DAG_IDS = ("sr_full_backup", "sr_incremental_backup", "sr_restore")
LABEL = re.compile(r"SNAPSHOT\s+`([^`]+)`", re.IGNORECASE)


@pytest.fixture(scope="module")
def emu(s3_server):
    with running_emulator("sr_dist", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        for database in FULL_DATABASES:
            seed_sales(emu, database)
        seed_daily(emu, DAILY)
        yield emu


@pytest.fixture(scope="module")
def airflow(emu, s3_server):
    base = Path(tempfile.mkdtemp(prefix="sr-distributed-"))  # not pytest's basetemp: a concurrent session prunes it
    config = base / "sr_airflow.toml"
    # sr_incremental_backup is scheduled (a backfill needs a schedule) over the daily database only, and waits in
    # its worker (the worker-kill case needs a wait that holds a worker)
    config.write_text(defaults_config(emu, "s3_dist", PREFIX) + f'[sr_incremental_backup]\ndatabases = ["{DAILY}"]\n'
                      'mode = "logical_date"\nschedule = "@daily"\ndeferrable = false\n')
    env = {"SR_AIRFLOW_CONFIG": str(config), "AIRFLOW_CONN_S3_DIST": aws_connection_uri(s3_server.endpoint_url)}
    try:
        with running_celery_airflow(base, env, dag_ids=DAG_IDS) as airflow:
            # Unpausing the @daily DAG makes the scheduler create the latest interval's run at once; it runs beside
            # the first tests and has ended before the backfill is created
            assert airflow.client.patch("/api/v2/dags/sr_incremental_backup", json={"is_paused": False}).is_success
            yield airflow
    finally:
        if not os.environ.get("SR_KEEP_DISTRIBUTED"):
            shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- helpers
def trigger(airflow, dag_id: str, conf: dict) -> str:
    client = airflow.client
    assert client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).is_success
    response = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def run_state(airflow, dag_id: str, run_id: str) -> str:
    return airflow.client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json().get("state")


def wait_run(airflow, dag_id: str, run_id: str, timeout: float = 240) -> str:
    def ended() -> str | None:
        state = run_state(airflow, dag_id, run_id)
        return state if state in ("success", "failed") else None

    try:
        return wait_until(ended, timeout, f"{dag_id} run {run_id} ending", interval=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{airflow.logs_tail()}") from None


def task_instances(airflow, dag_id: str, run_id: str) -> list[dict]:
    response = airflow.client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    return response.json()["task_instances"]


def failed_tasks(airflow, dag_id: str, run_id: str) -> list[str]:
    return [f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in task_instances(airflow, dag_id, run_id)
            if t["state"] != "success"]


def labels(emu, verb: str, since: int, databases) -> list[str]:
    """The snapshot label of each ``verb`` (BACKUP / RESTORE) statement the frontend received after ``since`` on
    one of ``databases``."""
    return [LABEL.search(q).group(1) for q in emu.queries()[since:]
            if q.lstrip().upper().startswith(verb) and LABEL.search(q) and any(f"`{d}`" in q for d in databases)]


def catalog_entries(s3_server, database: str) -> list:
    """The good entries of ``database`` in the catalog the DAGs keep in the repository."""
    from sr_airflow.storage import get_storage
    from sr_airflow.storage.catalog_store import CatalogStore

    storage = get_storage(f"s3://{BUCKET}/{PREFIX}", endpoint=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                          aws_secret_access_key=S3_SECRET)
    return [e for e in CatalogStore(storage, f"{PREFIX}_repo").load().entries(database) if e.is_good]


def catalog_labels(s3_server, database: str) -> set[str]:
    return {e.label for e in catalog_entries(s3_server, database)}


def held_triggers(airflow) -> list[tuple]:
    """(trigger id, holding triggerer's name or None, dag_id, run_id, task_id, map_index) of every trigger."""
    return airflow.query(
        "SELECT t.id, j.hostname, ti.dag_id, ti.run_id, ti.task_id, ti.map_index FROM trigger t "
        "JOIN task_instance ti ON ti.trigger_id = t.id LEFT JOIN job j ON j.id = t.triggerer_id ORDER BY t.id")


def fired_events(airflow, name: str, ti: tuple) -> list[float]:
    """When triggerer ``name`` logged an event fired for task instance ``ti`` (dag, run, task, map), as epoch
    seconds, one per event: each trigger's log is a file under the triggerer's own AIRFLOW_HOME."""
    dag_id, run_id, task_id, map_index = ti
    marker = f'"name":"{dag_id}/{run_id}/{task_id}/{map_index}/'
    logs = (airflow.processes.base / name / "airflow" / "logs").rglob("*.log.trigger.*")
    return [datetime.fromisoformat(json.loads(line)["timestamp"]).timestamp()
            for path in logs for line in path.read_text(errors="replace").splitlines()
            if '"event":"Trigger fired event"' in line and marker in line]


def job_state(emu, kind: str, database: str) -> str:
    """The state of ``database``'s latest ``kind`` (BACKUP / RESTORE) job."""
    return emu.sql(f"SHOW {kind} FROM {database}")[-1][3 if kind == "BACKUP" else 4]


def polls(emu, kind: str, database: str, start: float, end: float) -> int:
    """The SHOW ``kind`` statements on ``database`` the frontend received between ``start`` and ``end``."""
    entries = [json.loads(line) for line in Path(emu.server.query_log).read_text().splitlines() if line.strip()]
    return sum(1 for e in entries if start < e["time"] < end and e.get("statement", "").upper().startswith(
        f"SHOW {kind}") and f"`{database}`" in e["statement"])


# ---------------------------------------------------------------------------------------------------- the tests
def test_full_backup_of_several_databases_runs_on_the_celery_workers(airflow, emu, s3_server):
    before = len(emu.queries())
    run_id = trigger(airflow, "sr_full_backup", {"databases": list(FULL_DATABASES)})
    assert wait_run(airflow, "sr_full_backup", run_id) == "success", failed_tasks(airflow, "sr_full_backup", run_id)
    backups = labels(emu, "BACKUP", before, FULL_DATABASES)
    assert len(backups) == len(set(backups)) == len(FULL_DATABASES), backups  # one job per mapped task
    for database in FULL_DATABASES:
        assert len(catalog_labels(s3_server, database) & set(backups)) == 1, database
    tis = task_instances(airflow, "sr_full_backup", run_id)
    assert sorted(t["map_index"] for t in tis if t["task_id"] == "backup") == [0, 1, 2]
    assert {t["hostname"] for t in tis} <= set(WORKER_QUEUES), tis  # every try ran on a Celery worker
    assert {t["queue"] for t in tis} == {"sr_backup"}


@pytest.mark.timeout(480)
def test_a_killed_triggerer_hands_its_backup_and_restore_waits_to_the_other(airflow, emu, s3_server):
    before = len(emu.queries())
    # slow phases until the waits are handed over (a loaded machine starts the tasks late), fast again after
    with emu.slow_jobs(5.0):
        backup_run = trigger(airflow, "sr_full_backup", {"databases": ["dist_b", "dist_c"]})
        restore_run = trigger(airflow, "sr_restore", {"database": "dist_a", "target_database": "dist_a_restored"})
        # each wait and the job it watches (the DAG's map index follows the databases' order)
        waits = {("sr_full_backup", backup_run, "backup", 0): ("BACKUP", "dist_b"),
                 ("sr_full_backup", backup_run, "backup", 1): ("BACKUP", "dist_c"),
                 ("sr_restore", restore_run, "restore", -1): ("RESTORE", "dist_a_restored")}

        def all_deferred_and_held() -> list[tuple] | None:
            rows = [r for r in held_triggers(airflow) if tuple(r[2:]) in waits]
            return rows if len(rows) == len(waits) and all(r[1] in TRIGGERERS for r in rows) else None

        rows = wait_until(all_deferred_and_held, 180, "the two backups and the restore deferred and held",
                          interval=0.5)
        holders = [r[1] for r in rows]
        victim = max(TRIGGERERS, key=holders.count)  # the triggerer holding most of the waits
        survivor = next(name for name in TRIGGERERS if name != victim)
        moved = {tuple(r[2:]) for r in rows if r[1] == victim}
        states = {ti: job_state(emu, *waits[ti]) for ti in moved}
        airflow.kill(victim)
        killed_at = time.time()
        count("item20 triggerers SIGKILLed while holding deferred waits")
        assert not set(states.values()) & {"FINISHED", "CANCELLED"}, f"a job ended before the kill: {states}"

        def handed_over() -> bool:  # each moved wait is held by the survivor, or has already fired there
            now = {tuple(r[2:]): r[1] for r in held_triggers(airflow)}
            return all(now.get(ti, survivor) == survivor for ti in moved)

        wait_until(handed_over, 60, f"{victim}'s triggers held by {survivor}", interval=0.5)
    for dag_id, run_id in (("sr_full_backup", backup_run), ("sr_restore", restore_run)):
        assert wait_run(airflow, dag_id, run_id) == "success", failed_tasks(airflow, dag_id, run_id)
    # one job per task: the resumed waits did not submit again
    backups = labels(emu, "BACKUP", before, ("dist_b", "dist_c"))
    restores = labels(emu, "RESTORE", before, ("dist_a_restored",))
    assert len(backups) == len(set(backups)) == 2 and len(restores) == 1, (backups, restores)
    for ti in moved:
        fired = fired_events(airflow, survivor, ti)
        assert len(fired) == 1, (ti, survivor, fired)  # one event, fired by the survivor
        assert fired_events(airflow, victim, ti) == [], (ti, victim)
        # the waits were deferred from the kill to the event: the polls in between were the survivor's, rebuilt
        assert polls(emu, *waits[ti], killed_at, fired[0]) >= 1, ti
        tries = [t["try_number"] for t in task_instances(airflow, ti[0], ti[1])
                 if t["task_id"] == ti[2] and t["map_index"] == ti[3]]
        assert tries == [1], (ti, tries)  # resumed, not retried
        count("item20 deferred waits moved to the other triggerer (one job, one event)")
    restore_tis = task_instances(airflow, "sr_restore", restore_run)
    assert {t["queue"] for t in restore_tis} == {"sr_restore"}
    assert {t["hostname"] for t in restore_tis} == {"worker_b"}  # the only worker serving sr_restore
    assert emu.sql("SELECT id, amount, day FROM dist_a_restored.orders ORDER BY id") == \
        emu.sql("SELECT id, amount, day FROM dist_a.orders ORDER BY id")
    for database in ("dist_b", "dist_c"):
        assert len(catalog_labels(s3_server, database) & set(backups)) == 1, database


@pytest.mark.timeout(480)
def test_a_killed_worker_s_incremental_backup_is_retried_on_the_other_worker(airflow, emu, s3_server):
    client = airflow.client

    def scheduled_run_ended() -> bool:
        runs = client.get("/api/v2/dags/sr_incremental_backup/dagRuns").json()["dag_runs"]
        return bool(runs) and all(r["state"] in ("success", "failed") for r in runs if r["run_type"] == "scheduled")

    wait_until(scheduled_run_ended, 180, "the run made by unpausing sr_incremental_backup ending", interval=1)
    emu.sql(f"INSERT INTO {DAILY}.events VALUES (11, '2024-01-01'), (12, '2024-01-02')")
    before = len(emu.queries())
    # the first date's job outlasts the kill, the heartbeat timeout and the retry's start; fast again after
    with emu.slow_jobs(10.0):
        response = client.post("/api/v2/backfills", json={
            "dag_id": "sr_incremental_backup", "from_date": "2024-01-01T00:00:00Z",
            "to_date": "2024-01-02T00:00:00Z", "max_active_runs": 1, "run_backwards": False, "dag_run_conf": {},
            "reprocess_behavior": "none"})
        assert response.status_code == 200, response.text

        def first_backup_waiting() -> tuple | None:
            rows = airflow.query(
                "SELECT ti.run_id, ti.map_index, ti.hostname FROM task_instance ti JOIN dag_run r ON "
                "r.dag_id = ti.dag_id AND r.run_id = ti.run_id WHERE ti.dag_id = 'sr_incremental_backup' AND "
                "ti.task_id = 'backup' AND ti.state = 'running' AND r.run_type = 'backfill'")
            waiting = labels(emu, "BACKUP", before, (DAILY,)) and job_state(emu, "BACKUP", DAILY) not in (
                "FINISHED", "CANCELLED")
            return rows[0] if rows and waiting else None

        run_id, map_index, victim = wait_until(first_backup_waiting, 180, "a backfill backup waiting in its worker",
                                               interval=0.3)
        assert victim in WORKER_QUEUES, victim
        airflow.kill(victim)
        count("item20 Celery workers SIGKILLed during a non-deferred wait")
        survivor = next(name for name in WORKER_QUEUES if name != victim)

        def retry_running() -> tuple | None:
            rows = airflow.query(
                "SELECT try_number, hostname FROM task_instance WHERE dag_id = 'sr_incremental_backup' AND "
                "run_id = %s AND task_id = 'backup' AND map_index = %s AND state = 'running'", run_id, map_index)
            return rows[0] if rows and rows[0][0] == 2 else None

        started = time.monotonic()
        try_number, host = wait_until(retry_running, 120, "the retry of the killed worker's backup running",
                                      interval=0.3)
        assert host == survivor, (host, survivor)
        state = job_state(emu, "BACKUP", DAILY)
        assert state not in ("FINISHED", "CANCELLED"), f"the job ended before the retry adopted it ({state})"
        print(f"the retry ran {time.monotonic() - started:.1f} s after the kill; the job was {state}")
    runs = wait_until(lambda: (r := [x for x in client.get("/api/v2/dags/sr_incremental_backup/dagRuns").json()[
        "dag_runs"] if x["run_type"] == "backfill"]) and len(r) == 2 and all(
        x["state"] in ("success", "failed") for x in r) and r, 240, "the two backfill runs ending", interval=1)
    assert sorted(r["state"] for r in runs) == ["success", "success"], [
        failed_tasks(airflow, "sr_incremental_backup", r["dag_run_id"]) for r in runs]
    backups = labels(emu, "BACKUP", before, (DAILY,))
    assert len(backups) == len(set(backups)) == 2, backups  # one job per date: the retry adopted its job
    history = airflow.query(
        "SELECT try_number, hostname FROM task_instance_history WHERE dag_id = 'sr_incremental_backup' AND "
        "run_id = %s AND task_id = 'backup' AND map_index = %s", run_id, map_index)
    assert history == [(1, victim)], history
    count("item20 worker-kill retries on the other worker, adopting the running job (one job)")
    # each date's snapshot is in the catalog and holds that date's partition (changed by the insert above)
    held = {e.run_id: {p.partition for p in e.partitions if p.table == "events"}
            for e in catalog_entries(s3_server, DAILY) if e.label in backups}
    assert sorted(held) == sorted(r["dag_run_id"] for r in runs), held
    assert sorted(held.values(), key=sorted) == [{"p20240101"}, {"p20240102"}], held
