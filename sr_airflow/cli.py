"""``sr-airflow``: what a repository's catalog holds, read from storage with the DAGs' Airflow connections.

Commands: ``repos``, ``list``, ``show LABEL``, ``chain DATABASE [--at T]``, ``rpo [--target 26h]``,
``verify LABEL``. Tables by default (rich), ``--json`` for stable JSON (sorted keys, ISO-8601 UTC times).
``--location``, ``--repository`` and ``--storage-conn-id`` default to the ``[defaults]`` of sr_airflow.toml (the
file the shipped DAGs read). Exit codes: 0 done, 1 ``verify`` found a bad snapshot, 2 anything else went wrong
(one line on stderr, no traceback; ``SR_AIRFLOW_DEBUG=1`` shows it).

Only argparse is imported until a command runs, so ``sr-airflow --help`` does not load Airflow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

PROG = "sr-airflow"
EXIT_FAILED_CHECK = 1  # verify found a bad snapshot; rpo --fail-on found a database past its target
EXIT_ERROR = 2
PIPED_WIDTH = 240  # columns of a table written to a file or a pipe: a snapshot label never folds


class CliError(Exception):
    """An error for one line on stderr and exit code 2."""


# ---- argument types ----------------------------------------------------------------------------------------------
def parse_duration(text: str) -> timedelta:
    """``45s``, ``90m``, ``26h``, ``2d``, ``1w`` or seconds: the durations sr_airflow.toml takes
    (``ui.settings.parse_duration``)."""
    from sr_airflow.engine.errors import InvalidArgumentError
    from sr_airflow.ui.settings import parse_duration as seconds_of

    try:
        seconds = seconds_of(text.strip(), "a duration")
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds is None:
        raise argparse.ArgumentTypeError("a duration must not be empty.")
    return timedelta(seconds=seconds)


def parse_moment(text: str) -> datetime:
    """An ISO-8601 time (no zone: UTC), ``now``, or a duration back from now (``7d``: seven days ago)."""
    value = text.strip()
    if value.lower() == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.now(UTC) - parse_duration(value)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a time: give ISO-8601 (2024-05-01T02:00:00Z), 'now' or a duration back from now "
                "(7d, 26h).") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---- the parser --------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where the catalog is (default: [defaults] of sr_airflow.toml)")
    where.add_argument("--location", help="repository location, e.g. s3://bucket/backups")
    where.add_argument("--repository", help="repository name")
    where.add_argument("--storage-conn-id", help="Airflow connection of the storage (aws, google_cloud_platform, "
                                                 "hdfs); AIRFLOW_CONN_<ID> works")
    where.add_argument("--endpoint", help="S3 endpoint URL, when the connection has none")
    common.add_argument("--json", action="store_true", help="stable JSON on stdout (sorted keys, ISO-8601 UTC times)")

    parser = argparse.ArgumentParser(
        prog=PROG, description="What a StarRocks backup repository holds, read from its catalog in storage.",
        epilog="Exit codes: 0 done; 1 a check failed (verify found a bad snapshot, rpo --fail-on a database past "
               "its target); 2 error (missing repository, label or connection, bad argument).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, helptext: str, run: Callable[..., int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=helptext, description=helptext)
        sub.set_defaults(run=run)
        return sub

    command("repos", "repositories with a catalog under --location", cmd_repos)
    sub = command("list", "snapshots of the repository, newest first", cmd_list)
    sub.add_argument("--database", help="only this database")
    sub.add_argument("--since", type=parse_moment, help="taken at or after (ISO-8601, or 7d for seven days ago)")
    sub.add_argument("--until", type=parse_moment, help="taken at or before (ISO-8601, or a duration ago)")
    sub = command("show", "one snapshot: its partitions and what a restore at its moment runs", cmd_show)
    sub.add_argument("label")
    sub = command("chain", "the snapshots and RESTORE jobs a point-in-time restore of DATABASE runs", cmd_chain)
    sub.add_argument("database")
    sub.add_argument("--at", type=parse_moment, help="the point in time (default: the newest snapshot)")
    sub.add_argument("--table", action="append", dest="tables", metavar="TABLE",
                     help="restore only this table (repeatable)")
    sub = command("rpo", "per database: age of the newest OK snapshot against a target, the size trend and the "
                         "last restore drill", cmd_rpo)
    sub.add_argument("--database", help="only this database")
    sub.add_argument("--target", type=parse_duration,
                     help="RPO target, e.g. 26h (default: [ui] rpo_target of sr_airflow.toml, 26h)")
    sub.add_argument("--fail-on", choices=("amber", "red"),
                     help="exit 1 when a database's state is this or worse (for cron and monitoring checks)")
    sub = command("verify", "the snapshot's files against their md5s in storage (every file read)", cmd_verify)
    sub.add_argument("label")
    return parser


# ---- the commands ------------------------------------------------------------------------------------------------
def cmd_repos(args: argparse.Namespace, out: Output) -> int:
    from sr_airflow.reporting.open_catalog import repositories

    found = repositories(_storage(args))
    rows = [{"repository": name, "catalog_entries": count} for name, count in found.items()]
    if args.json:
        out.json(rows)
    else:
        out.table(f"Repositories with a catalog at {args.location}", ["repository", "catalog entries"],
                  [[r["repository"], str(r["catalog_entries"])] for r in rows], empty="none")
    return 0


def cmd_list(args: argparse.Namespace, out: Output) -> int:
    from sr_airflow.reporting.catalog_view import snapshot_rows

    rows = snapshot_rows(_catalog(args), database=args.database, since=args.since, until=args.until)
    if args.json:
        out.json(rows)
        return 0
    out.table(f"Snapshots of {args.repository} at {args.location}",
              ["label", "database", "kind", "scope", "taken at", "size", "duration", "parent", "status"],
              [[r["label"], r["database"], r["kind"], _scope_text(r["scope"]), _time_text(r["taken_at"]),
                _bytes_text(r["bytes"]), _seconds_text(r["seconds"]), r["parent"] or "", _status_text(r["status"])]
               for r in rows], empty="no snapshots")
    return 0


def cmd_show(args: argparse.Namespace, out: Output) -> int:
    from sr_airflow.reporting.catalog_view import show_snapshot

    shown = show_snapshot(_catalog(args), args.label)
    if args.json:
        out.json(shown)
        return 0
    out.line(f"{shown['label']}  {shown['kind']} snapshot of {shown['database']}, {shown['status']}", style="bold")
    out.line(f"  taken at {_time_text(shown['taken_at'])} (backup timestamp {shown['backup_timestamp']}), "
             f"{_bytes_text(shown['bytes'])}, took {_seconds_text(shown['seconds'])}, "
             f"parent {shown['parent'] or '-'}, scope {_scope_text(shown['scope'])}")
    if shown["message"]:
        out.line(f"  message: {shown['message']}")
    out.table(f"Partitions held ({len(shown['partitions'])})", ["table", "partition", "version", "rows", "size"],
              [[p["table"], p["partition"], _int_text(p["version"]), _int_text(p["rows"]), _bytes_text(p["bytes"])]
               for p in shown["partitions"]], empty="none")
    for tomb in shown["tombstones"]:
        out.line(f"  dropped since its parent: table {tomb['table']}"
                 + (f" partition {tomb['partition']}" if tomb["partition"] else ""))
    if shown["restore"] is None:
        out.line(f"Restore at its moment: none ({shown['restore_error']})")
    else:
        _print_chain(out, shown["restore"])
    return 0


def cmd_chain(args: argparse.Namespace, out: Output) -> int:
    from sr_airflow.reporting.catalog_view import chain_rows

    chain = chain_rows(_catalog(args), args.database, at=args.at, tables=args.tables)
    if args.json:
        out.json(chain)
    else:
        _print_chain(out, chain)
    return 0


def cmd_rpo(args: argparse.Namespace, out: Output) -> int:
    from sr_airflow.reporting.catalog_view import rpo_rows

    target = args.target
    if target is None:
        from sr_airflow.ui.settings import load_settings

        target = load_settings().rpo_target_seconds
    from sr_airflow.reporting.open_catalog import load_from_storage
    from sr_airflow.storage.drill_store import last_drills

    storage = _storage(args)
    catalog = load_from_storage(storage, args.repository)
    rows = rpo_rows(catalog, now=datetime.now(UTC), target=target, drills=last_drills(storage, args.repository))
    if args.database:
        rows = [r for r in rows if r["database"] == args.database]
        if not rows:
            raise CliError(f"database {args.database!r} has no snapshot in repository {args.repository!r}.")
    failing = [r["database"] for r in rows if _fails(r["state"], args.fail_on)]
    if args.json:
        out.json(rows)
    else:
        _print_rpo(out, args, rows)
    if failing:
        out.error(f"RPO {args.fail_on} or worse: {', '.join(failing)}.")
        return EXIT_FAILED_CHECK
    return 0


def _fails(state: str, fail_on: str | None) -> bool:
    """Whether ``state`` is at or beyond ``fail_on`` (amber: amber or red; red: red). ``unknown`` never fails."""
    return fail_on is not None and state in {"amber": ("amber", "red"), "red": ("red",)}[fail_on]


def _print_rpo(out: Output, args: argparse.Namespace, rows: list[dict]) -> None:
    out.table(f"RPO of {args.repository} at {args.location}",
              ["database", "newest OK", "taken at", "age", "target", "state", "OK snapshots", "size trend",
               "last drill"],
              [[r["database"], r["newest_ok"] or "none", _time_text(r["taken_at"]), _seconds_text(r["age_seconds"]),
                _seconds_text(r["target_seconds"]), _state_text(r["state"]), str(r["ok_snapshots"]),
                _trend_text([size for _, size in r["sizes"]]), _drill_text(r["last_drill"])] for r in rows],
              empty="no snapshots")


_DRILL_STYLE = {"ok": "green", "failed": "bold red", "running": "yellow"}


def _drill_text(drill: dict | None) -> tuple[str, str]:
    """The last restore drill of a database: its result, when it started, its RTO (restore and verify)."""
    if drill is None:
        return "none", "dim"
    return (f"{drill['result']} {_time_text(drill['started_at'])}, RTO {_seconds_text(drill['rto_seconds'])}",
            _DRILL_STYLE.get(drill["result"], ""))


def cmd_verify(args: argparse.Namespace, out: Output) -> int:
    from sr_airflow.engine.errors import SrAirflowError
    from sr_airflow.operators.snapshot_check import check_snapshot
    from sr_airflow.reporting.open_catalog import load_from_storage

    storage = _storage(args)
    entry = load_from_storage(storage, args.repository).get(args.label)
    try:
        result = check_snapshot(storage, args.repository, entry.label, entry.backup_timestamp, deep=True)
    except SrAirflowError as exc:
        if args.json:
            out.json({"ok": False, "snapshot_label": entry.label, "error": str(exc)})
        out.error(f"verify failed: {exc}")
        return EXIT_FAILED_CHECK
    result = {"ok": True, **result}
    if args.json:
        out.json(result)
    else:
        out.line(f"Snapshot {entry.label} ({result['backup_timestamp']}) is OK: {result['files']} files, "
                 f"{_bytes_text(result['size_bytes'])}, {result['files_md5_checked']} md5s recomputed.")
    return 0


# ---- opening the catalog -----------------------------------------------------------------------------------------
def _fill_defaults(args: argparse.Namespace) -> None:
    """Options not given come from [defaults] of sr_airflow.toml (or the built-in defaults of the DAGs)."""
    if args.location and args.repository and args.storage_conn_id:
        return
    from sr_airflow.dag_defaults import load_defaults

    defaults = load_defaults("sr_full_backup")
    args.location = args.location or defaults["location"]
    args.repository = args.repository or defaults["repository"]
    if args.storage_conn_id is None:
        args.storage_conn_id = defaults["storage_conn_id"]


def _storage(args: argparse.Namespace):
    from sr_airflow.reporting.open_catalog import open_storage

    return open_storage(args.location, args.storage_conn_id or None, endpoint=args.endpoint)


def _catalog(args: argparse.Namespace):
    from sr_airflow.reporting.open_catalog import load_from_storage

    return load_from_storage(_storage(args), args.repository)


# ---- output ------------------------------------------------------------------------------------------------------
class Output:
    """stdout through rich (tables; plain text without colours when stdout is not a terminal), errors to stderr.
    ``secrets`` are replaced by ``***`` in everything written."""

    def __init__(self, secrets: Sequence[str] = (), *, stdout: TextIO | None = None):
        self.secrets = [s for s in secrets if s]
        self.stdout = stdout or sys.stdout
        self._console = None

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            console = Console(file=self.stdout, highlight=False)
            if not console.is_terminal:  # piped: no wrap of wide tables, even where COLUMNS says 80 (pytest, cron)
                columns = os.environ.get("COLUMNS", "")
                console = Console(file=self.stdout, highlight=False,
                                  width=max(int(columns) if columns.isdigit() else 0, PIPED_WIDTH))
            self._console = console
        return self._console

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def json(self, value: Any) -> None:
        self.stdout.write(self.redact(json.dumps(value, sort_keys=True, indent=2, default=str)) + "\n")

    def line(self, text: str, *, style: str = "") -> None:
        """One line of plain text (catalog values are never read as rich markup)."""
        from rich.text import Text

        self.console.print(Text(self.redact(text), style=style))

    def table(self, title: str, columns: list[str], rows: list[list[str | tuple[str, str]]], *, empty: str) -> None:
        """A table of plain-text cells; a ``(text, style)`` cell is shown in that style."""
        from rich.table import Table
        from rich.text import Text

        if not rows:
            self.line(f"{title}: {empty}")
            return
        table = Table(title=Text(self.redact(title)), title_justify="left", header_style="bold")
        for name in columns:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(Text(self.redact(cell[0]), style=cell[1]) if isinstance(cell, tuple)
                            else Text(self.redact(str(cell))) for cell in row))
        self.console.print(table)

    def error(self, message: str) -> None:
        sys.stderr.write(f"{PROG}: {self.redact(message)}\n")


def _print_chain(out: Output, chain: dict) -> None:
    when = chain["point_in_time"] or "the newest snapshot"
    out.line(f"Restore of {chain['database']} as of {when}: {chain['partitions']} partition(s) from "
             f"{len(chain['entries'])} snapshot(s) read, {len(chain['jobs'])} RESTORE job(s); newest read "
             f"{chain['snapshot_label']}")
    out.table("Snapshots read", ["label", "kind", "taken at"],
              [[label, kind, _time_text(at)] for label, kind, at in chain["entries"]], empty="none")
    out.table("RESTORE jobs", ["#", "snapshot", "tables (partitions), views, functions", "creates"],
              [[str(i), job["snapshot_label"], _job_text(job), ", ".join(job["creates"])]
               for i, job in enumerate(chain["jobs"], start=1)], empty="none")
    for table, why in sorted(chain["excluded_tables"].items()):
        out.line(f"  left out: table {table}: {why}")
    for name in chain["missing_objects"]:
        out.line(f"  not restorable: {name}")


def _job_text(job: dict) -> str:
    """What one RESTORE job brings: each table with its partitions, then the views, materialized views and
    functions (all of them for a snapshot recorded before objects were)."""
    from sr_airflow.engine.catalog import object_label

    parts = [f"{t['name']} ({'whole' if t['whole'] else ', '.join(t['partitions'])})" for t in job["tables"]]
    parts += [object_label(kind, name) for kind, names in sorted(job["objects"].items()) for name in names]
    if job["all_objects"]:
        parts.append("all views and functions")
    return "; ".join(parts)


def _scope_text(scope: dict) -> str:
    tables = scope.get("tables")
    return "tables " + ", ".join(tables) if tables else "whole database"


def _time_text(iso_text: str | None) -> str:
    if not iso_text:
        return "-"
    return datetime.fromisoformat(iso_text).strftime("%Y-%m-%d %H:%M:%S UTC")


def _int_text(value: int | None) -> str:
    return "-" if value is None else str(value)


def _bytes_text(value: int | None) -> str:
    if value is None:
        return "-"
    size, unit = float(value), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    return f"{value} B" if unit == "B" else f"{size:.1f} {unit}"


def _seconds_text(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"


_STATE_STYLE = {"green": "green", "amber": "yellow", "red": "bold red", "unknown": "dim"}


def _state_text(state: str) -> tuple[str, str]:
    return state, _STATE_STYLE.get(state, "")


def _status_text(status: str) -> tuple[str, str]:
    return status, "" if status == "ok" else "yellow"


def _trend_text(sizes: list[int | None]) -> str:
    """The sizes of the OK snapshots, oldest first, as a sparkline and the newest size."""
    known = [s for s in sizes[-20:] if s is not None]
    if not known:
        return "-"
    low, high = min(known), max(known)
    bars = "▁▂▃▄▅▆▇█"
    spark = "".join(bars[0 if high == low else round((s - low) / (high - low) * (len(bars) - 1))] for s in known)
    return f"{spark} {_bytes_text(known[-1])}"


# ---- errors and main ---------------------------------------------------------------------------------------------
def _connection_secrets(conn_id: str | None) -> list[str]:
    """The secret values of the storage connection, so nothing printed shows them."""
    if not conn_id:
        return []
    try:
        from sr_airflow.storage.connections import load_connection

        conn = load_connection(conn_id)
    except Exception:  # noqa: BLE001 - an unknown connection is reported where it is used
        return []
    extra = getattr(conn, "extra_dejson", None) or {}
    found = [conn.password or ""]
    found += [str(v) for k, v in extra.items()
              if isinstance(v, str) and any(w in k.lower() for w in ("secret", "password", "token", "key"))
              and "id" not in k.lower()]
    return [s for s in found if len(s) >= 4]


def _error_line(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "AirflowNotFoundException":
        return f"connection not found: {exc}"
    if isinstance(exc, CliError):
        return str(exc)
    from sr_airflow.engine.errors import SrAirflowError

    if isinstance(exc, SrAirflowError):
        return str(exc)
    if isinstance(exc, FileNotFoundError | PermissionError):
        return f"storage: {exc}"
    return f"{name}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Airflow logs to stdout and at INFO: keep stdout for the answer (tables, JSON) and log warnings only, to stderr.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    # Look connections up as Airflow's server processes do: environment variables, a configured secrets backend,
    # then the metadata database. Outside a task, Airflow's SDK searches the database only in a process marked
    # "server" (task-sdk 1.3, airflow.sdk.execution_time.supervisor.ensure_secrets_backend_loaded); this CLI runs
    # where the scheduler and the API server run, like `airflow connections get`.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    out = Output(stdout=sys.stdout)
    sys.stdout = sys.stderr
    try:
        _fill_defaults(args)
        out.secrets = _connection_secrets(args.storage_conn_id)
        return args.run(args, out)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line and exit 2, never a traceback (SR_AIRFLOW_DEBUG shows it)
        if os.environ.get("SR_AIRFLOW_DEBUG"):
            raise
        out.error(_error_line(exc))
        return EXIT_ERROR
    finally:
        sys.stdout = out.stdout
        out.stdout.flush()


def run() -> None:
    """The console script: ``main``, then an exit that skips the interpreter's teardown. The suite once saw the
    command print its answer and then abort in a native library's teardown ("terminate called without an active
    exception", exit -6: a C++ thread still joinable when the process ended); the answer and the exit code are the
    command's own, so the streams are flushed and the process leaves with its code."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
