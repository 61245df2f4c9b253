"""engine/scope_args.named_tables: the one reading of a ``tables`` argument as names (and the names restored to)."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.scope_args import named_tables


@pytest.mark.parametrize("value", [None, "", [], "ALL", " all "])
def test_an_argument_that_names_no_table_gives_none(value):
    assert named_tables(value) is None


def test_names_mappings_and_aliases():
    assert named_tables(["a", {"name": "b"}, {"name": "c", "alias": "c2", "partitions": ["p1"]}]) == {
        "a": "a", "b": "b", "c": "c2"}
    assert named_tables("orders") == {"orders": "orders"}  # one name, as the plan and pre-flight take it


def test_a_bad_item_is_refused_naming_the_argument():
    with pytest.raises(InvalidArgumentError, match=r"^tables item \{'nom': 'x'\} must have 'name'"):
        named_tables([{"nom": "x"}])
    with pytest.raises(InvalidArgumentError, match=r"^tables item 3 must be a name or a mapping with 'name'\.$"):
        named_tables([3])
