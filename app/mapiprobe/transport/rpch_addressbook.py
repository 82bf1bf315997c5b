"""The address book transport over RPC/HTTP: MAPI/HTTP's address book interface carried as NSPI calls.

MS-OXCMAPIHTTP's address book request types are the NSPI methods on another wire (Bind = NspiBind, QueryRows
= NspiQueryRows...), so :class:`RpchAddressBookEndpoint` offers the address book session the interface of
:class:`~mapiprobe.transport.mapihttp.MapiHttpEndpoint` (``request(request_type, body, context=...)`` with
MAPI/HTTP bodies, ``ping``, ``close``) and turns each body into the NDR call
(:mod:`mapiprobe.protocol.nspi_bridge`) over :class:`~mapiprobe.transport.rpch.RpchConnection`.

On Bind it connects as Outlook does:

1. **RFR** (MS-OXABREF): a virtual connection to ``?SERVER:6002`` bound to the RFR interface, and
   RfrGetNewDSA with the user's DN, which names the NSPI server (gromox: the mailbox GUID@domain). A failure
   here is noted and the mailbox's RPC server is used instead.
2. **NSPI**: a virtual connection to ``?NSPISERVER:6004`` (Exchange's NSPI port), or, when the proxy refuses
   that, the shared ``:6001`` (gromox serves NSPI there too); bound to NSPI (F5CC5A18-... v56).

RPC-level authentication ``auto`` does what the mailbox transport does: NTLM at packet privacy, none after a
bind_nak. ``notes`` lists in words what RFR answered and every fallback taken.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from mapiprobe.protocol.dcerpc import NSPI, RFR, AuthLevel
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.ndr import NULL_HANDLE, ContextHandle
from mapiprobe.protocol.nspi import REQUEST_CLASSES
from mapiprobe.protocol.nspi_bridge import (
    decode_getmatches_request,
    mapihttp_response,
    opnum_of,
    response_type,
    rpc_request,
)
from mapiprobe.protocol.nspi_rpc import NSPI_PORT, RFR_PORT, RfrGetNewDSARequest, RfrGetNewDSAResponse

from .auth import Credentials
from .client import ConnectionOptions
from .errors import AuthenticationFailed, TransportError
from .mapihttp import MapiHttpResult, RequestCancelled, SessionContext
from .rpch import EMSMDB_PORT, RpchConnection, RpchEndpoint, RpchError
from .rpch_interface import RpchInterfaceEndpoint, rpch_result
from .trace import Trace

PROTOCOL = "RPC/HTTP"


class RpchAddressBookEndpoint(RpchInterfaceEndpoint):
    """An address book endpoint reached over RPC/HTTP, with MapiHttpEndpoint's ``request``/``ping`` interface.

    ``endpoint`` is the mailbox's (RPC proxy and RPC server); ``user_dn`` the user's legacy DN for RFR.
    """

    protocol = PROTOCOL

    def __init__(
        self,
        endpoint: RpchEndpoint,
        credentials: Credentials,
        options: ConnectionOptions | None = None,
        *,
        user_dn: str | None = None,
        use_rfr: bool = True,
        nspi_ports: tuple[int, ...] = (NSPI_PORT, EMSMDB_PORT),
        http_scheme: str = "auto",
        rpc_auth: str = "auto",
        rpc_level: int = AuthLevel.PKT_PRIVACY,
        trace: Trace | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.options = options or ConnectionOptions()
        self.user_dn = user_dn
        self.use_rfr = use_rfr
        self.nspi_ports = nspi_ports
        self.http_scheme = http_scheme
        self.rpc_auth = rpc_auth
        self.rpc_level = rpc_level
        self.trace = trace
        self.connection: RpchConnection | None = None
        self.connections: list[RpchConnection] = []
        """Every virtual connection opened, RFR's included (for the statistics)."""
        self.notes: list[str] = []
        self.nspi_server: str | None = None
        self.nspi_endpoint: RpchEndpoint | None = None
        self.handle: ContextHandle = NULL_HANDLE
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return (self.nspi_endpoint or replace(self.endpoint, server_port=self.nspi_ports[0])).url

    # -- virtual connections ------------------------------------------------------------------------

    def _bind_refused(self, endpoint: RpchEndpoint) -> None:
        self.notes.append(f"{endpoint.target}: the bind with RPC-level NTLM was refused; binding without")

    def _ask_rfr(self) -> str | None:
        """RfrGetNewDSA on ``?SERVER:6002``: the NSPI server's name, or None (noted) when RFR fails."""
        if not self.use_rfr or not self.user_dn:
            return None
        endpoint = replace(self.endpoint, server_port=RFR_PORT)
        try:
            conn = self._open(endpoint, RFR)
        except AuthenticationFailed:
            raise  # the NSPI server would refuse the same credentials (and each try is a failed logon)
        except TransportError as exc:
            self.notes.append(f"RFR at {endpoint.target} failed ({exc}); using {self.endpoint.rpc_server}")
            return None
        try:
            stub = conn.call(0, RfrGetNewDSARequest(self.user_dn).encode())
            resp = RfrGetNewDSAResponse.decode(stub)
        except (TransportError, ProtocolError) as exc:
            self.notes.append(f"RfrGetNewDSA failed ({exc}); using {self.endpoint.rpc_server}")
            return None
        finally:
            conn.close()
        if resp.return_value != 0 or not resp.server:
            self.notes.append(
                f"RfrGetNewDSA answered 0x{resp.return_value:08X} without a server; using "
                f"{self.endpoint.rpc_server}"
            )
            return None
        self.notes.append(f"RfrGetNewDSA: the NSPI server is {resp.server}")
        return resp.server

    def _ensure_open(self) -> RpchConnection:
        if self.connection is not None and not self.connection.closed:
            return self.connection
        servers = []
        rfr_server = self._ask_rfr()
        if rfr_server:
            servers.append(rfr_server)
        if self.endpoint.rpc_server not in servers:
            servers.append(self.endpoint.rpc_server)
        last: TransportError | None = None
        for server in servers:
            for port in self.nspi_ports:
                endpoint = replace(self.endpoint, rpc_server=server, server_port=port)
                try:
                    conn = self._open(endpoint, NSPI)
                except AuthenticationFailed:
                    raise
                except RpchError as exc:
                    words = str(exc)
                    if (exc.stage == "bind" and "refused the interface" not in words) or "401" in words:
                        raise  # an authentication refusal: another server or port will not help
                    last = exc
                    self.notes.append(f"NSPI at {endpoint.target} failed: {exc}")
                    continue
                self.connection = conn
                self.nspi_server = server
                self.nspi_endpoint = endpoint
                return conn
        assert last is not None
        raise last

    def close(self) -> None:
        with self._lock:
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            self.handle = NULL_HANDLE

    # -- the address book interface -----------------------------------------------------------------

    def request(
        self,
        request_type: str,
        body: bytes,
        *,
        context: SessionContext,
        cancel: threading.Event | None = None,
    ) -> MapiHttpResult:
        """One MAPI/HTTP address book request body carried as the NSPI call it stands for."""
        if cancel is not None and cancel.is_set():
            raise RequestCancelled(f"{request_type} cancelled before it was sent", url=self.url)
        start = time.monotonic()
        with self._lock:
            if request_type.upper() == "PING":
                if self.connection is not None and not self.connection.closed:
                    self.connection.ping()
                return rpch_result(request_type, b"", context, 0.0)
            cls = REQUEST_CLASSES.get(request_type)
            if cls is None:
                raise RpchError(f"{request_type} has no NSPI method over RPC", stage="call", url=self.url)
            try:
                req = decode_getmatches_request(body) if request_type == "GetMatches" else cls.decode(body)
                stub_req = rpc_request(req, self.handle)
            except ProtocolError as exc:
                raise RpchError(f"{request_type} cannot be carried over RPC: {exc}", stage="call") from None
            if request_type == "Bind" and self.connection is not None:
                self.close()  # binding again (after a failure): a new virtual connection, RFR first again
            conn = self._ensure_open()
            answer = conn.call(opnum_of(stub_req), stub_req.encode())
            try:
                stub_resp = response_type(stub_req).decode(answer)
                out = mapihttp_response(req, stub_resp).encode()
            except ProtocolError as exc:
                raise RpchError(f"the {request_type} answer does not decode: {exc}", stage="call") from None
            if request_type == "Bind" and stub_resp.return_value == 0:
                self.handle = stub_resp.handle
            elif request_type == "Unbind":
                self.close()
        return rpch_result(request_type, out, context, (time.monotonic() - start) * 1000)

    def ping(self, context: SessionContext, *, cancel: threading.Event | None = None) -> MapiHttpResult:
        return self.request("PING", b"", context=context, cancel=cancel)


__all__ = ["PROTOCOL", "RpchAddressBookEndpoint"]
