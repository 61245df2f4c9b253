"""Client chatter, authentication, errors that keep the session usable, concurrent clients, the query log."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading

import mysql.connector
import pymysql
import pytest

from sr_airflow.testing.emulator.process import EmulatorServer
from tests.support.emulator_client import error_of, run


def test_version_functions_and_variables(cur):
    assert run(cur, "SELECT current_version()") == [("4.0.0-e5a1b2c",)]
    assert [d[0] for d in cur.description] == ["current_version()"]
    assert run(cur, "SELECT current_version() AS v") == [("4.0.0-e5a1b2c",)]
    assert [d[0] for d in cur.description] == ["v"]
    assert run(cur, "SELECT version()") == [("8.0.33",)]
    assert run(cur, "SELECT @@version") == [("8.0.33",)]
    assert run(cur, "SELECT @@version_comment") == [("4.0.0-e5a1b2c",)]
    assert run(cur, "SELECT @@session.autocommit") == [(1,)]


def test_pymysql_chatter(cur):
    for stmt in ("SET NAMES utf8mb4", "SET autocommit = 1", "SET AUTOCOMMIT = 1", "COMMIT", "ROLLBACK",
                 "SET query_timeout = 3600", "SELECT 1", "SELECT DATABASE()"):
        cur.execute(stmt)
    run(cur, "CREATE DATABASE IF NOT EXISTS chatter")
    run(cur, "USE chatter")
    assert run(cur, "SELECT DATABASE()") == [("chatter",)]
    assert error_of(cur, "USE no_such_db") == (5501, "Unknown database 'no_such_db'")  # changeCatalogDb: ERR_BAD_DB


def test_mysql_connector_python(emulator):
    conn = mysql.connector.connect(host=emulator.host, port=emulator.port, user="root", password="",
                                   autocommit=False)
    cursor = conn.cursor()
    cursor.execute("SELECT @@session.autocommit")
    assert cursor.fetchall() == [(0,)]
    cursor.execute("SELECT current_version()")
    assert cursor.fetchall() == [("4.0.0-e5a1b2c",)]
    cursor.execute("CREATE DATABASE IF NOT EXISTS connector_db")
    cursor.execute("CREATE TABLE connector_db.t (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    cursor.execute("INSERT INTO connector_db.t VALUES (1, 'x')")
    conn.commit()
    cursor.execute("SELECT k, v FROM connector_db.t")
    assert cursor.fetchall() == [(1, "x")]
    conn.close()


def test_mysql_cli(emulator):
    assert shutil.which("mysql"), "the mysql command-line client is missing: `make test` installs it (apt)."
    out = subprocess.run(["mysql", "-h", emulator.host, "-P", str(emulator.port), "-uroot", "-N", "-e",
                          "SELECT current_version()"], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "4.0.0-e5a1b2c"


def test_password_and_version_flag(tmp_path):
    with EmulatorServer(tmp_path / "pw", password="s3cret", version="3.4.1") as server:
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            pymysql.connect(host=server.host, port=server.port, user="root", password="wrong")
        with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
            pymysql.connect(host=server.host, port=server.port, user="alice", password="s3cret")
        conn = server.connect()
        assert run(conn.cursor(), "SELECT current_version()") == [("3.4.1-e5a1b2c",)]
        conn.close()
        log = [json.loads(line) for line in server.query_log.read_text().splitlines()]
        assert {"time", "connection", "statement"} <= set(log[-1])
        assert log[-1]["statement"] == "SELECT current_version()"
        assert server.logged_statements()[-1] == "SELECT current_version()"


def test_errors_keep_the_session_usable(cur):
    assert error_of(cur, "THIS IS NOT SQL")[0] == 1064
    # QueryAnalyzer.resolveTable: ERR_BAD_DB_ERROR / ERR_BAD_TABLE_ERROR through ErrorReport (codes 5501 / 5502)
    assert error_of(cur, "SELECT * FROM nowhere.t") == (5501, "Getting analyzing error. Detail message: Unknown "
                                                              "database 'nowhere'.")
    assert error_of(cur, "CREATE TABLE") [0] == 1064
    assert error_of(cur, "BACKUP SNAPSHOT") [0] == 1064
    run(cur, "CREATE DATABASE IF NOT EXISTS errs")
    run(cur, "CREATE TABLE IF NOT EXISTS errs.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    assert error_of(cur, "SELECT * FROM errs.nothing") == (5502, "Getting analyzing error. Detail message: Unknown "
                                                                 "table 'errs.nothing'.")
    code, text = error_of(cur, "INSERT INTO errs.t SELECT no_such_column FROM errs.t")
    assert code == 1064 and text.startswith("Getting analyzing error. Detail message: ")
    assert run(cur, "SELECT 41 + 1") == [(42,)]


def test_sqlstate_is_hy000(emulator):
    conn = mysql.connector.connect(host=emulator.host, port=emulator.port, user="root", password="")
    cursor = conn.cursor()
    with pytest.raises(mysql.connector.Error, match="Unexpected input") as info:
        cursor.execute("FOO BAR")
    assert info.value.errno == 1064 and info.value.sqlstate == "HY000"
    conn.close()


def test_concurrent_clients(emulator):
    conn = emulator.connect()
    run(conn.cursor(), "CREATE DATABASE IF NOT EXISTS conc")
    run(conn.cursor(), "CREATE TABLE IF NOT EXISTS conc.t (k INT, w INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)")
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            c = emulator.connect().cursor()
            for i in range(10):
                c.execute(f"INSERT INTO conc.t VALUES ({i}, {n})")
                c.execute("SELECT count(*) FROM conc.t")
            if n % 2:
                with pytest.raises(pymysql.MySQLError, match="Unknown table"):
                    c.execute("SELECT * FROM conc.missing")
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert run(conn.cursor(), "SELECT count(*) FROM conc.t") == [(80,)]
    assert run(conn.cursor(), "SELECT VISIBLE_VERSION FROM information_schema.partitions_meta "
                              "WHERE DB_NAME = 'conc'") == [(81,)]
