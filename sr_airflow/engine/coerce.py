"""Templated operator arguments as the types they stand for.

A template renders to text unless the DAG renders native objects, so an operator's boolean or integer argument
arrives as ``True``, ``1`` or ``"False"`` depending on how the DAG was written. Every operator turns such an
argument into its type here, once, after rendering; a value that is neither raises one error naming the argument.
"""

from __future__ import annotations

from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
#: what a template gives for "no value": Jinja renders Python's None as the text "None".
_MISSING = frozenset({"", "none", "null"})


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _MISSING)


def as_bool(field: str, value: Any, *, default: bool | None = None) -> bool:
    """``value`` as a bool: a bool, the integers 0 and 1, or their texts (``true``/``false``, ``1``/``0``,
    ``yes``/``no``, ``on``/``off``, any case). A missing value (None, empty, ``None``) is ``default`` when one is
    given; anything else raises :class:`InvalidArgumentError` naming ``field``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    if _missing(value) and default is not None:
        return default
    raise InvalidArgumentError(f"{field} must be true or false, got {value!r}.")


def as_int(field: str, value: Any, *, minimum: int | None = None) -> int:
    """``value`` as an int: an int (not a bool), or the text of one (``"600"``, `` 6 ``); at least ``minimum``
    when given. Anything else raises :class:`InvalidArgumentError` naming ``field``."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 10)
        except ValueError:
            number = None
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is None:
        raise InvalidArgumentError(f"{field} must be a whole number, got {value!r}.")
    if minimum is not None and number < minimum:
        raise InvalidArgumentError(f"{field} must be {minimum} or more, got {number}.")
    return number


def as_optional_int(field: str, value: Any, *, minimum: int | None = None) -> int | None:
    """``as_int``, with a missing value (None, empty, ``None``) kept as None."""
    return None if _missing(value) else as_int(field, value, minimum=minimum)


def as_optional_bool(field: str, value: Any) -> bool | None:
    """``as_bool``, with a missing value (None, empty, ``None``) kept as None (the server's default applies)."""
    return None if _missing(value) else as_bool(field, value)
