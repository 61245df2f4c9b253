"""StarRocksHook: a common.sql DbApiHook over PyMySQL (no mysqlclient build), connection type ``starrocks``."""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING, Any

from airflow.providers.common.sql.hooks.sql import DbApiHook

from sr_airflow.hooks.tls import explain_failure, require_tls, tls_connect_kwargs

if TYPE_CHECKING:
    from sr_airflow.engine.version import ServerVersion

DEFAULT_PORT = 9030


class StarRocksHook(DbApiHook):
    """Talks to a StarRocks frontend over the MySQL protocol.

    The connection's schema is the default database; extras ``connect_timeout``, ``read_timeout`` (seconds) and
    ``charset`` are passed to PyMySQL; ``ssl_mode``, ``ssl_ca``, ``ssl_cert`` and ``ssl_key`` set up TLS
    (``sr_airflow.hooks.tls``); the connection form is declared in ``sr_airflow.provider_info``.
    ``SELECT current_version()`` gives the StarRocks version; ``version()`` answers a MySQL compatibility string
    and is never used.
    """

    conn_name_attr = "starrocks_conn_id"
    default_conn_name = "starrocks_default"
    conn_type = "starrocks"
    hook_name = "StarRocks"
    supports_autocommit = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # DbApiHook keeps ``schema`` private on purpose; a StarRocks hook uses it as the default database.
        self.database: str | None = kwargs.get("schema")
        self._server_version: ServerVersion | None = None

    def _extras(self) -> dict[str, Any]:
        return {key.removeprefix("extra__starrocks__"): value
                for key, value in (self.connection.extra_dejson or {}).items()}

    def _connect_kwargs(self) -> dict[str, Any]:
        conn = self.connection
        extra = self._extras()
        kwargs: dict[str, Any] = {
            "host": conn.host or "127.0.0.1",
            "port": int(conn.port or DEFAULT_PORT),
            "user": conn.login or "root",
            "password": conn.password or "",
            "charset": extra.get("charset", "utf8mb4"),
            "autocommit": True,
            "connect_timeout": float(extra.get("connect_timeout") or 10),
        }
        database = self.database or conn.schema
        if database:
            kwargs["database"] = database
        if extra.get("read_timeout") is not None:
            kwargs["read_timeout"] = float(extra["read_timeout"])
        kwargs.update(tls_connect_kwargs(extra))
        return kwargs

    def get_conn(self, *, default_read_timeout: float | None = None):
        """A PyMySQL connection; ``default_read_timeout`` applies when the connection's extras set none."""
        import pymysql

        kwargs = self._connect_kwargs()
        if default_read_timeout is not None:
            kwargs.setdefault("read_timeout", default_read_timeout)
        extra = self._extras()
        try:
            connection = pymysql.connect(**kwargs)
        except pymysql.err.OperationalError as exc:
            clearer = explain_failure(exc, kwargs["host"], kwargs["port"], extra)
            if clearer is None:
                raise
            raise clearer from exc
        require_tls(connection, extra)
        return connection

    def get_uri(self) -> str:
        conn = self.connection
        user = conn.login or "root"
        database = self.database or conn.schema or ""
        return f"mysql+pymysql://{user}@{conn.host or '127.0.0.1'}:{int(conn.port or DEFAULT_PORT)}/{database}"

    def fetch(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run one statement and return its column names and rows (SHOW output is parsed by name)."""
        with closing(self.get_conn()) as conn, closing(conn.cursor()) as cursor:
            cursor.execute(sql)
            columns = [col[0] for col in cursor.description or ()]
            return columns, list(cursor.fetchall())

    def execute(self, sql: str) -> None:
        """Run one statement that returns nothing useful (BACKUP, RESTORE, CANCEL, DDL)."""
        with closing(self.get_conn()) as conn, closing(conn.cursor()) as cursor:
            cursor.execute(sql)

    def server_version(self) -> ServerVersion:
        """The frontend's version, asked once per hook (an operator's task keeps one hook)."""
        if self._server_version is None:
            from sr_airflow.engine.statements import SELECT_CURRENT_VERSION
            from sr_airflow.engine.version import ServerVersion

            _, rows = self.fetch(SELECT_CURRENT_VERSION)
            self._server_version = ServerVersion.parse(str(rows[0][0]))
        return self._server_version
