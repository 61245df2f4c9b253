"""An in-memory backend: the reference implementation of the primitives, for unit tests and dry runs."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sr_airflow.storage.base import ObjectInfo, RepositoryStorage
from sr_airflow.storage.location import RepositoryLocation


class MemoryRepositoryStorage(RepositoryStorage):
    """Objects in a dict shared per bucket name within the process (like fsspec's memory filesystem)."""

    backend = "memory"
    _buckets: dict[str, dict[str, bytes]] = {}
    _lock = threading.Lock()

    def __init__(self, location: RepositoryLocation, **kwargs):
        super().__init__(location, **kwargs)
        with self._lock:
            self.objects = self._buckets.setdefault(location.bucket, {})
        self.delete_requests = 0

    def _ls(self, prefix: str, recursive: bool) -> Iterable[ObjectInfo]:
        base = prefix + "/" if prefix else ""
        seen_dirs: set[str] = set()
        for key, data in list(self.objects.items()):
            if not key.startswith(base):
                continue
            rest = key[len(base):]
            if recursive or "/" not in rest:
                yield ObjectInfo(key, len(data))
            else:
                folder = base + rest.split("/", 1)[0]
                if folder not in seen_dirs:
                    seen_dirs.add(folder)
                    yield ObjectInfo(folder, 0, True)

    def _get(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise FileNotFoundError(f"No object {key!r} in memory bucket {self.location.bucket!r}.") from None

    def _put(self, key: str, data: bytes) -> None:
        self.objects[key] = data

    def _delete(self, keys: list[str]) -> None:
        self.delete_requests += 1
        for key in keys:
            self.objects.pop(key, None)

    def _head(self, key: str) -> ObjectInfo | None:
        data = self.objects.get(key)
        return None if data is None else ObjectInfo(key, len(data))
