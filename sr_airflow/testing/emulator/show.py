"""SHOW and DESC statements with StarRocks' column titles and value formats."""

from __future__ import annotations

import fnmatch
import re

from . import ddl, sqltypes, versions
from .dml import refresh_stats
from .errors import EmulatorError
from .javajson import hashmap_order, long_hash
from .layout import format_time
from .metastore import Table
from .statements import parse_show_snapshot_where
from .tokens import Cursor

# The newest release line's titles (`versions` has every line's); kept as names for callers of this module.
PARTITION_COLUMNS = versions.partitions_titles(versions.NEWEST, list_partitioned=False)
MV_COLUMNS = ["id", "database_name", "name", "refresh_type", "is_active", "inactive_reason", "partition_type",
              "task_id", "task_name", "last_refresh_start_time", "last_refresh_finished_time",
              "last_refresh_duration", "last_refresh_state", "last_refresh_force_refresh",
              "last_refresh_start_partition", "last_refresh_end_partition", "last_refresh_base_refresh_partitions",
              "last_refresh_mv_refresh_partitions", "last_refresh_error_code", "last_refresh_error_message", "rows",
              "text", "extra_message", "query_rewrite_status", "creator"]
FRONTEND_COLUMNS = versions.frontends_titles(versions.NEWEST)
BACKEND_COLUMNS = versions.backends_titles(versions.NEWEST)


_PLAIN_SHOW_JOBS = re.compile(r"SHOW\s+(BACKUP|RESTORE)(?:\s+(?:FROM|IN)\s+(?:`([^`]+)`|([A-Za-z_$][A-Za-z0-9_$]*)))?",
                              re.IGNORECASE)


def show_jobs_quickly(frontend, sql: str, session):
    """`SHOW BACKUP|RESTORE [FROM db]` in its plain form: the same checks and rows as `Show.run`, without the
    tokenizer, cheap enough to answer on the event loop while many clients poll. None for any other text."""
    match = _PLAIN_SHOW_JOBS.fullmatch(sql)
    if match is None:
        return None
    frontend.privileges.require(session, "REPOSITORY", "SYSTEM")
    is_backup = match.group(1).upper() == "BACKUP"
    db_name = match.group(2) or match.group(3)
    return frontend.br.show_jobs(is_backup, db_name, frontend.job_visible(session) if is_backup else None)


def byte_size(value: int) -> str:
    """`ByteSizeValue.toString` (monitor/unit, 3.5): the largest unit of B, KB, MB, GB, TB, PB (powers of 1024) the
    value reaches, then `Strings.format1Decimals`: one decimal **truncated**, dropped when it is 0 ("0B", "1.2KB",
    "2KB")."""
    number, suffix = float(value), "B"
    for size, unit in ((1 << 50, "PB"), (1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")):
        if value >= size:
            number, suffix = value / size, unit
            break
    whole, _, fraction = repr(number).partition(".")
    return f"{whole}{suffix}" if fraction[:1] in ("", "0") else f"{whole}.{fraction[0]}{suffix}"


def range_text(table: Table, partition) -> str:
    if table.partition_type == "LIST" or (table.partition_type == "EXPR" and not table.partition_function):
        return "(" + ", ".join("(" + ", ".join(f"'{v}'" for v in vals) + ")" for vals in partition.values) + ")"
    if table.partition_type == "UNPARTITIONED":
        return ""
    col = table.column(table.partition_columns[0])
    kind = sqltypes.display_type(col.sr_type)
    lower = partition.lower[0] if partition.lower else sqltypes.min_value(col.sr_type)
    upper = partition.upper[0] if partition.upper else sqltypes.max_value(col.sr_type)
    return f"[types: [{kind}]; keys: [{lower}]; ..types: [{kind}]; keys: [{upper}]; )"


def mv_row(db_name: str, mv: Table, rows: int) -> list:
    partition_type = "UNPARTITIONED"
    text = f"CREATE MATERIALIZED VIEW `{mv.name}` " + (
        "" if mv.refresh == "ROLLUP" else f"REFRESH {mv.refresh} ") + f"AS {mv.query_sql}"
    last = mv.partitions[0].visible_version_time if mv.partitions else mv.create_time
    refresh_type = mv.refresh.split()[0] if mv.refresh else "ASYNC"
    return [str(mv.id), db_name, mv.name, refresh_type, str(mv.is_active).lower(), mv.inactive_reason,
            partition_type, "0" if mv.refresh == "ROLLUP" else str(mv.id + 1),
            "" if mv.refresh == "ROLLUP" else f"mv-{mv.id}", format_time(last), format_time(last), "0.0",
            "SUCCESS" if mv.refresh != "ROLLUP" else "", "false", "", "", "", "", "0", "", str(rows), text, "",
            "VALID" if mv.is_active else "INVALID", "'root'@'%'"]


def in_map_order(partitions: list) -> list:
    """Partitions as `OlapTable.idToPartition` / `TempPartitions.idToPartition` (a `HashMap<Long, Partition>` keyed
    by the logical id) iterates them: `getPartitions()` / `getAllPartitions()`."""
    by_id = {p.id: p for p in partitions}
    return [by_id[i] for i in hashmap_order(by_id, long_hash)]


def shown_partitions(table: Table, temporary: bool) -> list:
    """`PartitionsProcDir.getPartitionInfos`: range partitions in ascending range order
    (`RangePartitionInfo.getSortedRangeMap(isTemp)`), the others in the partition map's order."""
    chosen = [p for p in table.partitions if p.is_temp == temporary]
    if table.partition_type == "RANGE" or (table.partition_type == "EXPR" and table.partition_function):
        column = table.column(table.partition_columns[0])

        def lower(p) -> tuple:
            return (1, sqltypes.python_value(p.lower[0], column.sr_type)) if p.lower else (0, 0)
        return sorted(chosen, key=lambda p: (*lower(p), p.id))
    return in_map_order(chosen)


class Show:
    def __init__(self, frontend):
        self.fe = frontend
        self.cluster = frontend.cluster
        self.metastore = frontend.metastore

    def run(self, cur: Cursor, session):
        cur.expect("SHOW")
        full = cur.accept("FULL")
        if cur.accept("DATABASES") or cur.accept("SCHEMAS"):
            # ShowExecutor.visitShowDatabasesStatement (3.5 e223275f78): a database the user holds nothing on or in
            # is left out (Authorizer.checkAnyActionOnOrInDb)
            names = ["information_schema", *(n for n in sorted(self.metastore.databases)
                                              if self.fe.privileges.can_see(session, n))]
            return self._like(cur, [[n] for n in names]), ["Database"]
        if cur.accept("TABLES"):
            db = self._from_db(cur, session)
            rows = []
            for table in sorted(db.tables.values(), key=lambda t: t.name):
                if table.kind == "MATERIALIZED_VIEW" and table.refresh == "ROLLUP":
                    continue
                # Table.getMysqlType (VIEW for views and MVs; a base table's word depends on the release line)
                rows.append([table.name, "VIEW" if table.kind in ("VIEW", "MATERIALIZED_VIEW") else
                             versions.base_table_type(versions.release_line(self.cluster.options.version))])
            rows = self._like(cur, rows)
            title = f"Tables_in_{db.name}"
            return (rows, [title, "Table_type"]) if full else ([r[:1] for r in rows], [title])
        if cur.accept("CREATE"):
            return self._show_create(cur, session)
        temporary = cur.accept("TEMPORARY")
        if cur.accept("PARTITIONS"):
            cur.expect("FROM")
            return self._partitions(cur, session, temporary)
        if cur.accept("MATERIALIZED", "VIEWS"):
            db = self._from_db(cur, session)
            rows = []
            for mv in sorted(db.tables.values(), key=lambda t: t.id):
                if mv.kind == "MATERIALIZED_VIEW":
                    rows.append(mv_row(db.name, mv, sum(p.row_count for p in mv.partitions)))
            rows = self._where_name(cur, rows, 2)
            if versions.release_line(self.cluster.options.version) < (3, 4):
                # ShowMaterializedViewsStmt at 3.3 (1a2f1f5d75) has no `creator` (added by 3.4 afccab88fd)
                return [row[:-1] for row in rows], MV_COLUMNS[:-1]
            if versions.release_line(self.cluster.options.version) >= (4, 0):
                # 4.0 (312b0d9e46) adds last_refresh_process_time and last_refresh_job_id
                # (ShowResultMetaFactory.visitShowMaterializedViewStatement, ShowMaterializedViewStatus.toResultSet);
                # the emulator keeps no refresh job, so the job id is empty as for a null field (addField)
                return [[*row, row[10], ""] for row in rows], [*MV_COLUMNS, "last_refresh_process_time",
                                                                "last_refresh_job_id"]
            return rows, MV_COLUMNS
        if cur.accept("FUNCTIONS"):
            db = self._from_db(cur, session)
            # ShowExecutor.visitShowFunctionsStatement (3.5 e223275f78): a function the user holds no privilege on
            # is left out (Authorizer.checkAnyActionOnFunction), never refused
            funcs = sorted((f for f in db.functions.values()
                            if self.fe.privileges.any_on(session, "FUNCTION", f"{db.name}.{f.name}")),
                           key=lambda f: f.name)
            rows = [[f.name] for f in funcs]
            rows = self._like(cur, rows)
            if full:
                full_rows = [[f.signature, f.return_type, "Scalar", "NULL", str(f.properties)] for f in funcs
                             if [f.name] in rows]
                return full_rows, ["Signature", "Return Type", "Function Type", "Intermediate Type", "Properties"]
            return rows, ["Function Name"]
        if cur.accept("CATALOGS"):
            rows = [["default_catalog", "Internal", "An internal catalog contains this cluster's self-managed "
                     "tables."]]
            rows += [[c.name, c.type.capitalize() if c.type else "", c.comment]
                     for c in sorted(self.metastore.external_catalogs.values(), key=lambda c: c.name)]
            return rows, ["Catalog", "Type", "Comment"]
        if cur.accept("FRONTENDS"):
            titles = versions.frontends_titles(versions.release_line(self.cluster.options.version))
            row = self._frontend_row()
            return [(["1"] + row) if titles[0] == "Id" else row], titles  # Id: Frontend.getFid
        if cur.accept("BACKENDS"):
            # AuthorizerStmtVisitor.visitShowBackendsStatement: OPERATE, else NODE, on SYSTEM; the message names both
            if not self.fe.privileges.allowed(session, "NODE", "SYSTEM"):
                self.fe.privileges.require(session, "OPERATE", "SYSTEM", shown_privilege="OPERATE OR NODE")
            titles = versions.backends_titles(versions.release_line(self.cluster.options.version))
            row = dict(zip(BACKEND_COLUMNS, self._backend_row(), strict=True))
            return [[row[t] for t in titles]], titles
        if cur.accept("REPOSITORIES"):
            return self.fe.br.show_repositories()
        if cur.accept("BACKUP") or cur.accept("RESTORE"):
            self.fe.privileges.require(session, "REPOSITORY", "SYSTEM")
            is_backup = cur.tokens[cur.pos - 1].upper == "BACKUP"
            db_name = cur.identifier() if (cur.accept("FROM") or cur.accept("IN")) else None
            if not is_backup and cur.accept("WHERE"):  # StarRocks.g4: showRestoreStatement only has a WHERE
                cur.rest_text()
            cur.end()
            return self.fe.br.show_jobs(is_backup, db_name,
                                        self.fe.job_visible(session) if is_backup else None)
        if cur.accept("SNAPSHOT", "ON"):
            self.fe.privileges.require(session, "REPOSITORY", "SYSTEM")
            repo = cur.identifier()
            names, timestamp = parse_show_snapshot_where(cur)
            return self.fe.br.show_snapshot(repo, names, timestamp)
        if cur.accept("COLUMNS") or cur.accept("FIELDS"):
            if not (cur.accept("FROM") or cur.accept("IN")):
                cur.fail("FROM")
            return self._columns(cur, session, full=full)
        if cur.accept("PROCESSLIST"):
            return [], ["Id", "User", "Host", "Db", "Command", "Time", "State", "Info"]
        cur.fail("a SHOW statement the emulator knows")
        return None

    def describe(self, cur: Cursor, session):
        return self._columns(cur, session, describe=True)

    def _columns(self, cur: Cursor, session, describe: bool = False, full: bool = False):
        """SHOW [FULL] COLUMNS (`ShowExecutor.visitShowColumnStatement`: Key "YES"/"NO"; FULL adds Collation,
        Privileges and Comment) and DESC of the base index (`IndexSchemaProcNode.fetchResult`: Key "true"/"false");
        Type is `canonicalName().toLowerCase()` in both."""
        parts = cur.qualified()
        if cur.accept("FROM") or cur.accept("IN"):
            parts = [cur.identifier(), parts[-1]]
        db, name = self.fe._split(parts, session)
        table = db.table(name)
        if table is None:
            raise EmulatorError(f"Getting analyzing error. Detail message: Unknown table '{db.name}.{name}'.")
        rows = []
        for column in table.columns:
            is_key = column.name in table.key_columns and table.kind == "OLAP"
            key = str(is_key).lower() if describe else ("YES" if is_key else "NO")
            try:
                shown = sqltypes.canonical_name(sqltypes.parse_type(column.sr_type, column.agg)).lower()
            except sqltypes.InvalidType:
                shown = column.sr_type.lower()
            null = "YES" if column.nullable else "NO"
            if full:
                rows.append([column.name, shown, "", null, key, column.default, column.agg or "", "",
                             column.comment or ""])
            else:
                rows.append([column.name, shown, null, key, column.default, column.agg or ""])
        if full:
            return rows, ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
        return rows, ["Field", "Type", "Null", "Key", "Default", "Extra"]

    def _from_db(self, cur: Cursor, session):
        name = cur.identifier() if (cur.accept("FROM") or cur.accept("IN")) else None
        return self.fe._db(name, session)

    def _like(self, cur: Cursor, rows: list) -> list:
        if cur.accept("LIKE"):
            pattern = cur.string().replace("%", "*").replace("_", "?")
            rows = [r for r in rows if fnmatch.fnmatchcase(r[0].lower(), pattern.lower())]
        return rows

    def _where_name(self, cur: Cursor, rows: list, index: int) -> list:
        if cur.accept("LIKE"):
            pattern = cur.string().replace("%", "*").replace("_", "?")
            return [r for r in rows if fnmatch.fnmatchcase(r[index], pattern)]
        if cur.accept("WHERE"):
            cur.identifier()
            cur.expect("=")
            name = cur.string()
            return [r for r in rows if r[index] == name]
        return rows

    def _show_create(self, cur: Cursor, session):
        kind = "TABLE"
        if cur.accept("VIEW"):
            kind = "VIEW"
        elif cur.accept("MATERIALIZED", "VIEW"):
            kind = "MATERIALIZED_VIEW"
        else:
            cur.expect("TABLE")
        db, name = self.fe._split(cur.qualified(), session)
        table = db.table(name)
        if table is None:
            raise EmulatorError(f"Getting analyzing error. Detail message: Unknown table '{db.name}.{name}'.")
        if table.kind == "VIEW":
            return ([[table.name, f"CREATE VIEW `{table.name}` AS {table.query_sql}", "utf8", "utf8_general_ci"]],
                    ["View", "Create View", "character_set_client", "collation_connection"])
        if table.kind == "MATERIALIZED_VIEW":
            refresh = "" if table.refresh == "ROLLUP" else f"\nREFRESH {table.refresh}"
            text = f"CREATE MATERIALIZED VIEW `{table.name}`{refresh}\nAS {table.query_sql};"
            return [[table.name, text]], ["Materialized View", "Create Materialized View"]
        if kind != "TABLE":
            raise EmulatorError(f"Getting analyzing error. Detail message: Table '{name}' is not a view.")
        return [[table.name, ddl.create_table_sql(table)]], ["Table", "Create Table"]

    def _partitions(self, cur: Cursor, session, temporary: bool):
        """`PartitionsProcDir.getOlapPartitionInfo` (shared-nothing): PartitionId is the physical partition's id,
        titles and columns as the release line has them (`versions.partitions_titles`)."""
        db, table = self.fe._table(cur.qualified(), session, ("OLAP", "MATERIALIZED_VIEW"))
        with self.cluster.lock:
            refresh_stats(self.cluster.store, table)
        line = versions.release_line(self.cluster.options.version)
        is_list = table.partition_type == "LIST" or (table.partition_type == "EXPR" and not table.partition_function)
        columns = versions.partitions_titles(line, is_list)
        rows = []
        for p in shown_partitions(table, temporary):
            values = {
                "PartitionId": str(p.physical_id), "PartitionName": p.name,
                "VisibleVersion": str(p.visible_version), "VisibleVersionTime": format_time(p.visible_version_time),
                "VisibleVersionHash": "0", "State": "NORMAL", "PartitionKey": ", ".join(table.partition_columns),
                "Range": range_text(table, p), "List": range_text(table, p),
                "DistributionKey": ", ".join(table.distribution_columns) if table.distribution == "HASH" else "ALL KEY",
                "Buckets": str(len(p.tablet_ids)), "ReplicationNum": table.properties.get("replication_num", "3"),
                "StorageMedium": "HDD", "CooldownTime": "9999-12-31 23:59:59", "LastConsistencyCheckTime": None,
                "DataSize": byte_size(p.data_size), "StorageSize": byte_size(p.data_size), "IsInMemory": "false",
                "RowCount": str(p.row_count), "DataVersion": str(p.visible_version),
                "VersionEpoch": str(p.version_epoch),
                "VersionTxnType": "TXN_NORMAL", "TabletBalanced": "true"}
            rows.append([values[c] for c in columns])
        if cur.accept("WHERE"):
            cur.identifier()
            cur.expect("=")
            name = cur.string()
            rows = [r for r in rows if r[1] == name]
        return rows, columns

    def _frontend_row(self) -> list:
        started = format_time(self.cluster.start_time)
        return [f"127.0.0.1_9010_{int(self.cluster.start_time * 1000)}", "127.0.0.1", "9010", "8030",
                str(self.cluster.port), "9020", "LEADER", "1", "true", "true", str(self.metastore.next_id),
                format_time(self.cluster.start_time), "true", "", started, self.cluster.full_version]

    def _backend_row(self) -> list:
        tablets = sum(len(p.tablet_ids) for db in self.metastore.databases.values() for t in db.tables.values()
                      for p in t.partitions)
        used = sum(p.data_size for db in self.metastore.databases.values() for t in db.tables.values()
                   for p in t.partitions)
        started = format_time(self.cluster.start_time)
        return ["10001", "127.0.0.1", "9050", "9060", "8040", "8060", started, started, "true", "false",
                "false", str(tablets), byte_size(used), "100.000 GB", "200.000 GB", "50.00 %", "50.00 %", "",
                self.cluster.full_version, '{"lastSuccessReportTabletsTime":"N/A"}', "100.000 GB", "0.00 %",
                "2", "8.000GB", "0", "0.00 %", "0.0 %", "N/A", "", "OK"]
