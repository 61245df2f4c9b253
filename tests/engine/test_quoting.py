"""Quoting: any string survives as exactly one identifier or one string value (StarRocks' lexer rules)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.quoting import MAX_IDENTIFIER_LENGTH, quote_identifier, quote_string

# StarRocksLex.g4: BACKQUOTED_IDENTIFIER is '`' ( ~'`' | '``' )* '`';
# DOUBLE_QUOTED_TEXT is '"' ( ~('"'|'\\') | ('\\' .) )* '"'.
_TOKENS = re.compile(r'`(?:[^`]|``)*`|"(?:[^"\\]|\\.)*"|,|\s+|[^\s`",]+', re.S)
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def lex(sql: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(sql):
        match = _TOKENS.match(sql, pos)
        assert match, f"unlexable at {pos}: {sql[pos:]!r}"
        if not match.group().isspace():
            tokens.append(match.group())
        pos = match.end()
    return tokens


def identifier_value(token: str) -> str:
    assert token.startswith("`") and token.endswith("`")
    return token[1:-1].replace("``", "`")


def string_value(token: str) -> str:
    assert token.startswith('"') and token.endswith('"')
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), token[1:-1], flags=re.S)


names = st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=200).filter(lambda s: s.strip())


@given(names, st.text(st.characters(blacklist_characters="\x00"), max_size=200))
def test_any_name_and_value_stay_one_token_each(name, value):
    tokens = lex(f"SELECT {quote_identifier(name)} , {quote_string(value)} ,x")
    assert len(tokens) == 6
    assert identifier_value(tokens[1]) == name
    assert string_value(tokens[3]) == value


@pytest.mark.parametrize("hostile", ["a`b", "``", "x`; DROP DATABASE y; --", "名前", "a\nb", "'\"\\", "SELECT"])
def test_hostile_names_are_quoted_not_refused(hostile):
    assert identifier_value(quote_identifier(hostile)) == hostile


@pytest.mark.parametrize("bad, message", [("", "must not be empty"), ("   ", "must not be empty"),
                                          ("a\x00b", "NUL"), ("x" * (MAX_IDENTIFIER_LENGTH + 1), "longer than")])
def test_impossible_identifiers_are_refused_naming_the_argument(bad, message):
    with pytest.raises(InvalidArgumentError, match=f"database .*{message}|{message}"):
        quote_identifier(bad, argument="database")


def test_refusal_names_the_argument():
    with pytest.raises(InvalidArgumentError, match="^repository must not be empty"):
        quote_identifier("", argument="repository")
    with pytest.raises(InvalidArgumentError, match="^location must be a string"):
        quote_string(3, argument="location")
