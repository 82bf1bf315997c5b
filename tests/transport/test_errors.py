"""The transport error tree and the one mapping from httpx/httpcore/ssl/socket exceptions."""

from __future__ import annotations

import socket
import ssl

import httpcore
import httpx
import pytest

from mapiprobe.transport.errors import (
    AuthenticationFailed,
    BackendNameNotResolved,
    ConnectFailed,
    ConnectionLost,
    ConnectTimeout,
    HTTPFailure,
    InsecureCredentialRefused,
    NameNotResolved,
    ReadTimeout,
    Timeout,
    TLSFailure,
    TLSHandshakeTimeout,
    TransportError,
    redact_url,
    translate,
)


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as caught:
        return caught


def test_tree() -> None:
    assert issubclass(NameNotResolved, ConnectFailed)
    assert issubclass(ConnectTimeout, Timeout) and issubclass(ReadTimeout, Timeout)
    for cls in (ConnectFailed, Timeout, TLSFailure, ConnectionLost, HTTPFailure, AuthenticationFailed):
        assert issubclass(cls, TransportError)
    assert issubclass(InsecureCredentialRefused, TransportError)


def test_certificate_verification() -> None:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "certificate has expired"
    err.verify_code = 10
    mapped = translate(_chained(httpx.ConnectError("x"), err), "https://a.test/")
    assert isinstance(mapped, TLSFailure)
    assert mapped.reason == "certificate has expired" and mapped.verify_code == 10
    assert "certificate has expired" in str(mapped)


def test_handshake_failure_without_verification() -> None:
    err = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    mapped = translate(_chained(httpcore.ConnectError("x"), err))
    assert isinstance(mapped, TLSFailure) and not mapped.is_verification_failure


def test_tls_error_while_reading_is_a_lost_connection() -> None:
    mapped = translate(_chained(httpx.ReadError("eof"), ssl.SSLEOFError(8, "EOF")))
    assert isinstance(mapped, ConnectionLost)


@pytest.mark.parametrize(
    ("exc", "cls", "phase"),
    [
        (httpx.ConnectTimeout("t"), ConnectTimeout, "connect"),
        (httpx.ReadTimeout("t"), ReadTimeout, "read"),
        (httpx.WriteTimeout("t"), ReadTimeout, "write"),
        (httpx.PoolTimeout("t"), ReadTimeout, "pool"),
        (httpcore.ReadTimeout("t"), ReadTimeout, "read"),
    ],
)
def test_timeouts(exc: Exception, cls: type[Timeout], phase: str) -> None:
    mapped = translate(exc, "https://a.test/")
    assert isinstance(mapped, cls) and mapped.phase == phase


def test_tls_phase_timeout() -> None:
    mapped = translate(_chained(httpx.ConnectTimeout("t"), TLSHandshakeTimeout("tls")))
    assert isinstance(mapped, ConnectTimeout) and mapped.phase == "tls"


def test_name_resolution() -> None:
    mapped = translate(
        _chained(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")), "https://n.test/"
    )
    assert isinstance(mapped, NameNotResolved) and mapped.host == "n.test"
    mapped = translate(_chained(httpx.ConnectError("x"), BackendNameNotResolved("no A record", "m.test")))
    assert isinstance(mapped, NameNotResolved) and mapped.host == "m.test"


def test_other_mappings() -> None:
    assert isinstance(
        translate(_chained(httpx.ConnectError("x"), ConnectionRefusedError(111, "refused"))), ConnectFailed
    )
    assert isinstance(translate(httpx.RemoteProtocolError("junk")), HTTPFailure)
    assert isinstance(translate(httpx.ReadError("reset")), ConnectionLost)
    assert isinstance(translate(httpx.UnsupportedProtocol("ftp")), HTTPFailure)
    assert translate(ValueError("not ours")) is None
    mine = ConnectFailed("x")
    assert translate(mine) is mine


def test_urls_never_carry_credentials() -> None:
    assert redact_url("https://alice:secret@a.test/x?y=1") == "https://a.test/x?y=1"
    assert redact_url("https://a.test/") == "https://a.test/"
    err = ConnectFailed("x", url="https://alice:secret@a.test/")
    assert err.url == "https://a.test/"
    auth = AuthenticationFailed("https://alice:secret@a.test/", "Basic", offered=("NTLM",))
    assert "secret" not in str(auth) and "NTLM" in str(auth)
    assert "secret" not in str(InsecureCredentialRefused("http://alice:secret@a.test/"))


def test_kinds_are_stable() -> None:
    assert NameNotResolved("x", host="h").kind == "name-not-resolved"
    assert ConnectTimeout("x", phase="tls").kind == "connect-timeout"
    assert TLSFailure("x", reason="r").kind == "tls-failed"
    assert InsecureCredentialRefused("http://a/").kind == "insecure-credentials-refused"
