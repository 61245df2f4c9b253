"""engine/grants.py: SHOW GRANTS rows read, coverage, the missing-grant sentence, and docs/security.md's table
rendered from DAG_GRANTS (the one list the least-privilege DAG tests also grant from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.grants import (
    CHECKED,
    NOT_CHECKED,
    Grant,
    MissingPrivilegeError,
    activation_needs,
    backup_needs,
    covers,
    grants_for,
    judge,
    missing,
    missing_sentence,
    parse_show_grants,
    render_markdown,
    restore_needs,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"

# SHOW GRANTS rows as StarRocks 3.5 prints them (UserIdentity, Catalog, Grants): the statements are
# AstToStringBuilder.visitGrantRevokePrivilegeStatement / visitGrantRevokeRoleStatement, the "ALL ... IN ..."
# objects TablePEntryObject.toStringImpl (e223275f78).
ROWS = [
    ("'bk'@'%'", None, "GRANT 'backup_role', 'public' TO USER 'bk'@'%'"),
    ("'bk'@'%'", "default_catalog", "GRANT REPOSITORY ON SYSTEM TO USER 'bk'@'%'"),
    ("'bk'@'%'", "default_catalog", "GRANT INSERT, EXPORT ON ALL TABLES IN DATABASE shop TO USER 'bk'@'%'"),
    ("'bk'@'%'", "default_catalog", "GRANT SELECT ON TABLE crm.customers, crm.leads TO USER 'bk'@'%'"),
    ("'bk'@'%'", "default_catalog", "GRANT CREATE DATABASE ON CATALOG default_catalog TO USER 'bk'@'%'"),
    ("'bk'@'%'", "default_catalog", "GRANT ALTER ON ALL MATERIALIZED VIEWS IN ALL DATABASES TO USER 'bk'@'%'"),
    ("'bk'@'%'", "default_catalog", "GRANT SELECT ON ALL VIEWS IN DATABASE shop TO USER 'bk'@'%'"),
    ("'bk'@'%'", "hive_c", "GRANT USAGE ON CATALOG hive_c TO USER 'bk'@'%'"),
]


def test_show_grants_rows_are_read_into_grants_and_roles():
    held = parse_show_grants(ROWS)
    assert held.roles == ["backup_role", "public"]
    assert set(held.grants) == {
        Grant("REPOSITORY", "SYSTEM"), Grant("INSERT", "TABLE", "shop", "*"), Grant("EXPORT", "TABLE", "shop", "*"),
        Grant("SELECT", "TABLE", "crm", "customers"), Grant("SELECT", "TABLE", "crm", "leads"),
        Grant("CREATE DATABASE", "CATALOG", "", "default_catalog"),
        Grant("ALTER", "MATERIALIZED VIEW", "*", "*"),
        Grant("SELECT", "VIEW", "shop", "*")}  # the external catalog's row is not the internal one's
    assert held.unread == []
    odd = parse_show_grants([("'bk'@'%'", "default_catalog", "GRANT USAGE ON RESOURCE GROUP rg TO USER 'bk'@'%'")])
    assert odd.grants == [] and len(odd.unread) == 1


def test_coverage_follows_the_object_hierarchy():
    table = Grant("EXPORT", "TABLE", "shop", "orders")
    assert covers(Grant("EXPORT", "TABLE", "shop", "*"), table)
    assert covers(Grant("EXPORT", "TABLE", "*", "*"), table)
    assert covers(Grant("ALL", "TABLE", "shop", "orders"), table)
    assert not covers(Grant("SELECT", "TABLE", "shop", "*"), table)
    assert not covers(Grant("EXPORT", "TABLE", "crm", "*"), table)
    assert not covers(Grant("EXPORT", "TABLE", "shop", "orders"), Grant("EXPORT", "TABLE", "shop", "*"))
    assert not covers(Grant("EXPORT", "TABLE", "shop", "*"), Grant("EXPORT", "TABLE", "*", "*"))
    assert covers(Grant("CREATE TABLE", "DATABASE", "", "*"), Grant("CREATE TABLE", "DATABASE", "", "shop"))
    held = parse_show_grants(ROWS).grants
    assert missing(held, backup_needs("shop")) == []
    assert missing(held, backup_needs("crm", ["customers"])) == [Grant("EXPORT", "TABLE", "crm", "customers")]
    assert missing(held, restore_needs("shop", ["orders"])) == [Grant("CREATE TABLE", "DATABASE", "", "shop")]
    assert missing(held, restore_needs("new_db", has_on=False)) == []
    created = missing(held, restore_needs("new_db", database_exists=False))  # only "all databases" can cover it
    assert created == [Grant("CREATE TABLE", "DATABASE", "", "*")]
    assert missing_sentence("bk", created) == ("StarRocks user 'bk' lacks CREATE TABLE on all databases — "
                                               "GRANT CREATE TABLE ON ALL DATABASES TO USER 'bk'@'%'")


def test_restored_mvs_need_alter_on_a_grant_that_can_exist():
    """An MV the user sees can be granted by name; one it cannot see yet only by ALL in its database, or in all
    databases when the database is created by the restore (TablePEntryObject.generate needs the object)."""
    assert activation_needs("shop", ["mv_a", "mv_b"], ["mv_a"]) == [
        Grant("ALTER", "MATERIALIZED VIEW", "shop", "mv_a"), Grant("ALTER", "MATERIALIZED VIEW", "shop", "*")]
    assert activation_needs("new_db", ["mv_a", "mv_b"], database_exists=False) == [
        Grant("ALTER", "MATERIALIZED VIEW", "*", "*")]
    assert activation_needs("shop", []) == []
    held = parse_show_grants([("'bk'@'%'", "default_catalog", "GRANT ALTER ON MATERIALIZED VIEW shop.mv_a TO USER "
                                                               "'bk'@'%'")]).grants
    lacking = missing(held, activation_needs("shop", ["mv_a", "mv_b"], ["mv_a"]))
    assert missing_sentence("bk", lacking) == ("StarRocks user 'bk' lacks ALTER on materialized view shop.* — GRANT "
                                               "ALTER ON ALL MATERIALIZED VIEWS IN DATABASE shop TO USER 'bk'@'%'")
    assert missing(parse_show_grants(ROWS).grants, activation_needs("new_db", ["mv"], database_exists=False)) == []


def test_the_sentence_names_what_is_lacking_and_the_grant_to_add():
    lacking = missing([Grant("REPOSITORY", "SYSTEM")], backup_needs("shop"))
    assert missing_sentence("bk", lacking, "sr_source") == (
        "StarRocks user 'bk' on sr_source lacks EXPORT on shop.*, any privilege on view shop.*, any privilege on "
        "materialized view shop.* — GRANT EXPORT ON ALL TABLES IN DATABASE shop TO USER 'bk'@'%'; "
        "GRANT SELECT ON ALL VIEWS IN DATABASE shop TO USER 'bk'@'%'; "
        "GRANT SELECT ON ALL MATERIALIZED VIEWS IN DATABASE shop TO USER 'bk'@'%'")


def test_a_backup_needs_its_views_and_mvs_shown_to_the_census():
    """EXPORT on the tables covers BACKUP of views and MVs, but information_schema shows a view or an MV only to a
    user holding some privilege on that VIEW / MATERIALIZED VIEW object (Authorizer.doCheckTableLikeObject, 3.5
    e223275f78 / 4.0 312b0d9e): any privilege on them does, a table-level one does not."""
    exporting = [Grant("REPOSITORY", "SYSTEM"), Grant("EXPORT", "TABLE", "*", "*")]
    assert missing(exporting, backup_needs("shop")) == [Grant("SELECT", "VIEW", "shop", "*"),
                                                        Grant("SELECT", "MATERIALIZED VIEW", "shop", "*")]
    for held in ("ALTER", "DROP", "REFRESH", "SELECT", "ALL"):  # any privilege on them, all of them in the database
        assert missing([*exporting, Grant(held, "VIEW", "*", "*"), Grant(held, "MATERIALIZED VIEW", "shop", "*")],
                       backup_needs("shop")) == []
    one_each = [Grant("SELECT", "VIEW", "shop", "v"), Grant("SELECT", "MATERIALIZED VIEW", "shop", "mv")]
    assert len(missing([*exporting, *one_each], backup_needs("shop"))) == 2  # the ones created later unseen
    assert missing(exporting, backup_needs("shop", ["t"])) == []  # a backup naming tables only: none to see
    named = backup_needs("shop", ["t", "v", "mv"], views=["v"], materialized_views=["mv"])
    assert missing([*exporting, *one_each], named) == []
    assert missing(exporting, named) == one_each


def test_names_in_grant_statements_are_quoted_not_pasted():
    grant = Grant("EXPORT", "TABLE", "sh`op; DROP DATABASE x", "*")
    assert grant.statement("o'brien") == (
        "GRANT EXPORT ON ALL TABLES IN DATABASE `sh``op; DROP DATABASE x` TO USER 'o\\'brien'@'%'")
    with pytest.raises(InvalidArgumentError, match="database must not be empty"):
        Grant("EXPORT", "TABLE", " ", "*").statement("bk")


def test_every_dag_has_grants_and_docs_list_exactly_them():
    for dag in ("sr_full_backup", "sr_incremental_backup", "sr_restore", "sr_restore_drill"):
        assert Grant("REPOSITORY", "SYSTEM") in grants_for(dag, "db")
    assert grants_for("sr_retention", "db") == []  # tested with a user holding nothing
    assert {"source", "target"} == {c for c in ("source", "target") if grants_for("sr_migration", "db", c)}
    assert render_markdown() in DOCS.read_text(), "docs/security.md's grants table: paste render_markdown()"


def test_judging_raises_only_when_sure():
    own = parse_show_grants(ROWS)
    role = parse_show_grants([("backup_role", None,
                               "GRANT EXPORT ON ALL TABLES IN DATABASE crm TO ROLE 'backup_role'; "
                               "GRANT SELECT ON ALL VIEWS IN DATABASE crm TO ROLE 'backup_role'")])
    assert judge("bk", backup_needs("crm"), own, {"backup_role": role}) == CHECKED  # through the role
    with pytest.raises(MissingPrivilegeError, match=r"^StarRocks user 'bk' on src lacks EXPORT on crm\.\*, any "
                                                    r"privilege on view crm\.\* — GRANT EXPORT ON ALL TABLES IN "
                                                    r"DATABASE crm TO USER 'bk'@'%'; GRANT SELECT ON ALL VIEWS IN "
                                                    r"DATABASE crm TO USER 'bk'@'%'\.$"):
        judge("bk", backup_needs("crm"), own, {}, "src")
    odd = parse_show_grants([("r", None, "GRANT USAGE ON RESOURCE GROUP rg TO ROLE 'r'")])
    assert judge("bk", backup_needs("crm"), own, {"r": odd}) == NOT_CHECKED  # it might hold it there: no verdict
    admin = parse_show_grants([("'a'@'%'", None, "GRANT 'db_admin' TO USER 'a'@'%'")])
    assert judge("a", backup_needs("crm"), admin, {}) == CHECKED
    assert judge("root", backup_needs("crm"), parse_show_grants([]), {}) == CHECKED
