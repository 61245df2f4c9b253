"""Partition ranges as StarRocks serialises them inside `__meta`: `RangePartitionInfo.gsonPreProcess` turns each
`Range<PartitionKey>` into the bytes `RangeUtils.writeRange` writes (`serializedIdToRange`, a `byte[]` that GSON
writes as a list of signed bytes). Read at the 3.5 point e223275f (the same at 3.3 1a2f1f5d75 and 3.4 afccab88)."""

from __future__ import annotations

import struct

from . import sqltypes
from .metastore import Column


def _text(out: bytearray, text: str) -> None:
    data = text.encode("utf-8")
    out += struct.pack(">i", len(data)) + data


def _primitive(column: Column) -> str:
    t = sqltypes.parse_type(column.sr_type)
    return t.primitive if isinstance(t, sqltypes.ScalarType) else "VARCHAR"


def _packed_datetime(text: str) -> int:
    """`DateLiteral.makePackedDatetime`: ((ymd << 17) | hms) << (24 + microsecond), ymd = (year*13+month)<<5|day
    (Java's shift of a long takes the count modulo 64)."""
    day_part, _, time_part = text.strip().partition(" ")
    year, month, day = (int(x) for x in day_part.split("-"))
    clock, _, fraction = time_part.partition(".")
    hour, minute, second = (int(x) for x in clock.split(":")) if clock else (0, 0, 0)
    micro = int(fraction.ljust(6, "0")[:6]) if fraction else 0
    ymd = ((year * 13 + month) << 5) | day
    hms = (hour << 12) | (minute << 6) | second
    return (((ymd << 17) | hms) << ((24 + micro) & 63)) & 0xFFFFFFFFFFFFFFFF


def _key(out: bytearray, columns: list[Column], values: list[str] | None, is_max: bool) -> None:
    """`PartitionKey.write`: the key count, then per key its PrimitiveType name, an isMax flag and the literal
    (IntLiteral: long; LargeIntLiteral, StringLiteral: text; DateLiteral: short 0 DATETIME / 1 DATE, packed long).
    A missing lower bound is the type's minimum (`createInfinityPartitionKey(columns, false)`)."""
    out += struct.pack(">i", len(columns))
    for i, column in enumerate(columns):
        primitive = _primitive(column)
        _text(out, primitive)
        if is_max:
            out += b"\x01"
            continue
        out += b"\x00"
        value = values[i] if values is not None and i < len(values) else sqltypes.min_value(column.sr_type)
        if primitive in ("TINYINT", "SMALLINT", "INT", "BIGINT"):
            out += struct.pack(">q", int(value))
        elif primitive in ("DATE", "DATETIME"):
            out += struct.pack(">h", 1 if primitive == "DATE" else 0)
            out += struct.pack(">Q", _packed_datetime(value))
        else:
            _text(out, value)


def serialize_range(columns: list[Column], lower: list[str] | None, upper: list[str] | None) -> list[int]:
    """`RangeUtils.writeRange` of `[lower, upper)` as GSON writes a `byte[]`: signed bytes."""
    out = bytearray()
    out += b"\x01\x01"  # has a lower bound, closed
    _key(out, columns, lower, False)
    out += b"\x01\x00"  # has an upper bound, open
    _key(out, columns, upper, upper is None)
    return [b - 256 if b > 127 else b for b in out]


def deserialize_range(data: list[int]) -> tuple[list[str] | None, list[str] | None]:
    """The (lower, upper) bound texts of serialized range bytes (None: the type's minimum / MAXVALUE)."""
    raw = bytes(b & 0xFF for b in data)
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        chunk = raw[pos:pos + n]
        pos += n
        return chunk

    def text() -> str:
        (length,) = struct.unpack(">i", take(4))
        return take(length).decode("utf-8")

    def key() -> tuple[list[str], bool]:
        (count,) = struct.unpack(">i", take(4))
        values, is_max = [], False
        for _ in range(count):
            primitive = text()
            if take(1) == b"\x01":
                is_max = True
                continue
            if primitive in ("TINYINT", "SMALLINT", "INT", "BIGINT"):
                values.append(str(struct.unpack(">q", take(8))[0]))
            elif primitive in ("DATE", "DATETIME"):
                (kind,) = struct.unpack(">h", take(2))
                (packed,) = struct.unpack(">Q", take(8))
                values.append(_unpack_datetime(packed, kind == 1))
            else:
                values.append(text())
        return values, is_max

    bounds: list[list[str] | None] = []
    for _ in range(2):
        if take(1) == b"\x01":
            take(1)
            values, is_max = key()
            bounds.append(None if is_max else values)
        else:
            bounds.append(None)
    return bounds[0], bounds[1]


def _unpack_datetime(packed: int, is_date: bool) -> str:
    value = packed >> 24
    hms, ymd = value & ((1 << 17) - 1), value >> 17
    day, year_month = ymd & 31, ymd >> 5
    year, month = divmod(year_month, 13)
    hour, minute, second = hms >> 12, (hms >> 6) & 63, hms & 63
    if is_date:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
