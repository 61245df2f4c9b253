"""TLS to the StarRocks frontend: the ``starrocks`` connection's SSL extras turned into PyMySQL's ``ssl`` argument.

Extras (also under the form's ``extra__starrocks__`` names):

- ``ssl_mode``: ``disabled``, ``preferred``, ``required`` (encrypt, verify nothing), ``verify_ca`` (the certificate
  must chain to ``ssl_ca``), ``verify_identity`` (and name the host connected to). Default: ``verify_identity``
  when ``ssl_ca``, ``ssl_cert`` or ``ssl_key`` is set, else ``preferred`` (PyMySQL's own default: 1.2+ encrypts
  without verifying when the frontend offers TLS, older releases do not encrypt).
- ``ssl_ca``: a PEM file of the CA that signed the frontend's certificate, or the PEM text itself; without it the
  verifying modes use the system's trust store.
- ``ssl_cert`` / ``ssl_key``: PEM files of a client certificate and its key. StarRocks never asks for one (its
  ``SSLChannelImp.init`` sets ``setNeedClientAuth(false)`` and ``setWantClientAuth(false)``, 3.5 e223275f78); they
  are for a TLS proxy in front of the frontends that does.

The frontend offers TLS on its query port from StarRocks 3.5 (#54877, ``MysqlProto.negotiate`` advertises
``CLIENT_SSL`` when ``SSLContextLoader.getSslContext()`` is set, that is when fe.conf names
``ssl_keystore_location``).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import pymysql

MODES = ("disabled", "preferred", "required", "verify_ca", "verify_identity")
EXTRA_NAMES = ("ssl_mode", "ssl_ca", "ssl_cert", "ssl_key")
#: MySQL's CR_SSL_CONNECTION_ERROR: not one of the errnos job watchers retry as a lost connection.
SSL_CONNECTION_ERRNO = 2026


class TLSConnectionError(pymysql.err.OperationalError):
    """TLS to the frontend could not be set up as the connection asks (a retry would fail the same way)."""

    def __init__(self, message: str):
        super().__init__(SSL_CONNECTION_ERRNO, message)


def tls_mode(extra: Mapping[str, Any]) -> str:
    """The connection's ``ssl_mode``, checked against its other SSL extras."""
    raw = extra.get("ssl_mode")
    files = [name for name in ("ssl_ca", "ssl_cert", "ssl_key") if extra.get(name)]
    if extra.get("ssl_key") and not extra.get("ssl_cert"):
        raise ValueError("ssl_key is set without ssl_cert: a client key needs its certificate.")
    if raw in (None, ""):
        return "verify_identity" if files else "preferred"
    mode = str(raw).strip().lower().replace("-", "_")
    if mode not in MODES:
        raise ValueError(f"ssl_mode {raw!r} is not one of {', '.join(MODES)}.")
    if mode == "disabled" and files:
        raise ValueError(f"ssl_mode is disabled but {', '.join(files)} is set: remove one or the other.")
    return mode


def _client_context(extra: Mapping[str, Any], mode: str) -> ssl.SSLContext:
    ca = str(extra.get("ssl_ca") or "").strip()
    verifying = mode in ("verify_ca", "verify_identity")
    try:
        if verifying and ca.startswith("-----BEGIN"):
            context = ssl.create_default_context(cadata=ca)
        elif verifying and ca:
            context = ssl.create_default_context(cafile=ca)
        else:
            context = ssl.create_default_context()
        if extra.get("ssl_cert"):
            context.load_cert_chain(str(extra["ssl_cert"]), keyfile=extra.get("ssl_key") or None)
    except (OSError, ssl.SSLError) as exc:
        raise TLSConnectionError(f"The connection's SSL files could not be loaded: {exc}.") from exc
    context.check_hostname = mode == "verify_identity"
    context.verify_mode = ssl.CERT_REQUIRED if verifying else ssl.CERT_NONE
    return context


def tls_connect_kwargs(extra: Mapping[str, Any]) -> dict[str, Any]:
    """PyMySQL arguments for the connection's SSL extras: none (driver default), ``ssl_disabled`` or ``ssl``."""
    mode = tls_mode(extra)
    if mode == "preferred":
        return {}
    if mode == "disabled":
        return {"ssl_disabled": True}
    return {"ssl": _client_context(extra, mode)}


def require_tls(connection, extra: Mapping[str, Any]) -> None:
    """Refuse a connection left unencrypted when its mode asks for TLS (PyMySQL before 1.2 carries on in clear
    text when the frontend does not offer TLS)."""
    if tls_mode(extra) in ("disabled", "preferred"):
        return
    if not isinstance(getattr(connection, "_sock", None), ssl.SSLSocket):
        connection.close()
        raise TLSConnectionError(_NO_TLS)


_NO_TLS = ("The StarRocks frontend does not offer TLS on its query port, and the connection's ssl_mode requires it "
           "(TLS needs StarRocks 3.5 or later with ssl_keystore_location set in fe.conf).")


def explain_failure(exc: pymysql.err.OperationalError, host: str, port: int,
                    extra: Mapping[str, Any]) -> TLSConnectionError | None:
    """A clear error for a connection that failed in TLS, or None when TLS was not the cause."""
    if tls_mode(extra) in ("disabled", "preferred"):
        return None
    cause = getattr(exc, "original_exception", None) or exc.__cause__
    text = str(exc)
    where = f"{host}:{port}"
    if isinstance(cause, ssl.SSLCertVerificationError):
        detail = cause.verify_message or str(cause)
        if "mismatch" in detail or "hostname" in detail.lower():
            hint = (f"the certificate does not name {host!r}: connect by a name the certificate carries, or set "
                    "ssl_mode to verify_ca to check the CA only")
        else:
            ca = extra.get("ssl_ca")
            hint = (f"it is not signed by the CA in ssl_ca ({_short(ca)})" if ca
                    else "no ssl_ca is set and the system's trust store does not know its CA")
        return TLSConnectionError(f"TLS to the StarRocks frontend {where} refused: its certificate could not be "
                                  f"verified ({detail}); {hint}.")
    if isinstance(cause, ssl.SSLError):
        return TLSConnectionError(f"TLS to the StarRocks frontend {where} failed: {cause}.")
    if (exc.args and exc.args[0] == SSL_CONNECTION_ERRNO) or "doesn't support" in text:
        return TLSConnectionError(_NO_TLS)
    return None


def _short(value: Any) -> str:
    text = str(value).strip()
    return "PEM text" if text.startswith("-----BEGIN") else text
