"""What a statement runs with: the session's connection id and current database; what it returns."""

from __future__ import annotations

import dataclasses

Result = tuple[list, list] | None  # (rows, column names), or None for an OK packet


@dataclasses.dataclass
class SessionState:
    connection_id: int
    database: str | None = None
    user: str = "root"
    active_roles: list[str] | None = None
