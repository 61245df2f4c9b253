"""Export users, roles, grants and resource groups beside a snapshot, and replay them on a target cluster.

StarRocks' BACKUP / RESTORE carries none of them. ``StarRocksExportAccessOperator`` reads them (``SHOW USERS``,
``SHOW ROLES``, ``SHOW GRANTS FOR`` each, ``SHOW RESOURCE GROUPS ALL``) into a SQL file beside the catalog,
``<location>/__sr_airflow_catalog_<repo>/access/<label>.sql``, recorded in each snapshot's catalog entry
(``access_file``). ``StarRocksApplyAccessOperator`` replays that file on a target (``apply_access`` = roles | all),
limited to the restored database and renamed with it, and reports what it created, what existed and what failed.
Formats and rules: ``engine/access.py``, ``engine/access_sql.py``, ``engine/access_plan.py``; docs/security.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing
from typing import Any

from sr_airflow.operators.base import StarRocksBaseOperator

ACCESS_DIR = "access"


def access_file_key(repository: str, label: str) -> str:
    from urllib.parse import quote

    from sr_airflow.storage.location import catalog_root, join_key

    return join_key(catalog_root(repository), ACCESS_DIR, quote(label, safe="-_.") + ".sql")


def _labels(snapshots: Any) -> list[str]:
    items = [snapshots] if isinstance(snapshots, (str, Mapping)) else list(snapshots or [])
    labels = [str(i["snapshot_label"]) if isinstance(i, Mapping) else str(i) for i in items if i]
    if not labels:
        raise ValueError("snapshots is empty: there is no snapshot to put the access export beside.")
    return labels


def _is_access_denied(exc: BaseException) -> bool:
    return bool(getattr(exc, "args", None)) and exc.args[0] == 5203  # ErrorCode.ERR_ACCESS_DENIED


class StarRocksExportAccessOperator(StarRocksBaseOperator):
    """Write the cluster's users, roles, grants and resource groups beside each of ``snapshots``.

    Reading other users' grants needs GRANT on SYSTEM (``user_admin``); without it the export is skipped with a
    warning (the backup stays good) and the result says so.

    :param repository: the repository the snapshots are in.
    :param location: its location; :param storage_conn_id: the storage connection.
    :param snapshots: labels, or the backup operator's XCom results (``snapshot_label``).
    """

    template_fields: Sequence[str] = ("repository", "location", "storage_conn_id", "snapshots")

    def __init__(self, *, repository: str, snapshots: Any, location: str | None = None,
                 storage_conn_id: str | None = None, endpoint: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self.snapshots = snapshots
        self.location = location
        self.storage_conn_id = storage_conn_id
        self.endpoint = endpoint

    def execute(self, context: Any) -> dict[str, Any]:
        from dataclasses import replace

        from sr_airflow.engine.access_sql import export_text
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        labels = _labels(self.snapshots)
        try:
            export = self.hook.cluster_access()
        except Exception as exc:
            if not _is_access_denied(exc):
                raise
            self.log.warning("Users, roles and grants were not exported: this connection's user may not read them "
                             "(StarRocks: %s). Grant it GRANT ON SYSTEM (or the user_admin role) to export them.",
                             exc.args[1] if len(exc.args) > 1 else exc)
            return {"exported": False, "reason": str(exc), "files": []}
        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location,
                                     endpoint=self.endpoint)
        store = CatalogStore(storage, self.repository)
        data = export_text(export, header=[f"snapshots: {', '.join(labels)}"]).encode()
        files = []
        for label in labels:
            key = access_file_key(self.repository, label)
            storage.write(key, data)
            store.put(replace(store.get(label), access_file=key))
            files.append(key)
        counts = {"users": len(export.users), "roles": len(export.roles),
                  "grants": len(export.privilege_grants) + len(export.role_grants),
                  "resource_groups": len(export.resource_groups), "unreplayable": len(export.unreplayable)}
        self.log.info("Exported %d users, %d roles, %d grants and %d resource groups (%d grants not replayable) "
                      "beside %s; passwords are never exported.", counts["users"], counts["roles"], counts["grants"],
                      counts["resource_groups"], counts["unreplayable"], ", ".join(labels))
        return {"exported": True, "files": files, **counts}


class StarRocksApplyAccessOperator(StarRocksBaseOperator):
    """Replay the access export of ``snapshot_label``'s chain on this cluster.

    :param apply_access: ``none`` (nothing), ``roles`` (roles, their grants and parent roles, resource groups) or
        ``all`` (also users, their grants and role memberships). Users are created with a random password nobody
        knows: the result's ``password_needed`` lists them.
    :param database: the database the snapshot holds; :param target_database: its name here (default the same).
        Grants on other databases (or on every database) are left out, listed in ``skipped``.
    :param snapshot_label: the snapshot restored (the export is the newest one in its chain).
    """

    template_fields: Sequence[str] = ("repository", "location", "storage_conn_id", "snapshot_label",
                                      "apply_access", "database", "target_database")

    def __init__(self, *, repository: str, snapshot_label: str, apply_access: str | None = "none",
                 database: str | None = None, target_database: str | None = None, location: str | None = None,
                 storage_conn_id: str | None = None, endpoint: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self.snapshot_label = snapshot_label
        self.apply_access = apply_access
        self.database = database
        self.target_database = target_database
        self.location = location
        self.storage_conn_id = storage_conn_id
        self.endpoint = endpoint

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.access_plan import check_mode, select_records
        from sr_airflow.engine.access_sql import read_export_text

        mode = check_mode(self.apply_access)
        result: dict[str, Any] = {"apply_access": mode, "created": [], "existed": [], "failed": [], "skipped": [],
                                  "password_needed": []}
        if mode == "none":
            self.log.info("apply_access is none: users, roles and grants are not replayed.")
            return result
        storage, key = self._export_file()
        result["file"] = key
        databases = {self.database: self.target_database or self.database} if self.database else None
        records, skipped = select_records(read_export_text(storage.read(key).decode()), mode, databases)
        result["skipped"] = [{"statement": s.statement, "reason": s.reason} for s in skipped]
        with closing(self.hook.get_conn()) as conn, closing(conn.cursor()) as cursor:
            self._apply(cursor, records, result)
        self.log.info("Access replayed (%s): %d created, %d existed, %d failed, %d outside the scope.", mode,
                      len(result["created"]), len(result["existed"]), len(result["failed"]), len(skipped))
        if result["password_needed"]:
            self.log.warning("Users created without a known password (set one with ALTER USER ... IDENTIFIED BY): "
                             "%s", ", ".join(result["password_needed"]))
        return result

    def _export_file(self) -> tuple[Any, str]:
        from sr_airflow.engine.errors import SnapshotNotFoundError
        from sr_airflow.operators.repository_storage import repository_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        storage = repository_storage(self.hook, self.repository, self.storage_conn_id, location=self.location,
                                     endpoint=self.endpoint)
        chain = CatalogStore(storage, self.repository).load().chain_of(self.snapshot_label)
        with_export = [e for e in chain if e.access_file]
        if not with_export:
            raise SnapshotNotFoundError(
                f"No users/roles/grants export beside snapshot {self.snapshot_label!r} or its chain in repository "
                f"{self.repository!r}: the backup did not export them (see docs/security.md).")
        return storage, with_export[-1].access_file

    def _apply(self, cursor: Any, records: list[Any], result: dict[str, Any]) -> None:
        import secrets

        from sr_airflow.engine.access import Grantee
        from sr_airflow.engine.access_plan import grantees_of
        from sr_airflow.engine.access_sql import render_create_user, render_record

        state = self.hook.access_held(grantees_of(records))
        for record in records:
            shown = render_record(record)
            if state.holds(record):
                result["existed"].append(shown)
                continue
            is_user = isinstance(record, Grantee)
            sql = render_create_user(record, secrets.token_urlsafe(24)) if is_user else shown
            try:
                cursor.execute(sql)
            except Exception as exc:  # noqa: BLE001 - one refusal must not hide the others; reported with the error
                error = f"{exc.args[0]}: {exc.args[1]}" if len(getattr(exc, "args", ())) > 1 else str(exc)
                result["failed"].append({"statement": shown, "error": error})
                self.log.warning("Could not apply %s — StarRocks: %s", shown, error)
                continue
            result["created"].append(shown)
            if is_user:
                result["password_needed"].append(record.shown)
