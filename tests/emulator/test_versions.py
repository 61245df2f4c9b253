"""`--version` is behaviour: the syntax, SHOW titles and information_schema columns of each release line.

Expected values are written out from StarRocks' source at each line's branch point in the fork (3.3 1a2f1f5d75,
3.5 e223275f78, 4.0 312b0d9e46): StarRocks.g4, FrontendsProcNode.TITLE_NAMES, PartitionsProcDir's title builder,
*SystemTable.java, Table.getMysqlType, and the parser's error texts (ParsingException.getMessage,
ParserErrorMsg.unexpectedInput / noViableStatement). The emulator matches the *shape* of a syntax error (position of
the offending token, its text, the message kind); the expected-token set after "the most similar input is" is the
emulator's own and is not compared.
"""

from __future__ import annotations

import re

import pytest

from sr_airflow.testing.emulator.versions import release_line
from tests.support.emulator_client import as_dicts, error_of, run, start_server


@pytest.mark.parametrize(("version", "line"), [("3.3.9", (3, 3)), ("3.4.1", (3, 4)), ("3.5.2-e5a1b2c", (3, 5)),
                                               ("4.0.0", (4, 0)), ("4.1.2", (4, 0)), ("2.5.0", (3, 3))])
def test_release_line(version, line):
    """A version behaves as the newest release line read at or below it (the fork has 3.3, 3.4, 3.5 and 4.0 branch
    points); older than every line reads as 3.3."""
    assert release_line(version) == line


@pytest.fixture(scope="module")
def v33(tmp_path_factory, s3_server):
    server = start_server(tmp_path_factory, s3_server, version="3.3.9")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def v35(tmp_path_factory, s3_server):
    server = start_server(tmp_path_factory, s3_server, version="3.5.2")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lines(v33, v35, emulator):
    """A cursor per release line (the shared `emulator` runs the default, 4.0), each with a database `vdb` holding a
    range-partitioned table `t` and an async MV."""
    conns = {"3.3": v33.connect(), "3.5": v35.connect(), "4.0": emulator.connect()}
    cursors = {}
    for name, conn in conns.items():
        cur = conn.cursor()
        run(cur, "DROP DATABASE IF EXISTS vdb")
        run(cur, "CREATE DATABASE vdb")
        run(cur, "USE vdb")
        run(cur, "CREATE TABLE t (k INT NOT NULL, v BIGINT) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
                 "(PARTITION p1 VALUES LESS THAN ('10')) DISTRIBUTED BY HASH(k) BUCKETS 1")
        run(cur, "INSERT INTO t VALUES (1, 2)")
        run(cur, "CREATE MATERIALIZED VIEW mv REFRESH MANUAL AS SELECT k, sum(v) AS s FROM t GROUP BY k")
        cursors[name] = cur
    yield cursors
    for conn in conns.values():
        conn.close()


def syntax_error(column: int, token: str) -> str:
    """ParsingException.getMessage for a mismatched token: position (ANTLR's 0-based column), then
    ParserErrorMsg.unexpectedInput."""
    return (rf"^Getting syntax error at line 1, column {column}\. Detail message: "
            rf"Unexpected input '{re.escape(token)}', the most similar input is \{{.*\}}\.$")


# StarRocks.g4 at 3.3: `backupStatement : BACKUP SNAPSHOT qualifiedName TO identifier (ON '(' tableDesc ...` and
# `restoreStatement : RESTORE SNAPSHOT qualifiedName FROM identifier (ON '(' restoreTableDesc ...`,
# `cancelBackupStatement : CANCEL BACKUP ((FROM | IN) identifier)?`; TABLE and ALL are reserved words there.
REFUSED_BY_33 = [
    ("BACKUP DATABASE vdb SNAPSHOT l1 TO repo", 7, "DATABASE"),
    ("BACKUP EXTERNAL CATALOG (hive1) SNAPSHOT l1 TO repo", 7, "EXTERNAL"),
    ("BACKUP SNAPSHOT vdb.l1 TO repo ON (TABLE t)", 35, "TABLE"),
    ("BACKUP SNAPSHOT vdb.l1 TO repo ON (ALL TABLES)", 35, "ALL"),
    ("BACKUP SNAPSHOT vdb.l1 TO repo ON (VIEW v1)", 40, "v1"),
    ("RESTORE SNAPSHOT vdb.l1 FROM repo DATABASE vdb", 34, "DATABASE"),
    ("RESTORE SNAPSHOT vdb.l1 FROM repo ALL EXTERNAL CATALOGS", 34, "ALL"),
    ("CANCEL BACKUP FOR EXTERNAL CATALOG", 14, "FOR"),
]


@pytest.mark.parametrize(("sql", "column", "token"), REFUSED_BY_33, ids=[s for s, _, _ in REFUSED_BY_33])
def test_33_refuses_the_34_forms_with_a_syntax_error(lines, sql, column, token):
    code, message = error_of(lines["3.3"], sql)
    assert code == 1064 and re.match(syntax_error(column, token), message), message


@pytest.mark.parametrize("line", ["3.3", "3.5", "4.0"])
def test_legacy_form_parses_on_every_line(lines, line):
    """`BACKUP SNAPSHOT db.label TO repo ON (t PARTITION (p))` is in every line's grammar: refused only because the
    repository does not exist, never as a syntax error."""
    code, message = error_of(lines[line], "BACKUP SNAPSHOT vdb.l2 TO no_such_repo ON (t PARTITION (p1))")
    assert "syntax error" not in message and "no_such_repo" in message, message
    _, message = error_of(lines[line], "RESTORE SNAPSHOT vdb.l2 FROM no_such_repo ON (t AS t2) "
                                       "PROPERTIES ('backup_timestamp' = '2024-01-01-00-00-00-000')")
    assert "syntax error" not in message, message


@pytest.mark.parametrize("line", ["3.5", "4.0"])
def test_34_forms_parse_from_34(lines, line):
    _, message = error_of(lines[line], "BACKUP DATABASE vdb SNAPSHOT l3 TO no_such_repo ON (TABLE t, ALL VIEWS)")
    assert "syntax error" not in message and "no_such_repo" in message, message


@pytest.mark.parametrize("line", ["3.3", "3.5", "4.0"])
def test_show_backup_has_no_where(lines, line):
    """StarRocks.g4 `showBackupStatement : SHOW BACKUP ((FROM | IN) identifier)?` on every line, while
    `showRestoreStatement` ends in `(WHERE where=expression)?`."""
    code, message = error_of(lines[line], "SHOW BACKUP FROM vdb WHERE SnapshotName = 'x'")
    assert code == 1064 and re.match(syntax_error(21, "WHERE"), message), message
    run(lines[line], "SHOW RESTORE FROM vdb WHERE Label = 'x'")


@pytest.mark.parametrize("line", ["3.3", "3.5", "4.0"])
def test_drop_snapshot_is_no_statement_of_these_lines(lines, line):
    """No `dropSnapshotStatement` in StarRocks.g4 up to the fork's main: the prediction fails on SNAPSHOT, reported by
    StarRocksDefaultErrorStrategy.reportNoViableAlternative as ParserErrorMsg.noViableStatement."""
    assert error_of(lines[line], "DROP SNAPSHOT l1 ON repo") == (
        1064, "Getting syntax error at line 1, column 5. Detail message: No viable statement for input "
              "'DROP SNAPSHOT'.")


FRONTENDS_33_35 = ["Name", "IP", "EditLogPort", "HttpPort", "QueryPort", "RpcPort", "Role", "ClusterId", "Join",
                   "Alive", "ReplayedJournalId", "LastHeartbeat", "IsHelper", "ErrMsg", "StartTime", "Version"]


@pytest.mark.parametrize(("line", "titles"), [("3.3", FRONTENDS_33_35), ("3.5", FRONTENDS_33_35),
                                              ("4.0", ["Id", *FRONTENDS_33_35])])
def test_show_frontends_titles(lines, line, titles):
    """FrontendsProcNode.TITLE_NAMES: `Id` first from 4.0."""
    rows = as_dicts(lines[line], "SHOW FRONTENDS")
    assert list(rows[0]) == titles


BACKENDS_34 = ["BackendId", "IP", "HeartbeatPort", "BePort", "HttpPort", "BrpcPort", "LastStartTime", "LastHeartbeat",
               "Alive", "SystemDecommissioned", "ClusterDecommissioned", "TabletNum", "DataUsedCapacity",
               "AvailCapacity", "TotalCapacity", "UsedPct", "MaxDiskUsedPct", "ErrMsg", "Version", "Status",
               "DataTotalCapacity", "DataUsedPct", "CpuCores", "MemLimit", "NumRunningQueries", "MemUsedPct",
               "CpuUsedPct", "DataCacheMetrics", "Location", "StatusCode"]


@pytest.mark.parametrize(("line", "titles"), [
    ("3.3", [t for t in BACKENDS_34 if t not in ("MemLimit", "StatusCode")]), ("3.5", BACKENDS_34),
    ("4.0", BACKENDS_34)])
def test_show_backends_titles(lines, line, titles):
    """BackendsProcDir.TITLE_NAMES (shared-nothing): MemLimit and StatusCode from 3.4."""
    rows = as_dicts(lines[line], "SHOW BACKENDS")
    assert list(rows[0]) == titles and rows[0]["Alive"] == "true"


PARTITIONS_33 = ["PartitionId", "PartitionName", "VisibleVersion", "VisibleVersionTime", "VisibleVersionHash",
                 "State", "PartitionKey", "Range", "DistributionKey", "Buckets", "ReplicationNum", "StorageMedium",
                 "CooldownTime", "LastConsistencyCheckTime", "DataSize", "IsInMemory", "RowCount"]
PARTITIONS_35 = [*PARTITIONS_33, "DataVersion", "VersionEpoch", "VersionTxnType"]
PARTITIONS_40 = [*PARTITIONS_33[:15], "StorageSize", "IsInMemory", "RowCount", "DataVersion", "VersionEpoch",
                 "VersionTxnType", "TabletBalanced"]


@pytest.mark.parametrize(("line", "titles"), [("3.3", PARTITIONS_33), ("3.5", PARTITIONS_35),
                                              ("4.0", PARTITIONS_40)])
def test_show_partitions_titles(lines, line, titles):
    """PartitionsProcDir's shared-nothing title builder at each branch point."""
    assert list(as_dicts(lines[line], "SHOW PARTITIONS FROM t")[0]) == titles


META_33 = ["DB_NAME", "TABLE_NAME", "PARTITION_NAME", "PARTITION_ID", "COMPACT_VERSION", "VISIBLE_VERSION",
           "VISIBLE_VERSION_TIME", "NEXT_VERSION", "PARTITION_KEY", "PARTITION_VALUE", "DISTRIBUTION_KEY", "BUCKETS",
           "REPLICATION_NUM", "STORAGE_MEDIUM", "COOLDOWN_TIME", "LAST_CONSISTENCY_CHECK_TIME", "IS_IN_MEMORY",
           "IS_TEMP", "DATA_SIZE", "ROW_COUNT", "ENABLE_DATACACHE", "AVG_CS", "P50_CS", "MAX_CS", "STORAGE_PATH"]
META_35 = [*META_33[:8], "DATA_VERSION", "VERSION_EPOCH", "VERSION_TXN_TYPE", *META_33[8:]]
META_40 = [*META_35, "STORAGE_SIZE", "TABLET_BALANCED", "METADATA_SWITCH_VERSION"]


@pytest.mark.parametrize(("line", "names"), [("3.3", META_33), ("3.5", META_35), ("4.0", META_40)])
def test_partitions_meta_columns(lines, line, names):
    """PartitionsMetaSystemTable; DATA_SIZE is `ByteSizeValue.toString()` ("12B", "1.2KB") in a VARCHAR before 4.0
    and the byte count in a BIGINT at 4.0 (genPartitionMetaInfo); PARTITION_KEY is the column name at 3.3
    (findPartitionColNames) and `Column.toString()` after."""
    row = as_dicts(lines[line], "SELECT * FROM information_schema.partitions_meta WHERE DB_NAME = 'vdb' "
                                "AND TABLE_NAME = 't'")[0]
    assert list(row) == names
    if line == "4.0":
        assert isinstance(row["DATA_SIZE"], int)
    else:
        assert re.fullmatch(r"\d+(\.\d)?(B|KB|MB|GB)", row["DATA_SIZE"]), row["DATA_SIZE"]
    assert row["PARTITION_KEY"] == ("k" if line == "3.3" else '`k` int(11) NOT NULL COMMENT ""')


MVS_33 = ["MATERIALIZED_VIEW_ID", "TABLE_SCHEMA", "TABLE_NAME", "REFRESH_TYPE", "IS_ACTIVE", "INACTIVE_REASON",
          "PARTITION_TYPE", "TASK_ID", "TASK_NAME", "LAST_REFRESH_START_TIME", "LAST_REFRESH_FINISHED_TIME",
          "LAST_REFRESH_DURATION", "LAST_REFRESH_STATE", "LAST_REFRESH_FORCE_REFRESH", "LAST_REFRESH_START_PARTITION",
          "LAST_REFRESH_END_PARTITION", "LAST_REFRESH_BASE_REFRESH_PARTITIONS", "LAST_REFRESH_MV_REFRESH_PARTITIONS",
          "LAST_REFRESH_ERROR_CODE", "LAST_REFRESH_ERROR_MESSAGE", "TABLE_ROWS", "MATERIALIZED_VIEW_DEFINITION",
          "EXTRA_MESSAGE", "QUERY_REWRITE_STATUS"]


@pytest.mark.parametrize(("line", "names"), [("3.3", MVS_33), ("3.5", [*MVS_33, "CREATOR"]),
                                              ("4.0", [*MVS_33, "CREATOR", "LAST_REFRESH_PROCESS_TIME",
                                                       "LAST_REFRESH_JOB_ID"])])
def test_materialized_views_columns(lines, line, names):
    """MaterializedViewsSystemTable at each branch point."""
    rows = as_dicts(lines[line], "SELECT * FROM information_schema.materialized_views WHERE TABLE_SCHEMA = 'vdb'")
    assert list(rows[0]) == names and rows[0]["TABLE_NAME"] == "mv"


SHOW_MVS_33 = ["id", "database_name", "name", "refresh_type", "is_active", "inactive_reason", "partition_type",
               "task_id", "task_name", "last_refresh_start_time", "last_refresh_finished_time", "last_refresh_duration",
               "last_refresh_state", "last_refresh_force_refresh", "last_refresh_start_partition",
               "last_refresh_end_partition", "last_refresh_base_refresh_partitions",
               "last_refresh_mv_refresh_partitions", "last_refresh_error_code", "last_refresh_error_message", "rows",
               "text", "extra_message", "query_rewrite_status"]


@pytest.mark.parametrize(("line", "titles"), [("3.3", SHOW_MVS_33), ("3.5", [*SHOW_MVS_33, "creator"]),
                                               ("4.0", [*SHOW_MVS_33, "creator", "last_refresh_process_time",
                                                        "last_refresh_job_id"])])
def test_show_materialized_views_titles(lines, line, titles):
    """sql/ast/ShowMaterializedViewsStmt at 3.3 and 3.5 (`creator` from 3.4), qe/ShowResultMetaFactory at 4.0."""
    rows = as_dicts(lines[line], "SHOW MATERIALIZED VIEWS FROM vdb")
    assert list(rows[0]) == titles and rows[0]["name"] == "mv"


def test_run_mode_config_on_every_line(lines):
    """Config.run_mode exists on every line (the product's shared-data check)."""
    for cur in lines.values():
        assert run(cur, "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'")[0][2] == "shared_nothing"


@pytest.mark.parametrize(("line", "word"), [("3.3", "BASE TABLE"), ("3.5", "TABLE"), ("4.0", "BASE TABLE")])
def test_base_table_type(lines, line, word):
    """Table.getMysqlType: at the 3.5 point getTableTypeForMysql() ("TABLE" for mysql_server_version 8.0.33, #57259),
    "BASE TABLE" before and again at 4.0 (#59368); information_schema.tables and SHOW FULL TABLES agree."""
    assert run(lines[line], "SELECT TABLE_TYPE FROM information_schema.tables WHERE TABLE_SCHEMA = 'vdb' "
                            "AND TABLE_NAME = 't'") == [(word,)]
    assert dict(run(lines[line], "SHOW FULL TABLES FROM vdb")) == {"t": word, "mv": "VIEW"}
