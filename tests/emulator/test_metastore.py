"""DDL, DML, partition versions, information_schema and SHOW formats."""

from __future__ import annotations

import pytest

from tests.support.emulator_client import as_dicts, error_of, run

# SHOW titles as StarRocks 4.0 (the emulator's default version) writes them, copied from its source at the 4.0
# branch point 312b0d9e46 (fe/fe-core/src/main/java/com/starrocks/...), not from the emulator:
# common/proc/PartitionsProcDir.createTitleNames (shared-nothing branch; "Range" or "List" after PartitionKey)
PARTITIONS_4_0 = ["PartitionId", "PartitionName", "VisibleVersion", "VisibleVersionTime", "VisibleVersionHash",
                  "State", "PartitionKey", "Range", "DistributionKey", "Buckets", "ReplicationNum", "StorageMedium",
                  "CooldownTime", "LastConsistencyCheckTime", "DataSize", "StorageSize", "IsInMemory", "RowCount",
                  "DataVersion", "VersionEpoch", "VersionTxnType", "TabletBalanced"]
# qe/ShowResultMetaFactory.visitShowMaterializedViewStatement (= sql/ast/ShowMaterializedViewsStmt.META_DATA)
MATERIALIZED_VIEWS_4_0 = [
    "id", "database_name", "name", "refresh_type", "is_active", "inactive_reason", "partition_type", "task_id",
    "task_name", "last_refresh_start_time", "last_refresh_finished_time", "last_refresh_duration",
    "last_refresh_state", "last_refresh_force_refresh", "last_refresh_start_partition", "last_refresh_end_partition",
    "last_refresh_base_refresh_partitions", "last_refresh_mv_refresh_partitions", "last_refresh_error_code",
    "last_refresh_error_message", "rows", "text", "extra_message", "query_rewrite_status", "creator",
    "last_refresh_process_time", "last_refresh_job_id"]
# common/proc/FrontendsProcNode.TITLE_NAMES (ShowResultMetaFactory.visitShowFrontendsStatement)
FRONTENDS_4_0 = ["Id", "Name", "IP", "EditLogPort", "HttpPort", "QueryPort", "RpcPort", "Role", "ClusterId", "Join",
                 "Alive", "ReplayedJournalId", "LastHeartbeat", "IsHelper", "ErrMsg", "StartTime", "Version"]
# common/proc/BackendsProcDir.TITLE_NAMES (shared-nothing; ShowResultMetaFactory.visitShowBackendsStatement)
BACKENDS_4_0 = ["BackendId", "IP", "HeartbeatPort", "BePort", "HttpPort", "BrpcPort", "LastStartTime",
                "LastHeartbeat", "Alive", "SystemDecommissioned", "ClusterDecommissioned", "TabletNum",
                "DataUsedCapacity", "AvailCapacity", "TotalCapacity", "UsedPct", "MaxDiskUsedPct", "ErrMsg", "Version",
                "Status", "DataTotalCapacity", "DataUsedPct", "CpuCores", "MemLimit", "NumRunningQueries",
                "MemUsedPct", "CpuUsedPct", "DataCacheMetrics", "Location", "StatusCode"]

@pytest.fixture()
def db(cur):
    run(cur, "DROP DATABASE IF EXISTS cat")
    run(cur, "CREATE DATABASE cat")
    run(cur, "USE cat")
    return "cat"


def versions(cur, table: str) -> dict[str, tuple[int, int]]:
    rows = run(cur, "SELECT PARTITION_NAME, VISIBLE_VERSION, ROW_COUNT FROM information_schema.partitions_meta "
                    f"WHERE DB_NAME = 'cat' AND TABLE_NAME = '{table}'")
    return {name: (version, count) for name, version, count in rows}


def test_database_ddl(cur):
    run(cur, "CREATE DATABASE IF NOT EXISTS dbx")
    run(cur, "CREATE DATABASE IF NOT EXISTS dbx")
    assert error_of(cur, "CREATE DATABASE dbx") == (1007, "Can't create database 'dbx'; database exists")
    assert ("dbx",) in run(cur, "SHOW DATABASES")
    run(cur, "DROP DATABASE dbx")
    run(cur, "DROP DATABASE IF EXISTS dbx")
    assert error_of(cur, "DROP DATABASE dbx")[0] == 1008


def test_range_partitions_versions_and_partitions_meta(cur, db):
    run(cur, """CREATE TABLE sales (d DATE NOT NULL, id INT, amount DECIMAL(10, 2) SUM DEFAULT "0")
                AGGREGATE KEY(d, id) PARTITION BY RANGE(d)
                (PARTITION p2023 VALUES LESS THAN ("2024-01-01"),
                 PARTITION p2024 VALUES [("2024-01-01"), ("2025-01-01")))
                DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ("replication_num" = "1")""")
    assert versions(cur, "sales") == {"p2023": (1, 0), "p2024": (1, 0)}
    run(cur, "INSERT INTO sales VALUES ('2023-02-01', 1, 10), ('2024-02-01', 2, 20)")
    assert versions(cur, "sales") == {"p2023": (2, 1), "p2024": (2, 1)}
    run(cur, "INSERT INTO sales (d, id) SELECT d, id + 10 FROM sales WHERE d >= '2024-01-01'")
    assert versions(cur, "sales") == {"p2023": (2, 1), "p2024": (3, 2)}
    assert run(cur, "SELECT amount FROM sales WHERE id = 12") == [(0,)]
    run(cur, "INSERT INTO sales VALUES ('2024-02-01', 2, 5)")  # AGGREGATE KEY: SUM into the existing row
    assert run(cur, "SELECT amount FROM sales WHERE id = 2") == [(25,)]
    assert versions(cur, "sales") == {"p2023": (2, 1), "p2024": (4, 2)}
    with pytest.raises(Exception, match="no partition to go to"):
        run(cur, "INSERT INTO sales VALUES ('2030-01-01', 9, 1)")
    assert versions(cur, "sales") == {"p2023": (2, 1), "p2024": (4, 2)}
    run(cur, "DELETE FROM sales WHERE id = 1")
    assert versions(cur, "sales") == {"p2023": (3, 0), "p2024": (4, 2)}
    meta = as_dicts(cur, "SELECT * FROM information_schema.partitions_meta WHERE TABLE_NAME = 'sales' "
                         "AND PARTITION_NAME = 'p2024'")[0]
    assert list(meta) == ["DB_NAME", "TABLE_NAME", "PARTITION_NAME", "PARTITION_ID", "COMPACT_VERSION",
                          "VISIBLE_VERSION", "VISIBLE_VERSION_TIME", "NEXT_VERSION", "DATA_VERSION", "VERSION_EPOCH",
                          "VERSION_TXN_TYPE", "PARTITION_KEY", "PARTITION_VALUE", "DISTRIBUTION_KEY", "BUCKETS",
                          "REPLICATION_NUM", "STORAGE_MEDIUM", "COOLDOWN_TIME", "LAST_CONSISTENCY_CHECK_TIME",
                          "IS_IN_MEMORY", "IS_TEMP", "DATA_SIZE", "ROW_COUNT", "ENABLE_DATACACHE", "AVG_CS",
                          "P50_CS", "MAX_CS", "STORAGE_PATH",
                          # 4.0 (the default release line): PartitionsMetaSystemTable at 312b0d9e46
                          "STORAGE_SIZE", "TABLET_BALANCED", "METADATA_SWITCH_VERSION"]
    # 4.0 genPartitionMetaInfo: DATA_SIZE is String.valueOf(storageDataSize()) into a BIGINT (bytes)
    assert meta["BUCKETS"] == 3 and meta["ROW_COUNT"] == 2 and isinstance(meta["DATA_SIZE"], int)
    # 3.4+ genPartitionMetaInfo joins the partition Column objects: Column.toString() = Column.toSql(null)
    assert meta["PARTITION_KEY"] == '`d` date NOT NULL COMMENT ""' and meta["IS_TEMP"] == 0
    rows = as_dicts(cur, "SHOW PARTITIONS FROM sales")
    assert list(rows[0]) == PARTITIONS_4_0
    assert [(r["PartitionName"], r["VisibleVersion"], r["RowCount"]) for r in rows] == [
        ("p2023", "3", "0"), ("p2024", "4", "2")]
    assert rows[1]["Range"] == "[types: [DATE]; keys: [2024-01-01]; ..types: [DATE]; keys: [2025-01-01]; )"
    assert rows[0]["Range"] == "[types: [DATE]; keys: [0000-01-01]; ..types: [DATE]; keys: [2024-01-01]; )"
    ids = [int(r["PartitionId"]) for r in rows]  # physical partition ids (PartitionsProcDir), one per partition
    assert len(set(ids)) == 2


def test_alter_partitions_rename_swap_truncate(cur, db):
    run(cur, """CREATE TABLE ev (k INT, v STRING) DUPLICATE KEY(k) PARTITION BY RANGE(k)
                (PARTITION p1 VALUES LESS THAN ("10")) DISTRIBUTED BY HASH(k) BUCKETS 1""")
    run(cur, 'ALTER TABLE ev ADD PARTITION p2 VALUES LESS THAN ("20")')
    run(cur, "INSERT INTO ev VALUES (1, 'a'), (15, 'b')")
    assert versions(cur, "ev") == {"p1": (2, 1), "p2": (2, 1)}
    rows = as_dicts(cur, "SHOW PARTITIONS FROM ev")
    assert rows[1]["Range"] == "[types: [INT]; keys: [10]; ..types: [INT]; keys: [20]; )"
    run(cur, "ALTER TABLE ev DROP PARTITION p1")
    assert versions(cur, "ev") == {"p2": (2, 1)}
    run(cur, "CREATE TABLE ev2 (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cur, "INSERT INTO ev2 VALUES (7, 'x')")
    assert versions(cur, "ev2") == {"ev2": (2, 1)}
    run(cur, "ALTER TABLE ev SWAP WITH ev2")
    assert run(cur, "SELECT * FROM ev") == [(7, "x")]
    assert run(cur, "SELECT * FROM ev2") == [(15, "b")]
    assert versions(cur, "ev") == {"ev": (2, 1)}
    run(cur, "CREATE TABLE ev_like LIKE ev2")
    assert versions(cur, "ev_like") == {"p2": (1, 0)}
    assert run(cur, "SHOW CREATE TABLE ev_like")[0][1].replace("ev_like", "ev2") == \
        run(cur, "SHOW CREATE TABLE ev2")[0][1]
    run(cur, "ALTER TABLE ev2 RENAME ev3")
    assert run(cur, "SELECT * FROM ev3") == [(15, "b")]
    run(cur, "TRUNCATE TABLE ev3")
    assert versions(cur, "ev3") == {"p2": (1, 0)}


def test_list_and_expression_partitions(cur, db):
    run(cur, """CREATE TABLE city (id INT, c VARCHAR(10) NOT NULL) DUPLICATE KEY(id)
                PARTITION BY LIST(c) (PARTITION pn VALUES IN ("north", "n2"), PARTITION ps VALUES IN ("south"))
                DISTRIBUTED BY RANDOM""")
    run(cur, "INSERT INTO city VALUES (1, 'north'), (2, 'south'), (3, 'n2')")
    assert versions(cur, "city") == {"pn": (2, 2), "ps": (2, 1)}
    assert list(as_dicts(cur, "SHOW PARTITIONS FROM city")[0]) == [*PARTITIONS_4_0[:7], "List", *PARTITIONS_4_0[8:]]
    run(cur, """CREATE TABLE logs (ts DATETIME NOT NULL, id BIGINT, msg STRING) PRIMARY KEY(ts, id)
                PARTITION BY date_trunc('day', ts) DISTRIBUTED BY HASH(id) BUCKETS 2""")
    run(cur, "INSERT INTO logs VALUES ('2024-01-01 10:00:00', 1, 'a'), ('2024-01-02 11:00:00', 2, 'b')")
    assert versions(cur, "logs") == {"p20240101": (2, 1), "p20240102": (2, 1)}
    run(cur, "INSERT INTO logs VALUES ('2024-01-01 10:00:00', 1, 'a2')")  # upsert on the primary key
    assert versions(cur, "logs") == {"p20240101": (3, 1), "p20240102": (2, 1)}
    run(cur, "UPDATE logs SET msg = 'b2' WHERE id = 2")
    assert versions(cur, "logs") == {"p20240101": (3, 1), "p20240102": (3, 1)}
    assert run(cur, "SELECT msg FROM logs ORDER BY id") == [("a2",), ("b2",)]
    run(cur, "CREATE TABLE plain (id INT, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id)")
    assert error_of(cur, "UPDATE plain SET v = 1")[1].startswith("Getting analyzing error. Detail message: does "
                                                                "not support update")


def test_views_mvs_functions_catalogs(cur, db):
    run(cur, "CREATE TABLE base (k INT, g STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cur, "INSERT INTO base VALUES (1, 'a'), (2, 'a'), (3, 'b')")
    run(cur, "CREATE VIEW vw AS SELECT g, k FROM base WHERE k > 1")
    assert run(cur, "SELECT * FROM vw ORDER BY k") == [("a", 2), ("b", 3)]
    run(cur, "CREATE MATERIALIZED VIEW amv DISTRIBUTED BY HASH(g) REFRESH ASYNC AS SELECT g, count(*) AS n FROM "
             "base GROUP BY g")
    run(cur, "CREATE MATERIALIZED VIEW smv AS SELECT g, sum(k) FROM base GROUP BY g")
    assert run(cur, "SELECT * FROM amv ORDER BY g") == [("a", 2), ("b", 1)]
    run(cur, "INSERT INTO base VALUES (4, 'b')")
    run(cur, "REFRESH MATERIALIZED VIEW amv")
    assert run(cur, "SELECT * FROM amv ORDER BY g") == [("a", 2), ("b", 2)]
    rows = as_dicts(cur, "SHOW MATERIALIZED VIEWS")
    assert list(rows[0]) == MATERIALIZED_VIEWS_4_0
    assert [(r["name"], r["refresh_type"], r["is_active"]) for r in rows] == [("amv", "ASYNC", "true"),
                                                                             ("smv", "ROLLUP", "true")]
    run(cur, "ALTER MATERIALIZED VIEW amv INACTIVE")
    state = run(cur, "SELECT IS_ACTIVE, INACTIVE_REASON FROM information_schema.materialized_views "
                     "WHERE TABLE_NAME = 'amv'")
    assert state == [("false", "user use alter materialized view set status to inactive")]
    run(cur, "ALTER MATERIALIZED VIEW amv ACTIVE")
    assert run(cur, "SELECT IS_ACTIVE FROM information_schema.materialized_views WHERE TABLE_NAME = 'amv'") == [
        ("true",)]
    run(cur, "CREATE FUNCTION f1(INT) RETURNS INT PROPERTIES ('symbol' = 'a.B', 'type' = 'StarrocksJar', "
             "'file' = 'http://x/f.jar')")
    assert run(cur, "SHOW FUNCTIONS") == [("f1",)]
    run(cur, "CREATE EXTERNAL CATALOG cat_hive PROPERTIES ('type' = 'hive', 'hive.metastore.uris' = 'thrift://m:1')")
    assert ("cat_hive", "Hive", "") in run(cur, "SHOW CATALOGS")
    run(cur, "DROP CATALOG cat_hive")
    tables = run(cur, "SHOW FULL TABLES")
    # ShowExecutor.visitShowTableStatement: Table.getMysqlType, "VIEW" for MATERIALIZED_VIEW too
    assert tables == [("amv", "VIEW"), ("base", "BASE TABLE"), ("vw", "VIEW")]
    create = run(cur, "SHOW CREATE TABLE base")[0][1]
    assert "DUPLICATE KEY(`k`)" in create and "DISTRIBUTED BY HASH(`k`)" in create
    assert run(cur, "SHOW CREATE VIEW vw")[0][1].startswith("CREATE VIEW `vw` AS SELECT")
    assert run(cur, "SELECT TABLE_NAME, TABLE_MODEL, DISTRIBUTE_KEY FROM information_schema.tables_config "
                    "WHERE TABLE_SCHEMA = 'cat' AND TABLE_NAME = 'base'") == [("base", "DUP_KEYS", "`k`")]
    assert run(cur, "SELECT TABLE_NAME FROM information_schema.views WHERE TABLE_SCHEMA = 'cat'") == [("vw",)]
    assert run(cur, "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS FROM information_schema.tables "
                    "WHERE TABLE_SCHEMA = 'cat' AND TABLE_NAME = 'base'") == [("base", "BASE TABLE", 4)]


def test_checksum_function(cur, db):
    run(cur, "CREATE TABLE h (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cur, "INSERT INTO h VALUES (1, 'a'), (2, 'b')")
    first = run(cur, "SELECT sum(murmur_hash3_32(k, v)), count(*) FROM h")
    assert first == run(cur, "SELECT sum(murmur_hash3_32(k, v)), count(*) FROM h")
    run(cur, "CREATE TABLE hp (k INT, v STRING) DUPLICATE KEY(k) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS "
             "THAN ('10'), PARTITION p2 VALUES LESS THAN ('20')) DISTRIBUTED BY HASH(k)")
    run(cur, "INSERT INTO hp VALUES (1, 'a'), (2, 'b'), (15, 'c')")
    per_partition = run(cur, "SELECT count(*), sum(murmur_hash3_32(k, v)) FROM hp PARTITION (p1)")
    assert per_partition == run(cur, "SELECT count(*), sum(murmur_hash3_32(k, v)) FROM hp WHERE k < 10")
    assert per_partition[0][0] == 2
    assert error_of(cur, "SELECT count(*) FROM hp PARTITION (p9)")[1].endswith("Unknown partition 'p9' in table "
                                                                              "'hp'.")
    single = run(cur, "SELECT murmur_hash3_32('a')")[0][0]
    assert -2 ** 31 <= single < 2 ** 31


def test_frontends_backends(cur):
    frontends = as_dicts(cur, "SHOW FRONTENDS")
    assert list(frontends[0]) == FRONTENDS_4_0
    assert frontends[0]["Version"] == "4.0.0-e5a1b2c" and frontends[0]["Role"] == "LEADER"
    backends = as_dicts(cur, "SHOW BACKENDS")
    assert list(backends[0]) == BACKENDS_4_0 and backends[0]["Alive"] == "true"


def test_ids_are_unique_and_increasing(cur, db):
    run(cur, "CREATE TABLE i1 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    run(cur, "CREATE TABLE i2 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    ids = [r[0] for r in run(cur, "SELECT PARTITION_ID FROM information_schema.partitions_meta "
                                  "WHERE DB_NAME = 'cat' ORDER BY TABLE_NAME")]
    assert ids[0] < ids[1]


def test_load_label_delete_partition_and_admin_config(cur, db):
    run(cur, "CREATE TABLE lp (k INT, v STRING) DUPLICATE KEY(k) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS "
             "THAN ('10'), PARTITION p2 VALUES LESS THAN ('20')) DISTRIBUTED BY HASH(k)")
    run(cur, "INSERT INTO lp WITH LABEL my_label (k, v) VALUES (1, 'a'), (11, 'a')")
    run(cur, "DELETE FROM lp PARTITION p1 WHERE v = 'a'")
    assert versions(cur, "lp") == {"p1": (3, 0), "p2": (2, 1)}
    run(cur, "ADMIN SET FRONTEND CONFIG ('emulator_throughput_mbps' = '77')")
    assert run(cur, "ADMIN SHOW FRONTEND CONFIG LIKE 'emulator_throughput%'") == [
        ("emulator_throughput_mbps", "[]", "77.0", "double", "true", "")]
    assert error_of(cur, "ADMIN SET FRONTEND CONFIG ('no_such_knob' = '1')") == (
        1064, "Config 'no_such_knob' does not exist or is not mutable")
    run(cur, "ADMIN SET FRONTEND CONFIG ('emulator_throughput_mbps' = '200')")
