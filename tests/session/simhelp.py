"""Helpers for tests that run Autodiscover against the simulator (also used by tests/cli)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import trustme

from mapiprobe.simulator import ReceivedRequest, Simulator
from mapiprobe.transport.auth import Credentials, Secret, make_auth
from mapiprobe.transport.client import ConnectionOptions


def connection(
    sim: Simulator,
    *,
    first: Sequence[str] = (),
    trust: bool = True,
    dns: bool = True,
    timeout: float = 2.0,
) -> ConnectionOptions:
    """Options that reach the simulator's virtual hosts; ``first`` rules win over the simulator's."""
    return ConnectionOptions(
        connect_to=(*first, *sim.connect_to),
        ca_certs=(sim.ca_cert_path,) if trust else (),
        connect_timeout=timeout,
        read_timeout=timeout,
        dns_server=f"127.0.0.1:{sim.dns_port}" if dns else None,
    )


def real_auth(user: str, password: str) -> httpx.Auth:
    """What the CLI uses by default (``--auth auto``): against ``normal`` that is real NTLM through pyspnego
    on both sides (the simulator's /mapi/ offers Negotiate, NTLM and Bearer, as Exchange 2019 does)."""
    auth = make_auth(Credentials(user=user, password=Secret(password)), "auto")
    assert auth is not None
    return auth


def cli_args(
    sim: Simulator, *, first: Sequence[str] = (), trust: bool = True, timeout: float = 2.0
) -> list[str]:
    args: list[str] = []
    for rule in (*first, *sim.connect_to):
        args += ["--connect-to", rule]
    if trust:
        args += ["--ca-cert", str(sim.ca_cert_path)]
    args += ["--dns-server", f"127.0.0.1:{sim.dns_port}", "--timeout", str(timeout)]
    return args


def with_credentials(sim: Simulator) -> list[ReceivedRequest]:
    return [r for r in sim.requests if r.header("Authorization")]


def hosts_with_credentials(sim: Simulator) -> set[str]:
    return {r.host for r in with_credentials(sim)}


def assert_no_credentials_in_clear(sim: Simulator) -> None:
    """No request with credentials ever reached a plain-HTTP listener."""
    leaked = [r for r in sim.requests if r.scheme != "https" and r.header("Authorization")]
    assert not leaked, leaked


@dataclass
class Redirector:
    """A plain-HTTP server that answers every GET with a 302 to ``location`` (and records what it got)."""

    port: int
    location: str
    seen: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def redirector(location: str) -> Iterator[Redirector]:
    info = Redirector(0, location)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            info.seen.append({"path": self.path, **dict(self.headers.items())})
            self.send_response(302)
            self.send_header("Location", info.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    info.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class XmlServer:
    """An HTTPS server (its own trustme CA) that answers every POST with ``body`` after ``delay`` seconds."""

    port: int
    ca_path: Path
    seen: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def xml_server(
    names: Sequence[str],
    body: bytes,
    *,
    delay: float,
    directory: Path,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
) -> Iterator[XmlServer]:
    ca = trustme.CA()
    cert = ca.issue_cert(*names)
    ca_path = directory / "xml-server-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    info = XmlServer(0, ca_path)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            info.seen.append({"path": self.path, **dict(self.headers.items())})
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(delay)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    info.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        server.shutdown()
        server.server_close()
