"""Item 6: hostile values through every user-facing parameter of the backup and restore operators, executed
against the emulator over the MySQL protocol. Each value is either refused before anything names it (an error
that names the parameter) or every statement the frontend receives is exactly one statement, of an allowed kind,
whose quoted tokens carry the value unchanged. The frontend's own tokenizer decides what it received."""

from __future__ import annotations

import re

import pymysql
import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.jobwatch import generation_labels
from sr_airflow.engine.quoting import quote_identifier
from sr_airflow.engine.scope_args import scope_from_arguments
from sr_airflow.engine.statements import (
    BackupRequest,
    RestoreRequest,
    Syntax,
    render_backup,
    render_restore,
    render_show_backup,
    render_show_restore,
    render_show_snapshot,
)
from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.restore import StarRocksRestoreOperator
from tests.support.emulators import new_queries
from tests.support.figures import count
from tests.support.hostile import HOSTILE
from tests.support.hostile import REFUSED_ALWAYS as _REFUSED_ALWAYS
from tests.support.hostile import decoded as _decoded
from tests.support.hostile import one_statement as _one_statement
from tests.support.task_context import task_context

ALLOWED = re.compile(r"^(SELECT current_version\(\)|ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'|SHOW (BACKUP|RESTORE|"
                     r"SNAPSHOT|REPOSITORIES)\b|BACKUP |RESTORE SNAPSHOT |SELECT .* FROM information_schema\.)",
                     re.DOTALL)

# Which words an error must contain to name each parameter (the engine says "table name", "label", ...).
NAMES = {"repository": ("repository",), "database": ("database",), "tables": ("table",),
         "partitions": ("partition",), "materialized_views": ("materialized view",), "views": ("view",),
         "functions": ("function",), "snapshot_label": ("label",), "backup_timestamp": ("timestamp",),
         "target_database": ("target_database", "database"), "alias": ("alias",)}


def _check(emu, before: int, value: str, param: str, error: BaseException | None) -> str:
    """'refused' or 'quoted' (asserting the rules of item 6)."""
    sent = new_queries(emu, before)
    # set-up chatter of the client library is not ours; everything else must be an allowed statement
    ours = [q for q in sent if not q.upper().startswith(("SET ", "SELECT @@"))]
    carriers = []
    for sql in ours:
        assert ALLOWED.match(sql), f"{param}={value!r} sent an unexpected statement {sql!r}"
        _one_statement(sql)
        if value in _decoded(sql):
            carriers.append(sql)
    if carriers:
        return "quoted"
    assert error is not None, f"{param}={value!r} was neither sent nor refused"
    text = str(error)
    assert any(word in text for word in NAMES[param]), f"{param}={value!r}: error does not name it: {text!r}"
    for sql in ours:  # nothing that names an object was sent with a value that was refused
        assert not sql.startswith(("BACKUP ", "RESTORE ")), f"{param}={value!r} refused only after {sql!r}"
    return "refused"


BACKUP_PARAMS = ["repository", "database", "tables", "partitions", "materialized_views", "views", "functions",
                 "snapshot_label", "external_catalogs"]
RESTORE_PARAMS = ["repository", "snapshot_label", "backup_timestamp", "database", "target_database", "tables",
                  "alias", "views", "external_catalogs"]
NAMES["external_catalogs"] = ("catalog",)


def _backup_kwargs(param: str, value: str) -> dict:
    kwargs = {"repository": "rel_repo", "database": "rel_src", "snapshot_label": "bad_input_label"}
    if param in ("tables", "materialized_views", "views", "functions"):
        kwargs[param] = [value]
    elif param == "partitions":
        kwargs["tables"] = [{"name": "t1", "partitions": [value]}]
    elif param == "external_catalogs":
        kwargs.update(database=None, external_catalogs=[value])
    else:
        kwargs[param] = value
    return kwargs


def _restore_kwargs(param: str, value: str, label: str = "good_snap") -> dict:
    kwargs = {"repository": "rel_repo", "snapshot_label": label, "database": "rel_src",
              "target_database": "rel_copy", "tables": ["t1"]}
    if param == "tables":
        kwargs[param] = [value]
    elif param == "views":
        kwargs.update(tables=None, views=[{"name": value, "alias": "v_copy"}])
    elif param == "alias":
        kwargs["tables"] = [{"name": "t1", "alias": value}]
    elif param == "external_catalogs":
        kwargs.update(database=None, target_database=None, tables=None, external_catalogs=[{"name": "hive_c",
                                                                                           "alias": value}])
    else:
        kwargs[param] = value
    return kwargs


def _backup_statements(param: str, value: str, good_ts: str) -> list[str]:
    """What StarRocksBackupOperator renders for these arguments, through the same engine functions, in order."""
    kw = _backup_kwargs(param, value)
    if param != "snapshot_label":  # a repository the frontend does not know: it parses, then refuses at once
        kw["repository"] = kw["repository"] if param == "repository" else "no_such_repo"
    scope = scope_from_arguments(database=kw["database"], tables=kw.get("tables"),
                                 materialized_views=kw.get("materialized_views"), views=kw.get("views"),
                                 functions=kw.get("functions"), external_catalogs=kw.get("external_catalogs"))
    request = BackupRequest(label=kw["snapshot_label"], repository=kw["repository"], scope=scope)
    request.validate()
    return [render_show_backup(scope.database),
            render_show_snapshot(kw["repository"], labels=generation_labels(kw["snapshot_label"])),
            render_backup(request, Syntax.MODERN)]


def _restore_statements(param: str, value: str, good_ts: str) -> list[str]:
    # a label the repository does not hold: the frontend parses and refuses each RESTORE without starting a job
    kw = _restore_kwargs(param, value, label="no_such_snapshot")
    if param != "repository":
        kw["repository"] = "no_such_repo"
    timestamp = kw.get("backup_timestamp") or good_ts
    scope = scope_from_arguments(database=kw["database"], tables=kw.get("tables"), views=kw.get("views"),
                                 external_catalogs=kw.get("external_catalogs"),
                                 target_database=kw["target_database"])
    request = RestoreRequest(label=kw["snapshot_label"], repository=kw["repository"], scope=scope,
                             backup_timestamp=timestamp)
    request.validate()
    return [render_show_snapshot(kw["repository"], kw["snapshot_label"], timestamp),
            render_show_restore(scope.target_database or scope.database),
            render_restore(request, Syntax.MODERN)]


@pytest.fixture(scope="module")
def src(emu, s3_server):
    emu.sql("CREATE DATABASE rel_src",
            "CREATE TABLE rel_src.t1 (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
            "INSERT INTO rel_src.t1 VALUES (1), (2)")
    emu.create_repository("rel_repo", s3_server, "bad-input")
    emu.sql("BACKUP DATABASE rel_src SNAPSHOT good_snap TO rel_repo")
    emu.wait_state("BACKUP", "rel_src", ("FINISHED",))
    emu.good_ts = emu.sql("SHOW SNAPSHOT ON rel_repo WHERE SNAPSHOT = 'good_snap'")[0][1]
    return emu


# An empty optional argument means "not given": the newest timestamp, no rename, the snapshot's database.
UNSET_WHEN_EMPTY = {("restore", "backup_timestamp"), ("restore", "target_database"), ("restore", "database"),
                    ("restore", "alias"), ("restore", "external_catalogs"), ("backup", "snapshot_label")}


def _engine_sweep(emu, params, render, kind: str) -> dict[str, int]:
    """Every statement the operator would send is checked with the frontend's tokenizer; the BACKUP / RESTORE
    itself is sent to the frontend, which must receive exactly that text."""
    outcomes = {"quoted": 0, "refused": 0}
    conn = emu.server.connect()
    try:
        with conn.cursor() as cur:
            for param in params:
                for value in HOSTILE:
                    before = len(emu.queries())
                    try:
                        statements = render(param, value, emu.good_ts)
                    except (InvalidArgumentError, ValueError) as exc:
                        assert _check(emu, before, value, param, exc) == "refused"
                        outcomes["refused"] += 1
                        continue
                    if value == "" and (kind, param) in UNSET_WHEN_EMPTY:
                        count("item6 empty values read as 'not given' (default used)")
                        outcomes["refused"] += 1
                        continue
                    assert value not in _REFUSED_ALWAYS, f"{kind} {param}={value!r} was rendered"
                    for sql in statements:
                        assert ALLOWED.match(sql)
                        _one_statement(sql)
                    assert any(value in _decoded(sql) for sql in statements), (param, value, statements)
                    main = statements[-1]
                    try:
                        cur.execute(main)
                        accepted = True
                    except pymysql.MySQLError:
                        accepted = False
                    assert new_queries(emu, before) == [main], "the frontend received other text than was sent"
                    assert _check(emu, before, value, param, None) == "quoted"
                    outcomes["quoted"] += 1
                    if accepted:  # a job started: it names exactly the value, then it is cancelled
                        target = _restore_kwargs(param, value)["target_database"] if kind == "restore" else None
                        database = target or ("rel_src" if kind == "backup" else None)
                        if kind == "backup" and param == "snapshot_label":
                            cur.execute("SHOW BACKUP FROM rel_src")
                            assert cur.fetchall()[-1][1] == value
                        if database:
                            cur.execute(f"CANCEL {kind.upper()} FROM {quote_identifier(database)}")
                        count(f"item6 {kind} jobs accepted with a hostile value, then cancelled")
    finally:
        conn.close()
    count(f"item6 {kind} (parameter, value) pairs sent quoted", outcomes["quoted"])
    count(f"item6 {kind} (parameter, value) pairs refused before sending", outcomes["refused"])
    return outcomes


@pytest.mark.slow
def test_hostile_values_through_every_backup_parameter_reach_the_frontend_quoted_or_are_refused(src):
    outcomes = _engine_sweep(src, BACKUP_PARAMS, _backup_statements, "backup")
    assert sum(outcomes.values()) == len(BACKUP_PARAMS) * len(HOSTILE)
    assert src.sql("SELECT count(*) FROM rel_src.t1") == ((2,),)


@pytest.mark.slow
def test_hostile_values_through_every_restore_parameter_reach_the_frontend_quoted_or_are_refused(src):
    outcomes = _engine_sweep(src, RESTORE_PARAMS, _restore_statements, "restore")
    assert sum(outcomes.values()) == len(RESTORE_PARAMS) * len(HOSTILE)
    assert src.sql("SELECT count(*) FROM rel_src.t1") == ((2,),)


# ---------------------------------------------------------------- the same through the operators themselves
SAMPLE = ["x` ; DROP DATABASE rel_src; --", "a --c\nDROP DATABASE rel_src'", "表名🎉", "t" * 1000, ""]


def _cancel_started_jobs(conn, kind: str, database: str | None) -> None:
    with conn.cursor() as cur:
        for db in {database, "rel_src"} - {None}:
            try:
                cur.execute(f"CANCEL {kind} FROM {quote_identifier(db)}")
            except pymysql.MySQLError:
                pass


def _run(op) -> BaseException | None:
    try:
        op.execute(task_context())
    except Exception as exc:  # noqa: BLE001 - every outcome is checked by _check
        return exc
    return None


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["backup", "restore"])
def test_the_operators_send_what_the_engine_renders(src, kind):
    params = BACKUP_PARAMS if kind == "backup" else RESTORE_PARAMS
    outcomes = {"quoted": 0, "refused": 0}
    for param in params:
        for value in SAMPLE:
            before = len(src.queries())
            kwargs = _backup_kwargs(param, value) if kind == "backup" else _restore_kwargs(param, value)
            if value == "" and (kind, param) in UNSET_WHEN_EMPTY:
                continue  # an empty optional argument means "not given"
            factory = StarRocksBackupOperator if kind == "backup" else StarRocksRestoreOperator
            try:
                op = factory(task_id="op", starrocks_conn_id="sr_rel", deferrable=False, on_busy="fail",
                             cancel_on_kill=False, wait_timeout=0.5, **kwargs)
            except (InvalidArgumentError, ValueError) as exc:
                error = exc
            else:
                error = _run(op)
            outcome = _check(src, before, value, param, error)
            outcomes[outcome] += 1
            sent = new_queries(src, before)
            if any(q.startswith(("BACKUP ", "RESTORE ")) for q in sent):
                with src.server.connect() as conn:
                    _cancel_started_jobs(conn, kind.upper(), kwargs.get("target_database"))
    count(f"item6 {kind} operator executions with hostile values", sum(outcomes.values()))
    assert src.sql("SELECT count(*) FROM rel_src.t1") == ((2,),)
