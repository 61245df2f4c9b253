"""Driving an emulator process with a MySQL cursor: statements, rows as dicts, expected errors, waiting for a job,
and CREATE REPOSITORY text for a bucket of the test S3 server."""

from __future__ import annotations

import pymysql

from sr_airflow.testing.emulator import client
from sr_airflow.testing.emulator.client import repository_sql, rows_as_dicts
from sr_airflow.testing.emulator.process import EmulatorServer

PHASE = 0.02  # the emulator tests' minimum job phase (seconds)


def start_server(tmp_path_factory, s3_server, **kwargs) -> EmulatorServer:
    """A started emulator process in a fresh data directory; its s3a:// locations go to ``s3_server``."""
    data_dir = tmp_path_factory.mktemp("emulator")
    kwargs.setdefault("min_phase_seconds", PHASE)
    return EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, **kwargs).start()


def run(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return list(cursor.fetchall())


def as_dicts(cursor, sql: str) -> list[dict]:
    return rows_as_dicts(cursor, sql)


def wait_job(cursor, kind: str, db: str, timeout: float = 60.0) -> dict:
    return client.wait_job(cursor, kind, db, timeout)


def repo_sql(name: str, bucket: str, path: str = "backup", read_only: bool = False) -> str:
    return repository_sql(name, bucket, path, read_only=read_only)


def error_of(cursor, sql: str) -> tuple[int, str]:
    """The (code, message) of the error ``sql`` gets; fails if it succeeds."""
    try:
        cursor.execute(sql)
    except pymysql.MySQLError as err:
        return err.args[0], err.args[1]
    raise AssertionError(f"Expected an error from: {sql}")


def connector_connection(server):
    """A mysql-connector-python connection to ``server`` (root, autocommit): its errors keep the reply's SQL state,
    which PyMySQL drops. Keep the connection referenced while its cursors are used."""
    import mysql.connector

    return mysql.connector.connect(host=server.host, port=server.port, user="root", password="", autocommit=True)


def error_reply(cursor, sql: str) -> tuple[int, str, str]:
    """The (code, SQL state, message) of the error ``sql`` gets on a ``connector_connection``'s cursor; fails if it
    succeeds."""
    import mysql.connector

    try:
        cursor.execute(sql)
        if cursor.with_rows:
            cursor.fetchall()
    except mysql.connector.Error as err:
        return err.errno, err.sqlstate, err.msg
    raise AssertionError(f"Expected an error from: {sql}")
