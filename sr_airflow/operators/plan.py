"""StarRocksPlanBackupOperator: decide what the next backup of a database holds, from the catalog.

The catalog read from the repository's storage and two metadata statements per database whatever the number of
tables (``engine/database_metadata.py``: partitions_meta, materialized_views, columns, tables_config and views in one
``UNION ALL``; then ``SHOW FULL FUNCTIONS``, ``engine/schema.py``) give the plan (``engine/planner.py``): a full
backup when there is no good base or the policy asks for one; otherwise the partitions whose physical partitions
moved since the newest snapshot holding them (``changed``), or the partitions named for the run's data interval
(``logical_date``), plus tables whose schema changed or that are new (whole), and new or changed views,
materialized views and functions. The plan goes to
XCom for the backup task; an empty plan means no job at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.catalog import Catalog
    from sr_airflow.engine.database_metadata import DatabaseMetadata
    from sr_airflow.engine.planner import PartitionState
    from sr_airflow.engine.schema import DatabaseObjects

MODES = ("changed", "logical_date", "target")


def read_objects(hook: Any, database: str, metadata: DatabaseMetadata) -> DatabaseObjects:
    """The database's tables (schema fingerprints), views, materialized views and functions, from the metadata
    statement's rows (``engine/database_metadata.py``) and one ``SHOW FULL FUNCTIONS``, whatever the number of tables.
    Before 3.4 a BACKUP names tables only, so there are no others."""
    from sr_airflow.engine.mv import parse_materialized_views
    from sr_airflow.engine.schema import database_objects

    rows = {**metadata.schema_rows(), "functions": hook.function_rows(database)}
    views = {mv.name: mv.definition for mv in parse_materialized_views(metadata.materialized_views)}
    objects = database_objects(rows, views)
    if not hook.server_version().has_object_backup_syntax:
        objects = dataclasses.replace(objects, views={}, materialized_views={}, functions={})
    return objects


class StarRocksPlanBackupOperator(StarRocksBaseOperator):
    """Plan the next backup of ``database`` from the catalog and two metadata statements.

    :param repository: the repository whose catalog holds the previous snapshots.
    :param database: the database to plan for.
    :param storage_conn_id: the storage connection of the repository location (reads the catalog).
    :param location: the repository location; default: as SHOW REPOSITORIES shows it.
    :param mode: ``changed`` (partitions whose version moved) or ``logical_date`` (``partitions`` only).
    :param partitions: partition names for ``logical_date`` mode, e.g. ``p{{ data_interval_start | ds_nodash }}``.
    :param table: restrict ``logical_date`` mode to one table (default: every table with those partitions).
    :param max_incrementals: force a full after this many incrementals on one full (None: never).
    :param max_full_age_days: force a full when the chain's full is older than this (None: never).
    :param target_conn_id: ``target`` mode: the cluster the database was migrated to.
    :param target_database: ``target`` mode: the database there (default: ``database``).
    :param tables: ``target`` mode: only these tables.
    """

    template_fields: Sequence[str] = ("repository", "database", "storage_conn_id", "location", "mode", "partitions",
                                      "table", "max_incrementals", "max_full_age_days", "target_conn_id",
                                      "target_database", "tables")

    def __init__(self, *, repository: str, database: str, storage_conn_id: str | None = None,
                 location: str | None = None, mode: str = "changed", partitions: Any = None,
                 table: str | None = None, max_incrementals: int | None = 6, max_full_age_days: int | None = 7,
                 target_conn_id: str | None = None, target_database: str | None = None, tables: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self.database = database
        self.storage_conn_id = storage_conn_id
        self.location = location
        self.mode = mode
        self.partitions = partitions
        self.table = table
        self.max_incrementals = max_incrementals
        self.max_full_age_days = max_full_age_days
        self.target_conn_id = target_conn_id
        self.target_database = target_database
        self.tables = tables

    def _partition_names(self) -> list[str]:
        names = [self.partitions] if isinstance(self.partitions, str) else list(self.partitions or [])
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"partitions must name at least one partition in logical_date mode, got "
                             f"{self.partitions!r}.")
        return names

    def _table_names(self) -> list[str] | None:
        from sr_airflow.engine.scope_args import named_tables

        named = named_tables(self.tables)
        return list(named) if named else None

    def _target_states(self) -> list[PartitionState]:
        from sr_airflow.hooks.starrocks import StarRocksHook

        if not self.target_conn_id:
            raise ValueError("target mode needs target_conn_id: the cluster to compare with.")
        target_db = self.target_database or self.database
        hook = StarRocksHook(starrocks_conn_id=self.target_conn_id)
        states = hook.partitions_meta(target_db)
        # Compare by table and partition name: the target database may carry another name.
        return [dataclasses.replace(s, database=self.database) for s in states]

    def _catalog(self) -> Catalog:
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        return CatalogStore(storage, self.repository).load()

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.coerce import as_optional_int
        from sr_airflow.engine.mv import parse_materialized_views
        from sr_airflow.engine.plan_modes import plan_against_target, plan_for_partitions, plan_to_xcom
        from sr_airflow.engine.planner import PlanPolicy, parse_partitions_meta, plan_backup

        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}.")
        max_full_age_days = as_optional_int("max_full_age_days", self.max_full_age_days)
        policy = PlanPolicy(
            max_incrementals=as_optional_int("max_incrementals", self.max_incrementals),
            max_full_age=timedelta(days=max_full_age_days) if max_full_age_days else None,
        )
        # One statement for partitions_meta, materialized_views, columns, tables_config and views; its partition
        # rows in PARTITIONS_META_COLUMNS order: the "changed" plan compares them as they are (a million
        # partitions plan in about a second), the other modes need them parsed.
        metadata = self.hook.database_metadata(self.database)
        rows = metadata.partitions
        # partitions_meta lists materialized views like tables; BACKUP names them otherwise, and a full backup
        # (which takes the whole database) carries them. Restores re-activate them.
        views = [mv.name for mv in parse_materialized_views(metadata.materialized_views)]
        now = datetime.now(UTC)
        if self.mode == "target":
            plan = plan_against_target(self.database, parse_partitions_meta(rows), self._target_states(),
                                       self._table_names(), exclude_tables=views)
        elif self.mode == "changed":
            plan = plan_backup(self._catalog(), self.database, rows, now=now, policy=policy, exclude_tables=views,
                               objects=read_objects(self.hook, self.database, metadata))
        else:
            plan = plan_for_partitions(self._catalog(), self.database, parse_partitions_meta(rows),
                                       self._partition_names(), self.table, now=now, policy=policy,
                                       exclude_tables=views, objects=read_objects(self.hook, self.database, metadata))
        result = plan_to_xcom(plan, self.mode, self._table_names() if self.mode == "target" else None)
        for table, why in sorted(plan.excluded.items()):
            self.log.warning("Table %r of %r is left out of this backup: %s.", table, self.database, why)
        if plan.objects is not None:
            for what, why in sorted(plan.objects.reasons.items()):
                self.log.info("%s goes into this backup: %s.", what.capitalize(), why)
        if plan.is_empty:
            self.log.info("Nothing to back up in %r: %s.", self.database, plan.reason)
        else:
            self.log.info("Next backup of %r: %s (%s), %d table(s), %d partition(s), parent %r.", self.database,
                          result["snapshot_kind"], plan.reason, len(plan.tables), result["partitions"],
                          plan.parent_label)
        return result
