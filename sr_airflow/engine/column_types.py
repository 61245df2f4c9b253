"""A column type as ``__meta`` holds it (GSON ``Type``) → the ``information_schema.columns.COLUMN_TYPE`` string.

StarRocks serialises ``Column.type`` with GSON, tagged by ``"clazz"`` (``GsonUtils``: ``ScalarType``,
``ArrayType``, ``MapType``, ``StructType``), and fills ``COLUMN_TYPE`` from ``Type.toMysqlColumnTypeString()``
(``FrontendServiceImpl.setColumnDesc``). This module writes that function again in Python from the Java source at
the 3.5 branch point e223275f78 (unchanged at 3.4 afccab88 and 3.3 1a2f1f5d75):

- ``ScalarType.toMysqlColumnTypeString``: BOOLEAN → ``tinyint(1)``, LARGEINT → ``bigint(20) unsigned``, anything
  else → ``ScalarType.toSql``;
- ``ScalarType.toSql``: ``tinyint(4)``, ``smallint(6)``, ``int(11)``, ``bigint(20)``, ``largeint(40)``,
  ``boolean``; ``char(n)`` / ``varchar(n)`` / ``varbinary(n)`` (no parentheses when ``len`` is -1);
  ``decimal(p, s)`` for DECIMALV2 and DECIMAL32/64/128; the lower-case type name for FLOAT, DOUBLE, DATE,
  DATETIME, HLL, BITMAP, BINARY, PERCENTILE, JSON, FUNCTION; the upper-case name for the rest (e.g. ``TIME``);
- ``ArrayType`` / ``MapType`` / ``StructType.toMysqlColumnTypeString`` are their ``toSql``, so the types inside
  are written by ``toSql`` (an array of BOOLEAN is ``array<boolean>``, not ``array<tinyint(1)>``):
  ``array<item>`` (a decimal item is written by ``ScalarType.toString``: ``array<DECIMAL64(10,2)>``),
  ``map<key,value>`` (no space), ``struct<name type, ...>`` (``StructField.toSql``: ``name type`` and
  `` COMMENT '<c>'`` when the field has a comment); at nesting depth ``Type.MAX_NESTING_DEPTH`` (15) the
  inner part is ``...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sr_airflow.engine.errors import InvalidArgumentError

__all__ = ["MAX_NESTING_DEPTH", "ColumnDef", "mysql_column_type"]

MAX_NESTING_DEPTH = 15  # Type.MAX_NESTING_DEPTH
_DECIMALS = frozenset({"DECIMALV2", "DECIMAL32", "DECIMAL64", "DECIMAL128"})
_LENGTHED = frozenset({"CHAR", "VARCHAR", "VARBINARY"})
_FIXED_SQL = {"BOOLEAN": "boolean", "TINYINT": "tinyint(4)", "SMALLINT": "smallint(6)", "INT": "int(11)",
              "BIGINT": "bigint(20)", "LARGEINT": "largeint(40)"}
_LOWER_NAMED = frozenset({"FLOAT", "DOUBLE", "DATE", "DATETIME", "HLL", "BITMAP", "BINARY", "PERCENTILE", "JSON",
                          "FUNCTION"})
_MYSQL_ONLY = {"BOOLEAN": "tinyint(1)", "LARGEINT": "bigint(20) unsigned"}


@dataclass(frozen=True)
class ColumnDef:
    """A column by name and ``COLUMN_TYPE`` string (from information_schema, or mapped from ``__meta``)."""

    name: str
    type: str

    @property
    def normalised(self) -> tuple[str, str]:
        """Names compare case-insensitively (``Column.equals``: ``name.equalsIgnoreCase``); types as written,
        whitespace and case aside."""
        return (self.name.lower(), "".join(self.type.lower().split()))


def mysql_column_type(gson_type: Mapping[str, Any]) -> str:
    """``COLUMN_TYPE`` for a ``Column.type`` read from ``__meta`` (``Type.toMysqlColumnTypeString``)."""
    clazz = _clazz(gson_type)
    if clazz == "ScalarType":
        primitive = _primitive(gson_type)
        return _MYSQL_ONLY.get(primitive) or _scalar_sql(gson_type, primitive)
    return _to_sql(gson_type, 0)


def _clazz(gson_type: Any) -> str:
    if not isinstance(gson_type, Mapping):
        raise InvalidArgumentError(f"a column type in __meta must be an object, got {gson_type!r}.")
    clazz = gson_type.get("clazz")
    if clazz not in ("ScalarType", "ArrayType", "MapType", "StructType"):
        raise InvalidArgumentError(f"unknown column type class {clazz!r} in __meta.")
    return clazz


def _primitive(gson_type: Mapping[str, Any]) -> str:
    primitive = gson_type.get("type")
    if not isinstance(primitive, str) or not primitive:
        raise InvalidArgumentError(f"a ScalarType in __meta has no primitive type: {dict(gson_type)!r}.")
    return primitive.upper()


def _to_sql(gson_type: Mapping[str, Any], depth: int) -> str:
    """``Type.toSql(depth)``."""
    clazz = _clazz(gson_type)
    if clazz == "ScalarType":
        return _scalar_sql(gson_type, _primitive(gson_type))
    if clazz == "ArrayType":  # ArrayType.toSql
        if depth >= MAX_NESTING_DEPTH:
            return "array<...>"
        item = _child(gson_type, "itemType")
        if _clazz(item) == "ScalarType" and _primitive(item) in _DECIMALS:
            return f"array<{_scalar_to_string(item, _primitive(item))}>"
        return f"array<{_to_sql(item, depth + 1)}>"
    if clazz == "MapType":  # MapType.toSql
        if depth >= MAX_NESTING_DEPTH:
            return "map<...>"
        key, value = _child(gson_type, "keyType"), _child(gson_type, "valueType")
        return f"map<{_to_sql(key, depth + 1)},{_to_sql(value, depth + 1)}>"
    if depth >= MAX_NESTING_DEPTH:  # StructType.toSql
        return "struct<...>"
    fields = gson_type.get("fields")
    if not isinstance(fields, list):
        raise InvalidArgumentError(f"a StructType in __meta has no field list: {dict(gson_type)!r}.")
    return f"struct<{', '.join(_struct_field_sql(f, depth + 1) for f in fields)}>"


def _struct_field_sql(field: Any, depth: int) -> str:
    """``StructField.toSql(depth, printName=true)``."""
    if not isinstance(field, Mapping):
        raise InvalidArgumentError(f"a struct field in __meta must be an object, got {field!r}.")
    type_sql = _to_sql(_child(field, "type"), depth) if depth < MAX_NESTING_DEPTH else "..."
    text = f"{field.get('name')} {type_sql}"
    if field.get("comment") is not None:
        text += f" COMMENT '{field['comment']}'"
    return text


def _child(gson_type: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    child = gson_type.get(key)
    if not isinstance(child, Mapping):
        raise InvalidArgumentError(f"a column type in __meta lacks its {key!r}: {dict(gson_type)!r}.")
    return child


def _int(gson_type: Mapping[str, Any], key: str, default: int) -> int:
    value = gson_type.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"a ScalarType in __meta has a non-integer {key!r}: {value!r}.") from exc


def _scalar_sql(gson_type: Mapping[str, Any], primitive: str) -> str:
    """``ScalarType.toSql``."""
    if primitive in _LENGTHED:
        length = _int(gson_type, "len", -1)
        return primitive.lower() if length == -1 else f"{primitive.lower()}({length})"
    if primitive in _DECIMALS:
        return f"decimal({_int(gson_type, 'precision', 0)}, {_int(gson_type, 'scale', 0)})"
    if primitive in _FIXED_SQL:
        return _FIXED_SQL[primitive]
    if primitive in _LOWER_NAMED:
        return primitive.lower()
    return primitive


def _scalar_to_string(gson_type: Mapping[str, Any], primitive: str) -> str:
    """``ScalarType.toString`` for a decimal (the only scalar ``ArrayType.toSql`` writes that way)."""
    precision, scale = _int(gson_type, "precision", -1), _int(gson_type, "scale", -1)
    if precision == -1 and scale == -1:  # isWildcardDecimal
        return "DECIMAL" if primitive == "DECIMALV2" else primitive
    return f"{'DECIMAL' if primitive == 'DECIMALV2' else primitive}({precision},{scale})"
