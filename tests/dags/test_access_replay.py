"""Users, roles, grants and resource groups: exported beside a full snapshot by sr_full_backup, replayed by sr_restore
(apply_access = roles) and by the apply operator (all), on another emulated cluster, through dag.test()."""

from __future__ import annotations

import re

import pytest

from tests.support.dags import states
from tests.support.s3 import BUCKET
from tests.support.seeds import defaults_config, seed_daily

pytestmark = pytest.mark.slow

EVIL_ROLE = "acc`r; DROP DATABASE acc_src; --"
EVIL_USER = "o'brien"
ROLES = ["reader", "child", EVIL_ROLE]
USERS = ["analyst", EVIL_USER]
IN_SCOPE = "acc_src"


def quoted_role(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def set_up_access(emu) -> None:
    """Roles with grants inside and outside the restored database, role and user memberships, resource groups."""
    seed_daily(emu, IN_SCOPE)
    emu.sql("CREATE DATABASE acc_other",
            "CREATE TABLE acc_other.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "CREATE ROLE reader COMMENT 'reads the sales data'", "CREATE ROLE child",
            f"CREATE ROLE {quoted_role(EVIL_ROLE)}",
            "GRANT SELECT ON ALL TABLES IN DATABASE acc_src TO ROLE reader",
            "GRANT SELECT ON ALL TABLES IN DATABASE acc_other TO ROLE reader",
            f"GRANT SELECT, INSERT ON TABLE acc_src.events TO ROLE {quoted_role(EVIL_ROLE)}",
            "GRANT SELECT ON ALL TABLES IN ALL DATABASES TO ROLE child",
            "GRANT REPOSITORY ON SYSTEM TO ROLE child",
            "GRANT reader TO ROLE child",
            "CREATE USER analyst IDENTIFIED BY 'analyst-secret-pw'",
            "CREATE USER \"o'brien\" IDENTIFIED BY 'obrien-secret-pw'",
            "GRANT child TO USER analyst",
            "GRANT ALTER ON DATABASE acc_src TO USER analyst",
            f"GRANT {quoted_role(EVIL_ROLE)} TO USER \"o'brien\"@'%'",
            "CREATE RESOURCE GROUP rg_sales TO (user='analyst', query_type in ('select')), (db='acc_src') "
            "WITH ('cpu_weight' = '1', 'mem_limit' = '20%', 'concurrency_limit' = '5')",
            "CREATE RESOURCE GROUP rg_other TO (db='acc_other') WITH ('cpu_weight' = '1', 'mem_limit' = '10%')")


def grants(emu, grantee: str) -> list[tuple]:
    """SHOW GRANTS rows in the restored scope: none on another database or on every database."""
    rows = emu.sql(f"SHOW GRANTS FOR {grantee}")
    return sorted((r for r in rows if "acc_other" not in r[2] and "ALL DATABASES" not in r[2]),
                  key=lambda r: r[2])


def groups(emu) -> list[tuple]:
    rows = [r for r in emu.sql("SHOW RESOURCE GROUPS ALL") if r[0].startswith("rg_")]
    return sorted((r[0], *r[2:-1], re.sub(r"id=\d+", "id=?", r[-1])) for r in rows)  # ids are each cluster's


def apply(target, aws_conn: str, label: str, mode: str) -> dict:
    from sr_airflow.operators.access import StarRocksApplyAccessOperator

    operator = StarRocksApplyAccessOperator(
        task_id=f"apply_{mode}", starrocks_conn_id=target.conn_id, repository="acc_repo",
        location=f"s3://{BUCKET}/acc", storage_conn_id=aws_conn, snapshot_label=label, apply_access=mode,
        database=IN_SCOPE)
    return operator.execute({})


def test_access_exported_beside_the_full_and_replayed_on_another_cluster(emulator, target_emulator, aws_conn,
                                                                         load_dag):
    set_up_access(emulator)
    backup = load_dag("sr_full_backup", defaults_config(emulator, aws_conn, "acc", IN_SCOPE))
    run = backup.test()
    assert states(run)["export_access"] == "success"
    exported = next(t for t in run.get_task_instances() if t.task_id == "export_access").xcom_pull(
        task_ids="export_access")
    assert exported["exported"] and exported["users"] == 2 and exported["roles"] == 3
    assert exported["resource_groups"] == 2
    label = next(t for t in run.get_task_instances() if t.task_id == "backup").xcom_pull(
        task_ids="backup")[0]["snapshot_label"]

    restore = load_dag("sr_restore", defaults_config(target_emulator, aws_conn, "acc"))
    run = restore.test(run_conf={"database": IN_SCOPE, "apply_access": "roles"})
    assert states(run)["restore"] == states(run)["apply_access"] == "success"
    roles_result = next(t for t in run.get_task_instances() if t.task_id == "apply_access").xcom_pull(
        task_ids="apply_access")
    assert roles_result["failed"] == [] and roles_result["password_needed"] == []
    assert [r[0] for r in target_emulator.sql("SHOW USERS")] == ["'root'@'%'"]  # roles: no user created
    assert {r[0] for r in target_emulator.sql("SHOW ROLES")} >= set(ROLES)
    # the one-database scope left out the grants on acc_other and on every database, and rg_other
    assert sorted(s["reason"] for s in roles_result["skipped"]) == [
        "a classifier names database acc_other, outside this replay's scope",
        "on database acc_other, outside this replay's scope",
        "on every database; this replay's scope is acc_src"]

    everything = apply(target_emulator, aws_conn, label, "all")
    assert everything["failed"] == []
    assert sorted(everything["password_needed"]) == ["'analyst'@'%'", "'o'brien'@'%'"]
    assert all(not s.startswith("CREATE ROLE") for s in everything["created"])  # the roles run made them
    for role in ROLES:
        assert grants(target_emulator, f"ROLE {quoted_role(role)}") == grants(emulator, f"ROLE {quoted_role(role)}")
    for user in USERS:
        user_sql = "\"o'brien\"@'%'" if user == EVIL_USER else f"'{user}'@'%'"
        assert grants(target_emulator, user_sql) == grants(emulator, user_sql)
    assert groups(target_emulator) == [g for g in groups(emulator) if g[0] != "rg_other"]
    assert ("acc_src",) in target_emulator.sql("SHOW DATABASES")  # the hostile role name stayed a name

    again = apply(target_emulator, aws_conn, label, "all")
    assert again["created"] == [] and again["failed"] == []
    assert sorted(again["existed"]) == sorted(everything["created"] + everything["existed"])
