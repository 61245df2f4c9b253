"""The catalog model: entries, validation, chains, and the Parquet encoding round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from sr_airflow.engine.catalog import (
    Catalog,
    CatalogEntry,
    EntryStatus,
    PartitionRecord,
    SnapshotKind,
    Tombstone,
    apply_chain,
    entry_from_job_info,
)
from sr_airflow.engine.errors import SnapshotNotFoundError
from sr_airflow.engine.jobinfo import parse_job_info
from tests.engine.strategies_catalog import START, histories, make_entry
from tests.storage.layouts import job_info_doc

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_entry_from_job_info_takes_versions_from_the_snapshot():
    info = parse_job_info(job_info_doc("snap", "sr_hub", {"t": {"p1": (11, 7), "p2": (12, 1)}}),
                          timestamp="2024-12-09-10-25-58-842")
    entry = entry_from_job_info(info, repository="repo", kind="incremental", parent_label="base",
                                partition_stats={("t", "p1"): (100, 2048)}, tombstones=[Tombstone("gone")],
                                now=NOW, dag_id="dag", run_id="run", source_version="3.5.2-abc")
    assert entry.status is EntryStatus.OK and entry.backup_timestamp == "2024-12-09-10-25-58-842"
    assert entry.partitions == (PartitionRecord("t", "p1", 11, 7, 100, 2048, 20000),
                                PartitionRecord("t", "p2", 12, 1, None, None, 20000))
    assert (entry.dag_id, entry.run_id, entry.source_version, entry.created_at) == ("dag", "run", "3.5.2-abc", NOW)
    with pytest.raises(ValueError, match="has no timestamp"):
        entry_from_job_info(parse_job_info(job_info_doc("s", "d", {})), repository="r", kind="full")


@pytest.mark.parametrize("kwargs,message", [
    ({"kind": "incremental"}, "must name its parent_label"),
    ({"parent_label": "x"}, "must not have a parent_label"),
    ({"status": "ok", "backup_timestamp": None}, "can be ok only with"),
    ({"label": "a/b"}, "contain no '/'"),
    ({"created_at": datetime(2024, 1, 1)}, "time-zone aware"),
    ({"status": "finished"}, "'finished' is not a valid EntryStatus"),
])
def test_entry_validation(kwargs, message):
    base = dict(label="s", repository="r", database="d", kind="full", status="pending")
    with pytest.raises(ValueError, match=message):
        CatalogEntry(**(base | kwargs))


def test_an_unfinished_snapshot_is_never_good():
    catalog = Catalog([make_entry("full", START), make_entry("inc", START.replace(hour=1), kind="incremental",
                                                             parent="full", status="pending")])
    assert catalog.latest_good("db1").label == "full"
    assert not catalog.chain_is_good("inc")


def test_chain_and_duplicates():
    full = make_entry("full", START, partitions=[PartitionRecord("t", "p", 1, 1)])
    inc = make_entry("inc", START.replace(hour=1), kind="incremental", parent="full",
                     partitions=[PartitionRecord("t", "p", 1, 2)], tombstones=[Tombstone("u")])
    catalog = Catalog([inc, full])
    assert [e.label for e in catalog.chain_of("inc")] == ["full", "inc"]
    assert apply_chain(catalog.chain_of("inc"))[("t", "p")].label == "inc"
    with pytest.raises(ValueError, match="two entries labelled 'full'"):
        Catalog([full, full])
    with pytest.raises(SnapshotNotFoundError, match="depends on 'missing'"):
        Catalog([make_entry("x", START, kind="incremental", parent="missing")]).chain_of("x")


@settings(max_examples=40, deadline=None)
@given(catalog=histories(max_len=6))
def test_parquet_round_trip(catalog):
    from sr_airflow.storage.catalog_store import entries_from_parquet, entry_to_parquet

    for entry in catalog:
        full = CatalogEntry(**{**entry.__dict__, "scope": {"tables": ["t`1"]}, "verification": {"rows": 3},
                               "phase_seconds": {"backup": 1.5}, "snapshot_bytes": 10, "snapshot_objects": 2})
        assert entries_from_parquet(entry_to_parquet(full)) == [full]


def test_parquet_schema_is_one_dataset(tmp_path):
    import pyarrow.dataset as ds

    from sr_airflow.storage.catalog_store import entry_schema, entry_to_parquet

    for i, status in enumerate(["ok", "pending"]):
        entry = make_entry(f"s{i}", START, status=status, kind=SnapshotKind.FULL)
        (tmp_path / f"s{i}.parquet").write_bytes(entry_to_parquet(entry))
    table = ds.dataset(str(tmp_path), format="parquet").to_table()
    assert table.schema == entry_schema() and sorted(table.column("status").to_pylist()) == ["ok", "pending"]


def test_partition_records_keep_order_values_and_equality_in_columns():
    from sr_airflow.engine.catalog import PartitionRecords

    records = [PartitionRecord("t", "p1", 1, 2, 3, 4, 5), PartitionRecord("u", "p1", None, None),
               PartitionRecord("t", "p2", 7, 8, table_id=5)]
    columns = PartitionRecords(records)
    assert list(columns) == records and columns == tuple(records) and tuple(records) == columns
    assert (len(columns), columns[1], columns[-1], columns[1:]) == (3, records[1], records[2], tuple(records[1:]))
    assert columns != tuple(records[:2]) and columns == PartitionRecords(records)
    assert columns.tables() == {"t", "u"}  # not grouped by table: positions are found all the same
    assert list(columns.versions_of("t")) == [("p1", (1, 2)), ("p2", (7, 8))]
    assert list(columns.versions_of("u", missing_version="?")) == [("p1", (None, "?"))]
    assert list(columns.versions_of("nope")) == []
    entry = make_entry("full", START, partitions=records)
    assert entry.partitions == columns and CatalogEntry.__eq__(entry, make_entry("full", START, partitions=columns))
