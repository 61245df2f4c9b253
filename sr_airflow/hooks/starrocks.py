"""StarRocksHook: a common.sql DbApiHook over PyMySQL (no mysqlclient build), connection type ``starrocks``."""

from __future__ import annotations

from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any

from airflow.providers.common.sql.hooks.sql import DbApiHook

from sr_airflow.hooks.frontends import (
    FrontendAddress,
    connect_first,
    connection_frontends,
    failover_connect_timeout,
    try_order,
)
from sr_airflow.hooks.tls import explain_failure, require_tls, tls_connect_kwargs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from sr_airflow.engine.access import AccessExport, Grantee
    from sr_airflow.engine.access_plan import TargetAccess
    from sr_airflow.engine.database_metadata import DatabaseMetadata
    from sr_airflow.engine.grants import HeldGrants
    from sr_airflow.engine.job_states import BackupJob, RestoreJob
    from sr_airflow.engine.mv import MaterializedViewState
    from sr_airflow.engine.planner import PartitionState
    from sr_airflow.engine.snapshots import RepositoryInfo, SnapshotDetail, SnapshotListing
    from sr_airflow.engine.target_checks import ColumnDef
    from sr_airflow.engine.version import ServerVersion

DEFAULT_PORT = 9030
#: PyMySQL errors of a frontend that could not be reached (CR_CONN_HOST_ERROR; CR_SERVER_LOST when it went away in
#: the handshake): the next frontend of the list is tried. Anything else (a refused password, TLS) is raised.
UNREACHABLE_ERRNOS = frozenset({2003, 2013})


class StarRocksHook(DbApiHook):
    """Talks to a StarRocks frontend over the MySQL protocol.

    The connection's schema is the default database; extras ``connect_timeout``, ``read_timeout`` (seconds) and
    ``charset`` are passed to PyMySQL; ``hosts`` lists more frontends, tried after the connection's host with
    ``failover_connect_timeout`` each (``sr_airflow.hooks.frontends``); ``ssl_mode``, ``ssl_ca``, ``ssl_cert``
    and ``ssl_key`` set up TLS (``sr_airflow.hooks.tls``); the connection form is declared in
    ``sr_airflow.provider_info``.
    ``SELECT current_version()`` gives the StarRocks version; ``version()`` answers a MySQL compatibility string
    and is never used.

    Beside ``fetch`` and ``execute`` the hook speaks StarRocks: each typed method sends one statement the engine
    renders (``engine/statements.py`` and the query builders beside the parsers) and returns the engine's types,
    so operators never build or parse a SHOW themselves.
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
        self._last_answered: FrontendAddress | None = None  # tried first by the next get_conn

    def _extras(self) -> dict[str, Any]:
        return {key.removeprefix("extra__starrocks__"): value
                for key, value in (self.connection.extra_dejson or {}).items()}

    def frontends(self) -> list[FrontendAddress]:
        """The frontends this connection may reach, in order: its host:port, then the ``hosts`` extra."""
        conn = self.connection
        return connection_frontends(conn.host, conn.port, self._extras().get("hosts"), DEFAULT_PORT)

    def _connect_kwargs(self) -> dict[str, Any]:
        """PyMySQL's arguments for the connection's first frontend (``get_conn`` sets host and port per try)."""
        conn = self.connection
        extra = self._extras()
        first = self.frontends()[0]
        kwargs: dict[str, Any] = {
            "host": first.host,
            "port": first.port,
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
        """A PyMySQL connection to the first frontend that answers (``sr_airflow.hooks.frontends``);
        ``default_read_timeout`` applies when the connection's extras set none."""
        import pymysql

        kwargs = self._connect_kwargs()
        if default_read_timeout is not None:
            kwargs.setdefault("read_timeout", default_read_timeout)
        extra = self._extras()
        frontends = self.frontends()
        kwargs["connect_timeout"] = failover_connect_timeout(extra, frontends, kwargs["connect_timeout"])

        def connect(address: FrontendAddress):
            try:
                return pymysql.connect(**{**kwargs, "host": address.host, "port": address.port})
            except pymysql.err.OperationalError as exc:
                clearer = explain_failure(exc, address.host, address.port, extra)
                if clearer is None:
                    raise
                raise clearer from exc

        def unreachable(exc: BaseException) -> bool:
            return (isinstance(exc, pymysql.err.OperationalError) and bool(exc.args)
                    and exc.args[0] in UNREACHABLE_ERRNOS)

        address, connection = connect_first(try_order(frontends, self._last_answered), connect, unreachable)
        self._last_answered = address
        require_tls(connection, extra)
        return connection

    def get_uri(self) -> str:
        conn = self.connection
        user = conn.login or "root"
        database = self.database or conn.schema or ""
        first = self.frontends()[0]
        return f"mysql+pymysql://{user}@{first}/{database}"

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

    # ---- the server
    def server_version(self) -> ServerVersion:
        """The frontend's version, asked once per hook (an operator's task keeps one hook)."""
        if self._server_version is None:
            from sr_airflow.engine.statements import SELECT_CURRENT_VERSION
            from sr_airflow.engine.version import ServerVersion

            _, rows = self.fetch(SELECT_CURRENT_VERSION)
            self._server_version = ServerVersion.parse(str(rows[0][0]))
        return self._server_version

    def run_mode(self) -> str:
        """``shared_nothing`` or ``shared_data`` (``ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'``; it needs OPERATE
        on SYSTEM, and a refusal is raised). ``UnsupportedByServerError`` for a shared-data cluster."""
        from sr_airflow.engine.target_checks import SHOW_RUN_MODE, check_run_mode, run_mode

        columns, rows = self.fetch(SHOW_RUN_MODE)
        conn = self.connection
        check_run_mode(columns, rows, server=f"{conn.host}:{conn.port}")
        return run_mode(columns, rows)

    def readable_run_mode(self, log: Any = None) -> str:
        """``run_mode()``, or ``unknown`` with a warning (to ``log``, default the hook's) when the user may not
        read it (BACKUP itself refuses a shared-data cluster, later); a shared-data cluster is still refused."""
        from sr_airflow.engine.errors import UnsupportedByServerError
        from sr_airflow.engine.target_checks import RUN_MODE_UNKNOWN

        try:
            return self.run_mode()
        except UnsupportedByServerError:
            raise
        except Exception as exc:  # noqa: BLE001 - not knowing is reported, not fatal
            conn = self.connection
            (log or self.log).warning("Could not tell whether StarRocks at %s:%s runs in shared-data mode (which "
                                      "has no BACKUP or RESTORE): %s. GRANT OPERATE ON SYSTEM lets pre-flight "
                                      "read run_mode.", conn.host, conn.port, exc)
            return RUN_MODE_UNKNOWN

    def check_server(self, log: Any = None) -> ServerVersion:
        """The server version, after refusing a shared-data cluster when the server says it runs in that mode:
        what every backup and restore asks before it renders a statement (warnings go to ``log``)."""
        version = self.server_version()
        self.readable_run_mode(log)
        return version

    # ---- jobs
    def backup_jobs(self, database: str | None = None) -> list[BackupJob]:
        """``SHOW BACKUP [FROM db]``: the database's latest BACKUP job (StarRocks shows one a database)."""
        from sr_airflow.engine.job_states import parse_show_backup
        from sr_airflow.engine.statements import render_show_backup

        return parse_show_backup(*self.fetch(render_show_backup(database)))

    def restore_jobs(self, database: str | None = None) -> list[RestoreJob]:
        """``SHOW RESTORE [FROM db]``: the database's latest RESTORE job; none for a database that does not exist
        (yet: RESTORE creates it)."""
        from sr_airflow.engine.job_states import parse_show_restore
        from sr_airflow.engine.statements import render_show_restore

        try:
            columns, rows = self.fetch(render_show_restore(database))
        except Exception as exc:
            if database and "Unknown database" in str(exc):
                return []
            raise
        return parse_show_restore(columns, rows)

    # ---- repositories and snapshots
    def repositories(self) -> list[RepositoryInfo]:
        """``SHOW REPOSITORIES``."""
        from sr_airflow.engine.snapshots import parse_show_repositories
        from sr_airflow.engine.statements import render_show_repositories

        return parse_show_repositories(*self.fetch(render_show_repositories()))

    def repository(self, name: str) -> RepositoryInfo | None:
        """The repository ``name`` as the cluster shows it, or None when it does not show it."""
        return next((r for r in self.repositories() if r.name == name), None)

    def snapshots(self, repository: str, label: str | None = None, *,
                  labels: Sequence[str] | None = None) -> list[SnapshotListing]:
        """``SHOW SNAPSHOT ON repo``: every snapshot, the one ``label``, or those of ``labels``."""
        from sr_airflow.engine.snapshots import parse_snapshot_listing
        from sr_airflow.engine.statements import render_show_snapshot

        return parse_snapshot_listing(*self.fetch(render_show_snapshot(repository, label,
                                                                       labels=list(labels) if labels else None)))

    def usable_snapshot(self, repository: str, label: str) -> SnapshotListing:
        """Snapshot ``label`` listed OK in ``repository``, or ``SnapshotNotFoundError`` saying what is shown."""
        from sr_airflow.engine.snapshots import usable_listing

        return usable_listing(self.snapshots(repository, label), label, repository)

    def snapshot_detail(self, repository: str, label: str, timestamp: str) -> SnapshotDetail:
        """The detailed form (database and the JSON brief of what the snapshot holds) of ``label`` at
        ``timestamp``, when it is readable; otherwise ``SnapshotNotFoundError``."""
        from sr_airflow.engine.snapshots import parse_snapshot_detail, usable_detail
        from sr_airflow.engine.statements import render_show_snapshot

        details = parse_snapshot_detail(*self.fetch(render_show_snapshot(repository, label, timestamp)))
        return usable_detail(details, label, timestamp, repository)

    # ---- what a database holds
    def partitions_meta(self, database: str, tables: Sequence[str] | None = None) -> list[PartitionState]:
        """``information_schema.partitions_meta`` of ``database`` (or of ``tables`` in it), one state a
        partition."""
        from sr_airflow.engine.planner import parse_partitions_meta, partitions_meta_query

        return parse_partitions_meta(self.fetch(partitions_meta_query(database, tables))[1])

    def table_columns(self, database: str, tables: Sequence[str]) -> dict[str, list[ColumnDef]]:
        """Table -> its columns in order, for those of ``tables`` that exist in ``database``."""
        from sr_airflow.engine.target_checks import columns_query, parse_columns

        if not tables:
            return {}
        return parse_columns(self.fetch(columns_query(database, list(tables)))[1])

    def database_exists(self, name: str) -> bool:
        from sr_airflow.engine.statements import database_exists_query

        return bool(self.fetch(database_exists_query(name))[1])

    def database_metadata(self, database: str) -> DatabaseMetadata:
        """Partitions, materialized views, columns, tables_config and views of ``database`` in one statement
        (``engine/database_metadata.py``); the partition rows stay in ``PARTITIONS_META_COLUMNS`` order, unparsed
        (a plan compares a million of them as they are)."""
        from sr_airflow.engine.database_metadata import metadata_query, split_metadata_rows

        return split_metadata_rows(self.fetch(metadata_query(database))[1], database)

    def function_rows(self, database: str) -> list[tuple]:
        """``SHOW FULL FUNCTIONS FROM db`` rows, as ``engine/schema.database_objects`` reads them."""
        from sr_airflow.engine.schema import functions_query

        return self.fetch(functions_query(database))[1]

    def table_checksum(self, database: str, table: str, columns: Sequence[str]) -> tuple[int, int]:
        """(row count, order-independent hash of every row) of ``database.table`` over ``columns``."""
        from sr_airflow.engine.verify import checksum_query

        _, rows = self.fetch(checksum_query(database, table, list(columns)))
        return int(rows[0][0]), int(rows[0][1])

    def be_configs(self) -> dict[str, dict[int, int]]:
        """``{item: {be_id: value}}`` of the BE items that pace BACKUP and RESTORE (``engine/be_tuning.py``);
        reading information_schema.be_configs needs OPERATE on SYSTEM, and a refusal is raised."""
        from sr_airflow.engine.be_tuning import be_configs_query, parse_be_configs

        return parse_be_configs(self.fetch(be_configs_query())[1])

    def materialized_views(self, database: str) -> list[MaterializedViewState]:
        """The materialized views of ``database``, active or not, with their definitions."""
        from sr_airflow.engine.mv import materialized_views_query, parse_materialized_views

        return parse_materialized_views(self.fetch(materialized_views_query(database))[1])

    # ---- users, roles, grants and resource groups
    @contextmanager
    def _one_connection(self) -> Iterator[Callable[[str], tuple[list[str], list[tuple]]]]:
        """``rows(sql)`` over one connection: the access reads send one SHOW GRANTS per user and role."""
        with closing(self.get_conn()) as conn, closing(conn.cursor()) as cursor:
            def rows(sql: str) -> tuple[list[str], list[tuple]]:
                cursor.execute(sql)
                return [c[0] for c in cursor.description or ()], list(cursor.fetchall())

            yield rows

    def own_grants(self) -> HeldGrants:
        """The connection user's own ``SHOW GRANTS`` (no privilege needed), as pre-flight judges it."""
        from sr_airflow.engine.grants import parse_show_grants

        return parse_show_grants(self.fetch("SHOW GRANTS")[1])

    def role_grants(self, role: str) -> HeldGrants:
        """``SHOW GRANTS FOR ROLE role``, as pre-flight judges it."""
        from sr_airflow.engine.grants import parse_show_grants
        from sr_airflow.engine.quoting import quote_identifier

        return parse_show_grants(self.fetch("SHOW GRANTS FOR ROLE " + quote_identifier(role, argument="role"))[1])

    def cluster_access(self) -> AccessExport:
        """Every user, role, grant and resource group of the cluster (``SHOW USERS``, ``SHOW ROLES``, ``SHOW GRANTS
        FOR`` each, ``SHOW RESOURCE GROUPS ALL``); needs GRANT on SYSTEM, and a refusal is raised."""
        from sr_airflow.engine.access import (
            AccessExport,
            Grantee,
            PrivilegeGrant,
            RoleGrant,
            parse_show_grants,
            parse_show_resource_groups,
            parse_show_roles,
            parse_show_users,
        )
        from sr_airflow.engine.access_sql import render_grantee

        with self._one_connection() as rows:
            users = parse_show_users(rows("SHOW USERS")[1])
            roles = parse_show_roles(rows("SHOW ROLES")[1])
            known = [r.name for r in roles]
            records: list[Any] = []
            for grantee in [*(Grantee(r.name) for r in roles), *users]:
                records += parse_show_grants(grantee, rows(f"SHOW GRANTS FOR {render_grantee(grantee)}")[1], known)
            groups = parse_show_resource_groups(*rows("SHOW RESOURCE GROUPS ALL"))
        return AccessExport(
            users=tuple(users), roles=tuple(roles),
            role_grants=tuple(r for r in records if isinstance(r, RoleGrant)),
            privilege_grants=tuple(r for r in records if isinstance(r, PrivilegeGrant)),
            resource_groups=tuple(groups),
            unreplayable=tuple(r for r in records if not isinstance(r, (RoleGrant, PrivilegeGrant))))

    def access_held(self, grantees: Sequence[Grantee]) -> TargetAccess:
        """What this cluster already holds of an access export: its users, roles, resource groups and the grants
        of those of ``grantees`` that exist here."""
        from sr_airflow.engine.access import parse_show_resource_groups, parse_show_roles, parse_show_users
        from sr_airflow.engine.access_plan import TargetAccess
        from sr_airflow.engine.access_sql import render_grantee

        with self._one_connection() as rows:
            users = {(u.name, u.host) for u in parse_show_users(rows("SHOW USERS")[1])}
            roles = {r.name for r in parse_show_roles(rows("SHOW ROLES")[1])}
            groups = {g.name for g in parse_show_resource_groups(*rows("SHOW RESOURCE GROUPS ALL"))}
            state = TargetAccess(users, roles, groups, {}, {})
            for grantee in grantees:
                present = grantee.name in roles if grantee.is_role else (grantee.name, grantee.host) in users
                if present:
                    state.add_grants(grantee, rows(f"SHOW GRANTS FOR {render_grantee(grantee)}")[1])
        return state
