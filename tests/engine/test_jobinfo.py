"""Parsing the ``__info_`` job-info JSON (spec §4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sr_airflow.engine.jobinfo import format_backup_timestamp, parse_backup_timestamp, parse_job_info
from tests.storage.layouts import job_info_doc

TABLES = {"sr_member": {"p1": (30001, 5), "p2": (30002, 3)}, "sr_order": {"sr_order": (30003, 1)}}


def test_full_form():
    info = parse_job_info(json.dumps(job_info_doc("snap", "sr_hub", TABLES)).encode(),
                          timestamp="2024-12-09-10-25-58-842")
    assert (info.label, info.database, info.database_id, info.succeeded) == ("snap", "sr_hub", 10001, True)
    assert info.backup_time == datetime(2024, 12, 9, 10, 25, 58, 842000, tzinfo=UTC)
    assert (info.meta_version, info.starrocks_meta_version) == (92, 4)
    member = info.table("sr_member")
    assert (member.id, member.auto_increment_id) == (20000, None)
    p1 = member.partition("p1")
    assert (p1.id, p1.version, p1.indexes) == (30001, 5, ())  # 3.4+: the indexes are the physical partition's
    physical = p1.sub_partitions[0]
    assert (physical.id, physical.version) == (30001, 5)
    assert physical.indexes[0].name == "sr_member" and physical.indexes[0].tablet_ids == (300010, 300011)
    assert physical.indexes[0].schema_hash == 1234567
    assert info.partition_versions() == {("sr_member", "p1"): 5, ("sr_member", "p2"): 3, ("sr_order", "sr_order"): 1}


def test_a_view_has_no_partitions_and_a_functions_only_snapshot_no_tables():
    doc = job_info_doc("snap", "sr_hub", TABLES)
    doc["backup_objects"]["v_member"] = {"id": 20009, "partitions": {}}
    info = parse_job_info(doc)
    assert not info.table("v_member").has_data and info.table("sr_member").has_data
    assert parse_job_info(doc | {"backup_objects": {}}).tables == ()


def test_brief_form_has_names_only():
    info = parse_job_info(job_info_doc("snap", "sr_hub", TABLES, brief=True))
    assert info.database_id is None and info.table("sr_order").partition("sr_order").version is None


def test_unknown_top_level_keys_are_kept():
    doc = job_info_doc("snap", "sr_hub", TABLES) | {"backup_functions": [{"name": "f"}]}
    assert parse_job_info(doc).extra == {"backup_functions": [{"name": "f"}]}


@pytest.mark.parametrize("data,message", [
    (b"{not json", "not valid JSON"), (b"[]", "must be a JSON object"), (b'{"name": "x"}', "no 'database' field"),
    (json.dumps({"name": "x", "database": "d", "backup_time": "soon"}).encode(), "epoch milliseconds"),
    (json.dumps({"name": "x", "database": "d", "backup_time": 1, "backup_objects": []}).encode(), "must be an object"),
])
def test_bad_job_info(data, message):
    with pytest.raises(ValueError, match=message):
        parse_job_info(data)


def test_backup_timestamp_format():
    assert parse_backup_timestamp("2024-12-09-10-25-58-842") == datetime(2024, 12, 9, 10, 25, 58, 842000,
                                                                         tzinfo=UTC)
    assert parse_backup_timestamp("2018-04-12-20-46-45-000", tz="Asia/Tokyo").utcoffset() == timedelta(hours=9)
    with pytest.raises(ValueError, match="yyyy-MM-dd-HH-mm-ss-SSS"):
        parse_backup_timestamp("2024-12-09 10:25:58")
    with pytest.raises(ValueError, match="yyyy-MM-dd-HH-mm-ss-SSS"):
        parse_job_info(job_info_doc("s", "d", TABLES), timestamp="yesterday")


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 1, 1)))
def test_timestamp_round_trip(moment):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    assert parse_backup_timestamp(format_backup_timestamp(moment)) == moment
