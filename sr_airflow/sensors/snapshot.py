"""StarRocksSnapshotSensor: wait until a snapshot is usable in a repository, as a given cluster sees it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sr_airflow.operators.base import DEFAULT_CONN_ID
from sr_airflow.sensors.job import _StarRocksWatchSensor

if TYPE_CHECKING:
    from sr_airflow.engine.jobwatch import JobWatch


class StarRocksSnapshotSensor(_StarRocksWatchSensor):
    """Wait until ``SHOW SNAPSHOT ON repository`` lists ``snapshot_label`` with status OK on this connection's
    cluster — typically the migration target, whose (read-only) repository points at the source's location.

    :param repository: the repository name on this cluster.
    :param snapshot_label: the snapshot label.
    :param starrocks_conn_id: the cluster that must see it.
    :param deferrable: wait in the triggerer instead of poking in the worker.
    :param max_poll_interval: the cap of the trigger's backoff, seconds (it starts at ``poke_interval``).
    """

    template_fields: Sequence[str] = ("repository", "snapshot_label")

    def __init__(self, *, repository: str, snapshot_label: str, starrocks_conn_id: str = DEFAULT_CONN_ID,
                 deferrable: bool | None = None, max_poll_interval: float = 60.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._watch_settings(starrocks_conn_id, deferrable, max_poll_interval)
        self.repository = repository
        self.snapshot_label = snapshot_label

    def watch(self) -> JobWatch:
        from sr_airflow.engine.jobwatch import JobWatch

        return JobWatch(job_type="snapshot", repository=self.repository, label=self.snapshot_label)
