"""Release lines: what the emulator started with `--version X.Y.Z` accepts and answers, read from StarRocks' source
at each release line's branch point (the fork turtacn/starrocks; full hashes in `BRANCH_POINTS`).

Other emulator modules ask here instead of comparing version strings themselves: `release_line(version)` gives the
line, the predicates below say what that line has. A version newer than every known line behaves as the newest
one; an older one as 3.3 (the oldest line read).
"""

from __future__ import annotations

import re

# The commits each line's behaviour was read at (StarRocks.g4, *SystemTable.java, *ProcNode/ProcDir TITLE_NAMES).
BRANCH_POINTS = {
    (3, 3): "1a2f1f5d75c2ed021c0994b3e6f5f5562fd3c3c5",
    (3, 4): "afccab88fd5b25e63c28de56d116d7d7de51b9f5",
    (3, 5): "e223275f78876277979c366ba93d6c56c436180f",
    (4, 0): "312b0d9e4616d9bd53ad6687d0c84104e3bbe0eb",
}
RELEASE_LINES = tuple(sorted(BRANCH_POINTS))
NEWEST = RELEASE_LINES[-1]
# `--version` when none is given: the newest release line the source shows.
DEFAULT_VERSION = f"{NEWEST[0]}.{NEWEST[1]}.0"

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)")


def release_line(version: str) -> tuple[int, int]:
    """(major, minor) of the release line whose behaviour `version` gets: the newest known line at or below it."""
    match = _VERSION.match(version or "")
    if match is None:
        return NEWEST
    wanted = (int(match.group(1)), int(match.group(2)))
    known = [line for line in RELEASE_LINES if line <= wanted]
    return known[-1] if known else RELEASE_LINES[0]


def has_object_backup_syntax(line: tuple[int, int]) -> bool:
    """`BACKUP [EXTERNAL CATALOG(S) ..] [DATABASE db] SNAPSHOT l TO r ON (TABLE t, VIEW v, FUNCTION f, ALL ...)`,
    `RESTORE ... DATABASE db [AS b]`, `CANCEL ... FOR EXTERNAL CATALOG`: StarRocks.g4 `backupStatement`,
    `restoreStatement`, `backupRestoreObjectDesc` at 3.4 afccab88fd. 3.3 (1a2f1f5d75) has only
    `BACKUP SNAPSHOT db.l TO r ON (tableDesc, ...)` and `RESTORE SNAPSHOT db.l FROM r ON (restoreTableDesc, ...)`."""
    return line >= (3, 4)


def restore_creates_database(line: tuple[int, int]) -> bool:
    """RESTORE into a missing database creates it (`BackupHandler.process`: `createDb(dbName, null)` for a
    RestoreStmt, from StarRocks #52729, in 3.4 afccab88fd); at 3.3 (1a2f1f5d75) `process` answers
    `reportDdlException(ERR_BAD_DB_ERROR, dbName)` for any missing database."""
    return line >= (3, 4)


def has_drop_snapshot(line: tuple[int, int]) -> bool:
    """`DROP SNAPSHOT`: no `dropSnapshotStatement` in StarRocks.g4 at any branch point up to the fork's main
    (14f3b1b9c1, fe/fe-grammar/.../StarRocks.g4); the spec names 4.2, which the fork does not have."""
    return line >= (4, 2)


def distinct_physical_partition_ids(line: tuple[int, int]) -> bool:
    """A new partition's physical partition gets its own id (`LocalMetastore`: `physicalPartitionId =
    getNextId()`, StarRocks #50598, in 3.4 afccab88fd and later); before, the default physical partition shared the
    logical partition's id."""
    return line >= (3, 4)


def frontends_titles(line: tuple[int, int]) -> list[str]:
    """`FrontendsProcNode.TITLE_NAMES`: 4.0 (312b0d9e46) puts `Id` first."""
    titles = ["Name", "IP", "EditLogPort", "HttpPort", "QueryPort", "RpcPort", "Role", "ClusterId", "Join",
              "Alive", "ReplayedJournalId", "LastHeartbeat", "IsHelper", "ErrMsg", "StartTime", "Version"]
    return ["Id", *titles] if line >= (4, 0) else titles


def backends_titles(line: tuple[int, int]) -> list[str]:
    """`BackendsProcDir.TITLE_NAMES` (shared-nothing): MemLimit (after CpuCores) and StatusCode (last) from 3.4."""
    titles = ["BackendId", "IP", "HeartbeatPort", "BePort", "HttpPort", "BrpcPort", "LastStartTime", "LastHeartbeat",
              "Alive", "SystemDecommissioned", "ClusterDecommissioned", "TabletNum", "DataUsedCapacity",
              "AvailCapacity", "TotalCapacity", "UsedPct", "MaxDiskUsedPct", "ErrMsg", "Version", "Status",
              "DataTotalCapacity", "DataUsedPct", "CpuCores", "MemLimit", "NumRunningQueries", "MemUsedPct",
              "CpuUsedPct", "DataCacheMetrics", "Location", "StatusCode"]
    return titles if line >= (3, 4) else [t for t in titles if t not in ("MemLimit", "StatusCode")]


def partitions_titles(line: tuple[int, int], list_partitioned: bool) -> list[str]:
    """`PartitionsProcDir` shared-nothing titles (`Range` or `List` after PartitionKey, as `findRangeOrListValues`
    fills it). 3.4 adds DataVersion, VersionEpoch, VersionTxnType; 4.0 adds StorageSize after DataSize and
    TabletBalanced last."""
    titles = ["PartitionId", "PartitionName", "VisibleVersion", "VisibleVersionTime", "VisibleVersionHash", "State",
              "PartitionKey", "List" if list_partitioned else "Range", "DistributionKey", "Buckets",
              "ReplicationNum", "StorageMedium", "CooldownTime", "LastConsistencyCheckTime", "DataSize"]
    if line >= (4, 0):
        titles.append("StorageSize")
    titles += ["IsInMemory", "RowCount"]
    if line >= (3, 4):
        titles += ["DataVersion", "VersionEpoch", "VersionTxnType"]
    if line >= (4, 0):
        titles.append("TabletBalanced")
    return titles


def partitions_meta_columns(line: tuple[int, int]) -> list[str]:
    """`PartitionsMetaSystemTable` column names. 3.4 adds DATA_VERSION, VERSION_EPOCH, VERSION_TXN_TYPE after
    NEXT_VERSION; 4.0 adds STORAGE_SIZE, TABLET_BALANCED, METADATA_SWITCH_VERSION last (and DATA_SIZE becomes a
    BIGINT of bytes: `partitions_meta_data_size_is_bytes`)."""
    names = ["DB_NAME", "TABLE_NAME", "PARTITION_NAME", "PARTITION_ID", "COMPACT_VERSION", "VISIBLE_VERSION",
             "VISIBLE_VERSION_TIME", "NEXT_VERSION"]
    if line >= (3, 4):
        names += ["DATA_VERSION", "VERSION_EPOCH", "VERSION_TXN_TYPE"]
    names += ["PARTITION_KEY", "PARTITION_VALUE", "DISTRIBUTION_KEY", "BUCKETS", "REPLICATION_NUM", "STORAGE_MEDIUM",
              "COOLDOWN_TIME", "LAST_CONSISTENCY_CHECK_TIME", "IS_IN_MEMORY", "IS_TEMP", "DATA_SIZE", "ROW_COUNT",
              "ENABLE_DATACACHE", "AVG_CS", "P50_CS", "MAX_CS", "STORAGE_PATH"]
    if line >= (4, 0):
        names += ["STORAGE_SIZE", "TABLET_BALANCED", "METADATA_SWITCH_VERSION"]
    return names


def partitions_meta_data_size_is_bytes(line: tuple[int, int]) -> bool:
    """4.0 `InformationSchemaDataSource.genPartitionMetaInfo`: `setData_size(String.valueOf(storageDataSize()))`
    into a BIGINT column; before, `new ByteSizeValue(...).toString()` ("1.2KB") into a VARCHAR."""
    return line >= (4, 0)


def materialized_views_columns(line: tuple[int, int]) -> list[str]:
    """`MaterializedViewsSystemTable`: CREATOR from 3.4; LAST_REFRESH_PROCESS_TIME, LAST_REFRESH_JOB_ID from 4.0."""
    names = ["MATERIALIZED_VIEW_ID", "TABLE_SCHEMA", "TABLE_NAME", "REFRESH_TYPE", "IS_ACTIVE", "INACTIVE_REASON",
             "PARTITION_TYPE", "TASK_ID", "TASK_NAME", "LAST_REFRESH_START_TIME", "LAST_REFRESH_FINISHED_TIME",
             "LAST_REFRESH_DURATION", "LAST_REFRESH_STATE", "LAST_REFRESH_FORCE_REFRESH",
             "LAST_REFRESH_START_PARTITION", "LAST_REFRESH_END_PARTITION", "LAST_REFRESH_BASE_REFRESH_PARTITIONS",
             "LAST_REFRESH_MV_REFRESH_PARTITIONS", "LAST_REFRESH_ERROR_CODE", "LAST_REFRESH_ERROR_MESSAGE",
             "TABLE_ROWS", "MATERIALIZED_VIEW_DEFINITION", "EXTRA_MESSAGE", "QUERY_REWRITE_STATUS"]
    if line >= (3, 4):
        names.append("CREATOR")
    if line >= (4, 0):
        names += ["LAST_REFRESH_PROCESS_TIME", "LAST_REFRESH_JOB_ID"]
    return names


def base_table_type(line: tuple[int, int]) -> str:
    """`information_schema.tables.TABLE_TYPE` of an OLAP table: `Table.getMysqlType`. At the 3.5 point
    (e223275f78, #57259) it is `getTableTypeForMysql()`, "TABLE" because `mysql_server_version` is 8.0.33; #59368
    (2025-05-27, in 4.0 312b0d9e46) went back to "BASE TABLE", which 3.3 and 3.4 answer too."""
    return "TABLE" if line == (3, 5) else "BASE TABLE"
