"""``/rpc/rpcproxy.dll``: RPC over HTTP v2 (MS-RPCH) in front of the simulated mailbox, as Exchange has it.

The proxy and the RPC server are one here (what the client sees of an Exchange front end):

* **echo** (an ``RPC_IN_DATA``/``RPC_OUT_DATA`` of at most 16 bytes): 200 and an RTS echo PDU;
* **OUT channel** (``RPC_OUT_DATA`` whose body is CONN/A1): ``100 Continue`` (IIS sends one), then 200 with
  ``Content-Length: 1073741824`` and, unframed, CONN/A3, CONN/C2 once the IN channel is there, and every
  PDU the server sends; a Ping when the channel has been idle for :attr:`RpcProxyService.ping_s`;
* **IN channel** (``RPC_IN_DATA`` of 1 GiB whose body is CONN/B1 and then the client's PDUs): read as it
  arrives (the web server's ``stream_body`` routes); the two are joined by the virtual connection cookie.

HTTP authentication is the site's (Negotiate, NTLM and Basic on ``/rpc/``; the scenarios' policies apply). At
the RPC level the server wants what Exchange wants: NTLM or Negotiate (SPNEGO around NTLM) at packet privacy
or integrity (:mod:`mapiprobe.transport.rpcsec`, pyspnego's acceptor with the demo users' file), and the
RPC-level user must be the HTTP-level one. The EMSMDB methods run on the mailbox endpoint's own engine
(:class:`~mapiprobe.simulator.mailbox.RopEngine`, the same stores), so both protocols browse the same folders.

Scenarios: ``basic-only`` (Basic at HTTP, RPC-level none accepted, as gromox), ``rpch-unknown-server``
(the proxy answers 503 for every RPC server name), ``rpch-channel-cut`` (the OUT channel is dropped after
the first EcDoRpcExt2 answer), ``rpch-authn-level`` (binds with RPC-level authentication are refused with
a bind_nak, binds without it accepted: a server without NTLM-in-RPC).
"""

from __future__ import annotations

import importlib
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mapiprobe.protocol.dcerpc import (
    EMSMDB,
    NDR,
    PFC_LAST_FRAG,
    AuthLevel,
    AuthType,
    Bind,
    BindAck,
    BindNak,
    ContextResult,
    ContextResultEntry,
    Fault,
    Pdu,
    ProviderReason,
    PType,
    RejectReason,
    Request,
    Response,
    SecTrailer,
    build_pdu,
    fragment_stub,
    pdu_length,
)
from mapiprobe.protocol.emsmdb import ExecuteRequest, ExecuteResponse
from mapiprobe.protocol.emsmdb_rpc import (
    OPNUM_CONNECT_EX,
    OPNUM_DISCONNECT,
    OPNUM_RPC_EXT2,
    ConnectExRequest,
    ConnectExResponse,
    DisconnectRpcRequest,
    DisconnectRpcResponse,
    RpcExt2Request,
    RpcExt2Response,
)
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.ndr import NULL_HANDLE, ContextHandle
from mapiprobe.protocol.rts import CommandType, RtsPdu, conn_a3, conn_c2, echo, flow_control_ack, ping
from mapiprobe.transport.rpcsec import SIGNATURE_SIZE, RpcSecurity, RpcSecurityError

from .auth import NTLM_USER_FILE, acceptor_environment
from .mailstore import Mailbox
from .org import Organisation, SimUser
from .ropengine import EC_LOGIN_FAILURE, EC_UNKNOWN_USER, ExecuteStats, RopEngine
from .web import Request as HttpRequest
from .web import Response as HttpResponse
from .web import Site


class MailboxStores(Protocol):
    """What the proxy uses of the mailbox endpoint's handler (simulator/mailbox.py): its stores and stats."""

    stats: list[ExecuteStats]

    def mailbox_for(self, user: SimUser) -> Mailbox: ...


class RpchHost(Protocol):
    """What the proxy needs of the simulator it is installed in (simulator/host.py's habit: no import of
    core.py from a part)."""

    org: Organisation
    https_site: Site
    state_dir: Path
    scenario: str
    auth: Any
    endpoints: dict[str, Any]


RPC_PATH = "/rpc/rpcproxy.dll"
CHANNEL_LENGTH = 0x40000000
CONNECTION_TIMEOUT_MS = 120_000
RECEIVE_WINDOW = 0x10000
MAX_FRAG = 8192
RPCH_SCENARIOS = ("basic-only", "rpch-unknown-server", "rpch-channel-cut", "rpch-authn-level")
nca_s_op_rng_error = 0x1C010002
nca_s_fault_context_mismatch = 0x1C00001A
RPC_S_ACCESS_DENIED = 0x00000005
RPC_X_BAD_STUB_DATA = 0x000006F7


@dataclass
class _Session:
    user: SimUser
    engine: RopEngine


@dataclass
class VirtualConnection:
    """One client's virtual connection: the OUT channel's queue, the RPC association and its sessions."""

    cookie: uuid.UUID
    user: SimUser | None
    server: str
    out: queue.Queue[bytes | None] = field(default_factory=queue.Queue)
    in_ready: threading.Event = field(default_factory=threading.Event)
    security: RpcSecurity | None = None
    bound: bool = False
    sessions: dict[uuid.UUID, _Session] = field(default_factory=dict)
    fragments: dict[int, list[bytes]] = field(default_factory=dict)
    rpc_ext2_answered: int = 0
    closed: bool = False
    interface: Any = None
    """The abstract syntax the association bound (EMSMDB, or one of RpcProxyService.interfaces)."""
    http_request: Any = None
    """The IN channel's HTTP request (for handlers that look at the host or the user)."""

    def send(self, pdu: bytes) -> None:
        self.out.put(pdu)

    def close(self) -> None:
        self.closed = True
        self.out.put(None)


class RpcProxyService:
    """The RPC proxy and EMSMDB-over-RPC server; knobs and counters for tests."""

    def __init__(self, sim: RpchHost, mailbox: MailboxStores) -> None:
        self.sim = sim
        self.mailbox = mailbox
        self.ping_s = 30.0
        self.receive_window = RECEIVE_WINDOW
        """The IN channel's receive window announced in CONN/C2 (tests make it small)."""
        self.acks_received = 0
        """FlowControlAckWithDestination PDUs the clients sent."""
        self.acks_sent = 0
        self.connection_timeout_ms = CONNECTION_TIMEOUT_MS
        """Announced in CONN/A3 and CONN/C2 (tests make it short to see the client's keep-alive)."""
        self.pings_received = 0
        """RTS Pings the clients sent on their IN channels (keep-alives)."""
        self.rtt_s = 0.0
        """Added before every answer the client waits for (echo, CONN/A3, CONN/C2, bind and call answers):
        the network's round trip, for benchmarks/rpch.py."""
        self.round_trips = 0
        self.connections: dict[uuid.UUID, VirtualConnection] = {}
        self.echoes = 0
        self.binds: list[tuple[int, int]] = []
        """(auth_type, auth_level) of every bind received."""
        self.faults: list[int] = []
        self.interfaces: dict[Any, Callable[[VirtualConnection, int, bytes], bytes | None]] = {}
        """Interfaces besides EMSMDB by abstract syntax: ``handler(vc, opnum, stub) -> stub`` (None: no
        such opnum; an exception with an int ``status`` becomes that fault); nspi_rpc.py adds NSPI, RFR."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- names -------------------------------------------------------------------------------------

    def server_names(self) -> set[str]:
        org = self.sim.org
        names = {org.mail_host.lower(), "localhost"}
        names |= {f"{u.mailbox_guid}@{org.domain}".lower() for u in org.users}
        return names

    def _server_ok(self, req: HttpRequest) -> tuple[bool, str]:
        name, _, port = req.query.rpartition(":")
        if not name or not port.isdigit():
            return False, "400"
        if self.sim.scenario == "rpch-unknown-server":
            return False, "503"
        if port not in ("6001", "6002", "6004") or name.lower() not in self.server_names():
            return False, "503"
        return True, name

    def _round_trip(self) -> None:
        with self._lock:
            self.round_trips += 1
        if self.rtt_s > 0:
            self._stopping.wait(self.rtt_s)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            conns = list(self.connections.values())
        for vc in conns:
            vc.close()

    # -- HTTP --------------------------------------------------------------------------------------

    def route(self, req: HttpRequest) -> HttpResponse:
        ok, what = self._server_ok(req)
        if not ok:
            if what == "400":
                return HttpResponse.text(400, "400 Bad Request: RPC_IN_DATA/RPC_OUT_DATA need ?server:port\n")
            return HttpResponse.text(503, "503 Service Unavailable: the RPC server is not reachable\n")
        if req.stream is not None:
            return self._in_channel(req, what)
        if len(req.body) <= 16:
            self._round_trip()
            with self._lock:
                self.echoes += 1
            return HttpResponse(200, [("Content-Type", "application/rpc")], echo().encode())
        if req.method == "RPC_OUT_DATA":
            return self._out_channel(req, what)
        return HttpResponse.text(400, "400 Bad Request: not an RPC/HTTP channel\n")

    def _out_channel(self, req: HttpRequest, server: str) -> HttpResponse:
        try:
            a1 = RtsPdu.decode(req.body)
        except ProtocolError:
            return HttpResponse.text(400, "400 Bad Request: the OUT channel must start with CONN/A1\n")
        if a1.name != "CONN/A1":
            return HttpResponse.text(400, f"400 Bad Request: {a1.name} instead of CONN/A1\n")
        cookies = [c.value for c in a1.commands if c.type == CommandType.COOKIE]
        vc_cookie = cookies[0]
        assert isinstance(vc_cookie, uuid.UUID)
        vc = VirtualConnection(vc_cookie, req.user, server)
        vc.send(conn_a3(self.connection_timeout_ms).encode())  # queued before CONN/C2 can be
        with self._lock:
            self.connections[vc_cookie] = vc
        self._round_trip()
        return HttpResponse(
            200,
            [("Content-Type", "application/rpc")],
            chunks=self._out_stream(vc),
            length=CHANNEL_LENGTH,
            continue_first=True,
        )

    def _out_stream(self, vc: VirtualConnection) -> Iterator[bytes]:
        while not self._stopping.is_set():
            try:
                pdu = vc.out.get(timeout=self.ping_s)
            except queue.Empty:
                yield ping().encode()
                continue
            if pdu is None:
                break
            yield pdu
        with self._lock:
            self.connections.pop(vc.cookie, None)

    def _in_channel(self, req: HttpRequest, server: str) -> HttpResponse:
        stream = req.stream
        b1 = _read_pdu(stream)
        try:
            pdu = RtsPdu.decode(b1) if b1 else None
        except ProtocolError:
            pdu = None
        if pdu is None or pdu.name != "CONN/B1":
            return HttpResponse.text(400, "400 Bad Request: the IN channel must start with CONN/B1\n")
        cookie = pdu.command(CommandType.COOKIE)
        vc = None
        for _ in range(50):  # the OUT channel's CONN/A1 may still be on its way (another connection)
            with self._lock:
                vc = self.connections.get(cookie) if isinstance(cookie, uuid.UUID) else None
            if vc is not None or self._stopping.wait(0.02):
                break
        if vc is None:
            return HttpResponse.text(400, "400 Bad Request: no OUT channel for this virtual connection\n")
        if vc.user is None or req.user is None or vc.user.email != req.user.email:
            vc.close()
            return HttpResponse.text(
                403, "403 Forbidden: the channels were authenticated as different users\n"
            )
        vc.http_request = req
        in_cookie = [c.value for c in pdu.commands if c.type == CommandType.COOKIE][1]
        assert isinstance(in_cookie, uuid.UUID)
        window = self.receive_window
        self._round_trip()
        vc.send(conn_c2(window, self.connection_timeout_ms).encode())
        received = acked = 0
        try:
            while not vc.closed:
                raw = _read_pdu(stream)
                if not raw:
                    break
                if raw[2] != PType.RTS:
                    received += len(raw)
                    if received - acked >= window // 2:  # MS-RPCH 3.2.2.4: ack every half window
                        acked = received
                        vc.send(flow_control_ack(received, window, in_cookie).encode())
                        with self._lock:
                            self.acks_sent += 1
                self._on_pdu(vc, raw)
        finally:
            vc.close()
        return HttpResponse(200, [("Content-Type", "application/rpc")], b"", close=True)

    # -- DCE/RPC -----------------------------------------------------------------------------------

    def _on_pdu(self, vc: VirtualConnection, raw: bytes) -> None:
        if raw[2] == PType.RTS:
            # FlowControlAckWithDestination (counted), Ping, Keep-Alive: this proxy sends as it goes.
            if raw[16:18] == b"\x02\x00" and raw[20:24] == b"\x0d\x00\x00\x00":
                with self._lock:
                    self.acks_received += 1
            elif raw[16:18] == b"\x01\x00":
                with self._lock:
                    self.pings_received += 1
            return
        try:
            pdu = Pdu.decode(raw)
        except ProtocolError:
            vc.close()
            return
        if pdu.ptype in (PType.BIND, PType.ALTER_CONTEXT) or (
            pdu.ptype == PType.REQUEST and pdu.flags & PFC_LAST_FRAG
        ):
            self._round_trip()  # an answer the client waits for
        if pdu.ptype == PType.BIND:
            self._bind(vc, pdu)
        elif pdu.ptype == PType.AUTH3:
            self._auth3(vc, pdu)
        elif pdu.ptype == PType.ALTER_CONTEXT:
            self._alter_context(vc, pdu)
        elif pdu.ptype == PType.REQUEST:
            self._request(vc, pdu)
        else:
            vc.close()

    def _security_wanted(self) -> bool:
        return self.sim.scenario not in ("basic-only", "rpch-authn-level")

    def _bind(self, vc: VirtualConnection, pdu: Pdu) -> None:
        body = pdu.parse()
        assert isinstance(body, Bind)
        trailer = pdu.trailer
        with self._lock:
            self.binds.append((trailer.auth_type, trailer.auth_level) if trailer else (0, 1))

        def nak(reason: int) -> None:
            vc.send(build_pdu(PType.BIND_NAK, BindNak(reason).encode(), call_id=pdu.call_id))

        if trailer is not None and self.sim.scenario == "rpch-authn-level":
            return nak(RejectReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED)
        if trailer is None and self._security_wanted():
            return nak(RejectReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED)
        results = []
        for ctx in body.contexts:
            known = ctx.abstract_syntax == EMSMDB or ctx.abstract_syntax in self.interfaces
            if known and NDR in ctx.transfer_syntaxes:
                results.append(ContextResultEntry(ContextResult.ACCEPTANCE, 0, NDR))
                vc.interface = vc.interface or ctx.abstract_syntax
            else:
                results.append(
                    ContextResultEntry(
                        ContextResult.PROVIDER_REJECTION, ProviderReason.ABSTRACT_SYNTAX_NOT_SUPPORTED, NDR
                    )
                )
        ack = BindAck(tuple(results), MAX_FRAG, MAX_FRAG, 0x1234, "6001")
        if trailer is None:
            vc.bound = any(r.accepted for r in results)
            vc.send(build_pdu(PType.BIND_ACK, ack.encode(), call_id=pdu.call_id))
            return
        if trailer.auth_type not in (AuthType.WINNT, AuthType.GSS_NEGOTIATE) or trailer.auth_level not in (
            AuthLevel.CONNECT,
            AuthLevel.PKT_INTEGRITY,
            AuthLevel.PKT_PRIVACY,
        ):
            return nak(RejectReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED)
        protocol = "ntlm" if trailer.auth_type == AuthType.WINNT else "negotiate"
        try:
            with acceptor_environment(self.sim.state_dir / NTLM_USER_FILE):
                import spnego

                ctx_ = spnego.server(hostname=vc.server, service="host", protocol=protocol)
                sec = RpcSecurity(
                    ctx_, level=trailer.auth_level, auth_type=trailer.auth_type, context_id=trailer.context_id
                )
                token = sec.step(pdu.auth_value)
        except RpcSecurityError:
            return nak(RejectReason.INVALID_CHECKSUM)
        vc.security = sec
        vc.bound = any(r.accepted for r in results)
        vc.send(
            build_pdu(
                PType.BIND_ACK,
                ack.encode(),
                call_id=pdu.call_id,
                trailer=SecTrailer(trailer.auth_type, trailer.auth_level, 0, trailer.context_id),
                auth_value=token or b"",
            )
        )

    def _step(self, vc: VirtualConnection, token: bytes) -> bytes | None:
        assert vc.security is not None
        with acceptor_environment(self.sim.state_dir / NTLM_USER_FILE):
            out = vc.security.step(token)
            if vc.security.complete:
                self._check_user(vc)
        return out

    def _check_user(self, vc: VirtualConnection) -> None:
        assert vc.security is not None
        client = str(getattr(vc.security.context, "client_principal", "") or "")
        name = client.rpartition("\\")[2].lower()
        if vc.user is None or name not in (
            vc.user.user.lower(),
            vc.user.email.lower(),
            vc.user.local_part.lower(),
        ):
            raise RpcSecurityError(f"RPC-level user {client!r} is not the HTTP-level user")

    def _auth3(self, vc: VirtualConnection, pdu: Pdu) -> None:
        if vc.security is None:
            vc.close()
            return
        try:
            self._step(vc, pdu.auth_value)
        except RpcSecurityError:
            vc.security = None
            vc.bound = False
            self._fault(vc, pdu.call_id, RPC_S_ACCESS_DENIED)

    def _alter_context(self, vc: VirtualConnection, pdu: Pdu) -> None:
        body = pdu.parse()
        assert isinstance(body, Bind)
        if vc.security is None or pdu.trailer is None:
            return self._fault(vc, pdu.call_id, RPC_S_ACCESS_DENIED)
        try:
            token = self._step(vc, pdu.auth_value)
        except RpcSecurityError:
            vc.security = None
            vc.bound = False
            return self._fault(vc, pdu.call_id, RPC_S_ACCESS_DENIED)
        results = tuple(ContextResultEntry(ContextResult.ACCEPTANCE, 0, NDR) for _ in body.contexts)
        resp = BindAck(results, MAX_FRAG, MAX_FRAG, 0x1234, "")
        vc.send(
            build_pdu(
                PType.ALTER_CONTEXT_RESP,
                resp.encode(),
                call_id=pdu.call_id,
                trailer=pdu.trailer,
                auth_value=token or b"",
            )
        )

    def _fault(self, vc: VirtualConnection, call_id: int, status: int) -> None:
        with self._lock:
            self.faults.append(status)
        vc.send(build_pdu(PType.FAULT, Fault(status).fixed(), call_id=call_id))

    def _request(self, vc: VirtualConnection, pdu: Pdu) -> None:
        sec = vc.security
        if not vc.bound or (sec is not None and not sec.complete):
            return self._fault(vc, pdu.call_id, RPC_S_ACCESS_DENIED)
        if sec is not None and sec.signs:
            try:
                pdu = sec.unprotect(pdu)
            except RpcSecurityError:
                return self._fault(vc, pdu.call_id, 0x1C00001F)  # nca_s_invalid_checksum
        body = pdu.parse()
        assert isinstance(body, Request)
        parts = vc.fragments.setdefault(pdu.call_id, [])
        parts.append(body.stub)
        if not pdu.flags & PFC_LAST_FRAG:
            return None
        stub = b"".join(vc.fragments.pop(pdu.call_id))
        try:
            answer = self._call(vc, body.opnum, stub)
        except _Fault as fault:
            return self._fault(vc, pdu.call_id, fault.status)
        except ProtocolError:
            return self._fault(vc, pdu.call_id, RPC_X_BAD_STUB_DATA)
        overhead = 24 + (8 + SIGNATURE_SIZE + 3 if sec is not None and sec.signs else 0)
        for flags, piece in fragment_stub(answer, MAX_FRAG, overhead):
            fixed = Response(piece, alloc_hint=len(answer)).fixed()
            if sec is not None and sec.signs:
                raw = build_pdu(
                    PType.RESPONSE, fixed, piece, call_id=pdu.call_id, flags=flags, trailer=sec.trailer(),
                    auth_length=SIGNATURE_SIZE, protect=sec.protect,
                )  # fmt: skip
            else:
                raw = build_pdu(PType.RESPONSE, fixed, piece, call_id=pdu.call_id, flags=flags)
            vc.send(raw)
        if body.opnum == OPNUM_RPC_EXT2 and self.sim.scenario == "rpch-channel-cut":
            vc.rpc_ext2_answered += 1
            if vc.rpc_ext2_answered >= 1:
                vc.close()  # the OUT channel ends: a proxy or load balancer dropped it mid-session
        return None

    # -- EMSMDB ------------------------------------------------------------------------------------

    def _call(self, vc: VirtualConnection, opnum: int, stub: bytes) -> bytes:
        if vc.interface is not None and vc.interface != EMSMDB:
            try:
                answer = self.interfaces[vc.interface](vc, opnum, stub)
            except ProtocolError:
                raise
            except Exception as exc:
                status = getattr(exc, "status", None)
                if isinstance(status, int):
                    raise _Fault(status) from None
                raise
            if answer is None:
                raise _Fault(nca_s_op_rng_error)
            return answer
        if opnum == OPNUM_CONNECT_EX:
            return self._connect_ex(vc, ConnectExRequest.decode(stub)).encode()
        if opnum == OPNUM_RPC_EXT2:
            return self._rpc_ext2(vc, RpcExt2Request.decode(stub)).encode()
        if opnum == OPNUM_DISCONNECT:
            req = DisconnectRpcRequest.decode(stub)
            session = vc.sessions.pop(req.handle.uuid, None)
            if session is not None:
                session.engine.release_all()
            return DisconnectRpcResponse(NULL_HANDLE, 0).encode()
        raise _Fault(nca_s_op_rng_error)

    def _connect_ex(self, vc: VirtualConnection, req: ConnectExRequest) -> ConnectExResponse:
        org = self.sim.org
        user = vc.user
        assert user is not None
        named = org.find_by_legacy_dn(req.user_dn)
        error = 0
        if named is None:
            error = EC_UNKNOWN_USER
        elif named.email != user.email:
            error = EC_LOGIN_FAILURE
        version = (0x0F, 0x8001, 0x05D1)  # Exchange 2016-like server version (15.1.1489)
        if error:
            return ConnectExResponse(NULL_HANDLE, 0, 0, 0, 0, None, None, version, version, 0, b"", error)
        engine = RopEngine(user, org, lambda: self.mailbox.mailbox_for(user))
        handle = ContextHandle(0, uuid.uuid4())
        vc.sessions[handle.uuid] = _Session(user, engine)
        return ConnectExResponse(
            handle, 60_000, 6, 10_000, 0, "", user.display_name, version, version, req.timestamp, b"", 0
        )

    def _rpc_ext2(self, vc: VirtualConnection, req: RpcExt2Request) -> RpcExt2Response:
        session = vc.sessions.get(req.handle.uuid)
        if session is None:
            raise _Fault(nca_s_fault_context_mismatch)
        result = session.engine.execute(ExecuteRequest(req.flags, req.rop_in, req.cb_out, req.aux_in))
        if not isinstance(result, ExecuteResponse):  # pragma: no cover - the engine answers Execute responses
            raise _Fault(RPC_X_BAD_STUB_DATA)
        with self._lock:
            self.mailbox.stats.append(session.engine.last)
            del self.mailbox.stats[:-1000]
        return RpcExt2Response(req.handle, result.rop_buffer, 0, b"", 0, result.error_code)


class _Fault(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"fault 0x{status:08X}")
        self.status = status


def _read_pdu(stream: Any) -> bytes:
    """One PDU from the IN channel's body (b"" at its end)."""
    head = _read_exact(stream, 16)
    if len(head) < 16:
        return b""
    try:
        size = pdu_length(head)
    except ProtocolError:
        return b""
    if size is None or size < 16:
        return b""
    rest = _read_exact(stream, size - 16)
    if len(rest) < size - 16:
        return b""
    return head + rest


def _read_exact(stream: Any, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        try:
            chunk = stream.read(n - len(out))
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return bytes(out)


def install(sim: RpchHost) -> RpcProxyService:
    """Mount ``/rpc/rpcproxy.dll`` on the HTTPS site (every host), Negotiate, NTLM and Basic offered (Exchange
    2019's /rpc/ IISAuthenticationMethods; Autodiscover's AuthPackage says Negotiate outside)."""
    service = RpcProxyService(sim, sim.endpoints["emsmdb"].mailbox)
    sim.https_site.add(
        RPC_PATH,
        service.route,
        methods=("RPC_IN_DATA", "RPC_OUT_DATA"),
        auth=True,
        name="rpcproxy",
        stream_body=True,
    )
    sim.auth.offer("rpc", ("Negotiate", "NTLM", "Basic"))
    # NSPI and RFR on the same proxy (loaded by name, as core.py loads this module).
    service.nspi_rpc = importlib.import_module(f"{__package__}.nspi_rpc").attach(service, sim)
    return service


__all__ = ["RPCH_SCENARIOS", "RPC_PATH", "RpcProxyService", "VirtualConnection", "install"]
