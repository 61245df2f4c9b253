"""S3 backend (AWS S3 and S3-compatible stores such as MinIO), on a boto3 S3 client.

With ``aws_conn_id`` the client comes from the Amazon provider's ``S3Hook`` (its credentials, region, endpoint,
assumed role). boto3 is imported only when a client is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sr_airflow.storage.base import ObjectInfo, RepositoryStorage
from sr_airflow.storage.location import RepositoryLocation

TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "SlowDown", "RequestTimeout", "RequestTimeoutException",
    "RequestLimitExceeded", "InternalError", "ServiceUnavailable", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "503", "500", "502", "504",
})
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})
DENIED_CODES = frozenset({"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"})


class S3DeleteError(OSError):
    """DeleteObjects answered 200 but listed keys it could not delete."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        self.codes = {str(e.get("Code")) for e in errors}
        first = errors[0]
        super().__init__(f"S3 could not delete {len(errors)} object(s), e.g. {first.get('Key')!r}: "
                         f"{first.get('Code')} {first.get('Message', '')}".rstrip() + ".")


class S3RepositoryStorage(RepositoryStorage):
    backend = "s3"
    delete_batch_size = 1000  # the DeleteObjects maximum

    def __init__(self, location: RepositoryLocation, *, aws_conn_id: str | None = None, client: Any = None,
                 endpoint_url: str | None = None, region_name: str | None = None,
                 aws_access_key_id: str | None = None, aws_secret_access_key: str | None = None, **kwargs):
        super().__init__(location, **kwargs)
        self.aws_conn_id = aws_conn_id
        self._client = client
        if aws_secret_access_key:
            from sr_airflow.storage.connections import mask_secrets

            mask_secrets([aws_secret_access_key])
        self._client_kwargs = {
            "endpoint_url": endpoint_url or location.endpoint,
            "region_name": region_name,
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
        }

    @property
    def client(self) -> Any:
        if self._client is None:
            if self.aws_conn_id:
                from airflow.providers.amazon.aws.hooks.s3 import S3Hook

                hook = S3Hook(aws_conn_id=self.aws_conn_id)
                endpoint = self._client_kwargs["endpoint_url"]
                if endpoint and not hook.conn_config.endpoint_url:
                    # The location names a MinIO endpoint the connection does not: use the hook's session there.
                    self._client = hook.get_session().client("s3", endpoint_url=endpoint, config=hook.config)
                else:
                    self._client = hook.get_conn()
            else:
                import boto3
                from botocore.config import Config

                kwargs = {k: v for k, v in self._client_kwargs.items() if v}
                # One retry layer (ours, bounded with backoff) rather than boto's stacked under it.
                config = Config(retries={"mode": "standard", "total_max_attempts": 1})
                self._client = boto3.client("s3", config=config, **kwargs)
        return self._client

    @property
    def bucket(self) -> str:
        return self.location.bucket

    def _ls(self, prefix: str, recursive: bool) -> Iterable[ObjectInfo]:
        base = prefix + "/" if prefix else ""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": base}
        if not recursive:
            params["Delimiter"] = "/"
        for page in self.client.get_paginator("list_objects_v2").paginate(**params):
            for item in page.get("Contents", []):
                if item["Key"].endswith("/"):
                    continue  # folder marker objects written by some tools
                yield ObjectInfo(item["Key"], int(item.get("Size", 0)))
            for cp in page.get("CommonPrefixes", []):
                yield ObjectInfo(cp["Prefix"].rstrip("/"), 0, True)

    def _get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def _put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def _delete(self, keys: list[str]) -> None:
        response = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
        )
        errors = response.get("Errors") or []
        if errors:
            raise S3DeleteError(errors)

    def _head(self, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in NOT_FOUND_CODES:
                return None
            raise
        return ObjectInfo(key, int(response.get("ContentLength", 0)))

    def _is_transient(self, exc: BaseException) -> bool:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError

        if isinstance(exc, S3DeleteError):
            return exc.codes <= TRANSIENT_CODES
        if isinstance(exc, (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)):
            return True
        if isinstance(exc, ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            return status >= 500 or status == 429 or _code(exc) in TRANSIENT_CODES
        return False

    def _map_error(self, exc: Exception, key: str) -> Exception | None:
        from botocore.exceptions import ClientError

        if isinstance(exc, S3DeleteError) and exc.codes <= DENIED_CODES:
            return PermissionError(str(exc))
        if isinstance(exc, ClientError):
            code = _code(exc)
            where = f"s3://{self.bucket}/{key}"
            if code in NOT_FOUND_CODES:
                return FileNotFoundError(f"No such object or bucket: {where}.")
            if code in DENIED_CODES:
                return PermissionError(f"Access denied to {where} ({code}).")
            return OSError(f"S3 error {code} on {where}.")
        return None

    def close(self) -> None:
        if self._client is not None and hasattr(self._client, "close"):
            self._client.close()


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
