"""StarRocks' time formats as aware pendulum datetimes.

StarRocks formats a snapshot's ``backup_timestamp`` (``yyyy-MM-dd-HH-mm-ss-SSS``) and every time column of
SHOW BACKUP / SHOW RESTORE (``yyyy-MM-dd HH:mm:ss``) in the frontend's own time zone and says nothing about
which zone that is. We parse them with an explicit zone and compare aware datetimes, never strings.
"""

from __future__ import annotations

import re
from typing import Any

import pendulum
from pendulum import DateTime

from sr_airflow.engine.errors import InvalidArgumentError

NULL_STRING = "\\N"
_BACKUP_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})(?:-(\d{3}))?$")
_SHOW_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$")


def _zone(tz: str | pendulum.Timezone | None):
    if tz is None:
        return pendulum.UTC
    return pendulum.timezone(tz) if isinstance(tz, str) else tz


def parse_backup_timestamp(text: str, tz: str | pendulum.Timezone | None = "UTC") -> DateTime:
    """Parse ``2024-12-09-10-25-58-842`` (old docs drop ``-SSS``) in the frontend's zone ``tz``."""
    match = _BACKUP_TIMESTAMP.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise InvalidArgumentError(
            f"backup_timestamp {text!r} is not of the form yyyy-MM-dd-HH-mm-ss-SSS (e.g. 2024-12-09-10-25-58-842)."
        )
    year, month, day, hour, minute, second, millis = match.groups()
    try:
        return pendulum.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int(millis or 0) * 1000, tz=_zone(tz),
        )
    except ValueError as err:
        raise InvalidArgumentError(f"backup_timestamp {text!r} is not a valid date and time: {err}.") from None


def format_backup_timestamp(moment: DateTime, tz: str | pendulum.Timezone | None = "UTC") -> str:
    """The ``backup_timestamp`` StarRocks would print for ``moment`` in the frontend's zone ``tz``."""
    local = pendulum.instance(moment).in_timezone(_zone(tz))
    return local.format("YYYY-MM-DD-HH-mm-ss-") + f"{local.microsecond // 1000:03d}"


def is_backup_timestamp(text: str) -> bool:
    return isinstance(text, str) and bool(_BACKUP_TIMESTAMP.match(text.strip()))


def parse_show_time(text: str | None, tz: str | pendulum.Timezone | None = "UTC") -> DateTime | None:
    """Parse a SHOW BACKUP / RESTORE time cell; unset times arrive as SQL NULL or ``\\N`` and give None."""
    if text is None:
        return None
    if not isinstance(text, str):  # a driver may already hand back a datetime
        return pendulum.instance(text, tz=_zone(tz))
    text = text.strip()
    if text in ("", NULL_STRING, "NULL"):
        return None
    match = _SHOW_TIME.match(text)
    if not match:
        raise ValueError(f"Unexpected StarRocks time value {text!r}; expected yyyy-MM-dd HH:mm:ss.")
    return pendulum.datetime(*(int(part) for part in match.groups()), tz=_zone(tz))


def parse_point_in_time(value: Any, argument: str = "point_in_time") -> DateTime:
    """An ISO-8601 date-time given by a user (UTC when it names no zone); one clear error naming ``argument``."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{argument} must be an ISO-8601 date-time string, got {type(value).__name__} "
                                   f"{value!r}.")
    try:
        moment = pendulum.parse(value, tz="UTC")
    except ValueError as exc:  # pendulum's ParserError is one
        raise InvalidArgumentError(f"{argument} must be an ISO-8601 date-time, got {value!r}.") from exc
    if not isinstance(moment, DateTime):
        raise InvalidArgumentError(f"{argument} must be an ISO-8601 date-time, got {value!r} (not a moment).")
    return moment
