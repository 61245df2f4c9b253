"""HDFS backend over WebHDFS, on HdfsCLI (the ``hdfs`` package, the client Airflow's WebHDFSHook uses).

StarRocks writes to ``hdfs://nn:rpc_port/path`` through a broker; sr_airflow reads the same files through the
NameNode's WebHDFS port (``webhdfs_url``, default ``http://<host>:9870``, or the host/port of an ``hdfs`` /
``webhdfs`` Airflow connection). WebHDFS RENAME does not overwrite, so an overwrite is "write temp, delete old,
rename": during that instant the complete new content is in ``<key>.__sr_tmp__<id>`` (see ``TEMP_MARKER``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sr_airflow.storage.base import TEMP_MARKER, DeletionReport, ObjectInfo, RepositoryStorage
from sr_airflow.storage.location import RepositoryLocation, normalise_key

DEFAULT_WEBHDFS_PORT = 9870
#: HTTP statuses that a gateway in front of the NameNode (HttpFS, Knox, a load balancer) answers for a passing
#: overload or restart; with no RemoteException body, HdfsCLI would drop the status, so the session keeps it.
TRANSIENT_HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})


class GatewayError(OSError):
    """A transient HTTP status without a WebHDFS RemoteException body."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"WebHDFS answered HTTP {status}")
        self.status = status
        self.url = url


def _raise_gateway_errors(response: Any, *args: Any, **kwargs: Any) -> None:
    if response.status_code not in TRANSIENT_HTTP_STATUSES:
        return
    try:
        if "RemoteException" in response.json():
            return  # a NameNode answer: HdfsCLI reads its exception name (Standby, Retriable, ...)
    except ValueError:
        pass
    raise GatewayError(response.status_code, response.url)


class HdfsRepositoryStorage(RepositoryStorage):
    backend = "hdfs"
    delete_batch_size = 1000

    def __init__(self, location: RepositoryLocation, *, hdfs_conn_id: str | None = None, client: Any = None,
                 webhdfs_url: str | None = None, user: str | None = None, password: str | None = None, **kwargs):
        super().__init__(location, **kwargs)
        self.hdfs_conn_id = hdfs_conn_id
        self._client = client
        self.webhdfs_url = webhdfs_url
        self.user = user
        self.password = password
        if password:
            from sr_airflow.storage.connections import mask_secrets

            mask_secrets([password])

    @property
    def client(self) -> Any:
        if self._client is None:
            import requests
            from hdfs import InsecureClient

            url, user, password = self.webhdfs_url, self.user, self.password
            if self.hdfs_conn_id:
                from airflow.sdk import BaseHook

                conn = BaseHook.get_connection(self.hdfs_conn_id)
                scheme = "https" if conn.extra_dejson.get("use_ssl") else "http"
                url = url or f"{scheme}://{conn.host}:{conn.port or DEFAULT_WEBHDFS_PORT}"
                user, password = user or conn.login, password or conn.password
            if not url:
                host = urlsplit(f"//{self.location.bucket}").hostname
                url = f"http://{host}:{DEFAULT_WEBHDFS_PORT}"
            session = requests.Session()
            session.hooks["response"].append(_raise_gateway_errors)
            if password:
                session.auth = (user or "", password)
            self._client = InsecureClient(url, user=user, session=session)
        return self._client

    @staticmethod
    def _path(key: str) -> str:
        return "/" + key

    def _ls(self, prefix: str, recursive: bool) -> Iterable[ObjectInfo]:
        stack = [prefix]
        while stack:
            folder = stack.pop()
            status = self.client.status(self._path(folder), strict=False)
            if status is None or status["type"] != "DIRECTORY":
                continue
            for name, st in self.client.list(self._path(folder), status=True):
                key = normalise_key(f"{folder}/{name}")
                if st["type"] == "DIRECTORY":
                    if recursive:
                        stack.append(key)
                    else:
                        yield ObjectInfo(key, 0, True)
                elif TEMP_MARKER not in name or recursive:
                    yield ObjectInfo(key, int(st.get("length", 0)))

    def _get(self, key: str) -> bytes:
        with self.client.read(self._path(key)) as reader:
            return reader.read()

    def _put(self, key: str, data: bytes) -> None:
        tmp = f"{key}{TEMP_MARKER}{uuid.uuid4().hex}"
        self.client.write(self._path(tmp), data=data, overwrite=True)
        if self.client.status(self._path(key), strict=False) is not None:
            self.client.delete(self._path(key))
        self.client.rename(self._path(tmp), self._path(key))

    def _delete(self, keys: list[str]) -> None:
        for key in keys:
            self.client.delete(self._path(key))

    def _head(self, key: str) -> ObjectInfo | None:
        st = self.client.status(self._path(key), strict=False)
        if st is None:
            return None
        return ObjectInfo(key, int(st.get("length", 0)), st["type"] == "DIRECTORY")

    def delete_prefix(self, prefix: str) -> DeletionReport:
        """One recursive DELETE of the folder (HDFS deletes a tree in one call); the folder itself goes too."""
        if not normalise_key(prefix):
            raise ValueError("delete_prefix refuses an empty prefix: it would delete the whole location.")
        return self._delete_listed(prefix, [o for o in self.list(prefix) if not o.is_dir])

    def _delete_listed(self, folder: str, objects: list[ObjectInfo]) -> DeletionReport:
        if not normalise_key(folder):
            raise ValueError("refusing to delete the whole location.")
        full = self._full(folder)
        self._call("delete", full, lambda: self.client.delete(self._path(full), recursive=True))
        return DeletionReport(len(objects), 1)

    def _is_transient(self, exc: BaseException) -> bool:
        import requests
        from hdfs.util import HdfsError

        if isinstance(exc, (GatewayError, requests.ConnectionError, requests.Timeout, ConnectionError,
                            TimeoutError)):
            return True
        return isinstance(exc, HdfsError) and exc.exception in ("RetriableException", "StandbyException")

    def _map_error(self, exc: Exception, key: str) -> Exception | None:
        from hdfs.util import HdfsError

        where = f"hdfs://{self.location.bucket}/{key}"
        if isinstance(exc, GatewayError):
            return OSError(f"HDFS error on {where}: WebHDFS answered HTTP {exc.status} (unavailable).")
        if isinstance(exc, HdfsError):
            if exc.exception == "FileNotFoundException":
                return FileNotFoundError(f"No such file: {where}.")
            if exc.exception in ("AccessControlException", "SecurityException"):
                return PermissionError(f"Access denied to {where}.")
            return OSError(f"HDFS error {exc.exception} on {where}: {exc.message}")
        return None
