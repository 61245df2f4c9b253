"""The frontends a ``starrocks`` connection may reach, and the failover over them (no Airflow, no PyMySQL).

A StarRocks cluster has several frontends; any of them answers the MySQL protocol (followers forward writes to
the leader). The connection names them as its host and port plus the ``hosts`` extra: a list of ``"host:port"``
(or one comma-separated string). They are tried in order, each with a short connect timeout
(``failover_connect_timeout``), as MySQL Connector/J's multi-host failover URLs do (``jdbc:mysql://a,b/db``:
the first host that accepts the connection serves it); the one that answered last is tried first next time, so a
dead frontend costs one refused connection per hook, not one per statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

#: Seconds each frontend of a list gets to accept a connection before the next is tried.
DEFAULT_FAILOVER_CONNECT_TIMEOUT = 2.0
#: MySQL's CR_CONN_HOST_ERROR ("Can't connect to MySQL server"): what the error for no frontend answering carries,
#: so that job watchers retry it as a lost connection.
CONN_HOST_ERRNO = 2003

T = TypeVar("T")


@dataclass(frozen=True)
class FrontendAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class NoFrontendAnsweredError(ConnectionError):
    """No frontend of the connection accepted a connection; ``args[0]`` is CR_CONN_HOST_ERROR as PyMySQL's own."""

    def __init__(self, tried: Sequence[tuple[FrontendAddress, BaseException]]):
        self.tried = list(tried)
        reasons = "; ".join(f"{address}: {_reason(exc)}" for address, exc in self.tried)
        super().__init__(CONN_HOST_ERRNO,
                         f"No StarRocks frontend of the connection answered ({len(self.tried)} tried): {reasons}")

    def __str__(self) -> str:
        return str(self.args[1])


def _reason(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):  # PyMySQL's (errno, message)
        return f"({args[0]}) {args[1]}"
    return str(exc) or type(exc).__name__


def parse_address(text: str, default_port: int) -> FrontendAddress:
    """``host``, ``host:port`` or ``[ipv6]:port`` (a bare IPv6 address takes the default port)."""
    value = text.strip()
    if not value:
        raise ValueError("an empty frontend address")
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"frontend address {text!r}: expected [ipv6]:port")
        port_text = rest[1:]
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    else:
        host, port_text = value, ""
    if not host:
        raise ValueError(f"frontend address {text!r} has no host")
    if not port_text:
        return FrontendAddress(host, default_port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"frontend address {text!r}: the port must be a number from 1 to 65535")
    return FrontendAddress(host, int(port_text))


def listed_hosts(value: Any) -> list[str]:
    """The ``hosts`` extra as a list of addresses: a list, a JSON list typed into the form's text field, or a string
    separated by commas (or blanks)."""
    if value in (None, ""):
        return []
    if isinstance(value, str) and value.strip().startswith('["'):
        value = json.loads(value)
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        items = [str(item).strip() for item in value]
        return [item for item in items if item]
    raise ValueError(f"the hosts extra must be a list of \"host:port\" or a comma-separated string, not {value!r}")


def connection_frontends(host: str | None, port: int | None, hosts: Any,
                         default_port: int) -> list[FrontendAddress]:
    """The connection's own host:port first (unless its host is empty), then the ``hosts`` extra, each once.

    With neither, the one frontend is ``127.0.0.1`` on the connection's port (the hook's single-host default)."""
    own_port = int(port or default_port)
    found: list[FrontendAddress] = []
    if host and host.strip():
        found.append(parse_address(host, own_port))
    for item in listed_hosts(hosts):
        address = parse_address(item, own_port)
        if address not in found:
            found.append(address)
    return found or [FrontendAddress("127.0.0.1", own_port)]


def failover_connect_timeout(extra: Mapping[str, Any], frontends: Sequence[FrontendAddress],
                             connect_timeout: float) -> float:
    """The connect timeout of each try: ``connect_timeout`` for one frontend; with several, the
    ``failover_connect_timeout`` extra (default 2 s), never longer than ``connect_timeout``."""
    if len(frontends) < 2:
        return connect_timeout
    raw = extra.get("failover_connect_timeout")
    timeout = DEFAULT_FAILOVER_CONNECT_TIMEOUT if raw in (None, "") else float(raw)
    if timeout <= 0:
        raise ValueError(f"failover_connect_timeout must be positive, not {raw!r}")
    return min(timeout, connect_timeout)


def try_order(frontends: Sequence[FrontendAddress], last_answered: FrontendAddress | None) -> list[FrontendAddress]:
    """The order of tries: the frontend that answered last first, then the others as listed."""
    if last_answered is None or last_answered not in frontends:
        return list(frontends)
    return [last_answered, *(f for f in frontends if f != last_answered)]


def connect_first(frontends: Sequence[FrontendAddress], connect: Callable[[FrontendAddress], T],
                  unreachable: Callable[[BaseException], bool]) -> tuple[FrontendAddress, T]:
    """The first frontend ``connect`` reaches and what it returned. An error ``unreachable`` says is not about
    reaching the frontend (a refused password, TLS) is raised at once: the next frontend would refuse the same.
    When none answers, one ``NoFrontendAnsweredError`` names every address tried (only a single frontend's own
    error is raised as it is)."""
    tried: list[tuple[FrontendAddress, BaseException]] = []
    for address in frontends:
        try:
            return address, connect(address)
        except Exception as exc:
            if not unreachable(exc):
                raise
            if len(frontends) == 1:
                raise
            tried.append((address, exc))
    raise NoFrontendAnsweredError(tried)
