"""What a RESTORE does to replication_num, and what a restore cancelled late (failing at COMMITTING, or CANCEL RESTORE
while COMMITTING) undoes — as StarRocks' RestoreJob does (3.3 1a2f1f5d75 to 4.0 312b0d9e4616):

- ``OlapTable.resetIdsForRestore(.., restoreReplicationNum, ..)`` gives a table the restore creates the RESTORE's
  ``replication_num`` (default ``RunMode.defaultReplicationNum()``: ``Config.default_replication_num`` = 3), not
  the backed-up one, and ``getCommonProperties`` prints it in SHOW CREATE TABLE and ``tables_config.PROPERTIES``;
  ``genFileMappingWhenBackupReplicasEqual`` refuses to overwrite an existing partition of another replication num.
- ``cancelInternal`` (any state before FINISHED) sets the existing tables back to NORMAL, drops the tables it
  created and the partitions it added; ``cancel`` refuses only a job that is done.
"""

from __future__ import annotations

import re

import pytest

from tests.support.emulator_client import as_dicts, error_of, repo_sql, run, wait_job
from tests.support.waiting import wait_until

COLUMNS = "(d DATE NOT NULL, id INT NOT NULL) DUPLICATE KEY(d, id) PARTITION BY RANGE(d) "
P1, P2 = "PARTITION p1 VALUES LESS THAN ('2024-02-01')", "PARTITION p2 VALUES LESS THAN ('2024-03-01')"
RANGE = f"{COLUMNS}({P1}, {P2}) DISTRIBUTED BY HASH(id) BUCKETS 2"
RANGE_P1 = f"{COLUMNS}({P1}) DISTRIBUTED BY HASH(id) BUCKETS 2"
ROWS = "('2024-01-05', 1), ('2024-02-05', 2)"


def _backup(cur, bucket: str, database: str, label: str, *tables: str) -> str:
    """A snapshot of ``database`` in repository ``<database>_repo`` on ``bucket``; returns its timestamp."""
    run(cur, repo_sql(f"{database}_repo", bucket))
    run(cur, f"BACKUP DATABASE {database} SNAPSHOT {label} TO {database}_repo ON ({', '.join(tables)})")
    assert wait_job(cur, "BACKUP", database)["State"] == "FINISHED"
    return as_dicts(cur, f"SHOW SNAPSHOT ON {database}_repo WHERE SNAPSHOT = '{label}'")[0]["Timestamp"]


def _restore(cur, source: str, label: str, ts: str, target: str, on: str, replicas: str | None = None) -> dict:
    props = f"'backup_timestamp' = '{ts}'" + (f", 'replication_num' = '{replicas}'" if replicas else "")
    run(cur, f"RESTORE SNAPSHOT {label} FROM {source}_repo DATABASE {source} AS {target} ON ({on}) "
             f"PROPERTIES ({props})")
    return wait_job(cur, "RESTORE", target)


def _replicas(cur, database: str, table: str) -> tuple:
    """replication_num as SHOW CREATE TABLE, tables_config.PROPERTIES, SHOW PARTITIONS and partitions_meta show it."""
    ddl = run(cur, f"SHOW CREATE TABLE {database}.{table}")[0][1]
    shown = re.search(r'"replication_num" = "(\d+)"', ddl).group(1)
    props = run(cur, "SELECT PROPERTIES FROM information_schema.tables_config WHERE TABLE_SCHEMA = "
                     f"'{database}' AND TABLE_NAME = '{table}'")[0][0]
    config = re.search(r'"replication_num":"(\d+)"', props).group(1)
    partitions = {r["ReplicationNum"] for r in as_dicts(cur, f"SHOW PARTITIONS FROM {database}.{table}")}
    meta = {r[0] for r in run(cur, "SELECT REPLICATION_NUM FROM information_schema.partitions_meta WHERE DB_NAME = "
                                   f"'{database}' AND TABLE_NAME = '{table}'")}
    return shown, config, partitions, meta


def test_a_restored_table_takes_the_restores_replication_num(cur, bucket):
    run(cur, "CREATE DATABASE rn_src")
    run(cur, f"CREATE TABLE rn_src.t {RANGE} PROPERTIES ('replication_num' = '1')")
    run(cur, f"INSERT INTO rn_src.t VALUES {ROWS}")
    assert _replicas(cur, "rn_src", "t") == ("1", "1", {"1"}, {1})
    ts = _backup(cur, bucket, "rn_src", "rn_snap", "TABLE t")

    # no replication_num in the RESTORE: RunMode.defaultReplicationNum(), 3, not the backed-up 1
    assert _restore(cur, "rn_src", "rn_snap", ts, "rn_default", "TABLE t")["State"] == "FINISHED"
    assert _replicas(cur, "rn_default", "t") == ("3", "3", {"3"}, {3})
    assert _restore(cur, "rn_src", "rn_snap", ts, "rn_two", "TABLE t", replicas="2")["ReplicationNum"] == "2"
    assert _replicas(cur, "rn_two", "t") == ("2", "2", {"2"}, {2})

    # overwriting rn_two.t (2 replicas) at the default 3 is refused in PENDING, and the table is left as it was
    job = _restore(cur, "rn_src", "rn_snap", ts, "rn_two", "TABLE t")
    assert job["State"] == "CANCELLED"
    assert re.fullmatch(r"\[COMMON_ERROR, msg: Partition p[12] in table t has different replication num '2' with "
                        r"partition in repository, which is 3\]", job["Status"]), job["Status"]
    run(cur, "INSERT INTO rn_two.t VALUES ('2024-01-06', 3)")  # state NORMAL again
    assert _restore(cur, "rn_src", "rn_snap", ts, "rn_two", "TABLE t", replicas="2")["State"] == "FINISHED"
    assert run(cur, "SELECT count(*) FROM rn_two.t") == [(2,)]


@pytest.fixture(scope="module")
def snapshot(emulator, s3_client) -> str:
    """A snapshot of table t (p1, p2) and table n of cm_src; returns its timestamp."""
    s3_client.create_bucket(Bucket="cm-bucket")
    cur = emulator.connect().cursor()
    run(cur, "CREATE DATABASE cm_src")
    run(cur, f"CREATE TABLE cm_src.t {RANGE}")
    run(cur, "CREATE TABLE cm_src.n (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    run(cur, f"INSERT INTO cm_src.t VALUES {ROWS}")
    run(cur, "INSERT INTO cm_src.n VALUES (7)")
    return _backup(cur, "cm-bucket", "cm_src", "cm_snap", "TABLE t", "TABLE n")


def _live_target(cur, name: str) -> str:
    """A target database holding t with p1 only, and other rows than the snapshot's."""
    run(cur, f"CREATE DATABASE {name}")
    run(cur, f"CREATE TABLE {name}.t {RANGE_P1}")
    run(cur, f"INSERT INTO {name}.t VALUES ('2024-01-09', 9)")
    return name


def _left_as_before(cur, database: str) -> None:
    """Only the tables and partitions that were there, in state NORMAL (a load is taken)."""
    assert [r[0] for r in run(cur, f"SHOW TABLES FROM {database}")] == ["t"]  # n, created by the restore: dropped
    assert [r["PartitionName"] for r in as_dicts(cur, f"SHOW PARTITIONS FROM {database}.t")] == ["p1"]  # p2: dropped
    run(cur, f"INSERT INTO {database}.t VALUES ('2024-01-10', 10)")
    assert run(cur, f"SELECT count(*) FROM {database}.t") == [(2,)]


def test_a_restore_failing_at_committing_undoes_what_it_made(cur, snapshot):
    ts, database = snapshot, _live_target(cur, "cm_fail")
    run(cur, f'ADMIN SET FRONTEND CONFIG ("emulator_fault_database" = "{database}", '
             '"emulator_fail_next_job_at" = "COMMITTING")')
    job = _restore(cur, "cm_src", "cm_snap", ts, database, "TABLE t, TABLE n")
    assert (job["State"], job["Status"]) == ("CANCELLED", "[COMMON_ERROR, msg: injected fault]")
    _left_as_before(cur, database)


def test_cancel_restore_while_committing_is_taken_and_undoes_what_it_made(cur, snapshot):
    ts, database = snapshot, _live_target(cur, "cm_cancel")
    run(cur, 'ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "COMMITTING", "emulator_slow_seconds" = "30")')
    try:
        run(cur, f"RESTORE SNAPSHOT cm_snap FROM cm_src_repo DATABASE cm_src AS {database} ON (TABLE t, TABLE n) "
                 f"PROPERTIES ('backup_timestamp' = '{ts}')")
        wait_until(lambda: as_dicts(cur, f"SHOW RESTORE FROM {database}")[0]["State"] == "COMMITTING", 30,
                   "the restore reaching COMMITTING", interval=0.02)
        assert error_of(cur, f"INSERT INTO {database}.t VALUES ('2024-01-10', 10)")[1] == \
            "Table t's state is not NORMAL: RESTORE"
        run(cur, f"CANCEL RESTORE FROM {database}")
    finally:
        run(cur, 'ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "", "emulator_slow_seconds" = "0")')
    job = wait_job(cur, "RESTORE", database)
    assert (job["State"], job["Status"]) == ("CANCELLED", "[COMMON_ERROR, msg: user cancelled, current state: "
                                                          "COMMITTING]")
    _left_as_before(cur, database)
