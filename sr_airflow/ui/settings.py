"""What the backups page shows: the repositories and the RPO target, from sr_airflow.toml.

``[ui]`` may list repositories (``repositories = [{repository, location, storage_conn_id}, ...]``); without it the
page shows the one the shipped DAGs write (``[defaults]`` and ``[sr_full_backup]``, as ``dag_defaults`` resolves
them). ``rpo_target`` is a duration such as ``"26h"``, ``"90m"``, ``"2d"`` or a number of seconds; without it
every database's RPO state is ``unknown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sr_airflow.dag_defaults import _read_config, config_path, load_defaults
from sr_airflow.engine.errors import InvalidArgumentError

MOUNT = "/sr-backups"  # where the API server mounts the page
DEFAULT_RPO_TARGET = "26h"  # a nightly full plus two hours of slack
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


@dataclass(frozen=True)
class PageRepository:
    """One repository shown on the page: its name, its location and the storage connection that reads it."""

    repository: str
    location: str
    storage_conn_id: str | None


@dataclass(frozen=True)
class PageSettings:
    repositories: tuple[PageRepository, ...]
    rpo_target_seconds: float | None

    def find(self, repository: str) -> PageRepository:
        for shown in self.repositories:
            if shown.repository == repository:
                return shown
        raise LookupError(f"repository {repository!r} is not shown on this page; shown: "
                          f"{', '.join(r.repository for r in self.repositories)}.")


def parse_duration(value: object, where: str) -> float | None:
    """Seconds of ``value`` ("26h", "90m", "2d", "1w", "45s", or a number of seconds); None for None or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or float(match.group(1)) <= 0:
        raise InvalidArgumentError(f"{where} must be a positive duration such as \"26h\", \"90m\" or \"2d\", "
                                   f"got {value!r}.")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def load_settings(path: Path | None = None) -> PageSettings:
    """The page's settings from sr_airflow.toml (``$SR_AIRFLOW_CONFIG``, else ``$AIRFLOW_HOME/sr_airflow.toml``)."""
    path = path or config_path()
    section = _read_config(path).get("ui", {})
    where = f"sr_airflow config {path} [ui]"
    if not isinstance(section, dict):
        raise InvalidArgumentError(f"{where} must be a table.")
    unknown = sorted(set(section) - {"repositories", "rpo_target"})
    if unknown:
        raise InvalidArgumentError(f"{where} has unknown key {unknown[0]!r}; known keys: repositories, rpo_target.")
    listed = section.get("repositories")
    if listed is None:
        defaults = load_defaults("sr_full_backup", path)
        shown = (PageRepository(defaults["repository"], defaults["location"], defaults["storage_conn_id"]),)
    else:
        shown = tuple(_repository(item, f"{where}.repositories[{i}]") for i, item in enumerate(listed or ()))
        if not shown:
            raise InvalidArgumentError(f"{where}.repositories must list at least one repository.")
    target = parse_duration(section.get("rpo_target", DEFAULT_RPO_TARGET), f"{where}.rpo_target")
    return PageSettings(shown, target)


def _repository(item: object, where: str) -> PageRepository:
    if not isinstance(item, dict) or not isinstance(item.get("repository"), str) or not item["repository"] \
            or not isinstance(item.get("location"), str) or not item["location"]:
        raise InvalidArgumentError(f"{where} must be a table with non-empty repository and location, got {item!r}.")
    conn_id = item.get("storage_conn_id")
    if conn_id is not None and not isinstance(conn_id, str):
        raise InvalidArgumentError(f"{where}.storage_conn_id must be a string, got {conn_id!r}.")
    extra = sorted(set(item) - {"repository", "location", "storage_conn_id"})
    if extra:
        raise InvalidArgumentError(f"{where} has unknown key {extra[0]!r}.")
    return PageRepository(item["repository"], item["location"], conn_id)
