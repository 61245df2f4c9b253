"""Times as aware datetimes, server versions, and the snapshot label scheme."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.labels import base_label, generations, is_sr_airflow_label, snapshot_label, with_generation
from sr_airflow.engine.quoting import quote_identifier
from sr_airflow.engine.timestamps import format_backup_timestamp, parse_backup_timestamp, parse_show_time
from sr_airflow.engine.version import ServerVersion


def test_backup_timestamp_is_read_in_the_frontend_zone():
    moment = parse_backup_timestamp("2024-12-09-10-25-58-842", "Asia/Shanghai")
    assert moment == pendulum.datetime(2024, 12, 9, 2, 25, 58, 842000, tz="UTC")
    assert format_backup_timestamp(moment, "Asia/Shanghai") == "2024-12-09-10-25-58-842"
    assert parse_backup_timestamp("2024-12-09-10-25-58").microsecond == 0


def test_timestamps_compare_as_times_not_strings():
    # The same instant written by two frontends in different zones.
    assert parse_backup_timestamp("2024-12-09-10-00-00-000", "Asia/Shanghai") == parse_backup_timestamp(
        "2024-12-09-02-00-00-000", "UTC")


@pytest.mark.parametrize("bad", ["2024-12-09 10:25:58", "2024-13-09-10-25-58-842", "", "x"])
def test_bad_backup_timestamps(bad):
    with pytest.raises(InvalidArgumentError, match="backup_timestamp"):
        parse_backup_timestamp(bad)


def test_show_time_null_forms():
    assert parse_show_time(None) is None and parse_show_time("\\N") is None
    assert parse_show_time("2024-01-01 00:00:00", "Europe/Paris").in_timezone("UTC").hour == 23


def test_server_version():
    version = ServerVersion.parse("3.5.2-abc1234")
    assert (version.major, version.minor, version.patch, version.build) == (3, 5, 2, "abc1234")
    assert version.has_object_backup_syntax and not version.has_drop_snapshot
    assert ServerVersion.parse("4.2.0-ee-1").has_drop_snapshot
    assert not ServerVersion.parse("3.3.12-a").has_object_backup_syntax
    with pytest.raises(InvalidArgumentError, match="current_version"):
        ServerVersion.parse("8.0.33-mimic".replace("8.0.33", "eight"))


def _label(**overrides):
    args = {"label_kind": "full", "database": "sr_hub", "moment": pendulum.datetime(2024, 1, 2, 3, 4, 5),
            "dag_id": "sr_full_backup", "run_id": "scheduled__2024-01-02", "scope": {"tables": ["a"]}} | overrides
    return snapshot_label(**args)


def test_labels_are_deterministic_and_distinct():
    assert _label() == _label()
    assert _label() != _label(run_id="manual__x")
    assert _label() != _label(database="other")
    assert _label() != _label(scope={"tables": ["b"]})
    assert _label().startswith("full_sr_hub_20240102T030405_")


@given(st.text(min_size=1, max_size=300), st.text(max_size=300))
def test_labels_are_plain_identifiers_for_any_input(database, run_id):
    label = _label(database=database, run_id=run_id)
    assert is_sr_airflow_label(label) and len(label) <= 100
    assert quote_identifier(label) == f"`{label}`"


def test_generations():
    label = _label()
    assert base_label(with_generation(label, 3)) == label and with_generation(label, 0) == label
    assert generations(label, [label + "_r2", "other", label]) == [label, label + "_r2"]
    with pytest.raises(InvalidArgumentError, match="label kind"):
        _label(label_kind="weekly")
