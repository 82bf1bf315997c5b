"""Loopback HTTPS servers that never finish: they trickle bytes, or answer MAPI/HTTP with PENDING forever.

Each connection reads one request head (and its Content-Length body), then runs the server's behaviour,
which writes to the socket until the client goes away or the server is stopped. Certificates come from a
trustme CA written to ``ca_path``; clients reach the names through ``--connect-to`` rules (``rules``).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trustme

Behaviour = Callable[[ssl.SSLSocket, threading.Event], None]


@dataclass
class SlowServer:
    port: int
    ca_path: Path
    names: tuple[str, ...]
    requests: list[bytes] = field(default_factory=list)
    open_connections: int = 0

    @property
    def rules(self) -> list[str]:
        return [f"{name}:443:127.0.0.1:{self.port}" for name in self.names]


def _read_request(conn: ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


def trickle_headers(interval: float) -> Behaviour:
    """Starts an answer and sends its head one byte every ``interval`` seconds, never ending it."""

    def run(conn: ssl.SSLSocket, stop: threading.Event) -> None:
        text = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nX-Padding: " + b"a" * 100000
        for i in range(len(text)):
            conn.sendall(text[i : i + 1])
            if stop.wait(interval):
                return

    return run


def trickle_body(interval: float, length: int = 1_000_000) -> Behaviour:
    """Sends a complete head at once, then the body one byte every ``interval`` seconds."""

    def run(conn: ssl.SSLSocket, stop: threading.Event) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\n\r\n".encode("ascii")
        )
        for _ in range(length):
            conn.sendall(b"<")
            if stop.wait(interval):
                return

    return run


def quick_answer(length: int = 100) -> Behaviour:
    """A whole answer at once: the head, then the body right after it."""

    def run(conn: ssl.SSLSocket, stop: threading.Event) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        conn.sendall(b"<" * length)
        stop.wait(5)

    return run


def pending_forever(interval: float) -> Behaviour:
    """A MAPI/HTTP answer (X-ResponseCode 0, chunked) that sends PROCESSING and then PENDING every
    ``interval`` seconds, never DONE (MS-OXCMAPIHTTP 2.2.7)."""

    def run(conn: ssl.SSLSocket, stop: threading.Event) -> None:
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/mapi-http\r\n"
            "Transfer-Encoding: chunked\r\n"
            "X-ResponseCode: 0\r\n"
            f"X-PendingPeriod: {int(interval * 1000)}\r\n"
            "X-ServerApplication: Exchange/15.02.1118.007\r\n"
            "Set-Cookie: MapiContext=abc; path=/mapi/\r\n"
            "Set-Cookie: MapiSequence=1; path=/mapi/\r\n"
            "\r\n"
        )
        conn.sendall(head.encode("ascii") + _chunk(b"PROCESSING\r\n"))
        while not stop.wait(interval):
            conn.sendall(_chunk(b"PENDING\r\n"))

    return run


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n"


@contextlib.contextmanager
def slow_server(behaviour: Behaviour, directory: Path, *names: str) -> Iterator[SlowServer]:
    """Run the server until the block ends; every connection's thread is joined before it returns."""
    names = names or ("slow.example.test",)
    ca = trustme.CA()
    ca_path = directory / "slow-server-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(ctx)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    info = SlowServer(listener.getsockname()[1], ca_path, tuple(names))
    stop = threading.Event()
    workers: list[threading.Thread] = []

    def serve(raw: socket.socket) -> None:
        info.open_connections += 1
        try:
            raw.settimeout(5)
            with ctx.wrap_socket(raw, server_side=True) as conn:
                while not stop.is_set():
                    head = _read_request(conn)
                    if not head:
                        return
                    info.requests.append(head)
                    behaviour(conn, stop)
                    return
        except OSError:  # the client gave up: what these servers wait for
            return
        finally:
            info.open_connections -= 1
            with contextlib.suppress(OSError):
                raw.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=serve, args=(raw,), daemon=True, name="slow-server-conn")
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept, daemon=True, name="slow-server")
    acceptor.start()
    try:
        yield info
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for worker in workers:
            worker.join(5)


def elapsed(start: float) -> float:
    return time.monotonic() - start
