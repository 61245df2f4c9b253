"""The storage behind a StarRocks repository, opened the same way by every operator.

The one rule: the files are where the user said — the task's ``location`` read with its storage connection
(``storage/connections.location_for_connection``: the connection's type says S3, MinIO, GCS or HDFS). The
location the cluster shows (``SHOW REPOSITORIES``) is only a fallback for a task given no location, read with the
same connection; when both exist and name different places, the task is refused before anything is read or
written. ``SHOW REPOSITORIES`` alone cannot be trusted to open storage: it shows GCS as ``s3a://`` and drops the
endpoint and the credentials (``Repository.getInfo`` at e223275f78 lists name, create time, read-only flag,
location, broker and error message only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sr_airflow.storage.location import RepositoryLocation


def same_place(a: RepositoryLocation, b: RepositoryLocation) -> bool:
    """Whether two locations name the same files: same kind of store, bucket (or NameNode) and folder.
    ``s3://`` and ``s3a://`` of one bucket are the same objects."""
    return (a.backend, a.bucket, a.path) == (b.backend, b.bucket, b.path)


def resolve_repository_location(hook: Any, repository: str, conn: Any | None, *, location: str | None = None,
                                endpoint: str | None = None) -> RepositoryLocation:
    """Where ``repository``'s files are, by the one rule (see the module docstring).

    Raises InvalidArgumentError when the cluster's repository of that name points elsewhere than ``location``,
    SnapshotNotFoundError when no location is given and the cluster does not show the repository.
    """
    from sr_airflow.engine.errors import InvalidArgumentError, SnapshotNotFoundError
    from sr_airflow.storage.connections import location_for_connection

    configured = location_for_connection(location, conn, endpoint=endpoint) if location else None
    shown = hook.repository(repository)
    if shown is None:
        if configured is None:
            raise SnapshotNotFoundError(f"Repository {repository!r} is not shown by SHOW REPOSITORIES on this "
                                        "cluster and the task was given no location; create it first or pass "
                                        "location.")
        return configured
    on_cluster = location_for_connection(shown.location, conn, endpoint=endpoint)
    if configured is not None and not same_place(configured, on_cluster):
        raise InvalidArgumentError(
            f"Repository {repository!r} on this cluster points at {shown.location!r}, not at the configured "
            f"location {location!r} ({configured.starrocks_uri}); fix the location or drop and re-create the "
            "repository.")
    return configured or on_cluster


def repository_storage(hook: Any, repository: str, conn_id: str | None, *, location: str | None = None,
                       endpoint: str | None = None):
    """The storage object of ``repository``: at ``location`` read with connection ``conn_id`` (the cluster's
    location for the repository as the fallback), checked against the cluster (see
    ``resolve_repository_location``)."""
    from sr_airflow.storage import get_storage
    from sr_airflow.storage.connections import load_connection

    conn = load_connection(conn_id)
    place = resolve_repository_location(hook, repository, conn, location=location, endpoint=endpoint)
    return get_storage(place, conn_id=conn_id)
