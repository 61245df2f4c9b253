"""What a database holds besides partitions: each table's schema fingerprint, its views, materialized views and
functions, with a fingerprint each — so the planner sees changes that move no partition version. Pure Python:
the rows are read here (the statements: ``engine/database_metadata.py`` and ``functions_query``).

No schema change moves a partition's VISIBLE_VERSION on a shared-nothing cluster (3.5, e223275f78):
``SchemaChangeHandler.analyzeAndCreateJob`` changes ADD/DROP of value columns in the table's metadata only when
the table uses fast schema evolution (``fastSchemaEvolutionInShareNothingMode`` -> ``modifyTableAddOrDrop``, no
transaction); any other column change runs a ``SchemaChangeJobV2`` that rewrites the tablets *at* the partition's
visible version (``runWaitingTxnJob``: ``partition.getVisibleVersion()``) without publishing a new one; RENAME
COLUMN, comments and ``SET (properties)`` are metadata edits. Physical partition ids stay too. So the planner
compares fingerprints (docs/catalog.md, "Schema changes").

The fingerprint covers what a RESTORE recreates from the snapshot's ``__meta`` and checks against an existing
table (``RestoreJob.checkAndPrepareMeta``: base-schema columns one by one, keys type, ``OlapTable.getSignature``:
indexes, bloom filter columns, partition type and columns, distribution): every column (name, position, type,
nullability, default, key, comment) from ``information_schema.columns``, and the table's model, keys,
partition key, distribution, sort key and properties from ``information_schema.tables_config`` — except
``replication_num``, which a restore sets from its own property (``OlapTable.resetIdsForRestore``) — and the table
comment from ``information_schema.tables`` (``FrontendServiceImpl.listTableStatus``: ``table.getComment()``),
which the snapshot's ``__meta`` carries and a restore that creates the table brings back. An empty comment is left
out of the digest, so tables without one keep the fingerprints recorded before comments were read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sr_airflow.engine.colocation import colocation_groups
from sr_airflow.engine.quoting import quote_identifier

COLUMN_FIELDS = ("TABLE_NAME", "COLUMN_NAME", "ORDINAL_POSITION", "COLUMN_TYPE", "IS_NULLABLE", "COLUMN_DEFAULT",
                 "COLUMN_KEY", "COLUMN_COMMENT")
TABLE_CONFIG_FIELDS = ("TABLE_NAME", "TABLE_ENGINE", "TABLE_MODEL", "PRIMARY_KEY", "PARTITION_KEY", "DISTRIBUTE_KEY",
                       "DISTRIBUTE_TYPE", "DISTRIBUTE_BUCKET", "SORT_KEY", "PROPERTIES")
TABLE_FIELDS = ("TABLE_NAME", "TABLE_COMMENT")
VIEW_FIELDS = ("TABLE_NAME", "VIEW_DEFINITION")
RESTORE_SETS = frozenset({"replication_num"})  # properties a RESTORE sets itself: not part of the schema


def functions_query(database: str) -> str:
    """The database's functions: the statement a plan sends beside ``metadata.metadata_query`` (StarRocks'
    ``information_schema.routines`` is a dummy scanner, always empty, so functions cannot join that union)."""
    return f"SHOW FULL FUNCTIONS FROM {quote_identifier(database, argument='database')}"


@dataclass(frozen=True)
class DatabaseObjects:
    """A database's tables (name -> schema fingerprint), views, materialized views and functions (name ->
    fingerprint of its definition), as the metadata queries show them now."""

    tables: Mapping[str, str] = field(default_factory=dict)
    views: Mapping[str, str] = field(default_factory=dict)
    materialized_views: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)
    colocation: Mapping[str, str] = field(default_factory=dict)  # table -> colocation group (engine/colocation.py)

    def of_kind(self, kind: str) -> Mapping[str, str]:
        return getattr(self, kind)


def fingerprint(value: Any) -> str:
    """A short stable digest of a JSON-able value."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _properties(text: Any) -> Any:
    try:
        props = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return text
    if isinstance(props, dict):
        return {k: v for k, v in props.items() if k not in RESTORE_SETS}
    return props


def table_fingerprints(column_rows: Iterable[Sequence[Any]], config_rows: Iterable[Sequence[Any]],
                       materialized_views: Iterable[str] = (),
                       table_rows: Iterable[Sequence[Any]] = ()) -> dict[str, str]:
    """Table -> fingerprint, from the ``columns``, ``tables_config`` and ``tables`` (comment) rows; views and
    materialized views (which ``columns`` lists too) are left out."""
    columns: dict[str, list] = {}
    for row in column_rows:
        columns.setdefault(str(row[0]), []).append([None if v is None else str(v) for v in row[1:]])
    configs: dict[str, list] = {}
    for row in config_rows:
        configs[str(row[0])] = [None if v is None else str(v) for v in row[1:-1]] + [_properties(row[-1])]
    comments = {str(name): str(comment) for name, comment in table_rows if comment}
    skip = set(materialized_views)
    return {t: fingerprint({"columns": columns.get(t, []), "config": configs[t],
                            **({"comment": comments[t]} if t in comments else {})})
            for t in sorted(configs) if t not in skip and configs[t][0] not in ("", None)}


def view_fingerprints(rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    return {str(name): fingerprint(str(definition or "")) for name, definition in rows}


def function_fingerprints(rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    """``SHOW FULL FUNCTIONS`` rows (Signature, Return Type, Function Type, Intermediate Type, Properties): the name
    is the signature up to its '('; overloads of one name share one fingerprint (BACKUP names a function by name)."""
    by_name: dict[str, list] = {}
    for row in rows:
        signature = str(row[0])
        by_name.setdefault(signature.split("(", 1)[0].strip(), []).append([None if v is None else str(v) for v in row])
    return {name: fingerprint(sorted(found)) for name, found in sorted(by_name.items())}


def database_objects(rows: Mapping[str, Iterable[Sequence[Any]]], materialized_views: Mapping[str, str]) -> \
        DatabaseObjects:
    """The objects of a database from its ``columns``, ``tables_config``, ``tables`` and ``views`` rows
    (``metadata.DatabaseMetadata.schema_rows``), its ``functions`` rows (``functions_query``), by name, and its
    materialized views (name -> definition)."""
    return DatabaseObjects(
        tables=table_fingerprints(rows.get("columns", ()), rows.get("tables_config", ()), materialized_views,
                                  rows.get("tables", ())),
        views=view_fingerprints(rows.get("views", ())),
        materialized_views={n: fingerprint(d) for n, d in sorted(materialized_views.items())},
        functions=function_fingerprints(rows.get("functions", ())),
        colocation=colocation_groups(rows.get("tables_config", ())),
    )


def partitioning_of(partition_value: Any) -> str | None:
    """``partitions_meta.PARTITION_VALUE`` (``PartitionsProcDir.findRangeOrListValues``): ``[types: ...`` for a range
    partition, ``((...))`` for a list one, empty for an unpartitioned table; None when unknown."""
    if partition_value is None:
        return None
    text = str(partition_value).strip()
    if not text:
        return "unpartitioned"
    return "range" if text.startswith("[") else "list" if text.startswith("(") else None
