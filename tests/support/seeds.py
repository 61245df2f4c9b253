"""Databases the Airflow-facing tests create on an emulator, and the sr_airflow.toml of the incremental DAG."""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.s3 import BUCKET


def seed_sales(emu, database: str = "sales") -> None:
    """A two-partition ``orders`` table with three rows."""
    emu.sql(
        f"CREATE DATABASE {database}",
        f"CREATE TABLE {database}.orders (id INT, amount DECIMAL(10,2), day DATE) DUPLICATE KEY(id) "
        "PARTITION BY RANGE(day) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(id) BUCKETS 2",
        f"INSERT INTO {database}.orders VALUES (1, 10.5, '2024-01-05'), (2, 20, '2024-02-10'), "
        "(3, 7.25, '2024-02-11')",
    )


def seed_daily(emu, database: str) -> None:
    """Daily-partitioned ``events`` (four days), an unpartitioned ``dims`` and an async MV over ``events``."""
    emu.sql(f"CREATE DATABASE IF NOT EXISTS {database}",
            f"CREATE TABLE {database}.events (k INT, d DATE) DUPLICATE KEY(k) PARTITION BY RANGE(d) ("
            "PARTITION p20240101 VALUES LESS THAN ('2024-01-02'), PARTITION p20240102 VALUES LESS THAN ('2024-01-03'),"
            " PARTITION p20240103 VALUES LESS THAN ('2024-01-04'), PARTITION p20240104 VALUES LESS THAN "
            "('2024-01-05')) DISTRIBUTED BY HASH(k) BUCKETS 1",
            f"CREATE TABLE {database}.dims (k INT, v VARCHAR(8)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            f"INSERT INTO {database}.events VALUES (1, '2024-01-01'), (2, '2024-01-02'), (3, '2024-01-03'), "
            "(4, '2024-01-04')",
            f"INSERT INTO {database}.dims VALUES (1, 'a')",
            f"CREATE MATERIALIZED VIEW {database}.per_day REFRESH ASYNC AS SELECT d, count(*) AS n "
            f"FROM {database}.events GROUP BY d")


def defaults_config(emu, aws_conn: str, prefix: str, database: str | Sequence[str] | None = None) -> str:
    """sr_airflow.toml's ``[defaults]`` for repository ``<prefix>_repo`` on ``emu`` (and ``database``, one name or
    several, as the DAGs' ``databases``)."""
    text = f"""
[defaults]
starrocks_conn_id = "{emu.conn_id}"
repository = "{prefix}_repo"
location = "s3://{BUCKET}/{prefix}"
storage_conn_id = "{aws_conn}"
"""
    if database is None:
        return text
    names = ", ".join(f'"{name}"' for name in ([database] if isinstance(database, str) else database))
    return text + f"databases = [{names}]\n"


def restore_config(emu, aws_conn: str, prefix: str) -> str:
    """sr_airflow.toml for sr_restore from repository ``<prefix>_repo``."""
    return defaults_config(emu, aws_conn, prefix)


def incremental_config(emu, aws_conn: str, prefix: str, database: str, mode: str) -> str:
    """sr_airflow.toml for sr_incremental_backup of ``database`` into repository ``<prefix>_repo``."""
    return defaults_config(emu, aws_conn, prefix, database) + f'[sr_incremental_backup]\nmode = "{mode}"\n'
