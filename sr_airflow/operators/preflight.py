"""StarRocksMigrationPreflightOperator: both clusters reachable and able to do the migration, before any job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sr_airflow.engine.errors import UnsupportedByServerError


class StarRocksMigrationPreflightOperator(BaseOperator):
    """Check the source and the target before a migration starts.

    Both answer ``current_version()`` and run shared-nothing; the target's version is not older than the
    source's (a snapshot restores into the same or a newer StarRocks); the source database holds the requested
    tables. Pushes both versions and the source's table and partition counts.

    :param source_conn_id: the source cluster's StarRocks connection.
    :param target_conn_id: the target cluster's StarRocks connection.
    :param database: the database to migrate.
    :param tables: only these tables (names or ``{"name", ...}`` mappings); default: all.
    """

    template_fields: Sequence[str] = ("source_conn_id", "target_conn_id", "database", "tables")
    ui_color = "#fff2cc"

    def __init__(self, *, source_conn_id: str, target_conn_id: str, database: str, tables: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_conn_id = source_conn_id
        self.target_conn_id = target_conn_id
        self.database = database
        self.tables = tables

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.planner import parse_partitions_meta, partitions_meta_query
        from sr_airflow.hooks.starrocks import StarRocksHook
        from sr_airflow.operators.backup import check_server

        if self.source_conn_id == self.target_conn_id:
            raise ValueError("source_conn_id and target_conn_id name the same connection: a migration needs two "
                             "clusters (use sr_restore to restore into the same one).")
        source, target = StarRocksHook(self.source_conn_id), StarRocksHook(self.target_conn_id)
        source_version, target_version = check_server(source, self.log), check_server(target, self.log)
        if (target_version.major, target_version.minor) < (source_version.major, source_version.minor):
            raise UnsupportedByServerError(
                f"Target {self.target_conn_id} runs StarRocks {target_version}, older than the source's "
                f"{source_version}: a snapshot restores into the same or a newer version.")
        columns, rows = source.fetch(partitions_meta_query(self.database))
        states = parse_partitions_meta([dict(zip(columns, row, strict=False)) for row in rows])
        tables = {s.table for s in states}
        if not tables and (self.database,) not in [tuple(r) for r in source.get_records("SHOW DATABASES")]:
            raise ValueError(f"database {self.database!r} does not exist on {self.source_conn_id}.")
        wanted = [t if isinstance(t, str) else str(t["name"]) for t in
                  ([self.tables] if isinstance(self.tables, str) else list(self.tables or []))]
        missing = sorted(set(wanted) - tables)
        if missing:
            raise ValueError(f"tables {missing} are not in database {self.database!r} on {self.source_conn_id}.")
        result = {"source_version": str(source_version), "target_version": str(target_version),
                  "tables": len(set(wanted) or tables), "partitions": len(states)}
        self.log.info("Pre-flight OK: source %r (StarRocks %s), target %r (StarRocks %s), %d table(s), %d "
                      "partition(s).", self.source_conn_id, source_version, self.target_conn_id, target_version,
                      result["tables"], result["partitions"])
        return result
