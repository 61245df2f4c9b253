"""The only two ways sr_airflow puts user text into SQL: as an identifier or as a string value."""

from __future__ import annotations

from sr_airflow.engine.errors import InvalidArgumentError

MAX_IDENTIFIER_LENGTH = 1024


def quote_identifier(name: str, *, argument: str = "identifier") -> str:
    """Back-quote ``name`` for StarRocks, doubling any back-quote inside it.

    Empty names, names with NUL and names longer than StarRocks could ever accept are refused, naming ``argument``.
    """
    if not isinstance(name, str):
        raise InvalidArgumentError(f"{argument} must be a string, got {type(name).__name__}.")
    if name == "" or name.strip() == "":
        raise InvalidArgumentError(f"{argument} must not be empty.")
    if "\x00" in name:
        raise InvalidArgumentError(f"{argument} must not contain a NUL character.")
    if len(name) > MAX_IDENTIFIER_LENGTH:
        raise InvalidArgumentError(f"{argument} is longer than {MAX_IDENTIFIER_LENGTH} characters.")
    return "`" + name.replace("`", "``") + "`"


def quote_string(value: str, *, argument: str = "value") -> str:
    """Quote ``value`` as a double-quoted StarRocks string literal (as the docs write properties), escaping
    backslashes, double quotes and line breaks so the value stays one literal."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{argument} must be a string, got {type(value).__name__}.")
    if "\x00" in value:
        raise InvalidArgumentError(f"{argument} must not contain a NUL character.")
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return '"' + escaped + '"'

