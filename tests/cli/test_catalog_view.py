"""The reporting rows and the CLI's own pieces as pure functions: RPO states at their boundaries, the rows of a
catalog built in memory, durations and times as typed, redaction, and ``--help`` without Airflow."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from sr_airflow.cli import Output, parse_duration, parse_moment
from sr_airflow.engine.catalog import Catalog, CatalogEntry, PartitionRecord
from sr_airflow.reporting.catalog_view import rpo_rows, rpo_state, snapshot_rows

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
HOUR = 3600.0


def entry(label: str, database: str, hours: float | None, *, kind: str = "full", parent: str | None = None,
          status: str = "ok", size: int | None = 100, phases: dict | None = None) -> CatalogEntry:
    taken = None if hours is None else T0 + timedelta(hours=hours)
    return CatalogEntry(label=label, repository="r", database=database, snapshot_kind=kind, status=status,
                        parent_label=parent, backup_time=taken,
                        backup_timestamp=taken.strftime("%Y-%m-%d-%H-%M-%S-000") if taken else None,
                        created_at=T0 + timedelta(hours=hours or 0), snapshot_bytes=size,
                        partitions=[PartitionRecord("t", "p1", 1, 2, 3, 4)], phase_seconds=phases or {})


@pytest.mark.parametrize(("age", "target", "state"), [
    (0.0, HOUR, "green"),
    (HOUR, HOUR, "green"),                 # at the target: still green
    (HOUR + 0.001, HOUR, "amber"),
    (2 * HOUR, HOUR, "amber"),             # at twice the target: still amber
    (2 * HOUR + 0.001, HOUR, "red"),
    (None, HOUR, "red"),                   # no OK snapshot
    (5.0, None, "unknown"),                # no target
    (None, None, "unknown"),
])
def test_rpo_state_boundaries(age, target, state):
    assert rpo_state(age, target) == state


def test_rpo_rows_age_target_and_size_trend_per_database():
    catalog = Catalog([
        entry("a_full", "a", 0, size=1000), entry("a_inc", "a", 1, kind="incremental", parent="a_full", size=300),
        entry("a_pending", "a", None, kind="incremental", parent="a_inc", status="pending", size=None),
        entry("b_failed", "b", 2, status="failed"),
    ])
    now = T0 + timedelta(hours=3)
    rows = {r["database"]: r for r in rpo_rows(catalog, now=now, target=timedelta(hours=2))}
    assert rows["a"] == {"database": "a", "newest_ok": "a_inc", "kind": "incremental",
                         "taken_at": "2024-05-01T03:00:00+00:00", "age_seconds": 2 * HOUR,
                         "target_seconds": 2 * HOUR, "state": "green", "ok_snapshots": 2,
                         "sizes": [["2024-05-01T02:00:00+00:00", 1000], ["2024-05-01T03:00:00+00:00", 300]]}
    assert (rows["b"]["newest_ok"], rows["b"]["age_seconds"], rows["b"]["state"], rows["b"]["sizes"]) == (
        None, None, "red", [])
    per_database = {r["database"]: r for r in rpo_rows(catalog, now=now, target={"a": 1800})}
    assert (per_database["a"]["state"], per_database["b"]["state"]) == ("red", "unknown")
    assert rpo_rows(catalog, now=now, target=1.5 * HOUR)[0]["state"] == "amber"
    with pytest.raises(ValueError, match="an RPO target must be positive"):
        rpo_rows(catalog, now=now, target=0)


def test_snapshot_rows_newest_first_filtered_by_time_and_database():
    catalog = Catalog([entry("f", "a", 0, phases={"snapshot": 1.0, "upload": 2.5, "total": 4.0}),
                       entry("i", "a", 2, kind="incremental", parent="f", phases={"snapshot": 1.0, "upload": 2.5}),
                       entry("g", "b", 1)])
    rows = snapshot_rows(catalog)
    assert [r["label"] for r in rows] == ["i", "g", "f"]
    assert {r["label"]: r["seconds"] for r in rows} == {"i": 3.5, "g": None, "f": 4.0}  # total, else the sum
    assert [r["label"] for r in snapshot_rows(catalog, database="a")] == ["i", "f"]
    window = {"since": T0 + timedelta(hours=1), "until": T0 + timedelta(hours=2)}
    assert [r["label"] for r in snapshot_rows(catalog, **window)] == ["i", "g"]  # both ends inclusive


@pytest.mark.parametrize(("text", "seconds"), [("26h", 26 * HOUR), ("90m", 5400), ("2w", 14 * 24 * HOUR),
                                               ("45s", 45), ("3600", HOUR), ("1.5h", 1.5 * HOUR)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "h", "26x", "1h 2m", "-3h", "0h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="duration"):
        parse_duration(text)


def test_moments_iso_naive_as_utc_and_durations_back_from_now():
    assert parse_moment("2024-05-01T02:00:00Z") == T0
    assert parse_moment("2024-05-01T02:00:00") == T0
    assert parse_moment("2024-05-01T04:00:00+02:00") == T0
    before = datetime.now(UTC)
    assert before - timedelta(days=7, seconds=1) <= parse_moment("7d") <= datetime.now(UTC) - timedelta(days=7)
    with pytest.raises(argparse.ArgumentTypeError, match="is not a time"):
        parse_moment("yesterday")


def test_output_redacts_secrets(capsys):
    out = Output(["s3cr3t-value"])
    out.error("cannot read with s3cr3t-value")
    out.json({"key": "s3cr3t-value"})
    captured = capsys.readouterr()
    assert "s3cr3t-value" not in captured.out + captured.err
    assert captured.err == "sr-airflow: cannot read with ***\n"


def test_help_is_fast_and_imports_no_airflow():
    code = ("import sys, contextlib, io\nfrom sr_airflow.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "    main(['list', '--help'])\n"
            "print(sorted(m for m in ('airflow', 'pyarrow', 'rich', 'boto3') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_catalog_text_is_printed_as_is_never_as_markup():
    import io

    buffer = io.StringIO()
    out = Output(stdout=buffer)
    out.line("job said [OK] and [bold]x[/]")
    out.table("snapshots", ["label", "state"], [["[red]odd[/]", ("amber", "yellow")]], empty="none")
    printed = buffer.getvalue()
    assert "job said [OK] and [bold]x[/]" in printed and "[red]odd[/]" in printed and "amber" in printed
