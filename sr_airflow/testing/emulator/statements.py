"""Hand-written parser for the BACKUP / RESTORE family (sqlglot returns a generic Command for them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import EmulatorError
from .tokens import Cursor

Span = tuple[int, int]  # a node's position as NodePosition(start, stop) keeps it: the start offsets of its first
# and its last token (AstBuilder.createPos(ParserRuleContext))


@dataclass(frozen=True)
class ObjectRef:
    kind: str  # TABLE, MATERIALIZED_VIEW, VIEW, FUNCTION
    name: str | None  # None means ALL of that kind
    partitions: tuple[str, ...] = ()
    temporary: bool = False
    alias: str | None = None
    # TableRef's position (the object description), its TableName's (the qualified name; the last part is one
    # DOT_IDENTIFIER token `.t`) and its PartitionNames' (the PARTITION clause)
    span: Span = field(default=(0, 0), compare=False)
    name_span: Span = field(default=(0, 0), compare=False)
    partitions_span: Span = field(default=(0, 0), compare=False)


def node_position(sql: str, span: Span) -> str:
    """SemanticException.getMessage's position: ParserErrorMsg.nodePositionPoint ("at line L, column C") when the
    node starts and ends at one place, else nodePositionRange ("from line L, column C to line L2, column C2");
    columns count from 0 in their line (Token.getCharPositionInLine)."""
    def line_col(offset: int) -> tuple[int, int]:
        return sql.count("\n", 0, offset) + 1, offset - (sql.rfind("\n", 0, offset) + 1)

    (line, col), (end_line, end_col) = line_col(span[0]), line_col(span[1])
    if (line, col) == (end_line, end_col):
        return f"at line {line}, column {col}"
    return f"from line {line}, column {col} to line {end_line}, column {end_col}"


@dataclass(frozen=True)
class CatalogRef:
    name: str
    alias: str | None = None


@dataclass(frozen=True)
class BackupRestoreStmt:
    is_backup: bool
    db: str | None
    new_db: str | None
    label: str
    repo: str
    objects: tuple[ObjectRef, ...]
    has_on: bool
    properties: dict[str, str] = field(default_factory=dict)
    external_catalogs: tuple[CatalogRef, ...] = ()  # AbstractBackupStmt.externalCatalogRefs (3.5 e223275f78)
    all_external_catalogs: bool = False  # allExternalCatalog()
    # RESTORE's `DATABASE a [AS b]` names the snapshot's database `a` (RestoreStmt.originDbName, checked against
    # the job info); the label prefix `db.l` names the target only (AstBuilder.parseBackupRestoreStatement)
    origin_db: str | None = None
    sql: str = field(default="", compare=False)  # the statement text the objects' spans point into

    @property
    def is_external_catalog_job(self) -> bool:
        return self.all_external_catalogs or bool(self.external_catalogs)


@dataclass(frozen=True)
class CreateRepositoryStmt:
    name: str
    read_only: bool
    broker: str
    location: str
    properties: dict[str, str]


def parser_error(sql: str, message: str) -> EmulatorError:
    lines = sql.splitlines() or [""]
    return EmulatorError(f"Getting syntax error from line 1, column 0 to line {len(lines)}, column "
                         f"{len(lines[-1])}. Detail message: {message}.")


def _partition_names(cur: Cursor) -> tuple[tuple[str, ...], bool]:
    temporary = cur.accept("TEMPORARY")
    if not (cur.accept("PARTITION") or cur.accept("PARTITIONS")):
        cur.fail("PARTITION")
    if cur.accept("("):
        names = [cur.name_or_string()]
        if cur.accept("="):  # PARTITION (col = literal, ...)
            cur.literal()
            while cur.accept(","):
                cur.identifier()
                cur.expect("=")
                cur.literal()
            cur.expect(")")
            return (), temporary
        while cur.accept(","):
            names.append(cur.name_or_string())
        cur.expect(")")
        return tuple(names), temporary
    return (cur.name_or_string(),), temporary  # 3.4/3.5: one bare name (lists need parentheses)


def _last_start(cur: Cursor) -> int:
    return cur.tokens[cur.pos - 1].start


def _qualified_name(cur: Cursor) -> tuple[list[str], Span]:
    """A qualified name and its span; `db.t` ends where its DOT_IDENTIFIER token `.t` starts."""
    token = cur.peek()
    start = token.start if token is not None else 0
    parts = cur.qualified()
    end = _last_start(cur)
    if len(parts) > 1:
        dot = cur.tokens[cur.pos - 2]
        if dot.text == "." and dot.end == end:
            end = dot.start
    return parts, (start, end)


def _object_parts(cur: Cursor, kind: str, start: int, legacy_backup: bool | None = None) -> ObjectRef:
    """The rest of an object description: the name, a PARTITION clause (tables), an alias (AS, not in 3.3's
    BACKUP `tableDesc`)."""
    parts, name_span = _qualified_name(cur)
    partitions: tuple[str, ...] = ()
    temporary = False
    partitions_span: Span = (0, 0)
    if kind == "TABLE" and (cur.at("PARTITION") or cur.at("PARTITIONS") or cur.at("TEMPORARY")):
        first = cur.peek().start
        partitions, temporary = _partition_names(cur)
        partitions_span = (first, _last_start(cur))
    alias = cur.identifier() if legacy_backup is not True and cur.accept("AS") else None
    return ObjectRef(kind, parts[-1], partitions, temporary, alias, span=(start, _last_start(cur)),
                     name_span=name_span, partitions_span=partitions_span)


def _object(cur: Cursor) -> ObjectRef:
    start = cur.peek().start if cur.peek() is not None else 0
    if cur.accept("ALL"):
        if cur.accept("TABLE") or cur.accept("TABLES"):
            return ObjectRef("TABLE", None)
        if cur.accept("FUNCTION") or cur.accept("FUNCTIONS"):
            return ObjectRef("FUNCTION", None)
        if cur.accept("MATERIALIZED"):
            if not (cur.accept("VIEW") or cur.accept("VIEWS")):
                cur.fail("VIEWS")
            return ObjectRef("MATERIALIZED_VIEW", None)
        if cur.accept("VIEW") or cur.accept("VIEWS"):
            return ObjectRef("VIEW", None)
        cur.fail("TABLES, FUNCTIONS, VIEWS, MATERIALIZED VIEWS")
    kind = "TABLE"
    if cur.at("FUNCTION") or cur.at("FUNCTIONS"):
        cur.next()
        kind = "FUNCTION"
    elif cur.at("MATERIALIZED", "VIEW") or cur.at("MATERIALIZED", "VIEWS"):
        cur.next()
        cur.next()
        kind = "MATERIALIZED_VIEW"
    elif (cur.at("VIEW") or cur.at("VIEWS")) and cur.peek(1) is not None and cur.peek(1).kind in ("word", "ident") \
            and cur.peek(1).upper not in ("AS", "PARTITION"):
        cur.next()
        kind = "VIEW"
    elif (cur.at("TABLE") or cur.at("TABLES")) and cur.peek(1) is not None and cur.peek(1).kind in ("word", "ident") \
            and cur.peek(1).upper not in ("AS", "PARTITION", "PARTITIONS", "TEMPORARY"):
        cur.next()
    return _object_parts(cur, kind, start)


def _catalogs(cur: Cursor) -> tuple[tuple[CatalogRef, ...], bool]:
    if cur.accept("ALL", "EXTERNAL", "CATALOGS"):
        return (), True
    if cur.accept("EXTERNAL"):
        if not (cur.accept("CATALOG") or cur.accept("CATALOGS")):
            cur.fail("CATALOG")
        cur.expect("(")
        refs = []
        while True:
            name = cur.identifier()
            refs.append(CatalogRef(name, cur.identifier() if cur.accept("AS") else None))
            if cur.accept(")"):
                return tuple(refs), False
            cur.expect(",")
    return (), False


# Reserved words of 3.3's StarRocks.g4 (1a2f1f5d75) that can start a 3.4+ object description; the other words
# (TABLES, VIEW, VIEWS, FUNCTIONS, MATERIALIZED) are in its `nonReserved` list, so 3.3 reads them as a table name.
_RESERVED_33 = {"ALL", "TABLE", "FUNCTION", "DATABASE"}


def _legacy_object(cur: Cursor, is_backup: bool) -> ObjectRef:
    """3.3's `tableDesc` (BACKUP: qualifiedName partitionNames?) and `restoreTableDesc` (RESTORE: ... (AS id)?)."""
    token = cur.peek()
    if token is not None and token.kind == "word" and token.upper in _RESERVED_33:
        cur.fail("a legal identifier")
    return _object_parts(cur, "TABLE", token.start if token is not None else 0, legacy_backup=is_backup)


def _on_clause(cur: Cursor, legacy: bool = False, is_backup: bool = True) -> tuple[tuple[ObjectRef, ...], bool]:
    if not cur.accept("ON"):
        return (), False
    cur.expect("(")
    read = (lambda: _legacy_object(cur, is_backup)) if legacy else (lambda: _object(cur))
    objects = [read()]
    while cur.accept(","):
        objects.append(read())
    cur.expect(")")
    return tuple(objects), True


def parse_backup(cur: Cursor, legacy: bool = False) -> BackupRestoreStmt:
    """After BACKUP. `legacy`: the 3.3 grammar (`versions.has_object_backup_syntax`), where only
    `BACKUP SNAPSHOT db.l TO r [ON (t [PARTITION (..)], ...)] [PROPERTIES (..)]` parses."""
    if legacy:
        cur.expect("SNAPSHOT")
        parts = cur.qualified()
        cur.expect("TO")
        repo = cur.identifier()
        objects, has_on = _on_clause(cur, legacy=True)
        props = cur.properties() if cur.accept("PROPERTIES") else {}
        cur.end()
        return BackupRestoreStmt(True, parts[-2] if len(parts) > 1 else None, None, parts[-1], repo, objects,
                                 has_on, props, sql=cur.sql)
    catalogs, all_catalogs = _catalogs(cur)
    db = cur.identifier() if cur.accept("DATABASE") else None
    cur.expect("SNAPSHOT")
    parts = cur.qualified()
    cur.expect("TO")
    repo = cur.identifier()
    objects, has_on = _on_clause(cur)
    props = cur.properties() if cur.accept("PROPERTIES") else {}
    cur.end()
    prefix_db = parts[-2] if len(parts) > 1 else None
    if (catalogs or all_catalogs) and (db or prefix_db):
        raise parser_error(cur.sql, "Can not sepcify database name for external catalog Backup/Restore")
    if (catalogs or all_catalogs) and has_on:
        raise parser_error(cur.sql, "Can not sepcify `ON` clause for external catalog Backup/Restore")
    if db and prefix_db:
        raise parser_error(cur.sql, "Specifying dbName before snapshot name is forbidden if the DbName is "
                                    "specified explicitly in BACKUP/RESTORE")
    if any(o.alias for o in objects):
        raise parser_error(cur.sql, "Specifying alias for backup object is forbidden in BACKUP stmt")
    return BackupRestoreStmt(True, db or prefix_db, None, parts[-1], repo, objects, has_on, props,
                             catalogs, all_catalogs, sql=cur.sql)


def parse_restore(cur: Cursor, legacy: bool = False) -> BackupRestoreStmt:
    """After RESTORE. `legacy`: the 3.3 grammar, `RESTORE SNAPSHOT db.l FROM r [ON (t [PARTITION (..)] [AS a],
    ...)] [PROPERTIES (..)]` only."""
    cur.expect("SNAPSHOT")
    parts = cur.qualified()
    cur.expect("FROM")
    repo = cur.identifier()
    if legacy:
        objects, has_on = _on_clause(cur, legacy=True, is_backup=False)
        props = cur.properties() if cur.accept("PROPERTIES") else {}
        cur.end()
        return BackupRestoreStmt(False, parts[-2] if len(parts) > 1 else None, None, parts[-1], repo, objects,
                                 has_on, props, sql=cur.sql)
    catalogs, all_catalogs = _catalogs(cur)
    db = new_db = None
    if cur.accept("DATABASE"):
        db = cur.identifier()
        if cur.accept("AS"):
            new_db = cur.identifier()
    objects, has_on = _on_clause(cur)
    props = cur.properties() if cur.accept("PROPERTIES") else {}
    cur.end()
    prefix_db = parts[-2] if len(parts) > 1 else None
    if (catalogs or all_catalogs) and (db or prefix_db):
        raise parser_error(cur.sql, "Can not sepcify database name for external catalog Backup/Restore")
    if (catalogs or all_catalogs) and has_on:
        raise parser_error(cur.sql, "Can not sepcify `ON` clause for external catalog Backup/Restore")
    if db and prefix_db:
        raise parser_error(cur.sql, "Specifying dbName before snapshot name is forbidden if the DbName is "
                                    "specified explicitly in BACKUP/RESTORE")
    if has_on and not (db or prefix_db):
        raise parser_error(cur.sql, "`ON` clause is forbidden if no Database explicitly specified in Restore stmt")
    return BackupRestoreStmt(False, db or prefix_db, new_db, parts[-1], repo, objects, has_on, props,
                             catalogs, all_catalogs, origin_db=db, sql=cur.sql)


def parse_create_repository(cur: Cursor, read_only: bool) -> CreateRepositoryStmt:
    """After CREATE [READ ONLY] REPOSITORY."""
    name = cur.identifier()
    cur.expect("WITH", "BROKER")
    broker = ""
    if not cur.at("ON"):
        broker = cur.name_or_string()
    cur.expect("ON", "LOCATION")
    location = cur.string()
    props = cur.properties() if cur.accept("PROPERTIES") else {}
    cur.end()
    return CreateRepositoryStmt(name, read_only, broker, location, props)


def parse_show_snapshot_where(cur: Cursor) -> tuple[str | list[str] | None, str | None]:
    """(snapshot names or None, timestamp or None) from SHOW SNAPSHOT ON repo [WHERE ...]: `SNAPSHOT = 'x'` gives
    the name as a str (StarRocks then reads that snapshot without listing the repository), `SNAPSHOT IN (..)` a
    list (a filter on the listing)."""
    if cur.done():
        return None, None
    cur.expect("WHERE")
    error = EmulatorError("Getting analyzing error. Detail message: Where clause should looks like: SNAPSHOT = "
                          "'your_snapshot_name' [AND TIMESTAMP = '2018-04-18-19-19-10'].")
    names: str | list[str] | None = None
    timestamp = None
    try:
        while True:
            key = cur.identifier().upper()
            if key == "SNAPSHOT" and cur.accept("IN"):
                cur.expect("(")
                names = [cur.string()]
                while cur.accept(","):
                    names.append(cur.string())
                cur.expect(")")
            elif key == "SNAPSHOT":
                cur.expect("=")
                names = cur.string()
            elif key == "TIMESTAMP":
                cur.expect("=")
                timestamp = cur.string()
            else:
                raise error
            if cur.done():
                break
            cur.expect("AND")
    except EmulatorError as err:
        raise error from err
    listed = [names] if isinstance(names, str) else names
    if listed is None or (timestamp is not None and len(listed) != 1) or any(not n for n in listed):
        raise error
    return names, timestamp
