"""Colocation groups across a restore: recorded in the catalog at backup time, set again after the restore.

A RESTORE does not keep a table's ``colocate_with`` (``RestoreJob.checkAndPrepareMeta``, 3.5 e223275f78:
``setColocateGroup(null)`` unless FE config ``enable_colocate_restore``, default false); the emulator drops it the
same way, and refuses a table that does not fit a group as ``ColocateGroupSchema.checkColocateSchema`` does.
"""

from __future__ import annotations

import json

import pytest

from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.restore import StarRocksRestoreChainOperator, StarRocksRestoreOperator
from tests.support.emulators import start_emulator
from tests.support.task_context import task_context

TABLE = "(id INT, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS {buckets} PROPERTIES ({props})"
GROUP = '"colocate_with" = "g1"'
PLAIN = '"replication_num" = "1"'


def _groups(emu, database: str) -> dict[str, str | None]:
    rows = emu.sql("SELECT TABLE_NAME, PROPERTIES FROM information_schema.tables_config WHERE "
                   f"TABLE_SCHEMA = '{database}'")
    return {name: json.loads(props).get("colocate_with") for name, props in rows}


@pytest.fixture(scope="module")
def coloc_emu(airflow_db, s3_server):
    with start_emulator("sr_coloc", s3_server) as emu:
        emu.sql("CREATE DATABASE src", f"CREATE TABLE src.a {TABLE.format(buckets=2, props=GROUP)}",
                f"CREATE TABLE src.b {TABLE.format(buckets=2, props=GROUP)}",
                f"CREATE TABLE src.c {TABLE.format(buckets=3, props=PLAIN)}",
                "INSERT INTO src.a VALUES (1, 1)", "INSERT INTO src.b VALUES (2, 2)")
        emu.create_repository("corepo", s3_server, "colocation")
        yield emu, {}


@pytest.fixture
def coloc(coloc_emu, aws_conn):
    """The emulator and src's full backup (label, timestamp), taken once, recorded in corepo's catalog."""
    emu, taken = coloc_emu
    if not taken:
        result = StarRocksBackupOperator(
            task_id="backup", starrocks_conn_id="sr_coloc", repository="corepo", database="src",
            storage_conn_id=aws_conn, deferrable=False, poll_interval=0.1,
            max_poll_interval=0.5).execute(task_context("coloc_backup"))
        taken.update(label=result["snapshot_label"], timestamp=result["backup_timestamp"])
    return emu, taken["label"], taken["timestamp"]


def _restore(label: str, database: str, aws_conn: str, **kwargs) -> dict:
    return StarRocksRestoreOperator(task_id="restore", starrocks_conn_id="sr_coloc", repository="corepo",
                                    snapshot_label=label, database="src", target_database=database,
                                    storage_conn_id=aws_conn, deferrable=False,
                                    reactivate_materialized_views=False, **kwargs).execute(task_context(database))


def test_the_catalog_records_each_tables_group(coloc, aws_conn):
    from sr_airflow.operators.repository_storage import repository_storage
    from sr_airflow.storage.catalog_store import CatalogStore

    emu, label, _ = coloc
    assert _groups(emu, "src") == {"a": "g1", "b": "g1", "c": None}
    op = StarRocksRestoreOperator(task_id="r", starrocks_conn_id="sr_coloc", repository="corepo")
    census = CatalogStore(repository_storage(op.hook, "corepo", aws_conn), "corepo").get(label).census
    assert {t: i.colocate_with for t, i in census.tables.items()} == {"a": "g1", "b": "g1", "c": None}


def test_a_restore_alone_drops_the_group(coloc):
    emu, label, timestamp = coloc
    emu.sql(f'RESTORE SNAPSHOT {label} FROM corepo DATABASE src AS raw PROPERTIES ("backup_timestamp" = '
            f'"{timestamp}")')
    emu.wait_state("RESTORE", "raw", ("FINISHED",), timeout=60)
    assert _groups(emu, "raw") == {"a": None, "b": None, "c": None}


def test_the_operator_sets_the_groups_again_after_a_restore_into_a_fresh_database(coloc, aws_conn):
    emu, label, _ = coloc
    result = _restore(label, "fresh", aws_conn)
    assert result["colocation"] == {"applied": {"a": "g1", "b": "g1"}, "failed": {}}
    assert _groups(emu, "fresh") == {"a": "g1", "b": "g1", "c": None}
    create = emu.sql("SHOW CREATE TABLE fresh.a")[0][1]
    assert '"colocate_with" = "g1"' in create
    assert "ALTER TABLE `fresh`.`a` SET (\"colocate_with\" = \"g1\")" in emu.queries()


def test_a_table_the_group_refuses_is_reported_not_raised(coloc, aws_conn):
    """The target already has group g1 with 3 buckets: StarRocks refuses a 2-bucket table into it."""
    emu, label, _ = coloc
    emu.sql("CREATE DATABASE clash", f"CREATE TABLE clash.other {TABLE.format(buckets=3, props=GROUP)}")
    result = _restore(label, "clash", aws_conn, tables=["a"])
    assert result["colocation"]["applied"] == {}
    assert list(result["colocation"]["failed"]) == ["a"]
    assert "Colocate tables must have same bucket num: 3, with group" in result["colocation"]["failed"]["a"]
    assert _groups(emu, "clash") == {"a": None, "other": "g1"}  # restored, outside the group


def test_the_emulator_sets_and_unsets_a_group_as_starrocks_checks_it(coloc):
    emu, _, _ = coloc
    emu.sql("CREATE DATABASE alter_db", f"CREATE TABLE alter_db.x {TABLE.format(buckets=2, props=GROUP)}",
            f"CREATE TABLE alter_db.y {TABLE.format(buckets=2, props=PLAIN)}",
            f"CREATE TABLE alter_db.z {TABLE.format(buckets=4, props=PLAIN)}",
            'ALTER TABLE alter_db.y SET ("colocate_with" = "g1")')
    with pytest.raises(Exception, match=r"Colocate tables must have same bucket num: 2, with group \d+\.\d+, "
                                        r"current info type: HASH; distribution columns: \[id,\]; bucket num: 4; "):
        emu.sql('ALTER TABLE alter_db.z SET ("colocate_with" = "g1")')
    emu.sql('ALTER TABLE alter_db.x SET ("colocate_with" = "")')
    assert _groups(emu, "alter_db") == {"x": None, "y": "g1", "z": None}


def test_a_point_in_time_restore_sets_the_groups_again(coloc, aws_conn):
    emu, label, _ = coloc
    result = StarRocksRestoreChainOperator(
        task_id="restore", starrocks_conn_id="sr_coloc", repository="corepo", database="src",
        snapshot_label=label, target_database="pitr", storage_conn_id=aws_conn, deferrable=False,
        reactivate_materialized_views=False, poll_interval=0.1, max_poll_interval=0.5).execute(task_context("pitr"))
    assert result["chain"] == [label]
    assert result["colocation"] == {"applied": {"a": "g1", "b": "g1"}, "failed": {}}
    assert _groups(emu, "pitr") == {"a": "g1", "b": "g1", "c": None}


def test_groups_are_read_from_tables_config_and_the_statement_is_quoted():
    from sr_airflow.engine.colocation import colocation_groups, render_set_colocation

    rows = [("a", '{"colocate_with":"g1","replication_num":"1"}'), ("b", '{"replication_num":"1"}'), ("c", "")]
    assert colocation_groups(rows) == {"a": "g1"}
    assert render_set_colocation("d`b", "t", 'g"1') == 'ALTER TABLE `d``b`.`t` SET ("colocate_with" = "g\\"1")'
