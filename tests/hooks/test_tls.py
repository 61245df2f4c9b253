"""TLS to the frontend: the hook's SSL extras against the emulator serving TLS with a throwaway CA."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from pathlib import Path

import pytest

from sr_airflow.hooks.starrocks import StarRocksHook
from sr_airflow.hooks.tls import TLSConnectionError, require_tls, tls_connect_kwargs
from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.emulator.tls import server_ssl_context


def _write_pair(folder: Path, name: str, cert, key) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _certificate(subject: str, *, issuer=None, issuer_key=None, ca: bool = False, ip: str | None = None):
    """A certificate (self-signed when no issuer) and its new key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A CA, the frontend's certificate for 127.0.0.1 signed by it, a client certificate, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("tls-pki")
    ca, ca_key = _certificate("sr-airflow test CA", ca=True)
    server, server_key = _certificate("frontend", issuer=ca, issuer_key=ca_key, ip="127.0.0.1")
    client, client_key = _certificate("backup-user", issuer=ca, issuer_key=ca_key)
    other_ca, other_key = _certificate("some other CA", ca=True)
    files = {}
    files["ca"], _ = _write_pair(folder, "ca", ca, ca_key)
    files["server_cert"], files["server_key"] = _write_pair(folder, "server", server, server_key)
    files["client_cert"], files["client_key"] = _write_pair(folder, "client", client, client_key)
    files["other_ca"], _ = _write_pair(folder, "other-ca", other_ca, other_key)
    return files


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory, pki):
    with EmulatorServer(tmp_path_factory.mktemp("tls-emulator"), tls_cert=pki["server_cert"],
                        tls_key=pki["server_key"]) as server:
        yield server


def _hook(monkeypatch, port: int, host: str = "127.0.0.1", **extra) -> StarRocksHook:
    conn = {"conn_type": "starrocks", "host": host, "port": port, "login": "root", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SR_TLS", json.dumps(conn))
    return StarRocksHook(starrocks_conn_id="sr_tls")


def _ask(conn, sql: str):
    with conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_verified_connection_is_encrypted_with_the_frontends_certificate(tls_emulator, pki, monkeypatch):
    hook = _hook(monkeypatch, tls_emulator.port, ssl_ca=str(pki["ca"]), ssl_mode="verify_identity")
    conn = hook.get_conn()
    try:
        sock = conn._sock
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.version() == "TLSv1.2"  # StarRocks' SSLContext.getInstance("TLSv1.2")
        assert dict(pair[0] for pair in sock.getpeercert()["subject"])["commonName"] == "frontend"
        assert _ask(conn, "SELECT 'through tls' AS marker") == (("through tls",),)
    finally:
        conn.close()
    assert "SELECT 'through tls' AS marker" in tls_emulator.logged_statements()


def test_many_handshakes_in_a_row_all_complete(tls_emulator, pki, monkeypatch):
    """The ClientHello often arrives in one read with the SSL request: the emulator must not lose it (a lost one
    hangs the handshake; read_timeout turns that into a failure here)."""
    hook = _hook(monkeypatch, tls_emulator.port, ssl_ca=str(pki["ca"]), read_timeout=5)
    for number in range(25):
        conn = hook.get_conn()
        try:
            assert _ask(conn, f"SELECT {number}") == ((number,),)
        finally:
            conn.close()


def test_ca_given_as_pem_text_and_client_certificate(tls_emulator, pki, monkeypatch):
    hook = _hook(monkeypatch, tls_emulator.port, ssl_ca=pki["ca"].read_text(),
                 ssl_cert=str(pki["client_cert"]), ssl_key=str(pki["client_key"]))
    assert hook.server_version().major >= 3  # verify_identity by default once SSL files are set


def test_wrong_ca_is_refused_with_a_clear_error(tls_emulator, pki, monkeypatch):
    hook = _hook(monkeypatch, tls_emulator.port, ssl_ca=str(pki["other_ca"]))
    with pytest.raises(TLSConnectionError, match=r"certificate could not be verified .*not signed by the CA in "
                                                  r"ssl_ca \(.*other-ca\.pem\)") as info:
        hook.get_conn()
    assert info.value.args[0] == 2026


def test_verify_ca_accepts_another_host_name_verify_identity_does_not(tls_emulator, pki, monkeypatch):
    named = _hook(monkeypatch, tls_emulator.port, host="localhost", ssl_ca=str(pki["ca"]))
    with pytest.raises(TLSConnectionError, match="does not name 'localhost'.*verify_ca"):
        named.get_conn()
    hook = _hook(monkeypatch, tls_emulator.port, host="localhost", ssl_ca=str(pki["ca"]), ssl_mode="VERIFY_CA")
    conn = hook.get_conn()
    try:
        assert isinstance(conn._sock, ssl.SSLSocket)
    finally:
        conn.close()


def test_verification_off_connects_encrypted_whatever_the_ca(tls_emulator, pki, monkeypatch):
    hook = _hook(monkeypatch, tls_emulator.port, ssl_mode="required", ssl_ca=str(pki["other_ca"]))
    conn = hook.get_conn()
    try:
        assert isinstance(conn._sock, ssl.SSLSocket) and _ask(conn, "SELECT 1") == ((1,),)
    finally:
        conn.close()


def test_disabled_stays_in_clear_text(tls_emulator, monkeypatch):
    conn = _hook(monkeypatch, tls_emulator.port, ssl_mode="disabled").get_conn()
    try:
        assert not isinstance(conn._sock, ssl.SSLSocket) and _ask(conn, "SELECT 1") == ((1,),)
    finally:
        conn.close()


def test_a_connection_left_in_clear_text_is_closed_when_tls_is_required(tls_emulator, monkeypatch):
    """PyMySQL before 1.2 carried on unencrypted when the frontend offered no TLS; the hook checks the socket."""
    conn = _hook(monkeypatch, tls_emulator.port, ssl_mode="disabled").get_conn()
    with pytest.raises(TLSConnectionError, match="does not offer TLS on its query port"):
        require_tls(conn, {"ssl_mode": "required"})
    assert not conn.open


def test_required_tls_refused_by_a_frontend_without_it(tmp_path, pki, monkeypatch):
    with EmulatorServer(tmp_path / "plain") as plain:
        hook = _hook(monkeypatch, plain.port, ssl_mode="required")
        with pytest.raises(TLSConnectionError, match="does not offer TLS on its query port"):
            hook.get_conn()


def test_bad_settings_fail_before_connecting(pki):
    with pytest.raises(ValueError, match="ssl_mode 'strict' is not one of disabled"):
        tls_connect_kwargs({"ssl_mode": "strict"})
    with pytest.raises(ValueError, match="ssl_mode is disabled but ssl_ca is set"):
        tls_connect_kwargs({"ssl_mode": "disabled", "ssl_ca": str(pki["ca"])})
    with pytest.raises(ValueError, match="ssl_key is set without ssl_cert"):
        tls_connect_kwargs({"ssl_key": str(pki["client_key"])})
    with pytest.raises(TLSConnectionError, match="SSL files could not be loaded"):
        tls_connect_kwargs({"ssl_ca": str(pki["ca"].with_name("missing.pem"))})
    assert tls_connect_kwargs({}) == {}  # PyMySQL's own default


def test_emulated_release_without_tls_refuses_the_options(pki):
    with pytest.raises(ValueError, match=r"StarRocks 3\.4\.2 has no TLS on the query port"):
        server_ssl_context(str(pki["server_cert"]), str(pki["server_key"]), "3.4.2")
    assert server_ssl_context(str(pki["server_cert"]), str(pki["server_key"]), "3.5.0").verify_mode == ssl.CERT_NONE


def test_emulator_takes_the_certificate_and_its_key_together():
    from sr_airflow.testing.emulator.__main__ import parse_args

    with pytest.raises(SystemExit, match="2"):
        parse_args(["--data-dir", "d", "--tls-cert", "cert.pem"])
    args = parse_args(["--data-dir", "d", "--tls-cert", "cert.pem", "--tls-key", "key.pem"])
    assert (args.tls_cert, args.tls_key) == ("cert.pem", "key.pem")


def test_connection_form_declares_the_tls_fields():
    """Airflow registering them as widgets is test_starrocks_hook_connection's UI test; here what they say."""
    from sr_airflow.hooks.tls import EXTRA_NAMES, MODES
    from sr_airflow.provider_info import STARROCKS_CONNECTION

    fields = STARROCKS_CONNECTION["conn-fields"]
    assert set(EXTRA_NAMES) <= set(fields)
    assert [m for m in fields["ssl_mode"]["schema"]["enum"] if m] == list(MODES)
    assert fields["ssl_ca"]["label"] == "TLS CA certificate"
    assert all("format" not in fields[name]["schema"] for name in EXTRA_NAMES)  # paths, not secrets
