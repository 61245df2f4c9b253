"""The StarRocks server version (from ``SELECT current_version()``) and what each version can do."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sr_airflow.engine.errors import InvalidArgumentError

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-.](.*))?$")


@dataclass(frozen=True, order=True)
class ServerVersion:
    """A StarRocks version such as ``3.5.2-abc1234`` (``VERSION-COMMIT``)."""

    major: int
    minor: int
    patch: int = 0
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> ServerVersion:
        match = _VERSION.match(text or "")
        if not match:
            raise InvalidArgumentError(
                f"StarRocks version {text!r} is not of the form MAJOR.MINOR.PATCH-COMMIT (from current_version())."
            )
        major, minor, patch, build = match.groups()
        return cls(int(major), int(minor), int(patch or 0), build or "")

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return (self.major, self.minor, self.patch) >= (major, minor, patch)

    @property
    def has_object_backup_syntax(self) -> bool:
        """3.4 brought ``BACKUP DATABASE db SNAPSHOT ...`` and views, UDFs and external catalogs."""
        return self.at_least(3, 4)

    @property
    def has_drop_snapshot(self) -> bool:
        """``DROP SNAPSHOT label ON repo`` is documented as supported from 4.2.0."""
        return self.at_least(4, 2)

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}.{self.patch}"
        return f"{base}-{self.build}" if self.build else base
