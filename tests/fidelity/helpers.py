"""Readers of the golden files and of an emulator's repository objects, for the fidelity tests. No product code
(engine, storage, operators, hooks): the repository is read with boto3 and plain JSON."""

from __future__ import annotations

import json
import struct
import uuid
from pathlib import Path

import pymysql

from sr_airflow.testing.emulator.process import EmulatorServer
from tests.support.waiting import wait_until

FIXTURES = Path(__file__).parent / "fixtures"
REPO_PATH = "fidelity"


def load_fixture(name: str):
    """A fixture file: parsed JSON for ``.json``, text otherwise."""
    text = (FIXTURES / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


def unpack_meta(data: bytes) -> dict:
    """`__meta`: a 4-byte big-endian length, then that many bytes of UTF-8 GSON (`Text.writeString`)."""
    (length,) = struct.unpack(">i", data[:4])
    assert length == len(data) - 4, f"__meta length prefix {length} does not match the {len(data) - 4} bytes after it"
    return json.loads(data[4:].decode("utf-8"))


def start_emulator(tmp_path_factory, s3_server, version: str) -> EmulatorServer:
    data_dir = tmp_path_factory.mktemp(f"emulator-{version}")
    return EmulatorServer(data_dir, s3_endpoint=s3_server.endpoint_url, version=version,
                          min_phase_seconds=0.0).start()


class Session:
    """One root connection to an emulator, with a fresh database and its own repository."""

    def __init__(self, server: EmulatorServer, s3, bucket: str):
        self.server = server
        self.s3 = s3
        self.bucket = bucket
        self.db = f"fid_{uuid.uuid4().hex[:8]}"
        self.repo = f"repo_{uuid.uuid4().hex[:8]}"
        self.conn = server.connect()
        self.cur = self.conn.cursor()
        self.run(f"CREATE DATABASE {self.db}", f"USE {self.db}")

    def run(self, *statements: str) -> list[tuple]:
        rows: list[tuple] = []
        for statement in statements:
            self.cur.execute(statement)
            rows = list(self.cur.fetchall())
        return rows

    def dicts(self, sql: str) -> list[dict]:
        self.cur.execute(sql)
        names = [d[0] for d in self.cur.description]
        return [dict(zip(names, row, strict=True)) for row in self.cur.fetchall()]

    def titles(self, sql: str) -> list[str]:
        self.cur.execute(sql)
        self.cur.fetchall()
        return [d[0] for d in self.cur.description]

    def create_repository(self, path: str | None = None) -> str:
        """CREATE REPOSITORY on this session's bucket; returns the location's key prefix."""
        prefix = path or f"{REPO_PATH}/{self.repo}"
        self.run(f"CREATE REPOSITORY {self.repo} WITH BROKER ON LOCATION 's3a://{self.bucket}/{prefix}' "
                 "PROPERTIES ('aws.s3.access_key' = 'test', 'aws.s3.secret_key' = 'test', "
                 "'aws.s3.region' = 'us-east-1')")
        return prefix

    def backup(self, label: str, on: str = "", timeout: float = 60.0) -> dict:
        """BACKUP the database (or ``on`` its objects) and wait for the job to end; returns its SHOW BACKUP row."""
        target = f" ON ({on})" if on else ""
        self.run(f"BACKUP SNAPSHOT {self.db}.{label} TO {self.repo}{target}")
        def ended() -> dict | None:
            rows = self.dicts(f"SHOW BACKUP FROM {self.db}")
            ended = rows and rows[0]["SnapshotName"] == label and rows[0]["State"] in ("FINISHED", "CANCELLED")
            return rows[0] if ended else None

        job = wait_until(ended, timeout, f"BACKUP {label} ending", interval=0.02)
        assert job["State"] == "FINISHED", job
        return job

    def keys(self, prefix: str) -> list[str]:
        """Every object key under ``prefix`` (paginated listing)."""
        found: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return found

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def close(self) -> None:
        try:
            self.run(f"DROP DATABASE IF EXISTS {self.db} FORCE")
        except pymysql.MySQLError:
            pass
        self.conn.close()


class Snapshot:
    """The objects one finished BACKUP wrote: root, `__meta`, `__info_*`, content files."""

    def __init__(self, sess: Session, location: str, label: str):
        self.root = f"{location}/__starrocks_repository_{sess.repo}"
        self.keys = sess.keys(f"{self.root}/__ss_{label}/")
        base = f"{self.root}/__ss_{label}/"
        self.names = [k[len(base):] for k in self.keys]
        metas = [k for k in self.keys if k[len(base):].startswith("__meta.")]
        infos = [k for k in self.keys if k[len(base):].startswith("__info_")]
        assert len(metas) == 1, f"expected one __meta.<md5>, found {self.names}"
        assert len(infos) == 1, f"expected one __info_<ts>.<md5>, found {self.names}"
        self.meta_key, self.info_key = metas[0], infos[0]
        self.meta_bytes = sess.get(self.meta_key)
        self.info_bytes = sess.get(self.info_key)
        self.meta = unpack_meta(self.meta_bytes)
        self.info = json.loads(self.info_bytes)
        self.content = [k[len(base):] for k in self.keys if k[len(base):].startswith("__ss_content/")]


def take_snapshot(sess: Session, label: str, on: str = "") -> Snapshot:
    location = sess.create_repository()
    sess.backup(label, on)
    return Snapshot(sess, location, label)


SALES_DDL = ("CREATE TABLE sales (dt DATE NOT NULL, k1 INT NOT NULL, v BIGINT NULL) DUPLICATE KEY(dt, k1) "
             "PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
             "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(k1) BUCKETS 2 "
             "PROPERTIES ('replication_num' = '1')")
SALES_LOADS = ("INSERT INTO sales VALUES ('2024-01-05', 1, 10), ('2024-02-05', 2, 20)",
               "INSERT INTO sales VALUES ('2024-01-06', 3, 30)")
ROLLUP = "ALTER TABLE sales ADD ROLLUP r1 (k1, v)"
SYNC_MV = "CREATE MATERIALIZED VIEW mv_sales_k1 AS SELECT k1, SUM(v) FROM sales GROUP BY k1"
VIEW = "CREATE VIEW v_sales AS SELECT dt, k1, v FROM sales"
ASYNC_MV = ("CREATE MATERIALIZED VIEW mv_daily DISTRIBUTED BY HASH(dt) BUCKETS 1 REFRESH ASYNC "
            "PROPERTIES ('replication_num' = '1') AS SELECT dt, SUM(v) AS total FROM sales GROUP BY dt")
FUNCTION = ("CREATE FUNCTION my_add(INT, INT) RETURNS INT PROPERTIES ('symbol' = 'com.example.udf.MyAdd', "
            "'type' = 'StarrocksJar', 'file' = 'http://127.0.0.1:1/udf.jar')")
