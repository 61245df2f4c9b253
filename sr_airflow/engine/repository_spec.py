"""What a CREATE REPOSITORY says: name, location, broker, read-only flag and properties."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Property keys whose values are credentials: never logged, never stored, masked in Airflow.
SECRET_PROPERTY_KEYS = frozenset(
    {
        "aws.s3.secret_key",
        "aws.s3.access_key",
        "fs.s3a.secret.key",
        "fs.s3a.access.key",
        "password",
        "hadoop.security.authentication.password",
        "aws.s3.session_token",
        "fs.s3a.session.token",
    }
)


@dataclass(frozen=True)
class RepositorySpec:
    """One repository as StarRocks sees it. ``broker`` None means ``WITH BROKER`` without a name."""

    name: str
    location: str
    properties: Mapping[str, str] = field(default_factory=dict)
    broker: str | None = None
    read_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))

    def secret_values(self) -> list[str]:
        """The credential values among the properties, for Airflow's secrets masker."""
        return [v for k, v in self.properties.items() if k in SECRET_PROPERTY_KEYS and v]

    def redacted_properties(self) -> dict[str, str]:
        return {k: ("***" if k in SECRET_PROPERTY_KEYS else v) for k, v in self.properties.items()}
