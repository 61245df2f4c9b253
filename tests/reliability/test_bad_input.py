"""Item 6: hostile values through every user-facing parameter of the backup and restore operators, executed
against the emulator over the MySQL protocol. Each value is either refused before anything names it (an error
that names the parameter) or every statement the frontend receives is exactly one statement, of an allowed kind,
whose quoted tokens carry the value unchanged. The frontend's own tokenizer decides what it received."""

from __future__ import annotations

import json
import re
import time

import pymysql
import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.jobwatch import generation_labels
from sr_airflow.engine.quoting import quote_identifier
from sr_airflow.engine.statements import (
    RestoreRequest,
    Syntax,
    render_backup,
    render_restore,
    render_show_backup,
    render_show_restore,
    render_show_snapshot,
)
from sr_airflow.hooks.starrocks import StarRocksHook
from sr_airflow.operators.backup import StarRocksBackupOperator
from sr_airflow.operators.restore import StarRocksRestoreOperator
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


def _check(sent: list[str], value: str, param: str, error: BaseException | None) -> str:
    """'refused' or 'quoted' (asserting the rules of item 6) for the statements ``sent`` to the frontend."""
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


def _omitted_kwargs(kind: str, param: str) -> dict:
    """The arguments with ``param`` left out (what an empty optional value must mean)."""
    kwargs = _backup_kwargs(param, "x") if kind == "backup" else _restore_kwargs(param, "x")
    if param == "alias":
        kwargs["tables"] = [{"name": "t1"}]
    elif param == "external_catalogs":
        kwargs["external_catalogs"] = [{"name": "hive_c"}]
    else:
        kwargs[param] = None
    return kwargs


_OPERATOR_ARGS = {"task_id": "op", "starrocks_conn_id": "sr_rel", "deferrable": False, "on_busy": "fail",
                  "cancel_on_kill": False, "wait_timeout": 0.5}


def _backup_operator(kwargs: dict) -> StarRocksBackupOperator:
    return StarRocksBackupOperator(**_OPERATOR_ARGS, **kwargs)


def _restore_operator(kwargs: dict) -> StarRocksRestoreOperator:
    return StarRocksRestoreOperator(**_OPERATOR_ARGS, **kwargs)


def _backup_statements(op: StarRocksBackupOperator, syntax: Syntax, newest=None) -> list[str]:
    """What ``op.execute()`` sends on a free database, built by the operator's own methods in the order
    ``execute`` / ``_advance`` call them (``scope``, ``base_label``, ``request`` + ``validate``) and the engine
    functions they render with (``render_show_backup``, ``render_show_snapshot``, ``render_backup``)."""
    scope = op.scope()
    label = op.base_label(task_context(), scope)
    request = op.request(label, scope)
    request.validate()
    return [render_show_backup(scope.database), render_show_snapshot(op.repository, labels=generation_labels(label)),
            render_backup(op.request(label, scope), syntax)]


def _restore_statements(op: StarRocksRestoreOperator, syntax: Syntax, newest) -> list[str]:
    """What ``op.execute()`` sends for a snapshot of ``rel_src``, in its order: the timestamp given or the newest
    OK one (``_timestamp``; ``newest(op)`` here), ``_detail``'s SHOW SNAPSHOT, ``_scope(detail.database)``, the
    RestoreRequest ``execute`` builds, the target's SHOW RESTORE (``_latest_job``), then ``render_restore``."""
    if not op.snapshot_label:
        raise ValueError("snapshot_label is required (a point in time from the catalog is "
                         "StarRocksRestoreChainOperator's).")
    timestamp = op.backup_timestamp or newest(op)
    detail = render_show_snapshot(op.repository, op.snapshot_label, timestamp)
    scope = op._scope("rel_src")
    request = RestoreRequest(label=op.snapshot_label, repository=op.repository, scope=scope,
                             backup_timestamp=timestamp, timeout_s=op.timeout, allow_load=op.allow_load,
                             replication_num=op.replication_num)
    statement = render_restore(request, syntax)
    return [detail, render_show_restore(op._target(scope)), statement]


def _sweep_operator(kind: str, param: str, kwargs: dict):
    """The operator for one (param, value) of the sweep: a repository the frontend does not know (it parses the
    statement, then refuses it at once), except for hostile backup labels, sent to the real repository."""
    kwargs = dict(kwargs)
    if kind == "backup":
        if param not in ("repository", "snapshot_label"):
            kwargs["repository"] = "no_such_repo"
        return _backup_operator(kwargs)
    kwargs["snapshot_label"] = kwargs["snapshot_label"] if param == "snapshot_label" else "no_such_snapshot"
    if param != "repository":
        kwargs["repository"] = "no_such_repo"
    return _restore_operator(kwargs)


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


class _QueryTail:
    """The statements the frontend logged since the last call (reads the query log from where it stopped)."""

    def __init__(self, emu):
        self.path = emu.server.query_log
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def new(self) -> list[str]:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return [e["statement"] for e in map(json.loads, complete.splitlines()) if "statement" in e]


def _refusal(kind: str, param: str, value: str, op) -> str:
    """The frontend's answer to a BACKUP / RESTORE naming an unknown object, in the order StarRocks checks them
    (the emulator follows ``BackupRestoreAnalyzer`` and ``BackupHandler.process``): a backup's external catalogs,
    else its database, then its repository; a restore's repository. It parsed the whole statement (a syntax error
    would say so), and the name it quotes back is the one decoded from the statement."""
    analyzing = "Getting analyzing error. Detail message: "
    if kind == "restore":
        return f"Repository {op.repository} does not exist"
    if param == "external_catalogs":
        # CatalogRef.analyzeForBackup's own text ends in a period, then the analyzer's reply adds one
        return f"{analyzing}external catalog {value} does not existed.."
    if param == "database":
        return f"{analyzing}Unknown database '{value}'."
    return f"{analyzing}Repository [{op.repository}] does not exist."


def _until_cancelled(cur, timeout: float = 30.0) -> None:
    """The cancelled job has ended (the database takes the next job only then)."""
    deadline = time.monotonic() + timeout
    while True:
        cur.execute("SHOW BACKUP FROM rel_src")
        if cur.fetchall()[-1][3] == "CANCELLED":
            return
        assert time.monotonic() < deadline, "the cancelled backup never ended"
        time.sleep(0.01)


# An empty optional argument means "not given": the newest timestamp, no rename, the snapshot's database.
UNSET_WHEN_EMPTY = {("restore", "backup_timestamp"), ("restore", "target_database"), ("restore", "database"),
                    ("restore", "alias"), ("restore", "external_catalogs"), ("backup", "snapshot_label")}


def _engine_sweep(emu, params, kind: str) -> dict[str, int]:
    """Every (param, value): the operator is built with it and its own code renders what ``execute`` sends; each
    statement is checked with the frontend's tokenizer, then the BACKUP / RESTORE is sent to the frontend, whose
    answer must be the expected one (a job that names exactly the value, or the unknown-repository refusal
    naming exactly the repository rendered)."""
    outcomes = {"quoted": 0, "refused": 0, "not given": 0}
    render = _backup_statements if kind == "backup" else _restore_statements
    newest = lambda op: emu.good_ts  # noqa: E731 - the sweep's repositories are unknown: good_snap's timestamp
    syntax = Syntax.for_version(StarRocksHook(starrocks_conn_id="sr_rel").server_version())
    tail = _QueryTail(emu)
    conn = emu.server.connect()
    try:
        with conn.cursor() as cur:
            for param in params:
                kwargs_of = _backup_kwargs if kind == "backup" else _restore_kwargs
                for value in HOSTILE:
                    try:
                        op = _sweep_operator(kind, param, kwargs_of(param, value))
                        statements = render(op, syntax, newest)
                    except (InvalidArgumentError, ValueError) as exc:
                        assert _check(tail.new(), value, param, exc) == "refused"
                        outcomes["refused"] += 1
                        continue
                    if value == "" and (kind, param) in UNSET_WHEN_EMPTY:
                        # "not given": exactly what the operator renders with the parameter left out
                        omitted = render(_sweep_operator(kind, param, _omitted_kwargs(kind, param)), syntax,
                                         newest)
                        assert statements == omitted, (kind, param, statements, omitted)
                        outcomes["not given"] += 1
                        continue
                    assert value not in _REFUSED_ALWAYS, f"{kind} {param}={value!r} was rendered"
                    for sql in statements:
                        assert ALLOWED.match(sql)
                        _one_statement(sql)
                    assert any(value in _decoded(sql) for sql in statements), (param, value, statements)
                    main = statements[-1]
                    try:
                        cur.execute(main)
                        answer = None
                    except pymysql.MySQLError as exc:
                        answer = exc.args[1] if len(exc.args) > 1 else str(exc)
                    assert _check(tail.new(), value, param, None) == "quoted"
                    outcomes["quoted"] += 1
                    if answer is not None:  # refused: by the repository check, after a full parse
                        assert answer == _refusal(kind, param, value, op), (param, value, main, answer)
                        continue
                    assert kind == "backup" and param == "snapshot_label", (param, value, main)
                    cur.execute("SHOW BACKUP FROM rel_src")  # the job names exactly the value
                    assert cur.fetchall()[-1][1] == value
                    cur.execute("CANCEL BACKUP FROM rel_src")
                    _until_cancelled(cur)
                    tail.new()
                    count(f"item6 {kind} jobs accepted with a hostile value, then cancelled")
    finally:
        conn.close()
    count(f"item6 {kind} (parameter, value) pairs sent quoted", outcomes["quoted"])
    count(f"item6 {kind} (parameter, value) pairs refused before sending", outcomes["refused"])
    count(f"item6 {kind} empty optional values read as not given", outcomes["not given"])
    return outcomes


@pytest.mark.slow
def test_hostile_values_through_every_backup_parameter_reach_the_frontend_quoted_or_are_refused(src):
    outcomes = _engine_sweep(src, BACKUP_PARAMS, "backup")
    assert sum(outcomes.values()) == len(BACKUP_PARAMS) * len(HOSTILE)
    assert src.sql("SELECT count(*) FROM rel_src.t1") == ((2,),)


@pytest.mark.slow
def test_hostile_values_through_every_restore_parameter_reach_the_frontend_quoted_or_are_refused(src):
    outcomes = _engine_sweep(src, RESTORE_PARAMS, "restore")
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


def _newest_ok(op: StarRocksRestoreOperator) -> str:
    """The operator's own look-up of the newest OK timestamp (``_timestamp`` calls it when none is given)."""
    return op.hook.usable_snapshot(op.repository, op.snapshot_label).latest_timestamp


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["backup", "restore"])
def test_the_operators_send_what_the_engine_renders(src, kind):
    """``execute()`` of the real operator against the frontend, compared with what the sweep above renders for
    the same arguments: the same BACKUP / RESTORE text, or the same refusal."""
    params = BACKUP_PARAMS if kind == "backup" else RESTORE_PARAMS
    build, render = (_backup_operator, _backup_statements) if kind == "backup" else \
        (_restore_operator, _restore_statements)
    syntax = Syntax.for_version(StarRocksHook(starrocks_conn_id="sr_rel").server_version())
    outcomes = {"quoted": 0, "refused": 0, "not given": 0}
    compared = 0
    tail = _QueryTail(src)
    for n, (param, value) in enumerate((p, v) for p in params for v in SAMPLE):
        kwargs = _backup_kwargs(param, value) if kind == "backup" else _restore_kwargs(param, value)
        if kind == "restore" and param != "target_database" and kwargs.get("target_database"):
            kwargs["target_database"] = f"rel_copy_{n}"  # a fresh target: the restore is not refused as existing
        try:
            expected, expected_error = render(build(kwargs), syntax, _newest_ok), None
        except Exception as exc:  # noqa: BLE001 - a refusal, or the frontend's error: execute() must meet the same
            expected, expected_error = None, exc
        try:
            build(kwargs).execute(task_context())
            error = None
        except Exception as exc:  # noqa: BLE001 - every outcome is checked below
            error = exc
        sent = tail.new()
        if value == "" and (kind, param) in UNSET_WHEN_EMPTY:  # "not given": as with the parameter left out
            omitted = _omitted_kwargs(kind, param)
            if "target_database" in kwargs and param != "target_database":
                omitted["target_database"] = kwargs["target_database"]
            assert expected == render(build(omitted), syntax, _newest_ok), (param, expected)
            outcomes["not given"] += 1
        else:
            outcomes[_check(sent, value, param, error)] += 1
        submitted = [q for q in sent if q.startswith(("BACKUP ", "RESTORE "))]
        if expected_error is not None:  # the same refusal, before anything was sent
            assert (type(error), str(error)) == (type(expected_error), str(expected_error)), (param, value)
            assert submitted == []
        elif submitted:
            assert submitted == [expected[-1]], (param, value, submitted, expected[-1])
            compared += 1
            with src.server.connect() as conn:
                _cancel_started_jobs(conn, kind.upper(), kwargs.get("target_database"))
            tail.new()
    assert compared >= 5, f"only {compared} {kind} statements sent: nothing to compare"
    count(f"item6 {kind} operator executions with hostile values", sum(outcomes.values()))
    count(f"item6 {kind} operator statements identical to the sweep's", compared)
    assert src.sql("SELECT count(*) FROM rel_src.t1") == ((2,),)
