"""The SQL examples of the seed document (StarRocks' backup and restore page), extracted and normalised."""

from __future__ import annotations

import re
from pathlib import Path

SEED = Path(__file__).parent / "data" / "backup_and_restore.ja.md"

KEYWORDS = {
    "ALL", "AS", "BACKUP", "BROKER", "CANCEL", "CATALOG", "CATALOGS", "CREATE", "DATABASE", "EXTERNAL", "FOR",
    "FROM", "FUNCTION", "FUNCTIONS", "LOCATION", "MATERIALIZED", "ON", "PARTITION", "PROPERTIES", "REPOSITORY",
    "RESTORE", "SHOW", "SNAPSHOT", "TABLE", "TABLES", "TO", "VIEW", "VIEWS", "WITH", "WHERE", "AND", "TIMESTAMP",
}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`(?:[^`]|``)*`|[A-Za-z0-9_:<>/-]+|[(),=.]')


def seed_statements() -> list[str]:
    """Every statement of every ```SQL block, in document order, comments removed."""
    text = SEED.read_text(encoding="utf-8")
    statements = []
    for block in re.findall(r"```SQL\n(.*?)```", text, re.S):
        block = re.sub(r"--[^\n]*", "", block)
        statements += [" ".join(part.split()) for part in block.split(";") if part.strip()]
    return statements


def normalise(sql: str) -> list[str]:
    """Tokens with whitespace, keyword case, identifier back-quotes and string quote style made uniform."""
    tokens = []
    for token in _TOKEN.findall(sql.strip().rstrip(";")):
        if token.startswith("`"):
            token = token[1:-1].replace("``", "`")
        elif token.startswith("'"):
            token = '"' + token[1:-1] + '"'
        elif token.upper() in KEYWORDS:
            token = token.upper()
        tokens.append(token)
    return tokens
