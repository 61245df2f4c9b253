"""Item 5: a restore onto existing tables is refused before RESTORE is sent when the schema differs, or when it is
the same but ``allow_overwrite`` is not set; the existing rows and partition versions are untouched."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import RestoreRefusedError
from sr_airflow.operators.restore import StarRocksRestoreOperator
from tests.support.emulators import start_emulator
from tests.support.figures import count
from tests.support.task_context import task_context

SCHEMA_A = "(id INT, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2"
SCHEMA_B = "(id INT, v VARCHAR(20), extra INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2"


@pytest.fixture(scope="module")
def safety_emu(airflow_db, s3_server):
    with start_emulator("sr_safe", s3_server) as emu:
        emu.sql("CREATE DATABASE src", f"CREATE TABLE src.t {SCHEMA_A}", "INSERT INTO src.t VALUES (1, 1), (2, 2)")
        emu.create_repository("srepo", s3_server, "restore-safety")
        emu.sql("BACKUP DATABASE src SNAPSHOT snap1 TO srepo")
        emu.wait_state("BACKUP", "src", ("FINISHED",), timeout=60)
        yield emu


def _fingerprint(emu, database: str) -> tuple:
    rows = emu.sql(f"SELECT * FROM {database}.t ORDER BY id")
    columns = emu.sql(f"DESC {database}.t")
    partitions = emu.sql(f"SHOW PARTITIONS FROM {database}.t")
    return rows, columns, partitions


# the whole message: the database, the table, and why (SCHEMA_B has 3 columns, the snapshot's SCHEMA_A 2)
_OTHER_SCHEMA = (r"^Restore into database '{target}' refused before submission: table\(s\) t exist with a "
                 r"different schema than the snapshot holds \(t: 3 column\(s\) in the table, 2 in the snapshot\)\.$")
_EXISTS = (r"^Restore into database '{target}' refused: table\(s\) t already exist; set allow_overwrite=True to "
           r"overwrite their partitions\.$")


@pytest.mark.parametrize("case,schema,overwrite,message", [
    ("other_schema", SCHEMA_B, True, _OTHER_SCHEMA),
    ("other_schema_no_overwrite", SCHEMA_B, False, _OTHER_SCHEMA),  # the schema is compared first
    ("same_schema", SCHEMA_A, False, _EXISTS),
])
def test_existing_tables_are_refused_before_restore_is_sent(safety_emu, aws_conn, case, schema, overwrite,
                                                            message):
    target = f"tgt_{case}"
    safety_emu.sql(f"CREATE DATABASE {target}", f"CREATE TABLE {target}.t {schema}",
                   f"INSERT INTO {target}.t (id) VALUES (7), (8), (9)", f"INSERT INTO {target}.t (id) VALUES (10)")
    before = _fingerprint(safety_emu, target)
    sent_before = safety_emu.count("RESTORE")
    op = StarRocksRestoreOperator(task_id="restore", starrocks_conn_id="sr_safe", repository="srepo",
                                  snapshot_label="snap1", database="src", target_database=target,
                                  allow_overwrite=overwrite, storage_conn_id=aws_conn, deferrable=False)
    with pytest.raises(RestoreRefusedError, match=message.format(target=target)):
        op.execute(task_context(f"restore_safety_{case}"))
    assert safety_emu.count("RESTORE") == sent_before  # nothing was sent
    assert _fingerprint(safety_emu, target) == before  # rows, columns and partition versions unchanged
    count("item5 unsafe restores refused before RESTORE, target untouched")
