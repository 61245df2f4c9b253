"""The MySQL wire protocol side: a mysql-mimic server whose sessions hand StarRocks statements to the Frontend."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import functools
import json
import logging
import os
import re
import threading
import time
from typing import Any

import duckdb
from mysql_mimic import MysqlServer, ResultColumn, ResultSet, Session
from mysql_mimic import errors as mimic_errors
from mysql_mimic.auth import IdentityProvider, NativePasswordAuthPlugin, User
from mysql_mimic.control import TooManyConnections
from mysql_mimic.errors import ErrorCode, MysqlError
from mysql_mimic.stream import MysqlStream
from mysql_mimic.types import ColumnType
from mysql_mimic.variables import SYSTEM_VARIABLES, GlobalVariables, SessionVariables

from .context import SessionState
from .errors import ERR_BAD_DB_ERROR, ERROR_CODES, EmulatorError
from .frontend import Frontend
from .tls import TLSStream
from .wire import HeaderCachingConnection

# A reply's SQL state is its StarRocks ErrorCode's (MysqlErrPacket: `code.getSqlState()`, HY000 for the 1064 default;
# errors.py says which errors carry which code). mysql-mimic picks the state by code number; StarRocks' numbers are
# unique, so its table takes them.
mimic_errors.SQLSTATES.update({number: entry.sql_state.encode() for number, entry in ERROR_CODES.items()})

log = logging.getLogger(__name__)

_MIMIC_WORDS = {"SET", "USE", "COMMIT", "ROLLBACK", "BEGIN", "START", "KILL"}
_MIMIC_SHOW = re.compile(r"^\s*SHOW\s+(GLOBAL\s+|SESSION\s+)?(VARIABLES|STATUS|WARNINGS|ERRORS)\b", re.I)
_SESSION_FUNCS = re.compile(r"@@|\b(DATABASE|SCHEMA|USER|CURRENT_USER|SESSION_USER|SYSTEM_USER|CONNECTION_ID|"
                            r"VERSION|CURRENT_VERSION|LAST_INSERT_ID)\s*\(", re.I)
_SET_ROLE = re.compile(r"^\s*SET\s+(DEFAULT\s+)?ROLE\b", re.I)
_HAS_FROM = re.compile(r"\bFROM\b", re.I)
_CURRENT_VERSION = re.compile(r"\bcurrent_version\s*\(\s*\)", re.I)
_CURRENT_VERSION_ALIASED = re.compile(r"\bcurrent_version\s*\(\s*\)(?=\s+AS\b)", re.I)
_LEADING_COMMENT = re.compile(r"^\s*(/\*.*?\*/\s*|--[^\n]*\n\s*)*", re.S)

_EXTRA_VARIABLES = {
    "query_timeout": (int, 300, True), "insert_timeout": (int, 14400, True), "exec_mem_limit": (int, 2147483648, True),
    "pipeline_dop": (int, 0, True), "enable_profile": (bool, False, True), "wait_timeout": (int, 28800, True),
    "parallel_fragment_exec_instance_num": (int, 1, True), "enable_insert_strict": (bool, True, True),
    "group_concat_max_len": (int, 1024, True), "tx_isolation": (str, "REPEATABLE-READ", True),
    "query_mem_limit": (int, 0, True), "sql_safe_updates": (int, 0, True), "net_read_timeout": (int, 60, True),
    "character_set_system": (str, "utf8", False), "language": (str, "/starrocks/share/english/", False),
    "have_query_cache": (str, "YES", False), "query_cache_size": (int, 1048576, False),
    "query_cache_type": (int, 0, False),
}


class QueryLog:
    """Statements and faults as JSON lines, flushed before the statement is answered (readers count on that).

    The file stays open: opening it per statement cost more than answering a SHOW BACKUP.
    """

    def __init__(self, path: str | None):
        self.path = path
        self.lock = threading.Lock()
        self._handle = None

    def write(self, connection: int, statement: str) -> None:
        if not self.path:
            return
        line = json.dumps({"time": time.time(), "connection": connection, "statement": statement})
        self._append(line)

    def fault(self, fault: str, connection: int | None = None, **details) -> None:
        """An injected fault: `{"time", "connection", "fault", ...details}` (no "statement" key)."""
        if not self.path:
            return
        self._append(json.dumps({"time": time.time(), "connection": connection, "fault": fault, **details},
                                default=str))

    def _append(self, line: str) -> None:
        with self.lock:
            if self._handle is None:
                self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
            self._handle.write(line + "\n")
            self._handle.flush()


class RootIdentity(IdentityProvider):
    """`root` with the password given on the command line (empty by default), and the CREATE USER users."""

    def __init__(self, password: str, users=None):
        self.password = password
        self.users = users  # a Privileges: password_of(name)

    def get_plugins(self):
        return [NativePasswordAuthPlugin()]

    async def get_user(self, username: str) -> User | None:
        known = self.users.password_of(username) if self.users is not None and username != "root" else None
        if known is not None:
            auth = NativePasswordAuthPlugin.create_auth_string(known) if known else None
            return User(name=username, auth_string=auth, auth_plugin=NativePasswordAuthPlugin.name)
        if username != "root":  # unknown users fail like a wrong password: "Access denied"
            return User(name=username, auth_string=NativePasswordAuthPlugin.create_auth_string(os.urandom(16).hex()),
                        auth_plugin=NativePasswordAuthPlugin.name)
        auth = NativePasswordAuthPlugin.create_auth_string(self.password) if self.password else None
        return User(name="root", auth_string=auth, auth_plugin=NativePasswordAuthPlugin.name)


def _variables(full_version: str) -> SessionVariables:
    schema = {**SYSTEM_VARIABLES, **_EXTRA_VARIABLES,
              "version": (str, "8.0.33", False), "version_comment": (str, full_version, False)}
    return SessionVariables(GlobalVariables(schema))


@functools.lru_cache(maxsize=256)
def _text_columns(names: tuple[str, ...]) -> list[ResultColumn]:
    return [ResultColumn(name, ColumnType.VAR_STRING) for name in names]


def _text_result(rows: list, columns: list) -> ResultSet:
    """Every SHOW column is VARCHAR; None is sent as NULL."""
    cols = _text_columns(tuple(columns))
    return ResultSet(rows=[[None if v is None else str(v) for v in row] for row in rows], columns=cols)


_TYPE_OF = {bool: ColumnType.TINY, int: ColumnType.LONGLONG, float: ColumnType.DOUBLE,
            decimal.Decimal: ColumnType.NEWDECIMAL}


def _typed_result(rows: list, columns: list) -> ResultSet:
    """DuckDB results: the column type from the first non-NULL value (strings for anything unusual)."""
    result_columns = []
    converted = [list(r) for r in rows]
    for index, name in enumerate(columns):
        sample = next((r[index] for r in rows if r[index] is not None), None)
        kind = _TYPE_OF.get(type(sample))
        if sample is None or kind is None:
            if isinstance(sample, dt.datetime):
                kind = ColumnType.DATETIME
            elif isinstance(sample, dt.date):
                kind = ColumnType.DATE
            else:
                kind = ColumnType.VAR_STRING
                for row in converted:
                    value = row[index]
                    if value is not None and not isinstance(value, str):
                        row[index] = value.hex() if isinstance(value, bytes) else str(value)
        if kind == ColumnType.LONGLONG:
            for row in converted:
                if row[index] is not None and abs(row[index]) >= 2 ** 63:
                    kind = ColumnType.VAR_STRING
            if kind == ColumnType.VAR_STRING:
                for row in converted:
                    row[index] = None if row[index] is None else str(row[index])
        result_columns.append(ResultColumn(name, kind))
    return ResultSet(rows=converted, columns=result_columns)


class EmulatorSession(Session):
    def __init__(self, frontend: Frontend, query_log: QueryLog):
        super().__init__(_variables(frontend.cluster.full_version))
        self.frontend = frontend
        self.query_log = query_log
        self.state = SessionState(connection_id=0)

    async def init(self, connection) -> None:
        await super().init(connection)
        self.state.connection_id = connection.connection_id
        self.frontend.privileges.login(self.state, self.username or "root")

    async def use(self, database: str) -> None:
        if database.lower() != "information_schema" and database not in self.frontend.metastore.databases:
            # COM_INIT_DB, USE and the handshake's database (ConnectProcessor.handleInitDb,
            # StmtExecutor.handleUseDbStmt, MysqlProto.negotiate -> ConnectContext.changeCatalogDb):
            # ErrorReport.reportDdlException(ERR_BAD_DB_ERROR, db), a DdlException's bare message
            raise MysqlError(f"Unknown database '{database}'", ERR_BAD_DB_ERROR.code)
        self.database = database
        self.state.database = database

    async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        self.query_log.write(self.state.connection_id, sql)
        body = _LEADING_COMMENT.sub("", sql, count=1).strip().rstrip(";").strip()
        if not body:
            return None
        first = body.split(None, 1)[0].upper()
        try:
            if _SET_ROLE.match(body):
                await asyncio.to_thread(self.frontend.execute, body, self.state)
                return None
            if first in _MIMIC_WORDS or _MIMIC_SHOW.match(body) or (
                    first == "SELECT" and _SESSION_FUNCS.search(body) and not _HAS_FROM.search(body)):
                version = f"'{self.frontend.cluster.full_version}'"
                body = _CURRENT_VERSION_ALIASED.sub(version, body)
                body = _CURRENT_VERSION.sub(f"{version} AS `current_version()`", body)
                result = await super().handle_query(body, attrs)
                self.state.database = self.database
                return result
            self.state.database = self.database
            if self.frontend.cluster.faults.take_drop():  # emulator_drop_connections: close before answering
                self.query_log.fault("drop_connection", self.state.connection_id, statement_text=sql[:200])
                self.connection.stream.writer.transport.abort()
                raise ConnectionResetError("emulator_drop_connections")
            result = self.frontend.answer_now(body, self.state)
            if result == ():
                result = await asyncio.to_thread(self.frontend.execute, body, self.state)
        except EmulatorError as err:
            raise MysqlError(err.message, err.code) from err
        except (MysqlError, ConnectionResetError):
            raise
        except duckdb.Error as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise MysqlError(f"Getting analyzing error. Detail message: {detail}.", 1064) from err
        except Exception as err:  # noqa: BLE001 - one statement's failure never reaches other sessions
            log.exception("statement failed: %s", body)
            raise MysqlError(f"Unexpected exception: {type(err).__name__}: {err}", 1064) from err
        if result is None:
            return None
        rows, columns = result
        if first in ("SHOW", "DESC", "DESCRIBE"):
            return _text_result(rows, columns)
        return _typed_result(rows, columns)


class EmulatorMysqlServer(MysqlServer):
    """Refuses connections (closes them on accept) while emulator_refuse_connections_seconds runs."""

    def __init__(self, frontend: Frontend, query_log: QueryLog, **kwargs):
        super().__init__(**kwargs)
        self.frontend = frontend
        self.query_log = query_log

    async def _client_connected_cb(self, reader, writer) -> None:
        if self.frontend.cluster.faults.refusing():
            self.query_log.fault("refuse_connection")
            writer.transport.abort()
            return
        try:
            await self._serve_connection(reader, writer)
        except Exception:  # noqa: BLE001 - a dropped connection never reaches the server
            writer.transport.abort()

    async def _serve_connection(self, reader, writer) -> None:
        """mysql-mimic's own connection callback (3.0.5), with the header-caching connection class and, serving TLS,
        the stream that switches to it without losing bytes."""
        stream = TLSStream(MysqlStream(reader, writer)) if self.ssl else MysqlStream(reader, writer)
        session = self.session_factory()
        connection = HeaderCachingConnection(stream=stream, session=session, control=self.control,
                                             server_capabilities=self.capabilities,
                                             identity_provider=self.identity_provider, ssl=self.ssl)
        try:
            connection.connection_id = await self.control.add(connection)
        except TooManyConnections:
            await stream.write(connection.error(msg="Too many connections", code=ErrorCode.CON_COUNT_ERROR))
            return
        try:
            await connection.start()
        finally:
            writer.close()
            await self.control.remove(connection.connection_id)


async def serve(frontend: Frontend, host: str, port: int, password: str, query_log: QueryLog,
                on_ready, ssl_context=None) -> None:
    """`ssl_context` (tls.py) makes the handshake offer TLS."""
    frontend.cluster.faults.log = query_log.fault
    server = EmulatorMysqlServer(frontend, query_log,
                                 session_factory=lambda: EmulatorSession(frontend, query_log),
                                 identity_provider=RootIdentity(password, frontend.privileges), ssl=ssl_context)
    await server.start_server(host=host, port=port)
    on_ready()
    await server.serve_forever()
