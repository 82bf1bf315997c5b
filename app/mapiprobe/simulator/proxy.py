"""The simulator's HTTP proxy: a CONNECT tunnel, or (scenario ``proxy-intercept``) one that intercepts TLS.

A client told to use ``http://127.0.0.1:<proxy_port>`` sends ``CONNECT host:443`` for HTTPS and absolute-form
requests for plain HTTP, as through any forward proxy. The proxy reaches the virtual hosts through the
simulator's own ``--connect-to`` map. When ``intercept()`` is true it does what corporate "TLS inspection"
proxies do: it answers the client's TLS handshake itself with a certificate for the requested name issued by
its **own** CA (``proxy-ca.pem``, not the simulator's), and opens a second TLS connection to the server.
``seen`` records (method, target) of every request, for tests.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from .net import accept_until, close_all, tcp_listener
from .tls import ServerCert, issue_server_cert, load_or_create_ca, server_context

PROXY_CA_NAME = "mapiprobe simulator intercepting proxy CA"
MAX_HEAD = 16 * 1024


class HttpProxy:
    """A forward proxy on 127.0.0.1 (threads; each connection is pumped until either side closes)."""

    def __init__(
        self,
        route: Callable[[str, int], tuple[str, int]],
        state_dir: Path,
        hosts: list[str],
        *,
        intercept: Callable[[], bool] = lambda: False,
    ) -> None:
        self.route = route
        self.intercept = intercept
        self.seen: list[tuple[str, str]] = []
        self._state_dir = state_dir / "proxy"
        self._hosts = hosts
        self._cert: ServerCert | None = None
        self._context: ssl.SSLContext | None = None
        self._cert_lock = threading.Lock()
        self.ca_cert_path = self._state_dir / "ca.pem"
        self.sock = tcp_listener()
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="sim-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            close_all(self._conns)
        self.sock.close()

    def _serve(self) -> None:
        accept_until(self.sock, self._stop, self._accepted)

    def _accepted(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.append(conn)
        threading.Thread(target=self._handle, args=(conn,), name="sim-proxy-conn", daemon=True).start()

    def _server_context(self) -> ssl.SSLContext:
        with self._cert_lock:  # connections arrive side by side: issue the certificate once
            if self._context is None:
                ca = load_or_create_ca(self._state_dir, name=PROXY_CA_NAME)
                self.ca_cert_path = ca.cert_path
                self._cert = issue_server_cert(ca, self._hosts, self._state_dir, stem="intercept")
                self._context = server_context(self._cert)
            return self._context

    def _handle(self, conn: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk or len(head) > MAX_HEAD:
                    return
                head += chunk
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, _, remainder = lines[0].partition(" ")
            target = remainder.rpartition(" ")[0]
            self.seen.append((method.upper(), target))
            if method.upper() == "CONNECT":
                host, _, port = target.rpartition(":")
                addr = self.route(host.strip("[]"), int(port or 443))
                upstream = socket.create_connection(addr, timeout=10)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if self.intercept():
                    # wrap_socket takes the descriptors over: the wrapped sockets are the ones to close.
                    conn = self._server_context().wrap_socket(conn, server_side=True)
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    upstream = ctx.wrap_socket(upstream, server_hostname=host.strip("[]"))
                    self._pump(conn, upstream)
                else:
                    self._pump(conn, upstream)
                return
            # Absolute-form plain HTTP: http://host[:port]/path -> origin form to the routed address.
            url = target
            if not url.lower().startswith("http://"):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            hostport, _, path = url[7:].partition("/")
            host, _, port = hostport.partition(":")
            addr = self.route(host, int(port or 80))
            upstream = socket.create_connection(addr, timeout=10)
            first = f"{method} /{path} {lines[0].rpartition(' ')[2]}"
            upstream.sendall("\r\n".join([first, *lines[1:]]).encode("latin-1") + b"\r\n\r\n" + rest)
            self._pump(conn, upstream)
        except (OSError, ValueError):
            return
        finally:
            for s in (conn, upstream):
                if s is not None:
                    with contextlib.suppress(OSError):
                        s.close()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        for s in peers:
            s.settimeout(10)
        while not self._stop.is_set():
            ready = [s for s in peers if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(list(peers), [], [], 0.5)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                peers[s].sendall(data)


__all__ = ["PROXY_CA_NAME", "HttpProxy"]
