"""GCS backend, on a google-cloud-storage client (the Google provider's ``GCSHook`` when a conn id is given).

StarRocks itself reaches GCS through S3A with HMAC keys; sr_airflow reads and deletes through the native API.
The library's own retries are switched off (``retry=None``): :class:`RetryPolicy` is the one retry layer, so a
lasting fault is tried ``attempts`` times and ends in one clear error instead of the library's 120 s deadline.
For emulators, ``STORAGE_EMULATOR_HOST`` or ``endpoint_url`` selects the endpoint and anonymous credentials are used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from sr_airflow.storage.base import ObjectInfo, RepositoryStorage
from sr_airflow.storage.location import RepositoryLocation


class GcsRepositoryStorage(RepositoryStorage):
    backend = "gcs"
    delete_batch_size = 100  # the JSON API's batch limit

    def __init__(self, location: RepositoryLocation, *, gcp_conn_id: str | None = None, client: Any = None,
                 endpoint_url: str | None = None, project: str | None = None, **kwargs):
        super().__init__(location, **kwargs)
        self.gcp_conn_id = gcp_conn_id
        self._client = client
        self.endpoint_url = endpoint_url
        self.project = project

    @property
    def client(self) -> Any:
        if self._client is None:
            if self.gcp_conn_id:
                from airflow.providers.google.cloud.hooks.gcs import GCSHook

                self._client = GCSHook(gcp_conn_id=self.gcp_conn_id).get_conn()
            else:
                from google.auth.credentials import AnonymousCredentials
                from google.cloud import storage

                endpoint = self.endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST")
                if endpoint:
                    self._client = storage.Client(project=self.project or "test", credentials=AnonymousCredentials(),
                                                  client_options={"api_endpoint": endpoint})
                else:
                    self._client = storage.Client(project=self.project)
        return self._client

    @property
    def _bucket(self) -> Any:
        return self.client.bucket(self.location.bucket)

    def _ls(self, prefix: str, recursive: bool) -> Iterable[ObjectInfo]:
        base = prefix + "/" if prefix else ""
        blobs = self.client.list_blobs(self.location.bucket, prefix=base, delimiter=None if recursive else "/",
                                       retry=None)
        for blob in blobs:
            if not blob.name.endswith("/"):
                yield ObjectInfo(blob.name, int(blob.size or 0))
        for folder in sorted(getattr(blobs, "prefixes", ()) or ()):
            yield ObjectInfo(folder.rstrip("/"), 0, True)

    def _get(self, key: str) -> bytes:
        return self._bucket.blob(key).download_as_bytes(retry=None)

    def _put(self, key: str, data: bytes) -> None:
        # A single-request upload: GCS makes the object visible whole or not at all.
        self._bucket.blob(key).upload_from_string(data, content_type="application/octet-stream", retry=None)

    def _delete(self, keys: list[str]) -> None:
        """One JSON-API batch request (multipart, at most 100 calls); a missing object is not an error."""
        from google.api_core import exceptions

        bucket = self._bucket
        batch = self.client.batch(raise_exception=False)
        with batch:
            for key in keys:
                bucket.delete_blob(key, retry=None)
        # The library keeps the per-call answers only on this attribute when raise_exception is False.
        failed = [r for r in getattr(batch, "_responses", []) if not 200 <= r.status_code < 300
                  and r.status_code != 404]
        if failed:
            raise exceptions.from_http_response(failed[0])

    def _head(self, key: str) -> ObjectInfo | None:
        blob = self._bucket.get_blob(key, retry=None)
        return None if blob is None else ObjectInfo(key, int(blob.size or 0))

    def _is_transient(self, exc: BaseException) -> bool:
        import requests
        from google.api_core.exceptions import ServerError, TooManyRequests

        return isinstance(exc, (ServerError, TooManyRequests, requests.ConnectionError, requests.Timeout,
                                ConnectionError, TimeoutError))

    def _map_error(self, exc: Exception, key: str) -> Exception | None:
        from google.api_core.exceptions import Forbidden, NotFound, Unauthorized

        where = f"gs://{self.location.bucket}/{key}"
        if isinstance(exc, NotFound):
            return FileNotFoundError(f"No such object or bucket: {where}.")
        if isinstance(exc, (Forbidden, Unauthorized)):
            return PermissionError(f"Access denied to {where}.")
        return None
