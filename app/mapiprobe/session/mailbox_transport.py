"""The mailbox session's transport interface and its two implementations: MAPI/HTTP and RPC/HTTP.

:class:`~mapiprobe.session.mailbox.MailboxSession` speaks in MS-OXCMAPIHTTP mailbox bodies (Connect, Execute,
Disconnect, PING): they are EMSMDB's parameters (EcDoConnectEx, EcDoRpcExt2, EcDoDisconnect) on the
MAPI/HTTP wire, and the RopBuffer inside is the same on both wires. A :class:`MailboxTransport` carries
those bodies:

* MAPI/HTTP: :class:`~mapiprobe.transport.mapihttp.MapiHttpEndpoint` (``/mapi/emsmdb/?MailboxId=...``), which
  the session builds itself on its own HTTP client when no transport is given (and follows to a new URL
  when the mailbox moved);
* :func:`rpc_http_transport`: RPC over HTTP through the RPC proxy
  (:class:`~mapiprobe.transport.rpch_mailbox.RpchMailboxEndpoint`).

:func:`choose_protocol` is Outlook's choice for ``--protocol auto``: MAPI/HTTP when Autodiscover offers it,
else RPC/HTTP.
"""

from __future__ import annotations

import threading
from typing import Protocol

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.protocol.dcerpc import AuthLevel
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.mapihttp import MapiHttpResult, SessionContext
from mapiprobe.transport.rpch_mailbox import RpchMailboxEndpoint
from mapiprobe.transport.trace import Trace

from .rpch_settings import RpcHttpSettings

MAPI_HTTP = "MAPI/HTTP"
RPC_HTTP = "RPC/HTTP"
PROTOCOL_CHOICES = ("auto", "mapi-http", "rpc-http")


class MailboxTransport(Protocol):
    """What a mailbox session needs of a transport."""

    protocol: str
    url: str

    def request(
        self,
        request_type: str,
        body: bytes,
        *,
        context: SessionContext,
        cancel: threading.Event | None = None,
    ) -> MapiHttpResult: ...

    def ping(self, context: SessionContext, *, cancel: threading.Event | None = None) -> MapiHttpResult: ...

    def close(self) -> None: ...


def rpc_http_transport(
    settings: RpcHttpSettings,
    credentials: Credentials,
    connection: ConnectionOptions,
    *,
    trace: Trace,
    http_scheme: str | None = None,
    rpc_auth: str = "auto",
    rpc_level: int = AuthLevel.PKT_PRIVACY,
) -> RpchMailboxEndpoint:
    """RPC over HTTP to ``settings``' proxy and server; the HTTP scheme is AuthPackage's unless given."""
    return RpchMailboxEndpoint(
        settings.endpoint(),
        credentials,
        connection,
        http_scheme=http_scheme or settings.http_scheme,
        rpc_auth=rpc_auth,
        rpc_level=rpc_level,
        trace=trace,
    )


def choose_protocol(
    wanted: str, response: AutodiscoverResponse | None, *, rpc_proxy_given: bool = False
) -> str:
    """``mapi-http`` or ``rpc-http`` for ``--protocol wanted`` and what Autodiscover answered: ``auto`` takes
    MAPI/HTTP when the answer has a mapiHttp block with a mailbox URL, else RPC/HTTP (as Outlook does)."""
    if wanted in ("mapi-http", "rpc-http"):
        return wanted
    mapi = response.mapi_http if response is not None else None
    if mapi is not None and (mapi.mailstore_external or mapi.mailstore_internal):
        return "mapi-http"
    if response is not None or rpc_proxy_given:
        return "rpc-http"
    return "mapi-http"


__all__ = [
    "MAPI_HTTP",
    "PROTOCOL_CHOICES",
    "RPC_HTTP",
    "MailboxTransport",
    "choose_protocol",
    "rpc_http_transport",
]
