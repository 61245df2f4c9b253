"""The shipped DAGs' params: read by name when a task runs, and the Param blocks several DAGs share.

A task argument ``param("repository")`` is the run's ``repository`` param, read when the task runs: the value
Airflow validated for the run (``context["params"]``: the defaults, the run's conf over them, each checked against
its Param's schema), handed to the operator as the Python value it is (a list stays a list, the text ``"None"``
stays text). Airflow renders any template field whose value has a ``resolve(context)`` method by calling it, as it
does for ``.output`` (XComArgs); nothing is rendered as Jinja, so a param's text is never evaluated.

Why not Airflow's own ``dag.param(name)`` (``DagParam``): a mapped task's ``.partial()`` arguments are serialised
with ``str()``, and a DagParam's text carries its memory address, so the serialised DAG (and its hash) changed at
every parse, each parse a new DAG version; it also reads ``dag_run.conf`` before the validated params, which differ
when ``[core] dag_run_conf_overrides_params`` is off. ``ParamValue`` reads the validated params and prints as
``param('repository')``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import Param
from airflow.sdk.definitions._internal.mixins import ResolveMixin


class ParamValue(ResolveMixin):
    """A task argument taken from the run's validated params when the task runs (see the module docstring)."""

    def __init__(self, read: Callable[[Mapping[str, Any]], Any], text: str) -> None:
        self._read = read
        self._text = text

    def resolve(self, context: Mapping[str, Any]) -> Any:
        value = self._read(context["params"])
        # An emptied list field of the trigger form sends null, a conf may send [] or {}: both mean "not given".
        return None if isinstance(value, (list, dict)) and not value else value

    def iter_references(self):  # no upstream task: a param is there before the run's first task
        return ()

    def __repr__(self) -> str:  # what the serialised DAG and the UI's rendered view show: stable across parses
        return self._text


def param(name: str, *, key: str | None = None) -> ParamValue:
    """The run's param ``name`` (with ``key``: that entry of an object param, None when absent)."""
    if key is None:
        return ParamValue(lambda params: params[name], f"param({name!r})")
    return ParamValue(lambda params: (params[name] or {}).get(key), f"param({name!r}, key={key!r})")


def from_params(function: Callable[[Mapping[str, Any]], Any]) -> ParamValue:
    """``function(params)`` of the run's validated params: a value the DAG derives from several of them."""
    return ParamValue(function, f"from_params({function.__qualname__})")


def same_names(*names: str) -> dict[str, ParamValue]:
    """Task arguments that are the run's params of the same names: ``**same_names("keep_last", "dry_run")``."""
    return {name: param(name) for name in names}


def repository_args() -> dict[str, ParamValue]:
    """The repository arguments of every task that reads or writes it: the params of the same names."""
    return same_names("repository", "location", "storage_conn_id")


# ---------------------------------------------------------------- Param blocks of the trigger forms
# Optional lists and objects include "null" in their type: Airflow's trigger form marks a param required when its
# schema type does not (the UI bundle's isRequired check), and an emptied list field sends null.

def cluster_param(defaults: Mapping[str, Any], title: str, description: str | None = None) -> Param:
    """starrocks_conn_id: the StarRocks connection the DAG works on."""
    return Param(defaults["starrocks_conn_id"], type="string", minLength=1, title=title, description=description)


def databases_param(defaults: Mapping[str, Any], description: str) -> Param:
    """databases: the databases a run works on, each in parallel (at least one, from the config or the conf)."""
    return Param(defaults["databases"], type="array", items={"type": "string", "minLength": 1}, title="Databases",
                 description=description)


def repository_params(defaults: Mapping[str, Any], *, storage_required: bool = True) -> dict[str, Param]:
    """repository, location and storage_conn_id, with their sr_airflow.toml defaults."""
    storage_type: Any = "string" if storage_required else ["string", "null"]
    return {
        "repository": Param(defaults["repository"], type="string", minLength=1, title="Repository"),
        "location": Param(defaults["location"], type="string", minLength=1, title="Location",
                          description="e.g. s3://bucket/backups, gs://bucket/backups, hdfs://nn:8020/backups"),
        "storage_conn_id": Param(defaults["storage_conn_id"], type=storage_type,
                                 **({"minLength": 1} if storage_required else {}), title="Storage connection",
                                 description="aws, google_cloud_platform or hdfs connection with the credentials."),
    }


def restore_params(defaults: Mapping[str, Any]) -> dict[str, Param]:
    """What a restore into a cluster asks, in sr_restore and sr_migration alike: where to, which tables, may it
    overwrite, how to verify, access replay, and the RESTORE job's properties."""
    return {
        "target_database": Param(None, type=["string", "null"], title="Target database",
                                 description="Restore under this name (default: the same name)."),
        "tables": Param([], type=["array", "null"], items={"type": "string", "minLength": 1}, title="Tables",
                        description="Optional: only these tables. Empty: the whole database."),
        "allow_overwrite": Param(False, type="boolean", title="Allow overwrite",
                                 description="Overwrite existing tables of the same schema (never otherwise)."),
        "verify": Param(defaults["verify"], enum=["versions", "counts", "checksums"], title="Verify",
                        description="versions: partition versions against the snapshots; counts: also row counts "
                                    "against the source; checksums: also per-table checksums."),
        "apply_access": Param("none", enum=["none", "roles", "all"], title="Apply users, roles and grants",
                              description="Replay the export beside the snapshot: roles (roles, their grants, "
                                          "resource groups) or all (also users and their grants; users get a "
                                          "password nobody knows). Grants limited to this database."),
        # Properties of each RESTORE job; null leaves StarRocks' default (BackupRestoreAnalyzer's restore
        # analysis: RunMode.defaultReplicationNum(), Config.backup_job_default_timeout_ms, allowLoad false;
        # fork main 14f3b1b9c1).
        "replication_num": Param(None, type=["integer", "null"], minimum=1, title="Replicas",
                                 description="Replicas of the restored tables (empty: StarRocks' default, 3 on "
                                             "shared-nothing). Set it to restore into a cluster with fewer backends "
                                             "than the source."),
        "timeout": Param(None, type=["integer", "null"], minimum=600, title="RESTORE timeout (s)",
                         description="Each RESTORE job's timeout, at least 600 (empty: StarRocks' default, 1 day)."),
        "allow_load": Param(None, type=["boolean", "null"], title="Allow loads while restoring",
                            description="Let loads into the target database run during the restore (empty: "
                                        "StarRocks' default, no)."),
    }
