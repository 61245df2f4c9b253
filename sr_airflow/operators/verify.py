"""StarRocksVerifyRestoreOperator: prove a restore against the catalog and, optionally, the source cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sr_airflow import metrics
from sr_airflow.engine.errors import SrAirflowError
from sr_airflow.engine.verify import physical_versions
from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.verify import Key


def partition_states(hook: Any, database: str, tables: Sequence[str] | None):
    """(table, partition) -> its partitions_meta rows (one per physical partition), temporary partitions left out."""
    states: dict[Key, list] = {}
    for state in hook.partitions_meta(database, tables):
        if not state.is_temp:
            states.setdefault(state.key, []).append(state)
    return states


def _rows(states: list) -> int | None:
    counts = [s.row_count for s in states]
    return None if None in counts else sum(counts)


def _recorded(record: Any) -> int | tuple[int | None, ...] | None:
    """The version a catalog record expects (entries without physical partitions: the recorded version)."""
    if not record.physical_partitions:
        return record.version
    return physical_versions([v for _, v in record.physical_partitions])


class StarRocksVerifyRestoreOperator(StarRocksBaseOperator):
    """Compare a restored database with what the snapshots recorded, and optionally with the source cluster.

    - with ``storage_conn_id``: the partitions the database held as of ``point_in_time`` (or as of snapshot
      ``snapshot_label``), resolved by partition from the catalog (``engine/resolve.py``), are in the target at
      the VISIBLE_VERSION their snapshots' own job-info files recorded (the catalog's records are checked against
      those files too), with the row counts recorded at backup time, and no other partition of those tables is
      (a snapshot without catalog entry: its job-info file alone);
    - with ``source_conn_id``: per partition, row counts equal the source's; with ``checksums=True`` also, per
      table, ``count(*)`` and ``sum(murmur_hash3_32(...))`` over every column.

    Pushes ``{"ok", "partitions_checked", "mismatches"}``; fails on a mismatch unless ``fail_on_mismatch=False``.

    :param database: the restored (target) database on ``starrocks_conn_id``.
    :param repository: the repository the snapshot is in (as the target cluster names it).
    :param snapshot_label: the restored snapshot (the newest one the restore read).
    :param point_in_time: the moment restored (ISO-8601; the restore's XCom ``point_in_time``); default: the
        moment of ``snapshot_label``.
    :param storage_conn_id: storage connection of the repository location (catalog and job info).
    :param location: the repository location (default: as SHOW REPOSITORIES shows it).
    :param source_conn_id: the source cluster's StarRocks connection.
    :param source_database: the database on the source (default: ``database``).
    :param tables: restrict the checks to these tables.
    :param checksums: also compare per-table checksums with the source.
    :param fail_on_mismatch: raise when anything differs (default True).
    """

    template_fields: Sequence[str] = ("database", "repository", "snapshot_label", "storage_conn_id", "location",
                                      "source_conn_id", "source_database", "tables", "checksums", "point_in_time")

    def __init__(self, *, database: str, repository: str, snapshot_label: str, storage_conn_id: str | None = None,
                 source_conn_id: str | None = None, source_database: str | None = None,
                 tables: Sequence[str] | None = None, checksums: bool = False, fail_on_mismatch: bool = True,
                 location: str | None = None, point_in_time: str | None = None, **kwargs: Any) -> None:
        if checksums is True and not source_conn_id:
            raise ValueError("checksums=True needs source_conn_id: checksums are compared with the source.")
        super().__init__(**kwargs)
        self.database = database
        self.repository = repository
        self.snapshot_label = snapshot_label
        self.storage_conn_id = storage_conn_id
        self.location = location
        self.point_in_time = point_in_time
        self.source_conn_id = source_conn_id
        self.source_database = source_database
        self.tables = tables
        self.checksums = checksums
        self.fail_on_mismatch = fail_on_mismatch

    def expected(self) -> tuple[dict[Key, Any], dict[Key, int | None], list]:
        """What the restored point held: (partition -> the version its snapshot's job info recorded, partition ->
        the row count recorded at backup time, mismatches between the catalog and the job infos). Which snapshot
        holds each partition is the catalog's rule (``engine/resolve.py``, never the restore's own plan); the
        versions are read from those snapshots' job-info files."""
        from sr_airflow.engine.resolve import resolve_point_in_time
        from sr_airflow.engine.timestamps import parse_point_in_time
        from sr_airflow.engine.verify import compare_catalog_with_job_infos, versions_from_job_infos
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        store = CatalogStore(storage, self.repository)
        if not self.point_in_time and self.snapshot_label not in store.labels():
            self.log.info("No catalog entry for %r: the versions its job-info file recorded.", self.snapshot_label)
            info = storage.read_job_info(self.repository, self.snapshot_label)
            versions = versions_from_job_infos({(t.name, p.name): info.label for t in info.tables
                                                for p in t.partitions}, {info.label: info})
            return versions, {}, []
        catalog = store.load()
        if self.point_in_time:
            at, database = parse_point_in_time(self.point_in_time), self.source_database or self.database
        else:
            entry = catalog.get(self.snapshot_label)
            at, database = entry.backup_time, entry.database
        plan = resolve_point_in_time(catalog, database, at, tables=list(self.tables) if self.tables else None)
        chosen = {key: held.label for key, held in plan.state.items()}
        infos = {label: storage.read_job_info(self.repository, label, catalog.get(label).backup_timestamp)
                 for label in sorted(set(chosen.values()))}
        self.log.info("Expected partitions of %r as of %s come from %d snapshot(s): %s.", database,
                      (at or plan.target.backup_time).isoformat(), len(infos), ", ".join(map(repr, infos)))
        versions = versions_from_job_infos(chosen, infos)
        catalog_versions = {key: _recorded(held.record) for key, held in plan.state.items()}
        rows = {key: held.record.row_count for key, held in plan.state.items()}
        return versions, rows, compare_catalog_with_job_infos(catalog_versions, versions)

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.coerce import as_bool
        from sr_airflow.engine.verify import (
            compare_checksums,
            compare_row_counts,
            compare_unexpected,
            compare_versions,
        )

        self.checksums = as_bool("checksums", self.checksums, default=False)
        if self.checksums and not self.source_conn_id:
            raise ValueError("checksums=True needs source_conn_id: checksums are compared with the source.")
        tables = list(self.tables) if self.tables else None
        target = partition_states(self.hook, self.database, tables)
        actual = {k: physical_versions([s.version for s in states]) for k, states in target.items()}
        mismatches = []
        keys: list[Key] = sorted(target)
        if self.storage_conn_id:
            versions, recorded_rows, mismatches = self.expected()
            expected = {k: v for k, v in versions.items() if tables is None or k[0] in tables}
            mismatches += compare_versions(expected, actual)
            mismatches += compare_unexpected(expected, actual)
            known = {k: v for k, v in recorded_rows.items() if v is not None and k in expected}
            mismatches += [m for m in compare_row_counts(known, {k: _rows(s) for k, s in target.items()})
                           if m.what != "missing"]  # a missing partition is reported once, by its version
            keys = sorted(expected)
        if self.source_conn_id:
            from sr_airflow.hooks.starrocks import StarRocksHook

            source_hook = StarRocksHook(starrocks_conn_id=self.source_conn_id)
            source_db = self.source_database or self.database
            source = partition_states(source_hook, source_db, tables)
            mismatches += compare_row_counts({k: _rows(states) for k, states in source.items()},
                                             {k: _rows(states) for k, states in target.items()},
                                             [k for k in keys if k in source] if self.storage_conn_id else None)
            if self.checksums:
                names = sorted({t for t, _ in keys})
                mismatches += compare_checksums(self._checksums(source_hook, source_db, names),
                                                self._checksums(self.hook, self.database, names))
        result = {"ok": not mismatches, "partitions_checked": len(keys),
                  "mismatches": [m.as_dict() for m in mismatches]}
        metrics.verification_result(database=self.database, ok=result["ok"], partitions_checked=len(keys),
                                    mismatches=len(mismatches))
        for m in mismatches:
            self.log.warning("Mismatch in %r: table %r, partition %r: %s expected %r, found %r.", self.database,
                             m.table, m.partition, m.what, m.expected, m.actual)
        if mismatches and self.fail_on_mismatch:
            first = mismatches[0].describe()
            raise SrAirflowError(f"Restore of snapshot {self.snapshot_label!r} into database {self.database!r} "
                                 f"does not verify: {len(mismatches)} mismatch(es), e.g. {first}.")
        self.log.info("Verified %s partitions of %r against snapshot %r.", len(keys), self.database,
                      self.snapshot_label)
        return result

    @staticmethod
    def _checksums(hook: Any, database: str, tables: Sequence[str]) -> dict[str, tuple[int, int]]:
        return {table: hook.table_checksum(database, table, [c.name for c in columns])
                for table, columns in hook.table_columns(database, tables).items()}
