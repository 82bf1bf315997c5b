"""A broken or hostile RPC proxy never crashes or hangs the RPC/HTTP client: every failure is a
TransportError (RpchError, RpcFault, ConnectionLost, ReadTimeout) with words, within the idle deadline."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from mapiprobe.protocol.dcerpc import EMSMDB, Fault, PType, build_pdu, pdu_length
from mapiprobe.protocol.rts import conn_a3, conn_c2, echo
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.errors import ConnectionLost, TransportError
from mapiprobe.transport.rpch import RpcFault, RpchConnection, RpchEndpoint, RpchError

pytestmark = pytest.mark.network


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.out_sock: socket.socket | None = None
        self.out_ready = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Proxy

    def handle(self) -> None:
        line = self.rfile.readline()
        if not line.strip():
            return
        headers = {}
        while (h := self.rfile.readline().strip()) != b"":
            k, _, v = h.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        method = line.split()[0].decode()
        length = int(headers.get("content-length", "0"))
        mode = self.server.mode
        if length <= 16:
            self.rfile.read(length)
            body = echo().encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            return
        if method == "RPC_OUT_DATA":
            self.rfile.read(length)
            self.wfile.write(b"HTTP/1.1 200 Success\r\nContent-Length: 1073741824\r\n\r\n")
            if mode == "garbage":
                self.wfile.write(b"\x00" * 40)
                return
            self.wfile.write(conn_a3(120_000).encode())
            if mode == "a3-then-close":
                return
            self.server.out_sock = self.connection
            self.server.out_ready.set()
            threading.Event().wait(5)  # keep the OUT channel open while the IN channel talks
            return
        # the IN channel: CONN/B1, then PDUs
        self.server.out_ready.wait(5)
        out = self.server.out_sock
        if out is None:  # the OUT channel was already given up on
            return
        self._pdu()
        out.sendall(conn_c2(0x10000, 120_000).encode())
        bind = self._pdu()
        call_id = int.from_bytes(bind[12:16], "little")
        if mode == "bind-fault":
            out.sendall(build_pdu(PType.FAULT, Fault(0x1C00001D).fixed(), call_id=call_id))
        elif mode == "bad-bind-ack":
            out.sendall(build_pdu(PType.BIND_ACK, b"\x01\x02", call_id=call_id))
        elif mode == "huge-frag-length":
            out.sendall(b"\x05\x00\x0c\x03\x10\x00\x00\x00\xff\xff\x00\x00" + call_id.to_bytes(4, "little"))
            out.shutdown(socket.SHUT_RDWR)  # the promised 65535 bytes never come

    def _pdu(self) -> bytes:
        head = self.rfile.read(16)
        size = pdu_length(head) or 16
        return head + self.rfile.read(size - 16)


@pytest.fixture
def proxy(request: pytest.FixtureRequest) -> Iterator[_Proxy]:
    server = _Proxy(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _conn(server: _Proxy) -> RpchConnection:
    ep = RpchEndpoint("127.0.0.1", "server", proxy_port=server.server_address[1], https=False)
    return RpchConnection(ep, Credentials(), ConnectionOptions(read_timeout=1.5))


@pytest.mark.parametrize(
    ("proxy", "error", "words"),
    [
        ("garbage", RpchError, "not RPC"),
        ("a3-then-close", ConnectionLost, "OUT channel"),
        ("bind-fault", RpcFault, "nca_s_unsupported_authn_level"),
        ("bad-bind-ack", RpchError, "does not decode"),
        ("huge-frag-length", ConnectionLost, "OUT channel"),
    ],
    indirect=["proxy"],
)
def test_broken_proxies_give_words_not_crashes(
    proxy: _Proxy, error: type[TransportError], words: str
) -> None:
    with _conn(proxy) as conn, pytest.raises(error, match=words):
        conn.open()
        conn.bind(EMSMDB)
