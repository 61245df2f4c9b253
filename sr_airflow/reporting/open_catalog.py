"""A repository's catalog read straight from its location, with an Airflow storage connection — the CLI and the
backups page read what the DAGs wrote, with the same connections.

The location is read by the one rule every operator follows (``storage/connections.location_for_connection``:
the connection's type says S3, MinIO, GCS or HDFS) and the storage opened through the registry
(``storage.get_storage``); the catalog is ``CatalogStore(...).load()``. There is no cluster here to compare the
location with (``operators/repository_storage.py`` does that for tasks): the catalog lives in storage alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sr_airflow.engine.errors import SrAirflowError

if TYPE_CHECKING:
    from sr_airflow.engine.catalog import Catalog
    from sr_airflow.storage.base import RepositoryStorage


class RepositoryNotFoundError(SrAirflowError, LookupError):
    """No catalog of that repository at the location."""


def open_storage(location: str, storage_conn_id: str | None, *, endpoint: str | None = None) -> RepositoryStorage:
    """The storage of ``location`` read with Airflow connection ``storage_conn_id`` (None: the client's own
    credentials, e.g. an instance profile). Raises Airflow's not-found error for an unknown connection."""
    from sr_airflow.storage import get_storage
    from sr_airflow.storage.connections import load_connection, location_for_connection

    place = location_for_connection(location, load_connection(storage_conn_id), endpoint=endpoint)
    return get_storage(place, conn_id=storage_conn_id)


def repositories(storage: RepositoryStorage) -> dict[str, int]:
    """Repository name -> number of catalog files, for every catalog folder (``__sr_airflow_catalog_<repo>``,
    docs/catalog.md) directly under the storage's location."""
    from sr_airflow.storage.catalog_store import CatalogStore
    from sr_airflow.storage.location import CATALOG_ROOT_PREFIX

    names = sorted(o.name[len(CATALOG_ROOT_PREFIX):] for o in storage.list("", recursive=False)
                   if o.is_dir and o.name.startswith(CATALOG_ROOT_PREFIX) and len(o.name) > len(CATALOG_ROOT_PREFIX))
    return {name: len(CatalogStore(storage, name).labels()) for name in names}


def load_from_storage(storage: RepositoryStorage, repository: str) -> Catalog:
    """Every readable entry of ``repository``'s catalog in ``storage``. Raises RepositoryNotFoundError when the
    location holds no entry of it, naming the repositories it does hold."""
    from sr_airflow.storage.catalog_store import CatalogStore

    store = CatalogStore(storage, repository)
    catalog = store.load()
    if len(catalog) == 0 and not store.unreadable:
        found = repositories(storage)
        if not found.get(repository):
            known = ", ".join(sorted(found)) or "none"
            raise RepositoryNotFoundError(
                f"repository {repository!r} has no catalog at {storage.location.starrocks_uri} "
                f"(repositories with a catalog there: {known}).")
    return catalog


def load_catalog(location: str, repository: str, storage_conn_id: str | None, *,
                 endpoint: str | None = None) -> Catalog:
    """The catalog of ``repository`` at ``location``, read with Airflow connection ``storage_conn_id``."""
    return load_from_storage(open_storage(location, storage_conn_id, endpoint=endpoint), repository)
