"""The product's job-info parser and planner on the golden job info and partitions_meta rows (tests/fidelity/README.md).

These fixtures share one catalogue: ``sales`` p1 is logical 10022 → physical 10024; p2 is logical 10023 →
physical 10025 **and** 10060; partitions_meta shows physical ids only (``InformationSchemaDataSource
.genPartitionMetaInfo``). No server: pure parsers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sr_airflow.engine.catalog import Catalog, SnapshotKind, entry_from_job_info
from sr_airflow.engine.jobinfo import parse_job_info
from sr_airflow.engine.planner import PlanPolicy, parse_partitions_meta, plan_backup
from tests.fidelity.helpers import load_fixture

NOW = datetime(2024, 12, 10, tzinfo=UTC)
NEVER = PlanPolicy(max_incrementals=None, max_full_age=None)
TIMESTAMP = "2024-12-09-10-25-58-842"


def job_info(name: str = "job_info_3.5.json"):
    return parse_job_info(json.dumps(load_fixture(name)).encode(), timestamp=TIMESTAMP)


def meta_rows() -> list[dict]:
    return load_fixture("partitions_meta.json")["sales_rows"]


def test_the_35_job_info_holds_logical_ids_with_physical_ones_under_sub_partitions():
    info = job_info()
    sales = info.table("sales")
    p1, p2 = sales.partition("p1"), sales.partition("p2")
    assert (p1.id, p1.version, p1.indexes) == (10022, 3, ())  # partition-level indexes are {} since 3.4
    assert p1.physical_partitions == ((10024, 3),)
    assert (p2.id, p2.physical_partitions) == (10023, ((10025, 2), (10060, 1)))
    assert {i.name for i in p2.sub_partitions[0].indexes} == {"sales", "r1", "mv_sales_k1"}
    assert not info.table("v_sales").has_data and info.table("mv_daily").has_data
    assert sales.auto_increment_id is None  # left out of the file when null
    auto = parse_job_info(json.dumps(load_fixture("job_info_3.5_auto_increment.json")))
    assert any(t.auto_increment_id is not None for t in auto.tables)


def test_the_33_job_info_holds_the_partition_as_its_own_physical_partition():
    info = job_info("job_info_3.3.json")
    for table in info.tables:
        for partition in table.partitions:
            if not partition.sub_partitions:  # one physical partition: its id is the logical id at 3.3
                assert partition.physical_partitions == ((partition.id, partition.version),)
                assert partition.indexes
            else:  # several: the partition itself is one of them, keyed by its own id
                assert partition.id in {pid for pid, _ in partition.physical_partitions}


def test_partitions_meta_ids_never_equal_job_info_partition_ids():
    """Why the old (partition id, version) comparison never matched on 3.4+."""
    logical = {p.id for t in job_info().tables for p in t.partitions}
    assert not logical & {r["PARTITION_ID"] for r in meta_rows()}


def test_an_unchanged_table_plans_nothing_and_one_changed_physical_partition_its_partition():
    """partitions_meta's golden rows are the ``sales`` table's; the other tables of the snapshot are absent from
    them, so they come out as tombstones (what the planner says of a table that is gone)."""
    entry = entry_from_job_info(job_info(), repository="repo", snapshot_kind=SnapshotKind.FULL, now=NOW)
    rows = meta_rows()
    catalog = Catalog([entry])
    plan = plan_backup(catalog, "fid_db", rows, now=NOW, policy=NEVER)
    assert (plan.snapshot_kind, plan.parent_label) == (SnapshotKind.INCREMENTAL, "snap1")
    assert plan.is_empty, plan.reason
    assert {t.table for t in plan.tombstones} == {"all_types", "agg_types", "mv_daily"}
    assert plan.temp_partition_tables == (("sales",) if any(r["IS_TEMP"] for r in rows) else ())
    # a table with temporary partitions is left out whole (StarRocks refuses its BACKUP): compare without them
    formal = [r for r in rows if not r["IS_TEMP"]]
    loaded = [r | {"VISIBLE_VERSION": r["VISIBLE_VERSION"] + 1} if r["PARTITION_ID"] == 10060 else r for r in formal]
    plan = plan_backup(catalog, "fid_db", loaded, now=NOW, policy=NEVER)
    assert [(t.table, t.partitions) for t in plan.tables] == [("sales", ("p2",))]
    assert sorted(s.partition_id for s in plan.partitions) == [10025, 10060]  # both rows of p2, for its stats
    assert parse_partitions_meta(rows)[0].partition_id == rows[0]["PARTITION_ID"]


@pytest.mark.parametrize("name", ["BackupJobInfoTest_old_sample.json"])
def test_starrocks_own_old_sample_parses(name):
    info = parse_job_info(json.dumps(load_fixture(name)))
    partition = info.tables[0].partitions[0]
    assert partition.indexes and partition.physical_partitions == ((partition.id, partition.version),)


def test_starrocks_own_new_sample_with_its_trailing_comma_is_refused_by_name():
    """BackupJobInfoTest's hand-written sample has a trailing comma that org.json accepts; StarRocks' writer
    (``toJson``) never writes one, and Python's json refuses it: the parser says so."""
    with pytest.raises(ValueError, match="job info is not valid JSON"):
        parse_job_info(load_fixture("BackupJobInfoTest_new_sample.txt"))


def test_verify_compares_every_physical_partition_version():
    """The verify operator's comparison: a partition's versions are its physical partitions' (p2 has two)."""
    from sr_airflow.engine.verify import compare_versions
    from sr_airflow.operators.verify import physical_versions

    expected = {(t.name, p.name): physical_versions([v for _, v in p.physical_partitions])
                for t in job_info().tables for p in t.partitions if t.name == "sales"}
    assert expected == {("sales", "p1"): 3, ("sales", "p2"): (1, 2)}
    actual: dict = {}
    for state in parse_partitions_meta(meta_rows()):
        if not state.is_temp:
            actual.setdefault(state.key, []).append(state.version)
    assert compare_versions(expected, {k: physical_versions(v) for k, v in actual.items()}) == []
    actual[("sales", "p2")] = [2, 2]
    assert [m.partition for m in compare_versions(expected, {k: physical_versions(v) for k, v in actual.items()})] \
        == ["p2"]
