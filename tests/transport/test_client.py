"""make_client over real loopback TLS: --connect-to below httpx, trust, --insecure, timeouts, the trace."""

from __future__ import annotations

import ssl
import sys
import time

import httpcore
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.transport.client import (
    ConnectionOptions,
    ConnectTo,
    MappedBackend,
    SSLContextPool,
    make_client,
    make_ssl_context,
    os_trust_context,
    parse_connect_to,
)
from mapiprobe.transport.errors import (
    ConnectFailed,
    ConnectTimeout,
    NameNotResolved,
    TLSFailure,
    TransportError,
    map_transport_errors,
)
from mapiprobe.transport.tls import describe_certificate, peek_certificate, tls_info
from mapiprobe.transport.trace import Trace
from tests.hypothesis_profiles import examples

from .conftest import TLSServer

URL = "https://autodiscover.contoso.test/hello"


def _options(server: TLSServer, **kw: object) -> ConnectionOptions:
    base: dict[str, object] = {
        "connect_to": (f"autodiscover.contoso.test:443:127.0.0.1:{server.port}",),
        "ca_certs": (server.ca_path,),
        "connect_timeout": 2,
        "read_timeout": 2,
    }
    base.update(kw)
    return ConnectionOptions(**base)  # type: ignore[arg-type]


# -- --connect-to ---------------------------------------------------------------------------------------


def test_parse_connect_to_forms() -> None:
    assert parse_connect_to("a.test:443:127.0.0.1:8443") == ConnectTo("a.test", 443, "127.0.0.1", 8443)
    assert parse_connect_to("::127.0.0.1:") == ConnectTo("", None, "127.0.0.1", None)
    assert parse_connect_to("a.test:443:[::1]:8443") == ConnectTo("a.test", 443, "::1", 8443)
    assert parse_connect_to("[2001:db8::1]:443::8443") == ConnectTo("2001:db8::1", 443, "", 8443)


@pytest.mark.parametrize("bad", ["a.test:443:127.0.0.1", "a:b:c:d", "a:443:b:70000", "a:443:[::1:1", ""])
def test_parse_connect_to_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_connect_to(bad)


@settings(max_examples=examples(500))
@given(st.text(max_size=60))
def test_parse_connect_to_only_raises_value_error(text: str) -> None:
    try:
        rule = parse_connect_to(text)
    except ValueError:
        return
    assert rule.port is None or 0 < rule.port < 65536


def test_routing_rules_first_match_wins() -> None:
    backend = MappedBackend(
        [
            parse_connect_to("mail.test:443:10.0.0.1:1"),
            parse_connect_to(":443:10.0.0.2:"),
            parse_connect_to("::b:"),
        ]
    )
    assert backend.route("mail.test", 443) == ("10.0.0.1", 1)
    assert backend.route("MAIL.test", 443) == ("10.0.0.1", 1)
    assert backend.route("other.test", 443) == ("10.0.0.2", 443)
    assert backend.route("other.test", 80) == ("b", 80)


# -- real exchanges -------------------------------------------------------------------------------------


def test_connect_to_keeps_host_and_sni(tls_server: TLSServer) -> None:
    trace = Trace()
    with make_client(_options(tls_server), trace=trace) as client:
        resp = client.get(URL, extensions={"mapiprobe.label": "hello"})
        assert resp.status_code == 200
        assert resp.text == "hello autodiscover.contoso.test"
        info = tls_info(resp)
        resp2 = client.get(URL)
    assert tls_server.seen[-1]["Host"] == "autodiscover.contoso.test"
    assert "autodiscover.contoso.test" in tls_server.sni
    assert info is not None and info.certificate is not None
    assert info.certificate.covers("autodiscover.contoso.test")
    assert resp2.status_code == 200
    first, second = trace.records
    assert first.label == "hello"
    assert first.peer_address == f"127.0.0.1:{tls_server.port}"
    assert first.tls_version and first.tls_version.startswith("TLSv1.")
    assert first.tls_cipher
    assert first.connect_ms is not None and first.tls_ms is not None
    assert (
        first.first_byte_ms is not None
        and first.total_ms is not None
        and first.total_ms >= first.first_byte_ms
    )
    assert first.status == 200 and first.outcome == "ok"
    assert first.response_bytes == len("hello autodiscover.contoso.test")
    assert first.tls_certificate_der
    assert describe_certificate(first.tls_certificate_der).covers("mail.contoso.test")
    # keep-alive: the second request reused the connection
    assert second.reused_connection and second.connect_ms is None


def test_client_defaults(tls_server: TLSServer) -> None:
    with make_client(_options(tls_server, connect_timeout=3, read_timeout=7)) as client:
        assert client.timeout.connect == 3 and client.timeout.read == 7
        assert client.follow_redirects is False
        assert client.auth is None


def test_post_body_counted_and_secrets_redacted(tls_server: TLSServer) -> None:
    trace = Trace()
    with make_client(_options(tls_server), trace=trace) as client:
        client.post(URL, content=b"x" * 100, headers={"Authorization": "Basic c2VjcmV0", "Cookie": "sid=zzz"})
        client.get("https://autodiscover.contoso.test/cookie")
    post, cookie = trace.records
    assert post.request_bytes == 100 and post.response_bytes == 100
    assert ("Authorization", "Basic [redacted]") in post.request_headers
    assert ("Cookie", "sid=[redacted]") in post.request_headers
    assert "s3cr3t-cookie" not in repr(cookie)
    assert cookie.header("Set-Cookie") == "sid=[redacted]; Path=/; HttpOnly"


def test_untrusted_certificate_is_a_tls_failure(tls_server: TLSServer) -> None:
    trace = Trace()
    client = make_client(_options(tls_server, ca_certs=()), trace=trace)
    with client, pytest.raises(TLSFailure) as info, map_transport_errors(URL):
        client.get(URL)
    err = info.value
    assert err.is_verification_failure
    assert "issuer" in err.reason or "self-signed" in err.reason or "self signed" in err.reason
    assert err.kind == "tls-failed"
    assert trace.records[0].outcome == "tls-failed"
    assert trace.records[0].status is None


def test_name_mismatch_is_a_tls_failure(tls_server: TLSServer) -> None:
    opts = _options(tls_server, connect_to=(f"wrong.contoso.test:443:127.0.0.1:{tls_server.port}",))
    with make_client(opts) as client, pytest.raises(TLSFailure) as info, map_transport_errors():
        client.get("https://wrong.contoso.test/")
    assert "wrong.contoso.test" in info.value.reason or "mismatch" in info.value.reason.lower()


def test_insecure_skips_verification(tls_server: TLSServer) -> None:
    opts = _options(tls_server, ca_certs=(), insecure=True)
    ctx = make_ssl_context(opts)
    assert not ctx.check_hostname
    with make_client(opts) as client:
        assert client.get(URL).status_code == 200


def test_tls_handshake_timeout_is_reported_as_tls_phase(blackhole: int) -> None:
    opts = ConnectionOptions(connect_to=(f"dead.test:443:127.0.0.1:{blackhole}",), connect_timeout=0.3)
    start = time.perf_counter()
    with make_client(opts) as client, pytest.raises(ConnectTimeout) as info, map_transport_errors():
        client.get("https://dead.test/")
    assert time.perf_counter() - start < 2
    assert info.value.phase == "tls"
    assert "TLS handshake timed out" in str(info.value)


def test_refused_connection(closed_port: int) -> None:
    opts = ConnectionOptions(connect_to=(f"gone.test:443:127.0.0.1:{closed_port}",), connect_timeout=1)
    with make_client(opts) as client, pytest.raises(ConnectFailed) as info, map_transport_errors():
        client.get("https://gone.test/")
    assert not isinstance(info.value, NameNotResolved)
    assert info.value.kind == "connect-failed"


def test_unresolvable_name() -> None:
    client = make_client(ConnectionOptions(connect_timeout=1))
    with client, pytest.raises(NameNotResolved), map_transport_errors():
        client.get("https://name-that-does-not-exist.invalid/")


def test_map_transport_errors_leaves_other_exceptions() -> None:
    with pytest.raises(KeyError), map_transport_errors():
        raise KeyError("x")
    with pytest.raises(TransportError), map_transport_errors("https://u:p@x.test/"):
        raise httpx.ConnectError("boom")


def test_custom_backend_reports_resolver_failure() -> None:
    class NoNames:
        description = "test"

        def addresses(self, host: str) -> list[str]:
            raise NameNotResolved(f"no such host {host}", host=host)

        def srv(self, name: str) -> list[object]:
            return []

    backend = MappedBackend([], NoNames())  # type: ignore[arg-type]
    with pytest.raises(httpcore.ConnectError) as info:
        backend.connect_tcp("x.test", 443, timeout=1)
    with pytest.raises(NameNotResolved), map_transport_errors():
        raise info.value


def test_context_pool_lends_one_context_per_handshake() -> None:
    made: list[ssl.SSLContext] = []

    def factory() -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        made.append(ctx)
        return ctx

    pool = SSLContextPool(factory)
    with pool.borrow() as a, pool.borrow() as b:
        assert a is not b
    with pool.borrow() as c:
        assert c in (a, b)
    assert len(made) == 2


def test_os_trust_context_verifies() -> None:
    ctx = os_trust_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_truststore_contexts_are_pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where truststore is used (Windows, macOS), handshakes get pooled contexts; elsewhere one shared one."""
    import truststore

    from mapiprobe.transport import client as client_mod

    monkeypatch.setattr(
        client_mod, "os_trust_context", lambda: truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    )
    with make_client(ConnectionOptions()) as client:
        backend = client._transport._pool._network_backend  # type: ignore[attr-defined]
        assert isinstance(backend, MappedBackend) and backend.contexts is not None
    monkeypatch.undo()
    with make_client(ConnectionOptions()) as client:
        backend = client._transport._pool._network_backend  # type: ignore[attr-defined]
        assert backend.contexts is None or sys.platform in ("win32", "darwin")


def test_peek_certificate_after_a_failed_verification(tls_server: TLSServer, closed_port: int) -> None:
    opts = _options(tls_server, ca_certs=())
    before = len(tls_server.seen)
    cert = peek_certificate(URL, opts)
    assert cert is not None and cert.covers("autodiscover.contoso.test")
    assert len(tls_server.seen) == before  # a handshake only: no request was sent
    dead = ConnectionOptions(
        connect_to=(f"autodiscover.contoso.test:443:127.0.0.1:{closed_port}",), connect_timeout=1
    )
    assert peek_certificate(URL, dead) is None
