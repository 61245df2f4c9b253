"""A small SQL tokenizer and cursor for the StarRocks statements sqlglot does not parse."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import EmulatorError

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<bquote>`(?:[^`]|``)*`)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op><=|>=|<>|!=|[(),;.=<>\[\]*+\-/%{}:@])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # word, ident (back-quoted), string, number, op
    text: str  # the value: unquoted for strings and back-quoted identifiers
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


# AstBuilder.escapeBackSlash (identical at the 3.3, 3.4, 3.5 and 4.0 branch points): MySQL's escapes. `\%` and
# `\_` keep their backslash (LIKE wildcards stay escaped); any other escaped character stands for itself.
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "Z": "\x1a", "%": "\\%", "_": "\\_"}


def unescape_string(body: str, quote: str) -> str:
    """The value of a quoted string literal's body, as `AstBuilder.visitString` computes it: the doubled quote of
    the literal's own kind becomes one quote first, then `escapeBackSlash` decodes the backslash escapes."""
    body = body.replace(quote * 2, quote)
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            following = body[i + 1]
            out.append(_ESCAPES.get(following, following))
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _unquote(raw: str) -> str:
    quote = raw[0]
    body = raw[1:-1]
    if quote == "`":
        return body.replace("``", "`")
    return unescape_string(body, quote)


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(sql):
        match = _TOKEN.match(sql, pos)
        if not match:
            raise EmulatorError(f"Getting syntax error at line 1, column {pos}. Detail message: "
                                f"Unexpected input '{sql[pos]}'.")
        kind = match.lastgroup
        raw = match.group(0)
        if kind == "bquote":
            tokens.append(Token("ident", _unquote(raw), match.start(), match.end()))
        elif kind == "string":
            tokens.append(Token("string", _unquote(raw), match.start(), match.end()))
        elif kind != "space":
            tokens.append(Token(kind, raw, match.start(), match.end()))
        pos = match.end()
    while tokens and tokens[-1].text == ";" and tokens[-1].kind == "op":
        tokens.pop()
    return tokens


class Cursor:
    """Walks a token list; `expect*` raise the StarRocks syntax error on a mismatch."""

    def __init__(self, sql: str, tokens: list[Token] | None = None):
        self.sql = sql
        self.tokens = tokenize(sql) if tokens is None else tokens
        self.pos = 0

    # -- looking
    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        for offset, word in enumerate(words):
            token = self.peek(offset)
            if token is None:
                return False
            if word in "(),.=;[]*" and len(word) == 1:
                if not (token.kind == "op" and token.text == word):
                    return False
            elif token.upper != word:
                return False
        return True

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    # -- consuming
    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            self.fail(" ".join(words))

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            self.fail("more input")
        self.pos += 1
        return token

    def identifier(self) -> str:
        token = self.peek()
        if token is None or token.kind not in ("word", "ident"):
            self.fail("an identifier")
        self.pos += 1
        return token.text

    def qualified(self) -> list[str]:
        parts = [self.identifier()]
        while self.accept("."):
            parts.append(self.identifier())
        return parts

    def string(self) -> str:
        token = self.peek()
        if token is None or token.kind != "string":
            self.fail("a string")
        self.pos += 1
        return token.text

    def name_or_string(self) -> str:
        token = self.peek()
        if token is not None and token.kind == "string":
            self.pos += 1
            return token.text
        return self.identifier()

    def literal(self) -> str:
        token = self.next()
        if token.kind in ("string", "number", "word"):
            return token.text
        if token.kind == "op" and token.text == "-":
            return "-" + self.next().text
        self.fail("a literal", token)
        return ""

    def properties(self) -> dict[str, str]:
        """`( "k" = "v", ... )` in order."""
        self.expect("(")
        props: dict[str, str] = {}
        if self.accept(")"):
            return props
        while True:
            key = self.name_or_string()
            self.expect("=")
            props[key] = self.literal()
            if self.accept(")"):
                return props
            self.expect(",")

    def balanced(self) -> tuple[int, int]:
        """Consume a parenthesised group; return its inner text span."""
        open_token = self.next()
        if open_token.text != "(":
            self.fail("(", open_token)
        depth = 1
        while True:
            token = self.next()
            if token.kind == "op" and token.text == "(":
                depth += 1
            elif token.kind == "op" and token.text == ")":
                depth -= 1
                if depth == 0:
                    return open_token.end, token.start

    def rest_text(self) -> str:
        token = self.peek()
        if token is None:
            return ""
        end = self.tokens[-1].end
        self.pos = len(self.tokens)
        return self.sql[token.start:end]

    def end(self) -> None:
        if not self.done():
            self.fail("end of statement")

    def fail(self, expected: str, token: Token | None = None) -> None:
        token = token or self.peek()
        if token is None:
            raise EmulatorError(f"Getting syntax error at line 1, column {len(self.sql)}. "
                                f"Detail message: Unexpected input '<EOF>', the most similar input is {{{expected}}}.")
        line = self.sql.count("\n", 0, token.start) + 1
        column = token.start - (self.sql.rfind("\n", 0, token.start) + 1)
        raise EmulatorError(f"Getting syntax error at line {line}, column {column}. "
                            f"Detail message: Unexpected input '{token.text}', "
                            f"the most similar input is {{{expected}}}.")
