"""Restore drills on storage: one small JSON file per drill, in the catalog's folder beside its entries.

``<location>/__sr_airflow_catalog_<repo>/drills/<database>/<started_at>_<run>.json`` (names percent-encoded
outside ``[A-Za-z0-9._-]``). A drill writes its file when it starts (``result = "running"``) and again when it
ends; every write is one object PUT, as the catalog's. The record of a drill whose scratch database is not
dropped yet is the marker that lets the next drill drop a scratch database left behind (docs/catalog.md,
"Restore drills"). No credentials are ever written.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sr_airflow.storage.base import RepositoryStorage
from sr_airflow.storage.location import catalog_root, join_key

log = logging.getLogger(__name__)

DRILLS_DIR = "drills"
SUFFIX = ".json"
DRILL_RESULTS = ("running", "ok", "failed")


@dataclass(frozen=True)
class DrillRecord:
    """One restore drill: which database, into which scratch database, the snapshot restored, when, how long it
    took to restore and verify (``rto_seconds``), the result and why."""

    database: str
    scratch_database: str
    started_at: datetime
    result: str = "running"
    snapshot_label: str | None = None
    point_in_time: str | None = None
    finished_at: datetime | None = None
    rto_seconds: float | None = None
    partitions_checked: int | None = None
    message: str | None = None
    scratch_dropped: bool = False
    dag_id: str | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.result not in DRILL_RESULTS:
            raise ValueError(f"drill result must be one of {', '.join(DRILL_RESULTS)}, got {self.result!r}.")
        if self.started_at.tzinfo is None:
            raise ValueError("a drill's started_at must carry its time zone.")

    @property
    def file_name(self) -> str:
        moment = self.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return quote(f"{moment}_{self.run_id or ''}", safe="-_.") + SUFFIX

    def with_changes(self, **changes: Any) -> DrillRecord:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: times as ISO-8601 UTC strings."""
        data = asdict(self)
        for name in ("started_at", "finished_at"):
            data[name] = data[name].astimezone(UTC).isoformat() if data[name] else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillRecord:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}  # a newer writer's extra keys
        for name in ("started_at", "finished_at"):
            if known.get(name):
                known[name] = datetime.fromisoformat(known[name])
        return cls(**known)


class DrillStore:
    """Reads and writes the drill records of repository ``repo`` in ``storage``'s location."""

    def __init__(self, storage: RepositoryStorage, repo: str):
        self.storage = storage
        self.repo = repo
        self.root = join_key(catalog_root(repo), DRILLS_DIR)

    def key(self, record: DrillRecord) -> str:
        return join_key(self.root, quote(record.database, safe="-_."), record.file_name)

    def put(self, record: DrillRecord) -> None:
        """Create or replace the record (one object write)."""
        self.storage.write(self.key(record), json.dumps(record.to_dict(), sort_keys=True).encode())
        log.info("Drill of %s into %s recorded as %s.", record.database, record.scratch_database, record.result)

    def load(self, database: str | None = None) -> list[DrillRecord]:
        """Every readable record (of ``database``), oldest first; an unreadable file is logged and skipped."""
        prefix = join_key(self.root, quote(database, safe="-_.")) if database else self.root
        records = []
        for info in self.storage.list(prefix):
            if not info.key.endswith(SUFFIX):
                continue
            try:
                records.append(DrillRecord.from_dict(json.loads(self.storage.read(info.key))))
            except FileNotFoundError:
                continue  # removed between list and read
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("Drill record %s is unreadable (%s); skipped.", info.key, type(exc).__name__)
        return sorted(records, key=lambda r: r.started_at)

    def undropped_scratch(self, scratch_database: str) -> list[DrillRecord]:
        """The drills that restored into ``scratch_database`` and have not recorded dropping it, oldest first."""
        return [r for r in self.load() if r.scratch_database == scratch_database and not r.scratch_dropped]


def load_drills(storage: RepositoryStorage, repo: str, database: str | None = None) -> list[DrillRecord]:
    """The drill records of repository ``repo`` (of ``database``), oldest first."""
    return DrillStore(storage, repo).load(database)


def last_drills(storage: RepositoryStorage, repo: str) -> dict[str, DrillRecord]:
    """The newest drill record of each database of repository ``repo`` (running ones included)."""
    return {record.database: record for record in load_drills(storage, repo)}
