"""Sensors (poke and deferrable), the cancel operator, and cancel-on-kill for running and deferred waits."""

from __future__ import annotations

import asyncio
import threading

import pytest

from sr_airflow.engine.errors import JobFailedError
from sr_airflow.engine.jobwatch import JobWatch
from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.triggers.job import StarRocksJobTrigger
from tests.operators.dags import sr_operator_test_dags as dags
from tests.support.dags import run_dag
from tests.support.emulators import FAST_PHASE
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def sales(sales_db, shared_target_emulator, s3_server):
    emulator = sales_db
    emulator.set_phase(0.3)
    emulator.create_repository("repo_s", s3_server, "sensor-tests")
    shared_target_emulator.create_repository("repo_s", s3_server, "sensor-tests", read_only=True)
    yield emulator
    emulator.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    emulator.set_phase(FAST_PHASE)


def _start_backup(emu, label: str) -> None:
    """BACKUP once the previous test's job has ended: a sensor that saw its snapshot may return while the job is
    still finishing, and a second BACKUP then is refused (5064, one job per database)."""
    if emu.sql("SHOW BACKUP FROM sales"):
        emu.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    emu.sql(f"BACKUP DATABASE sales SNAPSHOT {label} TO repo_s")


def _cancel_when(emu, state: str) -> threading.Thread:
    def cancel():
        emu.wait_state("BACKUP", "sales", (state,))
        emu.sql("CANCEL BACKUP FROM sales")

    thread = threading.Thread(target=cancel, daemon=True)
    thread.start()
    return thread


def test_job_sensor_pokes_until_the_database_is_free(sales):
    _start_backup(sales, "sensed_0")
    states, _ = run_dag(dags.sensor_db_free_poke)
    assert states["wait"] == "success"
    assert sales.sql("SHOW BACKUP FROM sales")[-1][3] == "FINISHED"


def test_job_sensor_defers_until_the_labelled_job_finishes(sales):
    """The backup is submitted only after the sensor's first look found no job 'sensed_1': the sensor cannot have
    succeeded on that look, so its success event comes from the trigger it deferred to."""
    if sales.sql("SHOW BACKUP FROM sales"):
        sales.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    before = len(sales.queries())

    def submit_after_first_look():
        wait_until(lambda: any(q.startswith("SHOW BACKUP") for q in sales.queries()[before:]), 120,
                   "the sensor's first look")
        _start_backup(sales, "sensed_1")

    thread = threading.Thread(target=submit_after_first_look, daemon=True)
    thread.start()
    states, _ = run_dag(dags.sensor_label_deferred)
    thread.join(5)
    assert states["wait"] == "success"
    sent = sales.queries()[before:]
    first_backup = next(i for i, q in enumerate(sent) if q.startswith("BACKUP DATABASE sales SNAPSHOT sensed_1"))
    assert any(q.startswith("SHOW BACKUP") for q in sent[:first_backup])  # the sensor's own look came first
    assert sales.sql("SHOW BACKUP FROM sales")[-1][1:4:2] == ("sensed_1", "FINISHED")
    event = dags.RESULTS["sensor_label_deferred"]
    assert (event["status"], event["label"]) == ("success", "sensed_1"), event


def test_job_sensor_fails_when_the_labelled_job_is_cancelled(sales, capsys):
    _start_backup(sales, "sensed_2")
    thread = _cancel_when(sales, "UPLOADING")
    states, _ = run_dag(dags.sensor_label_cancelled)
    thread.join(5)
    assert states["wait"] == "failed"
    assert "Backup job 'sensed_2' of database 'sales' is CANCELLED" in capsys.readouterr().out


def test_snapshot_sensor_waits_until_the_target_cluster_sees_the_snapshot(sales, shared_target_emulator):
    _start_backup(sales, "sensed_3")
    states, _ = run_dag(dags.sensor_snapshot_on_target)
    assert states["wait"] == "success"
    rows = shared_target_emulator.sql("SHOW SNAPSHOT ON repo_s WHERE SNAPSHOT = 'sensed_3'")
    assert rows[0][2] == "OK"


def test_cancel_operator_cancels_the_running_backup(sales):
    """The job is held in UPLOADING (the emulator's slow-state fault, which a CANCEL ends) until the cancel task
    runs: however long the DAG run takes to start, there is a running job to cancel."""
    hold = ('ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "UPLOADING")',
            'ADMIN SET FRONTEND CONFIG ("emulator_slow_seconds" = "600")')
    sales.sql(*hold)
    try:
        _start_backup(sales, "to_cancel")
        sales.wait_state("BACKUP", "sales", ("UPLOADING",))
        states, _ = run_dag(dags.cancel_backup)
    finally:
        sales.sql('ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "")',
                  'ADMIN SET FRONTEND CONFIG ("emulator_slow_seconds" = "0")')
    assert states["cancel"] == "success"
    assert sales.wait_state("BACKUP", "sales", ("CANCELLED",)) == "CANCELLED"
    shown = sales.sql("SHOW BACKUP FROM sales")[-1]  # JobId, SnapshotName, ...: the job that was cancelled
    assert shown[1] == "to_cancel"
    assert dags.RESULTS["cancel_backup"] == {"cancelled": True, "label": "to_cancel", "job_id": shown[0]}


def test_cancel_operator_with_nothing_running_is_a_no_op(sales):
    sales.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    before = sales.count("CANCEL")
    states, _ = run_dag(dags.cancel_backup)
    assert states["cancel"] == "success"
    assert dags.RESULTS["cancel_backup"]["cancelled"] is False
    assert sales.count("CANCEL") == before


def test_killing_a_task_that_waits_in_the_worker_cancels_its_job(sales):
    sales.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    with sales.slow_jobs(2.0):
        _kill_while_waiting(sales)


def _kill_while_waiting(sales):
    _start_backup(sales, "killed_running")
    op = StarRocksBackupOperator(task_id="b", starrocks_conn_id="sr_main", repository="repo_s", database="sales",
                                 deferrable=False, poll_interval=0.1, max_poll_interval=0.2)
    errors: list[BaseException] = []

    def wait():
        try:
            op.wait_for({}, JobWatch(job_type="backup", database="sales", label="killed_running"), "execute_complete",
                        cancel_on_kill=True)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    sales.wait_state("BACKUP", "sales", ("SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING"))
    op.on_kill()
    thread.join(10)
    assert sales.sql("SHOW BACKUP FROM sales")[-1][1:4:2] == ("killed_running", "CANCELLED")
    assert len(errors) == 1 and isinstance(errors[0], JobFailedError)
    assert "is CANCELLED with status [COMMON_ERROR, msg: user cancelled]" in str(errors[0])


def test_killing_a_deferred_task_cancels_its_job_through_the_trigger(sales):
    sales.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    trigger = StarRocksJobTrigger(starrocks_conn_id="sr_main", job_type="backup", database="sales",
                                  label="killed_deferred", cancel_on_kill=True)
    with sales.slow_jobs(2.0):
        _start_backup(sales, "killed_deferred")
        asyncio.run(trigger.on_kill())
    assert sales.wait_state("BACKUP", "sales", ("CANCELLED",)) == "CANCELLED"
    # the trigger then reports the cancellation as its one event
    events = asyncio.run(_events(trigger))
    assert [e.payload["status"] for e in events] == ["cancelled"]
    assert "killed_deferred" in events[0].payload["message"]


def test_on_kill_leaves_another_label_running(sales):
    sales.wait_state("BACKUP", "sales", ("FINISHED", "CANCELLED"))
    trigger = StarRocksJobTrigger(starrocks_conn_id="sr_main", job_type="backup", database="sales",
                                  label="mine", cancel_on_kill=True)
    with sales.slow_jobs(1.0):
        _start_backup(sales, "not_mine")
        asyncio.run(trigger.on_kill())
    assert sales.wait_state("BACKUP", "sales", ("FINISHED",)) == "FINISHED"


async def _events(trigger):
    return [event async for event in trigger.run()]


def test_trigger_serializes_every_argument():
    trigger = StarRocksJobTrigger(starrocks_conn_id="c", job_type="restore", database="d", label="l", job_id="7",
                                  repository="r", absent="wait", poll_interval=1.0, max_poll_interval=9.0,
                                  backoff_factor=3.0, max_connection_errors=2, cancel_on_kill=True)
    path, kwargs = trigger.serialize()
    assert path == "sr_airflow.triggers.job.StarRocksJobTrigger"
    assert StarRocksJobTrigger(**kwargs).serialize() == (path, kwargs)
    assert kwargs["cancel_on_kill"] is True and kwargs["backoff_factor"] == 3.0


def test_a_trigger_serialized_before_job_type_keeps_its_job_type():
    """A restore deferred by the previous release is stored with ``kind``; the new triggerer must still watch a
    restore (the default would silently watch backups)."""
    path, kwargs = StarRocksJobTrigger(starrocks_conn_id="c", job_type="restore", database="d", label="l").serialize()
    stored = {("kind" if key == "job_type" else key): value for key, value in kwargs.items()}
    assert StarRocksJobTrigger(**stored).serialize() == (path, kwargs)


def test_trigger_reports_an_unreachable_server_as_one_error_event(monkeypatch):
    from sr_airflow.testing.servers import free_port

    monkeypatch.setenv("AIRFLOW_CONN_SR_NOWHERE", f"starrocks://root:@127.0.0.1:{free_port()}/")
    trigger = StarRocksJobTrigger(starrocks_conn_id="sr_nowhere", database="sales", label="x", poll_interval=0.01,
                                  max_poll_interval=0.02, max_connection_errors=2)
    events = asyncio.run(_events(trigger))
    assert len(events) == 1
    assert events[0].payload["status"] == "error"
    assert events[0].payload["message"].startswith("Could not watch backup job x of database 'sales'")
