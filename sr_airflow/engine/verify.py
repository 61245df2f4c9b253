"""Proof of a restore: what the target holds compared with what the snapshots recorded (and with the source).

- versions: each restored partition's VISIBLE_VERSION (``information_schema.partitions_meta``) equals the version
  the snapshot holding it recorded in its own job-info file — StarRocks sets it so on restore; the catalog only
  says which snapshot holds each partition, and its own records are checked against those job infos;
- row counts: per partition, the target's ROW_COUNT equals the one recorded at backup time (and the source's);
- nothing else: a partition of a restored table that no snapshot holds is a mismatch;
- checksums: per table, ``count(*)`` and ``sum(murmur_hash3_32(<every column as text>))`` equal on both sides.
Pure Python: the queries are built here, run by the operator, and their rows compared here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sr_airflow.engine.quoting import quote_identifier

Key = tuple[str, str]


@dataclass(frozen=True)
class Mismatch:
    """One difference: ``what`` is ``version``, ``row_count``, ``checksum``, ``missing``, ``unexpected`` (in the
    target, held by no snapshot) or ``catalog`` (the catalog's record differs from the snapshot's job info)."""

    table: str
    partition: str | None
    what: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        where = f"table {self.table!r} partition {self.partition!r}" if self.partition else f"table {self.table!r}"
        return f"{where}: {self.what} expected {self.expected!r}, found {self.actual!r}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_versions(expected: Mapping[Key, int | None], actual: Mapping[Key, int | None]) -> list[Mismatch]:
    """Every partition the snapshot recorded must be in the target at the recorded version."""
    out = []
    for key in sorted(expected):
        if key not in actual:
            out.append(Mismatch(key[0], key[1], "missing", expected[key], None))
        elif expected[key] is not None and actual[key] != expected[key]:
            out.append(Mismatch(key[0], key[1], "version", expected[key], actual[key]))
    return out


def compare_row_counts(source: Mapping[Key, int | None], target: Mapping[Key, int | None],
                       keys: Sequence[Key] | None = None) -> list[Mismatch]:
    """Per partition, the target's row count equals the source's (over ``keys``, default: the source's)."""
    out = []
    for key in sorted(keys if keys is not None else source):
        if key not in target:
            out.append(Mismatch(key[0], key[1], "missing", source.get(key), None))
        elif source.get(key) != target[key]:
            out.append(Mismatch(key[0], key[1], "row_count", source.get(key), target[key]))
    return out


def checksum_query(database: str, table: str, columns: Sequence[str]) -> str:
    """``count(*)`` and an order-independent hash of every row of ``database.table``."""
    if not columns:
        raise ValueError(f"table {table!r} has no columns to checksum.")
    parts = ", ".join(f"coalesce(CAST({quote_identifier(c, argument='column')} AS VARCHAR), '\\\\N')"
                      for c in columns)
    name = quote_identifier(database, argument="database") + "." + quote_identifier(table, argument="table")
    return f"SELECT count(*), coalesce(sum(murmur_hash3_32({parts})), 0) FROM {name}"  # noqa: S608


def compare_checksums(source: Mapping[str, tuple[int, int]], target: Mapping[str, tuple[int, int]]) -> list[Mismatch]:
    out = []
    for table in sorted(source):
        mine = target.get(table)
        if mine is None:
            out.append(Mismatch(table, None, "missing", source[table], None))
        elif tuple(int(x) for x in mine) != tuple(int(x) for x in source[table]):
            out.append(Mismatch(table, None, "checksum", tuple(source[table]), tuple(mine)))
    return out


def versions_from_job_infos(chosen: Mapping[Key, str], job_infos: Mapping[str, Any]) -> dict[Key, Any]:
    """(table, partition) -> its version as the job info of the snapshot holding it recorded (the sorted
    versions of its physical partitions when it has several); None where that job info lacks the partition."""
    recorded: dict[str, dict[Key, Any]] = {}
    for label, info in job_infos.items():
        recorded[label] = {(t.name, p.name): physical_versions([v for _, v in p.physical_partitions])
                           for t in info.tables for p in t.partitions}
    return {key: recorded.get(label, {}).get(key) for key, label in chosen.items()}


def physical_versions(versions: Sequence[int | None]) -> int | tuple[int | None, ...] | None:
    """A partition's version as verify compares it: the one version of its one physical partition (the common
    case), else the sorted versions of its physical partitions (partitions_meta has a row for each)."""
    if len(versions) == 1:
        return versions[0]
    return tuple(sorted(versions, key=lambda v: (v is None, v or 0)))


def compare_catalog_with_job_infos(catalog_versions: Mapping[Key, Any],
                                   job_info_versions: Mapping[Key, Any]) -> list[Mismatch]:
    """The catalog's record of each chosen partition equals what its snapshot's job info says."""
    return [Mismatch(k[0], k[1], "catalog", job_info_versions[k], catalog_versions[k]) for k in sorted(catalog_versions)
            if job_info_versions.get(k) is None or catalog_versions[k] != job_info_versions[k]]


def compare_unexpected(expected: Mapping[Key, Any], actual: Mapping[Key, Any]) -> list[Mismatch]:
    """Partitions of restored tables that the target has and no snapshot holds."""
    tables = {t for t, _ in expected}
    return [Mismatch(k[0], k[1], "unexpected", None, actual[k]) for k in sorted(actual)
            if k[0] in tables and k not in expected]
