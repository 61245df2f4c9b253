"""Typed models of what a BACKUP or RESTORE covers, validated as StarRocks' parser would validate them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sr_airflow.engine.errors import InvalidArgumentError


class ObjectKind(Enum):
    """A kind of object an ``ON (...)`` clause can name. The value is the singular keyword."""

    TABLE = "TABLE"
    MATERIALIZED_VIEW = "MATERIALIZED VIEW"
    VIEW = "VIEW"
    FUNCTION = "FUNCTION"

    @property
    def plural(self) -> str:
        return {"TABLE": "TABLES", "MATERIALIZED VIEW": "MATERIALIZED VIEWS", "VIEW": "VIEWS",
                "FUNCTION": "FUNCTIONS"}[self.value]

    @classmethod
    def parse(cls, text: str, *, argument: str = "kind") -> ObjectKind:
        key = " ".join(str(text).replace("_", " ").upper().split())
        for kind in cls:
            if key in (kind.value, kind.plural):
                return kind
        valid = ", ".join(k.value.lower().replace(" ", "_") for k in cls)
        raise InvalidArgumentError(f"{argument} {text!r} is not an object kind; valid kinds: {valid}.")


@dataclass(frozen=True)
class ObjectRef:
    """One named object: a table (optionally some partitions), a materialized view, a view or a function.

    ``alias`` renames it on RESTORE (``TABLE t AS t2``); BACKUP refuses aliases.
    """

    kind: ObjectKind
    name: str
    partitions: tuple[str, ...] = ()
    alias: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "partitions", tuple(self.partitions))
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgumentError(f"{self.kind.value.lower()} name must be a non-empty string.")
        if self.partitions and self.kind is not ObjectKind.TABLE:
            raise InvalidArgumentError(
                f"partitions can only be given for a table, not for {self.kind.value.lower()} {self.name!r}."
            )
        if len(set(self.partitions)) != len(self.partitions):
            raise InvalidArgumentError(f"partitions of table {self.name!r} list the same partition twice.")

    @classmethod
    def table(cls, name: str, partitions: tuple[str, ...] | list[str] = (), alias: str | None = None) -> ObjectRef:
        return cls(ObjectKind.TABLE, name, tuple(partitions), alias)


@dataclass(frozen=True)
class ExternalCatalogRef:
    """An external catalog; ``alias`` renames it on RESTORE."""

    name: str
    alias: str | None = None


@dataclass(frozen=True)
class Scope:
    """What one BACKUP or RESTORE covers.

    Either a database (with ``objects`` / ``all_of`` narrowing it, or nothing for the whole database) or external
    catalogs (``external_catalogs`` or ``all_external_catalogs``), never both — StarRocks refuses the mix at parse
    time.
    ``target_database`` renames the database on RESTORE (``DATABASE a AS b``).
    """

    database: str | None = None
    objects: tuple[ObjectRef, ...] = ()
    all_of: tuple[ObjectKind, ...] = ()
    external_catalogs: tuple[ExternalCatalogRef, ...] = ()
    all_external_catalogs: bool = False
    target_database: str | None = None

    def __post_init__(self) -> None:
        for name in ("objects", "all_of", "external_catalogs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def is_external_catalog_scope(self) -> bool:
        return bool(self.external_catalogs) or self.all_external_catalogs

    @property
    def has_on_clause(self) -> bool:
        return bool(self.objects) or bool(self.all_of)

    @property
    def kinds(self) -> set[ObjectKind]:
        return {ref.kind for ref in self.objects} | set(self.all_of)

    def validate_common(self) -> None:
        if self.is_external_catalog_scope and self.database:
            raise InvalidArgumentError(
                "database cannot be given with external catalogs: StarRocks backs up and restores catalogs "
                "without a database."
            )
        if self.is_external_catalog_scope and self.has_on_clause:
            raise InvalidArgumentError(
                "objects cannot be given with external catalogs: StarRocks refuses an ON clause for catalogs."
            )
        if self.external_catalogs and self.all_external_catalogs:
            raise InvalidArgumentError("external_catalogs: give catalog names or ALL, not both.")
        if len(set(self.all_of)) != len(self.all_of):
            raise InvalidArgumentError("all_of lists the same object kind twice.")
        names = [c.name for c in self.external_catalogs]
        if len(set(names)) != len(names):
            raise InvalidArgumentError("external_catalogs lists the same catalog twice.")
        seen: set[tuple[ObjectKind, str]] = set()
        for ref in self.objects:
            if (ref.kind, ref.name) in seen:
                raise InvalidArgumentError(f"objects lists {ref.kind.value.lower()} {ref.name!r} twice.")
            seen.add((ref.kind, ref.name))
            if ref.kind in self.all_of:
                raise InvalidArgumentError(
                    f"objects names {ref.kind.value.lower()} {ref.name!r} and also asks for ALL {ref.kind.plural}."
                )

    def validate_for_backup(self) -> None:
        self.validate_common()
        if not self.database and not self.is_external_catalog_scope:
            raise InvalidArgumentError("database is required for a backup (or give external catalogs).")
        if self.target_database:
            raise InvalidArgumentError(
                "target_database is a RESTORE rename: StarRocks forbids aliases in BACKUP (Specifying alias for "
                "backup object is forbidden in BACKUP stmt)."
            )
        aliased = [r.name for r in self.objects if r.alias] + [c.name for c in self.external_catalogs if c.alias]
        if aliased:
            raise InvalidArgumentError(
                f"objects {aliased!r} have an alias: StarRocks forbids aliases in BACKUP (Specifying alias for "
                "backup object is forbidden in BACKUP stmt)."
            )

    def validate_for_restore(self) -> None:
        self.validate_common()
        if self.has_on_clause and not self.database:
            raise InvalidArgumentError(
                "database is required when objects are given: StarRocks forbids an ON clause in RESTORE without "
                "a database."
            )
        if self.target_database and not self.database:
            raise InvalidArgumentError("target_database needs database: it renames DATABASE <database> AS <target>.")
        aliases = [r.alias for r in self.objects if r.alias]
        if len(set(aliases)) != len(aliases):
            raise InvalidArgumentError(f"objects use the same alias twice: {sorted(aliases)!r}.")
