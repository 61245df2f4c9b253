"""What the backup operator writes into the catalog about its snapshot, and when it reads it.

- Tombstones are read once the BACKUP holds the database's job slot (StarRocks runs one BACKUP or RESTORE per
  database at a time, so no other snapshot of the database lands between that moment and this snapshot's): the
  database's partitions then, against every OK snapshot the catalog holds (``engine.planner.tombstones_now``).
  A plan made earlier may be stale — an overlapping run may have re-created a partition the plan saw dropped.
- Row counts come from partitions_meta after the job, kept only for partitions still at the versions the job info
  recorded (``engine.catalog.stats_matching_job_info``): exactly the rows the snapshot holds.
"""

from __future__ import annotations

from typing import Any

TOMBSTONES_KEY = "catalog_tombstones"


def read_tombstones(hook: Any, storage: Any, repository: str, database: str,
                    group: list[str] | None) -> list[dict[str, Any]]:
    """The tombstones of a snapshot taken now: what the catalog holds of ``database`` (or table group
    ``group``) that the database no longer has. Three reads: the catalog, partitions_meta, materialized views."""
    from sr_airflow.engine.planner import tombstones_now
    from sr_airflow.storage.catalog_store import CatalogStore

    catalog = CatalogStore(storage, repository).load()
    states = hook.partitions_meta(database)
    views = [mv.name for mv in hook.materialized_views(database)]
    found = tombstones_now(catalog, database, states, tables=group, exclude_tables=views)
    return [{"table": t.table, "partition": t.partition} for t in found]


def partition_stats_now(hook: Any, job_info: Any) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """Row counts and sizes of the snapshot's partitions, from one partitions_meta query after the job."""
    from sr_airflow.engine.catalog import stats_matching_job_info

    return stats_matching_job_info(job_info, [s for s in hook.partitions_meta(job_info.database) if not s.is_temp])


def census_of_whole_database(hook: Any, database: str) -> dict[str, Any]:
    """The objects census of a whole-database backup made without a plan (``sr_full_backup``): every table's
    fingerprint and partitioning, every view, materialized view and function, all held by the snapshot. Read
    after the job, so a change in between makes the next incremental ship that table or object again."""
    from sr_airflow.engine.catalog import OBJECT_KINDS, SnapshotObjects, TableCensus
    from sr_airflow.engine.planner import parse_partitions_meta
    from sr_airflow.engine.schema import partitioning_of
    from sr_airflow.operators.plan import read_objects

    # the plan's two statements (engine/database_metadata.py), so the fingerprints are the ones the next plan compares
    metadata = hook.database_metadata(database)
    objects = read_objects(hook, database, metadata)
    partitioning = {}
    for state in parse_partitions_meta(metadata.partitions):
        partitioning.setdefault(state.table, partitioning_of(state.partition_value))
    tables = {t: TableCensus(fingerprint, partitioning.get(t), objects.colocation.get(t))
              for t, fingerprint in objects.tables.items()}
    held = {kind: tuple(sorted(objects.of_kind(kind))) for kind in OBJECT_KINDS}
    return SnapshotObjects(tables, *(dict(objects.of_kind(k)) for k in OBJECT_KINDS), held).to_dict()
