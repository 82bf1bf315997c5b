"""``mapiprobe check`` in-process: against the simulator, and against loopback servers played by the tests
with faults the simulator does not model (a broken Autodiscover document, plain HTTP where TLS belongs, a
proxy that refuses CONNECT). Also the secret scan of the HTML and JSON reports."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import assert_no_credentials_in_clear, cli_args, xml_server

pytestmark = pytest.mark.network


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.auth.offer("*", ("Negotiate", "NTLM"))  # what Exchange 2019 offers
    _module_sim.clear_requests()
    yield _module_sim
    _module_sim.auth.reset()
    assert_no_credentials_in_clear(_module_sim)
    assert not _module_sim.errors


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *args: str,
    first: tuple[str, ...] = (),
    secret: str | None = None,
) -> tuple[int, str, str]:
    user = sim.users[0]
    # Generous limits: a loaded 2-core machine (8 helpers at once) must not turn a healthy run into "the
    # server stalls"; the scenarios about time are in the catalogue test.
    argv = ["check", user.email, *args, *cli_args(sim, first=first, timeout=5.0), "--password-stdin"]
    if "--slow-after" not in args:
        argv += ["--slow-after", "30"]
    monkeypatch.setattr(sys, "stdin", io.StringIO((secret or user.password) + "\n"))
    code = main(argv)
    out, err = capsys.readouterr()
    assert user.password not in out and user.password not in err
    return code, out, err


def test_healthy_run_exits_0_with_progress_summary_and_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, tmp_path: Path
) -> None:
    report = tmp_path / "ok.html"
    code, out, err = run(capsys, monkeypatch, sim, "--report", str(report))
    assert code == 0, err
    assert "PASS" in out and "report: " in out
    for step in ("dns", "tls", "autodiscover", "mailbox-connect", "folders", "resolve", "disconnect"):
        assert re.search(rf"\[ *pass\] {step} ", err), (step, err)
    text = report.read_text(encoding="utf-8")
    assert 'data-result="pass"' in text and "<svg" in text and 'id="connection-status"' in text
    for reference in ("src=", "href=", "url(", "@import", "<script", "<link"):  # no external asset
        assert reference not in text, reference


def test_json_carries_the_steps(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, _err = run(capsys, monkeypatch, sim, "--json", "-q")
    data = json.loads(out)
    assert code == 0 and data["result"] == "pass", [s for s in data["steps"] if s["status"] != "pass"]
    keys = {"id", "target", "status", "elapsed_ms", "cause", "remedy", "evidence"}
    assert all(keys <= set(step) for step in data["steps"])
    assert [r["Type"] for r in data["connection_status"]] == ["Mail", "Directory"]
    mail = data["connection_status"][0]
    # session/status.py's column is Authn (Outlook's words: NTLM, Nego); the interim rows said Authentication.
    assert (mail.get("Authn") or mail.get("Authentication") or "").startswith(("NTLM", "Nego"))
    assert data["requests"] and all("proxy" in r for r in data["requests"])


def test_save_har_keeps_every_exchange(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, tmp_path: Path
) -> None:
    har = tmp_path / "run.har"
    code, out, err = run(capsys, monkeypatch, sim, "--json", "-q", "--save-har", str(har))
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    assert code == 0 and len(entries) == len(json.loads(out)["requests"]) and "saved" in err
    assert sim.users[0].password not in har.read_text(encoding="utf-8")


def test_failure_exits_1_and_warnings_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("mailbox-503")
    code, out, err = run(capsys, monkeypatch, sim)
    assert code == 1 and "FAIL" in out and "HTTP 503" in out
    assert "[skipped] mailbox-connect" in err
    sim.set_scenario("mailbox-expired")
    code, out, _err = run(capsys, monkeypatch, sim, "--json", "-q")
    ping = next(s for s in json.loads(out)["steps"] if s["id"] == "ping")
    assert code == 3 and ping["status"] == "warn" and "only 2.0 s" in ping["cause"]


def test_max_time_bounds_the_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("slow")  # Autodiscover answers after 3 s
    started = time.monotonic()
    code, out, _err = run(capsys, monkeypatch, sim, "--json", "-q", "--max-time", "1.5")
    assert time.monotonic() - started < 4
    step = next(s for s in json.loads(out)["steps"] if s["id"] == "autodiscover")
    assert code == 1 and step["status"] == "fail" and step["cause_code"] == "autodiscover-timeout"


def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, tmp_path: Path
) -> None:
    assert main(["check", "not-an-address", "--proxy", "none"]) == 2
    assert main(["check", "a@contoso.test", "--proxy", "socks5://127.0.0.1:1"]) == 2
    assert main(["check", "a@contoso.test", "--report", str(tmp_path / "no" / "such.html")]) == 2
    err = capsys.readouterr().err
    assert "only http:// proxies" in err and "no such directory" in err
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "3 every step passed" in capsys.readouterr().out


# -- faults the simulator does not model ---------------------------------------------------------------


def test_broken_autodiscover_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, tmp_path: Path
) -> None:
    body = b'<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autod'
    with xml_server(["autodiscover.contoso.test"], body, delay=0, directory=tmp_path) as server:
        code, _out, err = run(
            capsys,
            monkeypatch,
            sim,
            "--ca-cert",
            str(server.ca_path),
            "--url",
            "https://autodiscover.contoso.test/autodiscover/autodiscover.xml",
            first=(f"autodiscover.contoso.test:443:127.0.0.1:{server.port}",),
        )
    assert code == 1
    assert "[   fail] autodiscover" in err
    assert "[skipped] mailbox-connect" in err


@contextlib.contextmanager
def _tcp_server(handle: Any) -> Iterator[int]:
    """A loopback TCP server that runs ``handle(conn)`` for each connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def _plain_http(conn: socket.socket) -> None:
    conn.settimeout(2)
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_plain_http_where_tls_belongs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    with _tcp_server(_plain_http) as port:
        code, out, _err = run(
            capsys, monkeypatch, sim, "--json", first=(f"mail.contoso.test:443:127.0.0.1:{port}",)
        )
    data = json.loads(out)
    tls = next(s for s in data["steps"] if s["id"] == "tls" and s["target"] == "mail.contoso.test:443")
    assert code == 1 and tls["status"] == "fail" and tls["cause_code"] == "tls-failed"
    assert "no TLS session with mail.contoso.test:443" in tls["cause"]
    probe = [s for s in data["steps"] if s["id"] == "mailbox-connect"]
    assert probe and probe[0]["status"] == "skipped"


def test_endpoint_host_that_refuses_connections(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    code, out, _err = run(
        capsys, monkeypatch, sim, "--json", "-q", first=(f"mail.contoso.test:443:127.0.0.1:{closed}",)
    )
    data = json.loads(out)
    steps = {
        (s["id"], s["target"].split("/")[2] if "://" in s["target"] else s["target"]): s
        for s in data["steps"]
    }
    assert code == 1
    assert steps[("tcp", "mail.contoso.test:443")]["cause_code"] == "tcp-refused"
    reach = [s for s in data["steps"] if s["id"] == "reachability"]
    assert reach and all(s["status"] == "fail" and s["cause_code"] == "endpoint-unreachable" for s in reach)
    assert "not reachable from here" in reach[0]["cause"]
    skipped = next(s for s in data["steps"] if s["id"] == "mailbox-connect")
    assert skipped["status"] == "skipped" and "not reachable" in skipped["summary"]


def _refusing_proxy(conn: socket.socket) -> None:
    conn.settimeout(2)
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_proxy_that_refuses_connect(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    with _tcp_server(_refusing_proxy) as port:
        code, out, _err = run(capsys, monkeypatch, sim, "--json", "-q", "--proxy", f"http://127.0.0.1:{port}")
    data = json.loads(out)
    tcp = [s for s in data["steps"] if s["id"] == "tcp"]
    assert code == 1 and tcp and all(s["status"] == "fail" for s in tcp)
    assert all(s["cause_code"] == "proxy-refused" and "403 Forbidden" in s["cause"] for s in tcp)


def test_tunnelling_proxy_is_named_in_steps_and_trace(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    assert sim.proxy is not None
    sim.proxy.seen.clear()
    code, out, _err = run(capsys, monkeypatch, sim, "--json", "-q", "--proxy", str(sim.proxy_url))
    data = json.loads(out)
    assert code == 0, [s for s in data["steps"] if s["status"] != "pass"]
    proxy_steps = [s for s in data["steps"] if s["id"] == "proxy"]
    assert proxy_steps and all("a tunnel" in s["summary"] for s in proxy_steps)
    assert {r["proxy"] for r in data["requests"]} == {sim.proxy_url}, [
        (r["url"], r["proxy"]) for r in data["requests"] if r["proxy"] != sim.proxy_url
    ]
    assert ("CONNECT", "mail.contoso.test:443") in sim.proxy.seen


# -- no secret in the reports ----------------------------------------------------------------------------


def _secrets_seen(sim: Simulator) -> set[str]:
    """Every credential and cookie value the client sent to the simulator."""
    found: set[str] = set()
    for req in sim.requests:
        auth = req.header("Authorization")
        if auth:
            found.add(auth.split(None, 1)[-1])
        for part in (req.header("Cookie") or "").split(";"):
            value = part.partition("=")[2].strip()
            if len(value) >= 8:
                found.add(value)
    return found


@pytest.mark.parametrize("scenario", ["normal", "windows-auth", "modern-auth", "ab-refused"])
def test_no_secret_in_html_or_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    tmp_path: Path,
    scenario: str,
) -> None:
    sim.set_scenario(scenario)
    user = sim.users[0]
    report = tmp_path / "r.html"
    args = ["--json", "-q", "--report", str(report)]
    secret = None
    if scenario == "modern-auth":
        args += ["--auth", "bearer"]
        secret = sim.auth.tokens[user.email]
    if scenario == "normal":
        sim.auth.offer("*", ("Basic",))  # the password itself goes over the wire (base64)
    code, out, _err = run(capsys, monkeypatch, sim, *args, secret=secret)
    assert code in (0, 1, 3)
    html_text, json_text = report.read_text(encoding="utf-8"), out
    seen = _secrets_seen(sim)
    assert seen, "the run sent no credentials: nothing was scanned"
    basic = base64.b64encode(f"{user.email}:{user.password}".encode()).decode()
    forbidden = {user.password, sim.auth.tokens[user.email], basic, *seen}
    for text in (html_text, json_text):
        for value in forbidden:
            assert value not in text
        assert "TlRMTVNT" not in text  # "NTLMSSP" in base64: no NTLM message
        for match in re.finditer(r"(?i)(authorization|cookie)[\"']?\s*[:,]\s*\[?\"?([^\"\n<]*)", text):
            value = match.group(2)
            assert value.split(None, 1)[-1] in ("[redacted]", "") or "[redacted]" in value, match.group(0)
