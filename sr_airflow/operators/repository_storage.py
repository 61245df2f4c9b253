"""The storage behind a StarRocks repository: its location as ``SHOW REPOSITORIES`` shows it, opened with the
task's storage connection. Every operator that reads the catalog or snapshot files goes through here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sr_airflow.engine.snapshots import RepositoryInfo


def find_repository(hook: Any, name: str) -> RepositoryInfo | None:
    """The repository ``name`` as the hook's cluster shows it, or None when it does not show it."""
    from sr_airflow.engine.snapshots import parse_show_repositories
    from sr_airflow.engine.statements import render_show_repositories

    columns, rows = hook.fetch(render_show_repositories())
    return next((r for r in parse_show_repositories(columns, rows) if r.name == name), None)


def repository_storage(hook: Any, repository: str, conn_id: str | None, *, location: str | None = None):
    """The storage of ``repository``: at ``location`` when the caller knows it, else where the cluster says.

    Raises SnapshotNotFoundError when the cluster does not show the repository (nothing can be read from it).
    """
    from sr_airflow.storage import get_storage

    if not location:
        info = find_repository(hook, repository)
        if info is None:
            from sr_airflow.engine.errors import SnapshotNotFoundError

            raise SnapshotNotFoundError(f"Repository {repository!r} is not shown by SHOW REPOSITORIES on this "
                                        "cluster; create it first.")
        location = info.location
    return get_storage(location, conn_id=conn_id)
