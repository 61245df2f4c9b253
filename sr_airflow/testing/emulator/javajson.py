"""How StarRocks' frontend writes JSON: key order of Java hash maps, `org.json` text and GSON text.

Two writers produce StarRocks' backup files:

- the job info (`__info_*`, SHOW SNAPSHOT's Details) is an `org.json` `JSONObject` (`BackupJobInfo.toJson`): a
  `JSONObject` keeps its keys in a `java.util.HashMap`, so the text lists them in hash-bucket order;
- `__meta` is `GsonUtils.GSON.toJson(BackupMeta)`: object fields in declaration order (a class's own fields before
  its superclass's, `ReflectiveTypeAdapterFactory.getBoundFields`), `HashMap` fields in hash-bucket order, `null`
  fields left out, and HTML-safe escaping of `< > & = '` (GsonBuilder's default `htmlSafe`).

`hashmap_order` models `java.util.HashMap` iteration (JDK 8+): buckets of a power-of-two table (16, doubled while the
size exceeds 3/4 of it), each bucket in insertion order. Bins turned into trees (8+ colliding keys) are not modelled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def string_hash(text: str) -> int:
    """`java.lang.String.hashCode` (over UTF-16 code units)."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return _signed32(h)


def long_hash(value: int) -> int:
    """`java.lang.Long.hashCode`: `(int) (value ^ (value >>> 32))`."""
    value &= 0xFFFFFFFFFFFFFFFF
    return _signed32(value ^ (value >> 32))


def _capacity(size: int) -> int:
    capacity = 16
    while size > capacity * 3 // 4:
        capacity *= 2
    return capacity


def hashmap_order(keys: Iterable, hash_of: Callable[[object], int]) -> list:
    """The iteration order of a `new HashMap<>()` after `put`s of `keys` in this order (`HashMap.hash`: h ^ h>>>16,
    bucket = hash & (capacity - 1); a resize keeps each bucket's relative order)."""
    keys = list(dict.fromkeys(keys))
    mask = _capacity(len(keys)) - 1

    def bucket(key) -> int:
        h = hash_of(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & mask

    return [key for _, key in sorted(enumerate(keys), key=lambda item: (bucket(item[1]), item[0]))]


def string_keys(mapping: dict) -> dict:
    """A dict with string keys re-ordered as a `HashMap<String, ?>` (or an org.json `JSONObject`) iterates them."""
    return {key: mapping[key] for key in hashmap_order(mapping, string_hash)}


def long_keys(mapping: dict) -> dict:
    """A dict keyed by ids (ints or their decimal text) re-ordered as a `HashMap<Long, ?>` iterates them."""
    return {key: mapping[key] for key in hashmap_order(mapping, lambda k: long_hash(int(k)))}


# -- org.json (JSONObject.toString / toString(indentFactor))
def _org_quote(text: str) -> str:
    """`JSONObject.quote`: `"` and `\\` escaped, `/` after `<`, \\b \\t \\n \\f \\r, other control and some
    unicode ranges as \\uXXXX."""
    out = ['"']
    previous = ""
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "/":
            out.append("\\/" if previous == "<" else "/")
        elif char in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[char])
        elif char < " " or "\u0080" <= char < "\u00a0" or "\u2000" <= char < "\u2100":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
        previous = char
    out.append('"')
    return "".join(out)


def org_json(value, indent_factor: int = 0, indent: int = 0) -> str:
    """`JSONObject.toString()` (indent_factor 0) or `toString(indent_factor)` of an already ordered value."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        sep = ": " if indent_factor else ":"
        if len(value) == 1:
            ((key, item),) = value.items()
            return "{" + _org_quote(str(key)) + sep + org_json(item, indent_factor, indent) + "}"
        inner = indent + indent_factor
        parts = []
        for key, item in value.items():
            lead = ("\n" + " " * inner) if indent_factor else ""
            parts.append(lead + _org_quote(str(key)) + sep + org_json(item, indent_factor, inner))
        tail = ("\n" + " " * indent) if indent_factor else ""
        return "{" + ",".join(parts) + tail + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if len(value) == 1:
            return "[" + org_json(value[0], indent_factor, indent) + "]"
        inner = indent + indent_factor
        lead = ("\n" + " " * inner) if indent_factor else ""
        tail = ("\n" + " " * indent) if indent_factor else ""
        return "[" + ",".join(lead + org_json(v, indent_factor, inner) for v in value) + tail + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return _org_quote(value)
    return str(value)


# -- GSON (GsonUtils.GSON.toJson: compact, html-safe)
_HTML_UNSAFE = re.compile("[<>&='\u2028\u2029]")


def gson_text(value) -> str:
    """Compact GSON text of an already ordered value with nulls removed by the caller."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _HTML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def drop_nulls(value):
    """GSON leaves out `null` fields (no `serializeNulls()` in `GsonUtils`); null list items stay."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value
