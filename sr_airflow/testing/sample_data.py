"""A small sample database in StarRocks DDL: partitioned tables, a materialized view, a view and a UDF.

Used by the demo and by tests that want realistic objects; every statement is plain StarRocks SQL.
"""

from __future__ import annotations

from datetime import date, timedelta


def sample_database(database: str = "sr_hub", days: int = 5, start: date = date(2024, 12, 1)) -> list[str]:
    """Statements that create ``database`` with ``days`` daily partitions of members' events."""
    q = f"`{database}`"
    partitions = ", ".join(
        f"PARTITION p{(start + timedelta(d)).strftime('%Y%m%d')} VALUES LESS THAN "
        f"(\"{(start + timedelta(d + 1)).isoformat()}\")" for d in range(days)
    )
    events = ", ".join(
        f"({i}, {i % 7}, \"{(start + timedelta(i % days)).isoformat()}\", {i * 1.5:.2f})" for i in range(1, 201)
    )
    members = ", ".join(f"({i}, \"member_{i}\", \"{['apac', 'emea', 'amer'][i % 3]}\")" for i in range(1, 51))
    return [
        f"CREATE DATABASE IF NOT EXISTS {q}",
        f"CREATE TABLE {q}.`sr_member` (id BIGINT, name VARCHAR(64), region VARCHAR(16)) "
        "PRIMARY KEY (id) DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES (\"replication_num\" = \"1\")",
        f"CREATE TABLE {q}.`sr_events` (id BIGINT, member_id BIGINT, day DATE, amount DECIMAL(10, 2)) "
        f"DUPLICATE KEY (id) PARTITION BY RANGE (day) ({partitions}) DISTRIBUTED BY HASH(id) BUCKETS 2 "
        "PROPERTIES (\"replication_num\" = \"1\")",
        f"CREATE TABLE {q}.`sr_pmc` (region VARCHAR(16), owner VARCHAR(64)) DUPLICATE KEY (region) "
        "DISTRIBUTED BY HASH(region) BUCKETS 1 PROPERTIES (\"replication_num\" = \"1\")",
        f"INSERT INTO {q}.`sr_member` VALUES {members}",
        f"INSERT INTO {q}.`sr_events` VALUES {events}",
        f"INSERT INTO {q}.`sr_pmc` VALUES (\"apac\", \"kenji\"), (\"emea\", \"anna\"), (\"amer\", \"lee\")",
        f"CREATE MATERIALIZED VIEW {q}.`sr_mv1` REFRESH ASYNC AS SELECT day, count(*) AS events, sum(amount) AS "
        f"total FROM {q}.`sr_events` GROUP BY day",
        f"CREATE VIEW {q}.`sr_view1` AS SELECT m.region, e.day, e.amount FROM {q}.`sr_events` e JOIN "
        f"{q}.`sr_member` m ON e.member_id = m.id",
        f"CREATE FUNCTION {q}.`sr_udf1`(INT) RETURNS INT PROPERTIES (\"symbol\" = \"com.example.AddOne\", "
        "\"type\" = \"StarrocksJar\", \"file\" = \"http://127.0.0.1:1/udf.jar\")",
    ]
