"""Defaults for the shipped DAGs' params, from one documented place: a TOML file.

The file is ``$SR_AIRFLOW_CONFIG`` if set, else ``$AIRFLOW_HOME/sr_airflow.toml``; without a file the built-in
defaults below apply. It is read when a DAG file is parsed (a local file, no network, no metadata database), and
a bad value raises one clear error naming the file, the section and the key, which Airflow shows as that DAG
file's import error without disturbing the other DAGs. See docs/dags.md for every key.

The DAG processor re-runs every DAG file each parse cycle in a process that keeps its modules: the parsed file
is kept (by its text), so an unchanged file is not parsed again, and ``tomllib`` is imported only when a file
exists.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError

DAG_IDS = ("sr_full_backup", "sr_incremental_backup", "sr_migration", "sr_restore", "sr_restore_drill",
           "sr_retention")

# Key → (type, default). Types: "str", "str?", "list[str]", "int?", "count", "count?", "bool", "schedule", "dict".
COMMON_KEYS: dict[str, tuple[str, Any]] = {
    "starrocks_conn_id": ("str", "starrocks_default"),
    "repository": ("str", "sr_backups"),
    "location": ("str", "s3://sr-backups/starrocks"),
    "storage_conn_id": ("str?", "aws_default"),
    "databases": ("list[str]", []),
    # Every waiting task of the shipped DAGs defers to the triggerer (no worker slot held while a job runs); with no
    # triggerer running, each logs a warning and polls in its worker (operators/base.py, will_defer).
    "deferrable": ("bool", True),
    # Retries of every task; unset: Airflow's [core] default_task_retries / default_retry_delay. Airflow 3.3's
    # scheduler can fail a deferred task whose resumed attempt is already running when the stale "success" of its
    # defer exit arrives (apache/airflow#72716, fix open in #72767): with retries = 1 the retry adopts the job it
    # started (docs/dags.md).
    "retries": ("int?", None),
    "retry_delay_s": ("int?", None),
}

DAG_KEYS: dict[str, dict[str, tuple[str, Any]]] = {
    "sr_full_backup": {"schedule": ("schedule", "0 2 * * *"), "objects": ("dict", {}),
                       "timeout_s": ("int?", None),
                       # BACKUP jobs in flight per run, so per cluster while one run backs up one cluster: the
                       # backup task's max_active_tis_per_dagrun, which Airflow 3.3 counts with DEFERRED tasks
                       # (ti_deps/dependencies_states.py ACTIVE_STATES; a pool counts them only with
                       # include_deferred). StarRocks sets no cluster-wide limit: BackupHandler's one daemon
                       # thread steps every job every 3 s (3.5 e223275f BackupHandler.runAfterCatalogReady).
                       "max_parallel_backups": ("count?", 8),
                       # runs at once; above 1 only when each concurrent run targets another cluster (two runs
                       # on one cluster would double its cap)
                       "max_active_runs": ("count", 1)},
    "sr_incremental_backup": {
        "schedule": ("schedule", "0 * * * *"),
        "mode": ("str", "changed"),
        "partition_template": ("str", "p{{ data_interval_start | ds_nodash }}"),
        "table": ("str?", None),
        "full_every_n": ("int?", 24),
        "full_every_days": ("int?", 7),
        "timeout_s": ("int?", None),
    },
    "sr_migration": {
        "source_conn_id": ("str", "starrocks_default"),
        "target_conn_id": ("str", "starrocks_target"),
        "max_catch_up_rounds": ("int?", 3),
        "verify": ("str", "versions"),
    },
    "sr_restore": {"verify": ("str", "versions")},
    "sr_restore_drill": {"schedule": ("schedule", "0 5 * * 0"), "scratch_template": ("str", "{database}__drill")},
    "sr_retention": {
        "schedule": ("schedule", "30 3 * * *"),
        "keep_last": ("int?", 7),
        "keep_daily": ("int?", 7),
        "keep_weekly": ("int?", 4),
        "keep_monthly": ("int?", 6),
        "max_age_days": ("int?", None),
        "dry_run": ("bool", False),
    },
}

CHOICES = {"mode": ("changed", "logical_date"), "verify": ("versions", "counts", "checksums")}


def dag_settings(defaults: dict[str, Any]) -> dict[str, Any]:
    """The DAG arguments every shipped DAG sets alike: a fixed start date without catch-up, its tasks' defaults
    (``task_defaults``) and the ``[alerts]`` notifier of sr_airflow.toml as its failure callback."""
    import pendulum

    from sr_airflow.alerts import dag_failure_callback

    return {"start_date": pendulum.datetime(2024, 1, 1, tz="UTC"), "catchup": False,
            "default_args": task_defaults(defaults), "on_failure_callback": dag_failure_callback()}


def task_defaults(defaults: dict[str, Any]) -> dict[str, Any]:
    """The ``default_args`` of a shipped DAG's tasks from its sr_airflow.toml defaults; retries and their delay only
    when the file sets them, so that Airflow's own defaults (``[core] default_task_retries``) apply otherwise."""
    from datetime import timedelta

    args: dict[str, Any] = {"deferrable": defaults["deferrable"]}
    if defaults["retries"] is not None:
        args["retries"] = defaults["retries"]
    if defaults["retry_delay_s"] is not None:
        args["retry_delay"] = timedelta(seconds=defaults["retry_delay_s"])
    return args


def config_path() -> Path:
    explicit = os.environ.get("SR_AIRFLOW_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "sr_airflow.toml"


def _check(kind: str, value: Any, where: str) -> Any:
    ok = {
        "str": isinstance(value, str) and value != "",
        "str?": value is None or isinstance(value, str),
        "list[str]": isinstance(value, list) and all(isinstance(v, str) and v for v in value),
        "int?": value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0),
        "count": isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        "count?": value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1),
        "bool": isinstance(value, bool),
        "schedule": value is None or (isinstance(value, str) and value != ""),
        "dict": isinstance(value, dict),
    }[kind]
    if not ok:
        wanted = {"str": "a non-empty string", "str?": "a string", "list[str]": "a list of non-empty strings",
                  "int?": "a whole number of at least 0", "count": "a whole number of at least 1",
                  "count?": "a whole number of at least 1", "bool": "true or false",
                  "schedule": "a cron expression or preset such as @daily", "dict": "a table"}[kind]
        raise InvalidArgumentError(f"{where} must be {wanted}, got {value!r}.")
    key = where.rsplit(".", 1)[-1]
    if key in CHOICES and value not in CHOICES[key]:
        raise InvalidArgumentError(f"{where} must be one of {', '.join(CHOICES[key])}, got {value!r}.")
    return value


@functools.lru_cache(maxsize=4)
def _parse_toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)


def _read_config(path: Path) -> dict[str, Any]:
    """The file's tables, parsed (the same text is parsed once per process); {} without a file."""
    if not path.exists():
        return {}
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        return copy.deepcopy(_parse_toml(text))  # callers may keep and change what they get
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InvalidArgumentError(f"sr_airflow config {path} is not valid TOML: {err}.") from None


def load_defaults(dag_id: str, path: Path | None = None) -> dict[str, Any]:
    """The effective defaults for ``dag_id``: built-ins, then ``[defaults]``, then ``[<dag_id>]`` of the file."""
    if dag_id not in DAG_KEYS:
        raise InvalidArgumentError(f"dag_id {dag_id!r} is not one of {', '.join(DAG_IDS)}.")
    path = path or config_path()
    data = _read_config(path)
    keys = {**COMMON_KEYS, **DAG_KEYS[dag_id]}
    result = {name: copy.copy(default) for name, (_, default) in keys.items()}
    for section in ("defaults", dag_id):
        values = data.get(section, {})
        if not isinstance(values, dict):
            raise InvalidArgumentError(f"sr_airflow config {path} [{section}] must be a table.")
        for name, value in values.items():
            if name not in keys:
                if section == "defaults" and any(name in DAG_KEYS[d] for d in DAG_IDS):
                    continue  # a DAG-specific key given for all DAGs applies where it exists
                raise InvalidArgumentError(
                    f"sr_airflow config {path} [{section}] has unknown key {name!r}; known keys: "
                    f"{', '.join(sorted(keys))}."
                )
            result[name] = _check(keys[name][0], value, f"sr_airflow config {path} [{section}].{name}")
    return result
