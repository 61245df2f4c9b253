"""CREATE REPOSITORY from Airflow connections: a ``RepositorySpec`` for every authentication form of the seed.

- ``aws`` connection (Amazon provider), S3: access key + secret key (login/password or extras
  ``aws_access_key_id`` / ``aws_secret_access_key``) -> ``aws.s3.access_key``/``aws.s3.secret_key``; no keys ->
  ``aws.s3.use_instance_profile``; extra ``role_arn`` -> ``aws.s3.iam_role_arn`` (assumed role, with the instance
  profile unless keys are given); extra ``region_name`` -> ``aws.s3.region``; extra ``endpoint_url`` (or the
  ``endpoint`` argument) for a non-AWS store -> ``aws.s3.endpoint`` and a MinIO ``s3://`` location. Extra
  ``starrocks_use_instance_profile`` (true) keeps the keys for sr_airflow's own S3 reads and sends StarRocks the
  instance profile (with ``role_arn``: the assumed role) instead, so no key reaches StarRocks' audit log
  (``docs/security.md``).
- ``google_cloud_platform`` connection, GCS through S3A: HMAC keys in extras ``hmac_access_id`` and
  ``hmac_secret`` -> ``fs.s3a.access.key``/``fs.s3a.secret.key``, ``fs.s3a.endpoint`` = ``storage.googleapis.com``
  (no ``https``), location ``gs://b/p`` -> ``s3a://b/p``. An ``aws`` connection holding HMAC keys works too.
- ``hdfs`` / ``webhdfs`` connection: login -> ``username``, password -> ``password``; extra ``broker`` names a
  broker (default: ``WITH BROKER`` without a name).

Property names as StarRocks' frontend reads them (3.5, e223275f78): ``aws.s3.*`` in
``AwsCloudConfigurationProvider.build`` (``CloudConfigurationConstants``), ``fs.s3a.access.key`` / ``secret.key`` /
``endpoint`` in ``HdfsFsManager.getS3AFileSystem``, ``username`` / ``password`` in
``HdfsFsManager.getDistributedFileSystem``.

Secret values are registered with Airflow's secrets masker and never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.repository_spec import RepositorySpec
from sr_airflow.storage.location import GCS_S3A_ENDPOINT, RepositoryLocation

log = logging.getLogger(__name__)

GCP_CONN_TYPES = frozenset({"google_cloud_platform", "gcpcloud", "gcp"})
GCS_HMAC_ACCESS_ID_KEYS = ("hmac_access_id", "extra__google_cloud_platform__hmac_access_id")
GCS_HMAC_SECRET_KEYS = ("hmac_secret", "extra__google_cloud_platform__hmac_secret")
# aws extra: CREATE REPOSITORY uses the cluster's instance profile even when the connection holds keys
STARROCKS_INSTANCE_PROFILE_EXTRA = "starrocks_use_instance_profile"


def mask_secrets(values: list[str]) -> None:
    """Register credential values with Airflow's secrets masker (a no-op where Airflow is absent)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow is a dependency; kept for engine-only use
        return
    for value in values:
        if value:
            mask_secret(value)


def repository_spec_from_connection(name: str, location: str, conn: Any | None, *, endpoint: str | None = None,
                                    broker: str | None = None, read_only: bool = False) -> RepositorySpec:
    """The ``RepositorySpec`` for repository ``name`` at ``location`` with credentials from ``conn`` (an Airflow
    Connection, or None for an instance profile / an HDFS without auth)."""
    extra = _extra(conn)
    conn_type = (getattr(conn, "conn_type", None) or "").lower()
    loc = location_for_connection(location, conn, endpoint=endpoint)
    if loc.backend == "s3":
        props = _s3_properties(conn, loc)
    elif loc.backend == "gcs":
        props = _gcs_properties(conn, extra, conn_type)
    elif loc.backend == "hdfs":
        props = _hdfs_properties(conn)
        broker = broker or extra.get("broker") or None
    else:
        raise InvalidArgumentError(f"location {location!r} cannot back a StarRocks repository.")
    spec = RepositorySpec(name=name, location=loc.starrocks_uri, properties=props, broker=broker,
                          read_only=read_only)
    mask_secrets(spec.secret_values())
    log.info("Repository %s at %s with properties %s.", name, spec.location, spec.redacted_properties())
    return spec


def location_for_connection(location: str, conn: Any | None, *, endpoint: str | None = None) -> RepositoryLocation:
    """The one rule for where a repository's files are: the location as written, read with the storage
    connection's type. An ``aws`` connection's ``endpoint_url`` makes an ``s3://`` location a MinIO-style store; a
    Google connection makes an ``s3a://`` location GCS through S3A (the seed's GCS form); ``endpoint`` (an explicit
    S3 endpoint) wins over both. Used for CREATE REPOSITORY and for every storage object an operator opens."""
    extra = _extra(conn)
    conn_type = (getattr(conn, "conn_type", None) or "").lower()
    if conn_type == "aws" and not endpoint:
        endpoint = extra.get("endpoint_url") or None
    if conn_type in GCP_CONN_TYPES and not endpoint:
        endpoint = GCS_S3A_ENDPOINT  # an s3a:// location with a Google connection is GCS through S3A
    return RepositoryLocation.parse(location, endpoint=endpoint)


def load_connection(conn_id: str | None) -> Any | None:
    """Airflow connection ``conn_id`` (None for None)."""
    if not conn_id:
        return None
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def repository_spec(name: str, location: str, conn_id: str | None = None, **kwargs: Any) -> RepositorySpec:
    """As ``repository_spec_from_connection``, loading Airflow connection ``conn_id`` first."""
    return repository_spec_from_connection(name, location, load_connection(conn_id), **kwargs)


def _s3_properties(conn: Any, loc: RepositoryLocation) -> dict[str, str]:
    access = secret = token = region = role_arn = None
    if conn is not None:
        if (getattr(conn, "conn_type", None) or "").lower() != "aws":
            raise InvalidArgumentError(f"connection {conn.conn_id!r} must be of type 'aws' for an S3 location, "
                                       f"got {conn.conn_type!r}.")
        from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper

        if bool(conn.login) != bool(conn.password):
            raise InvalidArgumentError(f"connection {conn.conn_id!r} must give both the access key (login) and "
                                       "the secret key (password), or neither.")
        wrapper = AwsConnectionWrapper(conn)
        access, secret, token = wrapper.aws_access_key_id, wrapper.aws_secret_access_key, wrapper.aws_session_token
        region, role_arn = wrapper.region_name, wrapper.role_arn
    props: dict[str, str] = {}
    if bool(access) != bool(secret):
        raise InvalidArgumentError("connection must give both the access key and the secret key, or neither.")
    if _truthy(_extra(conn).get(STARROCKS_INSTANCE_PROFILE_EXTRA)):
        if loc.is_minio:
            raise InvalidArgumentError(f"'{STARROCKS_INSTANCE_PROFILE_EXTRA}' cannot serve a MinIO (s3:// with "
                                       "endpoint) repository: StarRocks needs its keys.")
        # StarRocks prefers the instance profile over keys anyway (AwsCloudCredential.getBaseAWSCredentialsProvider,
        # 3.5 e223275f78): the keys stay with sr_airflow's own reads and never reach the frontend or its audit log.
        access = secret = token = None
    if access:
        props["aws.s3.access_key"] = access
        props["aws.s3.secret_key"] = secret
        if token:
            props["aws.s3.session_token"] = token
    elif not loc.is_minio:
        props["aws.s3.use_instance_profile"] = "true"
    if role_arn:
        props["aws.s3.iam_role_arn"] = role_arn
    if region:
        props["aws.s3.region"] = region
    elif not loc.is_minio:
        raise InvalidArgumentError("an AWS S3 repository needs a region: set 'region_name' in the aws connection's "
                                   "extra.")
    if loc.is_minio:
        if not access:
            raise InvalidArgumentError("a MinIO (s3:// with endpoint) repository needs an access key and a secret "
                                       "key in the aws connection.")
        props["aws.s3.endpoint"] = loc.endpoint or ""
    return props


def _gcs_properties(conn: Any, extra: dict[str, Any], conn_type: str) -> dict[str, str]:
    if conn is None:
        raise InvalidArgumentError("a GCS repository needs HMAC keys: give a google_cloud_platform connection with "
                                   "extras 'hmac_access_id' and 'hmac_secret'.")
    if conn_type == "aws":
        access, secret = (conn.login or extra.get("aws_access_key_id"),
                          conn.password or extra.get("aws_secret_access_key"))
    else:
        access = next((extra[k] for k in GCS_HMAC_ACCESS_ID_KEYS if extra.get(k)), None)
        secret = next((extra[k] for k in GCS_HMAC_SECRET_KEYS if extra.get(k)), None)
    if not access or not secret:
        raise InvalidArgumentError(f"connection {conn.conn_id!r} has no GCS HMAC keys: set extras "
                                   "'hmac_access_id' and 'hmac_secret'.")
    return {"fs.s3a.access.key": access, "fs.s3a.secret.key": secret, "fs.s3a.endpoint": GCS_S3A_ENDPOINT}


def _hdfs_properties(conn: Any) -> dict[str, str]:
    if conn is None:
        return {}
    props = {}
    if conn.login:
        props["username"] = conn.login
    if conn.password:
        props["password"] = conn.password
    return props


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "1", "yes"}


def _extra(conn: Any) -> dict[str, Any]:
    if conn is None:
        return {}
    value = getattr(conn, "extra_dejson", None)
    return dict(value) if isinstance(value, dict) else {}
