"""SHOW SNAPSHOT (all three forms) and SHOW REPOSITORIES rows as typed objects."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pendulum import DateTime

from sr_airflow.engine.errors import SnapshotNotFoundError
from sr_airflow.engine.job_states import rows_as_dicts
from sr_airflow.engine.timestamps import NULL_STRING, parse_show_time

INVALID_PREFIX = "Invalid: "


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return None if text == NULL_STRING else text


@dataclass(frozen=True)
class SnapshotListing:
    """One row of ``SHOW SNAPSHOT ON repo`` (plain or ``WHERE SNAPSHOT = 'x'``).

    A snapshot may hold several timestamps (one cell joined by newlines); names without a valid checksum
    appear as ``Invalid: <file>`` and are kept apart in ``invalid``.
    """

    label: str
    timestamps: tuple[str, ...]
    status: str
    invalid: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    @property
    def latest_timestamp(self) -> str | None:
        # yyyy-MM-dd-HH-mm-ss-SSS sorts lexically in time order within one time zone.
        return max(self.timestamps) if self.timestamps else None


@dataclass(frozen=True)
class SnapshotDetail:
    """The detailed form ``WHERE SNAPSHOT = 'x' AND TIMESTAMP = 't'``: database and the JSON brief."""

    label: str
    timestamp: str
    database: str | None
    details: Mapping[str, object] = field(default_factory=dict)
    status: str = "OK"

    @property
    def ok(self) -> bool:
        return self.status == "OK"


def parse_snapshot_listing(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> list[SnapshotListing]:
    listings = []
    for row in rows_as_dicts(columns, rows):
        cell = _text(row.get("Timestamp")) or ""
        entries = [part.strip() for part in cell.split("\n") if part.strip()]
        valid = tuple(e for e in entries if not e.startswith(INVALID_PREFIX))
        invalid = tuple(e[len(INVALID_PREFIX):] for e in entries if e.startswith(INVALID_PREFIX))
        listings.append(SnapshotListing(_text(row.get("Snapshot")) or "", valid, _text(row.get("Status")) or "",
                                        invalid))
    return listings


def parse_snapshot_detail(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> list[SnapshotDetail]:
    details = []
    for row in rows_as_dicts(columns, rows):
        raw = _text(row.get("Details"))
        try:
            parsed = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            parsed = {}
        details.append(SnapshotDetail(
            label=_text(row.get("Snapshot")) or "",
            timestamp=_text(row.get("Timestamp")) or "",
            database=_text(row.get("Database")),
            details=parsed,
            status=_text(row.get("Status")) or "",
        ))
    return details


def usable_listing(listings: Sequence[SnapshotListing], label: str, repository: str) -> SnapshotListing:
    """The listing of snapshot ``label`` when it is OK with at least one timestamp; otherwise
    :class:`SnapshotNotFoundError` saying what the repository shows of it."""
    listing = next((s for s in listings if s.label == label), None)
    if listing is None or not listing.ok or not listing.timestamps:
        status = listing.status if listing else "not listed"
        raise SnapshotNotFoundError(f"Snapshot {label!r} is not usable in repository {repository!r} "
                                    f"(status: {status}).")
    return listing


def usable_detail(details: Sequence[SnapshotDetail], label: str, timestamp: str, repository: str) -> SnapshotDetail:
    """The detailed row of snapshot ``label`` at ``timestamp`` when it is OK; otherwise
    :class:`SnapshotNotFoundError` saying what the repository shows of it."""
    if not details or not details[0].ok:
        status = details[0].status if details else "not listed"
        raise SnapshotNotFoundError(f"Snapshot {label!r} at {timestamp} is not readable in repository "
                                    f"{repository!r} (status: {status}).")
    return details[0]


@dataclass(frozen=True)
class RepositoryInfo:
    """One row of SHOW REPOSITORIES."""

    repo_id: str
    name: str
    create_time: DateTime | None
    read_only: bool
    location: str
    broker: str
    error: str | None


def parse_show_repositories(
    columns: Sequence[str], rows: Sequence[Sequence[object]], tz="UTC"
) -> list[RepositoryInfo]:
    return [
        RepositoryInfo(
            repo_id=_text(row.get("RepoId")) or "",
            name=_text(row.get("RepoName")) or "",
            create_time=parse_show_time(_text(row.get("CreateTime")), tz),
            read_only=(_text(row.get("IsReadOnly")) or "false").lower() == "true",
            location=_text(row.get("Location")) or "",
            broker=_text(row.get("Broker")) or "",
            error=_text(row.get("ErrMsg")) or None,
        )
        for row in rows_as_dicts(columns, rows)
    ]
