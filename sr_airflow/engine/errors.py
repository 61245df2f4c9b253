"""The project's exceptions: one base class and a few leaves that callers can tell apart."""

from __future__ import annotations


class SrAirflowError(Exception):
    """Base class of every error sr_airflow raises on purpose."""


class InvalidArgumentError(SrAirflowError, ValueError):
    """An argument is not valid; the message names the argument and what would be valid."""


class UnsupportedByServerError(SrAirflowError):
    """The StarRocks server cannot do what was asked (too old, shared-data, ...)."""


class JobFailedError(SrAirflowError):
    """A BACKUP or RESTORE job ended CANCELLED or could not be submitted."""


class SnapshotNotFoundError(SrAirflowError, LookupError):
    """A snapshot label (or timestamp) is not in the repository or the catalog."""


class RestoreRefusedError(SrAirflowError):
    """A restore was refused before submission because it would overwrite or conflict with existing data."""
