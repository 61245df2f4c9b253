"""engine/access*.py: SHOW outputs to records, records to quoted SQL and back through the export file, and what a
replay applies per mode and scope. Sample rows are StarRocks' own (RBACExecutorTest, PrivilegeStmtAnalyzerV2Test at
3.5 e223275f78; ResourceGroup.showClassifier's columns)."""

from __future__ import annotations

import pytest

from sr_airflow.engine.access import (
    AccessExport,
    Grantee,
    GrantObject,
    PrivilegeGrant,
    ResourceGroup,
    Role,
    RoleGrant,
    Unreplayable,
    parse_show_grants,
    parse_show_resource_groups,
    parse_show_roles,
    parse_show_users,
)
from sr_airflow.engine.access_plan import TargetAccess, check_mode, select_records
from sr_airflow.engine.access_sql import export_text, read_export_text, render_record
from sr_airflow.engine.errors import InvalidArgumentError


def test_show_grants_rows_of_a_role_and_a_user():
    rows = [("r0", None, "GRANT 'r1', 'r2' TO  ROLE r0"),
            ("r0", "default_catalog", "GRANT SELECT ON TABLE db.tbl0 TO ROLE 'r0'"),
            ("r0", "default_catalog", "GRANT USAGE, CREATE DATABASE, DROP, ALTER ON CATALOG default_catalog TO ROLE "
                                      "'r0'"),
            ("r0", "default_catalog", "GRANT SELECT ON ALL TABLES IN DATABASE test TO ROLE 'r0' WITH GRANT OPTION"),
            ("r0", "default_catalog", "GRANT USAGE ON FUNCTION my_udf(INT) in DATABASE db TO ROLE 'r0'")]
    records = parse_show_grants(Grantee("r0"), rows, ["r1", "r2"])
    assert records == [
        RoleGrant(Grantee("r0"), ("r1", "r2")),
        PrivilegeGrant(Grantee("r0"), ("SELECT",), GrantObject("TABLE", "db", "tbl0")),
        PrivilegeGrant(Grantee("r0"), ("USAGE", "CREATE DATABASE", "DROP", "ALTER"),
                       GrantObject("CATALOG", None, "default_catalog")),
        PrivilegeGrant(Grantee("r0"), ("SELECT",), GrantObject("TABLE", "test", "*"), grant_option=True),
        Unreplayable(Grantee("r0"), rows[4][2])]
    user = Grantee("test_user", "%")
    assert parse_show_grants(user, [("'test_user'@'%'", None, "GRANT 'r1' TO 'test_user'@'%'"),
                                    ("'test_user'@'%'", "default_catalog",
                                     "GRANT CREATE RESOURCE ON SYSTEM TO USER 'test_user'@'%'")], ["r1"]) == [
        RoleGrant(user, ("r1",)), PrivilegeGrant(user, ("CREATE RESOURCE",), GrantObject("SYSTEM"))]


def test_role_memberships_of_a_role_as_4_0_prints_them():
    """4.0 (312b0d9e46, RBACExecutorTest): `GRANT 'r1', 'r2' TO ROLE r0`, one space."""
    assert parse_show_grants(Grantee("r0"), [("r0", None, "GRANT 'r1', 'r2' TO ROLE r0")], ["r1", "r2"]) == [
        RoleGrant(Grantee("r0"), ("r1", "r2"))]


def test_role_list_split_by_the_known_roles():
    """StarRocks prints role names unquoted inside quotes: a name holding "', '" is split by the known roles."""
    hostile = "a', 'b"
    records = parse_show_grants(Grantee("r0"), [("r0", None, f"GRANT '{hostile}', 'c' TO  ROLE r0")], [hostile, "c"])
    assert records == [RoleGrant(Grantee("r0"), (hostile, "c"))]


def test_users_and_roles_leave_builtins_out():
    assert parse_show_users([("'root'@'%'",), ("'u1'@'%'",), ("'u2'@'10.0.0.%'",)]) == [
        Grantee("u1", "%"), Grantee("u2", "10.0.0.%")]
    assert parse_show_roles([("root", "true", "built-in root role which has all privileges on all objects"),
                             ("test_role", "false", "yi shan yi shan, liang jing jing"), ("r", "false", "NULL")]) == [
        Role("test_role", "yi shan yi shan, liang jing jing"), Role("r")]


def test_resource_groups_from_both_layouts():
    titles = ["name", "id", "cpu_weight", "exclusive_cpu_cores", "mem_limit", "big_query_cpu_second_limit",
              "big_query_scan_rows_limit", "big_query_mem_limit", "concurrency_limit", "spill_mem_limit_threshold",
              "classifiers"]
    rows = [("default_wg", "2", "2", "0", "100.0%", "0", "0", "0", "null", "100%", "(id=0, weight=0.0)"),
            ("rg1", "10005", "2", "0", "20.0%", "0", "0", "0", "11", "100%",
             "(id=10006, weight=3.05, user=u1, role=r1, query_type in (INSERT, SELECT))"),
            ("rg1", "10005", "2", "0", "20.0%", "0", "0", "0", "11", "100%", "(id=10007, weight=10.0, db='d1')")]
    [group] = parse_show_resource_groups(titles, rows)
    assert group.properties == {"cpu_weight": "2", "mem_limit": "20.0%", "concurrency_limit": "11"}
    assert [(c.user, c.role, c.query_types, c.databases) for c in group.classifiers] == [
        ("u1", "r1", ("INSERT", "SELECT"), ()), (None, None, (), ("d1",))]
    assert render_record(group) == (
        'CREATE RESOURCE GROUP IF NOT EXISTS `rg1` TO (user = "u1", role = "r1", query_type in ("insert", "select")), '
        '(db = "d1") WITH ("cpu_weight" = "2", "mem_limit" = "20.0%", "concurrency_limit" = "11")')
    titles_33 = ["name", "id", "cpu_core_limit", "mem_limit", "max_cpu_cores", "big_query_cpu_second_limit",
                 "big_query_scan_rows_limit", "big_query_mem_limit", "concurrency_limit", "spill_mem_limit_threshold",
                 "type", "classifiers"]
    [old] = parse_show_resource_groups(titles_33, [("rg", "7", "4", "50.0%", "null", "0", "0", "0", "null", "100%",
                                                    "SHORT_QUERY", "(id=8, weight=1.0, user=etl)")])
    assert old.properties == {"cpu_core_limit": "4", "mem_limit": "50.0%", "type": "short_query"}


def _export() -> AccessExport:
    evil_role = "r`; DROP DATABASE prod; --"
    evil_user = "o'brien\"x"
    return AccessExport(
        users=(Grantee(evil_user, "%"), Grantee("analyst", "%")),
        roles=(Role(evil_role, "it's\nmine"), Role("reader")),
        role_grants=(RoleGrant(Grantee(evil_user, "%"), (evil_role,)), RoleGrant(Grantee("reader"), (evil_role,))),
        privilege_grants=(
            PrivilegeGrant(Grantee(evil_role), ("SELECT", "INSERT"), GrantObject("TABLE", "sales", "orders")),
            PrivilegeGrant(Grantee("reader"), ("SELECT",), GrantObject("TABLE", "other", "*")),
            PrivilegeGrant(Grantee("reader"), ("SELECT",), GrantObject("TABLE", "*", "*")),
            PrivilegeGrant(Grantee("reader"), ("REPOSITORY",), GrantObject("SYSTEM")),
            PrivilegeGrant(Grantee("analyst", "%"), ("ALTER",), GrantObject("DATABASE", "sales"))),
        resource_groups=(ResourceGroup("rg", {"cpu_weight": "1", "mem_limit": "10.0%"}),),
        unreplayable=(Unreplayable(Grantee("reader"), "GRANT USAGE ON f(INT) in DATABASE x TO ROLE 'reader'"),))


def test_hostile_names_stay_quoted_and_the_file_round_trips():
    export = _export()
    text = export_text(export)
    assert "CREATE ROLE IF NOT EXISTS `r``; DROP DATABASE prod; --` COMMENT \"it's\\nmine\";" in text
    assert 'GRANT SELECT, INSERT ON TABLE `sales`.`orders` TO ROLE `r``; DROP DATABASE prod; --`;' in text
    assert "GRANT `r``; DROP DATABASE prod; --` TO USER \"o'brien\\\"x\"@\"%\";" in text
    # users are listed as needing a password; their CREATE is commented out (no password-less user by hand)
    assert '--   "\'o\'brien\\"x\'@\'%\'"' in text
    assert '-- CREATE USER IF NOT EXISTS "analyst"@"%";' in text
    assert "IDENTIFIED" not in text
    assert not [line for line in text.splitlines() if line.startswith("CREATE USER")]
    assert read_export_text(text) == export


def test_modes_and_one_database_scope():
    export = _export()
    everything, skipped = select_records(export, "all")
    assert len(everything) == 2 + 2 + 2 + 5 + 1 and skipped == []
    roles_only, _ = select_records(export, "roles")
    assert not [r for r in roles_only if isinstance(r, Grantee)]
    assert not [r for r in roles_only if isinstance(r, (RoleGrant, PrivilegeGrant)) and not r.grantee.is_role]
    scoped, skipped = select_records(export, "all", {"sales": "sales_restored"})
    grants = [r for r in scoped if isinstance(r, PrivilegeGrant)]
    assert [g.on for g in grants] == [GrantObject("TABLE", "sales_restored", "orders"), GrantObject("SYSTEM"),
                                      GrantObject("DATABASE", "sales_restored")]
    assert [s.reason for s in skipped] == ["on database other, outside this replay's scope",
                                           "on every database; this replay's scope is sales"]
    assert select_records(export, "none") == ([], [])
    with pytest.raises(InvalidArgumentError, match="apply_access must be one of none, roles, all"):
        check_mode("users")


def test_target_state_says_what_is_held():
    state = TargetAccess({("analyst", "%")}, {"reader"}, {"rg"}, {}, {})
    state.add_grants(Grantee("reader"), [("reader", "default_catalog", "GRANT SELECT ON TABLE sales.orders TO ROLE "
                                                                       "'reader'")])
    assert state.holds(PrivilegeGrant(Grantee("reader"), ("SELECT",), GrantObject("TABLE", "sales", "orders")))
    assert not state.holds(PrivilegeGrant(Grantee("reader"), ("SELECT", "INSERT"),
                                          GrantObject("TABLE", "sales", "orders")))
    assert state.holds(Grantee("analyst", "%")) and not state.holds(Grantee("analyst", "10.%"))
    assert state.holds(Role("reader")) and not state.holds(Role("writer"))
