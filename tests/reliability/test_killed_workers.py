"""Item 1: the task process is SIGKILLed in every BACKUP state and every RESTORE state, then the task runs again
(the retry, same DAG run): exactly one BACKUP / RESTORE per run in the frontend's query log, the retry succeeds,
and the catalog holds one good entry for the snapshot."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.restore import JOB_ID_KEY, SUBMITTED_KEY, StarRocksRestoreOperator
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.s3 import BUCKET
from tests.support.task_context import task_context

ROOT = Path(__file__).resolve().parents[2]
BACKUP_STATES = ["PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO"]
RESTORE_STATES = ["PENDING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING"]


@pytest.fixture(scope="module")
def kill_emu(airflow_db, s3_server):
    with start_emulator("sr_kill", s3_server, min_phase_seconds=0.8) as emu:
        emu.sql("CREATE DATABASE kdb",
                "CREATE TABLE kdb.t1 (id INT, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2",
                "INSERT INTO kdb.t1 VALUES (1, 10), (2, 20), (3, 30)")
        emu.create_repository("krepo", s3_server, "killed-workers")
        yield emu


def _state(emu, kind: str, database: str) -> str | None:
    try:
        rows = emu.sql(f"SHOW {kind} FROM {database}")
    except Exception:  # noqa: BLE001 - the target database does not exist before the RESTORE
        return None
    if not rows:
        return None
    return rows[-1][3] if kind == "BACKUP" else rows[-1][4]


class _Workers:
    """One task process always started ahead (imports done), handed its task when a test needs it."""

    def __init__(self):
        self.next = None

    def _spawn(self):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen([sys.executable, "-m", "tests.reliability.worker"], cwd=ROOT, env=env,
                                start_new_session=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)

    def take(self):
        proc, self.next = self.next or self._spawn(), self._spawn()
        return proc

    def close(self):
        if self.next is not None:
            os.killpg(self.next.pid, signal.SIGKILL)
            self.next.wait(10)
            for stream in (self.next.stdin, self.next.stdout):
                stream.close()


@pytest.fixture(scope="module")
def workers(kill_emu):
    pool = _Workers()
    try:
        yield pool
    finally:
        pool.close()


class _Gate:
    """A TCP proxy in front of the frontend that forwards everything until a client sends a RESTORE statement,
    then holds the frontend's answer to it back: the task process stays blocked between sending RESTORE and
    recording the job id, for as long as the test needs (the window a kill must hit)."""

    MARKER = b"RESTORE SNAPSHOT"

    def __init__(self, target_port: int, conn_id: str):
        self.target_port = target_port
        self.held = threading.Event()
        self.conn_env = f"AIRFLOW_CONN_{conn_id.upper()}"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.conn_uri = f"starrocks://root:@127.0.0.1:{self._listener.getsockname()[1]}/"
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            self._sockets += [client, upstream]
            holding = threading.Event()
            threading.Thread(target=self._pipe, args=(client, upstream, holding, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, holding, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, holding: threading.Event, from_client: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_client and self.MARKER in data:
                    holding.set()  # before the statement reaches the frontend: its answer cannot slip through
                    self.held.set()
                if not from_client and holding.is_set():
                    continue  # the answer to RESTORE is never delivered
                dst.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass


def _kill_in_state(workers, emu, kind: str, database: str, state: str, args: dict, run_id: str,
                   store: str, after_store: bool = False, gate: _Gate | None = None) -> None:
    """Hand a task process its task, SIGKILL it (its whole group) when the job shows ``state`` (with ``gate``:
    when the frontend has taken the RESTORE whose answer the gate holds back)."""
    proc = workers.take()
    try:
        assert proc.stdout.readline().strip() == b"ready"
        order = {"kind": kind.lower(), "run_id": run_id, "args": args, "store": store,
                 "env": {gate.conn_env: gate.conn_uri} if gate else {}}
        proc.stdin.write(json.dumps(order).encode() + b"\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 120
        seen = None
        while time.monotonic() < deadline:
            seen = _state(emu, kind, database)
            if seen == state and (gate.held.is_set() if gate else not after_store or Path(store).exists()):
                break
            assert proc.poll() is None, f"the task ended before {state}: {proc.stdout.read().decode()[-2000:]}"
            time.sleep(0.02)
        assert seen == state, f"{kind} never showed {state} (last {seen})"
        if gate:  # the task process is inside the window: blocked waiting for the answer to its RESTORE
            assert gate.held.is_set() and proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc.stdin.close()
        proc.stdout.close()


def _statements(emu, verb: str, label: str) -> list[str]:
    return [q for q in emu.queries() if q.upper().startswith(verb) and f"`{label}`" in q]


@pytest.mark.slow
@pytest.mark.parametrize("state", BACKUP_STATES)
def test_a_backup_task_killed_in_each_state_is_retried_into_one_job_and_one_good_catalog_entry(
        workers, kill_emu, aws_conn, state, tmp_path):
    run_id = f"kill_backup_{state.lower()}"
    label = f"k_{state.lower()}"
    args = {"starrocks_conn_id": "sr_kill", "repository": "krepo", "database": "kdb", "snapshot_label": label,
            "storage_conn_id": aws_conn}
    store = str(tmp_path / "task_state.json")
    _kill_in_state(workers, kill_emu, "BACKUP", "kdb", state, args, run_id, store)
    count("item1 task processes SIGKILLed")
    assert len(_statements(kill_emu, "BACKUP", label)) == 1
    # the retry: the same task of the same run, in this process
    op = StarRocksBackupOperator(task_id="backup", deferrable=False, cancel_on_kill=False, poll_interval=0.1,
                                 max_poll_interval=0.2, **args)
    result = op.execute(task_context(run_id, store=store))
    assert result["snapshot_label"] == label  # no second generation: the retry found its own job
    assert len(_statements(kill_emu, "BACKUP", label)) == 1
    assert kill_emu.sql(f"SHOW SNAPSHOT ON krepo WHERE SNAPSHOT = '{label}'")[0][2] == "OK"
    storage = get_storage(f"s3://{BUCKET}/killed-workers", conn_id=aws_conn)
    store = CatalogStore(storage, "krepo")
    catalog = store.load()
    assert store.unreadable == []
    entry = catalog.get(label)
    assert entry.is_good and entry.backup_timestamp == result["backup_timestamp"]
    # the partitions, versions and row counts the snapshot holds are the table's (no write happened since)
    live = kill_emu.sql("SELECT TABLE_NAME, PARTITION_NAME, VISIBLE_VERSION, ROW_COUNT FROM "
                        "information_schema.partitions_meta WHERE DB_NAME = 'kdb'")
    assert sorted((p.table, p.partition, p.version, p.row_count) for p in entry.partitions) == sorted(map(tuple, live))
    assert sum(p.row_count for p in entry.partitions) == 3
    count("item1 kills survived (one job, retry succeeded, catalog consistent)")


@pytest.fixture(scope="module")
def snapshot(kill_emu):
    kill_emu.sql("BACKUP DATABASE kdb SNAPSHOT k_source TO krepo")
    kill_emu.wait_state("BACKUP", "kdb", ("FINISHED",), timeout=60)
    return "k_source"


@pytest.mark.slow
@pytest.mark.parametrize("state,window", [(s, False) for s in RESTORE_STATES] + [pytest.param(
    "PENDING", True, id="PENDING-before-job-id-recorded")])
def test_a_restore_task_killed_in_each_state_is_retried_into_one_job(workers, kill_emu, snapshot, state, window,
                                                                     tmp_path):
    run_id = f"kill_restore_{state.lower()}{'_window' if window else ''}"
    target = f"kr_{state.lower()}{'_w' if window else ''}"
    args = {"starrocks_conn_id": "sr_kill", "repository": "krepo", "snapshot_label": snapshot, "database": "kdb",
            "target_database": target}
    before = len(_statements(kill_emu, "RESTORE", snapshot))
    store = str(tmp_path / "task_state.json")
    gate = _Gate(kill_emu.server.port, "sr_kill_gate") if window else None
    try:
        task_args = {**args, "starrocks_conn_id": "sr_kill_gate"} if gate else args
        _kill_in_state(workers, kill_emu, "RESTORE", target, state, task_args, run_id, store,
                       after_store=not window, gate=gate)
    finally:
        if gate:
            gate.close()
    if window:  # killed between the RESTORE and the write of its job id: only the mark written before is kept
        kept = json.loads(Path(store).read_text())
        assert kept.get(SUBMITTED_KEY, "").startswith(f"{snapshot}@") and JOB_ID_KEY not in kept, kept
    count("item1 task processes SIGKILLed")
    assert len(_statements(kill_emu, "RESTORE", snapshot)) == before + 1
    # Airflow's retry comes after retry_delay: by then the job has finished, and only the job id the first
    # attempt kept in task_state_store tells the retry that the restored tables are its own work
    kill_emu.wait_state("RESTORE", target, ("FINISHED",), timeout=60)
    op = StarRocksRestoreOperator(task_id="restore", deferrable=False, cancel_on_kill=False, poll_interval=0.1,
                                  max_poll_interval=0.2, **args)
    op.execute(task_context(run_id, store=store))
    assert len(_statements(kill_emu, "RESTORE", snapshot)) == before + 1  # the retry found its own job
    assert _state(kill_emu, "RESTORE", target) == "FINISHED"
    assert kill_emu.sql(f"SELECT count(*), sum(v) FROM {target}.t1") == ((3, 60),)
    count("item1 kills survived (one job, retry succeeded, data restored)")
