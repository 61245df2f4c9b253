"""engine/coerce.py: templated booleans and integers, as a rendered template hands them over."""

from __future__ import annotations

import pytest

from sr_airflow.engine.coerce import as_bool, as_int, as_optional_bool, as_optional_int
from sr_airflow.engine.errors import InvalidArgumentError


@pytest.mark.parametrize("value,expected", [
    (True, True), (False, False), (1, True), (0, False), ("True", True), ("False", False), ("false", False),
    (" TRUE ", True), ("1", True), ("0", False), ("yes", True), ("no", False), ("on", True), ("off", False),
])
def test_as_bool_reads_bools_and_their_texts(value, expected):
    assert as_bool("allow_overwrite", value) is expected


@pytest.mark.parametrize("value", ["perhaps", 2, -1, "", None, "None", 0.5, [], "truex"])
def test_as_bool_refuses_anything_else_naming_the_field(value):
    with pytest.raises(InvalidArgumentError, match=r"^allow_overwrite must be true or false, got "):
        as_bool("allow_overwrite", value)


def test_as_bool_gives_the_default_for_a_missing_value_only():
    assert as_bool("dry_run", None, default=True) is True
    assert as_bool("dry_run", "None", default=False) is False
    assert as_bool("dry_run", "", default=True) is True
    with pytest.raises(InvalidArgumentError, match=r"^dry_run must be true or false, got 'nope'\.$"):
        as_bool("dry_run", "nope", default=True)


@pytest.mark.parametrize("value,expected", [(600, 600), ("600", 600), (" 7 ", 7), (3.0, 3), ("-2", -2)])
def test_as_int_reads_ints_and_their_texts(value, expected):
    assert as_int("timeout", value) == expected


@pytest.mark.parametrize("value", [True, False, "6.5", 6.5, "six", "", None, "0x10", [1]])
def test_as_int_refuses_anything_else_naming_the_field(value):
    with pytest.raises(InvalidArgumentError, match=r"^timeout must be a whole number, got "):
        as_int("timeout", value)


def test_as_int_checks_the_minimum():
    assert as_int("keep_last", "0", minimum=0) == 0
    with pytest.raises(InvalidArgumentError, match=r"^keep_last must be 0 or more, got -1\.$"):
        as_int("keep_last", "-1", minimum=0)


@pytest.mark.parametrize("missing", [None, "", "None", " none ", "null"])
def test_the_optional_forms_keep_a_missing_value_as_none(missing):
    assert as_optional_int("replication_num", missing) is None
    assert as_optional_bool("allow_load", missing) is None


def test_the_optional_forms_still_refuse_a_bad_value():
    assert as_optional_int("replication_num", "3") == 3
    assert as_optional_bool("allow_load", "False") is False
    with pytest.raises(InvalidArgumentError, match=r"^replication_num must be a whole number, got 'three'\.$"):
        as_optional_int("replication_num", "three")
    with pytest.raises(InvalidArgumentError, match=r"^allow_load must be true or false, got 'x'\.$"):
        as_optional_bool("allow_load", "x")
