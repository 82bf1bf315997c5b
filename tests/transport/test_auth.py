"""BasicAuth driven by hand, as httpx's own auth tests do: the flow yields requests and receives responses."""

from __future__ import annotations

import base64

import httpx
import pytest

from mapiprobe.transport.auth import BasicAuth, Secret, offered_schemes
from mapiprobe.transport.errors import AuthenticationFailed, InsecureCredentialRefused

PASSWORD = "Pa55-w0rd!sekrit"


def _request(url: str = "https://autodiscover.contoso.test/autodiscover/autodiscover.xml") -> httpx.Request:
    return httpx.Request("POST", url, content=b"<x/>")


def _response(status: int, *challenges: str) -> httpx.Response:
    return httpx.Response(status, headers=[("WWW-Authenticate", c) for c in challenges])


def _expected_header(user: str = "alice", password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_preemptive_basic_sends_credentials_once() -> None:
    flow = BasicAuth("alice", PASSWORD).sync_auth_flow(_request())
    sent = next(flow)
    assert sent.headers["Authorization"] == _expected_header()
    with pytest.raises(StopIteration):
        flow.send(_response(200))


def test_basic_401_raises_authentication_failed_with_offered_schemes() -> None:
    flow = BasicAuth("alice", PASSWORD).sync_auth_flow(_request())
    next(flow)
    with pytest.raises(AuthenticationFailed) as info:
        flow.send(_response(401, 'Basic realm="contoso"', "NTLM", "Negotiate"))
    err = info.value
    assert str(err).startswith(
        "authentication failed for https://autodiscover.contoso.test/autodiscover/autodiscover.xml with Basic"
    )
    assert err.offered == ("Basic", "NTLM", "Negotiate")
    assert err.kind == "auth-failed"
    assert PASSWORD not in str(err) and PASSWORD not in repr(err)


@pytest.mark.parametrize(
    "url",
    [
        "http://autodiscover.contoso.test/autodiscover/autodiscover.xml",
        "http://127.0.0.1:8080/",
    ],
)
def test_basic_refuses_plain_http_before_sending_anything(url: str) -> None:
    flow = BasicAuth("alice", PASSWORD).sync_auth_flow(_request(url))
    with pytest.raises(InsecureCredentialRefused) as info:
        next(flow)
    assert "not HTTPS" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_non_preemptive_waits_for_a_basic_challenge() -> None:
    flow = BasicAuth("alice", PASSWORD, preemptive=False).sync_auth_flow(_request())
    first = next(flow)
    assert "Authorization" not in first.headers
    second = flow.send(_response(401, 'Basic realm="x"'))
    assert second.headers["Authorization"] == _expected_header()
    with pytest.raises(StopIteration):
        flow.send(_response(200))


def test_non_preemptive_stops_on_success_without_credentials() -> None:
    flow = BasicAuth("alice", PASSWORD, preemptive=False).sync_auth_flow(_request())
    first = next(flow)
    assert "Authorization" not in first.headers
    with pytest.raises(StopIteration):
        flow.send(_response(200))


def test_non_preemptive_without_basic_offer_never_sends_credentials() -> None:
    flow = BasicAuth("alice", PASSWORD, preemptive=False).sync_auth_flow(_request())
    next(flow)
    with pytest.raises(AuthenticationFailed) as info:
        flow.send(_response(401, "NTLM", "Negotiate"))
    assert info.value.offered == ("NTLM", "Negotiate")


def test_non_preemptive_refuses_plain_http_too() -> None:
    flow = BasicAuth("alice", PASSWORD, preemptive=False).sync_auth_flow(_request("http://x.test/"))
    with pytest.raises(InsecureCredentialRefused):
        next(flow)


def test_unicode_credentials_are_utf8() -> None:
    flow = BasicAuth("jürgen", "pässwörd").sync_auth_flow(_request())
    sent = next(flow)
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode("jürgen:pässwörd".encode()).decode()


def test_password_never_in_repr() -> None:
    auth = BasicAuth("alice", PASSWORD)
    assert PASSWORD not in repr(auth)
    secret = Secret(PASSWORD)
    assert PASSWORD not in repr(secret) and PASSWORD not in str(secret) and PASSWORD not in f"{secret}"
    assert secret.reveal() == PASSWORD
    assert secret == Secret(PASSWORD) and bool(secret)


def test_offered_schemes_reads_every_header() -> None:
    resp = _response(401, "Negotiate, NTLM", 'Basic realm="a, b"', "NTLM")
    assert offered_schemes(resp) == ("Negotiate", "NTLM", "Basic")
