"""Loopback servers for the transport tests: an HTTPS server (trustme CA), a black hole, a closed port."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

NAMES = ["autodiscover.contoso.test", "mail.contoso.test"]


@dataclass
class TLSServer:
    port: int
    ca_path: Path
    ca: trustme.CA
    seen: list[dict[str, str]] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> None:
        self.server.seen.append({"path": self.path, **{k: v for k, v in self.headers.items()}})

    def do_GET(self) -> None:
        self._record()
        if self.path == "/auth":
            self._reply(
                401, b"no", [("WWW-Authenticate", 'Basic realm="contoso"'), ("WWW-Authenticate", "NTLM")]
            )
        elif self.path == "/cookie":
            self._reply(200, b"ok", [("Set-Cookie", "sid=s3cr3t-cookie; Path=/; HttpOnly")])
        else:
            self._reply(200, b"hello " + self.headers.get("Host", "").encode())

    def do_POST(self) -> None:
        self._record()
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self._reply(200, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[dict[str, str]]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    ca = trustme.CA()
    cert = ca.issue_cert(*NAMES)
    ca_path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    sni: list[str | None] = []

    def on_sni(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, c: ssl.SSLContext) -> None:
        sni.append(name)

    ctx.sni_callback = on_sni  # type: ignore[assignment]
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.seen = []
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    info = TLSServer(srv.server_address[1], ca_path, ca, srv.seen, sni)
    try:
        yield info
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="module")
def blackhole() -> Iterator[int]:
    """A port that accepts TCP connections and never says anything."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def closed_port() -> int:
    """A port nobody listens on (connecting is refused at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)
