"""The emulator's models of Java's writers (pure functions, no server): `java.util.HashMap` iteration order,
`org.json` text, GSON text, `RangeUtils.writeRange` bytes and the id order of a new partition."""

from __future__ import annotations

from sr_airflow.testing.emulator import jobinfo, partitionkeys
from sr_airflow.testing.emulator.javajson import gson_text, hashmap_order, long_hash, org_json, string_hash
from sr_airflow.testing.emulator.metastore import Column, Index, Metastore, Table


def test_java_hash_codes():
    # String.hashCode: s[0]*31^(n-1) + ... in int arithmetic; "polygenelubricants" is the classic Integer.MIN_VALUE
    assert string_hash("hello") == 99162322
    assert string_hash("polygenelubricants") == -2147483648
    assert string_hash("Aa") == string_hash("BB") == 2112
    assert long_hash(-1) == 0 and long_hash(10005) == 10005 and long_hash(1 << 32) == 1


def test_hashmap_order_buckets_then_insertion():
    # capacity 16: bucket = (h ^ h >>> 16) & 15; "Aa" and "BB" collide (2112 -> bucket 0) and keep insertion order
    assert hashmap_order(["BB", "b", "Aa", "a"], string_hash) == ["BB", "Aa", "a", "b"]
    # 13 keys exceed 3/4 of 16: the table has 32 buckets, so 16 and 0 no longer share one
    keys = list(range(12, -1, -1)) + [16]
    assert hashmap_order(keys, long_hash)[:3] == [0, 1, 2] and hashmap_order(keys, long_hash)[-1] == 16


def test_job_info_top_level_key_order():
    """BackupJobInfo.toJson(true): a JSONObject (HashMap) of these eight keys iterates in this order."""
    info = jobinfo.job_info("snap1", "db1", 10001, 1733739958842, [], True)
    assert list(info) == ["database", "meta_version", "backup_time", "name", "starrocks_meta_version",
                          "backup_result", "id", "backup_objects"]
    assert jobinfo.info_text(info).startswith('{"database":"db1","meta_version":92,"backup_time":1733739958842,')


def test_org_json_indented_form():
    """JSONObject.toString(1): a one-key object stays on its line, others list one key per line, `": "`."""
    assert org_json({"a": {"b": {}}, "c": [1, 2]}, 1) == '{\n "a": {"b": {}},\n "c": [\n  1,\n  2\n ]\n}'
    assert org_json({"url": "</x>"}) == '{"url":"<\\/x>"}'


def test_gson_text_is_compact_and_html_safe():
    assert gson_text({"s": "a<b>&c='d'", "n": 1.0}) == '{"s":"a\\u003cb\\u003e\\u0026c\\u003d\\u0027d\\u0027","n":1.0}'


def test_range_bytes_round_trip():
    """RangeUtils.writeRange of [lower, upper): booleans, then PartitionKey.write (count, type name, isMax, value)."""
    date = Column("d", "DATE")
    data = partitionkeys.serialize_range([date], ["2024-01-01"], ["2024-02-01"])
    assert data[:2] == [1, 1] and all(-128 <= b <= 127 for b in data)
    assert partitionkeys.deserialize_range(data) == (["2024-01-01"], ["2024-02-01"])
    assert partitionkeys.deserialize_range(partitionkeys.serialize_range([date], None, None)) == (["0000-01-01"], None)
    number = Column("k", "BIGINT")
    assert partitionkeys.deserialize_range(partitionkeys.serialize_range([number], ["-5"], ["7"])) == (["-5"], ["7"])


def test_new_partition_draws_ids_in_starrocks_order(tmp_path):
    """LocalMetastore.createPartition (3.4+): logical id, physical id, then per index (hash order of index ids) its
    tablets, each followed by its replicas' ids; 3.3 draws no physical id."""
    table = Table(id=1, name="t", kind="OLAP", base_index_id=100, properties={"replication_num": "2"})
    table.rollups.append(Index(id=96, name="r", columns=[]))
    metastore = Metastore(tmp_path / "c.json")
    metastore.next_id = 1000
    partition = metastore.new_partition("p", 2, table=table)
    assert (partition.id, partition.physical_id) == (1001, 1002)
    # index 96 (bucket 0) before 100 (bucket 4): its tablets 1003, 1006; the base index's 1009, 1012
    assert partition.rollup_tablets == {"96": [1003, 1006]} and partition.tablet_ids == [1009, 1012]
    old = Metastore(tmp_path / "c33.json", physical_ids=False)
    old.next_id = 1000
    assert old.new_partition("p", 1, table=table).physical_id == 1001
