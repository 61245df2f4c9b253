"""The product's planner against the emulator's 3.5 line, where physical partition ids differ from logical ones:
the job info read with the product's storage, one information_schema statement (``engine/database_metadata.py``:
partitions and the objects census in one UNION ALL, counted in the emulator's query log), and only the partition that
took a load planned; that statement's rows, split by tag, equal the five single-table reads it replaces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sr_airflow.engine.catalog import Catalog, SnapshotKind, entry_from_job_info
from sr_airflow.engine.database_metadata import metadata_query, split_metadata_rows
from sr_airflow.engine.mv import materialized_views_query
from sr_airflow.engine.planner import PlanPolicy, partitions_meta_query, plan_backup
from sr_airflow.engine.schema import COLUMN_FIELDS, TABLE_CONFIG_FIELDS, TABLE_FIELDS, VIEW_FIELDS
from sr_airflow.storage import get_storage
from tests.fidelity.helpers import Session, start_emulator

NEVER = PlanPolicy(max_incrementals=None, max_full_age=None)
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def emulator_33(tmp_path_factory, s3_server):
    server = start_emulator(tmp_path_factory, s3_server, "3.3.9")
    yield server
    server.stop()


def test_one_query_plans_the_one_changed_partition_on_distinct_physical_ids(session, s3_server):
    plan_after_one_load(session, s3_server, physical_ids_distinct=True)


def test_on_33_the_logical_id_is_the_physical_id_and_the_same_rule_holds(emulator_33, s3, bucket, s3_server):
    session = Session(emulator_33, s3, bucket)
    try:
        plan_after_one_load(session, s3_server, physical_ids_distinct=False)
    finally:
        session.close()


def plan_after_one_load(session: Session, s3_server, *, physical_ids_distinct: bool) -> None:
    session.run("CREATE TABLE events (dt DATE NOT NULL, id BIGINT NOT NULL) DUPLICATE KEY(dt, id) "
                "PARTITION BY RANGE(dt) (START ('2025-01-01') END ('2025-01-31') EVERY (INTERVAL 1 DAY)) "
                "DISTRIBUTED BY HASH(id) BUCKETS 1",
                "CREATE TABLE dim (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
                "INSERT INTO events VALUES ('2025-01-03', 1), ('2025-01-20', 2)", "INSERT INTO dim VALUES (1)")
    location = session.create_repository()
    session.backup("full")
    storage = get_storage(f"s3://{session.bucket}/{location}", endpoint=s3_server.endpoint_url,
                          aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    info = storage.read_job_info(session.repo, "full")
    partitions = [p for t in info.tables for p in t.partitions]
    assert len(partitions) == 31
    if physical_ids_distinct:  # 3.4+: LocalMetastore's getNextId()
        assert all(pid != p.id for p in partitions for pid, _ in p.physical_partitions)
    else:  # 3.3: no subPartitions for one physical partition, whose id is the partition's
        assert all(not p.sub_partitions and p.physical_partitions == ((p.id, p.version),) for p in partitions)
    entry = entry_from_job_info(info, repository=session.repo, snapshot_kind=SnapshotKind.FULL, now=NOW)

    session.run("INSERT INTO events VALUES ('2025-01-20', 3)")
    before = len(session.server.logged_statements())
    metadata = split_metadata_rows(session.run(metadata_query(session.db)), session.db)
    plan = plan_backup(Catalog([entry]), session.db, metadata.partitions, now=NOW, policy=NEVER)
    sent = session.server.logged_statements()[before:]
    assert sent == [metadata_query(session.db)]  # one information_schema statement
    assert (plan.snapshot_kind, [(t.table, t.partitions) for t in plan.tables]) == (
        SnapshotKind.INCREMENTAL, [("events", ("p20250120",))])
    assert plan.tombstones == ()


def _single_table_reads(session: Session) -> dict[str, list[tuple]]:
    """The six reads the one statement replaces, each as its own SELECT (ORDER BY as the planner needs)."""
    db = f"'{session.db}'"
    return {
        "partitions": session.run(partitions_meta_query(session.db)),
        "materialized_views": session.run(materialized_views_query(session.db)),
        "columns": session.run(f"SELECT {', '.join(COLUMN_FIELDS)} FROM information_schema.columns WHERE "
                               f"TABLE_SCHEMA = {db} ORDER BY TABLE_NAME, ORDINAL_POSITION"),
        "tables_config": session.run(f"SELECT {', '.join(TABLE_CONFIG_FIELDS)} FROM information_schema.tables_config "
                                     f"WHERE TABLE_SCHEMA = {db} ORDER BY TABLE_NAME"),
        "tables": session.run(f"SELECT {', '.join(TABLE_FIELDS)} FROM information_schema.tables WHERE TABLE_SCHEMA = "
                              f"{db} ORDER BY TABLE_NAME"),
        "views": session.run(f"SELECT {', '.join(VIEW_FIELDS)} FROM information_schema.views WHERE TABLE_SCHEMA = "
                             f"{db} ORDER BY TABLE_NAME"),
    }


def _as_text(value):
    return None if value is None else str(value)


def test_the_one_statement_splits_into_the_six_single_table_reads(session):
    """Tables of 12 columns (ORDINAL_POSITION 10 after 9: ordered as numbers, not text), a view, an async MV, a
    temporary partition and an unpartitioned table in the one statement, split back: each kind equals its own
    single-table read, values compared as text where the union CASTs them, ints and IS_TEMP as the planner reads
    them."""
    wide = ", ".join(f"c{i} INT" for i in range(2, 13))
    session.run(f"CREATE TABLE wide (c1 INT NOT NULL, {wide}) DUPLICATE KEY(c1) PARTITION BY RANGE(c1) "
                "(PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN ('20')) "
                "DISTRIBUTED BY HASH(c1) BUCKETS 1",
                "CREATE TABLE flat (k INT NOT NULL COMMENT 'the key') DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) "
                "BUCKETS 2 COMMENT 'one row'",
                "INSERT INTO wide (c1) VALUES (1), (11), (12)", "INSERT INTO flat VALUES (1)",
                "ALTER TABLE wide ADD TEMPORARY PARTITION tp VALUES LESS THAN ('20')",
                "CREATE VIEW v1 AS SELECT k FROM flat",
                "CREATE MATERIALIZED VIEW mv1 REFRESH MANUAL AS SELECT c1, count(*) AS n FROM wide GROUP BY c1")
    split = split_metadata_rows(session.run(metadata_query(session.db)), session.db)
    single = _single_table_reads(session)
    assert split.partitions == [(db, t, p, pid, v, _as_text(time), rows, _as_text(size), bool(temp), value)
                                for db, t, p, pid, v, time, rows, size, temp, value in single["partitions"]]
    assert {(p[1], p[2], p[8]) for p in split.partitions if p[1] in ("wide", "flat")} == {
        ("wide", "p1", False), ("wide", "p2", False), ("wide", "tp", True), ("flat", "flat", False)}
    assert [c[2] for c in split.columns if c[0] == "wide"] == list(range(1, 13))
    assert split.columns == [(t, c, pos, *map(_as_text, rest)) for t, c, pos, *rest in single["columns"]]
    for kind in ("materialized_views", "tables_config", "tables", "views"):
        assert getattr(split, kind) == [tuple(map(_as_text, row)) for row in single[kind]], kind
    assert ("flat", "one row") in split.tables
    assert [r[0] for r in split.views] == ["v1"] and [r[0] for r in split.materialized_views] == ["mv1"]
