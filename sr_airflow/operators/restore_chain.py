"""StarRocksRestoreChainOperator: restore a database (or tables) as of a point in time from the catalog.

The catalog resolves the chain (the full snapshot, then each incremental after it, in order; ``engine/chain.py``);
each link is one RESTORE, checked, submitted and waited for (deferred) by the restore operator's own steps; the
tables and partitions dropped since the full are dropped at the end; materialized views are re-activated once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pendulum

from sr_airflow.engine.chain import RestoreChain, RestoreLink, resolve_chain
from sr_airflow.engine.errors import JobFailedError
from sr_airflow.engine.statements import render_drop_partition, render_drop_table
from sr_airflow.operators.restore import StarRocksRestoreOperator

TARGET_LABEL_KEY = "restore_chain_target"
DONE_KEY = "restore_chain_done"


def _names_and_aliases(tables: Any) -> dict[str, str | None]:
    if not tables:
        return {}
    if isinstance(tables, str):
        tables = [tables]
    out: dict[str, str | None] = {}
    for item in tables:
        if isinstance(item, str):
            out[item] = None
        elif isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = item.get("alias")
        else:
            raise ValueError(f"tables must hold names or {{'name', 'alias'}} mappings, got {item!r}.")
    return out


def link_tables(link: RestoreLink, aliases: dict[str, str | None], whole_database: bool) -> list[dict] | None:
    """The restore operator's ``tables`` argument for one link (None: the whole snapshot)."""
    if whole_database:
        return None
    out = []
    for plan in link.tables:
        item: dict[str, Any] = {"name": plan.table}
        if not plan.whole_table:
            item["partitions"] = list(plan.partitions)
        if aliases.get(plan.table):
            item["alias"] = aliases[plan.table]
        out.append(item)
    return out


class StarRocksRestoreChainOperator(StarRocksRestoreOperator):
    """Restore ``database`` (or ``tables``) as it was at ``point_in_time``, link by link, from the catalog.

    :param repository: the repository holding the snapshots (and their catalog).
    :param database: the backed-up database.
    :param storage_conn_id: the storage connection of the repository location (reads the catalog).
    :param point_in_time: an ISO date-time (or ``None`` for the newest good snapshot); the newest good snapshot
        taken at or before it is restored with every link it depends on.
    :param snapshot_label: restore exactly up to this snapshot instead of a point in time.
    :param tables: only these tables (names or ``{"name", "alias"}`` mappings).
    :param target_database: restore into this database instead (``DATABASE a AS b``).
    :param allow_overwrite: allow the first link to overwrite existing tables of the same schema (later links
        always overwrite what the earlier links restored).
    :param drop_tombstones: drop the tables and partitions the point in time no longer had.
    Other arguments are those of :class:`StarRocksRestoreOperator`.
    """

    template_fields: Sequence[str] = (*StarRocksRestoreOperator.template_fields, "point_in_time",
                                      "allow_overwrite", "up_to_label")

    def __init__(self, *, repository: str, database: str, storage_conn_id: str, point_in_time: Any = None,
                 snapshot_label: str | None = None, tables: Any = None, drop_tombstones: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(repository=repository, snapshot_label="", database=database, tables=tables,
                         storage_conn_id=storage_conn_id, **kwargs)
        self.point_in_time = point_in_time
        self.drop_tombstones = drop_tombstones
        self.requested_tables = None  # the rendered ``tables``, taken at each entry point (links overwrite it)
        self.up_to_label = snapshot_label

    # ---- the chain
    def _moment(self) -> datetime | None:
        if not self.point_in_time:
            return None
        if isinstance(self.point_in_time, datetime):
            return pendulum.instance(self.point_in_time)
        try:
            return pendulum.parse(str(self.point_in_time))
        except (ValueError, pendulum.parsing.exceptions.ParserError):
            raise ValueError(f"point_in_time {self.point_in_time!r} is not an ISO date or date-time.") from None

    def chain(self, context: Any) -> RestoreChain:
        from sr_airflow.operators.repository import find_repository
        from sr_airflow.storage import get_storage
        from sr_airflow.storage.catalog_store import CatalogStore

        info = find_repository(self.hook, self.repository)
        if info is None:
            raise ValueError(f"Repository {self.repository!r} does not exist on {self.starrocks_conn_id}.")
        catalog = CatalogStore(get_storage(info.location, conn_id=self.storage_conn_id), self.repository).load()
        store = context.get("task_state_store")
        pinned = self.up_to_label or (store.get(TARGET_LABEL_KEY) if store is not None else None)
        names = list(_names_and_aliases(self.requested_tables)) or None
        chain = resolve_chain(catalog, self.database, self._moment(), tables=names, label=pinned)
        if store is not None:  # a resumed or retried task restores the same chain even if new snapshots came
            store.set(TARGET_LABEL_KEY, chain.target.label)
        return chain

    def _start_link(self, context: Any, chain: RestoreChain, index: int) -> dict[str, Any]:
        link, _ = chain.scopes()[index]
        whole = chain.scopes()[index][1].has_on_clause is False
        self.snapshot_label = link.label
        self.backup_timestamp = link.backup_timestamp
        self.tables = link_tables(link, _names_and_aliases(self.requested_tables), whole)
        self.allow_overwrite = self.allow_overwrite if index == 0 else True
        self.log.info("Chain link %d of %d: snapshot %s (%s), %s.", index + 1, len(chain.links), link.label,
                      link.backup_timestamp, "whole snapshot" if whole else f"{len(link.tables)} table(s)")
        return super().execute(context)

    def execute(self, context: Any) -> dict[str, Any]:
        self.requested_tables = self.tables
        chain = self.chain(context)
        store = context.get("task_state_store")
        done = list(store.get(DONE_KEY) or []) if store is not None else []
        start = next((i for i, label in enumerate(chain.labels) if label not in done), len(chain.labels))
        self.log.info("Restoring %s as of %s: %s%s.", self.database, chain.target.label, " -> ".join(chain.labels),
                      f" (resuming after {', '.join(done)})" if done else "")
        if start == len(chain.labels):  # a retry after the last link finished: only the end remains
            return self._finish_chain(context, chain, {"status": "success", "label": chain.labels[-1]})
        if start > 0:
            self.allow_overwrite = True
        return self._start_link(context, chain, start)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        self.requested_tables = self.tables
        if event.get("status") != "success":
            raise JobFailedError(event.get("message") or f"Restore {event.get('label')!r} failed.")
        chain = self.chain(context)
        done = event.get("label") or self.snapshot_label
        labels = list(chain.labels)
        if done not in labels:
            raise JobFailedError(f"Restore {done!r} finished but is not a link of the chain {labels}.")
        store = context.get("task_state_store")
        if store is not None:
            store.set(DONE_KEY, [*(store.get(DONE_KEY) or []), done])
        index = labels.index(done)
        if index + 1 < len(labels):
            self.allow_overwrite = True
            return self._start_link(context, chain, index + 1)
        return self._finish_chain(context, chain, event)

    def _finish_chain(self, context: Any, chain: RestoreChain, event: dict[str, Any]) -> dict[str, Any]:
        target = self.target_database or self.database
        dropped = self._drop_tombstones(chain, target) if self.drop_tombstones else []
        self.snapshot_label = chain.labels[-1]
        result = super().execute_complete(context, {**event, "database": target})
        result.update({"chain": list(chain.labels), "point_in_time_label": chain.target.label, "dropped": dropped})
        return result

    def _drop_tombstones(self, chain: RestoreChain, database: str) -> list[str]:
        aliases = _names_and_aliases(self.requested_tables)
        statements = [render_drop_table(database, aliases.get(t) or t) for t in chain.drop_tables]
        statements += [render_drop_partition(database, aliases.get(t) or t, p) for t, p in chain.drop_partitions]
        for statement in statements:
            self.log.info("Dropping what the point in time no longer had: %s", statement)
            self.hook.execute(statement)
        return statements
