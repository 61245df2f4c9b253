"""Colocation groups: read at backup time, put back after a restore (StarRocks does neither).

A table's group (``colocate_with``) is ``OlapTable.colocateGroup``; ``OlapTable.getCommonProperties`` lists it
among the properties that ``information_schema.tables_config.PROPERTIES`` shows as JSON
(``InformationSchemaDataSource.genProps``; 3.5, e223275f78). A RESTORE drops it from every table it creates unless
the FE config ``enable_colocate_restore`` (default false) is on, and from every existing table it restores into
(``RestoreJob.checkAndPrepareMeta``: ``remoteOlapTbl.setColocateGroup(null)``); so the catalog records each
table's group (``TableCensus.colocate_with``) and the restore sets it again with ``ALTER TABLE t SET
("colocate_with" = "g")`` (``AlterJobExecutor`` -> ``ColocateTableIndex.modifyTableColocate``, which refuses a
table whose buckets or distribution do not match the group's: ``ColocateGroupSchema.checkColocateSchema``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sr_airflow.engine.quoting import quote_identifier, quote_string

PROPERTY = "colocate_with"


def colocation_groups(config_rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    """Table -> colocation group, from ``tables_config`` rows (TABLE_NAME first, PROPERTIES last); tables
    without a group are left out."""
    groups = {}
    for row in config_rows:
        try:
            props = json.loads(row[-1]) if isinstance(row[-1], str) and row[-1] else {}
        except ValueError:
            continue
        group = props.get(PROPERTY) if isinstance(props, dict) else None
        if group:
            groups[str(row[0])] = str(group)
    return groups


def render_set_colocation(database: str, table: str, group: str) -> str:
    qualified = quote_identifier(database, argument="database") + "." + quote_identifier(table, argument="table")
    return f"ALTER TABLE {qualified} SET ({quote_string(PROPERTY)} = {quote_string(group, argument='group')})"


@dataclass
class ColocationOutcome:
    """What re-applying the groups did: table -> group set again, table -> why it could not be."""

    applied: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"applied": dict(sorted(self.applied.items())), "failed": dict(sorted(self.failed.items()))}


def wanted_groups(recorded: Mapping[str, str | None], targets: Mapping[str, str]) -> dict[str, str]:
    """Target table -> group, for the restored tables (snapshot name -> target name) the catalog records a group
    for."""
    return {target: recorded[source] for source, target in targets.items() if recorded.get(source)}
