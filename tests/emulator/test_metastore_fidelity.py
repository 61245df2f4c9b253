"""The emulator's metastore as StarRocks keeps it, seen through BACKUP / RESTORE: physical partition ids, rollups and
synchronous MVs as indexes, temporary partitions, every column type (two emulators sharing one S3 bucket)."""

from __future__ import annotations

import json

import pytest

from tests.support.emulator_client import as_dicts, error_of, repo_sql, run, start_server, wait_job

BUCKET = "fidelity-catalog"
ALL_TYPES = """CREATE TABLE alltypes.t (
  k1 INT NOT NULL, c_boolean BOOLEAN, c_tinyint TINYINT, c_smallint SMALLINT, c_int INT, c_bigint BIGINT,
  c_largeint LARGEINT, c_float FLOAT, c_double DOUBLE, c_decimalv2 DECIMALV2(10, 2), c_decimal32 DECIMAL32(9, 2),
  c_decimal64 DECIMAL64(18, 4), c_decimal128 DECIMAL128(38, 10), c_decimal DECIMAL(10, 2),
  c_date DATE, c_datetime DATETIME, c_char CHAR(10), c_varchar VARCHAR(100), c_string STRING, c_json JSON,
  c_varbinary VARBINARY(16), c_array ARRAY<INT>, c_array2 ARRAY<ARRAY<BIGINT>>, c_map MAP<INT, VARCHAR(10)>,
  c_struct STRUCT<a INT, b VARCHAR(10)>
) DUPLICATE KEY(k1) DISTRIBUTED BY HASH(k1) BUCKETS 2"""
SKETCHES = """CREATE TABLE alltypes.s (k1 INT NOT NULL, c_hll HLL HLL_UNION NOT NULL,
  c_bitmap BITMAP BITMAP_UNION NOT NULL, c_percentile PERCENTILE PERCENTILE_UNION NOT NULL, v BIGINT SUM)
  AGGREGATE KEY(k1) DISTRIBUTED BY HASH(k1) BUCKETS 1"""


@pytest.fixture(scope="module")
def pair(emulator, emulator_b, s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    a, b = emulator.connect().cursor(), emulator_b.connect().cursor()
    run(a, repo_sql("fidrepo", BUCKET))
    run(b, repo_sql("fidrepo", BUCKET, read_only=True))
    return a, b


def files(s3_client, prefix: str) -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def read(s3_client, key: str) -> bytes:
    return s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def snapshot_files(s3_client, label: str) -> tuple[dict, dict, list[str]]:
    """(job info, __meta, all keys) of a snapshot, read straight from the bucket."""
    keys = files(s3_client, f"backup/__starrocks_repository_fidrepo/__ss_{label}/")
    info = json.loads(read(s3_client, next(k for k in keys if "/__info_" in k)))
    raw = read(s3_client, next(k for k in keys if "/__meta." in k))
    assert int.from_bytes(raw[:4], "big") == len(raw) - 4
    return info, json.loads(raw[4:]), keys


def restore(cursor, label: str, db: str, on: str = "") -> dict:
    stamp = as_dicts(cursor, f"SHOW SNAPSHOT ON fidrepo WHERE SNAPSHOT = '{label}'")[0]["Timestamp"]
    run(cursor, f"RESTORE SNAPSHOT {label} FROM fidrepo DATABASE {db} {on} "
                f"PROPERTIES ('backup_timestamp' = '{stamp}')")
    return wait_job(cursor, "RESTORE", db)


def test_physical_partition_ids_everywhere(pair, s3_client):
    a, _ = pair
    run(a, "CREATE DATABASE phys")
    run(a, "CREATE TABLE phys.sales (dt DATE NOT NULL, k1 INT NOT NULL, v BIGINT) DUPLICATE KEY(dt, k1) "
           "PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
           "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(k1) BUCKETS 2")
    run(a, "INSERT INTO phys.sales VALUES ('2024-01-05', 1, 10), ('2024-02-05', 2, 20)")
    run(a, "CREATE VIEW phys.v_sales AS SELECT dt, k1 FROM phys.sales")
    shown = {r["PartitionName"]: int(r["PartitionId"]) for r in as_dicts(a, "SHOW PARTITIONS FROM phys.sales")}
    meta_ids = dict(run(a, "SELECT PARTITION_NAME, PARTITION_ID FROM information_schema.partitions_meta "
                           "WHERE DB_NAME = 'phys' AND TABLE_NAME = 'sales'"))
    assert shown == meta_ids
    run(a, "BACKUP DATABASE phys SNAPSHOT phys1 TO fidrepo")
    assert wait_job(a, "BACKUP", "phys")["State"] == "FINISHED"
    info, meta, keys = snapshot_files(s3_client, "phys1")
    parts = info["backup_objects"]["sales"]["partitions"]
    for name, part in parts.items():
        physical = shown[name]
        assert part["id"] != physical and part["indexes"] == {}  # the logical id; tablets only per physical one
        assert list(part["subPartitions"]) == [str(physical)]
        sub = part["subPartitions"][str(physical)]
        assert (sub["id"], sub["version"]) == (physical, part["version"]) and list(sub["indexes"]) == ["sales"]
        assert any(f"/__part_{physical}/" in k for k in keys)
        logical = meta["tblNameMap"]["sales"]["idToPartition"][str(part["id"])]
        assert logical["dpid"] == physical and list(logical["idToSubPartition"]) == [str(physical)]
    assert info["backup_objects"]["v_sales"] == {"id": info["backup_objects"]["v_sales"]["id"], "partitions": {}}
    assert "autoIncrementId" not in info["backup_objects"]["sales"]
    assert meta["tblNameMap"]["v_sales"]["clazz"] == "View" and meta["tblNameMap"]["sales"]["clazz"] == "OlapTable"
    assert not any(f"/__part_{p['id']}/" in k for p in parts.values() for k in keys)


def test_rollup_and_synchronous_mv_are_indexes(pair, s3_client):
    a, b = pair
    run(a, "CREATE DATABASE idx")
    run(a, "CREATE TABLE idx.t (k1 INT NOT NULL, k2 INT NOT NULL, v INT) DUPLICATE KEY(k1, k2) "
           "DISTRIBUTED BY HASH(k1) BUCKETS 2")
    run(a, "INSERT INTO idx.t VALUES (1, 1, 10), (1, 2, 5), (2, 1, 7)")
    run(a, "ALTER TABLE idx.t ADD ROLLUP r1 (k1, v)")
    run(a, "CREATE MATERIALIZED VIEW idx.mv_k1 AS SELECT k1, SUM(v) FROM idx.t GROUP BY k1")
    assert error_of(a, "ALTER TABLE idx.t ADD ROLLUP r1 (k2)") == (1064, "Rollup index[r1] already exists")
    run(a, "BACKUP DATABASE idx SNAPSHOT idx1 TO fidrepo")
    assert wait_job(a, "BACKUP", "idx")["State"] == "FINISHED"
    info, meta, keys = snapshot_files(s3_client, "idx1")
    table = meta["tblNameMap"]["t"]
    assert set(meta["tblNameMap"]) == {"t"}  # a synchronous MV is an index of its table, not a table
    ids = table["indexNameToId"]
    assert set(ids) == {"t", "r1", "mv_k1"} and table["baseIndexId"] == ids["t"]
    assert [c["name"] for c in table["fullSchema"]] == ["k1", "k2", "v", "mv_sum_v"]
    mv = table["indexIdToMeta"][str(ids["mv_k1"])]
    assert mv["keysType"] == "AGG_KEYS" and mv["defineStmt"]["originStmt"].startswith("CREATE MATERIALIZED VIEW")
    summed = next(c for c in mv["schema"] if c["name"] == "mv_sum_v")
    assert (summed["aggregationType"], summed["type"]["type"]) == ("SUM", "BIGINT")  # SUM(INT) is a BIGINT
    # MaterializedViewHandler.checkAndPrepareMaterializedView: a duplicate-key rollup without DUPLICATE KEY takes
    # its leading columns as keys (up to 3 columns / 36 bytes, stopping at a FLOAT/DOUBLE, complex type or VARCHAR)
    rollup = table["indexIdToMeta"][str(ids["r1"])]
    assert [(c["name"], c["isKey"], c.get("aggregationType")) for c in rollup["schema"]] == [
        ("k1", True, None), ("v", True, None)]
    (part,) = info["backup_objects"]["t"]["partitions"].values()
    (sub,) = part["subPartitions"].values()
    assert {n: i["id"] for n, i in sub["indexes"].items()} == ids
    for index in sub["indexes"].values():
        assert all(any(f"/__idx_{index['id']}/__{t}/" in k for k in keys) for t in index["tablets_order"])
    assert restore(b, "idx1", "idx")["State"] == "FINISHED"
    assert run(b, "SELECT * FROM idx.mv_k1 ORDER BY 1") == run(a, "SELECT * FROM idx.mv_k1 ORDER BY 1") == [
        (1, 15), (2, 7)]
    stamp = as_dicts(b, "SHOW SNAPSHOT ON fidrepo WHERE SNAPSHOT = 'idx1'")[0]["Timestamp"]
    run(b, f"RESTORE SNAPSHOT idx1 FROM fidrepo DATABASE idx AS idx_b ON (TABLE t AS t2) "
           f"PROPERTIES ('backup_timestamp' = '{stamp}')")
    assert wait_job(b, "RESTORE", "idx_b")["State"] == "FINISHED"
    assert run(b, "SELECT * FROM idx_b.mv_k1 ORDER BY 1") == [(1, 15), (2, 7)]  # now over t2
    run(a, "DROP MATERIALIZED VIEW idx.mv_k1")
    run(a, "BACKUP DATABASE idx SNAPSHOT idx2 TO fidrepo")
    assert wait_job(a, "BACKUP", "idx")["State"] == "FINISHED"
    assert set(snapshot_files(s3_client, "idx2")[1]["tblNameMap"]["t"]["indexNameToId"]) == {"t", "r1"}


def test_temporary_partitions(pair):
    a, _ = pair
    run(a, "CREATE DATABASE tmp")
    run(a, "CREATE TABLE tmp.t (d DATE NOT NULL, v INT) DUPLICATE KEY(d) PARTITION BY RANGE(d) "
           "(PARTITION p1 VALUES [('2024-01-01'), ('2024-02-01'))) DISTRIBUTED BY HASH(d) BUCKETS 1")
    run(a, "INSERT INTO tmp.t VALUES ('2024-01-05', 1)")
    run(a, "ALTER TABLE tmp.t ADD TEMPORARY PARTITION tp1 VALUES [('2024-01-01'), ('2024-02-01'))")
    assert error_of(a, "ALTER TABLE tmp.t ADD TEMPORARY PARTITION p1 VALUES [('2024-03-01'), ('2024-04-01'))") == (
        1517, "Duplicate partition name p1")
    run(a, "INSERT INTO tmp.t TEMPORARY PARTITION (tp1) VALUES ('2024-01-07', 7), ('2024-01-08', 8)")
    assert run(a, "SELECT v FROM tmp.t ORDER BY v") == [(1,)]  # a temporary partition's rows are not the table's
    temp = as_dicts(a, "SHOW TEMPORARY PARTITIONS FROM tmp.t")
    assert [(r["PartitionName"], r["VisibleVersion"]) for r in temp] == [("tp1", "2")]
    assert error_of(a, "BACKUP DATABASE tmp SNAPSHOT tmp1 TO fidrepo ON (TABLE t)") == (
        5064, "Do not support backing up table with temp partitions")
    run(a, "ALTER TABLE tmp.t REPLACE PARTITION (p1) WITH TEMPORARY PARTITION (tp1)")
    assert run(a, "SHOW TEMPORARY PARTITIONS FROM tmp.t") == []
    (formal,) = as_dicts(a, "SHOW PARTITIONS FROM tmp.t")
    assert (formal["PartitionName"], formal["PartitionId"], formal["VisibleVersion"]) == (
        "p1", temp[0]["PartitionId"], "2")  # the temporary partition itself, under the replaced name
    assert run(a, "SELECT v FROM tmp.t ORDER BY v") == [(7,), (8,)]
    run(a, "ALTER TABLE tmp.t ADD TEMPORARY PARTITION tp2 VALUES [('2024-01-01'), ('2024-02-01'))")
    run(a, "ALTER TABLE tmp.t DROP TEMPORARY PARTITION tp2")
    run(a, "ALTER TABLE tmp.t ADD TEMPORARY PARTITION tp3 VALUES [('2024-01-01'), ('2024-02-01'))")
    run(a, "INSERT INTO tmp.t TEMPORARY PARTITION (tp3) VALUES ('2024-01-09', 9)")
    run(a, "TRUNCATE TABLE tmp.t")  # truncating the whole table drops its temporary partitions
    assert run(a, "SHOW TEMPORARY PARTITIONS FROM tmp.t") == [] and run(a, "SELECT count(*) FROM tmp.t") == [(0,)]
    run(a, "INSERT INTO tmp.t VALUES ('2024-01-05', 1)")
    run(a, "BACKUP DATABASE tmp SNAPSHOT tmp1 TO fidrepo ON (TABLE t)")
    assert wait_job(a, "BACKUP", "tmp")["State"] == "FINISHED"


def test_every_column_type_is_stored_backed_up_and_restored(pair):
    a, b = pair
    run(a, "CREATE DATABASE alltypes")
    run(a, ALL_TYPES)
    run(a, SKETCHES)
    run(a, "INSERT INTO alltypes.t (k1, c_boolean, c_tinyint, c_smallint, c_int, c_bigint, c_largeint, c_float, "
           "c_double, c_decimalv2, c_decimal32, c_decimal64, c_decimal128, c_decimal, c_date, c_datetime, c_char, "
           "c_varchar, c_string, c_json, c_array, c_array2) VALUES (1, true, -1, 2, 3, 4, "
           "170141183460469231731687303715884105727, 1.5, 2.5, 10.25, 9.5, 18.1234, 12345.0000000001, 10.2, "
           "'2024-01-02', '2024-01-02 03:04:05', 'c', 'v', 's', '{\"a\": 1}', [1, 2], [[1], [2, 3]]), (2, NULL, "
           "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
           "NULL, NULL, NULL)")
    run(a, "INSERT INTO alltypes.s VALUES (1, hll_hash('a'), to_bitmap(1), percentile_hash(1.0), 5)")
    run(a, "BACKUP DATABASE alltypes SNAPSHOT types1 TO fidrepo")
    assert wait_job(a, "BACKUP", "alltypes")["State"] == "FINISHED"
    assert restore(b, "types1", "alltypes")["State"] == "FINISHED"
    for table in ("t", "s"):
        query = f"SELECT * FROM alltypes.{table} ORDER BY k1"
        assert run(b, query) == run(a, query)
    columns = ("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.columns "
               "WHERE TABLE_SCHEMA = 'alltypes' ORDER BY TABLE_NAME, ORDINAL_POSITION")
    assert run(b, columns) == run(a, columns)
    # into an existing table of the same types (declared differently: DECIMAL(10,2) is a DECIMAL64(10,2))
    run(b, "DROP TABLE alltypes.t")
    run(b, ALL_TYPES.replace("DECIMAL64(18, 4)", "DECIMAL(18, 4)"))
    assert restore(b, "types1", "alltypes", "ON (TABLE t)")["State"] == "FINISHED"
    assert run(b, "SELECT count(*) FROM alltypes.t") == [(2,)]
    # a VARCHAR length that differs is another schema
    run(b, "DROP TABLE alltypes.t")
    run(b, ALL_TYPES.replace("VARCHAR(100)", "VARCHAR(99)"))
    job = restore(b, "types1", "alltypes", "ON (TABLE t)")
    assert job["State"] == "CANCELLED" and "already exist but with different schema" in job["Status"]


def test_release_33_formats_round_trip(tmp_path_factory, s3_server, pair, s3_client):
    """A 3.3 emulator (1a2f1f5d75: no separate physical ids, partition-level indexes, no functions/catalogs in
    __meta) backs up; it restores its own snapshot, and a 3.5 emulator restores it too."""
    _, b = pair
    old = start_server(tmp_path_factory, s3_server, version="3.3.9")
    try:
        c = old.connect().cursor()
        run(c, repo_sql("fidrepo", BUCKET))
        run(c, "CREATE DATABASE r33")
        run(c, "CREATE TABLE r33.t (d DATE NOT NULL, v INT) DUPLICATE KEY(d) PARTITION BY RANGE(d) "
               "(PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN (MAXVALUE)) "
               "DISTRIBUTED BY HASH(d) BUCKETS 2")
        run(c, "INSERT INTO r33.t VALUES ('2024-01-05', 1), ('2024-03-01', 2)")
        shown = {r["PartitionName"]: int(r["PartitionId"]) for r in as_dicts(c, "SHOW PARTITIONS FROM r33.t")}
        run(c, "BACKUP SNAPSHOT r33.s33 TO fidrepo ON (t)")
        assert wait_job(c, "BACKUP", "r33")["State"] == "FINISHED"
        info, meta, keys = snapshot_files(s3_client, "s33")
        assert set(meta) == {"tblNameMap"}
        for name, part in info["backup_objects"]["t"]["partitions"].items():
            assert part["id"] == shown[name] and part["subPartitions"] == {}
            assert [len(files) for files in part["indexes"]["t"]["tablets"].values()] == [2, 2]
            assert any(f"/__part_{shown[name]}/" in k for k in keys)
        run(c, "DROP TABLE r33.t")
        stamp = as_dicts(c, "SHOW SNAPSHOT ON fidrepo WHERE SNAPSHOT = 's33'")[0]["Timestamp"]
        run(c, f"RESTORE SNAPSHOT r33.s33 FROM fidrepo ON (t) PROPERTIES ('backup_timestamp' = '{stamp}')")
        job = wait_job(c, "RESTORE", "r33")
        assert job["State"] == "FINISHED", job["Status"]
        rows = run(c, "SELECT d, v FROM r33.t ORDER BY v")
    finally:
        old.stop()
    assert restore(b, "s33", "r33")["State"] == "FINISHED"
    assert run(b, "SELECT d, v FROM r33.t ORDER BY v") == rows and len(rows) == 2
    (p2,) = [r for r in as_dicts(b, "SHOW PARTITIONS FROM r33.t") if r["PartitionName"] == "p2"]
    assert "MAXVALUE" in p2["Range"] or "9999-12-31" in p2["Range"]  # the range read back from the range bytes
