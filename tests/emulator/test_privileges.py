"""Users, roles and the privileges BACKUP / RESTORE / repository statements check (spec §9), through PyMySQL."""

from __future__ import annotations

import pymysql
import pytest

from tests.support.emulator_client import as_dicts, error_of, repo_sql, run, wait_job
from tests.support.emulator_client import start_server as start_emulator

HINT = ("for this operation. Please ask the admin to grant permission(s) or try activating existing roles using "
        "<set [default] role>.")


def denied(what: str, current: str = "NONE", inactive: str = "NONE") -> tuple[int, str]:
    return 5203, (f"Access denied; you need (at least one of) the {what} {HINT} Current role(s): {current}. "
                  f"Inactivated role(s): {inactive}.")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, s3_server):
    """A frontend of this module's own: SHOW BACKUP without a database lists the jobs of every database."""
    server = start_emulator(tmp_path_factory, s3_server)
    yield server
    server.stop()


def login(emulator, user: str, password: str):
    return pymysql.connect(host=emulator.host, port=emulator.port, user=user, password=password,
                           autocommit=True).cursor()


@pytest.fixture(scope="module")
def setup(emulator, s3_client):
    s3_client.create_bucket(Bucket="priv-bkt")
    root = emulator.connect().cursor()
    run(root, repo_sql("priv_repo", "priv-bkt"))
    run(root, "CREATE DATABASE pdb")
    run(root, "CREATE TABLE pdb.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(root, "CREATE TABLE pdb.t2 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(root, "INSERT INTO pdb.t VALUES (1), (2)")
    run(root, "CREATE USER 'bk' IDENTIFIED BY 'bk-pw'")
    run(root, "CREATE ROLE backup_role")
    return root


def test_login_with_password(emulator, setup):
    with pytest.raises(pymysql.err.OperationalError, match=r"^\(1045, 'Access denied for user") as failure:
        login(emulator, "bk", "wrong")
    assert failure.value.args[0] == 1045
    assert run(login(emulator, "bk", "bk-pw"), "SELECT 1") == [(1,)]


def test_least_privileged_backup_user(emulator, setup):
    root = setup
    bk = login(emulator, "bk", "bk-pw")
    backup_t = "BACKUP DATABASE pdb SNAPSHOT priv_t TO priv_repo ON (TABLE t)"
    assert error_of(bk, backup_t) == denied("REPOSITORY privilege(s) on SYSTEM")
    assert error_of(bk, "SHOW BACKUP FROM pdb") == denied("REPOSITORY privilege(s) on SYSTEM")
    assert error_of(bk, "SHOW SNAPSHOT ON priv_repo") == denied("REPOSITORY privilege(s) on SYSTEM")
    assert error_of(bk, repo_sql("bk_repo", "priv-bkt")) == denied("REPOSITORY privilege(s) on SYSTEM")
    assert error_of(bk, "DROP REPOSITORY priv_repo") == denied("REPOSITORY privilege(s) on SYSTEM")
    assert error_of(bk, "CREATE ROLE sneaky")[0] == 5203  # only root manages users, roles and grants

    run(root, "GRANT REPOSITORY ON SYSTEM TO ROLE backup_role")
    run(root, "GRANT backup_role TO USER 'bk'@'%'")
    bk = login(emulator, "bk", "bk-pw")
    # a granted role is inactive until SET ROLE (or SET DEFAULT ROLE)
    assert error_of(bk, backup_t) == denied("REPOSITORY privilege(s) on SYSTEM", inactive="[backup_role]")
    run(bk, "SET ROLE backup_role")
    assert error_of(bk, backup_t) == denied("EXPORT privilege(s) on TABLE t", current="[backup_role]")
    run(root, "GRANT EXPORT ON TABLE pdb.t TO ROLE backup_role")
    run(bk, backup_t)
    assert wait_job(bk, "BACKUP", "pdb")["State"] == "FINISHED"
    assert [r["SnapshotName"] for r in as_dicts(bk, "SHOW BACKUP FROM pdb")] == ["priv_t"]
    assert run(bk, "SHOW SNAPSHOT ON priv_repo")[0][0] == "priv_t"
    # the whole database needs EXPORT on every table
    assert error_of(bk, "BACKUP DATABASE pdb SNAPSHOT priv_all TO priv_repo") == denied(
        "EXPORT privilege(s) on TABLE t2", current="[backup_role]")
    run(root, "GRANT EXPORT ON ALL TABLES IN DATABASE pdb TO ROLE backup_role")
    run(bk, "BACKUP DATABASE pdb SNAPSHOT priv_all TO priv_repo")
    assert wait_job(bk, "BACKUP", "pdb")["State"] == "FINISHED"
    # without EXPORT, SHOW BACKUP is an empty set
    run(root, "CREATE USER 'viewer' IDENTIFIED BY 'v-pw'")
    run(root, "GRANT REPOSITORY ON SYSTEM TO USER 'viewer'")
    viewer = login(emulator, "viewer", "v-pw")
    assert run(viewer, "SHOW BACKUP FROM pdb") == []
    assert run(viewer, "SHOW BACKUP") == []
    assert len(run(root, "SHOW BACKUP FROM pdb")) == 1
    # REVOKE takes it away again
    run(root, "REVOKE EXPORT ON ALL TABLES IN DATABASE pdb FROM ROLE backup_role")
    assert error_of(bk, "BACKUP DATABASE pdb SNAPSHOT priv_again TO priv_repo") == denied(
        "EXPORT privilege(s) on TABLE t2", current="[backup_role]")
    run(root, "REVOKE backup_role FROM USER 'bk'")
    assert error_of(bk, backup_t)[0] == 5203


def test_restore_privileges_and_the_recover_role(emulator, setup):
    root = setup
    stamp = as_dicts(root, "SHOW SNAPSHOT ON priv_repo WHERE SNAPSHOT = 'priv_t'")[0]["Timestamp"]
    props = f"PROPERTIES ('backup_timestamp' = '{stamp}')"
    run(root, "CREATE USER 'rs' IDENTIFIED BY 'rs-pw'")
    run(root, "GRANT REPOSITORY ON SYSTEM TO USER 'rs'")
    run(root, "GRANT CREATE TABLE ON DATABASE pdb TO USER 'rs'")
    rs = login(emulator, "rs", "rs-pw")
    # without ON: CREATE DATABASE on the catalog
    assert error_of(rs, f"RESTORE SNAPSHOT priv_t FROM priv_repo DATABASE pdb AS pdb_new {props}") == denied(
        "CREATE DATABASE privilege(s) on CATALOG default_catalog")
    assert "pdb_new" not in [r[0] for r in run(root, "SHOW DATABASES")]
    # with ON into an existing table: CREATE TABLE on the database plus INSERT on the table
    assert error_of(rs, f"RESTORE SNAPSHOT priv_t FROM priv_repo DATABASE pdb ON (TABLE t) {props}") == denied(
        "INSERT privilege(s) on TABLE t")
    run(root, "GRANT INSERT ON TABLE pdb.t TO USER 'rs'")
    run(rs, f"RESTORE SNAPSHOT priv_t FROM priv_repo DATABASE pdb ON (TABLE t) {props}")
    assert wait_job(rs, "RESTORE", "pdb")["State"] == "FINISHED"

    # the `recover` role of the StarRocks docs, as a default role: no SET ROLE needed
    run(root, "CREATE ROLE recover")
    run(root, "GRANT REPOSITORY ON SYSTEM TO ROLE recover")
    run(root, "GRANT CREATE DATABASE ON CATALOG default_catalog TO ROLE recover")
    run(root, "GRANT CREATE TABLE ON ALL DATABASES TO ROLE recover")
    run(root, "GRANT INSERT, EXPORT ON ALL TABLES IN ALL DATABASES TO ROLE recover")
    run(root, "CREATE USER 'rec' IDENTIFIED BY 'rec-pw' DEFAULT ROLE recover")
    rec = login(emulator, "rec", "rec-pw")
    run(rec, f"RESTORE SNAPSHOT priv_t FROM priv_repo DATABASE pdb AS pdb_recovered {props}")
    assert wait_job(rec, "RESTORE", "pdb_recovered")["State"] == "FINISHED"
    assert run(root, "SELECT k FROM pdb_recovered.t ORDER BY k") == [(1,), (2,)]
    run(rec, "BACKUP DATABASE pdb_recovered SNAPSHOT rec_backup TO priv_repo")
    assert wait_job(rec, "BACKUP", "pdb_recovered")["State"] == "FINISHED"
    run(rec, "SET ROLE NONE")
    assert error_of(rec, "SHOW BACKUP FROM pdb_recovered") == denied(
        "REPOSITORY privilege(s) on SYSTEM", inactive="[recover]")


def test_cancel_backup_needs_export(emulator, setup):
    root = setup
    run(root, "CREATE USER IF NOT EXISTS 'viewer' IDENTIFIED BY 'v-pw'")
    run(root, "GRANT REPOSITORY ON SYSTEM TO USER 'viewer'")
    viewer = login(emulator, "viewer", "v-pw")
    run(root, 'ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "UPLOADING", "emulator_slow_seconds" = "30")')
    try:
        run(root, "BACKUP DATABASE pdb SNAPSHOT priv_cancel TO priv_repo ON (TABLE t)")
        assert error_of(viewer, "CANCEL BACKUP FROM pdb") == denied("EXPORT privilege(s) on TABLE t")
        run(root, "GRANT EXPORT ON TABLE pdb.t TO USER 'viewer'")
        run(viewer, "CANCEL BACKUP FROM pdb")
        assert wait_job(root, "BACKUP", "pdb")["Status"] == "[COMMON_ERROR, msg: user cancelled]"
    finally:
        run(root, 'ADMIN SET FRONTEND CONFIG ("emulator_slow_state" = "", "emulator_slow_seconds" = "0")')


def test_backing_up_functions_needs_usage_on_them(emulator, setup):
    """USAGE on each backed-up function (spec §9); StarRocks' message names DROP and the function's signature."""
    root = setup
    run(root, "CREATE DATABASE fdb")
    run(root, "CREATE TABLE fdb.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    for name, arg in (("f_one", "INT"), ("f_two", "STRING")):
        run(root, f'CREATE FUNCTION fdb.{name}({arg}) RETURNS {arg} PROPERTIES ("symbol" = "com.example.F", '
                  '"type" = "StarrocksJar", "file" = "http://files/f.jar")')
    run(root, "CREATE USER 'fu' IDENTIFIED BY 'fu-pw'")
    run(root, "GRANT REPOSITORY ON SYSTEM TO USER 'fu'")
    run(root, "GRANT EXPORT ON ALL TABLES IN DATABASE fdb TO USER 'fu'")
    fu = login(emulator, "fu", "fu-pw")
    # the whole database carries its functions; tables alone need no USAGE
    assert error_of(fu, "BACKUP DATABASE fdb SNAPSHOT fn_all TO priv_repo") == denied(
        "DROP privilege(s) on FUNCTION f_one(INT)")
    run(fu, "BACKUP DATABASE fdb SNAPSHOT fn_tables TO priv_repo ON (TABLE t)")
    assert wait_job(fu, "BACKUP", "fdb")["State"] == "FINISHED"
    assert error_of(fu, "BACKUP DATABASE fdb SNAPSHOT fn_two TO priv_repo ON (FUNCTION f_two)") == denied(
        "DROP privilege(s) on FUNCTION f_two(STRING)")
    # USAGE on one function, then on every function of the database; global-function grants are other objects
    run(root, "GRANT USAGE ON FUNCTION fdb.f_one(INT) TO USER 'fu'")
    run(root, "GRANT USAGE ON ALL GLOBAL FUNCTIONS TO USER 'fu'")
    run(fu, "BACKUP DATABASE fdb SNAPSHOT fn_one TO priv_repo ON (FUNCTION f_one)")
    assert wait_job(fu, "BACKUP", "fdb")["State"] == "FINISHED"
    assert error_of(fu, "BACKUP DATABASE fdb SNAPSHOT fn_all TO priv_repo ON (ALL FUNCTIONS)") == denied(
        "DROP privilege(s) on FUNCTION f_two(STRING)")
    run(root, "GRANT USAGE ON ALL FUNCTIONS IN DATABASE fdb TO USER 'fu'")
    run(fu, "BACKUP DATABASE fdb SNAPSHOT fn_all TO priv_repo")
    assert wait_job(fu, "BACKUP", "fdb")["State"] == "FINISHED"
    run(root, "REVOKE USAGE ON ALL FUNCTIONS IN DATABASE fdb FROM USER 'fu'")
    assert error_of(fu, "BACKUP DATABASE fdb SNAPSHOT fn_again TO priv_repo")[0] == 5203


def test_external_catalog_jobs_need_usage_and_create_external_catalog(tmp_path_factory, s3_server, s3_client):
    """BACKUP of external catalogs: USAGE on each (the message names CREATE DATABASE on the catalog); their
    RESTORE: CREATE EXTERNAL CATALOG on SYSTEM. Its own emulator: ALL EXTERNAL CATALOGS sees every catalog."""
    server = start_emulator(tmp_path_factory, s3_server)
    try:
        s3_client.create_bucket(Bucket="priv-cat-bkt")
        root = server.connect().cursor()
        run(root, repo_sql("cat_repo", "priv-cat-bkt"))
        for name in ("hive_a", "hive_b"):
            run(root, f"CREATE EXTERNAL CATALOG {name} PROPERTIES ('type' = 'hive', "
                      "'hive.metastore.uris' = 'thrift://metastore:9083')")
        run(root, "CREATE USER 'cu' IDENTIFIED BY 'cu-pw'")
        run(root, "GRANT REPOSITORY ON SYSTEM TO USER 'cu'")
        cu = login(server, "cu", "cu-pw")
        assert error_of(cu, "BACKUP EXTERNAL CATALOG (hive_a) SNAPSHOT cat_a TO cat_repo") == denied(
            "CREATE DATABASE privilege(s) on CATALOG hive_a")
        run(root, "GRANT USAGE ON CATALOG hive_a TO USER 'cu'")
        run(cu, "BACKUP EXTERNAL CATALOG (hive_a) SNAPSHOT cat_a TO cat_repo")
        assert wait_job(cu, "BACKUP", "")["State"] == "FINISHED"
        assert error_of(cu, "BACKUP ALL EXTERNAL CATALOGS SNAPSHOT cat_all TO cat_repo") == denied(
            "CREATE DATABASE privilege(s) on CATALOG hive_b")
        run(root, "GRANT USAGE ON ALL CATALOGS TO USER 'cu'")
        run(cu, "BACKUP ALL EXTERNAL CATALOGS SNAPSHOT cat_all TO cat_repo")
        assert wait_job(cu, "BACKUP", "")["State"] == "FINISHED"

        stamp = as_dicts(cu, "SHOW SNAPSHOT ON cat_repo WHERE SNAPSHOT = 'cat_a'")[0]["Timestamp"]
        restore = (f"RESTORE SNAPSHOT cat_a FROM cat_repo EXTERNAL CATALOG (hive_a AS hive_c) "
                   f"PROPERTIES ('backup_timestamp' = '{stamp}')")
        assert error_of(cu, restore) == denied("CREATE EXTERNAL CATALOG privilege(s) on SYSTEM")
        run(root, "GRANT CREATE EXTERNAL CATALOG ON SYSTEM TO USER 'cu'")
        run(cu, restore)
        assert wait_job(cu, "RESTORE", "")["State"] == "FINISHED"
        assert "hive_c" in [r[0] for r in run(root, "SHOW CATALOGS")]
    finally:
        server.stop()


def test_statements_beyond_backup_and_what_information_schema_shows(emulator, setup):
    """What the shipped DAGs' other statements check (AuthorizerStmtVisitor, ColumnPrivilege.check, 3.5), and
    information_schema / SHOW FUNCTIONS rows left out rather than refused."""
    root = setup
    run(root, "CREATE DATABASE IF NOT EXISTS qdb")
    run(root, "CREATE TABLE qdb.a (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(root, "CREATE TABLE qdb.b (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(root, "CREATE MATERIALIZED VIEW qdb.mv REFRESH ASYNC AS SELECT k, count(*) AS n FROM qdb.a GROUP BY k")
    run(root, "CREATE FUNCTION qdb.f_q(INT) RETURNS INT PROPERTIES (\"symbol\" = \"x\", \"type\" = \"StarrocksJar\", "
              "\"file\" = \"http://h/f.jar\")")
    run(root, "CREATE USER 'ro' IDENTIFIED BY 'ro-pw'")
    run(root, "GRANT SELECT ON TABLE qdb.a TO USER 'ro'")
    ro = login(emulator, "ro", "ro-pw")
    assert run(ro, "SELECT count(*) FROM qdb.a") == [(0,)]
    assert error_of(ro, "SELECT count(*) FROM qdb.b") == denied("SELECT privilege(s) on TABLE b")
    assert error_of(ro, "SELECT * FROM qdb.mv") == denied("SELECT privilege(s) on MATERIALIZED VIEW mv")
    tables = "SELECT TABLE_NAME FROM information_schema.tables WHERE TABLE_SCHEMA = 'qdb' ORDER BY TABLE_NAME"
    assert run(ro, tables) == [("a",)]  # b and mv are left out, not refused
    assert run(ro, "SELECT DISTINCT TABLE_NAME FROM information_schema.partitions_meta WHERE DB_NAME = 'qdb'") == \
        [("a",)]
    schemata = {r[0] for r in run(ro, "SELECT SCHEMA_NAME FROM information_schema.schemata")}
    assert "qdb" in schemata and "pdb" not in schemata
    assert {r[0] for r in run(ro, "SHOW DATABASES")} == schemata
    assert run(ro, "SHOW FULL FUNCTIONS FROM qdb") == []
    assert error_of(ro, "ALTER TABLE qdb.a SWAP WITH b") == denied("ALTER privilege(s) on TABLE a")
    assert error_of(ro, "ALTER MATERIALIZED VIEW qdb.mv ACTIVE") == \
        denied("ALTER privilege(s) on MATERIALIZED VIEW mv")
    assert error_of(ro, "DROP TABLE qdb.a") == denied("DROP privilege(s) on TABLE a")
    assert run(ro, "DROP TABLE IF EXISTS qdb.absent") == []
    assert error_of(ro, "DROP DATABASE qdb") == denied("DROP privilege(s) on DATABASE qdb")
    assert error_of(ro, "CREATE DATABASE IF NOT EXISTS qdb") == \
        denied("CREATE DATABASE privilege(s) on CATALOG default_catalog")
    assert error_of(ro, "SHOW BACKENDS") == denied("OPERATE OR NODE privilege(s) on SYSTEM")

    run(root, "GRANT ALTER ON TABLE qdb.a TO USER 'ro'")
    run(root, "GRANT ALTER ON ALL MATERIALIZED VIEWS IN DATABASE qdb TO USER 'ro'")
    run(root, "GRANT USAGE ON ALL FUNCTIONS IN DATABASE qdb TO USER 'ro'")
    assert run(ro, tables) == [("a",), ("mv",)]  # the MV shown now
    assert [r[0] for r in run(ro, "SHOW FULL FUNCTIONS FROM qdb")] == ["f_q(INT)"]
    assert run(ro, "ALTER MATERIALIZED VIEW qdb.mv ACTIVE") == []
    assert run(ro, "ALTER TABLE qdb.a SWAP WITH b") == []  # only the table named first is checked


def test_a_grant_on_the_tables_shows_no_view_nor_mv_to_information_schema(emulator, setup):
    """information_schema filters a view's / MV's rows by a privilege on that VIEW / MATERIALIZED VIEW object, not
    on the TABLE object (Authorizer.doCheckTableLikeObject: checkAnyActionOnView / checkAnyActionOnMaterializedView
    by the object's type, 3.5 e223275f78 and 4.0 312b0d9e); any privilege does, and "ALL ... IN DATABASE db" covers
    those created after the grant (TablePEntryObject.match compares the database and "all tables")."""
    root = setup
    run(root, "CREATE DATABASE IF NOT EXISTS vdb")
    run(root, "CREATE TABLE vdb.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(root, "CREATE VIEW vdb.v AS SELECT k FROM vdb.t")
    run(root, "CREATE MATERIALIZED VIEW vdb.mv REFRESH ASYNC AS SELECT k, count(*) AS n FROM vdb.t GROUP BY k")
    run(root, "CREATE USER 'census' IDENTIFIED BY 'census-pw'")
    run(root, "GRANT REPOSITORY ON SYSTEM TO USER 'census'")
    run(root, "GRANT EXPORT ON ALL TABLES IN DATABASE vdb TO USER 'census'")
    census = login(emulator, "census", "census-pw")
    tables = "SELECT TABLE_NAME FROM information_schema.tables WHERE TABLE_SCHEMA = 'vdb' ORDER BY TABLE_NAME"
    views = "SELECT TABLE_NAME FROM information_schema.views WHERE TABLE_SCHEMA = 'vdb'"
    mvs = "SELECT TABLE_NAME FROM information_schema.materialized_views WHERE TABLE_SCHEMA = 'vdb'"
    assert run(census, tables) == [("t",)]
    assert run(census, views) == run(census, mvs) == []
    run(root, "GRANT SELECT ON ALL VIEWS IN DATABASE vdb TO USER 'census'")
    run(root, "GRANT SELECT ON ALL MATERIALIZED VIEWS IN DATABASE vdb TO USER 'census'")
    run(root, "CREATE VIEW vdb.v_later AS SELECT k FROM vdb.t")
    assert run(census, tables) == [("mv",), ("t",), ("v",), ("v_later",)]
    assert sorted(run(census, views)) == [("v",), ("v_later",)] and run(census, mvs) == [("mv",)]
    run(root, "REVOKE SELECT ON ALL VIEWS IN DATABASE vdb FROM USER 'census'")
    run(root, "GRANT DROP ON VIEW vdb.v TO USER 'census'")  # any privilege on the one view shows it, only it
    assert run(census, views) == [("v",)]
