"""Rendering of every BACKUP / RESTORE / repository statement, in the 3.4+ syntax and the legacy one.

Every identifier goes through :func:`quote_identifier` and every value through :func:`quote_string`; nothing
here pastes user text into SQL. Requests are validated as StarRocks' parser validates them, before anything is
sent, with messages that name the argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from sr_airflow.engine.errors import InvalidArgumentError, UnsupportedByServerError
from sr_airflow.engine.quoting import quote_identifier, quote_string
from sr_airflow.engine.repository_spec import RepositorySpec
from sr_airflow.engine.scope import ObjectKind, ObjectRef, Scope
from sr_airflow.engine.timestamps import is_backup_timestamp
from sr_airflow.engine.version import ServerVersion

MIN_TIMEOUT_SECONDS = 600
BACKUP_TYPES = ("FULL", "INCREMENTAL")
SELECT_CURRENT_VERSION = "SELECT current_version()"


class Syntax(Enum):
    """``MODERN``: ``BACKUP DATABASE db SNAPSHOT l`` (3.4+). ``LEGACY``: ``BACKUP SNAPSHOT db.l`` (all versions)."""

    MODERN = "3.4+"
    LEGACY = "legacy"

    @classmethod
    def for_version(cls, version: ServerVersion) -> Syntax:
        return cls.MODERN if version.has_object_backup_syntax else cls.LEGACY


def _check_timeout(timeout_s: int | None) -> None:
    if timeout_s is None:
        return
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
        raise InvalidArgumentError(f"timeout must be a whole number of seconds, got {timeout_s!r}.")
    if timeout_s < MIN_TIMEOUT_SECONDS:
        raise InvalidArgumentError(
            f"timeout must be at least {MIN_TIMEOUT_SECONDS} seconds (StarRocks: timeout must be at least 10 min), "
            f"got {timeout_s}."
        )


def _check_int(name: str, value: int | None, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an integer of at least {minimum}, got {value!r}.")


@dataclass(frozen=True)
class BackupRequest:
    """One BACKUP: a snapshot ``label`` of ``scope`` into ``repository``."""

    label: str
    repository: str
    scope: Scope
    timeout_s: int | None = None
    backup_type: str | None = None

    def validate(self) -> None:
        quote_identifier(self.label, argument="label")
        quote_identifier(self.repository, argument="repository")
        self.scope.validate_for_backup()
        _check_timeout(self.timeout_s)
        if self.backup_type is not None and str(self.backup_type).upper() not in BACKUP_TYPES:
            raise InvalidArgumentError(f"backup_type must be FULL or INCREMENTAL, got {self.backup_type!r}.")

    def properties(self) -> dict[str, str]:
        props: dict[str, str] = {}
        if self.timeout_s is not None:
            props["timeout"] = str(self.timeout_s)
        if self.backup_type is not None:
            props["type"] = str(self.backup_type).upper()
        return props


@dataclass(frozen=True)
class RestoreRequest:
    """One RESTORE of snapshot ``label`` (taken at ``backup_timestamp``) from ``repository``."""

    label: str
    repository: str
    scope: Scope
    backup_timestamp: str
    timeout_s: int | None = None
    allow_load: bool | None = None
    replication_num: int | None = None
    meta_version: int | None = None
    starrocks_meta_version: int | None = None

    def validate(self) -> None:
        quote_identifier(self.label, argument="label")
        quote_identifier(self.repository, argument="repository")
        self.scope.validate_for_restore()
        if not self.backup_timestamp:
            raise InvalidArgumentError(
                "backup_timestamp is required: StarRocks restores a snapshot only with its timestamp "
                "(Missing backup_timestamp property); SHOW SNAPSHOT lists it."
            )
        if not is_backup_timestamp(self.backup_timestamp):
            raise InvalidArgumentError(
                f"backup_timestamp {self.backup_timestamp!r} is not of the form yyyy-MM-dd-HH-mm-ss-SSS."
            )
        _check_timeout(self.timeout_s)
        if self.allow_load is not None and not isinstance(self.allow_load, bool):
            raise InvalidArgumentError(f"allow_load must be true or false, got {self.allow_load!r}.")
        _check_int("replication_num", self.replication_num, 1)
        _check_int("meta_version", self.meta_version, -1)
        _check_int("starrocks_meta_version", self.starrocks_meta_version, -1)

    def properties(self) -> dict[str, str]:
        props = {"backup_timestamp": self.backup_timestamp}
        if self.timeout_s is not None:
            props["timeout"] = str(self.timeout_s)
        if self.allow_load is not None:
            props["allow_load"] = "true" if self.allow_load else "false"
        for name in ("replication_num", "meta_version", "starrocks_meta_version"):
            value = getattr(self, name)
            if value is not None:
                props[name] = str(value)
        return props


def render_properties(properties: Mapping[str, str]) -> str:
    if not properties:
        return ""
    pairs = ", ".join(
        f"{quote_string(str(k), argument='property key')} = {quote_string(str(v), argument=f'property {k}')}"
        for k, v in properties.items()
    )
    return f" PROPERTIES ({pairs})"


def _render_partitions(ref: ObjectRef) -> str:
    if not ref.partitions:
        return ""
    names = ", ".join(quote_identifier(p, argument=f"partition of table {ref.name}") for p in ref.partitions)
    return f" PARTITION ({names})"


def _render_object(ref: ObjectRef, *, legacy: bool) -> str:
    text = quote_identifier(ref.name, argument=f"{ref.kind.value.lower()} name")
    text += _render_partitions(ref)
    if ref.alias:
        text += " AS " + quote_identifier(ref.alias, argument=f"alias of {ref.name}")
    return text if legacy else f"{ref.kind.value} {text}"


def _render_on(scope: Scope, *, legacy: bool) -> str:
    if not scope.has_on_clause:
        return ""
    if legacy:
        items = [_render_object(ref, legacy=True) for ref in scope.objects]
    else:
        items = [f"ALL {kind.plural}" for kind in scope.all_of]
        items += [_render_object(ref, legacy=False) for ref in scope.objects]
    return " ON (" + ", ".join(items) + ")"


def _render_external_catalogs(scope: Scope) -> str:
    if scope.all_external_catalogs:
        return "ALL EXTERNAL CATALOGS"
    names = []
    for ref in scope.external_catalogs:
        text = quote_identifier(ref.name, argument="catalog")
        if ref.alias:
            text += " AS " + quote_identifier(ref.alias, argument=f"alias of catalog {ref.name}")
        names.append(text)
    keyword = "CATALOG" if len(names) == 1 else "CATALOGS"
    return f"EXTERNAL {keyword} (" + ", ".join(names) + ")"


def legacy_restore_scope(scope: Scope) -> tuple[Scope, list[str]]:
    """A RESTORE scope as a pre-3.4 server can take it, and the objects left out. 3.3's snapshots hold tables and
    materialized views only (3.3 ``BackupHandler.backup``: ``isOlapTableOrMaterializedView``), named alike in its
    grammar (``restoreTableDesc``: ``qualifiedName partitionNames? (AS identifier)?``): materialized views become
    table names, views and functions are left out. A scope naming nothing else is refused (it would restore the
    whole snapshot)."""
    if scope.is_external_catalog_scope:
        return scope, []
    kept, left_out = [], []
    for ref in scope.objects:
        if ref.kind is ObjectKind.MATERIALIZED_VIEW:
            kept.append(ObjectRef.table(ref.name, ref.partitions, ref.alias))
        elif ref.kind is ObjectKind.TABLE:
            kept.append(ref)
        else:
            left_out.append(f"{ref.kind.value.lower()} {ref.name}")
    unsupported = (ObjectKind.VIEW, ObjectKind.FUNCTION)
    left_out += [f"all {kind.plural.lower()}" for kind in scope.all_of if kind in unsupported]
    all_of = tuple(k for k in scope.all_of if k not in unsupported)
    if scope.has_on_clause and not kept and not all_of:
        raise UnsupportedByServerError(
            f"RESTORE of {', '.join(left_out)} needs StarRocks 3.4 or later; before 3.4 only tables and partitions "
            "can be restored."
        )
    return dataclasses.replace(scope, objects=tuple(kept), all_of=all_of), left_out


def _check_legacy(scope: Scope, statement: str) -> None:
    if scope.is_external_catalog_scope:
        raise UnsupportedByServerError(
            f"{statement} of external catalogs needs StarRocks 3.4 or later; this server takes the legacy syntax only."
        )
    unsupported = sorted(kind.value.lower() for kind in scope.kinds if kind is not ObjectKind.TABLE)
    if unsupported:
        raise UnsupportedByServerError(
            f"{statement} of {', '.join(unsupported)} objects needs StarRocks 3.4 or later; before 3.4 only tables "
            "and partitions can be named."
        )
    if scope.all_of:
        raise UnsupportedByServerError(
            f"{statement} with ALL TABLES needs StarRocks 3.4 or later; leave objects empty to take the whole database."
        )


def render_backup(request: BackupRequest, syntax: Syntax = Syntax.MODERN) -> str:
    request.validate()
    scope = request.scope
    label = quote_identifier(request.label, argument="label")
    repo = quote_identifier(request.repository, argument="repository")
    if syntax is Syntax.LEGACY:
        _check_legacy(scope, "BACKUP")
        database = quote_identifier(scope.database, argument="database")
        head = f"BACKUP SNAPSHOT {database}.{label} TO {repo}"
        return head + _render_on(scope, legacy=True) + render_properties(request.properties())
    if scope.is_external_catalog_scope:
        head = f"BACKUP {_render_external_catalogs(scope)} SNAPSHOT {label} TO {repo}"
    else:
        database = quote_identifier(scope.database, argument="database")
        head = f"BACKUP DATABASE {database} SNAPSHOT {label} TO {repo}"
    return head + _render_on(scope, legacy=False) + render_properties(request.properties())


def render_restore(request: RestoreRequest, syntax: Syntax = Syntax.MODERN) -> str:
    request.validate()
    scope = request.scope
    label = quote_identifier(request.label, argument="label")
    repo = quote_identifier(request.repository, argument="repository")
    props = render_properties(request.properties())
    if syntax is Syntax.LEGACY:
        _check_legacy(scope, "RESTORE")
        if not scope.database:
            raise InvalidArgumentError("database is required for a RESTORE in the legacy syntax.")
        # The label's prefix names the database restored into, whatever the snapshot's (3.3 BackupHandler.process /
        # restore read stmt.getDbName() only; AstBuilder.parseBackupRestoreStatement at 3.4+ sets no originDbName
        # for it). 3.3 refuses a missing one: the restore operator creates it first (render_create_database).
        target = scope.target_database or scope.database
        database = quote_identifier(target, argument="target_database" if scope.target_database else "database")
        return f"RESTORE SNAPSHOT {database}.{label} FROM {repo}" + _render_on(scope, legacy=True) + props
    text = f"RESTORE SNAPSHOT {label} FROM {repo}"
    if scope.is_external_catalog_scope:
        text += " " + _render_external_catalogs(scope)
    elif scope.database:
        text += " DATABASE " + quote_identifier(scope.database, argument="database")
        if scope.target_database:
            text += " AS " + quote_identifier(scope.target_database, argument="target_database")
    return text + _render_on(scope, legacy=False) + props


def render_create_repository(spec: RepositorySpec) -> str:
    name = quote_identifier(spec.name, argument="repository")
    if not spec.location:
        raise InvalidArgumentError("location is required: You must specify a location on the repository.")
    read_only = "READ ONLY " if spec.read_only else ""
    broker = " " + quote_identifier(spec.broker, argument="broker") if spec.broker else ""
    location = quote_string(spec.location, argument="location")
    return (
        f"CREATE {read_only}REPOSITORY {name} WITH BROKER{broker} ON LOCATION {location}"
        + render_properties(spec.properties)
    )


def render_create_database(name: str) -> str:
    """``CREATE DATABASE IF NOT EXISTS``: before a RESTORE on a server that does not create its target (3.3's
    ``BackupHandler.process`` refuses a missing database with ERR_BAD_DB_ERROR; 3.4+ creates it)."""
    return "CREATE DATABASE IF NOT EXISTS " + quote_identifier(name, argument="database")


def render_drop_database(name: str) -> str:
    """``DROP DATABASE IF EXISTS <name> FORCE``: a restore drill's scratch database, gone at once (without FORCE
    StarRocks keeps a dropped database in its recycle bin: ``LocalMetastore.dropDb`` at afccab88fd,
    ``recycleBin.recycleDatabase`` unless ``isForceDrop``; grammar ``dropDbStatement`` in StarRocks.g4)."""
    return "DROP DATABASE IF EXISTS " + quote_identifier(name, argument="database") + " FORCE"


def database_exists_query(name: str) -> str:
    """One row if database ``name`` exists (``information_schema.schemata``), none otherwise."""
    literal = quote_string(name, argument="database")
    return f"SELECT SCHEMA_NAME FROM information_schema.schemata WHERE SCHEMA_NAME = {literal}"  # noqa: S608


def render_drop_repository(name: str) -> str:
    return "DROP REPOSITORY " + quote_identifier(name, argument="repository")


def render_show_repositories() -> str:
    return "SHOW REPOSITORIES"


def _from_database(database: str | None) -> str:
    return " FROM " + quote_identifier(database, argument="database") if database else ""


def render_show_backup(database: str | None = None) -> str:
    return "SHOW BACKUP" + _from_database(database)


def render_show_restore(database: str | None = None) -> str:
    return "SHOW RESTORE" + _from_database(database)


def render_show_snapshot(
    repository: str,
    label: str | None = None,
    timestamp: str | None = None,
    labels: tuple[str, ...] | list[str] | None = None,
) -> str:
    """``SHOW SNAPSHOT ON repo`` in its three forms: all, one label (optionally with its timestamp), or ``IN``."""
    text = "SHOW SNAPSHOT ON " + quote_identifier(repository, argument="repository")
    if labels:
        if label or timestamp:
            raise InvalidArgumentError("labels cannot be combined with label or timestamp in SHOW SNAPSHOT.")
        values = ", ".join(quote_string(x, argument="label") for x in labels)
        return text + f" WHERE SNAPSHOT IN ({values})"
    if timestamp and not label:
        raise InvalidArgumentError("timestamp needs label: SHOW SNAPSHOT filters on SNAPSHOT and then TIMESTAMP.")
    if label:
        text += " WHERE SNAPSHOT = " + quote_string(label, argument="label")
        if timestamp:
            if not is_backup_timestamp(timestamp):
                raise InvalidArgumentError(f"timestamp {timestamp!r} is not of the form yyyy-MM-dd-HH-mm-ss-SSS.")
            text += " AND TIMESTAMP = " + quote_string(timestamp, argument="timestamp")
    return text


def _render_cancel(verb: str, database: str | None, external_catalog: bool) -> str:
    if external_catalog and database:
        raise InvalidArgumentError(f"CANCEL {verb}: give a database or external_catalog=True, not both.")
    if external_catalog:
        return f"CANCEL {verb} FOR EXTERNAL CATALOG"
    if not database:
        raise InvalidArgumentError(
            f"database is required to cancel a {verb.lower()} (StarRocks: No selected database for cancel "
            "BACKUP/RESTORE), or set external_catalog=True."
        )
    return f"CANCEL {verb}" + _from_database(database)


def render_cancel_backup(database: str | None = None, *, external_catalog: bool = False) -> str:
    return _render_cancel("BACKUP", database, external_catalog)


def render_cancel_restore(database: str | None = None, *, external_catalog: bool = False) -> str:
    return _render_cancel("RESTORE", database, external_catalog)


def render_activate_materialized_view(database: str, name: str) -> str:
    qualified = quote_identifier(database, argument="database") + "." + quote_identifier(name, argument="name")
    return f"ALTER MATERIALIZED VIEW {qualified} ACTIVE"
