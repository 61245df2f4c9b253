"""Snapshot labels: deterministic from what a run is, valid identifiers, unique in a repository.

Scheme (documented in docs/labels.md)::

    <label kind>_<database>_<yyyymmdd>T<hhmmss>_<digest>[_r<n>]

- the label kind: ``full``, ``incr``, ``part`` (a logical-date partition backup) or ``mig`` (a migration round);
- ``database``: the database name reduced to ``[a-z0-9_]`` and cut to 40 characters;
- the time: the run's logical date (or data interval start) in UTC;
- ``digest``: 10 hex characters of SHA-256 over (dag_id, run_id, database, scope fingerprint), so two runs, two
  databases or two scopes never share a label, while every retry of one task computes the same label and finds its
  own job or snapshot instead of submitting a second one;
- ``_r<n>``: a generation suffix, used only when StarRocks refuses the base label because a cancelled job already
  left a ``__ss_<label>`` folder behind (labels can be used once per repository).

The result matches ``[A-Za-z0-9_]{1,100}``, well inside StarRocks' label limits, so it needs no quoting (it is
quoted anyway, like every identifier).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

import pendulum
from pendulum import DateTime

from sr_airflow.engine.errors import InvalidArgumentError

LABEL_KINDS = ("full", "incr", "part", "mig")
_SLUG_LENGTH = 40
_LABEL = re.compile(
    r"^(?P<label_kind>[a-z]+)_(?P<db>[a-z0-9_]*)_(?P<time>\d{8}T\d{6})_(?P<digest>[0-9a-f]{10})(?:_r(?P<gen>\d+))?$"
)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug[:_SLUG_LENGTH].rstrip("_") or "db"


def scope_fingerprint(scope: object) -> str:
    """A stable text for any JSON-able description of a scope (order of keys does not matter)."""
    return json.dumps(scope, sort_keys=True, default=str, separators=(",", ":"))


def snapshot_label(
    *, label_kind: str, database: str, moment: DateTime, dag_id: str, run_id: str, scope: object = None
) -> str:
    if label_kind not in LABEL_KINDS:
        raise InvalidArgumentError(f"label kind {label_kind!r} is not one of {', '.join(LABEL_KINDS)}.")
    when = pendulum.instance(moment).in_timezone("UTC").format("YYYYMMDD[T]HHmmss")
    digest = hashlib.sha256(
        "\x1f".join([dag_id, run_id, database, scope_fingerprint(scope)]).encode("utf-8")
    ).hexdigest()[:10]
    return f"{label_kind}_{_slug(database)}_{when}_{digest}"


def with_generation(label: str, generation: int) -> str:
    """The label for the ``generation``-th attempt after refused ones (generation 0 is the base label)."""
    base = base_label(label)
    return base if generation == 0 else f"{base}_r{generation}"


def base_label(label: str) -> str:
    match = _LABEL.match(label)
    if not match or match["gen"] is None:
        return label
    return label[: label.rindex("_r")]


def generations(label: str, existing: Iterable[str]) -> list[str]:
    """Every label in ``existing`` that is ``label`` or one of its generations, oldest first."""
    base = base_label(label)
    found = [x for x in existing if x == base or (x.startswith(base + "_r") and x[len(base) + 2:].isdigit())]
    return sorted(found, key=lambda x: 0 if x == base else int(x[len(base) + 2:]))


def is_sr_airflow_label(label: str) -> bool:
    return bool(_LABEL.match(label))
