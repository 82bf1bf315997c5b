"""The simulator's non-HTTP listeners: a UDP DNS server and a TCP "black hole".

* :class:`DnsServer` answers ``_autodiscover._tcp.<domain>`` SRV (MS-OXDISCO 3.1.5.3) and A records for the
  virtual hosts (always 127.0.0.1), NXDOMAIN for names outside the simulated zones, using dnspython's
  message API, so the client's SRV lookup is exercised for real.
* :class:`BlackHole` accepts TCP connections and never says a word: the "dead host" that makes a client's
  connect succeed and its read time out.
* :class:`LatencyRelay` forwards TCP to a listener with a network round trip added: each direction is
  delayed by half the RTT, and the TCP handshake's round trip is charged to the connection's first bytes
  (a loopback connect completes at once; the client's first data reaches the server 1.5 RTT after the
  connect, as it would have after a real handshake). A connection that sends nothing costs nothing.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .org import Organisation

TTL = 60


def tcp_listener(*, port: int = 0, backlog: int = 64) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:``port`` (0: an ephemeral one) whose ``accept`` gives up every
    0.2 s, so that a serving loop sees its stop event (:func:`accept_until`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(backlog)
    sock.settimeout(0.2)
    return sock


def accept_until(sock: socket.socket, stop: threading.Event, handle: Callable[[socket.socket], None]) -> None:
    """Each connection ``sock`` accepts to ``handle``, until ``stop`` is set or the socket is closed."""
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        handle(conn)


def close_all(conns: list[socket.socket]) -> None:
    """Close every socket of ``conns`` (one already closed or reset is no matter) and empty the list."""
    for conn in conns:
        with contextlib.suppress(OSError):
            conn.close()
    conns.clear()


class DnsServer:
    """UDP DNS on 127.0.0.1 for the organisation's zones (``contoso.test`` and ``fabrikam.test``)."""

    def __init__(
        self, org: Organisation, *, port: int = 0, srv_port: Callable[[], int] | None = None
    ) -> None:
        self.org = org
        self.srv_port = srv_port or (lambda: 443)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.delay_s = 0.0
        """Added before each answer (a network round trip), without holding up other queries."""
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-dns", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as wake:
            wake.sendto(b"", ("127.0.0.1", self.port))  # wake the receive loop now
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if self._stop.is_set():
                return
            reply = self.answer(data)
            if reply is not None:
                if self.delay_s > 0:
                    threading.Timer(self.delay_s, self._send, args=(reply, addr)).start()
                else:
                    self._send(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendto(reply, addr)

    def answer(self, data: bytes) -> bytes | None:
        """The wire reply to one query (None for bytes that are not a DNS query)."""
        try:
            query = dns.message.from_wire(data)
        except Exception:  # dnspython raises many types for junk; a server just drops it
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True).lower()
        self.queries.append((name, dns.rdatatype.to_text(q.rdtype)))
        hosts = set(self.org.hosts())
        srv_names = {
            f"_autodiscover._tcp.{d}": f"mail.{d}." for d in (self.org.domain, self.org.redirect_domain)
        }
        if name in srv_names:
            if q.rdtype == dns.rdatatype.SRV:
                rdata = f"0 0 {self.srv_port()} {srv_names[name]}"
                response.answer.append(
                    dns.rrset.from_text(q.name, TTL, dns.rdataclass.IN, dns.rdatatype.SRV, rdata)
                )
            return response.to_wire()
        if name in hosts:
            if q.rdtype == dns.rdatatype.A:
                response.answer.append(
                    dns.rrset.from_text(q.name, TTL, dns.rdataclass.IN, dns.rdatatype.A, "127.0.0.1")
                )
            return response.to_wire()  # other types: NOERROR with no data
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()


class BlackHole:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self, *, port: int = 0) -> None:
        self.sock = tcp_listener(port=port)
        self.port: int = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-blackhole", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()  # wake accept() now
        self._thread.join(timeout=5)
        close_all(self.held)
        self.sock.close()

    def _serve(self) -> None:
        accept_until(self.sock, self._stop, self.held.append)


class LatencyRelay:
    """A TCP relay on 127.0.0.1 to ``target`` that adds ``rtt_s`` of round trip (see the module docstring)."""

    def __init__(self, target: Callable[[], tuple[str, int]], rtt_s: float) -> None:
        self.target = target
        self.rtt_s = rtt_s
        self.sock = tcp_listener(backlog=128)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="sim-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            close_all(self._open)
        self.sock.close()

    def _serve(self) -> None:
        accept_until(self.sock, self._stop, self._relay)

    def _relay(self, client: socket.socket) -> None:
        accepted = time.monotonic()
        try:
            upstream = socket.create_connection(self.target(), timeout=5)
        except OSError:
            client.close()
            return
        self.connections += 1
        for s in (client, upstream):
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._open += [client, upstream]
        half = self.rtt_s / 2
        self._direction(client, upstream, earliest=accepted + 3 * half)
        self._direction(upstream, client, earliest=0.0)

    def _direction(self, src: socket.socket, dst: socket.socket, *, earliest: float) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()
        half = self.rtt_s / 2

        def read() -> None:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                chunks.put((max(time.monotonic() + half, earliest), data))
                if not data:
                    return

        def write() -> None:
            while True:
                due, data = chunks.get()
                wait = due - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    return
                try:
                    if not data:
                        dst.shutdown(socket.SHUT_WR)
                        return
                    dst.sendall(data)
                except OSError:
                    return

        for job in (read, write):
            threading.Thread(target=job, name="sim-relay-pump", daemon=True).start()


__all__ = ["BlackHole", "DnsServer", "LatencyRelay"]
