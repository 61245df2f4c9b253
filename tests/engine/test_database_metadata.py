"""The one information_schema statement of a plan (engine/database_metadata.py): built with the quoting functions, one
UNION ALL of six SELECTs of one width, and its rows split back by kind in the single-table reads' shapes."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from sr_airflow.engine.catalog import Catalog, PartitionRecord
from sr_airflow.engine.database_metadata import OUTPUT_COLUMNS, metadata_query, split_metadata_rows
from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.planner import PlanPolicy, plan_backup
from sr_airflow.engine.quoting import quote_string
from sr_airflow.engine.schema import database_objects
from tests.engine.strategies_catalog import START, make_entry

HOSTILE = 'db" UNION ALL SELECT "x\\'


def _pad(*values):
    return (*values, *(None,) * (len(OUTPUT_COLUMNS) - len(values)))


def test_one_statement_of_six_selects_each_filtered_on_the_quoted_database():
    sql = metadata_query(HOSTILE)
    tree = sqlglot.parse_one(sql, read="starrocks")
    selects = list(tree.find_all(exp.Select, bfs=False))  # in the order written
    assert [(s.args["from_"].this.name, s.args["where"].this.this.name) for s in selects] == [
        ("partitions_meta", "DB_NAME"), ("materialized_views", "TABLE_SCHEMA"), ("columns", "TABLE_SCHEMA"),
        ("tables_config", "TABLE_SCHEMA"), ("tables", "TABLE_SCHEMA"), ("views", "TABLE_SCHEMA")]
    assert {s.args["where"].this.expression.name for s in selects} == {HOSTILE}  # one literal: the name, whole
    assert sql.count(f"= {quote_string(HOSTILE)}") == 6
    assert {len(s.expressions) for s in selects} == {len(OUTPUT_COLUMNS)}  # kind, table, name, nine values
    assert selects[0].named_selects == list(OUTPUT_COLUMNS)
    assert [s.expressions[0].name for s in selects] == ["partition", "materialized_view", "column", "table_config",
                                                        "table", "view"]
    assert sql.endswith(" ORDER BY ROW_TAG, TABLE_NAME, NAME")


def test_rows_split_back_by_kind_in_the_single_table_shapes():
    rows = [
        _pad("column", "t", "k", "1", "int(11)", "NO", None, "DUP", "the key"),
        _pad("column", "t", "c10", "10", "int(11)", "YES", None, "", ""),
        _pad("column", "t", "c2", "2", "int(11)", "YES", "0", "", ""),
        _pad("materialized_view", "mv", None, "true", "", "SELECT 1"),
        _pad("partition", "t", "p1", "10006", "3", "2025-01-01 00:00:00", "12", "1.2KB", "0", "[types: ...]"),
        _pad("partition", "t", "tp", "10009", "1", None, "0", "0B", "1", None),
        ("table_config", "t", None, "OLAP", "DUP_KEYS", "", "`d`", "`k`", "HASH", "1", "`k`", '{"a":"1"}'),
        _pad("table", "t", None, "daily orders"),
        _pad("view", "v", None, "SELECT k FROM t"),
    ]
    split = split_metadata_rows(rows, "db1")
    assert split.partitions == [("db1", "t", "p1", 10006, 3, "2025-01-01 00:00:00", 12, "1.2KB", False, "[types: ...]"),
                                ("db1", "t", "tp", 10009, 1, None, 0, "0B", True, None)]
    assert [c[:3] for c in split.columns] == [("t", "k", 1), ("t", "c2", 2), ("t", "c10", 10)]  # by position
    assert split.columns[1] == ("t", "c2", 2, "int(11)", "YES", "0", "", "")
    assert split.materialized_views == [("mv", "true", "", "SELECT 1")]
    assert split.tables_config == [("t", "OLAP", "DUP_KEYS", "", "`d`", "`k`", "HASH", "1", "`k`", '{"a":"1"}')]
    assert split.tables == [("t", "daily orders")]
    assert split.views == [("v", "SELECT k FROM t")]


def test_fingerprints_of_text_values_equal_those_of_typed_ones():
    """The union CASTs ORDINAL_POSITION and DISTRIBUTE_BUCKET to text; the fingerprints (recorded by earlier
    snapshots from typed single-table reads) must not move because of it."""
    typed = database_objects({"columns": [("t", "k", 1, "int(11)", "NO", None, "DUP", "")],
                              "tables_config": [("t", "OLAP", "DUP_KEYS", "", "", "`k`", "HASH", 3, "`k`", "{}")]}, {})
    split = split_metadata_rows([_pad("column", "t", "k", "1", "int(11)", "NO", None, "DUP", ""),
                                 ("table_config", "t", None, "OLAP", "DUP_KEYS", "", "", "`k`", "HASH", "3", "`k`",
                                  "{}")], "db1")
    assert database_objects(split.schema_rows(), {}).tables == typed.tables


def test_a_table_comment_moves_the_fingerprint_and_no_comment_keeps_the_one_recorded_before_comments_were_read():
    config = [("t", "OLAP", "DUP_KEYS", "", "", "`k`", "HASH", "3", "`k`", "{}")]
    before = database_objects({"tables_config": config}, {}).tables
    assert database_objects({"tables_config": config, "tables": [("t", "")]}, {}).tables == before
    commented = database_objects({"tables_config": config, "tables": [("t", "daily orders")]}, {}).tables
    assert commented["t"] != before["t"]


def test_split_partitions_plan_as_typed_rows_do():
    """The planner matches (PARTITION_ID, VISIBLE_VERSION) against ints held by the catalog: the split gives ints."""
    rows = [_pad("partition", "t", "p1", "7", "2", None, "1", "1KB", "0", "")]
    split = split_metadata_rows(rows, "db1")
    typed = [("db1", "t", "p1", 7, 2, None, 1, "1KB", False, "")]
    policy = PlanPolicy(max_incrementals=None, max_full_age=None)
    assert plan_backup_tables(split.partitions, policy) == plan_backup_tables(typed, policy)


def plan_backup_tables(rows, policy):
    full = make_entry("full", START, partitions=[PartitionRecord("t", "p1", 7, 2)])
    plan = plan_backup(Catalog([full]), "db1", rows, now=START, policy=policy)
    return plan.snapshot_kind, plan.tables, plan.reason


@pytest.mark.parametrize(("row", "message"), [
    (("partition", "t"), r"^metadata row has 2 values, not 12: "),
    (_pad("routine", "f"), r"^metadata row of unknown tag 'routine': "),
])
def test_rows_of_another_statement_are_refused(row, message):
    with pytest.raises(InvalidArgumentError, match=message):
        split_metadata_rows([row], "db1")
