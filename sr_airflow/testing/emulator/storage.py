"""Where a repository's location points: S3 (boto3), GCS (JSON API), HDFS (WebHDFS), or an unreachable store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse


class StorageError(Exception):
    """A failed storage call; the text is shown in job Status and repository ErrMsg."""


@dataclass(frozen=True)
class S3Target:
    endpoint: str
    bucket: str
    prefix: str
    access_key: str
    secret_key: str
    region: str
    session_token: str | None = None


class S3Store:
    """Objects under `<bucket>/<prefix>` (paths are relative to the repository location)."""

    def __init__(self, target: S3Target):
        import boto3  # imported on first use: it costs a second of start-up
        from botocore.config import Config

        self.target = target
        self.client = boto3.client(
            "s3", endpoint_url=target.endpoint, aws_access_key_id=target.access_key,
            aws_secret_access_key=target.secret_key, aws_session_token=target.session_token or None,
            region_name=target.region,
            config=Config(s3={"addressing_style": "path"}, connect_timeout=3, read_timeout=60,
                          retries={"max_attempts": 2}),
        )

    def _key(self, path: str) -> str:
        return f"{self.target.prefix}/{path}" if self.target.prefix else path

    def put(self, path: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.target.bucket, Key=self._key(path), Body=data)
        except Exception as err:  # noqa: BLE001 - any client error is a storage failure
            raise StorageError(_describe(err)) from err

    def get(self, path: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.target.bucket, Key=self._key(path))["Body"].read()
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err

    def list(self, prefix: str) -> list[str]:
        """Every object path (relative) starting with `prefix`."""
        found: list[str] = []
        strip = len(self.target.prefix) + 1 if self.target.prefix else 0
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.target.bucket, Prefix=self._key(prefix)):
                found.extend(item["Key"][strip:] for item in page.get("Contents", []))
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err
        return found

    def dirs(self, prefix: str) -> list[str]:
        """Names of the `directories` right under `prefix`'s folder whose name starts with `prefix`'s last part."""
        base = self._key(prefix.rsplit("/", 1)[0]) + "/"
        found: set[str] = set()
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.target.bucket, Prefix=self._key(prefix), Delimiter="/"):
                found.update(p["Prefix"][len(base):].rstrip("/") for p in page.get("CommonPrefixes", []))
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err
        return sorted(found)


class GcsStore:
    """Objects under `<bucket>/<prefix>` through the GCS JSON API (google-cloud-storage, anonymous credentials)."""

    def __init__(self, endpoint: str, bucket: str, prefix: str):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        self.prefix = prefix
        self.client = storage.Client(project="sr-airflow-emulator", credentials=AnonymousCredentials(),
                                     client_options={"api_endpoint": endpoint})
        self.bucket = self.client.bucket(bucket)
        self.bucket_name = bucket

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def put(self, path: str, data: bytes) -> None:
        try:
            self.bucket.blob(self._key(path)).upload_from_string(data, timeout=(3, 60), retry=None)
        except Exception as err:  # noqa: BLE001 - any client error is a storage failure
            raise StorageError(_describe(err)) from err

    def get(self, path: str) -> bytes:
        try:
            return self.bucket.blob(self._key(path)).download_as_bytes(timeout=(3, 60), retry=None)
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err

    def list(self, prefix: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            return [b.name[strip:] for b in self.client.list_blobs(self.bucket_name, prefix=self._key(prefix),
                                                                   timeout=(3, 60), retry=None)]
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err

    def dirs(self, prefix: str) -> list[str]:
        base = self._key(prefix.rsplit("/", 1)[0]) + "/"
        try:
            blobs = self.client.list_blobs(self.bucket_name, prefix=self._key(prefix), delimiter="/",
                                           timeout=(3, 60), retry=None)
            for _ in blobs:
                pass
            return sorted({p[len(base):].rstrip("/") for p in blobs.prefixes})
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err


class WebHdfsStore:
    """Files under an HDFS directory through WebHDFS (the `hdfs` package's InsecureClient, user = username)."""

    def __init__(self, endpoint: str, root: str, user: str | None):
        from hdfs import InsecureClient

        self.root = "/" + root.strip("/")
        self.client = InsecureClient(endpoint, user=user or None, timeout=(3, 60))

    def _path(self, path: str) -> str:
        return f"{self.root.rstrip('/')}/{path}".rstrip("/") or "/"

    def put(self, path: str, data: bytes) -> None:
        try:
            self.client.write(self._path(path), data=data, overwrite=True)
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err

    def get(self, path: str) -> bytes:
        try:
            with self.client.read(self._path(path)) as reader:
                return reader.read()
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err

    def _entries(self, prefix: str) -> tuple[str, list[tuple[str, dict]]]:
        parent, _, stem = prefix.rpartition("/")
        try:
            entries = self.client.list(self._path(parent), status=True)
        except Exception as err:  # noqa: BLE001
            if "does not exist" in str(err) or "FileNotFound" in str(err):
                return parent, []
            raise StorageError(_describe(err)) from err
        return parent, [(name, st) for name, st in entries if name.startswith(stem)]

    def list(self, prefix: str) -> list[str]:
        parent, entries = self._entries(prefix)
        found: list[str] = []
        try:
            for name, status in entries:
                rel = f"{parent}/{name}" if parent else name
                if status["type"] != "DIRECTORY":
                    found.append(rel)
                    continue
                strip = len(self._path(rel)) - len(rel)
                for top, _dirs, files in self.client.walk(self._path(rel)):
                    found.extend(f"{top}/{f}"[strip:] for f in files)
        except Exception as err:  # noqa: BLE001
            raise StorageError(_describe(err)) from err
        return found

    def dirs(self, prefix: str) -> list[str]:
        _, entries = self._entries(prefix)
        return sorted(name for name, status in entries if status["type"] == "DIRECTORY")


class UnreachableStore:
    """A location the emulator cannot reach: every call fails with the same reason."""

    def __init__(self, reason: str):
        self.reason = reason

    def put(self, path: str, data: bytes) -> None:
        raise StorageError(self.reason)

    def get(self, path: str) -> bytes:
        raise StorageError(self.reason)

    def list(self, prefix: str) -> list[str]:
        raise StorageError(self.reason)

    def dirs(self, prefix: str) -> list[str]:
        raise StorageError(self.reason)


def _describe(err: Exception) -> str:
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__


@dataclass(frozen=True)
class Redirects:
    """Local servers standing in for the real stores (flags --s3-endpoint, --gcs-endpoint, --webhdfs-endpoint)."""
    s3: str | None = None
    gcs: str | None = None
    webhdfs: str | None = None


# What signs requests when the statement gives no keys: StarRocks would take the machine's credentials (instance
# profile, assumed role, the SDK's default chain); the emulator has none, so a local S3 server gets this stand-in.
MACHINE_CREDENTIALS_STAND_IN = "emulator"


def open_store(location: str, properties: dict[str, str], redirect: str | Redirects | None):
    """The store a repository location points to, with the statement's credentials and endpoint, as StarRocks'
    frontend reads them (at 3.5, e223275f78):

    - ``HdfsFsManager.getFileSystem`` picks the file system by scheme: ``hdfs``/``viewfs`` ->
      ``getDistributedFileSystem``, ``s3a`` -> ``getS3AFileSystem``, ``s3`` -> ``getS3FileSystem``.
    - S3 and S3A: ``CloudConfigurationFactory.buildCloudConfigurationForStorage`` tries
      ``AwsCloudConfigurationProvider`` first: ``aws.s3.access_key``/``secret_key``/``session_token``,
      ``use_instance_profile``, ``iam_role_arn``, ``region`` (default ``us-east-1``), ``endpoint``; it applies
      when ``AwsCloudCredential.validate`` holds (keys, instance profile or SDK default). Otherwise
      ``getS3AFileSystem`` keeps "the original way": ``fs.s3a.access.key``/``fs.s3a.secret.key``/
      ``fs.s3a.endpoint`` go straight into the Hadoop configuration (the seed's GCS form).
    - HDFS: ``username`` becomes the caller (``UserGroupInformation.createRemoteUser`` under simple
      authentication); ``password`` only joins the file-system cache key (``HdfsFsIdentity``), it signs nothing.

    The keys, session token and region reach the boto3 client that signs every request; an endpoint in the
    statement wins over the ``--s3-endpoint`` redirect (which stands in for AWS itself); ``username`` is the
    WebHDFS ``user.name``. GCS through S3A with ``--gcs-endpoint`` goes through the GCS JSON API, which takes no
    HMAC keys: they are accepted and not used there (with only ``--s3-endpoint`` they sign S3 requests).
    """
    redirects = redirect if isinstance(redirect, Redirects) else Redirects(s3=redirect)
    redirect = redirects.s3
    parsed = urlparse(location)
    scheme = parsed.scheme.lower()
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    if scheme in ("s3", "s3a", "s3n", "oss", "cos", "cosn", "ks3", "obs", "tos"):
        endpoint = properties.get("aws.s3.endpoint") or properties.get("fs.s3a.endpoint")
        if endpoint and "googleapis.com" in endpoint:
            if redirects.gcs:
                return GcsStore(_http(redirects.gcs), bucket, prefix)
            if not redirect:
                return UnreachableStore(f"GCS through S3A ({endpoint}) is not emulated; start the emulator with "
                                        "--s3-endpoint to redirect it to an S3 API server")
            endpoint = redirect
        if not endpoint:
            if not redirect:
                return UnreachableStore("Unable to execute HTTP request: Connect to "
                                        f"{bucket}.s3.amazonaws.com:443 failed: the emulator has no network access "
                                        "(set --s3-endpoint or EMULATOR_S3_ENDPOINT)")
            endpoint = redirect
        if "://" not in endpoint:
            endpoint = "http://" + endpoint
        keys = (properties.get("aws.s3.access_key"), properties.get("aws.s3.secret_key"))
        if not all(keys):
            keys = (properties.get("fs.s3a.access.key"), properties.get("fs.s3a.secret.key"))
        token = properties.get("aws.s3.session_token") if properties.get("aws.s3.access_key") else None
        access, secret = keys if all(keys) else (MACHINE_CREDENTIALS_STAND_IN, MACHINE_CREDENTIALS_STAND_IN)
        region = properties.get("aws.s3.region") or "us-east-1"  # CloudConfigurationConstants.DEFAULT_AWS_REGION
        return S3Store(S3Target(endpoint, bucket, prefix, access, secret, region, token))
    if scheme in ("hdfs", "viewfs"):
        if redirects.webhdfs:
            return WebHdfsStore(_http(redirects.webhdfs), parsed.path or "/", properties.get("username"))
        return UnreachableStore(f"HDFS is not reachable from the emulator: {location} (start it with "
                                "--webhdfs-endpoint or EMULATOR_WEBHDFS_ENDPOINT to use a WebHDFS server)")
    if scheme in ("gs", "gcs"):
        return UnreachableStore(f"GCS locations are not emulated yet: {location}")
    return UnreachableStore(f"Unsupported location scheme: {location}")


def _http(endpoint: str) -> str:
    return endpoint.rstrip("/") if "://" in endpoint else "http://" + endpoint.rstrip("/")


def redirect_from_env(flag: str | None) -> str | None:
    return flag or os.environ.get("EMULATOR_S3_ENDPOINT") or None


def redirects_from(s3: str | None, gcs: str | None, webhdfs: str | None) -> Redirects:
    return Redirects(s3=redirect_from_env(s3), gcs=gcs or os.environ.get("EMULATOR_GCS_ENDPOINT") or None,
                     webhdfs=webhdfs or os.environ.get("EMULATOR_WEBHDFS_ENDPOINT") or None)
