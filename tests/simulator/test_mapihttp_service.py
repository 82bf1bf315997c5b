"""The simulator's generic MAPI/HTTP machinery, driven by hand-made requests over loopback TLS.

Each test looks at what the server sends: status, X-ResponseCode, echoed headers, cookies, the envelope.
The endpoint is the echo endpoint of tests/transport/mapihttp_support.py.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.envelope import parse_envelope
from mapiprobe.simulator.mapihttp import CONTEXT_COOKIE, SEQUENCE_COOKIE, MapiHttpService, parse_cookie_header
from mapiprobe.simulator.org import load_organisation
from mapiprobe.simulator.web import BasicAuth, ConnectionState, Request, Site
from tests.hypothesis_profiles import examples
from tests.transport.mapihttp_support import (
    ALICE,
    BOB,
    HOST,
    PREFIX,
    URL,
    EchoHandler,
    EchoSim,
    echo_sim,
    mapi_headers,
)

pytestmark = pytest.mark.network


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
def http(echo: EchoSim) -> Iterator[httpx.Client]:
    with echo.raw_client() as client:
        yield client


def post(
    http: httpx.Client,
    request_type: str,
    body: bytes = b"",
    *,
    cookies: dict[str, str] | None = None,
    auth: tuple[str, str] | None = ALICE,
    headers: dict[str, str] | None = None,
    url: str = URL,
    n: int = 1,
) -> httpx.Response:
    hdrs = mapi_headers(request_type, request_id=f"{{0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F}}:{n}")
    if headers is not None:
        hdrs.update(headers)
    hdrs = {k: v for k, v in hdrs.items() if v}
    if cookies:
        hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return http.post(url, content=body, headers=hdrs, auth=auth)


def set_cookies(resp: httpx.Response) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in resp.headers.get_list("Set-Cookie"):
        out.update({k: v for k, v in parse_cookie_header(value.split(";")[0]).items()})
    return {name: out[name.lower()] for name in (CONTEXT_COOKIE, SEQUENCE_COOKIE) if name.lower() in out}


def connect(http: httpx.Client, auth: tuple[str, str] = ALICE) -> dict[str, str]:
    resp = post(http, "Connect", b"hi", auth=auth)
    assert resp.headers["X-ResponseCode"] == "0", resp.text
    return set_cookies(resp)


# --------------------------------------------------------------------------------------------------
# Path, authentication, verbs
# --------------------------------------------------------------------------------------------------


def test_bare_path_is_404_without_challenge(echo: EchoSim, http: httpx.Client) -> None:
    resp = http.post(f"https://{HOST}{PREFIX}", content=b"", headers=mapi_headers("Connect"))
    assert resp.status_code == 404
    assert "www-authenticate" not in resp.headers


def test_anonymous_request_gets_401(echo: EchoSim, http: httpx.Client) -> None:
    resp = post(http, "Connect", b"x", auth=None)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_get_answers_the_browser_page(echo: EchoSim, http: httpx.Client) -> None:
    resp = http.get(URL, auth=ALICE)
    assert resp.status_code == 200
    assert "MAPI/HTTP Connectivity Endpoint" in resp.text
    assert PREFIX in resp.text


# --------------------------------------------------------------------------------------------------
# Headers (2.2.2.1, 2.2.3): 7 missing, 4 invalid, 5 unknown request type; echoes on every answer
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-RequestType": ""}, "7"),
        ({"X-RequestId": ""}, "7"),
        ({"X-ClientInfo": ""}, "7"),
        ({"X-RequestId": "not-a-guid:1"}, "4"),
        ({"Content-Type": "text/plain"}, "4"),
        ({"Content-Type": ""}, "7"),
        ({"X-RequestType": "Frobnicate"}, "5"),
    ],
)
def test_header_errors(echo: EchoSim, http: httpx.Client, headers: dict[str, str], code: str) -> None:
    resp = post(http, "Connect", b"body", headers=headers)
    assert resp.status_code == 200
    assert resp.headers["X-ResponseCode"] == code
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.text  # the explanation
    assert "set-cookie" not in resp.headers


def test_request_id_without_braces_is_accepted(echo: EchoSim, http: httpx.Client) -> None:
    # PROTOCOL.md §2.2 ⚠: the spec's example has braces, the 2018 spreadsheet none; accept both.
    resp = post(http, "Connect", b"x", headers={"X-RequestId": "0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F:7"})
    assert resp.headers["X-ResponseCode"] == "0"


def test_success_headers_and_envelope(echo: EchoSim, http: httpx.Client) -> None:
    resp = post(http, "Connect", b"hi")
    h = resp.headers
    assert h["X-ResponseCode"] == "0"
    assert h["Content-Type"] == "application/mapi-http"
    assert h["Transfer-Encoding"] == "chunked"
    assert h["X-RequestType"] == "Connect"
    assert h["X-RequestId"] == "{0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F}:1"
    assert h["X-ClientInfo"] == "{6F5E4D3C-2B1A-4C0E-9B8A-7F6E5D4C3B2A}:1"
    assert h["X-ServerApplication"] == echo.sim.org.server_application
    assert h["X-ExpirationInfo"] == "900000"
    assert h["X-PendingPeriod"] == "30000"
    env = parse_envelope(resp.content)
    assert env.meta_tags == ("PROCESSING", "DONE")
    assert env.elapsed_time is not None and env.start_time is not None
    assert env.body == b"hello alice"
    assert set(set_cookies(resp)) == {CONTEXT_COOKIE, SEQUENCE_COOKIE}


def test_request_type_is_matched_without_case(echo: EchoSim, http: httpx.Client) -> None:
    resp = post(http, "connect", b"hi")
    assert resp.headers["X-ResponseCode"] == "0"
    assert echo.handler.seen[-1][0] == "Connect"


# --------------------------------------------------------------------------------------------------
# Cookies and sequencing (3.1.5.1, 3.2.5.1, 3.2.5.6)
# --------------------------------------------------------------------------------------------------


def test_sequence_cookie_changes_on_every_response(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    seen = {cookies[SEQUENCE_COOKIE]}
    for n in range(2, 6):
        resp = post(http, "PING" if n % 2 else "Execute", b"" if n % 2 else b"x", cookies=cookies, n=n)
        assert resp.headers["X-ResponseCode"] == "0", resp.text
        new = set_cookies(resp)
        assert new[CONTEXT_COOKIE] == cookies[CONTEXT_COOKIE]
        assert new[SEQUENCE_COOKIE] not in seen
        seen.add(new[SEQUENCE_COOKIE])
        cookies = new


def test_stale_sequence_is_invalid_sequence(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    fresh = set_cookies(post(http, "Execute", b"x", cookies=cookies, n=2))
    resp = post(http, "Execute", b"x", cookies=cookies, n=3)  # the older sequence value
    assert resp.headers["X-ResponseCode"] == "15"
    assert "sequence" in resp.text.lower()
    # the newest value still works, and a refused request did not rotate it
    assert post(http, "Execute", b"x", cookies=fresh, n=4).headers["X-ResponseCode"] == "0"


def test_sequence_value_compared_without_case(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    cookies[SEQUENCE_COOKIE] = cookies[SEQUENCE_COOKIE].upper()
    assert post(http, "Execute", b"x", cookies=cookies, n=2).headers["X-ResponseCode"] == "0"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda c: c.pop(CONTEXT_COOKIE), "13"),
        (lambda c: c.pop(SEQUENCE_COOKIE), "13"),
        (lambda c: c.__setitem__(CONTEXT_COOKIE, "bad value!"), "6"),
        (lambda c: c.__setitem__(CONTEXT_COOKIE, "A" * 32), "10"),
    ],
    ids=["no-context-cookie", "no-sequence-cookie", "malformed-context", "unknown-context"],
)
def test_cookie_errors(echo: EchoSim, http: httpx.Client, mutate: object, code: str) -> None:
    cookies = connect(http)
    mutate(cookies)  # type: ignore[operator]
    resp = post(http, "Execute", b"x", cookies=cookies, n=2)
    assert resp.headers["X-ResponseCode"] == code
    assert resp.headers["Content-Type"].startswith("text/html")


def test_context_of_another_user_is_not_found(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http, ALICE)
    resp = post(http, "Execute", b"x", cookies=cookies, auth=BOB, n=2)
    assert resp.headers["X-ResponseCode"] == "10"
    assert "another user" in resp.text


def test_concurrent_request_is_invalid_sequence(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    echo.service.pending_period_ms = 100
    with echo.raw_client() as second:
        # Stream the slow request: its head (with the next sequence cookie) arrives while it is processed.
        hdrs = mapi_headers("Slow", request_id="{0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F}:2")
        hdrs["Cookie"] = (
            f"{CONTEXT_COOKIE}={cookies[CONTEXT_COOKIE]}; {SEQUENCE_COOKIE}={cookies[SEQUENCE_COOKIE]}"
        )
        with http.stream("POST", URL, content=b"0.6", headers=hdrs, auth=ALICE) as slow:
            newest = set_cookies(slow)
            busy = post(second, "Execute", b"x", cookies=newest, n=3)
            assert busy.headers["X-ResponseCode"] == "15"
            assert "still being processed" in busy.text
            stale = post(second, "Execute", b"x", cookies=cookies, n=4)
            assert stale.headers["X-ResponseCode"] == "15"
            env = parse_envelope(slow.read())
        assert env.body == b"slow:0.6"
        assert env.pending_count >= 3
    # once the slow one is answered, the newest cookie works again
    assert post(http, "Execute", b"x", cookies=newest, n=5).headers["X-ResponseCode"] == "0"


def test_notification_wait_runs_beside_another_request(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    echo.handler.wait_s = 0.5
    results: dict[str, httpx.Response] = {}

    def wait() -> None:
        with echo.raw_client() as other:
            results["wait"] = post(other, "NotificationWait", b"w", cookies=cookies, n=2)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.1)
    execute = post(http, "Execute", b"x", cookies=cookies, n=3)
    assert execute.headers["X-ResponseCode"] == "0"
    second_wait = post(http, "NotificationWait", b"w", cookies=set_cookies(execute), n=4)
    assert second_wait.headers["X-ResponseCode"] == "15"  # one NotificationWait at a time
    thread.join(5)
    wait_resp = results["wait"]
    assert wait_resp.headers["X-ResponseCode"] == "0"
    assert "set-cookie" not in wait_resp.headers  # it leaves the sequence alone
    assert parse_envelope(wait_resp.content).body == b"event"


def test_reconnect_with_old_cookies_destroys_the_old_context(echo: EchoSim, http: httpx.Client) -> None:
    old = connect(http)
    stale_sequence = dict(old)
    old = set_cookies(post(http, "Execute", b"x", cookies=old, n=2))
    # 3.2.5.6: a Connect carrying the old cookies (the sequence cookie is ignored, even a stale one)
    resp = post(http, "Connect", b"again", cookies=stale_sequence, n=3)
    assert resp.headers["X-ResponseCode"] == "0"
    new = set_cookies(resp)
    assert new[CONTEXT_COOKIE] != old[CONTEXT_COOKIE]
    assert post(http, "Execute", b"x", cookies=old, n=4).headers["X-ResponseCode"] == "10"
    assert post(http, "Execute", b"x", cookies=new, n=5).headers["X-ResponseCode"] == "0"
    assert len(echo.service.contexts) == 1


def test_disconnect_destroys_the_context(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    resp = post(http, "Disconnect", b"", cookies=cookies, n=2)
    assert resp.headers["X-ResponseCode"] == "0"
    assert set_cookies(resp)  # 3.2.5.4: the Set-Cookie headers are still sent
    assert post(http, "Execute", b"x", cookies=set_cookies(resp), n=3).headers["X-ResponseCode"] == "10"
    assert echo.service.contexts == []


# --------------------------------------------------------------------------------------------------
# Lifetime, PING, PENDING (2.2.3.3.5, 2.2.3.3.8, 3.1.5.3, 3.2.6)
# --------------------------------------------------------------------------------------------------


def test_idle_context_expires_and_ping_resets_the_timer(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.lifetime_s = 0.6
    cookies = connect(http)
    for n in range(2, 5):
        time.sleep(0.35)
        resp = post(http, "PING", cookies=cookies, n=n)
        assert resp.headers["X-ResponseCode"] == "0"
        assert resp.headers["X-ExpirationInfo"] == "600"
        env = parse_envelope(resp.content)
        assert env.body == b""  # PING has no body (2.2.6)
        cookies = set_cookies(resp)
    time.sleep(0.8)
    resp = post(http, "Execute", b"x", cookies=cookies, n=9)
    assert resp.headers["X-ResponseCode"] == "10"
    assert "expired" in resp.text


def test_pending_keepalives_while_the_handler_works(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.pending_period_ms = 100
    cookies = connect(http)
    resp = post(http, "Slow", b"0.45", cookies=cookies, n=2)
    assert resp.headers["X-PendingPeriod"] == "100"
    env = parse_envelope(resp.content)
    assert 2 <= env.pending_count <= 6
    assert env.meta_tags[0] == "PROCESSING" and env.meta_tags[-1] == "DONE"
    assert env.body == b"slow:0.45"


def test_late_failure_is_reported_among_the_additional_headers(echo: EchoSim, http: httpx.Client) -> None:
    cookies = connect(http)
    resp = post(http, "Fail", b"", cookies=cookies, n=2)
    assert resp.headers["X-ResponseCode"] == "0"  # the head went out before the handler failed
    env = parse_envelope(resp.content)
    assert env.response_code == 12
    assert b"refuses" in env.body


def test_delay_knob(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.delay_s = 0.3
    echo.service.pending_period_ms = 100
    start = time.monotonic()
    resp = post(http, "Connect", b"x")
    assert time.monotonic() - start >= 0.3
    assert parse_envelope(resp.content).pending_count >= 1


def test_rtt_knob(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.rtt_s = 0.2
    start = time.monotonic()
    post(http, "Connect", b"x")
    assert time.monotonic() - start >= 0.2


# --------------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------------


def test_fault_503(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.fault = "503"
    resp = post(http, "Connect", b"x")
    assert resp.status_code == 503
    assert "x-responsecode" not in resp.headers
    assert "Service Unavailable" in resp.text


def test_fault_html_200(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.fault = "html-200"
    resp = post(http, "Connect", b"x")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "x-responsecode" not in resp.headers
    assert "Sign in" in resp.text


def test_fault_truncate(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.fault = "truncate"
    with pytest.raises(httpx.RemoteProtocolError):
        post(http, "Connect", b"x")


def test_fault_drop(echo: EchoSim, http: httpx.Client) -> None:
    echo.service.fault = "drop"
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        post(http, "Connect", b"x")
    assert echo.service.counters["fault-drop"] == 1


def test_stop_ends_pending_requests_with_code_18(echo: EchoSim, http: httpx.Client) -> None:
    handler = EchoHandler()
    svc = MapiHttpService(
        "echo-stop", connect_types={"Connect"}, disconnect_types=set(), handler=handler, pending_period_ms=50
    )
    svc.install(echo.sim.https_site, "/mapi/echostop/", hosts=[HOST])
    svc.delay_s = 5
    threading.Timer(0.3, svc.stop).start()
    start = time.monotonic()
    resp = post(http, "Connect", b"x", url=f"https://{HOST}/mapi/echostop/?MailboxId=x")
    assert time.monotonic() - start < 3
    assert parse_envelope(resp.content).response_code == 18


# --------------------------------------------------------------------------------------------------
# Fuzz: any request gets an answer with an X-ResponseCode, never a handler error (in process, no network)
# --------------------------------------------------------------------------------------------------

_FUZZ_SITE = Site(realm="contoso.test")
_FUZZ_SITE.auth_schemes.append(BasicAuth(load_organisation()))
_FUZZ_SERVICE = MapiHttpService(
    "fuzz",
    connect_types={"Connect"},
    disconnect_types={"Disconnect"},
    handler=EchoHandler(wait_s=0),
    pending_period_ms=5,
)
_FUZZ_SERVICE.install(_FUZZ_SITE, PREFIX)
_AUTH = "Basic " + base64.b64encode(b"alice:Alice-Demo-2024!").decode()
_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@settings(max_examples=examples(400))
@given(
    request_type=st.one_of(
        st.sampled_from(["Connect", "Execute", "PING", "Disconnect", "Fail", "NotificationWait"]), _text
    ),
    request_id=st.one_of(st.just("{0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F}:3"), _text),
    content_type=st.sampled_from(["application/mapi-http", "text/plain", None]),
    cookie=st.one_of(
        st.none(), _text, st.sampled_from(["MapiContext=" + "A" * 32, "MapiContext=x; MapiSequence=y"])
    ),
    use_live_context=st.booleans(),
    body=st.binary(max_size=16),
)
def test_fuzz_requests_always_get_a_mapihttp_answer(
    *,
    request_type: str,
    request_id: str,
    content_type: str | None,
    cookie: str | None,
    use_live_context: bool,
    body: bytes,
) -> None:
    headers = {
        "X-RequestType": request_type,
        "X-RequestId": request_id,
        "X-ClientInfo": "{6F5E4D3C-2B1A-4C0E-9B8A-7F6E5D4C3B2A}:1",
        "Authorization": _AUTH,
    }
    if content_type:
        headers["Content-Type"] = content_type
    live = _FUZZ_SERVICE.contexts
    if use_live_context and live:
        ctx = live[0]
        cookie = f"{CONTEXT_COOKIE}={ctx.id}; {SEQUENCE_COOKIE}={ctx.sequence}"
    if cookie is not None:
        headers["Cookie"] = cookie
    req = Request("https", "https", HOST, "POST", PREFIX, "MailboxId=x", headers, body, ConnectionState())
    resp = _FUZZ_SITE.dispatch(req)
    assert resp.status == 200
    names = {k.lower(): v for k, v in resp.headers}
    assert names["x-responsecode"].isdigit()
    if resp.chunks is not None:
        stream = b"".join(resp.chunks)
        assert parse_envelope(stream).meta_tags[-1] == "DONE"
    assert not _FUZZ_SITE.errors
