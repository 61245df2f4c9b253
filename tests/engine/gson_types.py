"""Column types as StarRocks' GSON writes them in ``__meta`` (``ScalarTypeTest``, ``TypeTest`` at the 3.5 point
e223275f78), for the tests that build ``__meta`` documents."""

from __future__ import annotations


def scalar(primitive: str, length: int = -1, precision: int = 0, scale: int = 0) -> dict:
    """A ``ScalarType`` as GSON writes it (``ScalarTypeTest``: clazz, type, len, precision, scale)."""
    return {"clazz": "ScalarType", "type": primitive, "len": length, "precision": precision, "scale": scale}


def array(item: dict) -> dict:
    return {"clazz": "ArrayType", "itemType": item}


def map_of(key: dict, value: dict) -> dict:
    return {"clazz": "MapType", "keyType": key, "valueType": value}


def struct(*fields: tuple[str, dict], comment: str | None = None) -> dict:
    body = [{"name": n, "type": t, "fieldId": -1, "fieldPhysicalName": ""} for n, t in fields]
    if comment is not None:
        body[0]["comment"] = comment
    return {"clazz": "StructType", "fields": body, "named": True}


INT = scalar("INT")
