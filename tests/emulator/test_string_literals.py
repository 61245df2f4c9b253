"""String literals in the statements the emulator parses itself decode as StarRocks decodes them.

StarRocks (StarRocksLex.g4 SINGLE_QUOTED_TEXT / DOUBLE_QUOTED_TEXT; AstBuilder.visitString then escapeBackSlash,
identical at the 3.3, 3.4, 3.5 and 4.0 branch points) follows MySQL's table of escape sequences (MySQL 8.0 manual,
"String Literals", Table 9.1): \\0 NUL, \\' and \\" the quote, \\b backspace, \\n newline, \\r carriage return,
\\t tab, \\Z ASCII 26, \\\\ one backslash, \\% and \\_ keep their backslash (LIKE wildcards), any other escaped
character stands for itself; a quote doubled inside a literal of its own kind is one quote.

The literals go through a column COMMENT of CREATE TABLE (the emulator's own tokenizer) and come back through
information_schema.columns.COLUMN_COMMENT.
"""

from __future__ import annotations

import pytest

from tests.support.emulator_client import run

# (literal as written in the statement, its value) - the value spelled with Python escapes, from the table above.
LITERALS = [
    (r"'a\nb'", "a\nb"),
    (r"'a\tb'", "a\tb"),
    (r"'a\rb'", "a\rb"),
    (r"'a\bb'", "a\x08b"),
    (r"'a\Zb'", "a\x1ab"),
    (r"'a\0b'", "a\x00b"),
    (r"'a\\b'", "a\\b"),
    (r"'it\'s'", "it's"),
    (r"'say \"hi\"'", 'say "hi"'),
    ("'it''s'", "it's"),
    ('"say ""hi"""', 'say "hi"'),
    ("\"it's\"", "it's"),
    (r"'50\%'", "50\\%"),
    (r"'a\_b'", "a\\_b"),
    (r"'a\qb'", "aqb"),
    (r"'\\n'", "\\n"),
]


@pytest.fixture(scope="module")
def comments(emulator) -> dict[str, str]:
    conn = emulator.connect()
    cur = conn.cursor()
    run(cur, "DROP DATABASE IF EXISTS literals_db")
    run(cur, "CREATE DATABASE literals_db")
    columns = ", ".join(f"c{i} INT COMMENT {literal}" for i, (literal, _) in enumerate(LITERALS))
    run(cur, f"CREATE TABLE literals_db.t ({columns}) DUPLICATE KEY(c0) DISTRIBUTED BY HASH(c0) BUCKETS 1")
    rows = run(cur, "SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.columns "
                    "WHERE TABLE_SCHEMA = 'literals_db' AND TABLE_NAME = 't'")
    conn.close()
    return dict(rows)


@pytest.mark.parametrize(("index", "literal", "value"), [(i, lit, v) for i, (lit, v) in enumerate(LITERALS)],
                         ids=[lit for lit, _ in LITERALS])
def test_string_literal_value(comments, index, literal, value):
    assert comments[f"c{index}"] == value
