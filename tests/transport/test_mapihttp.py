"""The MAPI/HTTP client (transport/mapihttp.py) against the simulator's echo endpoint over loopback TLS.

What the server received is checked on the server side (headers, cookies, ids); what the client makes of
every kind of answer is checked on the client side (results, errors, progress, trace records).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.envelope import encode_envelope, encode_meta_tag
from mapiprobe.simulator.mapihttp import CONTEXT_COOKIE, SEQUENCE_COOKIE, parse_cookie_header
from mapiprobe.simulator.web import Request, Response
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.errors import (
    ConnectionLost,
    ConnectTimeout,
    HTTPFailure,
    ReadTimeout,
    TransportError,
)
from mapiprobe.transport.mapihttp import (
    BadMapiHttpResponse,
    ClientInfo,
    ContextExpired,
    MapiHttpEndpoint,
    MapiHttpError,
    ProgressEvent,
    RequestCancelled,
    SessionContext,
    make_mapihttp_client,
)
from mapiprobe.transport.trace import Trace, TraceRecord
from tests.hypothesis_profiles import examples

from .mapihttp_support import BOB, HOST, URL, EchoSim, echo_sim, mapi_headers

pytestmark = pytest.mark.network

GUID_COUNTER = re.compile(r"\{([0-9A-F-]{36})\}:(\d+)")


@pytest.fixture(scope="module")
def _echo() -> Iterator[EchoSim]:
    with echo_sim() as echo:
        yield echo


@pytest.fixture
def echo(_echo: EchoSim) -> Iterator[EchoSim]:
    _echo.reset()
    yield _echo
    errors = list(_echo.sim.errors)
    _echo.reset()
    assert not errors, errors


@pytest.fixture
def trace() -> Trace:
    return Trace()


@pytest.fixture
def endpoint(echo: EchoSim, trace: Trace) -> Iterator[MapiHttpEndpoint]:
    ep = echo.endpoint(trace=trace)
    yield ep
    ep.client.close()


def _cookie_values(header: str | None) -> dict[str, str]:
    return parse_cookie_header(header or "")


# --------------------------------------------------------------------------------------------------
# Headers and cookies, as the server saw them
# --------------------------------------------------------------------------------------------------


def test_request_headers_ids_and_newest_cookies(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    ctx = SessionContext()
    result = endpoint.request("Connect", b"hi", context=ctx)
    assert result.body == b"hello alice"
    assert set(ctx.cookie_names()) == {CONTEXT_COOKIE, SEQUENCE_COOKIE}
    issued = []
    for n in range(3):
        issued.append(echo.service.contexts[0].sequence)  # the newest sequence the server issued
        endpoint.request("Execute", bytes([n]), context=ctx)
    endpoint.ping(ctx)
    received = echo.received()
    assert [r.header("X-RequestType") for r in received] == [
        "Connect",
        "Execute",
        "Execute",
        "Execute",
        "PING",
    ]
    ids = [GUID_COUNTER.fullmatch(r.header("X-RequestId") or "") for r in received]
    assert all(ids)
    assert len({m.group(1) for m in ids if m}) == 1  # one GUID for the life of the context (2.2.3.3.2)
    assert [int(m.group(2)) for m in ids if m] == [1, 2, 3, 4, 5]  # counting up with every request
    assert len({r.header("X-ClientInfo") for r in received}) == 1
    for r in received:
        assert r.header("Content-Type") == "application/mapi-http"
        assert (r.header("X-ClientApplication") or "").startswith("Outlook/16.0")
    assert received[0].header("Cookie") is None  # a fresh Connect carries no cookies
    context_id = echo.service.contexts[0].id
    for r, sequence in zip(received[1:4], issued, strict=True):
        cookies = _cookie_values(r.header("Cookie"))
        assert cookies == {CONTEXT_COOKIE.lower(): context_id, SEQUENCE_COOKIE.lower(): sequence}


def test_each_context_has_its_own_ids_and_jar(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    first, second = SessionContext(), SessionContext()
    endpoint.request("Connect", b"", context=first)
    endpoint.request("Connect", b"", context=second)
    assert first.cookie_header() != second.cookie_header()
    endpoint.request("Execute", b"1", context=first)
    endpoint.request("Execute", b"2", context=second)
    a, b = (r for r in echo.received("Connect"))
    assert a.header("X-RequestId") != b.header("X-RequestId")
    guid_a, n_a = (a.header("X-ClientInfo") or "").split(":")
    guid_b, n_b = (b.header("X-ClientInfo") or "").split(":")
    assert guid_a == guid_b and int(n_b) == int(n_a) + 1  # one client GUID, a new counter per context
    assert len(echo.service.contexts) == 2


def test_reconnect_carries_old_cookies_then_only_new_ones(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    old = SessionContext()
    endpoint.request("Connect", b"", context=old)
    endpoint.request("Execute", b"x", context=old)
    old_cookies = _cookie_values(old.cookie_header())
    new = old.reconnect()
    assert new.client_info == old.client_info
    endpoint.request("Connect", b"again", context=new)
    endpoint.request("Execute", b"y", context=new)
    connect, execute = echo.received()[-2:]
    assert _cookie_values(connect.header("Cookie")) == old_cookies  # 3.1.5.7: the old cookies go along
    sent = _cookie_values(execute.header("Cookie"))
    assert sent[CONTEXT_COOKIE.lower()] != old_cookies[CONTEXT_COOKIE.lower()]
    assert not set(sent.values()) & set(old_cookies.values())  # never mixed (3.2.5.6)
    assert [c.id for c in echo.service.contexts] == [sent[CONTEXT_COOKIE.lower()]]
    with pytest.raises(ContextExpired):
        endpoint.request("Execute", b"z", context=old)  # the server destroyed the old context


def test_disconnect_clears_the_jar(endpoint: MapiHttpEndpoint) -> None:
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    endpoint.request("Disconnect", b"", context=ctx)
    assert ctx.closed and not ctx.has_cookies and ctx.cookie_header() is None


# --------------------------------------------------------------------------------------------------
# The response stream: PENDING, progress, timeouts, PING and expiry
# --------------------------------------------------------------------------------------------------


def test_pending_counted_and_reported(echo: EchoSim, trace: Trace) -> None:
    events: list[ProgressEvent] = []
    ep = echo.endpoint(trace=trace, on_progress=events.append)
    echo.service.pending_period_ms = 100
    ctx = SessionContext()
    ep.request("Connect", b"", context=ctx)
    events.clear()
    result = ep.request("Slow", b"0.45", context=ctx)
    assert result.body == b"slow:0.45"
    assert 2 <= result.pending_count <= 6
    assert result.meta_tags == ("PROCESSING", *["PENDING"] * result.pending_count, "DONE")
    assert result.pending_period_ms == 100
    assert result.expiration_ms == 900000
    assert result.server_application == echo.sim.org.server_application
    assert result.elapsed_time is not None and result.start_time is not None
    phases = [e.phase for e in events]
    assert phases[:3] == ["sending", "headers", "processing"]
    assert phases.count("pending") == result.pending_count
    assert phases[-1] == "complete"
    assert [e.pending_count for e in events if e.phase == "pending"] == list(
        range(1, result.pending_count + 1)
    )
    record = next(r for r in trace.records if r.seq == result.trace_id)
    assert record.request_type == "Slow"
    assert record.request_id == result.request_id
    assert record.response_code == "0"
    assert record.pending_count == result.pending_count
    assert record.request_bytes == 4 and record.response_bytes > len(result.body)
    assert record.total_ms is not None and record.total_ms >= 400
    ep.client.close()


def test_pending_period_raises_the_read_timeout(echo: EchoSim) -> None:
    """Read timeout 0.3 s, PENDING every 0.5 s: the client must wait for the keep-alives (2.2.3.3.5)."""
    ep = echo.endpoint(timeout=0.3)
    echo.service.pending_period_ms = 500
    ctx = SessionContext()
    ep.request("Connect", b"", context=ctx)
    result = ep.request("Slow", b"1.1", context=ctx)
    assert result.pending_count == 2
    ep.client.close()


def test_ping_keeps_the_context_and_expiry_is_reported(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.lifetime_s = 0.8
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    assert ctx.expiration_ms == 800
    for _ in range(3):
        time.sleep(0.45)
        result = endpoint.ping(ctx)
        assert result.body == b"" and result.expiration_ms == 800
        remaining = ctx.remaining_s()
        assert remaining is not None and 0.5 < remaining <= 0.8
    endpoint.request("Execute", b"x", context=ctx)
    time.sleep(1.1)
    with pytest.raises(ContextExpired) as info:
        endpoint.request("Execute", b"x", context=ctx)
    err = info.value
    assert err.response_code == 10 and err.name == "Context Not Found"
    assert err.server_text is not None and "expired" in err.server_text
    assert "10 Context Not Found" in str(err)
    assert ctx.expired
    assert err.result is not None and err.result.http_status == 200


def test_context_of_another_user_is_context_expired(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    bob = echo.endpoint(user=BOB)
    with pytest.raises(ContextExpired, match="another user"):
        bob.request("Execute", b"x", context=ctx)
    bob.client.close()


def test_non_zero_code_with_number_name_and_text(endpoint: MapiHttpEndpoint, trace: Trace) -> None:
    with pytest.raises(MapiHttpError) as info:
        endpoint.request("Execute", b"x", context=SessionContext())  # no Connect: no cookie
    err = info.value
    assert type(err) is MapiHttpError
    assert (err.response_code, err.name, err.http_status) == (13, "Missing Cookie", 200)
    assert err.server_text == "The MapiContext cookie is missing."
    assert str(err).startswith("X-ResponseCode 13 Missing Cookie")
    assert trace.records[-1].response_code == "13"


def test_late_response_code_wins(echo: EchoSim, endpoint: MapiHttpEndpoint, trace: Trace) -> None:
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    with pytest.raises(MapiHttpError) as info:
        endpoint.request("Fail", b"", context=ctx)
    err = info.value
    assert err.response_code == 12 and err.name == "Invalid Request Body"
    assert "late" in str(err) and "refuses this body" in str(err)
    assert err.result is not None and err.result.meta_tags == ("PROCESSING", "DONE")
    record = trace.records[-1]
    assert record.response_code == "12"  # the late code, not the header's 0
    assert record.header("X-ResponseCode") == "0"


def test_unknown_code_is_named_as_such(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    def odd(req: Request) -> Response:
        return Response(200, [("X-ResponseCode", "42"), ("Content-Type", "text/html")], b"<p>strange</p>")

    echo.sim.https_site.add("/mapi/odd42/", odd, methods=("POST",), hosts=[HOST])
    ep = echo.endpoint(url=f"https://{HOST}/mapi/odd42/")
    with pytest.raises(MapiHttpError) as info:
        ep.request("Execute", b"", context=SessionContext())
    assert info.value.response_code == 42
    assert "not defined" in info.value.name
    assert "strange" in str(info.value)
    ep.client.close()


# --------------------------------------------------------------------------------------------------
# One request at a time; at most two connections
# --------------------------------------------------------------------------------------------------


def test_concurrent_request_in_the_same_context_gets_15(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.pending_period_ms = 100
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    slow = threading.Thread(target=endpoint.request, args=("Slow", b"0.6"), kwargs={"context": ctx})
    slow.start()
    deadline = time.monotonic() + 3
    while not echo.received("Slow") and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the slow answer's head, with the next sequence cookie, has arrived
    with echo.raw_client() as other:
        hdrs = mapi_headers("Execute")
        hdrs["Cookie"] = ctx.cookie_header() or ""
        resp = other.post(URL, content=b"x", headers=hdrs, auth=("alice", "Alice-Demo-2024!"))
    assert resp.headers["X-ResponseCode"] == "15"
    slow.join(5)
    # The endpoint itself never sends two at once: a second thread waits its turn.
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda b=b: results.append(endpoint.request("Slow", b, context=ctx).body))
        for b in (b"0.2", b"0.3")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(results) == [b"slow:0.2", b"slow:0.3"]


def test_notification_wait_beside_requests_on_two_connections(
    echo: EchoSim, endpoint: MapiHttpEndpoint
) -> None:
    echo.handler.wait_s = 0.6
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    waited: list[bytes] = []
    wait = threading.Thread(
        target=lambda: waited.append(endpoint.request("NotificationWait", b"", context=ctx).body)
    )
    wait.start()
    time.sleep(0.1)
    for n in range(4):
        endpoint.request("Execute", bytes([n]), context=ctx)
    endpoint.ping(ctx)
    wait.join(5)
    assert waited == [b"event"]
    peers = {r.peer for r in echo.received()}
    assert 1 <= len(peers) <= 2  # one connection for requests, one for the pending NotificationWait


# --------------------------------------------------------------------------------------------------
# Faults: each a clear error, never a hang
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("503", HTTPFailure, "HTTP 503"),
        ("html-200", BadMapiHttpResponse, "HTML page"),
        ("truncate", ConnectionLost, "cut off"),
        ("drop", ConnectionLost, "without answering"),
    ],
)
def test_faults_give_clear_errors(
    echo: EchoSim, endpoint: MapiHttpEndpoint, fault: str, error: type[TransportError], words: str
) -> None:
    echo.service.fault = fault  # type: ignore[assignment]
    start = time.monotonic()
    with pytest.raises(error, match=words) as info:
        endpoint.request("Connect", b"", context=SessionContext())
    assert time.monotonic() - start < 2.5
    assert info.value.url is not None
    if fault == "503":
        assert getattr(info.value, "status", None) == 503
        assert "Service Unavailable" in str(info.value)
    if fault == "html-200":
        assert "Sign in" in str(info.value)


def test_html_with_code_zero_is_refused(echo: EchoSim) -> None:
    def page(req: Request) -> Response:
        return Response(200, [("X-ResponseCode", "0"), ("Content-Type", "text/html")], b"<h1>Welcome</h1>")

    echo.sim.https_site.add("/mapi/odd0/", page, methods=("POST",), hosts=[HOST])
    ep = echo.endpoint(url=f"https://{HOST}/mapi/odd0/")
    with pytest.raises(BadMapiHttpResponse, match="X-ResponseCode 0 but Content-Type text/html") as info:
        ep.request("Connect", b"", context=SessionContext())
    assert "Welcome" in str(info.value)
    ep.client.close()


def test_broken_envelope_is_a_bad_response(echo: EchoSim) -> None:
    def broken(req: Request) -> Response:
        headers = [("X-ResponseCode", "0"), ("Content-Type", "application/mapi-http")]
        return Response(200, headers, chunks=iter([encode_meta_tag("PROCESSING"), b"GARBAGE\r\n"]))

    echo.sim.https_site.add("/mapi/broken/", broken, methods=("POST",), hosts=[HOST])
    ep = echo.endpoint(url=f"https://{HOST}/mapi/broken/")
    with pytest.raises(BadMapiHttpResponse, match="unknown meta-tag 'GARBAGE'"):
        ep.request("Connect", b"", context=SessionContext())
    ep.client.close()


def test_tolerated_departures_become_notes(echo: EchoSim) -> None:
    def lax(req: Request) -> Response:
        headers = [("Content-Type", "application/mapi-http"), ("X-RequestType", "connect")]
        return Response(200, headers, encode_envelope(b"ok"))

    echo.sim.https_site.add("/mapi/lax/", lax, methods=("POST",), hosts=[HOST])
    ep = echo.endpoint(url=f"https://{HOST}/mapi/lax/")
    result = ep.request("Connect", b"", context=SessionContext())
    assert result.body == b"ok" and result.response_code == 0
    assert any("no X-ResponseCode" in n for n in result.notes)
    assert any("case differs" in n for n in result.notes)
    ep.client.close()


def test_stalled_stream_times_out_after_the_pending_period(echo: EchoSim) -> None:
    release = threading.Event()

    def stall(req: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            yield encode_meta_tag("PROCESSING")
            release.wait(10)

        headers = [
            ("X-ResponseCode", "0"),
            ("Content-Type", "application/mapi-http"),
            ("X-PendingPeriod", "200"),
        ]
        return Response(200, headers, chunks=chunks())

    echo.sim.https_site.add("/mapi/stall/", stall, methods=("POST",), hosts=[HOST])
    ep = echo.endpoint(url=f"https://{HOST}/mapi/stall/", timeout=0.3)
    start = time.monotonic()
    try:
        with pytest.raises(ReadTimeout, match=r"after PROCESSING"):
            ep.request("Connect", b"", context=SessionContext())
    finally:
        release.set()
    assert 2.0 <= time.monotonic() - start < 4.0  # pending period + margin, not forever
    ep.client.close()


def test_dead_host_is_a_connect_timeout(echo: EchoSim) -> None:
    options = ConnectionOptions(
        connect_to=(f"{HOST}:443:127.0.0.1:{echo.sim.blackhole_port}",),
        ca_certs=(echo.sim.ca_cert_path,),
        connect_timeout=0.5,
        read_timeout=0.5,
    )
    ep = MapiHttpEndpoint(URL, make_mapihttp_client(options))
    start = time.monotonic()
    with pytest.raises(ConnectTimeout):
        ep.request("Connect", b"", context=SessionContext())
    assert time.monotonic() - start < 2.5
    ep.client.close()


def test_cancel_stops_a_pending_request(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.pending_period_ms = 100
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.monotonic()
    with pytest.raises(RequestCancelled):
        endpoint.request("Slow", b"2", context=ctx, cancel=cancel)
    assert time.monotonic() - start < 1.0
    with pytest.raises(RequestCancelled):
        endpoint.request("Execute", b"", context=ctx, cancel=cancel)  # already set: nothing is sent


# --------------------------------------------------------------------------------------------------
# Trace and redaction
# --------------------------------------------------------------------------------------------------


def test_no_cookie_value_in_any_record_error_or_result(
    echo: EchoSim, endpoint: MapiHttpEndpoint, trace: Trace
) -> None:
    ctx = SessionContext()
    texts: list[str] = []
    values: set[str] = set()
    texts.append(repr(endpoint.request("Connect", b"", context=ctx)))
    values |= set(_cookie_values(ctx.cookie_header()).values())
    for _ in range(2):
        texts.append(repr(endpoint.request("Execute", b"x", context=ctx)))
        values |= set(_cookie_values(ctx.cookie_header()).values())
    texts.append(repr(ctx))
    reconnected = ctx.reconnect()
    texts.append(repr(endpoint.request("Connect", b"", context=reconnected)))
    values |= set(_cookie_values(reconnected.cookie_header()).values())
    with pytest.raises(ContextExpired) as info:
        endpoint.request("Execute", b"x", context=ctx)
    texts += [str(info.value), repr(info.value.result)]
    assert len(values) >= 5
    for record in trace.records:
        texts.append(repr(record))
        assert record.header("Cookie", response=False) in (
            None,
            "MapiContext=[redacted]; MapiSequence=[redacted]",
        )
    blob = "\n".join(texts)
    for value in values:
        assert value not in blob
    assert "MapiSequence" in blob  # names may appear


def test_plain_client_gets_records_from_the_endpoint(echo: EchoSim) -> None:
    trace = Trace()
    echo.service.pending_period_ms = 100
    client = httpx.Client(verify=False, timeout=3)  # no tracing transport: the endpoint records itself
    url = f"https://127.0.0.1:{echo.sim.port}/mapi/echo/?MailboxId=x"
    ep = MapiHttpEndpoint(url, client, trace=trace, auth=httpx.BasicAuth("alice", "Alice-Demo-2024!"))
    # The echo route is bound to mail.contoso.test: send that Host header.
    client.headers["Host"] = HOST
    ctx = SessionContext()
    ep.request("Connect", b"", context=ctx)
    ep.request("Slow", b"0.25", context=ctx)
    with pytest.raises(MapiHttpError):
        ep.request("Fail", b"", context=ctx)
    records: tuple[TraceRecord, ...] = trace.records
    assert [r.request_type for r in records] == ["Connect", "Slow", "Fail"]
    assert records[1].pending_count is not None and records[1].pending_count >= 1
    assert records[2].response_code == "12"
    assert all("[redacted]" in (r.header("Cookie", response=False) or "[redacted]") for r in records)
    client.close()


# --------------------------------------------------------------------------------------------------
# SessionContext by itself
# --------------------------------------------------------------------------------------------------


def test_jar_newest_wins_names_without_case_and_deletion() -> None:
    ctx = SessionContext()
    ctx.update_cookies(["MapiContext=one; path=/mapi/; secure", "MapiSequence=s1"], fresh_context=True)
    ctx.update_cookies(["mapicontext=two", "MAPISEQUENCE=s2; HttpOnly"])
    assert ctx.cookie_header() == "mapicontext=two; MAPISEQUENCE=s2"
    ctx.update_cookies(["Extra=e", "MapiSequence=gone; Max-Age=0"])
    assert _cookie_values(ctx.cookie_header()) == {"mapicontext": "two", "extra": "e"}
    ctx.update_cookies(["Extra=x; Expires=Thu, 01-Jan-1970 00:00:00 GMT"])
    assert _cookie_values(ctx.cookie_header()) == {"mapicontext": "two"}
    ctx.update_cookies(["sid=new"], fresh_context=True)  # a Connect/Bind answer replaces everything
    assert ctx.cookie_header() == "sid=new"
    assert ctx.cookie_names() == ("sid",)


def test_request_ids_and_client_info() -> None:
    info = ClientInfo()
    assert info.next().endswith(":1") and info.next().endswith(":2")
    ctx = SessionContext()
    first, second = ctx.next_request_id(), ctx.next_request_id()
    assert GUID_COUNTER.fullmatch(first) and first.endswith(":1") and second.endswith(":2")
    assert first.split(":")[0] == second.split(":")[0]
    assert ctx.request_count == 2
    assert "MapiContext" not in repr(SessionContext())


_token = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';=," '), min_size=1
)


@settings(max_examples=examples(300))
@given(pairs=st.lists(st.tuples(_token, _token), min_size=1, max_size=8))
def test_jar_keeps_the_newest_value_of_each_name(pairs: list[tuple[str, str]]) -> None:
    ctx = SessionContext()
    ctx.update_cookies([f"{n}={v}; Path=/" for n, v in pairs], fresh_context=True)
    expected: dict[str, str] = {}
    for name, value in pairs:
        expected[name.lower()] = value
    assert _cookie_values(ctx.cookie_header()) == expected


@settings(max_examples=examples(500))
@given(values=st.lists(st.text(max_size=60), max_size=5))
def test_jar_never_fails_on_odd_set_cookie_values(values: list[str]) -> None:
    ctx = SessionContext()
    ctx.update_cookies(values, fresh_context=True)
    header = ctx.cookie_header()
    assert header is None or isinstance(header, str)


# --------------------------------------------------------------------------------------------------
# Fuzz: whatever the server sends, only the transport error family comes out
# --------------------------------------------------------------------------------------------------

_GOOD = encode_envelope(b"body bytes", pending=2)
_header_value = st.one_of(
    st.sampled_from(["0", "10", "15", "42", "-1", "", " 0 ", "x"]), st.text(max_size=12).map(str.strip)
)


def _latin1(text: str) -> bytes:
    return text.encode("latin-1", "replace").replace(b"\r", b"").replace(b"\n", b"")


def _mutated(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, value in edits:
        if out:
            out[pos % len(out)] = value
    return bytes(out)


@settings(max_examples=examples(2000))
@given(
    status=st.sampled_from([200, 200, 200, 200, 302, 401, 404, 500, 503]),
    code=st.one_of(st.none(), _header_value),
    content_type=st.sampled_from(["application/mapi-http", "text/html", "application/json", ""]),
    extra=st.dictionaries(
        st.sampled_from(
            ["X-PendingPeriod", "X-ExpirationInfo", "Set-Cookie", "X-RequestId", "X-RequestType"]
        ),
        _header_value,
        max_size=4,
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6).map(
            lambda e: _mutated(_GOOD, e)
        ),
        st.binary(max_size=40).map(lambda tail: _GOOD[: len(_GOOD) // 2] + tail),
    ),
    request_type=st.sampled_from(["Connect", "Execute", "PING", "Disconnect"]),
)
# Hypothesis mixes constants of the loaded modules into its data: in a full run it drew the NTLM signature
# of the auth tests into a body and a header, which the secret-leak scanner must take as a server's bytes.
@example(
    status=200,
    code="TlRMTVNTUA",
    content_type="application/mapi-http",
    extra={"X-RequestId": "TlRMTVNTUA"},
    body=b"NTLMSSP\x00\x01\x00\x00\x00" + _GOOD,
    request_type="Execute",
)
def test_fuzz_any_answer_gives_a_result_or_a_transport_error(
    *, status: int, code: str | None, content_type: str, extra: dict[str, str], body: bytes, request_type: str
) -> None:
    # Hypothesis seeds its data with constants from our sources, b"NTLMSSP\0" among them: a made-up answer
    # holding one would read as a leaked NTLM message to tests/test_no_secret_leaks.py.
    body = body.replace(b"NTLMSSP", b"NTLMSSq")
    headers = {k.encode(): _latin1(v).replace(b"TlRMTVNTUA", b"TlRMTVNTUq") for k, v in extra.items()}
    if code is not None:
        headers[b"X-ResponseCode"] = _latin1(code).replace(b"TlRMTVNTUA", b"TlRMTVNTUq")
    if content_type:
        headers[b"Content-Type"] = content_type.encode()

    _FUZZ_ANSWER["answer"] = (status, headers, body)
    records = _FUZZ_TRACE.records
    before = records[-1].seq if records else 0
    try:
        result = _FUZZ_ENDPOINT.request(request_type, b"req", context=SessionContext())
    except TransportError as exc:
        assert str(exc)
    else:
        assert result.response_code == 0 and status == 200
    assert _FUZZ_TRACE.records[-1].seq == before + 1  # one record per exchange, whatever happened


_FUZZ_ANSWER: dict[str, tuple[int, dict[bytes, bytes], bytes]] = {}
_FUZZ_TRACE = Trace(limit=10)


def _fuzz_answer(request: httpx.Request) -> httpx.Response:
    status, headers, body = _FUZZ_ANSWER["answer"]
    return httpx.Response(status, headers=headers, content=body)


_FUZZ_ENDPOINT = MapiHttpEndpoint(
    "https://mail.contoso.test/mapi/emsmdb/?MailboxId=x",
    httpx.Client(transport=httpx.MockTransport(_fuzz_answer)),
    trace=_FUZZ_TRACE,
)
