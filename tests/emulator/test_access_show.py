"""SHOW USERS / ROLES / GRANTS and resource groups, against the rows StarRocks' own tests assert.

Golden texts: `fe/fe-core/src/test/java/com/starrocks/qe/RBACExecutorTest.java` (testShowGrants, testShowRoles,
testShowUsers) and `sql/analyzer/PrivilegeStmtAnalyzerV2Test.java` (the GRANT texts `AstToSQLBuilder` prints), at
3.5 e223275f78; resource-group rows from `ResourceGroup.COLUMN_METAS` and `ResourceGroupClassifier.toString`.
"""

from __future__ import annotations

import pymysql
import pytest

from tests.support.emulator_client import error_of, run, start_server


@pytest.fixture(scope="module")
def rbac(emulator):
    """RBACExecutorTest's objects: users u1, roles r0 r1 r2 (names made unique for the shared emulator)."""
    cur = emulator.connect().cursor()
    run(cur, "CREATE DATABASE acc_db")
    run(cur, "CREATE TABLE acc_db.tbl0 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cur, "CREATE TABLE acc_db.tbl1 (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cur, "CREATE USER acc_u1")
    for role in ("acc_r0", "acc_r1", "acc_r2"):
        run(cur, f"CREATE ROLE {role}")
    return cur


def test_show_grants_golden_rows(rbac):
    cur = rbac
    run(cur, "grant all on CATALOG default_catalog to acc_u1")
    assert run(cur, "SHOW GRANTS FOR 'acc_u1'@'%'") == [
        ("'acc_u1'@'%'", "default_catalog",
         "GRANT USAGE, CREATE DATABASE, DROP, ALTER ON CATALOG default_catalog TO USER 'acc_u1'@'%'")]
    run(cur, "grant all on CATALOG default_catalog to role acc_r1")
    assert run(cur, "SHOW GRANTS FOR ROLE acc_r1") == [
        ("acc_r1", "default_catalog",
         "GRANT USAGE, CREATE DATABASE, DROP, ALTER ON CATALOG default_catalog TO ROLE 'acc_r1'")]
    run(cur, "grant acc_r1 to role acc_r0")
    run(cur, "grant acc_r2 to role acc_r0")
    run(cur, "grant SELECT on TABLE acc_db.tbl0 to role acc_r0")
    # the emulator's default line is 4.0: RBACExecutorTest at 312b0d9e46 asserts "TO ROLE r0" (one space)
    assert run(cur, "SHOW GRANTS FOR ROLE acc_r0") == [
        ("acc_r0", None, "GRANT 'acc_r1', 'acc_r2' TO ROLE acc_r0"),
        ("acc_r0", "default_catalog", "GRANT SELECT ON TABLE acc_db.tbl0 TO ROLE 'acc_r0'")]


def test_a_3_3_frontend(tmp_path_factory, s3_server):
    """RBACExecutorTest.testShowGrants at 3.3 (and 3.4, 3.5): `GRANT 'r1', 'r2' TO  ROLE r0` (two spaces); 3.3's
    resource-group columns (ResourceGroup.showClassifier at 1a2f1f5d75) and no builtin group (3.4 added them)."""
    server = start_server(tmp_path_factory, s3_server, version="3.3.9")
    try:
        cur = server.connect().cursor()
        for role in ("r0", "r1", "r2"):
            run(cur, f"CREATE ROLE {role}")
        run(cur, "grant r1 to role r0")
        run(cur, "grant r2 to role r0")
        assert run(cur, "SHOW GRANTS FOR ROLE r0") == [("r0", None, "GRANT 'r1', 'r2' TO  ROLE r0")]
        assert run(cur, "SHOW RESOURCE GROUPS ALL") == []
        assert "security_admin" not in [r[0] for r in run(cur, "SHOW ROLES")]
        run(cur, "CREATE RESOURCE GROUP rg TO (user='u') WITH ('cpu_core_limit' = '2', 'mem_limit' = '0.5')")
        cur.execute("SHOW RESOURCE GROUPS ALL")
        assert [d[0] for d in cur.description] == [
            "name", "id", "cpu_core_limit", "mem_limit", "max_cpu_cores", "big_query_cpu_second_limit",
            "big_query_scan_rows_limit", "big_query_mem_limit", "concurrency_limit", "spill_mem_limit_threshold",
            "type", "classifiers"]
        [row] = cur.fetchall()
        assert row[2:11] == ("2", "50.0%", "null", "0", "0", "0", "null", "100%", "NORMAL")
        assert row[11] == f"(id={int(row[1]) + 1}, weight=1.0, user=u)"
    finally:
        server.stop()


def test_grant_texts_merge_privileges_and_name_fuzzy_objects(rbac):
    cur = rbac
    run(cur, "CREATE ROLE acc_merge")
    run(cur, "GRANT INSERT ON TABLE acc_db.tbl1 TO ROLE acc_merge")
    run(cur, "GRANT SELECT ON TABLE acc_db.tbl1 TO ROLE acc_merge")
    run(cur, "GRANT SELECT ON ALL TABLES IN DATABASE acc_db TO ROLE acc_merge")
    run(cur, "GRANT ALTER ON DATABASE acc_db TO ROLE acc_merge")
    run(cur, "GRANT CREATE RESOURCE GROUP ON SYSTEM TO ROLE acc_merge")
    texts = [row[2] for row in run(cur, "SHOW GRANTS FOR ROLE acc_merge")]
    # PrivilegeStmtAnalyzerV2Test: "GRANT SELECT, INSERT ON TABLE test.t0 TO ROLE 'public'" (typeToActionList order),
    # "GRANT SELECT ON ALL TABLES IN DATABASE test ...", "GRANT ALTER ON DATABASE test ...".
    assert sorted(texts) == sorted([
        "GRANT SELECT ON ALL TABLES IN DATABASE acc_db TO ROLE 'acc_merge'",
        "GRANT INSERT, SELECT ON TABLE acc_db.tbl1 TO ROLE 'acc_merge'",
        "GRANT ALTER ON DATABASE acc_db TO ROLE 'acc_merge'",
        "GRANT CREATE RESOURCE GROUP ON SYSTEM TO ROLE 'acc_merge'"])
    # a grant on a table that no longer exists is not shown (MetaNotFoundException ignored)
    run(cur, "CREATE TABLE acc_db.gone (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    run(cur, "GRANT SELECT ON TABLE acc_db.gone TO ROLE acc_merge")
    run(cur, "DROP TABLE acc_db.gone")
    assert not [t for t in (r[2] for r in run(cur, "SHOW GRANTS FOR ROLE acc_merge")) if "gone" in t]


def test_user_memberships_roles_and_users(rbac, emulator):
    cur = rbac
    run(cur, "CREATE ROLE acc_note COMMENT 'yi shan yi shan, liang jing jing'")
    run(cur, "CREATE USER acc_u2")
    run(cur, "GRANT acc_r1, acc_r2 TO USER acc_u2")
    assert run(cur, "SHOW GRANTS FOR acc_u2")[0] == ("'acc_u2'@'%'", None, "GRANT 'acc_r1', 'acc_r2' TO 'acc_u2'@'%'")
    roles = run(cur, "SHOW ROLES")
    assert ("root", "true", "built-in root role which has all privileges on all objects") in roles
    assert ("db_admin", "true", "built-in database administration role") in roles
    assert ("security_admin", "true", "built-in security administration role") in roles  # 4.0, the default line
    assert ("acc_note", "false", "yi shan yi shan, liang jing jing") in roles
    assert ("acc_r0", "false", "NULL") in roles
    users = [row[0] for row in run(cur, "SHOW USERS")]
    assert {"'root'@'%'", "'acc_u1'@'%'", "'acc_u2'@'%'"} <= set(users)
    # SHOW USERS, SHOW ROLES and another user's grants need GRANT on SYSTEM; one's own do not
    run(cur, "CREATE USER acc_plain IDENTIFIED BY 'pw'")
    plain = pymysql.connect(host=emulator.host, port=emulator.port, user="acc_plain", password="pw",
                            autocommit=True).cursor()
    for statement in ("SHOW USERS", "SHOW ROLES", "SHOW GRANTS FOR acc_u2"):
        assert error_of(plain, statement)[0] == 5203
    assert run(plain, "SHOW USER") == [("'acc_plain'@'%'",)]
    assert run(plain, "SHOW GRANTS") == []


def test_resource_groups(rbac):
    cur = rbac
    run(cur, "CREATE RESOURCE GROUP acc_rg TO (user='acc_u1', role='acc_r1', query_type in ('select', 'insert')), "
             "(db='acc_db') WITH ('cpu_weight' = '2', 'mem_limit' = '20%', 'concurrency_limit' = '11')")
    rows = [r for r in run(cur, "SHOW RESOURCE GROUPS ALL") if r[0] == "acc_rg"]
    assert len(rows) == 2  # one row per classifier
    first, second = rows
    assert first[2:10] == ("2", "0", "20.0%", "0", "0", "0", "11", "100%")
    group_id = int(first[1])
    # ResourceGroupClassifier.toString: weight = 1 (user) + 1 (role) + 1 + 0.1 / 2 (two query types)
    assert first[10] == f"(id={group_id + 1}, weight=3.05, user=acc_u1, role=acc_r1, query_type in (INSERT, SELECT))"
    assert second[10] == f"(id={group_id + 2}, weight=10.0, db='acc_db')"
    assert error_of(cur, "CREATE RESOURCE GROUP acc_rg TO (user='x') WITH ('cpu_weight'='1', 'mem_limit'='0.1')") \
        == (1064, "RESOURCE_GROUP(acc_rg) already exists")
    run(cur, "CREATE RESOURCE GROUP IF NOT EXISTS acc_rg TO (user='x') WITH ('cpu_weight'='1', 'mem_limit'='0.1')")
    assert error_of(cur, "CREATE RESOURCE GROUP acc_nomem TO (user='x') WITH ('cpu_weight'='1')")[1] == \
        "Getting analyzing error. Detail message: property 'mem_limit' is absent."
    names = [r[0] for r in run(cur, "SHOW RESOURCE GROUPS ALL")]
    assert names == sorted(names) and {"default_wg", "default_mv_wg", "acc_rg"} <= set(names)
    run(cur, "DROP RESOURCE GROUP acc_rg")
    assert "acc_rg" not in [r[0] for r in run(cur, "SHOW RESOURCE GROUPS ALL")]
    assert error_of(cur, "DROP RESOURCE GROUP acc_rg") == (1064, "RESOURCE_GROUP(acc_rg) does not exist")
