"""Bodies in the trace: kept (cut at 1 MiB, marked truncated), decoded (gzip, chunked), credentials redacted.

Real servers on loopback: a plain HTTP server made here (gzip, chunked, typed bodies), the trustme HTTPS echo
server of conftest.py, and the simulator's MAPI/HTTP echo endpoint (streamed PROCESSING/PENDING/DONE answers)
through both the tracing transport and a plain httpx client (the endpoint's own records).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.httpmsg import dechunk, decode_content
from mapiprobe.transport.client import ConnectionOptions, make_client
from mapiprobe.transport.mapihttp import MapiHttpEndpoint, SessionContext
from mapiprobe.transport.trace import MAX_BODY_BYTES, REDACTED, Trace, is_secret_name, redact_body
from tests.hypothesis_profiles import examples

from .conftest import TLSServer
from .mapihttp_support import HOST, EchoSim, echo_sim

PASSWORD = "Pa55-w0rd!sekrit"
TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
NTLM_B64 = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="


# -- redact_body by itself ------------------------------------------------------------------------------


def test_form_body_keeps_names_and_other_values() -> None:
    body = f"username=alice&password={PASSWORD}&client_secret=abc123&grant_type=password".encode()
    out = redact_body("application/x-www-form-urlencoded", body)
    assert PASSWORD.encode() not in out and b"abc123" not in out
    assert out == b"username=alice&password=[redacted]&client_secret=[redacted]&grant_type=password"


def test_json_body_nested_and_cut_off() -> None:
    doc = {"user": "alice", "auth": {"access_token": TOKEN, "refresh_token": "r3fresh-T0ken"}, "n": [1, 2]}
    out = redact_body("application/json; charset=utf-8", json.dumps(doc).encode())
    assert json.loads(out) == {"user": "alice", "auth": {"access_token": REDACTED, "refresh_token": REDACTED},
                               "n": [1, 2]}  # fmt: skip
    cut = json.dumps(doc).encode()[:-12]  # not JSON any more: fields are redacted one by one
    out = redact_body("application/json", cut)
    assert TOKEN.encode() not in out and b'"user": "alice"' in out
    unchanged = b'{"displayName": "Alice"}'
    assert redact_body("application/json", unchanged) is unchanged


def test_xml_elements_and_credentials_in_text() -> None:
    body = (
        b"<?xml version='1.0'?><Request><EMailAddress>alice@contoso.test</EMailAddress>"
        b"<a:Password xmlns:a='x'>" + PASSWORD.encode() + b"</a:Password><Token/></Request>"
    )
    out = redact_body("text/xml", body)
    assert PASSWORD.encode() not in out
    assert b"<EMailAddress>alice@contoso.test</EMailAddress>" in out
    assert b"<a:Password xmlns:a='x'>[redacted]</a:Password>" in out
    page = f"<html><p>Basic authentication failed</p><pre>Authorization: NTLM {NTLM_B64}</pre>".encode()
    out = redact_body("text/html", page)
    assert b"Basic authentication failed" in out  # prose stays
    assert NTLM_B64.encode() not in out and b"NTLM [redacted]" in out
    assert redact_body("text/plain", f"Bearer {TOKEN}".encode()) == b"Bearer [redacted]"


def test_binary_bodies_are_untouched() -> None:
    body = b"\x00\x01password=x\x00"
    assert redact_body("application/mapi-http", body) is body
    assert redact_body("application/octet-stream", body) is body
    assert redact_body(None, body) is body  # untyped but binary
    assert redact_body("image/png", b"password=x") == b"password=x"


def test_secret_names() -> None:
    for name in ("password", "Password", "passwd", "pwd", "client_secret", "access_token", "id_token",
                 "client_assertion", "apiKey", "Authorization", "cookie", "NewPassword"):  # fmt: skip
        assert is_secret_name(name), name
    for name in ("username", "grant_type", "EMailAddress", "displayName", "passage", "bypass_cache"):
        assert not is_secret_name(name), name


_value = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$-._~", min_size=8)


@settings(max_examples=examples(100))
@given(name=st.sampled_from(["password", "pwd", "access_token", "client_secret", "Password"]), value=_value)
def test_no_secret_value_survives_any_form(name: str, value: str) -> None:
    for ctype, body in (
        ("application/x-www-form-urlencoded", f"a=1&{name}={value}&b=2"),
        ("application/json", json.dumps({"a": 1, name: value})),
        ("application/json", json.dumps({"a": 1, name: value})[:-1]),
        ("text/xml", f"<r><{name}>{value}</{name}></r>"),
        (None, f"a=1&{name}={value}"),
    ):
        assert value.encode() not in redact_body(ctype, body.encode()), (ctype, body)


# -- httpmsg helpers ----------------------------------------------------------------------------------


def test_decode_content_gzip_deflate_and_faults() -> None:
    text = b"hello world " * 1000
    assert decode_content("gzip", gzip.compress(text)).data == text
    import zlib

    assert decode_content("deflate", zlib.compress(text)).data == text
    raw = zlib.compressobj(wbits=-15)
    assert decode_content("deflate", raw.compress(text) + raw.flush()).data == text  # raw deflate too
    cut = decode_content("gzip", gzip.compress(text)[:-30])
    assert cut.truncated and cut.note is not None and "ends early" in cut.note
    capped = decode_content("gzip", gzip.compress(text), limit=100)
    assert capped.data == text[:100] and capped.truncated
    bad = decode_content("gzip", b"not gzip")
    assert bad.data == b"not gzip" and bad.note is not None and "not valid gzip" in bad.note
    br = decode_content("br", b"\x0b\x02")
    assert br.data == b"\x0b\x02" and br.note is not None and "'br'" in br.note


def test_dechunk() -> None:
    assert dechunk(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n") == (b"hello world", None)
    data, note = dechunk(b"5\r\nhello\r\n6\r\n wo")
    assert data == b"hello wo" and note is not None and "cut off" in note
    data, note = dechunk(b"plain body")
    assert data == b"plain body" and note is not None and "not chunked" in note
    data, note = dechunk(b"5\r\nhello\r\n")
    assert data == b"hello" and note is not None and "last (zero-size) chunk" in note


# -- the tracing transport ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/gzip":
            body = gzip.compress(b"<Autodiscover>" + b"x" * 5000 + b"</Autodiscover>")
            self._send(body, [("Content-Type", "text/xml"), ("Content-Encoding", "gzip")])
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for part in (b"first ", b"second"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/token":
            body = json.dumps({"token_type": "Bearer", "access_token": TOKEN, "expires_in": 3600}).encode()
            self._send(body, [("Content-Type", "application/json")])
        elif self.path == "/big":
            self._send(b"z" * (MAX_BODY_BYTES + 10), [("Content-Type", "text/plain")])
        else:
            self._send(b"", [])

    def _send(self, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(200)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that closes an unread body resets the connection: expected here


@pytest.fixture(scope="module")
def plain_server() -> Iterator[str]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_bodies_kept_decoded_and_redacted(plain_server: str) -> None:
    trace = Trace()
    with make_client(ConnectionOptions(connect_timeout=3, read_timeout=3), trace=trace) as client:
        assert client.get(f"{plain_server}/gzip").text.startswith("<Autodiscover>")
        assert client.get(f"{plain_server}/chunked").text == "first second"
        client.get(f"{plain_server}/token").raise_for_status()
        assert len(client.get(f"{plain_server}/big").content) == MAX_BODY_BYTES + 10
        client.post(
            f"{plain_server}/none",
            content=f"user=alice&password={PASSWORD}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with client.stream("GET", f"{plain_server}/big"):
            pass  # closed without reading the body
    gz, chunked, token, big, form, unread = trace.records
    assert gz.response_body == b"<Autodiscover>" + b"x" * 5000 + b"</Autodiscover>"  # decoded
    assert gz.response_bytes < 5000 and not gz.response_body_truncated  # the wire was gzip
    assert gz.request_body == b"" and not gz.request_body_truncated
    assert chunked.response_body == b"first second"
    assert token.response_body is not None and TOKEN.encode() not in token.response_body
    assert json.loads(token.response_body)["access_token"] == REDACTED
    assert big.response_body == b"z" * MAX_BODY_BYTES and big.response_body_truncated
    assert big.response_bytes == MAX_BODY_BYTES + 10
    assert form.request_body == b"user=alice&password=[redacted]" and form.request_bytes > 30
    assert unread.response_body is None and not unread.response_body_truncated


def test_https_echo_and_no_bodies_when_switched_off(tls_server: TLSServer) -> None:
    options = ConnectionOptions(
        connect_to=(f"autodiscover.contoso.test:443:127.0.0.1:{tls_server.port}",),
        ca_certs=(tls_server.ca_path,),
        connect_timeout=3,
        read_timeout=3,
    )
    url = "https://autodiscover.contoso.test/echo"
    trace = Trace()
    big = bytes(range(256)) * (MAX_BODY_BYTES // 256 + 1)
    with make_client(options, trace=trace) as client:
        client.post(url, content=big)
    (rec,) = trace.records
    assert rec.request_body == big[:MAX_BODY_BYTES] and rec.request_body_truncated
    assert rec.response_body == big[:MAX_BODY_BYTES] and rec.response_body_truncated
    assert "request_body=" not in repr(rec)  # a megabyte has no place in a repr
    off = Trace(body_limit=0)
    with make_client(options, trace=off) as client:
        client.post(url, content=b"abc")
    (rec,) = off.records
    assert rec.request_body is None and rec.response_body is None and rec.response_bytes == 3


def test_a_redactor_that_fails_keeps_nothing(plain_server: str) -> None:
    def broken(ctype: str | None, body: bytes) -> bytes:
        raise RuntimeError("boom")

    trace = Trace(body_redactor=broken)
    with make_client(ConnectionOptions(connect_timeout=3, read_timeout=3), trace=trace) as client:
        client.get(f"{plain_server}/token")
    (rec,) = trace.records
    assert rec.response_body is None and rec.response_body_truncated and rec.outcome == "ok"


# -- MAPI/HTTP streamed answers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoSim]:
    with echo_sim() as sim:
        sim.service.pending_period_ms = 100
        yield sim


def test_mapihttp_stream_kept_whole_through_the_tracing_transport(echo: EchoSim) -> None:
    trace = Trace()
    ep = echo.endpoint(trace=trace)
    ctx = SessionContext()
    ep.request("Connect", b"\x01\x02", context=ctx)
    result = ep.request("Slow", b"0.25", context=ctx)
    ep.client.close()
    connect, slow = trace.records
    assert connect.request_body == b"\x01\x02"
    assert slow.request_body == b"0.25"
    body = slow.response_body
    assert body is not None and body.startswith(b"PROCESSING\r\n") and b"PENDING\r\n" in body
    assert b"DONE\r\n" in body and body.endswith(b"\r\n\r\n" + result.body)
    assert len(body) == slow.response_bytes and not slow.response_body_truncated


def test_mapihttp_own_records_keep_bodies(echo: EchoSim) -> None:
    trace = Trace()
    client = httpx.Client(verify=False, timeout=3)  # no tracing transport: the endpoint records itself
    client.headers["Host"] = HOST
    url = f"https://127.0.0.1:{echo.sim.port}/mapi/echo/?MailboxId=x"
    ep = MapiHttpEndpoint(url, client, trace=trace, auth=httpx.BasicAuth("alice", "Alice-Demo-2024!"))
    ctx = SessionContext()
    ep.request("Connect", b"", context=ctx)
    result = ep.request("Execute", b"abc", context=ctx)
    with pytest.raises(Exception, match="X-ResponseCode"):
        ep.request("Fail", b"x", context=ctx)
    client.close()
    _connect, execute, fail = trace.records
    assert execute.request_body == b"abc"
    assert execute.response_body is not None and execute.response_body.endswith(result.body)
    assert b"DONE\r\n" in execute.response_body
    assert fail.request_body == b"x" and fail.response_body is not None


def test_urls_lose_userinfo_and_secret_query_values() -> None:
    from mapiprobe.transport.trace import redact_url

    assert redact_url("https://u:p@mail.contoso.test/mapi/emsmdb/?MailboxId=x") == (
        "https://mail.contoso.test/mapi/emsmdb/?MailboxId=x"
    )
    assert redact_url(f"https://h/cb?state=1&access_token={TOKEN}&code=abc") == (
        "https://h/cb?state=1&access_token=[redacted]&code=[redacted]"
    )
    plain = "https://mail.contoso.test/mapi/nspi/?MailboxId=a@b"
    assert redact_url(plain) is plain
