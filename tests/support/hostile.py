"""Hostile values for the reliability sweeps (quotes, comments, statement separators, control bytes, Unicode,
keywords, lengths at the limits) and the frontend tokenizer's view of a statement: one statement, no comment, and
its quoted tokens decoded as StarRocks (MySQL rules) decodes them."""

from __future__ import annotations

import re

from sr_airflow.testing.emulator.tokens import _TOKEN, tokenize

_BASE = [
    "`", "``", "a`b", "a``b", "`a`", "x` ; DROP DATABASE rel_src; --", "``; SHOW DATABASES", "'", "''", "a'b",
    "x'; DROP TABLE t; --", '"', 'a"b', '"; DROP DATABASE rel_src; "', "\\", "a\\", "\\`", "\\'", '\\"', "a\\\\b",
    ";", "a;b", "; DROP DATABASE rel_src", "--", "a -- c", "a --c\nDROP DATABASE rel_src", "#", "a # c", "/*",
    "*/", "a /* c */ b", "/*!50000 DROP DATABASE rel_src */", "\n", "a\nb", "a\r\nb", "\r", "\t", "a\tb",
    "é", "表名", "naïve_ü", "🎉", "a🎉b", "\u202eevil", "a\u200bb", "\u00a0", "Ω≈ç√", "NULL", "null", "0",
    "1", "-1", "1e9", "0x41", "SELECT", "select", "TABLE", "DATABASE", "BACKUP", "RESTORE", "SNAPSHOT", "ALL",
    "all", "PARTITION", "ON", "AS", "FROM", "WHERE", "ORDER", "KEY", "a.b", "db.`t`", "(", ")", "a,b", "a)b",
    "(SELECT 1)", "=", "a=b", "$x", "%s", "%(x)s", "{}", "{{ 7*7 }}", "${x}", "?", "*", "..", "/", "../etc",
    "\x01", "\x7f", "\x1b[31m", "a" * 64, "a" * 255, "t" * 1000, "x" * 1024,
]
REFUSED_ALWAYS = ["", " ", "   ", "\t ", "a\x00b", "\x00", "y" * 1025, "é" * 1025]

HOSTILE: list[str] = list(dict.fromkeys(
    _BASE + REFUSED_ALWAYS + [f"t_{v}" for v in _BASE[:60]] + [f"{v}_z" for v in _BASE[:40]]))
assert len(HOSTILE) >= 200


def one_statement(sql: str) -> list:
    """The frontend's tokens of ``sql``; asserts there is no comment, no second statement, no stray byte."""
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        assert m, f"the frontend cannot tokenize {sql!r}"
        if m.lastgroup == "space":
            assert m.group(0).strip() == "", f"a comment reached the frontend: {sql!r}"
        pos = m.end()
    tokens = tokenize(sql)
    assert not any(t.kind == "op" and t.text == ";" for t in tokens), f"two statements: {sql!r}"
    return tokens


_MYSQL_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def decoded(sql: str) -> list[str]:
    """The quoted tokens of ``sql`` decoded as StarRocks (MySQL rules) decodes them."""
    out = []
    for m in _TOKEN.finditer(sql):
        raw = m.group(0)
        if m.lastgroup == "bquote":
            out.append(raw[1:-1].replace("``", "`"))
        elif m.lastgroup == "string":
            quote, body = raw[0], raw[1:-1].replace(raw[0] * 2, raw[0])
            out.append(re.sub(r"\\(.)", lambda e: _MYSQL_ESCAPES.get(e.group(1), e.group(1)), body, flags=re.S))
            del quote
    return out
