"""The frontend list of a starrocks connection (hooks/frontends.py): parsing, order, timeouts, the failover loop;
and the hook reaching a live emulator past a dead address."""

from __future__ import annotations

import json

import pymysql
import pytest

from sr_airflow.hooks.frontends import (
    FrontendAddress,
    NoFrontendAnsweredError,
    connect_first,
    connection_frontends,
    failover_connect_timeout,
    parse_address,
    try_order,
)
from sr_airflow.hooks.starrocks import StarRocksHook
from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import free_port

A, B, C = FrontendAddress("fe1", 9030), FrontendAddress("fe2", 9031), FrontendAddress("10.0.0.3", 9030)


@pytest.mark.parametrize(("text", "expected"), [
    ("fe1", FrontendAddress("fe1", 9030)),
    (" fe2:9031 ", FrontendAddress("fe2", 9031)),
    ("[::1]:9032", FrontendAddress("::1", 9032)),
    ("[::1]", FrontendAddress("::1", 9030)),
    ("::1", FrontendAddress("::1", 9030)),
])
def test_parse_address(text, expected):
    assert parse_address(text, 9030) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("fe1:port", "the port must be a number"), ("fe1:70000", "the port must be a number"),
    (":9030", "has no host"), ("[::1", "expected \\[ipv6\\]:port"), ("", "empty frontend address"),
])
def test_parse_address_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_address(text, 9030)


def test_connection_host_first_then_the_hosts_extra_each_once():
    assert connection_frontends("fe1", 9030, ["fe2:9031", "fe1:9030", "10.0.0.3"], 9030) == [A, B, C]
    assert connection_frontends("fe1", None, "fe2:9031, 10.0.0.3", 9030) == [A, B, C]
    assert connection_frontends("fe1", 9030, "fe2:9031 10.0.0.3", 9030) == [A, B, C]
    assert connection_frontends("fe1", 9030, '["fe2:9031", "10.0.0.3"]', 9030) == [A, B, C]  # JSON in the form


def test_empty_host_leaves_the_list_alone_and_no_host_at_all_is_localhost():
    assert connection_frontends("", 9031, "fe2, fe1:9030", 9030) == [B, A]
    assert connection_frontends(None, None, None, 9030) == [FrontendAddress("127.0.0.1", 9030)]


def test_hosts_extra_of_another_type_is_refused():
    with pytest.raises(ValueError, match="the hosts extra must be a list"):
        connection_frontends("fe1", 9030, {"fe2": 9031}, 9030)


def test_failover_timeout_applies_only_to_a_list():
    assert failover_connect_timeout({}, [A], 10.0) == 10.0
    assert failover_connect_timeout({}, [A, B], 10.0) == 2.0
    assert failover_connect_timeout({"failover_connect_timeout": "0.5"}, [A, B], 10.0) == 0.5
    assert failover_connect_timeout({"failover_connect_timeout": 30}, [A, B], 10.0) == 10.0
    with pytest.raises(ValueError, match="failover_connect_timeout must be positive"):
        failover_connect_timeout({"failover_connect_timeout": 0}, [A, B], 10.0)


def test_the_frontend_that_answered_last_is_tried_first():
    assert try_order([A, B, C], None) == [A, B, C]
    assert try_order([A, B, C], C) == [C, A, B]
    assert try_order([A, B], C) == [A, B]  # no longer listed


def refused(address: FrontendAddress) -> pymysql.err.OperationalError:
    return pymysql.err.OperationalError(2003, f"Can't connect to MySQL server on '{address.host}'")


def test_connect_first_skips_unreachable_frontends_in_order():
    calls = []

    def connect(address):
        calls.append(address)
        if address != C:
            raise refused(address)
        return "connection"

    assert connect_first([A, B, C], connect, lambda exc: exc.args[0] == 2003) == (C, "connection")
    assert calls == [A, B, C]


def test_connect_first_raises_a_refusal_at_once():
    calls = []

    def connect(address):
        calls.append(address)
        raise pymysql.err.OperationalError(1045, "Access denied for user 'root'")

    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        connect_first([A, B], connect, lambda exc: exc.args[0] == 2003)
    assert calls == [A]


def test_none_answering_names_every_address_tried():
    def connect(address):
        raise refused(address)

    with pytest.raises(NoFrontendAnsweredError, match=r"\(2 tried\): fe1:9030: \(2003\) .*; fe2:9031: \(2003\)"):
        connect_first([A, B], connect, lambda exc: True)
    with pytest.raises(pymysql.err.OperationalError, match="Can't connect to MySQL server on 'fe1'"):
        connect_first([A], connect, lambda exc: True)  # one frontend: its own error, as before


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with EmulatorServer(tmp_path_factory.mktemp("frontends-emulator")) as server:
        yield server


def set_connection(monkeypatch, host: str, port: int, extra: dict, password: str = "") -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SR_FAILOVER", json.dumps({
        "conn_type": "starrocks", "host": host, "port": port, "login": "root", "password": password,
        "extra": extra}))


def test_the_hook_reaches_the_listed_frontend_past_a_dead_one(emulator, monkeypatch):
    dead = free_port()
    set_connection(monkeypatch, "127.0.0.1", dead, {"hosts": [f"127.0.0.1:{emulator.port}"]})
    hook = StarRocksHook(starrocks_conn_id="sr_failover")
    assert hook.fetch("SELECT 1")[1] == [(1,)]
    assert hook._last_answered == FrontendAddress("127.0.0.1", emulator.port)


def test_the_hook_names_every_frontend_when_none_answers_never_the_password(monkeypatch):
    dead1, dead2 = free_port(), free_port()
    set_connection(monkeypatch, "127.0.0.1", dead1, {"hosts": f"127.0.0.1:{dead2}", "failover_connect_timeout": 1},
                   password="s3cret-pw")
    with pytest.raises(NoFrontendAnsweredError, match=f"127.0.0.1:{dead1}: .*; 127.0.0.1:{dead2}: ") as raised:
        StarRocksHook(starrocks_conn_id="sr_failover").get_conn()
    assert "s3cret-pw" not in str(raised.value)
