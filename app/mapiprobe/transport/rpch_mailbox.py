"""The mailbox transport over RPC/HTTP: the same request/answer interface as MAPI/HTTP's endpoint.

MS-OXCMAPIHTTP's mailbox bodies are EMSMDB's parameters on another wire (Connect = EcDoConnectEx,
Execute = EcDoRpcExt2, Disconnect = EcDoDisconnect, MS-OXCMAPIHTTP 2.2.4), so a mailbox session can talk to
either transport through one interface: ``request(request_type, body, context=...)`` with MAPI/HTTP request
bodies in and response bodies out, ``ping(context)`` and ``close()``. :class:`RpchMailboxEndpoint` is that
interface over :class:`~mapiprobe.transport.rpch.RpchConnection`: it opens the virtual connection on
Connect, binds EMSMDB, and turns each body into the call and the call's ``[out]`` parameters back into the
body MAPI/HTTP would have carried. The RopBuffer and the auxiliary buffers go through unchanged.

RPC-level authentication ``auto`` does what Outlook does against Exchange: NTLM at packet privacy; if the
server refuses that bind (a bind_nak), the virtual connection is opened again without RPC-level
authentication (what a server without NTLM-in-RPC accepts).
"""

from __future__ import annotations

import threading
import time

from mapiprobe.protocol.dcerpc import EMSMDB, AuthLevel
from mapiprobe.protocol.emsmdb import (
    ConnectRequest,
    ConnectResponse,
    DisconnectResponse,
    ExecuteRequest,
    ExecuteResponse,
)
from mapiprobe.protocol.errors import ProtocolError

from .auth import Credentials
from .client import ConnectionOptions, make_ssl_context
from .mapihttp import MapiHttpResult, RequestCancelled, SessionContext
from .rpch import EmsmdbRpcClient, RpchConnection, RpchEndpoint, RpchError
from .rpch_interface import RpchInterfaceEndpoint, rpch_result
from .trace import Trace

PROTOCOL = "RPC/HTTP"


class RpchMailboxEndpoint(RpchInterfaceEndpoint):
    """A mailbox endpoint reached over RPC/HTTP, with MapiHttpEndpoint's ``request``/``ping`` interface."""

    protocol = PROTOCOL

    def __init__(
        self,
        endpoint: RpchEndpoint,
        credentials: Credentials,
        options: ConnectionOptions | None = None,
        *,
        http_scheme: str = "auto",
        rpc_auth: str = "auto",
        rpc_level: int = AuthLevel.PKT_PRIVACY,
        trace: Trace | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.url = endpoint.url
        self.credentials = credentials
        self.options = options or ConnectionOptions()
        self.http_scheme = http_scheme
        self.rpc_auth = rpc_auth
        self.rpc_level = rpc_level
        self.trace = trace
        self.connection: RpchConnection | None = None
        self.client: EmsmdbRpcClient | None = None
        self.ssl_context = make_ssl_context(self.options)  # a bad --ca-cert fails here, before any request
        self.connections: list[RpchConnection] = []
        """Every virtual connection opened (for the statistics: requests, TCP connections)."""
        self._lock = threading.RLock()

    # -- the virtual connection ---------------------------------------------------------------------

    def _ensure_open(self) -> EmsmdbRpcClient:
        if self.client is not None and self.connection is not None and not self.connection.closed:
            return self.client
        self.connection = self._open(self.endpoint, EMSMDB)
        self.client = EmsmdbRpcClient(self.connection)
        return self.client

    def open(self) -> None:
        """Open the virtual connection and bind EMSMDB now, rather than on Connect (the diagnosis times and
        judges the RPC/HTTP layer apart from the mailbox's EcDoConnectEx)."""
        with self._lock:
            self._ensure_open()

    def close(self) -> None:
        with self._lock:
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            self.client = None

    # -- the mailbox interface ------------------------------------------------------------------------

    def request(
        self,
        request_type: str,
        body: bytes,
        *,
        context: SessionContext,
        cancel: threading.Event | None = None,
    ) -> MapiHttpResult:
        """One MAPI/HTTP mailbox request body carried as the EMSMDB call it stands for."""
        if cancel is not None and cancel.is_set():
            raise RequestCancelled(f"{request_type} cancelled before it was sent", url=self.url)
        kind = request_type.lower()
        start = time.monotonic()
        with self._lock:
            try:
                if kind == "connect":
                    out = self._connect(ConnectRequest.decode(body))
                elif kind == "execute":
                    out = self._execute(ExecuteRequest.decode(body))
                elif kind == "disconnect":
                    out = self._disconnect()
                elif kind == "ping":
                    if self.connection is not None:
                        self.connection.ping()
                    out = b""
                else:
                    raise RpchError(
                        f"{request_type} has no RPC/HTTP counterpart here", stage="call", url=self.url
                    )
            except ProtocolError as exc:
                raise RpchError(f"the {request_type} answer does not decode: {exc}", stage="call") from None
            lifetime = self.connection.connection_timeout_ms if self.connection is not None else None
        if lifetime:
            # The proxy drops a virtual connection idle for its ConnectionTimeout (CONN/A3, CONN/C2): the
            # session's keep-alive pings (an RTS Ping on the IN channel) before then, as it PINGs MAPI/HTTP.
            context.note_expiration(lifetime, start)
        return rpch_result(request_type, out, context, (time.monotonic() - start) * 1000, lifetime)

    def ping(self, context: SessionContext, *, cancel: threading.Event | None = None) -> MapiHttpResult:
        return self.request("PING", b"", context=context, cancel=cancel)

    def _connect(self, req: ConnectRequest) -> bytes:
        client = self._ensure_open()
        resp = client.connect(
            req.user_dn,
            flags=req.flags,
            cpid=req.default_code_page,
            lcid_sort=req.lcid_sort,
            lcid_string=req.lcid_string,
            aux_in=req.auxiliary_buffer,
        )
        return ConnectResponse(
            error_code=resp.return_value,
            polls_max=resp.polls_max,
            retry_count=resp.retry_count,
            retry_delay=resp.retry_delay,
            dn_prefix=resp.dn_prefix or "",
            display_name=resp.display_name or "",
            auxiliary_buffer=resp.aux_out,
        ).encode()

    def _execute(self, req: ExecuteRequest) -> bytes:
        if self.client is None:
            raise RpchError("Execute before Connect", stage="call", url=self.url)
        resp = self.client.execute(
            req.rop_buffer, flags=req.flags, aux_in=req.auxiliary_buffer, cb_out=req.max_rop_out
        )
        return ExecuteResponse(
            error_code=resp.return_value,
            flags=resp.flags,
            rop_buffer=resp.rop_out,
            auxiliary_buffer=resp.aux_out,
        ).encode()

    def _disconnect(self) -> bytes:
        if self.client is not None and self.connection is not None and not self.connection.closed:
            try:
                self.client.disconnect()
            finally:
                self.close()
        return DisconnectResponse().encode()


__all__ = ["PROTOCOL", "RpchMailboxEndpoint"]
