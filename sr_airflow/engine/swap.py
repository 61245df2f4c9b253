"""Safe overwrite of existing tables: restore under a temporary name, verify, then ``ALTER TABLE ... SWAP WITH``.

StarRocks' grammar (3.5 e223275f, ``StarRocks.g4`` ``swapTableClause``: ``SWAP WITH identifier``) swaps two OLAP
tables of one database by name in one catalog operation (``AlterJobExecutor.visitSwapTableClause`` checks both, then
``AlterJobMgr.swapTableInternal`` drops both names and registers each table under the other's name, logged as one
``SwapTableOperationLog``): readers see the old table or the new one, never a half-restored one. The swap also marks
materialized views on either table inactive (``inactiveReasonForBaseTableSwapped``); the restore re-activates them.
Pure Python: names, statements and the check of the temporary table; the operator runs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sr_airflow.engine.errors import RestoreRefusedError
from sr_airflow.engine.quoting import quote_identifier
from sr_airflow.engine.scope import ObjectKind, Scope

OVERWRITE_MODES = ("swap", "in_place")
SWAP_MARK = "__sr_swap_"
_MAX_BASE = 40  # keeps the temporary name well inside StarRocks' table-name length limit


def swap_token(label: str, timestamp: str) -> str:
    """A short id of one restore (label and timestamp): the same on a resumed or retried task."""
    return hashlib.sha1(f"{label}@{timestamp}".encode()).hexdigest()[:8]  # noqa: S324 - a name, not a secret


def swap_name(table: str, token: str) -> str:
    """The temporary name ``table`` is restored under before the swap."""
    return f"{table[:_MAX_BASE]}{SWAP_MARK}{token}"


def swap_scope(scope: Scope, temporaries: Mapping[str, str]) -> Scope:
    """``scope`` with each named table whose target is in ``temporaries`` restored under its temporary name."""
    objects = []
    for ref in scope.objects:
        target = ref.alias or ref.name
        if ref.kind is ObjectKind.TABLE and target in temporaries:
            ref = replace(ref, alias=temporaries[target])
        objects.append(ref)
    return replace(scope, objects=tuple(objects))


def refuse_swap(scope: Scope, overwritten: Sequence[str], live_partitions: Mapping[str, set[str]],
                snapshot_partitions: Mapping[str, set[str]], targets: Mapping[str, str]) -> str | None:
    """Why a swap cannot replace ``overwritten`` (None: it can). A swap replaces whole tables, so it needs each
    table named (``tables=[...]``) and restored whole, and the snapshot must hold every partition the live table
    has (a swap would drop the others; an in-place restore keeps them)."""
    named = {(r.alias or r.name): r for r in scope.objects if r.kind is ObjectKind.TABLE}
    for table in overwritten:
        ref = named.get(table)
        if ref is None:
            return (f"table {table!r} is not named in tables=[...] (a swap restores named tables under a "
                    "temporary name)")
        if ref.partitions:
            return f"table {table!r} is restored by partition (a swap replaces whole tables)"
        source = next((s for s, t in targets.items() if t == table), table)
        extra = sorted(live_partitions.get(table, set()) - snapshot_partitions.get(source, set()))
        if extra:
            return (f"table {table!r} has partition(s) {', '.join(extra)} that the snapshot does not hold (a swap "
                    "would drop them)")
    return None


def snapshot_partition_versions(backup_object: Mapping[str, Any]) -> dict[str, list[int]]:
    """Partition -> the sorted versions of its physical partitions, from a job-info ``backup_objects`` entry
    (``subPartitions`` from 3.4 on, the partition itself before)."""
    out = {}
    for name, part in (backup_object.get("partitions") or {}).items():
        subs = part.get("subPartitions") or {}
        versions = [s.get("version") for s in subs.values()] if subs else [part.get("version")]
        out[name] = sorted(v for v in versions if v is not None)
    return out


def check_swapped_in(table: str, expected: Mapping[str, list[int]], actual: Mapping[str, list[int]]) -> list[str]:
    """Differences between the temporary table's partitions (``partitions_meta`` versions) and the snapshot's."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            problems.append(f"table {table!r} partition {name!r} is missing")
        elif name not in expected:
            problems.append(f"table {table!r} partition {name!r} is not in the snapshot")
        elif expected[name] and sorted(actual[name]) != expected[name]:
            problems.append(f"table {table!r} partition {name!r}: version expected {expected[name]}, "
                            f"found {sorted(actual[name])}")
    return problems


def render_swap_table(database: str, table: str, other: str) -> str:
    return (f"ALTER TABLE {quote_identifier(database, argument='database')}.{quote_identifier(table, argument='table')}"
            f" SWAP WITH {quote_identifier(other, argument='table')}")


def render_drop_table(database: str, table: str) -> str:
    return (f"DROP TABLE IF EXISTS {quote_identifier(database, argument='database')}."
            f"{quote_identifier(table, argument='table')}")


def check_overwrite_mode(mode: str | None) -> None:
    if mode is not None and mode not in OVERWRITE_MODES:
        raise ValueError(f"overwrite_mode must be 'swap' or 'in_place', got {mode!r}.")


class SwapRefusedError(RestoreRefusedError):
    """A swap overwrite was asked for a restore it cannot protect."""
