"""Proxy choice (--proxy, the environment, WinINet with a fake winreg, a PAC file through pypac) and requests
really going through a proxy (the simulator's CONNECT tunnel), named in the trace."""

from __future__ import annotations

import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mapiprobe.simulator import Simulator
from mapiprobe.transport.client import make_client
from mapiprobe.transport.proxy import (
    ProxyError,
    ProxySelector,
    ProxySettings,
    bypassed,
    first_pac_proxy,
    read_wininet,
    settings_from_option,
    system_proxy_settings,
)
from mapiprobe.transport.tls import inspect_tls
from mapiprobe.transport.trace import Trace
from tests.session.simhelp import connection


def test_option_forms() -> None:
    assert settings_from_option("none").source == "none"
    assert not ProxySelector(settings_from_option("direct")).may_proxy
    s = settings_from_option("proxy.corp:3128")
    assert (s.http, s.https) == ("http://proxy.corp:3128", "http://proxy.corp:3128")
    assert settings_from_option("pac+http://wpad/wpad.dat").pac_url == "http://wpad/wpad.dat"
    with pytest.raises(ProxyError, match="only http://"):
        settings_from_option("socks5://127.0.0.1:1080")


def test_environment_lower_case_wins_and_no_proxy_bypasses() -> None:
    env = {
        "HTTPS_PROXY": "http://upper:1",
        "https_proxy": "http://lower:3128",
        "http_proxy": "plain:8080",
        "NO_PROXY": "localhost,.internal.test,10.0.0.1",
    }
    s = system_proxy_settings(environ=env, platform="linux")
    assert s.source == "environment" and s.https == "http://lower:3128" and s.http == "http://plain:8080"
    sel = ProxySelector(s)
    assert sel.for_url("https://mail.contoso.test/mapi/") == "http://lower:3128"
    assert sel.for_url("http://autodiscover.contoso.test/") == "http://plain:8080"
    assert sel.for_url("https://mail.internal.test/") is None
    assert sel.for_url("https://localhost/") is None
    assert system_proxy_settings(environ={}, platform="linux").source == "system-none"


@pytest.mark.parametrize(
    ("host", "patterns", "expected"),
    [
        ("mail.contoso.test", ["*.contoso.test"], True),
        ("contoso.test", ["*.contoso.test"], False),
        ("mail.contoso.test", ["contoso.test"], True),
        ("intranet", ["<local>"], True),
        ("mail.contoso.test", ["<local>"], False),
        ("anything.example", ["*"], True),
        ("evilcontoso.test", ["contoso.test"], False),
    ],
)
def test_bypass_patterns(host: str, patterns: list[str], expected: bool) -> None:
    assert bypassed(host, patterns) is expected


def _fake_winreg(values: dict[str, Any] | None) -> Any:
    mod = types.ModuleType("winreg")
    mod.HKEY_CURRENT_USER = 1  # type: ignore[attr-defined]
    mod.KEY_READ = 0x20019  # type: ignore[attr-defined]

    class Key:
        def __enter__(self) -> Key:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    def open_key(root: int, path: str, reserved: int, access: int) -> Key:
        assert path.endswith(r"CurrentVersion\Internet Settings")
        if values is None:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return Key()

    def query(key: Key, name: str) -> tuple[Any, int]:
        assert values is not None
        if name not in values:
            raise FileNotFoundError(2, "not found")
        return values[name], 1

    mod.OpenKey = open_key  # type: ignore[attr-defined]
    mod.QueryValueEx = query  # type: ignore[attr-defined]
    return mod


def test_wininet_settings() -> None:
    per_scheme = read_wininet(
        _fake_winreg(
            {
                "ProxyEnable": 1,
                "ProxyServer": "http=web:8080;https=secure:8443;ftp=x:21",
                "ProxyOverride": "*.contoso.test;<local>",
            }
        )
    )
    assert per_scheme is not None
    assert (per_scheme.http, per_scheme.https, per_scheme.source) == (
        "http://web:8080",
        "http://secure:8443",
        "wininet",
    )
    sel = ProxySelector(per_scheme)
    assert sel.for_url("https://outlook.office365.com/") == "http://secure:8443"
    assert sel.for_url("https://mail.contoso.test/") is None and sel.for_url("https://intranet/") is None
    assert read_wininet(_fake_winreg({"ProxyEnable": 0, "ProxyServer": "a:1"})) is None
    assert read_wininet(_fake_winreg(None)) is None
    pac = read_wininet(_fake_winreg({"AutoConfigURL": "http://wpad.corp/proxy.pac", "ProxyEnable": 0}))
    assert pac is not None and pac.pac_url == "http://wpad.corp/proxy.pac"
    # The environment wins over WinINet, as for curl and Python; without it Windows reads the registry.
    fake = _fake_winreg({"ProxyEnable": 1, "ProxyServer": "one:3128"})
    assert system_proxy_settings(environ={}, winreg=fake).https == "http://one:3128"
    assert system_proxy_settings(environ={"https_proxy": "env:1"}, winreg=fake).source == "environment"


def test_pac_answers() -> None:
    assert first_pac_proxy("PROXY a.corp:3128; DIRECT") == "http://a.corp:3128"
    assert first_pac_proxy("DIRECT") is None
    script = (
        'function FindProxyForURL(url, host) { if (dnsDomainIs(host, ".contoso.test")) '
        'return "PROXY 127.0.0.1:3128; DIRECT"; return "DIRECT"; }'
    )
    sel = ProxySelector(ProxySettings("wininet", pac_url="http://wpad/x.pac"), fetch_pac=lambda url: script)
    assert sel.for_url("https://mail.contoso.test/mapi/") == "http://127.0.0.1:3128"
    assert sel.for_url("https://example.org/") is None
    assert sel.pac_state == "loaded"
    broken = ProxySelector(ProxySettings("wininet", pac_url="http://wpad/x.pac"), fetch_pac=_unreachable)
    assert broken.for_url("https://mail.contoso.test/") is None and broken.pac_state.startswith("failed")


def _unreachable(url: str) -> str:
    raise OSError("no route to host")


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as s:
        yield s


def test_requests_go_through_the_proxy_and_the_trace_says_so(sim: Simulator) -> None:
    assert sim.proxy is not None and sim.proxy_url is not None
    trace = Trace()
    options = replace(connection(sim), proxy=sim.proxy_url)
    with make_client(options, trace=trace) as client:
        response = client.get("https://mail.contoso.test/")
        plain = client.get("http://autodiscover.contoso.test/autodiscover/autodiscover.xml")
    assert response.status_code == 200 and plain.status_code in (301, 302, 404)
    assert ("CONNECT", "mail.contoso.test:443") in sim.proxy.seen
    assert any(m == "GET" and t.startswith("http://autodiscover.contoso.test/") for m, t in sim.proxy.seen)
    assert [r.proxy for r in trace.records] == [sim.proxy_url, sim.proxy_url]
    direct = Trace()
    with make_client(replace(options, proxy="none"), trace=direct) as client:
        client.get("https://mail.contoso.test/")
    assert [r.proxy for r in direct.records] == [None]


def test_the_environment_proxy_is_the_default(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sim.proxy is not None
    monkeypatch.setenv("https_proxy", str(sim.proxy_url))
    monkeypatch.setenv("no_proxy", "autodiscover.contoso.test")
    trace = Trace()
    with make_client(connection(sim), trace=trace) as client:  # proxy=None: the system's settings
        client.get("https://mail.contoso.test/")
        client.get("https://autodiscover.contoso.test/")
    assert [r.proxy for r in trace.records] == [sim.proxy_url, None]


@contextmanager
def _pac_server(script: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = script.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ns-proxy-autoconfig")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/proxy.pac"
    finally:
        server.shutdown()
        server.server_close()


def test_pac_file_picks_the_proxy_and_tls_inspection_tunnels(sim: Simulator) -> None:
    assert sim.proxy is not None
    port = sim.proxy.port
    script = (
        "function FindProxyForURL(url, host) {"
        f' if (host == "mail.contoso.test") return "PROXY 127.0.0.1:{port}"; return "DIRECT"; }}'
    )
    with _pac_server(script) as pac_url:
        options = replace(connection(sim), proxy=f"pac+{pac_url}")
        trace = Trace()
        with make_client(options, trace=trace) as client:
            client.get("https://mail.contoso.test/")
            client.get("https://autodiscover.contoso.test/")
        report = inspect_tls("mail.contoso.test", options)
    assert [r.proxy for r in trace.records if r.label != "PAC file"] == [sim.proxy_url, None]
    assert report.proxy == sim.proxy_url and report.ok
