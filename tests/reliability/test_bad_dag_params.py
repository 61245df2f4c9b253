"""Item 6 through the shipped DAGs' params (the run conf a user types in the trigger form), run with dag.test().

Three layers: (1) Params validation refuses a hostile value of a typed param (enum, boolean, integer, non-empty
string) before a run exists, with an error naming the param, as the trigger API does (``deep_merge`` +
``validate``); (2) a list param carries ~200 hostile names in one run; (3) each scalar param that reaches SQL is
given the values that were dangerous only at the DAG layer while the DAGs rendered templates as native objects
("None", "1" became other types; a Jinja-looking value must not be rendered again; the DAGs now read params by name,
sr_airflow/dag_params.py) plus an injection string. Every statement the frontend
receives must be one statement of an allowed kind, without comments; each value is either found decoded in one of
them (quoted) or refused with an error naming the param; ``hd_src`` is intact at the end. sr_restore_drill gets
the same in two runs: every database name the engine refuses plus the DAG-layer values as mapped drills (each
scratch database checked and dropped quoted, or refused; a scratch name that exists and no drill made refused and
kept), and a hostile scratch_template through a whole drill of ``hd_src``."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import ParamValidationError

from sr_airflow.engine.database_metadata import metadata_query
from sr_airflow.engine.quoting import quote_identifier
from sr_airflow.engine.schema import functions_query
from tests.support.dags import states
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.hostile import HOSTILE
from tests.support.hostile import decoded as _decoded
from tests.support.hostile import one_statement as _one_statement
from tests.support.s3 import BUCKET

DAG_IDS = ("sr_full_backup", "sr_incremental_backup", "sr_migration", "sr_restore", "sr_retention",
           "sr_restore_drill")
# Statement kinds a shipped DAG may send (the client library's SET chatter aside).
ALLOWED_PREFIXES = ("SELECT ", "SHOW ", "ADMIN SHOW FRONTEND CONFIG ", "BACKUP ", "RESTORE SNAPSHOT ",
                    "CREATE REPOSITORY ", "CREATE READ ONLY REPOSITORY ", "ALTER MATERIALIZED VIEW ")
# Words an error must contain to name each param (operators say "database", "table", "label", ...).
NAMES = {"repository": ("repository",), "database": ("database",), "databases": ("database",),
         "target_database": ("database",), "tables": ("table",), "objects": ("table", "object"),
         "snapshot_label": ("label", "snapshot"), "point_in_time": ("point_in_time", "point in time"),
         "partition_template": ("partition",), "table": ("table",), "location": ("location",)}
# Only at the DAG layer: the texts native rendering once changed (literal_eval of the rendered text), Jinja, and an
# injection string. Each must reach the operator as the text it is.
DAG_LAYER_VALUES = ["None", "1", "{{ 7 * 7 }}", "x` ; DROP DATABASE hd_src; -- '\"\n#"]


@pytest.fixture(scope="module")
def hd(airflow_db, s3_server):
    with start_emulator("sr_hostile", s3_server) as emu:
        emu.sql("CREATE DATABASE hd_src",
                "CREATE TABLE hd_src.t1 (k INT, d DATE) DUPLICATE KEY(k) PARTITION BY RANGE(d) (PARTITION p20240101 "
                "VALUES LESS THAN ('2024-01-02')) DISTRIBUTED BY HASH(k) BUCKETS 1",
                "INSERT INTO hd_src.t1 VALUES (1, '2024-01-01'), (2, '2024-01-01')")
        yield emu


@pytest.fixture(scope="module")
def hd_target(airflow_db, s3_server):
    """The migration's target cluster."""
    with start_emulator("sr_hostile_t", s3_server) as emu:
        yield emu


@pytest.fixture
def config(hd, aws_conn):
    return f"""
[defaults]
starrocks_conn_id = "sr_hostile"
repository = "hd_repo"
location = "s3://{BUCKET}/hostile-dags"
storage_conn_id = "{aws_conn}"
databases = ["hd_src"]
[sr_migration]
source_conn_id = "sr_hostile"
target_conn_id = "sr_hostile_t"
max_catch_up_rounds = 0
"""


@pytest.fixture
def failures(monkeypatch):
    """Every exception an operator's execute() raised in this test, keyed by (task_id, map_index)."""
    seen: dict[tuple[str, int], BaseException] = {}
    wrapped: set[type] = set()

    def watch(dag) -> None:
        for task in dag.tasks:
            cls = getattr(task, "operator_class", type(task))  # a mapped task names its operator's class
            if cls in wrapped or not isinstance(cls, type):
                continue
            wrapped.add(cls)
            original = cls.execute

            def execute(self, context, _original=original):
                try:
                    return _original(self, context)
                except Exception as exc:
                    seen[(self.task_id, getattr(context.get("ti"), "map_index", -1))] = exc
                    raise

            monkeypatch.setattr(cls, "execute", execute)

    seen_watch = watch
    return seen, seen_watch


def _check_statements(emu, before: int) -> list[str]:
    sent = [q for q in emu.queries()[before:] if not q.upper().startswith(("SET ", "SELECT @@", "USE "))]
    for sql in sent:
        assert sql.startswith(ALLOWED_PREFIXES), f"an unexpected statement reached the frontend: {sql!r}"
        _one_statement(sql)
    return sent


def _outcome(param: str, value: str, sent: list[str], errors: list[BaseException]) -> str:
    """'quoted' when a statement carries the value decoded exactly, else 'refused' by an error that names the
    param and is about this value (it quotes the value, or refuses its type): an error about some other object
    (the default the value was silently turned into) is not a refusal of the value."""
    if any(value in _decoded(sql) for sql in sent):
        return "quoted"
    texts = [str(e) for e in errors]
    about_value = (value, repr(value), "must", "longer than")  # the value, as %r shows it, or a rule it breaks
    assert any(any(word in text.lower() for word in NAMES[param]) and any(v in text for v in about_value)
               for text in texts), f"{param}={value!r} was neither sent quoted nor refused naming the param: {texts}"
    return "refused"


def _intact(emu) -> None:
    assert emu.sql("SELECT count(*) FROM hd_src.t1") == ((2,),)


# ---------------------------------------------------------------- (1) Params validation
TYPED = {  # params a hostile string can never satisfy (enum, boolean, integer, format date-time)
    "sr_incremental_backup": ["mode", "full_every_n", "full_every_days"],
    "sr_migration": ["allow_overwrite", "verify", "replication_num", "timeout", "allow_load"],
    "sr_restore": ["allow_overwrite", "verify", "overwrite_mode", "replication_num", "timeout", "allow_load",
                   "point_in_time"],
    "sr_retention": ["keep_last", "keep_daily", "keep_weekly", "keep_monthly", "max_age_days", "dry_run"],
    "sr_restore_drill": ["scratch_template"],  # its pattern wants {database}, which no hostile value holds
}
NON_EMPTY = {  # type string, minLength 1: the empty and whitespace-free empty string is refused
    "sr_full_backup": ["starrocks_conn_id", "repository", "location"],
    "sr_incremental_backup": ["starrocks_conn_id", "repository", "location", "partition_template"],
    "sr_migration": ["source_conn_id", "target_conn_id", "database", "repository", "location", "storage_conn_id"],
    "sr_restore": ["starrocks_conn_id", "database", "repository", "location", "storage_conn_id"],
    "sr_retention": ["starrocks_conn_id", "repository", "storage_conn_id"],
    "sr_restore_drill": ["starrocks_conn_id", "repository", "location", "storage_conn_id", "scratch_template"],
}


def _scheduler_params(dag):
    """The params as the scheduler and the trigger API hold them (the DAG serialised and read back)."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).params


def test_params_validation_refuses_hostile_values_of_typed_params_naming_the_param(hd, config, load_shipped):
    before = len(hd.queries())
    refused = 0
    for dag_id in DAG_IDS:
        dag = load_shipped(dag_id, config)
        params = _scheduler_params(dag)
        required = {"database": "hd_src"} if "database" in params else {}
        for param in TYPED.get(dag_id, []):
            for value in HOSTILE:
                with pytest.raises(ParamValidationError, match=f"param {param}\\b"):
                    params.deep_merge({**required, param: value}).validate()
                refused += 1
        for param in NON_EMPTY[dag_id]:
            with pytest.raises(ParamValidationError, match=f"param {param}\\b"):
                params.deep_merge({**required, param: ""}).validate()
            refused += 1
        for list_param in ("databases", "tables"):
            if list_param in params and dag_id != "sr_retention":
                with pytest.raises(ParamValidationError, match=f"param {list_param}\\b"):
                    params.deep_merge({**required, list_param: ["ok", ""]}).validate()
                refused += 1
    # the same refusal through dag.test(): no run, no statement
    dag = load_shipped("sr_retention", config)
    with pytest.raises(ParamValidationError, match="param keep_last"):
        dag.test(run_conf={"keep_last": "1; DROP DATABASE hd_src"})
    assert _check_statements(hd, before) == []
    count("item6 DAG params: hostile values refused by Params validation", refused)
    _intact(hd)


# ---------------------------------------------------------------- (2) list params with every hostile name
def _engine_refuses(value: str, as_database: bool = False) -> bool:
    """Whether the engine refuses ``value`` as a table name (or a database name): which outcome to expect."""
    from sr_airflow.engine.scope_args import scope_from_arguments
    from sr_airflow.engine.statements import BackupRequest, Syntax, render_backup

    try:
        scope = scope_from_arguments(database=value) if as_database else \
            scope_from_arguments(database="d", tables=[value])
        request = BackupRequest(label="l", repository="r", scope=scope)
        request.validate()
        render_backup(request, Syntax.MODERN)
    except ValueError:
        return True
    return False


@pytest.mark.slow
def test_every_hostile_name_through_the_list_params_of_sr_full_backup_is_quoted_or_refused(hd, config, load_shipped,
                                                                                          failures):
    seen, watch = failures
    names = [v for v in HOSTILE if v and not _engine_refuses(v)]
    refused = [v for v in HOSTILE if v and _engine_refuses(v)]
    # objects.tables: every accepted name in one run, so one BACKUP statement carries them all
    dag = load_shipped("sr_full_backup", config)
    watch(dag)
    before = len(hd.queries())
    run = dag.test(run_conf={"objects": {"tables": names}})
    sent = _check_statements(hd, before)
    assert states(run)["backup[0]"] == "failed"  # no such tables: the frontend refuses the BACKUP
    backups = [q for q in sent if q.startswith("BACKUP ")]
    assert len(backups) == 1, backups
    decoded = _decoded(backups[0])
    assert [n for n in names if n not in decoded] == []
    # databases: one mapped backup per name (the rest of the names plus the DAG-layer values), each on its own
    values = list(dict.fromkeys(refused + DAG_LAYER_VALUES + ["hd_src`", "hd_src; DROP DATABASE hd_src"]))
    dag = load_shipped("sr_full_backup", config)
    watch(dag)
    seen.clear()
    before = len(hd.queries())
    run = dag.test(run_conf={"databases": values})
    sent = _check_statements(hd, before)
    result = states(run)
    outcomes = {"quoted": 0, "refused": 0}
    for index, value in enumerate(values):
        assert result[f"backup[{index}]"] == "failed", (value, result)
        error = seen.get(("backup", index))
        outcome = _outcome("databases", value, sent, [error] if error else [])
        # which one, and why: a name the engine's quoting refuses never reaches the frontend; any other is
        # sent quoted (and the frontend answers that no such database exists)
        assert outcome == ("refused" if _engine_refuses(value, as_database=True) else "quoted"), (value, outcome)
        outcomes[outcome] += 1
    assert not any(q.startswith("BACKUP ") for q in sent)  # none of these databases exists
    assert outcomes["refused"] == len([v for v in values if _engine_refuses(v, as_database=True)])
    count("item6 DAG params: hostile names through list params (one BACKUP carries them, quoted)", len(names))
    count("item6 DAG params: hostile database names through mapped backups", len(values))
    count("item6 DAG params: mapped backups refused naming the database", outcomes["refused"])
    _intact(hd)


# ---------------------------------------------------------------- (3) scalar params that reach SQL
_good_full: list[bool] = []


@pytest.fixture
def good_backup(hd, config, load_shipped):
    """One good full snapshot of hd_src in hd_repo, recorded in the catalog, taken once before the first scalar
    run: the base the restore DAG restores and the incremental DAG's plans build on (a BACKUP statement in the
    query log is not enough: the list-param runs send BACKUPs the frontend refuses)."""
    if not _good_full:
        assert states(load_shipped("sr_full_backup", config).test())["backup[0]"] == "success"
        _good_full.append(True)


SCALAR = [("sr_full_backup", "repository", {}), ("sr_full_backup", "databases", {}),
          ("sr_incremental_backup", "partition_template", {"mode": "logical_date"}),
          ("sr_incremental_backup", "table", {"mode": "logical_date"}),
          ("sr_restore", "database", {}), ("sr_restore", "target_database", {"database": "hd_src"}),
          ("sr_restore", "snapshot_label", {"database": "hd_src", "target_database": "hd_copy"}),
          ("sr_migration", "database", {}), ("sr_migration", "target_database", {"database": "hd_src"})]
# Params that only filter what the DAG finds (partitions of the run, one table): a value that matches nothing is
# a run that backs up nothing; it is never sent to the frontend.
FILTERS = {("sr_incremental_backup", "partition_template"), ("sr_incremental_backup", "table")}
# Two defects found here are fixed: native rendering turned the text "None" into None (= not given; the DAGs no
# longer render natively), and an unparsable point_in_time failed without naming the param. point_in_time is now a
# date-time param (the trigger form's picker): Params validation refuses every hostile value before a run (TYPED
# above).


def _expected(dag_id: str, param: str, value: str) -> str:
    """The one outcome each case must have, and why. sr_restore resolves its database and snapshot label in the
    catalog first, which holds none of these names: refused naming the value, nothing sent. partition_template is
    a template, rendered as text for the run: "None", "1" and "{{ 7 * 7 }}" become the partition names "None", "1"
    and "49", which name no partition, so they match nothing, as any text for the table filter. Every other param
    is a name sent to the frontend, and each value is a valid one (non-empty, no NUL, short): sent quoted."""
    if (dag_id, param) in {("sr_restore", "database"), ("sr_restore", "snapshot_label")}:
        return "refused"
    if (dag_id, param) in FILTERS:
        return "matched nothing"
    return "quoted"


_PLANNER_READS = frozenset({metadata_query("hd_src"), functions_query("hd_src")})


def _scalar_cases():
    for dag_id, param, base in SCALAR:
        for i, value in enumerate(DAG_LAYER_VALUES):
            yield pytest.param(dag_id, param, base, value, id=f"{dag_id}-{param}-{i}")


@pytest.mark.slow
@pytest.mark.parametrize("dag_id,param,base,value", list(_scalar_cases()))
def test_dag_layer_values_through_scalar_params_are_quoted_or_refused(hd, hd_target, config, load_shipped, failures,
                                                                      good_backup, dag_id, param, base, value):
    seen, watch = failures
    dag = load_shipped(dag_id, config)  # a fresh parse per run: dag.test() keeps a run's conf in the params
    watch(dag)
    before = len(hd.queries())
    target_before = len(hd_target.queries())
    run = dag.test(run_conf={**base, param: [value] if param == "databases" else value})
    sent = _check_statements(hd, before) + _check_statements(hd_target, target_before)
    # The planner's fixed metadata read of hd_src carries literals of its own ('1' and '0' for IS_TEMP): it is the
    # engine's text, not the value. Had the value reached it, it would differ from the engine's statement and stay.
    sent = [sql for sql in sent if sql not in _PLANNER_READS]
    result = states(run)
    if (dag_id, param) in FILTERS and not seen:
        assert not any(value in _decoded(sql) for sql in sent)
        assert not any(q.startswith("BACKUP ") for q in sent) and result["backup[0]"] == "skipped", result
        outcome = "matched nothing"
    else:
        outcome = _outcome(param, value, sent, list(seen.values()))
    assert outcome == _expected(dag_id, param, value), (outcome, [str(e) for e in seen.values()])
    count(f"item6 DAG params: DAG-layer values through scalar params, {outcome}")
    _intact(hd)


# ---------------------------------------------------------------- sr_restore_drill: database names, scratch template
# The drill sends three kinds of statement of its own: the scratch database's existence check (a SELECT), the
# RESTORE into it, and DROP DATABASE IF EXISTS of the scratch database (operators/drill.py).
DRILL_PREFIXES = (*ALLOWED_PREFIXES, "DROP DATABASE IF EXISTS ")


def _drill_store(aws_conn, location: str, repository: str):
    from sr_airflow.storage import get_storage
    from sr_airflow.storage.drill_store import DrillStore

    return DrillStore(get_storage(location, conn_id=aws_conn), repository)


def _drill_statements(hd, before: int, scratch_names: set[str]) -> list[str]:
    """Every statement since ``before`` is allowed and one statement; each DROP names one of ``scratch_names``."""
    sent = [q for q in hd.queries()[before:] if not q.upper().startswith(("SET ", "SELECT @@", "USE "))]
    for sql in sent:
        assert sql.startswith(DRILL_PREFIXES), f"an unexpected statement reached the frontend: {sql!r}"
        _one_statement(sql)
        if sql.startswith("DROP DATABASE"):
            assert _decoded(sql) and _decoded(sql)[0] in scratch_names, f"a drill dropped another database: {sql!r}"
    return sent


def _drill_refuses(database: str, scratch: str) -> bool:
    """Whether the engine's quoting refuses the drilled or the scratch database's name (the drill's start checks
    both as identifiers before its first statement)."""
    try:
        quote_identifier(database)
        quote_identifier(scratch)
    except ValueError:
        return True
    return False


@pytest.mark.slow
def test_hostile_names_and_templates_through_sr_restore_drill_are_quoted_or_refused(hd, config, load_shipped,
                                                                                  failures, good_backup, aws_conn):
    seen, watch = failures
    # (a) databases: one mapped drill per value, in one run, on a repository of its own (the other tests here leave
    # snapshots of databases with these names in hd_repo). The scratch template aims "src" at hd_src, which exists
    # and no drill made: refused, never dropped. Each other scratch name is checked (quoted), the restore refused
    # (nothing in the catalog), the scratch dropped (quoted).
    where = {"repository": "hd_drill_repo", "location": f"s3://{BUCKET}/hostile-drills"}
    store = _drill_store(aws_conn, where["location"], where["repository"])
    values = list(dict.fromkeys([v for v in HOSTILE if v and _engine_refuses(v, as_database=True)]
                                + DAG_LAYER_VALUES + ["hd_src`", "hd_src; DROP DATABASE hd_src", "src"]))
    scratch = {value: f"hd_{value}" for value in values}
    dag = load_shipped("sr_restore_drill", config)
    watch(dag)
    before = len(hd.queries())
    run = dag.test(run_conf={**where, "databases": values, "scratch_template": "hd_{database}"})
    sent = _drill_statements(hd, before, set(scratch.values()) - {"hd_src"})
    result = states(run)
    assert not any(q.startswith("RESTORE ") for q in sent)
    recorded = {r.database: r for r in store.load() if r.run_id == run.run_id}
    outcomes = {"quoted": 0, "refused": 0}
    for index, value in enumerate(values):
        assert result[f"drill.finish[{index}]"] == "failed", (value, result)
        errors = [seen[key] for key in (("drill.start", index), ("drill.restore", index)) if key in seen]
        if value == "src":
            assert "exists and no restore drill created it" in str(seen[("drill.start", index)]), errors
            assert value not in recorded
            continue
        quoted = any(scratch[value] in _decoded(sql) for sql in sent)
        outcome = "quoted" if quoted else _outcome("databases", value, sent, errors)
        # which one, and why: a name the engine's quoting refuses (a NUL, too long) never reaches the frontend; any
        # other is checked quoted, recorded as given (neither rendered as Jinja or a native type nor altered), its
        # restore refused (no snapshot of it) and its scratch database dropped, quoted
        assert outcome == ("refused" if _drill_refuses(value, scratch[value]) else "quoted"), (value, outcome, errors)
        if outcome == "refused":
            assert value not in recorded
        else:
            assert result[f"drill.restore[{index}]"] == "failed", (value, result)
            assert f"DROP DATABASE IF EXISTS {quote_identifier(scratch[value])} FORCE" in sent, value
            assert recorded[value].scratch_database == scratch[value], value
            assert (recorded[value].result, recorded[value].snapshot_label, recorded[value].scratch_dropped) == (
                "failed", None, True), recorded[value]
        outcomes[outcome] += 1
    assert outcomes["quoted"] and outcomes["refused"], outcomes
    _intact(hd)
    # (b) scratch_template: a hostile template for hd_src, which has a snapshot: the whole drill runs with it.
    template = "{database}` ; DROP DATABASE hd_src; -- '\"\n#{{ 7 * 7 }}"
    name = template.replace("{database}", "hd_src")
    dag = load_shipped("sr_restore_drill", config)
    watch(dag)
    seen.clear()
    before = len(hd.queries())
    run = dag.test(run_conf={"databases": ["hd_src"], "scratch_template": template})
    sent = _drill_statements(hd, before, {name})
    restores = [q for q in sent if q.startswith("RESTORE ")]
    assert len(restores) == 1 and name in _decoded(restores[0]), restores
    assert any(q.startswith("DROP DATABASE") for q in sent)
    store = _drill_store(aws_conn, f"s3://{BUCKET}/hostile-dags", "hd_repo")
    [record] = [r for r in store.load("hd_src") if r.run_id == run.run_id]
    assert record.scratch_database == name and record.scratch_dropped, record
    assert (record.result == "ok") == (str(run.state) == "success"), (record, states(run))
    assert name not in {row[0] for row in hd.sql("SELECT SCHEMA_NAME FROM information_schema.schemata")}
    count("item6 DAG params: hostile database names through mapped restore drills", len(values))
    count("item6 DAG params: restore drills refused naming the database", outcomes["refused"])
    _intact(hd)
