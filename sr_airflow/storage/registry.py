"""Which class serves which backend: a dotted path plus an install hint, imported only when first used."""

from __future__ import annotations

import importlib
from typing import Any

from sr_airflow.storage.location import RepositoryLocation

# backend name -> (dotted class path, extra that installs its client library)
BACKENDS: dict[str, tuple[str, str]] = {
    "s3": ("sr_airflow.storage.s3.S3RepositoryStorage", "sr-airflow[amazon]"),
    "gcs": ("sr_airflow.storage.gcs.GcsRepositoryStorage", "sr-airflow[google]"),
    "hdfs": ("sr_airflow.storage.hdfs.HdfsRepositoryStorage", "sr-airflow[hdfs]"),
    "memory": ("sr_airflow.storage.memory.MemoryRepositoryStorage", "sr-airflow"),
}

# what the backend needs imported, checked up front so a missing extra gets one clear message
_REQUIRED_MODULES = {"s3": "boto3", "gcs": "google.cloud.storage", "hdfs": "hdfs"}


def register_backend(name: str, class_path: str, install_hint: str, *, clobber: bool = False) -> None:
    """Add a backend (e.g. from a plugin); refuses to replace one unless ``clobber``."""
    if name in BACKENDS and not clobber:
        raise ValueError(f"Storage backend {name!r} is already registered as {BACKENDS[name][0]}.")
    BACKENDS[name] = (class_path, install_hint)


def get_storage_class(backend: str) -> type:
    try:
        class_path, hint = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"Unknown storage backend {backend!r}; known: {', '.join(sorted(BACKENDS))}.") from None
    needed = _REQUIRED_MODULES.get(backend)
    try:
        if needed:
            importlib.import_module(needed)
        module_name, _, class_name = class_path.rpartition(".")
        return getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise ImportError(f"The {backend} storage backend needs {exc.name or needed}: install {hint}.") from exc


def get_storage(location: str | RepositoryLocation, *, conn_id: str | None = None, endpoint: str | None = None,
                backend: str | None = None, **kwargs: Any):
    """A storage object for ``location`` (a URI or a parsed location), credentials from Airflow ``conn_id``.

    ``conn_id`` is an ``aws`` connection for S3/MinIO, a ``google_cloud_platform`` one for GCS, an ``hdfs`` or
    ``webhdfs`` one for HDFS. Other keyword arguments go to the backend class (e.g. ``client=``, ``endpoint_url=``).
    """
    loc = location if isinstance(location, RepositoryLocation) else RepositoryLocation.parse(location,
                                                                                          endpoint=endpoint)
    cls = get_storage_class(backend or loc.backend)
    conn_kw = {"s3": "aws_conn_id", "gcs": "gcp_conn_id", "hdfs": "hdfs_conn_id"}.get(backend or loc.backend)
    if conn_id and conn_kw:
        kwargs[conn_kw] = conn_id
    return cls(loc, **kwargs)
