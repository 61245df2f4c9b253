"""Every shipped DAG through dag.test() as a StarRocks user holding exactly the grants docs/security.md lists
(``engine/grants.py`` DAG_GRANTS, which renders that section), then with one key grant taken away: the run fails
with StarRocks' own access-denied error or pre-flight's sentence naming the grant to add."""

from __future__ import annotations

import contextlib
import os

import pytest

from sr_airflow.engine.grants import Grant, grants_for
from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.dags import states
from tests.support.s3 import BUCKET, S3_KEY, S3_SECRET
from tests.support.seeds import seed_daily

pytestmark = pytest.mark.slow

DB = "lp_db"
PREFIX = "least"
PASSWORD = "lp-Pw-7"  # a test user's password: must never appear in a task's output
DENIED = "Access denied; you need (at least one of) the"


@contextlib.contextmanager
def as_user(emu, user: str, grants: list[Grant]):
    """A connection id for ``user`` on ``emu``, created by root with exactly ``grants``."""
    emu.sql(f"DROP USER IF EXISTS '{user}'", f"CREATE USER '{user}' IDENTIFIED BY '{PASSWORD}'",
            *[g.statement(user) for g in grants])
    conn_id = f"{emu.conn_id}_{user}"
    key = f"AIRFLOW_CONN_{conn_id.upper()}"
    os.environ[key] = f"starrocks://{user}:{PASSWORD}@127.0.0.1:{emu.server.port}/"
    try:
        yield conn_id
    finally:
        os.environ.pop(key, None)


def config(conn_id: str, aws_conn: str, **sections: dict) -> str:
    text = f"""
[defaults]
starrocks_conn_id = "{conn_id}"
repository = "{PREFIX}_repo"
location = "s3://{BUCKET}/{PREFIX}"
storage_conn_id = "{aws_conn}"
databases = ["{DB}"]
"""
    for name, values in sections.items():
        text += f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())
    return text


def ensure_repository(emu, s3_server) -> None:
    if f"{PREFIX}_repo" not in [row[1] for row in emu.sql("SHOW REPOSITORIES")]:
        emu.create_repository(f"{PREFIX}_repo", s3_server, PREFIX)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def without(grants: list[Grant], removed: str | tuple[str, str]) -> list[Grant]:
    """``grants`` less the one of privilege ``removed`` (or of (privilege, object kind) ``removed``)."""
    kept = [g for g in grants if (g.privilege, g.on) != removed and g.privilege != removed]
    assert len(kept) == len(grants) - 1, removed
    return kept


@pytest.fixture(scope="module")
def seeded(emulator):
    """lp_db of seed_daily (tables events and dims, the MV per_day) and a view ``recent``."""
    seed_daily(emulator, DB)
    emulator.sql(f"CREATE VIEW {DB}.recent AS SELECT k, d FROM {DB}.events WHERE d >= '2024-01-03'")
    return emulator


def newest_census(s3_server):
    """The census (views, MVs) of the newest catalog entry of the module's repository."""
    storage = get_storage(f"s3://{BUCKET}/{PREFIX}", endpoint=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                          aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    census = list(CatalogStore(storage, f"{PREFIX}_repo").load())[-1].census
    return set(census.views), set(census.materialized_views)


def objects_of(emu, database: str) -> set[tuple[str, str]]:
    """(name, TABLE_TYPE) of each table, view and MV of ``database``, as root sees them."""
    return {(r[0], r[1]) for r in emu.sql("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.tables "
                                          f"WHERE TABLE_SCHEMA = '{database}'")}


def test_backups_retention_and_drill_as_least_privileged_users(seeded, s3_server, aws_conn, load_dag, capsys):
    emu = seeded
    with as_user(emu, "lp_full", grants_for("sr_full_backup", DB)) as conn_id:
        run = load_dag("sr_full_backup", config(conn_id, aws_conn)).test()
        # export_access too: without GRANT ON SYSTEM it warns that nothing was exported (docs/security.md)
        assert set(states(run).values()) == {"success"}, states(run)
    assert newest_census(s3_server) == ({"recent"}, {"per_day"})  # the catalog records the view and the MV
    with as_user(emu, "lp_incr", grants_for("sr_incremental_backup", DB)) as conn_id:
        dag = load_dag("sr_incremental_backup", config(conn_id, aws_conn, sr_incremental_backup={"mode": "changed"}))
        emu.sql(f"INSERT INTO {DB}.events VALUES (9, '2024-01-02')",
                f"CREATE VIEW {DB}.later AS SELECT k FROM {DB}.dims")  # after the grants: ALL ... IN DATABASE
        assert states(dag.test())["backup[0]"] == "success"
    assert newest_census(s3_server) == ({"recent", "later"}, {"per_day"})
    emu.sql(f"DROP VIEW {DB}.later")  # the other tests' database is seed_daily's and recent
    with as_user(emu, "lp_ret", grants_for("sr_retention", DB)) as conn_id:
        dag = load_dag("sr_retention", config(conn_id, aws_conn, sr_retention={"keep_last": 5, "dry_run": False}))
        assert states(dag.test()) == {"apply_retention": "success"}
    with as_user(emu, "lp_drill", grants_for("sr_restore_drill", DB)) as conn_id:
        run = load_dag("sr_restore_drill", config(conn_id, aws_conn)).test()
        assert set(states(run).values()) == {"success"}, states(run)
    assert PASSWORD not in capsys.readouterr().out


@pytest.fixture(scope="module")
def root_backup() -> dict:
    """Whether ``backed_up`` took its root backup in this module yet."""
    return {}


@pytest.fixture
def backed_up(seeded, root_backup, aws_conn, load_dag):
    """The newest full backup of lp_db in the repository, taken by a user holding exactly sr_full_backup's grants
    (once per module, whatever ran before: what the restoring users restore; aws_conn and load_dag are per test).
    The catalog records what the backing-up user sees: its grants on the views and MVs show it ``recent`` and
    ``per_day`` (EXPORT on the tables alone does not), so a plan from its entry brings them back."""
    if not root_backup:
        with as_user(seeded, "lp_bk", grants_for("sr_full_backup", DB)) as conn_id:
            run = load_dag("sr_full_backup", config(conn_id, aws_conn)).test()
        assert states(run)["backup[0]"] == "success"
        root_backup["label"] = run.run_id
    return seeded


def test_restore_and_migration_as_least_privileged_users(backed_up, target_emulator, aws_conn, load_dag):
    with as_user(target_emulator, "lp_rst", grants_for("sr_restore", DB)) as conn_id:
        run = load_dag("sr_restore", config(conn_id, aws_conn)).test(
            run_conf={"database": DB, "target_database": "lp_restored", "verify": "counts"})
        got = states(run)
        assert got["restore"] == got["verify"] == "success" and set(got.values()) == {"success"}, got
    assert target_emulator.sql("SELECT count(*) FROM lp_restored.events")[0][0] >= 4
    source_objects = objects_of(backed_up, DB)
    assert {name for name, _ in source_objects} == {"events", "dims", "per_day", "recent"}, source_objects
    assert objects_of(target_emulator, "lp_restored") == source_objects  # the MV and the view brought back too
    with (as_user(backed_up, "lp_src", grants_for("sr_migration", DB, "source")) as source_id,
          as_user(target_emulator, "lp_dst", grants_for("sr_migration", DB, "target")) as target_id):
        dag = load_dag("sr_migration", config(source_id, aws_conn).replace(f'repository = "{PREFIX}_repo"',
                                                                           'repository = "lp_mig_repo"')
                       + f'[sr_migration]\nsource_conn_id = "{source_id}"\ntarget_conn_id = "{target_id}"\n'
                         "max_catch_up_rounds = 0\n")
        run = dag.test(run_conf={"database": DB, "target_database": "lp_migrated", "verify": "counts"})
        got = states(run)
        assert got["restore"] == got["verify"] == got["summary"] == "success", got
    assert objects_of(target_emulator, "lp_migrated") == objects_of(backed_up, DB)


@pytest.mark.parametrize(("dag_id", "removed", "task", "says"), [
    ("sr_full_backup", "EXPORT", "backup[0]",
     "lacks EXPORT on lp_db.* — GRANT EXPORT ON ALL TABLES IN DATABASE lp_db TO USER 'lp_less'@'%'"),
    # create_repository finds the repository in place (SHOW REPOSITORIES needs no privilege) and sends nothing;
    # the backup's pre-flight reads SHOW GRANTS and names the grant before any BACKUP
    ("sr_full_backup", "REPOSITORY", "backup[0]",
     "lacks REPOSITORY on SYSTEM — GRANT REPOSITORY ON SYSTEM TO USER 'lp_less'@'%'"),
    # the census would not see the MV per_day / the view recent (information_schema leaves them out), so the
    # catalog would miss what the snapshot holds: stopped before any BACKUP
    ("sr_full_backup", ("SELECT", "MATERIALIZED VIEW"), "backup[0]",
     "lacks any privilege on materialized view lp_db.* — GRANT SELECT ON ALL MATERIALIZED VIEWS IN DATABASE lp_db "
     "TO USER 'lp_less'@'%'"),
    ("sr_incremental_backup", ("SELECT", "VIEW"), "backup[0]",
     "lacks any privilege on view lp_db.* — GRANT SELECT ON ALL VIEWS IN DATABASE lp_db TO USER 'lp_less'@'%'"),
    # the restore's pre-flight: lp_again does not exist yet, so only a grant on all databases can cover it
    ("sr_restore", "CREATE TABLE", "restore",
     "lacks CREATE TABLE on all databases — GRANT CREATE TABLE ON ALL DATABASES TO USER 'lp_less'@'%'"),
    ("sr_restore", "REPOSITORY", "restore",
     "lacks REPOSITORY on SYSTEM — GRANT REPOSITORY ON SYSTEM TO USER 'lp_less'@'%'"),
    # the plan brings back the MV per_day, which the restore re-activates: without ALTER on it the task would not
    # even see it (left inactive, unreported); lp_again does not exist, so only a grant on all databases covers it
    ("sr_restore", "ALTER", "restore", "lacks ALTER on materialized view *.* — GRANT ALTER ON ALL MATERIALIZED "
                                       "VIEWS IN ALL DATABASES TO USER 'lp_less'@'%'"),
    # not a pre-flight's: StarRocks' own error from DROP DATABASE of the scratch database
    ("sr_restore_drill", "DROP", "drill.finish[0]", f"{DENIED} DROP privilege(s) on DATABASE {DB}__drill"),
])
def test_one_grant_less_fails_with_the_error_naming_it(dag_id, removed, task, says, backed_up, target_emulator,
                                                         s3_server, aws_conn, load_dag, capsys):
    emu = target_emulator if dag_id == "sr_restore" else backed_up
    ensure_repository(emu, s3_server)  # as root: the task under test is the one after create_repository
    capsys.readouterr()
    backups_sent = emu.count("BACKUP")
    with as_user(emu, "lp_less", without(grants_for(dag_id, DB), removed)) as conn_id:
        dag = load_dag(dag_id, config(conn_id, aws_conn))
        run = dag.test(run_conf={"database": DB, "target_database": "lp_again", "verify": "counts"}
                       if dag_id == "sr_restore" else None)
    assert states(run)[task] == "failed", states(run)
    out = capsys.readouterr().out
    assert says in out
    assert PASSWORD not in out
    if "backup" in dag_id:
        assert emu.count("BACKUP") == backups_sent
    leftover = "lp_again" if dag_id == "sr_restore" else f"{DB}__drill"
    emu.sql(f"DROP DATABASE IF EXISTS {leftover} FORCE")


def test_a_migration_source_without_export_stops_at_preflight(backed_up, target_emulator, aws_conn, load_dag,
                                                              capsys):
    capsys.readouterr()
    with (as_user(backed_up, "lp_src_less", without(grants_for("sr_migration", DB, "source"), "EXPORT")) as source_id,
          as_user(target_emulator, "lp_dst", grants_for("sr_migration", DB, "target")) as target_id):
        dag = load_dag("sr_migration", config(source_id, aws_conn)
                       + f'[sr_migration]\nsource_conn_id = "{source_id}"\ntarget_conn_id = "{target_id}"\n')
        run = dag.test(run_conf={"database": DB, "target_database": "lp_never"})
    got = states(run)
    assert got["preflight"] == "failed" and got["restore"] == "upstream_failed", got
    assert (f"StarRocks user 'lp_src_less' on {source_id} lacks EXPORT on {DB}.* — GRANT EXPORT ON ALL TABLES IN "
            f"DATABASE {DB} TO USER 'lp_src_less'@'%'.") in capsys.readouterr().out


def test_a_migration_target_without_alter_on_its_mvs_stops_at_the_restores_preflight(backed_up, target_emulator,
                                                                                      aws_conn, load_dag, capsys):
    """The snapshot holds the MV per_day (read from its ``__meta``): the target's user needs ALTER on it to
    re-activate it, and pre-flight says so before RESTORE is sent."""
    capsys.readouterr()
    sent = target_emulator.count("RESTORE")
    with (as_user(backed_up, "lp_src", grants_for("sr_migration", DB, "source")) as source_id,
          as_user(target_emulator, "lp_dst_less", without(grants_for("sr_migration", DB, "target"), "ALTER"))
          as target_id):
        dag = load_dag("sr_migration", config(source_id, aws_conn).replace(f'repository = "{PREFIX}_repo"',
                                                                           'repository = "lp_mig_repo"')
                       + f'[sr_migration]\nsource_conn_id = "{source_id}"\ntarget_conn_id = "{target_id}"\n'
                         "max_catch_up_rounds = 0\n")
        run = dag.test(run_conf={"database": DB, "target_database": "lp_mig_noalter"})
    got = states(run)
    assert got["backup"] == "success" and got["restore"] == "failed", got
    assert (f"StarRocks user 'lp_dst_less' on {target_id} lacks ALTER on materialized view *.* — GRANT ALTER ON ALL "
            "MATERIALIZED VIEWS IN ALL DATABASES TO USER 'lp_dst_less'@'%'.") in capsys.readouterr().out
    assert target_emulator.count("RESTORE") == sent  # nothing sent
