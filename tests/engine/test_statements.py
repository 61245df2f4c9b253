"""Statement rendering beyond the seed: validation as StarRocks' parser does it, legacy limits, SHOW forms."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import InvalidArgumentError, UnsupportedByServerError
from sr_airflow.engine.repository_spec import RepositorySpec
from sr_airflow.engine.scope import ExternalCatalogRef, ObjectKind, ObjectRef, Scope
from sr_airflow.engine.statements import (
    BackupRequest,
    RestoreRequest,
    Syntax,
    legacy_restore_scope,
    render_activate_materialized_view,
    render_backup,
    render_cancel_backup,
    render_cancel_restore,
    render_create_repository,
    render_drop_repository,
    render_restore,
    render_show_backup,
    render_show_repositories,
    render_show_restore,
    render_show_snapshot,
)
from sr_airflow.engine.version import ServerVersion

TS = "2024-12-09-10-25-58-842"


def test_backup_properties_are_rendered_and_validated():
    request = BackupRequest("l", "r", Scope("db"), timeout_s=3600, backup_type="full")
    assert render_backup(request).endswith('PROPERTIES ("timeout" = "3600", "type" = "FULL")')
    with pytest.raises(InvalidArgumentError, match="timeout must be at least 600 seconds"):
        render_backup(BackupRequest("l", "r", Scope("db"), timeout_s=599))
    with pytest.raises(InvalidArgumentError, match="timeout must be a whole number"):
        render_backup(BackupRequest("l", "r", Scope("db"), timeout_s="3600"))
    with pytest.raises(InvalidArgumentError, match="backup_type must be FULL or INCREMENTAL"):
        render_backup(BackupRequest("l", "r", Scope("db"), backup_type="DIFF"))


def test_restore_properties_are_rendered_in_order():
    request = RestoreRequest("l", "r", Scope("db"), TS, timeout_s=7200, allow_load=True, replication_num=1,
                             meta_version=10, starrocks_meta_version=3)
    assert render_restore(request).endswith(
        f'PROPERTIES ("backup_timestamp" = "{TS}", "timeout" = "7200", "allow_load" = "true", '
        '"replication_num" = "1", "meta_version" = "10", "starrocks_meta_version" = "3")'
    )


@pytest.mark.parametrize("kwargs, message", [
    ({"backup_timestamp": "2024-12-09 10:25:58"}, "not of the form yyyy-MM-dd-HH-mm-ss-SSS"),
    ({"replication_num": 0}, "replication_num must be an integer of at least 1"),
    ({"allow_load": "yes"}, "allow_load must be true or false"),
    ({"meta_version": "x"}, "meta_version must be an integer"),
])
def test_restore_property_errors_name_the_argument(kwargs, message):
    args = {"label": "l", "repository": "r", "scope": Scope("db"), "backup_timestamp": TS} | kwargs
    with pytest.raises(InvalidArgumentError, match=message):
        render_restore(RestoreRequest(**args))


@pytest.mark.parametrize("scope, message", [
    (Scope("db", objects=(ObjectRef.table("t", alias="t2"),)), "forbids aliases in BACKUP"),
    (Scope("db", target_database="x"), "forbids aliases in BACKUP"),
    (Scope(external_catalogs=(ExternalCatalogRef("c", "d"),)), "forbids aliases in BACKUP"),
    (Scope("db", external_catalogs=(ExternalCatalogRef("c"),)), "database cannot be given with external catalogs"),
    (Scope(objects=(ObjectRef.table("t"),), all_external_catalogs=True),
     "objects cannot be given with external catalogs"),
    (Scope(), "database is required for a backup"),
    (Scope("db", objects=(ObjectRef.table("t"),), all_of=(ObjectKind.TABLE,)), "also asks for ALL TABLES"),
    (Scope("db", objects=(ObjectRef.table("t"), ObjectRef.table("t"))), "twice"),
])
def test_backup_scope_errors(scope, message):
    with pytest.raises(InvalidArgumentError, match=message):
        render_backup(BackupRequest("l", "r", scope))


@pytest.mark.parametrize("scope, message", [
    (Scope(objects=(ObjectRef.table("t"),)), "forbids an ON clause in RESTORE without a database"),
    (Scope(target_database="x"), "target_database needs database"),
    (Scope("db", objects=(ObjectRef.table("a", alias="x"), ObjectRef.table("b", alias="x"))), "same alias twice"),
])
def test_restore_scope_errors(scope, message):
    with pytest.raises(InvalidArgumentError, match=message):
        render_restore(RestoreRequest("l", "r", scope, TS))


def test_partitions_only_for_tables():
    with pytest.raises(InvalidArgumentError, match="partitions can only be given for a table"):
        ObjectRef(ObjectKind.VIEW, "v", ("p1",))


@pytest.mark.parametrize("scope, message", [
    (Scope("db", objects=(ObjectRef(ObjectKind.VIEW, "v"),)), "view objects needs StarRocks 3.4"),
    (Scope("db", all_of=(ObjectKind.FUNCTION,)), "function objects needs StarRocks 3.4"),
    (Scope("db", all_of=(ObjectKind.TABLE,)), "ALL TABLES needs StarRocks 3.4"),
    (Scope(all_external_catalogs=True), "external catalogs needs StarRocks 3.4"),
])
def test_legacy_servers_refuse_what_they_cannot_back_up(scope, message):
    with pytest.raises(UnsupportedByServerError, match=message):
        render_backup(BackupRequest("l", "r", scope), Syntax.LEGACY)


def test_legacy_restore_into_another_database_names_it_before_the_label():
    """3.3's BackupHandler.process restores into the label's database prefix (the snapshot's is not compared)."""
    sql = render_restore(RestoreRequest("l", "r", Scope("db", target_database="x"), TS), Syntax.LEGACY)
    assert sql == f'RESTORE SNAPSHOT `x`.`l` FROM `r` PROPERTIES ("backup_timestamp" = "{TS}")'


def test_legacy_restore_scope_names_tables_and_materialized_views_only():
    """3.3 snapshots hold OLAP tables and MVs, both named as tables in its grammar (restoreTableDesc)."""
    scope = Scope("db", objects=(ObjectRef.table("t", ["p"]), ObjectRef(ObjectKind.MATERIALIZED_VIEW, "mv"),
                                 ObjectRef(ObjectKind.VIEW, "v")), all_of=(ObjectKind.FUNCTION,))
    legacy, left_out = legacy_restore_scope(scope)
    assert left_out == ["view v", "all functions"]
    assert render_restore(RestoreRequest("l", "r", legacy, TS), Syntax.LEGACY) == (
        f'RESTORE SNAPSHOT `db`.`l` FROM `r` ON (`t` PARTITION (`p`), `mv`) PROPERTIES ("backup_timestamp" = "{TS}")')
    whole = Scope("db")
    assert legacy_restore_scope(whole) == (whole, [])


def test_legacy_restore_scope_refuses_a_restore_of_views_only():
    with pytest.raises(UnsupportedByServerError, match="RESTORE of view v needs StarRocks 3.4"):
        legacy_restore_scope(Scope("db", objects=(ObjectRef(ObjectKind.VIEW, "v"),)))


def test_legacy_restore_renders_table_aliases():
    sql = render_restore(RestoreRequest("l", "r", Scope("db", objects=(ObjectRef.table("t", ["p"], "t2"),)), TS),
                         Syntax.LEGACY)
    assert sql == ('RESTORE SNAPSHOT `db`.`l` FROM `r` ON (`t` PARTITION (`p`) AS `t2`) '
                   f'PROPERTIES ("backup_timestamp" = "{TS}")')


def test_syntax_follows_the_server_version():
    assert Syntax.for_version(ServerVersion.parse("3.3.9-abc")) is Syntax.LEGACY
    assert Syntax.for_version(ServerVersion.parse("3.4.0-abc")) is Syntax.MODERN


def test_repository_statements():
    spec = RepositorySpec("repo", "s3a://b/p", {"aws.s3.region": "us-east-1"}, broker="hdfs_broker", read_only=True)
    assert render_create_repository(spec) == (
        'CREATE READ ONLY REPOSITORY `repo` WITH BROKER `hdfs_broker` ON LOCATION "s3a://b/p" '
        'PROPERTIES ("aws.s3.region" = "us-east-1")'
    )
    with pytest.raises(InvalidArgumentError, match="You must specify a location"):
        render_create_repository(RepositorySpec("repo", ""))
    assert render_drop_repository("re`po") == "DROP REPOSITORY `re``po`"
    assert render_show_repositories() == "SHOW REPOSITORIES"


def test_show_and_cancel_statements():
    assert render_show_backup() == "SHOW BACKUP"
    assert render_show_backup("db") == "SHOW BACKUP FROM `db`"
    assert render_show_restore("db") == "SHOW RESTORE FROM `db`"
    assert render_show_snapshot("r") == "SHOW SNAPSHOT ON `r`"
    assert render_show_snapshot("r", "l") == 'SHOW SNAPSHOT ON `r` WHERE SNAPSHOT = "l"'
    assert render_show_snapshot("r", "l", TS) == f'SHOW SNAPSHOT ON `r` WHERE SNAPSHOT = "l" AND TIMESTAMP = "{TS}"'
    assert render_show_snapshot("r", labels=["a", "b"]) == 'SHOW SNAPSHOT ON `r` WHERE SNAPSHOT IN ("a", "b")'
    with pytest.raises(InvalidArgumentError, match="timestamp needs label"):
        render_show_snapshot("r", timestamp=TS)
    assert render_cancel_backup("db") == "CANCEL BACKUP FROM `db`"
    assert render_cancel_restore(external_catalog=True) == "CANCEL RESTORE FOR EXTERNAL CATALOG"
    with pytest.raises(InvalidArgumentError, match="No selected database for cancel"):
        render_cancel_backup()
    assert render_activate_materialized_view("db", "mv") == "ALTER MATERIALIZED VIEW `db`.`mv` ACTIVE"
