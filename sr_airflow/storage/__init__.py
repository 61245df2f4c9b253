"""The storage hook layer: one interface over S3 / MinIO / GCS / HDFS repository locations.

Importing this package imports no cloud SDK (boto3, google.*, hdfs) and no pyarrow: backends are imported lazily
through the registry.
"""

from __future__ import annotations

from sr_airflow.storage.base import DeletionReport, ObjectInfo, RepositoryStorage, SnapshotSize
from sr_airflow.storage.catalog_store import CatalogStore
from sr_airflow.storage.connections import repository_spec, repository_spec_from_connection
from sr_airflow.storage.layout import InfoFile, StoredSnapshot
from sr_airflow.storage.location import RepositoryLocation, catalog_root, repository_root
from sr_airflow.storage.registry import get_storage, get_storage_class, register_backend
from sr_airflow.storage.retry import RetryPolicy

__all__ = [
    "CatalogStore",
    "DeletionReport",
    "InfoFile",
    "ObjectInfo",
    "RepositoryLocation",
    "RepositoryStorage",
    "RetryPolicy",
    "SnapshotSize",
    "StoredSnapshot",
    "catalog_root",
    "get_storage",
    "get_storage_class",
    "register_backend",
    "repository_root",
    "repository_spec",
    "repository_spec_from_connection",
]
