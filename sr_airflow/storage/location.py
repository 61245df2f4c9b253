"""Repository locations: parse what a user writes, normalise it to what StarRocks accepts, and name the folders.

StarRocks reaches AWS S3 and GCS only through S3A, so ``s3://`` becomes ``s3a://`` for AWS (a logged notice, as the
seed document asks) and ``gs://`` becomes ``s3a://`` with the endpoint ``storage.googleapis.com``. MinIO (any S3
endpoint that is not AWS or GCS) keeps ``s3://``. HDFS keeps ``hdfs://host:port/path`` and goes through a broker.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sr_airflow.engine.errors import InvalidArgumentError

log = logging.getLogger(__name__)

GCS_S3A_ENDPOINT = "storage.googleapis.com"
STARROCKS_ROOT_PREFIX = "__starrocks_repository_"
LEGACY_ROOT_PREFIX = "__palo_repository_"
CATALOG_ROOT_PREFIX = "__sr_airflow_catalog_"

S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})
GCS_SCHEMES = frozenset({"gs", "gcs"})
HDFS_SCHEMES = frozenset({"hdfs", "webhdfs"})

# Underscores are outside the AWS rules but appear in the seed's examples (bucket_s3) and old buckets.
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._\-]{1,220}[a-z0-9]$")


def normalise_key(key: str, *, argument: str = "key") -> str:
    """The one path normaliser: strip slashes at both ends, collapse ``//``, refuse ``.`` and ``..`` parts."""
    if not isinstance(key, str):
        raise InvalidArgumentError(f"{argument} must be a string, got {type(key).__name__}.")
    parts = [p for p in key.split("/") if p != ""]
    if any(p in (".", "..") for p in parts) or "\x00" in key:
        raise InvalidArgumentError(f"{argument} {key!r} must not contain '.', '..' or NUL parts.")
    return "/".join(parts)


def join_key(*parts: str) -> str:
    return normalise_key("/".join(p for p in parts if p))


def repository_root(repo: str) -> str:
    """The folder StarRocks creates for a new repository ``repo``, relative to the location. Use
    ``choose_repository_root`` (or ``RepositoryStorage.repository_root``) to find the folder an existing
    repository uses: it may be the legacy one."""
    _check_repo_name(repo)
    return STARROCKS_ROOT_PREFIX + repo


def legacy_repository_root(repo: str) -> str:
    """``__palo_repository_<repo>``: the folder of repositories made by Palo / early StarRocks."""
    _check_repo_name(repo)
    return LEGACY_ROOT_PREFIX + repo


def choose_repository_root(repo: str, *, legacy_repo_info_exists: bool) -> str:
    """The one rule for a repository's folder (``Repository.initRepository`` at 3.3 1a2f1f5d75, 3.4 afccab88,
    3.5 e223275f78): the legacy ``__palo_repository_<repo>`` is tried first and used when its ``__repo_info``
    exists; otherwise ``__starrocks_repository_<repo>``."""
    return legacy_repository_root(repo) if legacy_repo_info_exists else repository_root(repo)


def catalog_root(repo: str) -> str:
    """The catalog's folder, BESIDE StarRocks' folder (never inside it), relative to the location."""
    _check_repo_name(repo)
    return CATALOG_ROOT_PREFIX + repo


def _check_repo_name(repo: str) -> None:
    if not isinstance(repo, str) or not repo or "/" in repo or repo.strip() != repo:
        raise InvalidArgumentError(f"repository name {repo!r} must be a non-empty name without '/' or spaces.")


@dataclass(frozen=True)
class RepositoryLocation:
    """A parsed repository location.

    ``backend`` is ``s3``, ``gcs`` or ``hdfs``; ``bucket`` is the bucket (object stores) or ``host:port`` (HDFS);
    ``path`` is the normalised folder inside it (no leading or trailing ``/``); ``endpoint`` is an S3 endpoint for
    MinIO-like stores (None for AWS and GCS). ``starrocks_uri`` is what goes into ``ON LOCATION``.
    """

    backend: str
    scheme: str
    bucket: str
    path: str
    endpoint: str | None = None

    @classmethod
    def parse(cls, uri: str, *, endpoint: str | None = None) -> RepositoryLocation:
        """Parse ``uri``; ``endpoint`` (an S3 endpoint URL) marks a MinIO-style store, or GCS if it is Google's."""
        if not isinstance(uri, str) or not uri.strip():
            raise InvalidArgumentError("location must be a non-empty URI such as 's3a://bucket/backup'.")
        parts = urlsplit(uri.strip())
        scheme = parts.scheme.lower()
        if parts.query or parts.fragment:
            raise InvalidArgumentError(f"location {uri!r} must not have a query or a fragment.")
        if not parts.netloc:
            raise InvalidArgumentError(f"location {uri!r} must name a bucket or an HDFS host, e.g. 's3a://bucket/dir'.")
        path = normalise_key(parts.path, argument="location path")
        endpoint = endpoint.strip() if endpoint else None
        if scheme in GCS_SCHEMES or (scheme in S3_SCHEMES and endpoint and _is_gcs_endpoint(endpoint)):
            _check_bucket(parts.netloc, uri)
            return cls("gcs", "s3a", parts.netloc, path, None)
        if scheme in S3_SCHEMES:
            _check_bucket(parts.netloc, uri)
            if endpoint and not _is_aws_endpoint(endpoint):
                return cls("s3", "s3", parts.netloc, path, endpoint)
            if scheme != "s3a":
                log.info("StarRocks reaches AWS S3 only through S3A: location %s is used as s3a://%s/%s.",
                         uri, parts.netloc, path)
            return cls("s3", "s3a", parts.netloc, path, None)
        if scheme in HDFS_SCHEMES:
            try:
                port = parts.port
            except ValueError:
                port = None
            if port is None:
                raise InvalidArgumentError(f"location {uri!r} must give the NameNode port, e.g. 'hdfs://nn:8020/dir'.")
            return cls("hdfs", "hdfs", parts.netloc, path, None)
        if scheme == "memory":
            return cls("memory", "memory", parts.netloc, path, None)
        raise InvalidArgumentError(
            f"location {uri!r} has an unsupported scheme; use s3a:// or s3:// (S3, MinIO), gs:// (GCS) or hdfs://."
        )

    @property
    def starrocks_uri(self) -> str:
        """The ``ON LOCATION`` value of CREATE REPOSITORY."""
        base = f"{self.scheme}://{self.bucket}"
        return f"{base}/{self.path}" if self.path else base

    @property
    def is_minio(self) -> bool:
        return self.backend == "s3" and self.endpoint is not None

    def key(self, *parts: str) -> str:
        """A key relative to the bucket (object stores) or an absolute HDFS path without the leading '/'."""
        return join_key(self.path, *parts)


def _is_gcs_endpoint(endpoint: str) -> bool:
    host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    return host == GCS_S3A_ENDPOINT


def _is_aws_endpoint(endpoint: str) -> bool:
    host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    return host.endswith(".amazonaws.com") or host == "amazonaws.com"


def _check_bucket(bucket: str, uri: str) -> None:
    if not _BUCKET_RE.match(bucket):
        raise InvalidArgumentError(
            f"location {uri!r} has an invalid bucket name {bucket!r}: "
            "use 3-222 lowercase letters, digits, '.', '-', '_'."
        )
