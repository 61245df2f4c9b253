"""StarRocksCheckSnapshotOperator: a finished snapshot is listed OK in storage and its files match their md5s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sr_airflow.engine.errors import SrAirflowError


def _label_and_timestamp(item: Any) -> tuple[str, str | None]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, Mapping) and item.get("snapshot_label"):
        return str(item["snapshot_label"]), item.get("backup_timestamp") or None
    raise ValueError(f"snapshots must hold labels or backup results with a snapshot_label, got {item!r}.")


def check_snapshot(storage: Any, repository: str, label: str, timestamp: str | None, *, deep: bool) -> dict:
    """Check one snapshot straight from storage; raises SrAirflowError naming the snapshot and the fault."""
    from sr_airflow.storage.layout import check_md5, split_md5

    listing = storage.snapshot(repository, label)
    if listing.error is not None or not listing.timestamps:
        raise SrAirflowError(f"Snapshot {label!r} is not listed OK in repository {repository!r} "
                             f"({listing.error or 'no valid job-info file'}).")
    if timestamp and timestamp not in listing.timestamps:
        raise SrAirflowError(f"Snapshot {label!r} has no job info for timestamp {timestamp!r} in repository "
                             f"{repository!r}; it has {', '.join(listing.timestamps)}.")
    try:
        info_timestamp, _ = storage.read_job_info_bytes(repository, label, timestamp)
    except (OSError, ValueError) as exc:
        raise SrAirflowError(f"Snapshot {label!r} job info is unreadable: {exc}") from None
    try:  # RESTORE downloads it as it downloads the job info: one __meta.<md5> file, its md5 right
        storage.read_meta_bytes(repository, label)
    except (OSError, ValueError) as exc:
        raise SrAirflowError(f"Snapshot {label!r} __meta is unreadable: {exc}") from None
    files = checked = size = 0
    for obj in storage.iter_snapshot_objects(repository, label):
        files += 1
        size += obj.size
        parts = split_md5(obj.name)
        if parts is None:
            raise SrAirflowError(f"Snapshot {label!r} holds {obj.key!r} without an md5 suffix.")
        if deep:
            try:
                check_md5(obj.key, storage.read(obj.key))
            except ValueError:
                raise SrAirflowError(f"Snapshot {label!r} file {obj.key!r} does not match its md5.") from None
            checked += 1
    return {"snapshot_label": label, "backup_timestamp": info_timestamp, "files": files,
            "files_md5_checked": checked, "size_bytes": size}


class StarRocksCheckSnapshotOperator(BaseOperator):
    """Check snapshots straight from the repository's storage, as a restore would need them.

    Each snapshot must be listed with status OK (a valid ``__info_<timestamp>.<md5>``), its job info and its one
    ``__meta`` file must match their md5s, and every file must carry an md5 suffix; with ``deep=True`` every file is
    read and its md5 recomputed.

    :param repository: the repository name.
    :param location: the repository location, e.g. ``s3://bucket/backups``.
    :param storage_conn_id: the storage connection (``aws``, ``google_cloud_platform``, ``hdfs``).
    :param snapshots: labels, or the backup operator's XCom results (``snapshot_label``, ``backup_timestamp``).
    :param deep: read every file and recompute its md5.
    :param endpoint: an S3 endpoint URL (MinIO or a local S3 server), when the connection has none.
    """

    template_fields: Sequence[str] = ("repository", "location", "storage_conn_id", "snapshots", "endpoint")
    ui_color = "#e2f0d9"

    def __init__(self, *, repository: str, location: str, snapshots: Any, storage_conn_id: str | None = None,
                 deep: bool = False, endpoint: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self.location = location
        self.storage_conn_id = storage_conn_id
        self.snapshots = snapshots
        self.deep = deep
        self.endpoint = endpoint

    def execute(self, context: Any) -> list[dict]:
        from sr_airflow.storage import get_storage
        from sr_airflow.storage.connections import load_connection, location_for_connection

        items = [self.snapshots] if isinstance(self.snapshots, (str, Mapping)) else list(self.snapshots or [])
        wanted = [_label_and_timestamp(item) for item in items if item]
        if not wanted:
            raise ValueError("snapshots is empty: there is nothing to check.")
        # the location as the connection's type reads it (operators/repository_storage.py's rule; this operator
        # talks to storage only, so there is no cluster to compare with)
        place = location_for_connection(self.location, load_connection(self.storage_conn_id), endpoint=self.endpoint)
        storage = get_storage(place, conn_id=self.storage_conn_id)
        results = []
        for label, timestamp in wanted:
            result = check_snapshot(storage, self.repository, label, timestamp, deep=self.deep)
            self.log.info("Snapshot %r (%s) is OK: %d files, %d bytes, %d md5s recomputed.", label,
                          result["backup_timestamp"], result["files"], result["size_bytes"],
                          result["files_md5_checked"])
            results.append(result)
        return results
