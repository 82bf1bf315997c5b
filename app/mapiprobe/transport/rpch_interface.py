"""What the mailbox and address book transports over RPC/HTTP share: opening a virtual connection and
binding one interface on it (with RPC-level authentication ``auto``'s fallback), the statistics summed over
every virtual connection, and the MAPI/HTTP-shaped result each request hands back.
"""

from __future__ import annotations

import ssl
from typing import Any

from mapiprobe.protocol.dcerpc import SyntaxId

from .auth import Credentials
from .client import ConnectionOptions
from .mapihttp import MapiHttpResult, SessionContext
from .rpch import RpchConnection, RpchEndpoint, RpchError
from .trace import Trace


class RpchInterfaceEndpoint:
    """The part of :class:`~mapiprobe.transport.rpch_mailbox.RpchMailboxEndpoint` and
    :class:`~mapiprobe.transport.rpch_addressbook.RpchAddressBookEndpoint` that opens and counts virtual
    connections. The subclass sets the attributes below in its ``__init__``."""

    credentials: Credentials
    options: ConnectionOptions
    http_scheme: str
    rpc_auth: str
    rpc_level: int
    trace: Trace | None
    connection: RpchConnection | None
    connections: list[RpchConnection]
    ssl_context: ssl.SSLContext | None = None

    def _open_once(self, endpoint: RpchEndpoint, interface: SyntaxId, rpc_auth: str) -> RpchConnection:
        """A virtual connection to ``endpoint`` bound to ``interface``, closed again if either step fails."""
        conn = RpchConnection(
            endpoint,
            self.credentials,
            self.options,
            http_scheme=self.http_scheme,
            rpc_auth=rpc_auth,
            rpc_level=self.rpc_level,
            trace=self.trace,
            ssl_context=self.ssl_context,
        )
        if self.connections:  # the scheme is known from the first echo
            conn.stats.http_scheme = self.connections[0].stats.http_scheme
        self.connections.append(conn)
        try:
            conn.open()
            conn.bind(interface)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self, endpoint: RpchEndpoint, interface: SyntaxId) -> RpchConnection:
        """:meth:`_open_once` with the configured RPC-level authentication; ``auto``: NTLM (when the
        credentials can) and, after a refused bind (bind_nak), again without RPC-level authentication."""
        if self.rpc_auth != "auto":
            return self._open_once(endpoint, interface, self.rpc_auth)
        first = "ntlm" if self.credentials.can_spnego else "none"
        try:
            return self._open_once(endpoint, interface, first)
        except RpchError as exc:
            if exc.stage != "bind" or first == "none":
                raise
            self._bind_refused(endpoint)
            return self._open_once(endpoint, interface, "none")

    def _bind_refused(self, endpoint: RpchEndpoint) -> None:
        """Called when ``auto``'s NTLM bind was refused, before binding without (a subclass may note it)."""

    @property
    def stats(self) -> dict[str, Any]:
        """HTTP requests, TCP connections and RPC calls of every virtual connection so far."""
        out = {"http_requests": 0, "tcp_connections": 0, "rpc_calls": 0, "bytes_sent": 0, "bytes_received": 0}
        for conn in self.connections:
            for key in out:
                out[key] += getattr(conn.stats, key)
        return out

    @property
    def http_scheme_used(self) -> str | None:
        return self.connection.stats.http_scheme if self.connection is not None else None

    @property
    def rpc_auth_used(self) -> str | None:
        return self.connection.stats.rpc_auth if self.connection is not None else None


def rpch_result(
    request_type: str,
    body: bytes,
    context: SessionContext,
    elapsed_ms: float,
    lifetime: int | None = None,
) -> MapiHttpResult:
    """The MapiHttpResult a request carried over RPC/HTTP hands back (``lifetime``: the virtual connection's
    idle timeout in ms, as MAPI/HTTP's X-ExpirationInfo)."""
    return MapiHttpResult(
        http_status=200,
        response_code=0,
        response_code_name="Success",
        server_text=None,
        body=body,
        pending_count=0,
        meta_tags=("DONE",),
        additional_headers=(),
        server_application=None,
        expiration_ms=lifetime,
        pending_period_ms=None,
        elapsed_time=None,
        start_time=None,
        request_id=context.next_request_id(),
        trace_id=None,
        request_type=request_type,
        elapsed_ms=elapsed_ms,
    )


__all__ = ["RpchInterfaceEndpoint", "rpch_result"]
