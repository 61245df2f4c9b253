"""A fake task context for calling operator.execute() without the Airflow database."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pendulum


class _TI:
    def __init__(self):
        self.map_index = -1
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value


class _Store(dict):
    """Like Airflow's ``task_state_store``: kept across attempts (in a file here, in the metadata DB there)."""

    def __init__(self, path: str | None = None):
        super().__init__(json.loads(Path(path).read_text()) if path and Path(path).exists() else {})
        self.path = path

    def set(self, key, value):
        self[key] = value
        if self.path:
            Path(self.path).write_text(json.dumps(self, default=str))


def task_context(run_id: str = "manual__rel", moment=None, store: str | None = None) -> dict:
    """The few context keys the StarRocks operators read (no Airflow database needed). ``outlet_events`` is
    Airflow's own accessor: a backup adds its database's Asset event to it (read ``asset_alias_events``)."""
    from airflow.sdk.execution_time.context import OutletEventAccessors

    moment = moment or pendulum.datetime(2024, 6, 1, tz="UTC")
    dag_run = SimpleNamespace(run_id=run_id, logical_date=moment, run_after=moment)
    return {"ti": _TI(), "dag_run": dag_run, "logical_date": moment, "task_state_store": _Store(store),
            "outlet_events": OutletEventAccessors()}


