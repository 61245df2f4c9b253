"""The product's planner against the emulator's 3.5 line, where physical partition ids differ from logical ones:
the job info read with the product's storage, one partitions_meta query (counted in the emulator's query log),
and only the partition that took a load planned."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sr_airflow.engine.catalog import Catalog, SnapshotKind, entry_from_job_info
from sr_airflow.engine.planner import PlanPolicy, partitions_meta_query, plan_backup
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
    entry = entry_from_job_info(info, repository=session.repo, kind=SnapshotKind.FULL, now=NOW)

    session.run("INSERT INTO events VALUES ('2025-01-20', 3)")
    before = len(session.server.logged_statements())
    rows = session.run(partitions_meta_query(session.db))
    plan = plan_backup(Catalog([entry]), session.db, rows, now=NOW, policy=NEVER)
    sent = session.server.logged_statements()[before:]
    assert len(sent) == 1 and "information_schema.partitions_meta" in sent[0]  # one metadata query
    assert (plan.kind, [(t.table, t.partitions) for t in plan.tables]) == (
        SnapshotKind.INCREMENTAL, [("events", ("p20250120",))])
    assert plan.tombstones == ()
