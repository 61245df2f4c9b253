"""Create and drop StarRocks repositories, idempotently, without a secret ever reaching a log or XCom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sr_airflow.engine.errors import InvalidArgumentError, SrAirflowError
from sr_airflow.operators.base import StarRocksBaseOperator

if TYPE_CHECKING:
    from sr_airflow.engine.repository_spec import RepositorySpec


def _same_location(a: str, b: str) -> bool:
    """Whether two ON LOCATION values name the same files (``s3://`` and ``s3a://`` of one bucket do)."""
    from sr_airflow.operators.repository_storage import same_place
    from sr_airflow.storage.location import RepositoryLocation

    try:
        return same_place(RepositoryLocation.parse(a), RepositoryLocation.parse(b))
    except ValueError:  # a location sr_airflow does not parse (another store): compare the text
        return a.rstrip("/") == b.rstrip("/")


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _warn_of_the_audit_log(log: Any, spec: RepositorySpec) -> None:
    """One warning, naming the repository and the key properties (never their values), when CREATE REPOSITORY must
    carry keys: StarRocks writes the statement to ``fe.audit.log`` as sent (``AuditEncryptionChecker.needEncrypt``
    has no case for CreateRepositoryStmt at 3.5 e223275f78; spec/STARROCKS.md section 11)."""
    from sr_airflow.engine.repository_spec import SECRET_PROPERTY_KEYS

    carried = sorted(k for k, v in spec.properties.items() if k in SECRET_PROPERTY_KEYS and v)
    if carried:
        log.warning("Repository %r: CREATE REPOSITORY carries %s, and StarRocks writes the statement to its audit "
                    "log (fe.audit.log) in clear text. Restrict who reads fe.audit.log, rotate these keys with DROP "
                    "REPOSITORY then CREATE REPOSITORY, or let StarRocks use an instance profile or an assumed role "
                    "(docs/security.md).", spec.name, ", ".join(carried))


class StarRocksCreateRepositoryOperator(StarRocksBaseOperator):
    """Create a repository; a repository of the same name at the same location is left as it is.

    Credentials come from an Airflow connection (``storage_conn_id``: ``aws`` for S3/MinIO,
    ``google_cloud_platform`` with HMAC keys for GCS, ``hdfs``/``webhdfs`` for HDFS) through the storage layer, or
    from ``properties``. Every secret value is registered with Airflow's secrets masker before anything is logged;
    the CREATE statement is never logged; properties are not a templated field and never reach XCom.

    :param repository: the repository name.
    :param location: where it lives, e.g. ``s3://bucket/backups`` (normalised as StarRocks requires).
    :param storage_conn_id: the connection holding the storage credentials.
    :param endpoint: an S3 endpoint URL for a MinIO-like store.
    :param properties: the CREATE REPOSITORY properties, when no ``storage_conn_id`` is given.
    :param broker: a broker name (HDFS through a broker); None: ``WITH BROKER`` without a name.
    :param read_only: create it READ ONLY (the usual choice on a migration target).
    """

    template_fields: Sequence[str] = ("repository", "location", "storage_conn_id", "endpoint")

    def __init__(self, *, repository: str, location: str, storage_conn_id: str | None = None,
                 endpoint: str | None = None, properties: Mapping[str, str] | None = None,
                 broker: str | None = None, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self.location = location
        self.storage_conn_id = storage_conn_id
        self.endpoint = endpoint
        self.properties = dict(properties or {})
        self.broker = broker
        self.read_only = read_only

    def repository_spec(self) -> RepositorySpec:
        from sr_airflow.engine.repository_spec import RepositorySpec
        from sr_airflow.storage.connections import mask_secrets

        if self.storage_conn_id:
            from sr_airflow.storage.connections import repository_spec

            return repository_spec(self.repository, self.location, self.storage_conn_id, endpoint=self.endpoint,
                                   broker=self.broker, read_only=self.read_only)
        spec = RepositorySpec(name=self.repository, location=self.location, properties=self.properties,
                              broker=self.broker, read_only=self.read_only)
        mask_secrets(spec.secret_values())
        return spec

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.statements import render_create_repository

        spec = self.repository_spec()  # masks the secrets first
        statement = render_create_repository(spec)  # validates before any I/O
        existing = self.hook.repository(spec.name)
        if existing is not None:
            if not _same_location(existing.location, spec.location):
                raise InvalidArgumentError(
                    f"Repository {spec.name!r} already exists at {existing.location!r}, not at {spec.location!r}; "
                    "drop it first or choose another name.")
            self.log.info("Repository %r already exists at %r: nothing to do.", spec.name, existing.location)
            return {"repository": spec.name, "location": existing.location, "created": False}
        self.log.info("Creating repository %r at %r with properties %s.", spec.name, spec.location,
                      spec.redacted_properties())
        _warn_of_the_audit_log(self.log, spec)
        try:
            self.hook.execute(statement)
        except Exception as exc:
            raced = self._created_meanwhile(spec)
            if raced is not None:
                return raced
            message = _redact(str(exc), spec.secret_values())
            raise SrAirflowError(f"Could not create repository {spec.name!r}: {message.rstrip('.')}.") from None
        return {"repository": spec.name, "location": spec.location, "created": True}

    def _created_meanwhile(self, spec: RepositorySpec) -> dict[str, Any] | None:
        """After a refused CREATE: the repository another run created at the same location since this one looked
        (two runs starting together both find none and both send CREATE; StarRocks refuses the second with
        ``Repository ... already exist``), accepted as in place; otherwise None and the error stands."""
        try:
            existing = self.hook.repository(spec.name)
        except Exception:  # the frontend is not answering: the CREATE's own error says more
            return None
        if existing is None or not _same_location(existing.location, spec.location):
            return None
        self.log.info("Repository %r was created at %r by another run meanwhile: nothing to do.", spec.name,
                      existing.location)
        return {"repository": spec.name, "location": existing.location, "created": False}


class StarRocksDropRepositoryOperator(StarRocksBaseOperator):
    """Drop a repository (its snapshots stay in storage); a repository that is not there is a no-op.

    :param repository: the repository name.
    """

    template_fields: Sequence[str] = ("repository",)

    def __init__(self, *, repository: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository

    def execute(self, context: Any) -> dict[str, Any]:
        from sr_airflow.engine.statements import render_drop_repository

        statement = render_drop_repository(self.repository)
        if self.hook.repository(self.repository) is None:
            self.log.info("Repository %r does not exist: nothing to drop.", self.repository)
            return {"repository": self.repository, "dropped": False}
        self.hook.execute(statement)
        self.log.info("Dropped repository %r.", self.repository)
        return {"repository": self.repository, "dropped": True}
