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
    entry_from_job_info,
    resolve_state,
)
from sr_airflow.engine.errors import SnapshotNotFoundError
from sr_airflow.engine.jobinfo import parse_job_info
from tests.engine.strategies_catalog import START, histories, make_entry
from tests.storage.layouts import job_info_doc

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_entry_from_job_info_takes_versions_from_the_snapshot():
    info = parse_job_info(job_info_doc("snap", "sr_hub", {"t": {"p1": (11, 7), "p2": (12, 1)}}),
                          timestamp="2024-12-09-10-25-58-842")
    entry = entry_from_job_info(info, repository="repo", snapshot_kind="incremental", parent_label="base",
                                partition_stats={("t", "p1"): (100, 2048)}, tombstones=[Tombstone("gone")],
                                now=NOW, dag_id="dag", run_id="run", source_version="3.5.2-abc")
    assert entry.status is EntryStatus.OK and entry.backup_timestamp == "2024-12-09-10-25-58-842"
    assert entry.partitions == (PartitionRecord("t", "p1", 11, 7, 100, 2048, 20000, ((11, 7),)),
                                PartitionRecord("t", "p2", 12, 1, None, None, 20000, ((12, 1),)))
    assert (entry.dag_id, entry.run_id, entry.source_version, entry.created_at) == ("dag", "run", "3.5.2-abc", NOW)
    with pytest.raises(ValueError, match="has no timestamp"):
        entry_from_job_info(parse_job_info(job_info_doc("s", "d", {})), repository="r", snapshot_kind="full")


@pytest.mark.parametrize("kwargs,message", [
    ({"snapshot_kind": "incremental"}, "must name its parent_label"),
    ({"parent_label": "x"}, "must not have a parent_label"),
    ({"status": "ok", "backup_timestamp": None}, "can be ok only with"),
    ({"label": "a/b"}, "contain no '/'"),
    ({"created_at": datetime(2024, 1, 1)}, "time-zone aware"),
    ({"status": "finished"}, "'finished' is not a valid EntryStatus"),
])
def test_entry_validation(kwargs, message):
    base = dict(label="s", repository="r", database="d", snapshot_kind="full", status="pending")
    with pytest.raises(ValueError, match=message):
        CatalogEntry(**(base | kwargs))


def test_chain_and_duplicates():
    full = make_entry("full", START, partitions=[PartitionRecord("t", "p", 1, 1)])
    inc = make_entry("inc", START.replace(hour=1), snapshot_kind="incremental", parent="full",
                     partitions=[PartitionRecord("t", "p", 1, 2)], tombstones=[Tombstone("u")])
    catalog = Catalog([inc, full])
    assert [e.label for e in catalog.chain_of("inc")] == ["full", "inc"]
    assert resolve_state(catalog.chain_of("inc"))[("t", "p")].label == "inc"
    with pytest.raises(ValueError, match="two entries labelled 'full'"):
        Catalog([full, full])
    with pytest.raises(SnapshotNotFoundError, match="depends on 'missing'"):
        Catalog([make_entry("x", START, snapshot_kind="incremental", parent="missing")]).chain_of("x")


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
        entry = make_entry(f"s{i}", START, status=status, snapshot_kind=SnapshotKind.FULL)
        (tmp_path / f"s{i}.parquet").write_bytes(entry_to_parquet(entry))
    table = ds.dataset(str(tmp_path), format="parquet").to_table()
    assert table.schema == entry_schema() and sorted(table.column("status").to_pylist()) == ["ok", "pending"]


def test_partition_records_keep_order_values_and_equality_in_columns():
    from sr_airflow.engine.catalog import UNKNOWN_VERSION, PartitionRecords

    records = [PartitionRecord("t", "p1", 1, 2, 3, 4, 5), PartitionRecord("u", "p1", None, None),
               PartitionRecord("t", "p2", 7, 8, table_id=5)]
    columns = PartitionRecords(records)
    assert list(columns) == records and columns == tuple(records) and tuple(records) == columns
    assert (len(columns), columns[1], columns[-1], columns[1:]) == (3, records[1], records[2], tuple(records[1:]))
    assert columns != tuple(records[:2]) and columns == PartitionRecords(records)
    assert columns.tables() == {"t", "u"}  # not grouped by table: positions are found all the same
    assert list(columns.match_keys_of("t")) == [("p1", (1, 2)), ("p2", (7, 8))]  # no physical ids: logical
    assert list(columns.match_keys_of("u")) == [("p1", (None, UNKNOWN_VERSION))]
    assert list(columns.match_keys_of("nope")) == []
    entry = make_entry("full", START, partitions=records)
    assert entry.partitions == columns and CatalogEntry.__eq__(entry, make_entry("full", START, partitions=columns))


def test_physical_partitions_round_trip_through_parquet():
    from sr_airflow.storage.catalog_store import entries_from_parquet, entry_to_parquet

    records = [PartitionRecord("t", "p1", 10, 5, 1, 2, 7, ((11, 5),)),  # the common case: one id column
               PartitionRecord("t", "p2", 20, 5, 1, 2, 7, ((21, 5), (22, 3))),  # several physical partitions
               PartitionRecord("t", "p3", 30, 6, 1, 2, 7, ((31, 4),)),  # one, at another version
               PartitionRecord("u", "p1", 40, 1)]  # none recorded
    for partitions in (records, records[:1], records[3:]):
        entry = make_entry("full", START, partitions=partitions)
        (back,) = entries_from_parquet(entry_to_parquet(entry))
        assert list(back.partitions) == list(partitions)
    assert list(back.partitions.match_keys_of("u")) == [("p1", (40, 1))]
    (back,) = entries_from_parquet(entry_to_parquet(make_entry("full", START, partitions=records)))
    assert list(back.partitions.match_keys_of("t")) == [("p1", (11, 5)), ("p2", frozenset({(21, 5), (22, 3)})),
                                                       ("p3", frozenset({(31, 4)}))]


def test_entries_written_before_physical_partitions_are_read():
    """A file of the schema before ``physical_partitions`` existed (the same columns, less that one) reads with
    no physical partitions recorded."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from sr_airflow.storage.catalog_store import entries_from_parquet, entry_to_parquet

    entry = make_entry("full", START, partitions=[PartitionRecord("t", "p1", 10, 5, 1, 2, 7, ((11, 5),))])
    table = pq.read_table(pa.BufferReader(entry_to_parquet(entry)))
    partitions = table.column("partitions").combine_chunks()
    old_struct = pa.struct([f for f in partitions.type.value_type if f.name != "physical_partitions"])
    values = partitions.values
    old_values = pa.StructArray.from_arrays([values.field(f.name) for f in old_struct], fields=list(old_struct))
    old = pa.ListArray.from_arrays(partitions.offsets, old_values)
    table = table.set_column(table.schema.get_field_index("partitions"), "partitions", old)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    (back,) = entries_from_parquet(buf.getvalue())
    assert list(back.partitions) == [PartitionRecord("t", "p1", 10, 5, 1, 2, 7)]


def test_objects_round_trip_and_entries_written_before_them_read_without():
    """``objects_json`` (the census: table fingerprints, views, MVs, functions, what the snapshot holds, why,
    excluded tables) round-trips; a file without the column reads with no census."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from sr_airflow.engine.catalog import SnapshotObjects, TableCensus
    from sr_airflow.storage.catalog_store import entries_from_parquet, entry_to_parquet

    census = SnapshotObjects(tables={"t": TableCensus("ab12", "range")}, views={"v": "cd34"},
                             held={"views": ("v",)}, reasons={"view v": "new_view"},
                             excluded={"u": "it has temporary partitions"})
    entry = make_entry("full", START, partitions=[PartitionRecord("t", "p1", 10, 5)])
    entry = entry.__class__(**{**entry.__dict__, "objects": census.to_dict()})
    (back,) = entries_from_parquet(entry_to_parquet(entry))
    assert back.census == census and back.excluded_tables == {"u": "it has temporary partitions"}
    table = pq.read_table(pa.BufferReader(entry_to_parquet(entry))).drop_columns(["objects_json"])
    buf = io.BytesIO()
    pq.write_table(table, buf)
    (old,) = entries_from_parquet(buf.getvalue())
    assert old.census is None and old.excluded_tables == {} and old.partitions == entry.partitions
