"""Every request ends in bounded time (transport/limits.py), against loopback servers that never finish.

The servers (tests/transport/slow_servers.py) trickle a byte every 0.2 s, which never opens a gap as long
as --timeout, or answer MAPI/HTTP with PENDING forever. The limits are small here (1 s) so each test takes
about that long; each asserts the wall time and the words of the message.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path

import pytest

from mapiprobe.cli import main
from mapiprobe.transport import mapihttp
from mapiprobe.transport.client import ConnectionOptions, make_client
from mapiprobe.transport.errors import MaxTimeExceeded, ReadTimeout, TooSlow, map_transport_errors
from mapiprobe.transport.mapihttp import MapiHttpEndpoint, SessionContext, make_mapihttp_client
from tests.transport.slow_servers import (
    SlowServer,
    elapsed,
    pending_forever,
    quick_answer,
    slow_server,
    trickle_body,
    trickle_headers,
)

pytestmark = pytest.mark.network

MAILBOX_URL = "https://slow.example.test/mapi/emsmdb/?MailboxId=a1b2@example.test"


def _options(server: SlowServer, timeout: float = 1.0, **kw: object) -> ConnectionOptions:
    return ConnectionOptions(
        connect_to=tuple(server.rules),
        ca_certs=(server.ca_path,),
        connect_timeout=timeout,
        read_timeout=timeout,
        **kw,  # type: ignore[arg-type]
    )


def _closed(server: SlowServer, within: float = 3.0) -> bool:
    """The server saw the client go away (nothing is left running on our side)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.open_connections == 0:
            return True
        time.sleep(0.05)
    return False


def test_trickled_headers_end_after_timeout(tmp_path: Path) -> None:
    with slow_server(trickle_headers(0.2), tmp_path) as server, make_client(_options(server)) as client:
        start = time.monotonic()
        with pytest.raises(TooSlow) as caught, map_transport_errors():
            client.get("https://slow.example.test/")
        took = elapsed(start)
        assert 0.9 <= took < 2.5, took
        assert caught.value.phase == "headers" and isinstance(caught.value, ReadTimeout)
        message = caught.value.message
        assert message.startswith("slow.example.test sent ") and "bytes of response headers in 1 s" in message
        assert "never finished them" in message and "raise --timeout" in message
        assert _closed(server)


def test_trickled_body_is_below_the_minimum_pace(tmp_path: Path) -> None:
    with slow_server(trickle_body(0.2), tmp_path) as server, make_client(_options(server)) as client:
        start = time.monotonic()
        with (
            pytest.raises(TooSlow) as caught,
            map_transport_errors(),
            client.stream("GET", "https://slow.example.test/") as response,
        ):
            assert response.status_code == 200
            response.read()
        took = elapsed(start)
        assert 0.9 <= took < 2.5, took
        assert caught.value.phase == "body"
        message = caught.value.message
        assert (
            message.startswith("slow.example.test sent only ")
            and "of the response body in the last 1 s" in message
        )
        assert "under the minimum of 1 KiB/s" in message
        assert _closed(server)


def test_time_the_caller_spends_between_reads_does_not_count(tmp_path: Path) -> None:
    """httpx's auth flow computes its next token (maybe asking a KDC) before it reads a 401's body: the
    body pace counts only the time spent waiting for the server."""
    with (
        slow_server(quick_answer(), tmp_path) as server,
        make_client(_options(server)) as client,
        map_transport_errors(),
        client.stream("GET", "https://slow.example.test/") as response,
    ):
        time.sleep(1.5)  # longer than --timeout 1: the body arrived long ago
        assert response.read() == b"<" * 100


def test_max_time_bounds_everything(tmp_path: Path) -> None:
    with slow_server(trickle_headers(0.2), tmp_path) as server:
        start = time.monotonic()
        options = _options(server, timeout=10.0, max_time=0.8, deadline=start + 0.8)
        with make_client(options) as client, pytest.raises(MaxTimeExceeded) as caught, map_transport_errors():
            client.get("https://slow.example.test/")
        took = elapsed(start)
        assert 0.7 <= took < 2.0, took
        assert caught.value.message.startswith("stopped after --max-time 0.8 s while reading the answer of ")
        assert "slow.example.test" in caught.value.message
        assert _closed(server)


def _endpoint(server: SlowServer, **kw: object) -> MapiHttpEndpoint:
    return MapiHttpEndpoint(MAILBOX_URL, make_mapihttp_client(_options(server)), **kw)  # type: ignore[arg-type]


def test_pending_forever_ends_after_max_pending(tmp_path: Path) -> None:
    with slow_server(pending_forever(0.2), tmp_path) as server:
        endpoint = _endpoint(server, max_pending=1.0)
        start = time.monotonic()
        with pytest.raises(TooSlow) as caught:
            endpoint.request("Connect", b"\x00" * 8, context=SessionContext())
        took = elapsed(start)
        assert 0.9 <= took < 2.5, took
        message = caught.value.message
        assert caught.value.phase == "pending"
        assert message.startswith("slow.example.test answered Connect with PENDING ")
        count = int(message.split("PENDING ")[1].split(" ")[0])
        assert 3 <= count <= 6, message  # one every 0.2 s for 1 s
        assert "times over 1 s without a result (--max-pending 1 s)" in message
        assert _closed(server)
        endpoint.client.close()


def test_notification_wait_keeps_its_own_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NotificationWait may stay PENDING longer than --max-pending (the server holds it up to 5 minutes);
    its own limit (NOTIFICATION_WAIT_LIMIT, shortened here) ends it."""
    monkeypatch.setattr(mapihttp, "NOTIFICATION_WAIT_LIMIT", 1.5)
    with slow_server(pending_forever(0.2), tmp_path) as server:
        endpoint = _endpoint(server, max_pending=0.5)
        start = time.monotonic()
        with pytest.raises(TooSlow) as caught:
            endpoint.request("NotificationWait", b"\x00" * 4, context=SessionContext())
        took = elapsed(start)
        assert 1.4 <= took < 3.0, took
        assert "answered NotificationWait with PENDING" in caught.value.message
        assert "(the NotificationWait limit 1.5 s)" in caught.value.message
        endpoint.client.close()


# -- the command line: exit 1, the message, the wall time, no traceback, nothing left running --------------


def _cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: SlowServer, *args: str
) -> tuple[int, str, float]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Secret-Pass-1\n"))
    rules = [a for rule in server.rules for a in ("--connect-to", rule)]
    threads = set(threading.enumerate())
    start = time.monotonic()
    code = main([*args, *rules, "--ca-cert", str(server.ca_path), "--password-stdin"])
    took = elapsed(start)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert _closed(server)
    left = [t for t in set(threading.enumerate()) - threads if t.is_alive() and not t.daemon]
    assert not left, left
    return code, out + err, took


def test_cli_autodiscover_against_a_trickling_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with slow_server(trickle_headers(0.2), tmp_path) as server:
        url = "https://slow.example.test/autodiscover/autodiscover.xml"
        code, text, took = _cli(
            capsys, monkeypatch, server, "autodiscover", "alice@example.test", "--url", url, "--timeout", "1"
        )
    assert code == 1 and took < 3.0, (took, text)
    assert "slow.example.test sent " in text and "bytes of response headers in 1 s and never finished" in text
    assert "Error timeout:" in text


def test_cli_folders_against_pending_forever(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with slow_server(pending_forever(0.2), tmp_path) as server:
        code, text, took = _cli(
            capsys,
            monkeypatch,
            server,
            "folders",
            "alice@example.test",
            "--mailbox-url",
            MAILBOX_URL,
            "--legacy-dn",
            "/o=Example/ou=First/cn=Recipients/cn=alice",
            "--auth",
            "basic",
            "--timeout",
            "2",
            "--max-pending",
            "1",
        )
    assert code == 1 and took < 3.0, (took, text)
    assert "slow.example.test answered Connect with PENDING " in text
    assert "times over 1 s without a result (--max-pending 1 s)" in text


def test_cli_max_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with slow_server(trickle_body(0.2), tmp_path) as server:
        code, text, took = _cli(
            capsys, monkeypatch, server, "probe", MAILBOX_URL, "--timeout", "10", "--max-time", "1"
        )
    assert code == 1 and took < 2.5, (took, text)
    assert "stopped after --max-time 1 s while" in text and "slow.example.test" in text
