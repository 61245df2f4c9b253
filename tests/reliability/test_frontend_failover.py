"""Issue 20 part 3: the frontend a watch talks to is SIGKILLed mid-job, and the watch continues on the next one.

Two emulator frontends share one data directory (its catalog journal and DuckDB file): the leader serves, the
standby (``--standby``) waits until the leader's lock on the directory is gone, then resumes the leader's running
jobs from the journal and listens (a follower becoming leader; emulator/standby.py cites StarRocks). The Airflow
connection lists both (its host, then the ``hosts`` extra). A backup and a restore wait on their jobs in the worker
(``deferrable=False``) and deferred through Airflow's TriggerRunner (its shared stream and this provider's kept
poll connections); the leader is SIGKILLed while the job runs. Each wait ends with the job's success, after polls
answered by the new leader; one BACKUP / RESTORE was sent in all; the snapshot is listed OK and recorded in the
catalog; the restored rows equal the source's. After each kill a new standby starts on the dead one's port.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import pytest
from airflow.exceptions import TaskDeferred

from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.restore import StarRocksRestoreOperator
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import free_port
from sr_airflow.testing.triggerer import InProcessTriggerer
from sr_airflow.triggers.poll_connections import PollConnections
from tests.support.figures import count
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.task_context import task_context
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CONN_ID = "sr_failover"
PHASE = 0.5  # each job phase lasts at least this long: the kill lands mid-job
ROWS = 50
WAIT = {"poll_interval": 0.2, "max_poll_interval": 2.0}  # connection retries: 0.4, 0.8, 1.6, 2, 2 s


class FrontendPair:
    """A leader and a standby on one data directory; each process logs its statements to a file of its own."""

    def __init__(self, root: Path, s3_endpoint: str):
        self.root = root
        self.s3_endpoint = s3_endpoint
        self.data_dir = root / "data"
        self.started = 0
        self.leader = self._start(free_port(), standby=False)
        self.standby = self._start(free_port(), standby=True)
        self.ports = (self.leader.port, self.standby.port)

    def _start(self, port: int, *, standby: bool) -> EmulatorServer:
        self.started += 1
        return EmulatorServer(self.data_dir, port=port, s3_endpoint=self.s3_endpoint, min_phase_seconds=PHASE,
                              query_log=self.root / f"query-{self.started}.log",
                              log_path=self.root / f"emulator-{self.started}.log", standby=standby).start()

    def kill_leader(self) -> None:
        """SIGKILL the leader; wait until the standby serves; a new standby takes the dead one's port."""
        dead = self.leader
        os.kill(dead.process.pid, signal.SIGKILL)
        dead.process.wait(10)
        dead.stop()  # closes its log file
        self.standby.wait_serving(30)
        self.leader = self.standby
        # only now: the promoted standby holds the directory, so the new one cannot take it first
        self.standby = self._start(dead.port, standby=True)

    def statements(self, log: Path | None = None) -> list[str]:
        logs = [log] if log else sorted(self.root.glob("query-*.log"))
        return [entry["statement"] for path in logs if path.exists()
                for entry in map(json.loads, path.read_text().splitlines()) if "statement" in entry]

    def state(self, kind: str, database: str) -> str | None:
        rows = self.leader.sql(f"SHOW {kind} FROM {database}")
        return rows[-1][3 if kind == "BACKUP" else 4] if rows else None

    def stop(self) -> None:
        for server in (self.standby, self.leader):
            server.stop()


@pytest.fixture(scope="module")
def pair(airflow_db, s3_server):
    root = Path(tempfile.mkdtemp(prefix="sr-failover-"))
    frontends = FrontendPair(root, s3_server.endpoint_url)
    previous = os.environ.get(f"AIRFLOW_CONN_{CONN_ID.upper()}")
    try:
        first, second = frontends.ports
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps({
            "conn_type": "starrocks", "host": "127.0.0.1", "port": first, "login": "root",
            "extra": {"hosts": [f"127.0.0.1:{second}"], "failover_connect_timeout": 1}})
        values = ", ".join(f"({i}, 'row {i}')" for i in range(ROWS))
        frontends.leader.sql(
            "CREATE DATABASE fdb",
            "CREATE TABLE fdb.t (id INT, name VARCHAR(20)) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2",
            f"INSERT INTO fdb.t VALUES {values}",
            f'CREATE REPOSITORY frepo WITH BROKER ON LOCATION "s3://{BUCKET}/failover" PROPERTIES '
            f'("aws.s3.access_key"="{S3_KEY}","aws.s3.secret_key"="{S3_SECRET}",'
            f'"aws.s3.endpoint"="{s3_server.endpoint_url}")')
        yield frontends
    finally:
        frontends.stop()
        if previous is None:
            os.environ.pop(f"AIRFLOW_CONN_{CONN_ID.upper()}", None)
        else:
            os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = previous
        shutil.rmtree(root, ignore_errors=True)


def _killer(pair: FrontendPair, kind: str, database: str, state: str):
    """A thread that SIGKILLs the leader once the latest ``kind`` job of ``database`` shows ``state``."""
    done: dict[str, object] = {}

    def kill():
        try:
            import pymysql

            # a RESTORE's target database does not exist before the job creates it: "not yet"
            wait_until(lambda: pair.state(kind, database) == state, 60, f"{kind} of {database} in {state}",
                       ignore=(pymysql.err.MySQLError,))
            done["killed_log"] = pair.root / f"query-{pair.started}.log"  # the standby's: read after the kill
            done["promoted"] = pair.standby
            pair.kill_leader()
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
            done["error"] = exc

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread, done


def _run(op, context, deferrable: bool) -> dict:
    """``execute`` as a worker runs it; a deferral goes through Airflow's TriggerRunner, then its method."""
    if not deferrable:
        return op.execute(context)
    try:
        op.execute(context)
    except TaskDeferred as deferred:
        trigger, method_name = deferred.trigger, deferred.method_name
    else:
        raise AssertionError("the operator did not defer although its job was running")

    async def one_event() -> dict:
        return (await InProcessTriggerer().first_events([trigger], timeout=90))[0]

    return getattr(op, method_name)(context, asyncio.run(one_event()))


def _survived(pair: FrontendPair, thread, done: dict, kind: str, label: str) -> None:
    thread.join(120)
    if "error" in done:
        raise done["error"]
    assert "promoted" in done, "the leader was never killed"
    promoted_log = done["killed_log"]
    # the new leader answered the watch: SHOW <kind> polls reached it, and the job was submitted once in all
    assert any(s.startswith(f"SHOW {kind}") for s in pair.statements(promoted_log)), "no poll reached the standby"
    sent = [s for s in pair.statements() if s.startswith(f"{kind} ") and f"`{label}`" in s]
    assert len(sent) == 1, sent
    count("item20 frontends SIGKILLed mid-job")
    count("item20 watches continued on the next frontend (one job, its success)")


def _catalog(aws_conn: str):
    store = CatalogStore(get_storage(f"s3://{BUCKET}/failover", conn_id=aws_conn), "frepo")
    return store.load(), store


def _backup(pair, aws_conn: str, label: str, deferrable: bool) -> dict:
    op = StarRocksBackupOperator(task_id="backup", starrocks_conn_id=CONN_ID, repository="frepo", database="fdb",
                                 snapshot_label=label, deferrable=deferrable, cancel_on_kill=False,
                                 storage_conn_id=aws_conn, **WAIT)
    thread, done = _killer(pair, "BACKUP", "fdb", "UPLOADING")
    result = _run(op, task_context(label), deferrable)
    _survived(pair, thread, done, "BACKUP", label)
    return result


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_a_backup_and_its_restore_ride_out_the_leader_killed_mid_job(pair, aws_conn, deferrable):
    mode = "deferred" if deferrable else "worker"
    label = f"failover_{mode}"
    result = _backup(pair, aws_conn, label, deferrable)
    assert result["snapshot_label"] == label
    listed = pair.leader.sql(f"SHOW SNAPSHOT ON frepo WHERE SNAPSHOT = '{label}'")
    assert listed and listed[0][2] == "OK", listed
    catalog, store = _catalog(aws_conn)
    assert store.unreadable == [] and catalog.get(label).is_good

    target = f"fdb_{mode}"
    op = StarRocksRestoreOperator(task_id="restore", starrocks_conn_id=CONN_ID, repository="frepo",
                                  snapshot_label=label, database="fdb", target_database=target,
                                  deferrable=deferrable, cancel_on_kill=False, storage_conn_id=aws_conn,
                                  reactivate_materialized_views=False, **WAIT)
    thread, done = _killer(pair, "RESTORE", target, "DOWNLOADING")
    _run(op, task_context(f"restore_{mode}"), deferrable)
    _survived(pair, thread, done, "RESTORE", label)
    query = "SELECT id, name FROM {} ORDER BY id"
    assert pair.leader.sql(query.format(f"{target}.t")) == pair.leader.sql(query.format("fdb.t"))
    assert len(pair.leader.sql(query.format(f"{target}.t"))) == ROWS
    count("item20 frontend-kill rounds with the snapshot usable and the restored rows equal")


def test_a_kept_poll_connection_to_a_killed_frontend_is_replaced_on_the_next(pair):
    """The triggerer's kept connection (triggers/poll_connections.py) dies with its frontend; the next poll opens
    its replacement through the hook, which goes on to the frontend that answers: one poll, no error."""
    connections = PollConnections(CONN_ID)
    try:
        connections.fetch_now("SHOW BACKUP FROM `fdb`")
        promoted_log = pair.root / f"query-{pair.started}.log"
        polls_before = pair.statements(promoted_log).count("SHOW BACKUP FROM `fdb`")
        pair.kill_leader()
        columns, _ = connections.fetch_now("SHOW BACKUP FROM `fdb`")
        assert "State" in columns
        assert connections.opened == 2  # the dead kept connection, then its replacement
        assert pair.statements(promoted_log).count("SHOW BACKUP FROM `fdb`") == polls_before + 1
    finally:
        connections.close()
    count("item20 frontends SIGKILLed under a kept poll connection, replaced on the next frontend")
