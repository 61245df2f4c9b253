"""A restore drill's two ends: claim the scratch database and record the drill; then record its result and RTO
and drop the scratch database. The restore and its verification between them are the ordinary operators.

The scratch database is the drill's only if a drill record says a drill restored into it and has not dropped it
(``storage/drill_store.py``): an existing database without such a record is refused, never dropped, and the
source database is never a scratch database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sr_airflow.engine.errors import JobFailedError, RestoreRefusedError
from sr_airflow.operators.base import StarRocksBaseOperator


def database_exists(hook: Any, name: str) -> bool:
    return hook.database_exists(name)


class _DrillOperator(StarRocksBaseOperator):
    template_fields: Sequence[str] = ("database", "scratch_database", "repository", "location", "storage_conn_id")

    def __init__(self, *, database: str, scratch_database: str, repository: str, storage_conn_id: str | None,
                 location: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database = database
        self.scratch_database = scratch_database
        self.repository = repository
        self.storage_conn_id = storage_conn_id
        self.location = location

    def drill_store(self):
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.drill_store import DrillStore

        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location)
        return DrillStore(storage, self.repository)

    def drop_scratch(self) -> None:
        from sr_airflow.engine.statements import render_drop_database

        if self.scratch_database == self.database:  # checked at the start; never the source, whatever happens
            raise RestoreRefusedError(f"Scratch database {self.scratch_database!r} is the drilled database.")
        self.hook.execute(render_drop_database(self.scratch_database))
        self.log.info("Scratch database %r dropped.", self.scratch_database)


class StarRocksDrillStartOperator(_DrillOperator):
    """Claim the scratch database of a drill of ``database`` and record the drill as running.

    A scratch database that exists is dropped only when an earlier drill's record says it restored into it and
    did not drop it (a drill interrupted before its end); any other is refused. Returns the drill record.

    :param database: the database drilled (restored from the catalog, never touched).
    :param scratch_database: where the drill restores; must not exist unless an earlier drill left it.
    :param repository: the repository holding the snapshots and the catalog.
    :param storage_conn_id: storage connection of the repository location (catalog and drill records).
    :param location: the repository location (default: as SHOW REPOSITORIES shows it).
    """

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.quoting import quote_identifier
        from sr_airflow.storage.drill_store import DrillRecord

        # A name no database can have (empty, NUL, too long) is refused before anything is recorded: the finish's
        # DROP could not name it, and its record would stay "not dropped".
        quote_identifier(self.database, argument="database")
        quote_identifier(self.scratch_database, argument="scratch database")
        if not self.scratch_database or self.scratch_database == self.database:
            raise RestoreRefusedError(f"Restore drill of {self.database!r} refused: its scratch database must be "
                                      f"another database, got {self.scratch_database!r}.")
        store = self.drill_store()
        if database_exists(self.hook, self.scratch_database):
            leftovers = store.undropped_scratch(self.scratch_database)
            if not leftovers:
                raise RestoreRefusedError(
                    f"Restore drill of {self.database!r} refused: scratch database {self.scratch_database!r} exists "
                    "and no restore drill created it. Drop it yourself or choose another scratch_template.")
            self.log.info("Scratch database %r was left by the drill of %s; dropping it.", self.scratch_database,
                          leftovers[-1].started_at.isoformat())
            self.drop_scratch()
            for old in leftovers:
                result = "failed" if old.result == "running" else old.result
                store.put(old.with_changes(scratch_dropped=True, result=result,
                                           message=old.message or "interrupted; its scratch database was dropped "
                                                                  "by the next drill"))
        record = DrillRecord(database=self.database, scratch_database=self.scratch_database,
                             started_at=datetime.now(UTC), dag_id=self.dag_id, run_id=context["dag_run"].run_id)
        store.put(record)
        return record.to_dict()


class StarRocksDrillFinishOperator(_DrillOperator):
    """Record the drill's result and RTO (start to verified), drop its scratch database, send the drill's
    metrics; fail when the drill failed. Runs whatever the restore and the verification did (``all_done``).

    :param start_task_id: the task that started the drill (its XCom is the drill record).
    :param restore_task_id: the point-in-time restore into the scratch database.
    :param verify_task_id: the verification of the scratch database (``fail_on_mismatch=False``).
    """

    def __init__(self, *, start_task_id: str, restore_task_id: str, verify_task_id: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.start_task_id = start_task_id
        self.restore_task_id = restore_task_id
        self.verify_task_id = verify_task_id

    def _pulled(self, context: Any, task_id: str) -> Any:
        ti = context["ti"]
        return ti.xcom_pull(task_ids=task_id, map_indexes=ti.map_index)

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow import metrics
        from sr_airflow.storage.drill_store import DrillRecord

        started = self._pulled(context, self.start_task_id)
        if not started:
            raise JobFailedError(f"Restore drill of {self.database!r} did not start (task {self.start_task_id}); "
                                 "nothing to record or drop.")
        record = DrillRecord.from_dict(started)
        restored = self._pulled(context, self.restore_task_id)
        verified = self._pulled(context, self.verify_task_id)
        finished = datetime.now(UTC)
        ok, message = self._verdict(restored, verified)
        plan = (restored or {}).get("plan") or {}
        record = record.with_changes(
            result="ok" if ok else "failed", finished_at=finished, message=message,
            rto_seconds=round((finished - record.started_at).total_seconds(), 3),
            snapshot_label=plan.get("snapshot_label"), point_in_time=(restored or {}).get("point_in_time"),
            partitions_checked=(verified or {}).get("partitions_checked"))
        store = self.drill_store()
        store.put(record)  # the result first: a failing DROP below leaves the record, scratch still marked ours
        self.drop_scratch()
        record = record.with_changes(scratch_dropped=True)
        store.put(record)
        metrics.drill_finished(database=self.database, ok=ok, rto_seconds=record.rto_seconds)
        self.log.info("Restore drill of %r: %s in %.1f s (snapshot %s). %s", self.database, record.result,
                      record.rto_seconds, record.snapshot_label, message)
        if not ok:
            raise JobFailedError(f"Restore drill of {self.database!r} failed: {message}")
        return record.to_dict()

    def _verdict(self, restored: dict | None, verified: dict | None) -> tuple[bool, str]:
        if not restored:
            return False, f"the restore into {self.scratch_database!r} failed (task {self.restore_task_id})."
        if not verified:
            return False, f"the verification of {self.scratch_database!r} did not finish (task {self.verify_task_id})."
        if not verified.get("ok"):
            mismatches = verified.get("mismatches") or []
            first = mismatches[0] if mismatches else {}
            return False, (f"{len(mismatches)} mismatch(es) against the snapshots' records, e.g. table "
                           f"{first.get('table')!r} partition {first.get('partition')!r}: {first.get('what')} "
                           f"expected {first.get('expected')!r}, found {first.get('actual')!r}.")
        return True, (f"{verified.get('partitions_checked')} partition(s) restored and verified against the "
                      "snapshots' records.")
