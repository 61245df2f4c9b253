"""Materialized views after a restore: which are inactive, in which order to re-activate them. Pure Python.

StarRocks restores MVs inactive and re-activates one only if its base tables were there at that moment; the rest
need ``ALTER MATERIALIZED VIEW db.mv ACTIVE`` once every base table exists, base MVs before the MVs built on them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sr_airflow.engine.quoting import quote_string

MV_COLUMNS = ("TABLE_NAME", "IS_ACTIVE", "INACTIVE_REASON", "MATERIALIZED_VIEW_DEFINITION")


def materialized_views_query(database: str) -> str:
    return (f"SELECT {', '.join(MV_COLUMNS)} FROM information_schema.materialized_views "  # noqa: S608
            f"WHERE TABLE_SCHEMA = {quote_string(database, argument='database')} ORDER BY TABLE_NAME")


@dataclass(frozen=True)
class MaterializedViewState:
    name: str
    is_active: bool
    inactive_reason: str
    definition: str = ""


def parse_materialized_views(rows: Sequence[Sequence[object]]) -> list[MaterializedViewState]:
    out = []
    for name, active, reason, definition in rows:
        out.append(MaterializedViewState(str(name), str(active).strip().lower() in ("true", "1"),
                                         str(reason or ""), str(definition or "")))
    return out


def _mentions(definition: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", definition, re.IGNORECASE) is not None


def activation_order(views: Sequence[MaterializedViewState]) -> list[str]:
    """The inactive MVs, each after the inactive MVs its definition reads (cycles keep name order)."""
    inactive = {v.name: v for v in views if not v.is_active}
    deps = {name: {other for other in inactive if other != name and _mentions(v.definition, other)}
            for name, v in inactive.items()}
    order: list[str] = []
    pending = sorted(inactive)
    while pending:
        ready = [n for n in pending if not (deps[n] - set(order))]
        if not ready:  # a cycle: take the rest by name
            ready = pending
        order += ready
        pending = [n for n in pending if n not in ready]
    return order
