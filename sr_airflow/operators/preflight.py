"""StarRocksMigrationPreflightOperator: both clusters reachable and able to do the migration, before any job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sr_airflow.engine.errors import UnsupportedByServerError


class StarRocksMigrationPreflightOperator(BaseOperator):
    """Check the source and the target before a migration starts.

    Both answer ``current_version()`` and run shared-nothing (``source_run_mode`` / ``target_run_mode``: "unknown",
    with a warning, when the user may not read it); the target's version is not older than the source's (a snapshot
    restores into the same or a newer StarRocks); the source database holds the requested tables. For a large
    migration, the BE items that bound its parallelism (``engine/be_tuning.py``) are read where the user may and a
    hint is logged for each that will make it slow (``be_tuning_hints``). The source's user must hold REPOSITORY
    and EXPORT on the database, the target's REPOSITORY (``operators/privileges.py``, from their own SHOW GRANTS;
    ``privileges``: "checked", or "not checked" when the grants cannot be judged): a missing one stops the
    migration with the GRANT to add. Pushes both versions and the source's table and partition counts.

    :param source_conn_id: the source cluster's StarRocks connection.
    :param target_conn_id: the target cluster's StarRocks connection.
    :param database: the database to migrate.
    :param tables: only these tables (names or ``{"name", ...}`` mappings); default: all.
    :param large_job: what counts as a large migration for the tuning hints, ``{"partitions": n, "bytes": n}``
        (default: ``engine/be_tuning.py``'s 1,000 partitions or 100 GiB, and why).
    """

    template_fields: Sequence[str] = ("source_conn_id", "target_conn_id", "database", "tables")
    ui_color = "#fff2cc"

    def __init__(self, *, source_conn_id: str, target_conn_id: str, database: str, tables: Any = None,
                 large_job: dict[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_conn_id = source_conn_id
        self.target_conn_id = target_conn_id
        self.database = database
        self.tables = tables
        self.large_job = dict(large_job or {})
        if set(self.large_job) - {"partitions", "bytes"}:
            raise ValueError(f"large_job takes 'partitions' and 'bytes', not {sorted(set(self.large_job))}.")

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.scope_args import named_tables
        from sr_airflow.hooks.starrocks import StarRocksHook

        if self.source_conn_id == self.target_conn_id:
            raise ValueError("source_conn_id and target_conn_id name the same connection: a migration needs two "
                             "clusters (use sr_restore to restore into the same one).")
        source, target = StarRocksHook(self.source_conn_id), StarRocksHook(self.target_conn_id)
        source_version, target_version = source.server_version(), target.server_version()
        source_mode, target_mode = source.readable_run_mode(self.log), target.readable_run_mode(self.log)
        if (target_version.major, target_version.minor) < (source_version.major, source_version.minor):
            raise UnsupportedByServerError(
                f"Target {self.target_conn_id} runs StarRocks {target_version}, older than the source's "
                f"{source_version}: a snapshot restores into the same or a newer version.")
        from sr_airflow.operators.privileges import check_migration_privileges

        privileges = check_migration_privileges(source, target, self.database, self.log,
                                                source_conn_id=self.source_conn_id, target_conn_id=self.target_conn_id)
        states = source.partitions_meta(self.database)
        tables = {s.table for s in states}
        if not tables and not source.database_exists(self.database):
            raise ValueError(f"database {self.database!r} does not exist on {self.source_conn_id}.")
        wanted = list(named_tables(self.tables) or {})
        missing = sorted(set(wanted) - tables)
        if missing:
            raise ValueError(f"tables {missing} are not in database {self.database!r} on {self.source_conn_id}.")
        chosen = [s for s in states if not wanted or s.table in wanted]
        data_bytes = sum(s.data_size or 0 for s in chosen)
        size = {"partitions": len(chosen), "data_bytes": data_bytes, **{f"large_{k}": int(v) for k, v in
                                                                         self.large_job.items()}}
        hints = [*be_tuning_hints(source, self.source_conn_id, "backup", size, self.log),
                 *be_tuning_hints(target, self.target_conn_id, "restore", size, self.log)]
        result = {"source_version": str(source_version), "target_version": str(target_version),
                  "source_run_mode": source_mode, "target_run_mode": target_mode, "privileges": privileges,
                  "tables": len(set(wanted) or tables), "partitions": len(states), "be_tuning_hints": hints}
        self.log.info("Pre-flight OK: source %r (StarRocks %s), target %r (StarRocks %s), %d table(s), %d "
                      "partition(s).", self.source_conn_id, source_version, self.target_conn_id, target_version,
                      result["tables"], result["partitions"])
        return result


def be_tuning_hints(hook: Any, conn_id: str, job: str, size: dict[str, int], log: Any) -> list[str]:
    """Log and return the hints for ``job`` on this cluster; one info line when be_configs cannot be read.

    ``size``: ``partitions`` and ``data_bytes`` of the job, optionally ``large_partitions`` / ``large_bytes``."""
    from sr_airflow.engine.be_tuning import large_job_reason, tuning_hints

    if large_job_reason(**size) is None:
        return []
    try:
        configs = hook.be_configs()
    except Exception as exc:  # noqa: BLE001 - a hint is never worth a failure
        log.info("Could not read the BE configuration of %r for tuning hints (%s); GRANT OPERATE ON SYSTEM lets "
                 "pre-flight read information_schema.be_configs.", conn_id, exc)
        return []
    hints = [f"{conn_id}: {h}" for h in tuning_hints(configs, job=job, **size)]
    for hint in hints:
        log.warning("Tuning hint: %s", hint)
    return hints
