"""Small helpers for tests that drive an emulator (or a real StarRocks) through a DB-API cursor."""

from __future__ import annotations

import time

DONE_STATES = ("FINISHED", "CANCELLED")


def rows_as_dicts(cursor, sql: str) -> list[dict]:
    """Run `sql` and return its rows keyed by column title."""
    cursor.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def wait_job(cursor, kind: str, db: str, timeout: float = 60.0, poll: float = 0.05) -> dict:
    """Poll SHOW BACKUP / SHOW RESTORE until the db's latest job ends; db "" means the external-catalog job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = rows_as_dicts(cursor, f"SHOW {kind} FROM `{db}`" if db else f"SHOW {kind}")
        if not db:
            rows = [r for r in rows if r["DbName"] == ""]
        if rows and rows[0]["State"] in DONE_STATES:
            return rows[0]
        time.sleep(poll)
    raise TimeoutError(f"The {kind} job of database {db!r} did not end within {timeout:.0f} s.")


def repository_sql(name: str, bucket: str, path: str = "backup", *, endpoint: str | None = None,
                   read_only: bool = False, access_key: str = "test", secret_key: str = "test") -> str:
    """CREATE REPOSITORY for an S3 bucket (endpoint-less locations need the emulator's --s3-endpoint)."""
    props = [f"'aws.s3.access_key' = '{access_key}'", f"'aws.s3.secret_key' = '{secret_key}'",
             "'aws.s3.region' = 'us-east-1'"]
    if endpoint:
        props.append(f"'aws.s3.endpoint' = '{endpoint}'")
    ro = "READ ONLY " if read_only else ""
    return (f"CREATE {ro}REPOSITORY {name} WITH BROKER ON LOCATION 's3a://{bucket}/{path}' "
            f"PROPERTIES ({', '.join(props)})")
