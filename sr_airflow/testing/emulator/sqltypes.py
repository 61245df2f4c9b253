"""StarRocks column types: their DuckDB storage type, a Python value for comparisons, display bounds."""

from __future__ import annotations

import datetime as dt
import re

_SIMPLE = {
    "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INT": "INTEGER", "INTEGER": "INTEGER", "BIGINT": "BIGINT",
    "LARGEINT": "HUGEINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "DATE": "DATE", "DATETIME": "TIMESTAMP", "TIMESTAMP": "TIMESTAMP", "CHAR": "VARCHAR", "VARCHAR": "VARCHAR",
    "STRING": "VARCHAR", "TEXT": "VARCHAR", "JSON": "VARCHAR", "BITMAP": "BLOB", "HLL": "BLOB",
    "PERCENTILE": "BLOB", "BINARY": "BLOB", "VARBINARY": "BLOB", "TIME": "TIME",
}

_MIN = {"TINYINT": "-128", "SMALLINT": "-32768", "INT": "-2147483648", "INTEGER": "-2147483648",
        "BIGINT": "-9223372036854775808", "LARGEINT": "-170141183460469231731687303715884105728",
        "DATE": "0000-01-01", "DATETIME": "0000-01-01 00:00:00"}
_MAX = {"TINYINT": "127", "SMALLINT": "32767", "INT": "2147483647", "INTEGER": "2147483647",
        "BIGINT": "9223372036854775807", "LARGEINT": "170141183460469231731687303715884105727",
        "DATE": "9999-12-31", "DATETIME": "9999-12-31 23:59:59"}

_WIDTH = {"TINYINT": 1, "SMALLINT": 2, "INTEGER": 4, "BIGINT": 8, "HUGEINT": 16, "FLOAT": 4, "DOUBLE": 8,
          "BOOLEAN": 1, "DATE": 4, "TIMESTAMP": 8, "TIME": 8}


def base_name(sr_type: str) -> str:
    return re.split(r"[(<\s]", sr_type.strip(), maxsplit=1)[0].upper()


def to_duckdb(sr_type: str) -> str:
    """The DuckDB type that stores a StarRocks column type."""
    base = base_name(sr_type)
    if base.startswith("DECIMAL") or base == "NUMERIC":
        args = re.search(r"\(([^)]*)\)", sr_type)
        precision, scale = 38, 9
        if args:
            parts = [p.strip() for p in args.group(1).split(",")]
            precision = min(int(parts[0]), 38)
            scale = int(parts[1]) if len(parts) > 1 else 0
        elif base in ("DECIMAL32", "DECIMAL64"):
            precision = 9 if base == "DECIMAL32" else 18
        return f"DECIMAL({precision},{scale})"
    if base == "ARRAY":
        inner = sr_type[sr_type.index("<") + 1:sr_type.rindex(">")]
        return to_duckdb(inner) + "[]"
    if base in ("MAP", "STRUCT"):
        return "VARCHAR"
    return _SIMPLE.get(base, "VARCHAR")


def row_width(duck_type: str) -> int:
    """A rough stored width in bytes, used to report DATA_SIZE."""
    return _WIDTH.get(duck_type.split("(")[0], 12)


def min_value(sr_type: str) -> str:
    return _MIN.get(base_name(sr_type), "")


def max_value(sr_type: str) -> str:
    return _MAX.get(base_name(sr_type), "")


def python_value(value: str, sr_type: str):
    """A comparable Python value for a partition bound given as text."""
    base = base_name(sr_type)
    if base in ("TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "LARGEINT"):
        return int(value)
    if base in ("FLOAT", "DOUBLE") or base.startswith("DECIMAL"):
        return float(value)
    if base == "DATE":
        return dt.date.fromisoformat(value[:10])
    if base in ("DATETIME", "TIMESTAMP"):
        return dt.datetime.fromisoformat(value if len(value) > 10 else value + " 00:00:00")
    return value


def display_type(sr_type: str) -> str:
    base = base_name(sr_type)
    return {"INTEGER": "INT", "TIMESTAMP": "DATETIME"}.get(base, base)
