"""StarRocks column types: their DuckDB storage type, a Python value for comparisons, display bounds; and the type
objects StarRocks' frontend makes of a declared type, with the texts and GSON forms it writes for them.

The second half follows StarRocks' FE at the 3.5 branch point e223275f78 (identical at 3.3 1a2f1f5d75, 3.4
afccab88fd and 4.0 312b0d9e46 for everything used here):
- `AstBuilder.getBaseType` / `getDecimalType` (which type a declared name becomes), `ColumnDef.analyze`
  (CHAR/VARCHAR without a length get length 1; SUM over a decimal widens to DECIMAL128(38, s)),
  `TypeDef.analyzeScalarType` (the length / precision / scale limits and their messages);
- `ScalarType.toSql` / `toMysqlColumnTypeString` / `toMysqlDataTypeString`, `ArrayType` / `MapType` /
  `StructType.toSql` (`information_schema.columns.COLUMN_TYPE` and `DATA_TYPE`);
- `Type.getPrecision` / `getColumnSize` / `getDecimalDigits` (the size columns, through
  `FrontendServiceImpl.setColumnDesc` and the BE's `schema_columns_scanner.cpp`);
- the `@SerializedName` fields of `ScalarType`, `ArrayType`, `MapType`, `StructType`, `StructField` and the `clazz`
  tags of `GsonUtils.COLUMN_TYPE_ADAPTER_FACTORY` (`gson_type`, the form of `Column.type` in `__meta`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

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


# -- StarRocks' type objects ------------------------------------------------------------------------------------

class InvalidType(ValueError):
    """A declared type StarRocks refuses; the message is the frontend's analysis message."""


@dataclass(frozen=True)
class ScalarType:
    """`ScalarType`: `primitive` is the `PrimitiveType` name; `length` -1 means unset (as in Java)."""

    primitive: str
    length: int = -1
    precision: int = 0
    scale: int = 0


@dataclass(frozen=True)
class ArrayType:
    item: SrType


@dataclass(frozen=True)
class MapType:
    key: SrType
    value: SrType


@dataclass(frozen=True)
class StructField:
    name: str
    type: SrType


@dataclass(frozen=True)
class StructType:
    fields: tuple[StructField, ...]


SrType = ScalarType | ArrayType | MapType | StructType

DEFAULT_STRING_LENGTH = 65533  # ScalarType.DEFAULT_STRING_LENGTH: what STRING and TEXT become
MAX_HLL_LENGTH = 16385  # ScalarType.MAX_HLL_LENGTH, the length createHllType gives
MAX_CHAR_LENGTH = 255  # ScalarType.MAX_CHAR_LENGTH
OLAP_MAX_VARCHAR_LENGTH = 1048576  # Config.max_varchar_length default, ScalarType.getOlapMaxVarcharLength
_MAX_PRECISION = {"DECIMALV2": 27, "DECIMAL32": 9, "DECIMAL64": 18, "DECIMAL128": 38}  # getMaxPrecisionOfDecimal
_DEFAULT_SCALE = {"DECIMALV2": 27, "DECIMAL32": 9, "DECIMAL64": 18, "DECIMAL128": 38}  # getDefaultScaleOfDecimal
DECIMALS = tuple(_MAX_PRECISION)
# StarRocks.g4 `baseType` names without parameters -> PrimitiveType (ScalarType.createType(name))
_PLAIN = {"BOOLEAN": "BOOLEAN", "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INT": "INT", "INTEGER": "INT",
          "BIGINT": "BIGINT", "LARGEINT": "LARGEINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "DATE": "DATE",
          "DATETIME": "DATETIME", "TIME": "TIME", "BITMAP": "BITMAP", "PERCENTILE": "PERCENTILE", "JSON": "JSON"}
_TYPE_TOKEN = re.compile(r"\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_]*)|`(?P<quoted>(?:[^`]|``)*)`|(?P<number>\d+)"
                         r"|(?P<op>[<>(),:]))")


def _type_tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TYPE_TOKEN.match(text, pos)
        if match is None:
            raise InvalidType(f"Unsupported data type: {text}")
        if match.group("quoted") is not None:
            tokens.append("`" + match.group("quoted").replace("``", "`"))
        else:
            tokens.append(match.group(match.lastgroup))
        pos = match.end()
    return tokens


class _TypeParser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _type_tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise InvalidType(f"Unsupported data type: {self.text}")
        self.pos += 1
        return token

    def numbers(self) -> list[int]:
        if self.peek() != "(":
            return []
        self.take("(")
        values = [int(self.take())]
        while self.peek() == ",":
            self.take(",")
            values.append(int(self.take()))
        self.take(")")
        return values

    def type(self, top: bool) -> SrType:
        name = self.take().upper()
        if name == "ARRAY":
            self.take("<")
            item = self.type(False)
            self.take(">")
            return ArrayType(item)
        if name == "MAP":
            self.take("<")
            key = self.type(False)
            self.take(",")
            value = self.type(False)
            self.take(">")
            return MapType(key, value)
        if name == "STRUCT":
            self.take("<")
            fields = [self.field()]
            while self.peek() == ",":
                self.take(",")
                fields.append(self.field())
            self.take(">")
            seen: set[str] = set()
            for f in fields:  # StructType's constructor
                if f.name.lower() in seen:
                    raise InvalidType(f"struct contains duplicate subfield name: {f.name.lower()}")
                seen.add(f.name.lower())
            return StructType(tuple(fields))
        params = self.numbers()
        return _scalar(name, params, self.text, top)

    def field(self) -> StructField:
        name = self.take()
        name = name[1:] if name.startswith("`") else name
        if self.peek() == ":":  # Hive-style `name:type` is not StarRocks' grammar, tolerated for old seeds
            self.take(":")
        return StructField(name, self.type(False))


def _scalar(name: str, params: list[int], text: str, top: bool) -> ScalarType:
    """AstBuilder.getBaseType / getDecimalType, then ColumnDef.analyze's default string length."""
    length = params[0] if params else -1
    if name in ("STRING", "TEXT"):
        return ScalarType("VARCHAR", DEFAULT_STRING_LENGTH)
    if name in ("VARCHAR", "CHAR"):
        if length <= 0 and top:  # ColumnDef.analyze: "When string type length is not assigned ... 1"
            length = 1
        return ScalarType(name, length)
    if name == "HLL":
        return ScalarType("HLL", MAX_HLL_LENGTH)
    if name in ("BINARY", "VARBINARY"):
        return ScalarType("VARBINARY", length)
    if name in ("DECIMAL", "NUMERIC", "NUMBER"):  # createUnifiedDecimalType (enable_decimal_v3 is on by default)
        precision = params[0] if params else 10
        scale = params[1] if len(params) > 1 else 0
        return _decimal_v3("DECIMAL64" if precision <= 18 else "DECIMAL128", precision, scale)
    if name in ("DECIMAL32", "DECIMAL64", "DECIMAL128"):
        if not params:  # createDecimalV3Type(type): the kind's max precision and default scale
            return _decimal_v3(name, _MAX_PRECISION[name], _DEFAULT_SCALE[name])
        if len(params) == 1:  # createDecimalV3Type(type, p): scale = min(p, default scale)
            return _decimal_v3(name, params[0], min(params[0], _DEFAULT_SCALE[name]))
        return _decimal_v3(name, params[0], params[1])
    if name == "DECIMALV2":  # createDecimalV2Type: DEFAULT_DECIMALV2 is (9, 0)
        return ScalarType("DECIMALV2", -1, params[0] if params else 9, params[1] if len(params) > 1 else 0)
    if name in ("SIGNED", "UNSIGNED"):
        return ScalarType("INT")
    if name in _PLAIN:  # INT(11), TINYINT(4), ...: the display width is read and dropped
        return ScalarType(_PLAIN[name])
    raise InvalidType(f"Unsupported data type: {text}")


def _decimal_v3(kind: str, precision: int, scale: int) -> ScalarType:
    """ScalarType.createDecimalV3Type: precision checked against the kind (session default PANIC)."""
    if not 0 <= precision <= _MAX_PRECISION[kind]:
        raise InvalidType(f"DECIMAL's precision should range from 1 to {_MAX_PRECISION[kind]}")
    if not 0 <= scale <= precision:
        raise InvalidType("DECIMAL(P[,S]) type P must be greater than or equal to the value of S")
    return ScalarType(kind, -1, max(precision, 1), scale)


def parse_type(text: str, aggregate: str | None = None) -> SrType:
    """The type object StarRocks makes of a declared column type (`aggregate`: the column's aggregate, for SUM's
    widening of decimals, `ColumnDef.analyze` -> `AggregateType.extendedPrecision`)."""
    parser = _TypeParser(text)
    result = parser.type(True)
    if parser.peek() is not None:
        raise InvalidType(f"Unsupported data type: {text}")
    if aggregate and aggregate.upper() == "SUM" and isinstance(result, ScalarType) and \
            result.primitive in ("DECIMAL32", "DECIMAL64", "DECIMAL128"):
        result = ScalarType("DECIMAL128", -1, 38, result.scale)
    check_type(result)
    return result


def check_type(t: SrType) -> None:
    """TypeDef.analyze: the limits StarRocks enforces on a column type, with its messages."""
    if isinstance(t, ArrayType):
        inner = t.item
        while isinstance(inner, ArrayType):
            inner = inner.item
        check_type(inner)
        if isinstance(inner, ScalarType) and inner.primitive in ("HLL", "BITMAP", "PERCENTILE"):
            raise InvalidType(f"Invalid data type: {type_sql(t)}")
        return
    if isinstance(t, MapType):
        if not isinstance(t.key, ScalarType) or t.key.primitive in ("JSON", "HLL", "BITMAP", "PERCENTILE"):
            raise InvalidType(f"Invalid map.key's type: {type_sql(t.key)}, which should be base types")
        check_type(t.key)
        check_type(t.value)
        return
    if isinstance(t, StructType):
        for f in t.fields:
            check_type(f.type)
        return
    if t.primitive in ("CHAR", "VARCHAR"):
        name, limit = ("Varchar", OLAP_MAX_VARCHAR_LENGTH) if t.primitive == "VARCHAR" else ("Char", MAX_CHAR_LENGTH)
        if t.length <= 0:
            raise InvalidType(f"{name} size must be > 0: {t.length}")
        if t.length > limit:
            raise InvalidType(f"{name} size must be <= {limit}: {t.length}")
    if t.primitive == "VARBINARY" and t.length > OLAP_MAX_VARCHAR_LENGTH:
        raise InvalidType(f"VARBINARY size must be <= {OLAP_MAX_VARCHAR_LENGTH}: {t.length}")
    if t.primitive in DECIMALS:
        limit = _MAX_PRECISION[t.primitive]
        max_scale = min(9, t.precision) if t.primitive == "DECIMALV2" else t.precision
        if not 1 <= t.precision <= limit:
            raise InvalidType(f"Precision of {t.primitive} must between 1 and {limit}, precision was set to: "
                             f"{t.precision}.")
        if not 0 <= t.scale <= max_scale:
            raise InvalidType(f"Scale of {t.primitive} must between 0 and {max_scale},  scale was set to: "
                             f"{t.scale}.")


def _scalar_to_string(t: ScalarType) -> str:
    """ScalarType.toString (used by ArrayType.toSql for decimal items)."""
    if t.primitive == "DECIMALV2":
        return f"DECIMAL({t.precision},{t.scale})"
    if t.primitive in DECIMALS:
        return f"{t.primitive}({t.precision},{t.scale})"
    if t.primitive in ("CHAR", "VARCHAR", "VARBINARY"):
        return t.primitive if t.length == -1 else f"{t.primitive}({t.length})"
    return t.primitive


_SQL_FIXED = {"BOOLEAN": "boolean", "TINYINT": "tinyint(4)", "SMALLINT": "smallint(6)", "INT": "int(11)",
              "BIGINT": "bigint(20)", "LARGEINT": "largeint(40)"}


def type_sql(t: SrType) -> str:
    """Type.toSql: ScalarType, ArrayType (decimal items as ScalarType.toString), MapType, StructType."""
    if isinstance(t, ArrayType):
        if isinstance(t.item, ScalarType) and t.item.primitive in DECIMALS:
            return f"array<{_scalar_to_string(t.item)}>"
        return f"array<{type_sql(t.item)}>"
    if isinstance(t, MapType):
        return f"map<{type_sql(t.key)},{type_sql(t.value)}>"
    if isinstance(t, StructType):
        return "struct<" + ", ".join(f"{f.name} {type_sql(f.type)}" for f in t.fields) + ">"
    if t.primitive in ("CHAR", "VARCHAR", "VARBINARY"):
        name = t.primitive.lower()
        return name if t.length == -1 else f"{name}({t.length})"
    if t.primitive in DECIMALS:
        return f"decimal({t.precision}, {t.scale})"
    if t.primitive in _SQL_FIXED:
        return _SQL_FIXED[t.primitive]
    return t.primitive.lower()


def mysql_column_type(t: SrType) -> str:
    """`information_schema.columns.COLUMN_TYPE`: Type.toMysqlColumnTypeString (ScalarType: BOOLEAN and LARGEINT
    spelled as MySQL would, every other type its toSql; complex types: their toSql)."""
    if isinstance(t, ScalarType) and t.primitive == "BOOLEAN":
        return "tinyint(1)"
    if isinstance(t, ScalarType) and t.primitive == "LARGEINT":
        return "bigint(20) unsigned"
    return type_sql(t)


def mysql_data_type(t: SrType) -> str:
    """`information_schema.columns.DATA_TYPE`: Type.toMysqlDataTypeString."""
    if isinstance(t, ArrayType):
        return "array"
    if isinstance(t, MapType):
        return "map"
    if isinstance(t, StructType):
        return "struct"
    if t.primitive == "BOOLEAN":
        return "tinyint"
    if t.primitive == "LARGEINT":
        return "bigint unsigned"
    if t.primitive in DECIMALS:
        return "decimal"
    return t.primitive.lower()


_PRECISION = {"TINYINT": 3, "SMALLINT": 5, "INT": 10, "BIGINT": 19, "LARGEINT": 39, "FLOAT": 7, "DOUBLE": 15}
_DIGITS = {"BOOLEAN": 0, "TINYINT": 0, "SMALLINT": 0, "INT": 0, "BIGINT": 0, "FLOAT": 7, "DOUBLE": 15}


def type_precision(t: SrType) -> int | None:
    """Type.getPrecision (TColumnDesc.columnPrecision)."""
    if not isinstance(t, ScalarType):
        return None
    return t.precision if t.primitive in DECIMALS else _PRECISION.get(t.primitive)


def column_size(t: SrType) -> int | None:
    """Type.getColumnSize (TColumnDesc.columnLength): numeric types their precision, CHAR/VARCHAR/HLL their length."""
    if not isinstance(t, ScalarType):
        return None
    if t.primitive in _PRECISION or t.primitive in DECIMALS:
        return type_precision(t)
    return t.length if t.primitive in ("CHAR", "VARCHAR", "HLL") else None


def decimal_digits(t: SrType) -> int | None:
    """Type.getDecimalDigits (TColumnDesc.columnScale)."""
    if not isinstance(t, ScalarType):
        return None
    return t.scale if t.primitive in DECIMALS else _DIGITS.get(t.primitive)


def columns_sizes(t: SrType) -> dict[str, int | None]:
    """The size columns of information_schema.columns as the BE's `SchemaColumnsScanner::fill_chunk` fills them from
    the TColumnDesc that `FrontendServiceImpl.setColumnDesc` sends."""
    length = column_size(t)
    is_char = isinstance(t, ScalarType) and t.primitive in ("CHAR", "VARCHAR")
    return {"CHARACTER_MAXIMUM_LENGTH": length if is_char else None,
            "CHARACTER_OCTET_LENGTH": length * 3 if is_char and length is not None else None,
            "NUMERIC_PRECISION": type_precision(t), "NUMERIC_SCALE": decimal_digits(t),
            "COLUMN_SIZE": length, "DECIMAL_DIGITS": decimal_digits(t)}


def gson_type(t: SrType | str, aggregate: str | None = None) -> dict:
    """`Column.type` as StarRocks' GSON writes it (`GsonUtils.GSON`: only `@SerializedName` fields, nulls left out,
    the `clazz` tag of `COLUMN_TYPE_ADAPTER_FACTORY` first). ScalarType: type, len, precision, scale;
    ArrayType: itemType; MapType: keyType, valueType; StructType: fields (StructField: name, type, fieldId,
    fieldPhysicalName; comment null so absent), named. A string (a declared type) is parsed first with
    `parse_type(t, aggregate)` (pass the column's aggregate: SUM widens decimals)."""
    if isinstance(t, str):
        t = parse_type(t, aggregate)
    if isinstance(t, ArrayType):
        return {"clazz": "ArrayType", "itemType": gson_type(t.item)}
    if isinstance(t, MapType):
        return {"clazz": "MapType", "keyType": gson_type(t.key), "valueType": gson_type(t.value)}
    if isinstance(t, StructType):
        return {"clazz": "StructType",
                "fields": [{"name": f.name, "type": gson_type(f.type), "fieldId": -1, "fieldPhysicalName": ""}
                           for f in t.fields],
                "named": True}
    return {"clazz": "ScalarType", "type": t.primitive, "len": t.length, "precision": t.precision,
            "scale": t.scale}


def type_string(t: SrType) -> str:
    """Type.toString: ScalarType.toString, `ARRAY<..>` / `MAP<..,..>` of their parts' toString, StructType's toSql."""
    if isinstance(t, ArrayType):
        return f"ARRAY<{type_string(t.item)}>"
    if isinstance(t, MapType):
        return f"MAP<{type_string(t.key)},{type_string(t.value)}>"
    if isinstance(t, StructType):
        return type_sql(t)
    return _scalar_to_string(t)


def canonical_name(t: SrType) -> str:
    """Type.canonicalName (SHOW COLUMNS and DESC lower-case it): `DECIMAL(p,s)` for every decimal kind
    (ScalarType.canonicalName), else Type.toString."""
    if isinstance(t, ScalarType) and t.primitive in DECIMALS:
        return f"DECIMAL({t.precision},{t.scale})"
    return type_string(t)
