"""The product's version-dependent choices end to end (issue 13 item 4), through the shipped DAGs and dag.test().

For an emulator started as each release line (3.3, 3.4, 3.5, 4.0): a full backup, an incremental after one
change that ships only the changed partition, and a point-in-time restore into a fresh database, verified. What the
product sent is read from the emulator's query log: the legacy `BACKUP SNAPSHOT db.label` / `RESTORE SNAPSHOT
target.label` forms before 3.4 (StarRocks.g4 `backupStatement` / `restoreStatement` at 3.3 1a2f1f5d75 have no
DATABASE clause), the `DATABASE` forms from 3.4. What the incremental shipped is read from its job info in the
repository (boto3, no product parser): one table, one partition, with its physical partition(s) — `subPartitions`
keyed by physical ids distinct from the logical id from 3.4, none at 3.3 (the partition is the physical one).
"""

from __future__ import annotations

import json
import re

import pendulum
import pytest

from tests.support.dags import states
from tests.support.emulators import running_emulator
from tests.support.s3 import BUCKET, s3_client
from tests.support.seeds import incremental_config

pytestmark = pytest.mark.xdist_group("versions")

VERSIONS = ("3.3.9", "3.4.3", "3.5.2", "4.0.0")
DB = "ver"
CHANGED = "p20240103"


@pytest.fixture(scope="module", params=VERSIONS)
def emulator(request, airflow_db, s3_server):
    """One emulator per release line, for the whole module."""
    tag = request.param.replace(".", "")
    with running_emulator(f"sr_ver_{tag}", s3_server, min_phase_seconds=0.02, version=request.param) as emu:
        emu.version = request.param
        emu.prefix = f"versions-{tag}"
        yield emu


def legacy(emu) -> bool:
    major, minor = (int(x) for x in emu.version.split(".")[:2])
    return (major, minor) < (3, 4)


def sent(emu, word: str) -> list[str]:
    return [q for q in emu.queries() if q.lstrip().upper().startswith(word)]


def restore_config(emu, aws_conn: str) -> str:
    return f"""
[defaults]
starrocks_conn_id = "{emu.conn_id}"
repository = "{emu.prefix}_repo"
location = "s3://{BUCKET}/{emu.prefix}"
storage_conn_id = "{aws_conn}"
"""


def job_info(s3_server, prefix: str, label: str) -> dict:
    """The snapshot's `__info_<time>.<md5>` file as StarRocks wrote it, read straight from the bucket."""
    client = s3_client(s3_server.endpoint_url)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/").get("Contents", [])
            if f"/__ss_{label}/__info_" in o["Key"]]
    assert len(keys) == 1, keys
    return json.loads(client.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read())


def label_of(statement: str) -> str:
    match = re.search(r"SNAPSHOT (?:`[^`]+`\.)?`([^`]+)`", statement)
    assert match, statement
    return match.group(1)


def seed(emu) -> None:
    """Daily-partitioned ``events`` (four days), an unpartitioned ``dims`` and a view (3.3 cannot back views up
    and refuses a whole-database BACKUP of a database holding one: the product names the tables there)."""
    emu.sql(f"CREATE DATABASE {DB}",
            f"CREATE TABLE {DB}.events (k INT, d DATE) DUPLICATE KEY(k) PARTITION BY RANGE(d) ("
            "PARTITION p20240101 VALUES LESS THAN ('2024-01-02'), PARTITION p20240102 VALUES LESS THAN ('2024-01-03'),"
            " PARTITION p20240103 VALUES LESS THAN ('2024-01-04'), PARTITION p20240104 VALUES LESS THAN "
            "('2024-01-05')) DISTRIBUTED BY HASH(k) BUCKETS 1",
            f"CREATE TABLE {DB}.dims (k INT, v VARCHAR(8)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            f"INSERT INTO {DB}.events VALUES (1, '2024-01-01'), (2, '2024-01-02'), (3, '2024-01-03'), "
            "(4, '2024-01-04')",
            f"INSERT INTO {DB}.dims VALUES (1, 'a')",
            f"CREATE VIEW {DB}.recent AS SELECT k FROM {DB}.events WHERE d >= '2024-01-03'")


def rows(emu, database: str) -> list[tuple]:
    return [tuple(r) for r in emu.sql(f"SELECT k, d FROM {database}.events ORDER BY k")]


def test_full_incremental_and_point_in_time_restore(emulator, s3_server, aws_conn, load_dag):
    emu = emulator
    seed(emu)
    backup = load_dag("sr_incremental_backup", incremental_config(emu, aws_conn, emu.prefix, DB, "changed"))
    assert states(backup.test())["backup[0]"] == "success"  # the chain's full backup
    emu.sql(f"INSERT INTO {DB}.events VALUES (5, '2024-01-03')")
    assert states(backup.test())["backup[0]"] == "success"  # the incremental

    full, incremental = sent(emu, "BACKUP")
    if legacy(emu):  # the whole database by name: 3.3 would take the view and refuse it (ERR_NOT_OLAP_TABLE)
        assert re.fullmatch(rf"BACKUP SNAPSHOT `{DB}`\.`[^`]+` TO `{emu.prefix}_repo` ON \(`dims`, `events`\)"
                            r"( PROPERTIES .*)?", full), full
        assert f"ON (`events` PARTITION (`{CHANGED}`))" in incremental, incremental
    else:
        assert re.fullmatch(rf"BACKUP DATABASE `{DB}` SNAPSHOT `[^`]+` TO `{emu.prefix}_repo`( PROPERTIES .*)?",
                            full), full
        assert f"ON (TABLE `events` PARTITION (`{CHANGED}`))" in incremental, incremental

    shipped = job_info(s3_server, emu.prefix, label_of(incremental))["backup_objects"]
    assert list(shipped) == ["events"]
    partitions = shipped["events"]["partitions"]
    assert list(partitions) == [CHANGED]
    part = partitions[CHANGED]
    physical = [sub["id"] for sub in part["subPartitions"].values()]
    if legacy(emu):
        assert physical == [] and part["indexes"]  # 3.3: the partition is the physical one
    else:
        assert len(physical) == 1 and physical[0] != part["id"]
    (visible,) = emu.sql("SELECT VISIBLE_VERSION FROM information_schema.partitions_meta "
                         f"WHERE DB_NAME = '{DB}' AND PARTITION_NAME = '{CHANGED}'")
    assert part["version"] == visible[0] == 3  # created at 1, the seed's load 2, the change 3

    moment = pendulum.now("UTC").to_iso8601_string()
    restore = load_dag("sr_restore", restore_config(emu, aws_conn))
    run = restore.test(run_conf={"database": DB, "point_in_time": moment, "target_database": f"{DB}_then",
                                 "verify": "counts"})
    outcome = states(run)
    assert {"restore", "verify"} <= set(outcome) and set(outcome.values()) == {"success"}, outcome
    result = next(t for t in run.get_task_instances() if t.task_id == "restore").xcom_pull(task_ids="restore")
    assert len(result["chain"]) == 2
    assert rows(emu, f"{DB}_then") == rows(emu, DB)
    assert emu.sql(f"SELECT k, v FROM {DB}_then.dims") == ((1, "a"),)
    restored_views = emu.sql(f"SELECT TABLE_NAME FROM information_schema.views WHERE TABLE_SCHEMA = '{DB}_then'")
    assert restored_views == (() if legacy(emu) else (("recent",),))  # views are backed up from 3.4

    restores = sent(emu, "RESTORE")
    assert len(restores) == 2
    creates = [q for q in sent(emu, "CREATE DATABASE") if f"`{DB}_then`" in q]
    # 3.3's BackupHandler.process refuses a missing target database: the product creates it first
    assert creates == ([f"CREATE DATABASE IF NOT EXISTS `{DB}_then`"] * 2 if legacy(emu) else [])
    for statement in restores:
        if legacy(emu):  # the label's prefix is the database restored into
            assert re.match(rf"RESTORE SNAPSHOT `{DB}_then`\.`[^`]+` FROM `{emu.prefix}_repo`", statement), statement
        else:
            assert re.match(rf"RESTORE SNAPSHOT `[^`]+` FROM `{emu.prefix}_repo` DATABASE `{DB}` AS `{DB}_then`",
                            statement), statement
