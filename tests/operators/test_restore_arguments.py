"""Templated arguments of the restore operator rendered as text, through dag.test(): ``"False"`` is false.

Without native rendering a template renders ``{{ params.allow_overwrite }}`` to the text ``"False"``, which Python
takes as true; ``engine/coerce.py`` reads it as the boolean it stands for, and names the argument on a bad value.
"""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.operators.restore import StarRocksRestoreChainOperator, StarRocksRestoreOperator
from tests.operators.dags import sr_argument_test_dags as dags
from tests.support.dags import states
from tests.support.task_context import task_context


@pytest.fixture(scope="module")
def args_db(shared_emulator, s3_server):
    emu = shared_emulator
    emu.sql("CREATE DATABASE args_db",
            "CREATE TABLE args_db.t (id INT, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
            "INSERT INTO args_db.t VALUES (1, 1)")
    emu.create_repository("repo_args", s3_server, "argument-tests")
    emu.sql("BACKUP DATABASE args_db SNAPSHOT snap_args TO repo_args")
    emu.wait_state("BACKUP", "args_db", ("FINISHED",))
    emu.sql("INSERT INTO args_db.t VALUES (2, 2)")  # the live table now differs from the snapshot
    return emu


def _run(conf: dict) -> dict[str, str]:
    return states(dags.restore_allow_overwrite_as_text.test(run_conf=conf))


def test_allow_overwrite_rendered_as_the_text_false_refuses_existing_tables(args_db, capsys):
    before = args_db.count("RESTORE")
    assert _run({"allow_overwrite": False}) == {"restore": "failed"}
    assert args_db.count("RESTORE") == before
    assert args_db.sql("SELECT count(*) FROM args_db.t")[0][0] == 2  # untouched
    assert "table(s) t already exist; set allow_overwrite=True" in capsys.readouterr().out


def test_a_bad_allow_overwrite_text_fails_naming_the_argument(args_db, capsys):
    before = args_db.count("RESTORE")
    assert _run({"allow_overwrite": "perhaps"}) == {"restore": "failed"}
    assert args_db.count("RESTORE") == before
    assert "allow_overwrite must be true or false, got 'perhaps'" in capsys.readouterr().out


def test_allow_overwrite_rendered_as_the_text_true_overwrites(args_db):
    before = args_db.count("RESTORE")
    assert _run({"allow_overwrite": True}) == {"restore": "success"}
    assert args_db.count("RESTORE") == before + 1
    assert args_db.sql("SELECT count(*) FROM args_db.t")[0][0] == 1  # the snapshot's row again


@pytest.mark.parametrize("operator,argument,value,message", [
    (StarRocksRestoreOperator, "replication_num", "three", "replication_num must be a whole number, got 'three'"),
    (StarRocksRestoreOperator, "timeout", "6.5", "timeout must be a whole number, got '6.5'"),
    (StarRocksRestoreChainOperator, "allow_load", "maybe", "allow_load must be true or false, got 'maybe'"),
    (StarRocksRestoreChainOperator, "dry_run", "perhaps", "dry_run must be true or false, got 'perhaps'"),
])
def test_a_bad_rendered_value_is_refused_before_anything_is_sent(args_db, operator, argument, value, message):
    before = len(args_db.queries())
    op = operator(task_id="restore", starrocks_conn_id="sr_main", repository="repo_args", snapshot_label="snap_args",
                  database="args_db", storage_conn_id="s3_test", deferrable=False, **{argument: value})
    with pytest.raises(InvalidArgumentError, match=f"^{message}"):
        op.execute(task_context(f"bad_{argument}"))
    assert args_db.queries()[before:] == []
