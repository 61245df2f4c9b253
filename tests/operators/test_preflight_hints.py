"""Pre-flight's BE tuning hints and its run-mode check, through two emulators.

The source answers as StarRocks 3.3 (upload_worker_count defaults to 1 there), the target as 3.5 (download 0 = one
thread per core); ``information_schema.be_configs`` and ``ADMIN SHOW FRONTEND CONFIG`` need OPERATE on SYSTEM
(``SystemTable.requireOperatePrivilege``, ``AuthorizerStmtVisitor.visitAdminShowConfigStatement``, 3.5 e223275f78),
which the emulator enforces, so a user without it sees what such a user sees on StarRocks.
"""

from __future__ import annotations

import re

import pymysql
import pytest

from sr_airflow.engine.be_tuning import LARGE_BYTES, LARGE_PARTITIONS, parse_be_configs, tuning_hints
from sr_airflow.engine.grants import grants_for
from sr_airflow.operators.preflight import StarRocksMigrationPreflightOperator
from tests.support.emulators import running_emulator
from tests.support.task_context import task_context

LARGE = {"partitions": 1, "bytes": 1}  # this tiny database counts as large, so the hints are looked for
DENIED = re.escape("Access denied; you need (at least one of) the OPERATE privilege(s) on SYSTEM")


@pytest.fixture(scope="module")
def clusters(airflow_db, s3_server):
    with running_emulator("sr_hint_src", s3_server, version="3.3.9") as source, \
            running_emulator("sr_hint_tgt", s3_server, version="3.5.2",
                             be_config={"download_worker_count": "2"}) as target:
        source.sql("CREATE DATABASE hints", "CREATE TABLE hints.t (k INT, v INT) DUPLICATE KEY(k) "
                   "DISTRIBUTED BY HASH(k) BUCKETS 2", "INSERT INTO hints.t VALUES (1, 1), (2, 2)")
        for emu, side in ((source, "source"), (target, "target")):
            emu.sql("CREATE USER 'plain' IDENTIFIED BY 'pw'", "CREATE USER 'operator' IDENTIFIED BY 'pw'",
                    "GRANT OPERATE ON SYSTEM TO USER 'operator'",  # what the migration needs, but OPERATE:
                    *[g.statement(u) for g in grants_for("sr_migration", "hints", side) for u in ("plain", "operator")])
        yield source, target


def _as_user(monkeypatch, emu, user: str) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{emu.conn_id.upper()}", f"starrocks://{user}:pw@127.0.0.1:{emu.server.port}/")


def _logged(capsys) -> list[tuple[str, str]]:
    """The task log's (level, message) lines so far: Airflow 3 logs through structlog to stdout, ``[level   ] msg
    [logger] loc=..``; the "outside of the Task Runner" warning of a direct ``execute`` call is left out."""
    out = []
    for line in capsys.readouterr().out.splitlines():
        if " [" in line and "] " in line and "Task Runner" not in line:
            level, message = line.split(" [", 1)[1].split("] ", 1)
            out.append((level.strip(), message.rsplit(" [airflow.task", 1)[0]))
    return out


def _preflight(name: str, **kwargs) -> dict:
    return StarRocksMigrationPreflightOperator(task_id="preflight", source_conn_id="sr_hint_src",
                                               target_conn_id="sr_hint_tgt", database="hints",
                                               **kwargs).execute(task_context(name))


def test_be_configs_rows_and_privilege(clusters):
    source, target = clusters
    query = "SELECT * FROM information_schema.be_configs ORDER BY NAME"
    # config.h at 3.3 1a2f1f5d75 (upload/download "1", CONF_Int32) and 3.5 e223275f78 ("0", CONF_mInt32)
    assert source.sql(query) == (
        (10001, "download_worker_count", "1", "int32", "1", 0), (10001, "make_snapshot_worker_count", "5", "int32",
                                                                "5", 1),
        (10001, "release_snapshot_worker_count", "5", "int32", "5", 0),
        (10001, "upload_worker_count", "1", "int32", "1", 0))
    assert target.sql(query)[0] == (10001, "download_worker_count", "2", "int32", "0", 1)  # --be-config
    for sql in (query, "ADMIN SHOW FRONTEND CONFIG LIKE 'run_mode'"):
        plain = pymysql.connect(host="127.0.0.1", port=target.server.port, user="plain", password="pw")
        with plain, pytest.raises(pymysql.err.OperationalError, match=DENIED) as denied:
            plain.cursor().execute(sql)
        assert denied.value.args[0] == 5203
        allowed = pymysql.connect(host="127.0.0.1", port=target.server.port, user="operator", password="pw")
        with allowed:
            cursor = allowed.cursor()
            cursor.execute(sql)
            assert cursor.fetchall()


def test_a_large_migration_gets_a_hint_for_each_slow_item(clusters, capsys):
    source, target = clusters
    result = _preflight("hints_large", large_job=LARGE)
    assert result["source_run_mode"] == result["target_run_mode"] == "shared_nothing"
    hints = result["be_tuning_hints"]
    assert [h.split(":")[0] + ":" + h.split(":")[1].split(" is ")[0] for h in hints] == [
        "sr_hint_src: upload_worker_count", "sr_hint_src: make_snapshot_worker_count",
        "sr_hint_src: release_snapshot_worker_count", "sr_hint_tgt: download_worker_count"]
    assert hints[0].startswith("sr_hint_src: upload_worker_count is 1 on BE 10001: ") and "raise it" in hints[0]
    assert hints[3].startswith("sr_hint_tgt: download_worker_count is 2 on BE 10001: ")
    assert [m for lv, m in _logged(capsys) if lv == "warning"] == [f"Tuning hint: {h}" for h in hints]

    target.sql('ADMIN SET FRONTEND CONFIG ("emulator_be_download_worker_count" = "0")')  # one thread per core
    source.sql('ADMIN SET FRONTEND CONFIG ("emulator_be_upload_worker_count" = "16")',
               'ADMIN SET FRONTEND CONFIG ("emulator_be_make_snapshot_worker_count" = "32")',
               'ADMIN SET FRONTEND CONFIG ("emulator_be_release_snapshot_worker_count" = "-1")')
    try:
        assert _preflight("hints_raised", large_job=LARGE)["be_tuning_hints"] == []
    finally:
        for emu, item, value in ((target, "download", "2"), (source, "upload", "1"), (source, "make_snapshot", "5"),
                                 (source, "release_snapshot", "5")):
            emu.sql(f'ADMIN SET FRONTEND CONFIG ("emulator_be_{item}_worker_count" = "{value}")')


def test_a_small_migration_does_not_read_the_be_configuration(clusters):
    source, target = clusters
    before = len(source.queries()), len(target.queries())
    result = _preflight("hints_small")
    assert result["be_tuning_hints"] == []
    sent = source.queries()[before[0]:] + target.queries()[before[1]:]
    assert sent and not [q for q in sent if "be_configs" in q]


def test_a_user_without_operate_is_told_what_preflight_could_not_read(clusters, monkeypatch, capsys):
    source, target = clusters
    _as_user(monkeypatch, source, "plain")
    _as_user(monkeypatch, target, "plain")
    result = _preflight("hints_plain", large_job=LARGE)
    assert result["source_run_mode"] == result["target_run_mode"] == "unknown"
    assert result["privileges"] == {"source": "checked", "target": "checked"}  # from their own SHOW GRANTS
    assert result["be_tuning_hints"] == []
    logged = _logged(capsys)
    warnings = [m for lv, m in logged if lv == "warning"]
    assert len(warnings) == 2 and all(w.startswith("Could not tell whether StarRocks at 127.0.0.1:") for w in warnings)
    assert all("OPERATE privilege(s) on SYSTEM" in w and "GRANT OPERATE ON SYSTEM" in w for w in warnings)
    infos = [m for lv, m in logged if lv == "info"]
    assert [i.split(" (")[0] for i in infos if "BE configuration" in i] == [
        "Could not read the BE configuration of 'sr_hint_src' for tuning hints",
        "Could not read the BE configuration of 'sr_hint_tgt' for tuning hints"]

    _as_user(monkeypatch, source, "operator")
    _as_user(monkeypatch, target, "operator")
    granted = _preflight("hints_operator", large_job=LARGE)
    assert granted["source_run_mode"] == "shared_nothing" and len(granted["be_tuning_hints"]) == 4


def test_hints_need_a_large_job():
    configs = parse_be_configs([(10001, "upload_worker_count", "1"), (10002, "upload_worker_count", "0"),
                                (10001, "make_snapshot_worker_count", "5"), (10001, "download_worker_count", "x")])
    assert configs == {"upload_worker_count": {10001: 1, 10002: 0}, "make_snapshot_worker_count": {10001: 5}}
    assert tuning_hints(configs, job="backup", partitions=LARGE_PARTITIONS - 1, data_bytes=LARGE_BYTES - 1) == []
    by_size = tuning_hints(configs, job="backup", partitions=10, data_bytes=LARGE_BYTES)
    assert [h.split(" is ")[0] for h in by_size] == ["upload_worker_count"]
    assert "is 1 on BE 10001:" in by_size[0] and "100.0 GiB" in by_size[0]
    by_count = tuning_hints(configs, job="backup", partitions=LARGE_PARTITIONS, data_bytes=0)
    assert [h.split(" is ")[0] for h in by_count] == ["make_snapshot_worker_count"]
    assert tuning_hints(configs, job="restore", partitions=LARGE_PARTITIONS, data_bytes=LARGE_BYTES) == []


def test_large_job_takes_partitions_and_bytes_only():
    with pytest.raises(ValueError, match=r"large_job takes 'partitions' and 'bytes', not \['rows'\]"):
        StarRocksMigrationPreflightOperator(task_id="p", source_conn_id="a", target_conn_id="b", database="d",
                                            large_job={"rows": 5})


def test_be_config_values_must_be_integers(clusters, capsys):
    from sr_airflow.testing.emulator.__main__ import parse_args

    _, target = clusters
    with pytest.raises(pymysql.err.ProgrammingError, match="Invalid value for config 'emulator_be_upload_worker_co"):
        target.sql('ADMIN SET FRONTEND CONFIG ("emulator_be_upload_worker_count" = "many")')
    with pytest.raises(SystemExit, match="2"):
        parse_args(["--data-dir", "x", "--be-config", "upload_worker_count=many"])
    assert "expected one of upload_worker_count" in capsys.readouterr().err
    assert parse_args(["--data-dir", "x", "--be-config", "upload_worker_count=-2"]).be_config == [
        "upload_worker_count=-2"]
