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
else RPC/HTTP; :func:`mailbox_route` turns an Autodiscover answer and the options into a :class:`MailboxRoute`
(protocol, URL, legacy DN, RPC/HTTP settings) whose :meth:`MailboxRoute.transport` a session takes (the CLI,
the diagnosis and the window share it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.protocol.dcerpc import AuthLevel
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.mapihttp import MapiHttpResult, SessionContext
from mapiprobe.transport.rpch_mailbox import RpchMailboxEndpoint
from mapiprobe.transport.trace import Trace

from .rpch_settings import RpcHttpSettings, settings_from_autodiscover, settings_from_options

MAPI_HTTP = "MAPI/HTTP"
RPC_HTTP = "RPC/HTTP"
PROTOCOL_CHOICES = ("auto", "mapi-http", "rpc-http")


class BodyTransport(Protocol):
    """What a session needs of a transport that carries MAPI/HTTP request bodies (mailbox or address book)."""

    protocol: str

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


class MailboxTransport(BodyTransport, Protocol):
    """What a mailbox session needs of a transport."""

    url: str


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


class RouteError(ValueError):
    """Autodiscover's answer and the options do not name a usable mailbox endpoint (the message says why)."""


@dataclass(frozen=True)
class MailboxRoute:
    """Where and how a mailbox session goes: the protocol, the endpoint, the user's legacy DN."""

    protocol: str
    """``mapi-http`` or ``rpc-http``."""
    url: str
    legacy_dn: str
    rpc_http: RpcHttpSettings | None = None

    def transport(
        self,
        credentials: Credentials,
        connection: ConnectionOptions,
        *,
        trace: Trace,
        http_scheme: str | None = None,
        rpc_auth: str = "auto",
    ) -> RpchMailboxEndpoint | None:
        """The transport to give ``MailboxSession(transport=...)``: None for MAPI/HTTP (the session's own)."""
        if self.rpc_http is None:
            return None
        return rpc_http_transport(
            self.rpc_http, credentials, connection, trace=trace, http_scheme=http_scheme, rpc_auth=rpc_auth
        )


def mailbox_route(
    response: AutodiscoverResponse | None,
    *,
    protocol: str = "auto",
    rpc_proxy: str | None = None,
    rpc_server: str | None = None,
    legacy_dn: str | None = None,
) -> MailboxRoute:
    """The mailbox route for ``--protocol`` from Autodiscover's answer (None: ``--rpc-proxy`` and
    ``--legacy-dn`` name everything); :class:`RouteError` in words when nothing usable is there."""
    chosen = choose_protocol(protocol, response, rpc_proxy_given=bool(rpc_proxy))
    dn = legacy_dn or (
        response.user.legacy_dn if response is not None and response.user is not None else None
    )
    if chosen == "mapi-http":
        mapi = response.mapi_http if response is not None else None
        url = (mapi.mailstore_external or mapi.mailstore_internal) if mapi is not None else None
        if not url:
            rpc = response is not None and (response.protocol("EXHTTP") or response.protocol("EXPR"))
            hint = "; it offers RPC/HTTP (use --protocol auto or rpc-http)" if rpc else ""
            raise RouteError(f"Autodiscover offered no MAPI/HTTP settings (no mapiHttp Protocol block){hint}")
        if not dn:
            raise RouteError("Autodiscover's answer lacks the user's LegacyDN")
        return MailboxRoute("mapi-http", url, dn)
    if response is not None:
        settings = settings_from_autodiscover(response, proxy=rpc_proxy, server=rpc_server)
    else:
        settings = settings_from_options(rpc_proxy, rpc_server) if rpc_proxy else None
    if settings is None:
        raise RouteError(
            "Autodiscover offered no RPC/HTTP settings (no EXHTTP or EXPR block): give --rpc-proxy"
        )
    if not dn:
        raise RouteError("no legacy DN: Autodiscover's answer lacks User/LegacyDN (give --legacy-dn)")
    return MailboxRoute("rpc-http", settings.endpoint().url, dn, settings)


def choose_protocol(
    wanted: str, response: AutodiscoverResponse | None, *, rpc_proxy_given: bool = False
) -> str:
    """``mapi-http`` or ``rpc-http`` for ``--protocol wanted`` and what Autodiscover answered: ``auto`` takes
    MAPI/HTTP when the answer has a mapiHttp block with a mailbox URL, else RPC/HTTP (as Outlook does)."""
    mapi = response.mapi_http if response is not None else None
    offered = mapi is not None and bool(mapi.mailstore_external or mapi.mailstore_internal)
    return protocol_for(wanted, response, offered=offered, rpc_proxy_given=rpc_proxy_given)


def protocol_for(
    wanted: str, response: AutodiscoverResponse | None, *, offered: bool, rpc_proxy_given: bool
) -> str:
    """``--protocol wanted`` made ``mapi-http`` or ``rpc-http``: ``auto`` takes MAPI/HTTP when ``offered``
    (the answer has the MAPI/HTTP URL wanted), else RPC/HTTP when there is an answer or an RPC proxy, else
    MAPI/HTTP."""
    if wanted in ("mapi-http", "rpc-http"):
        return wanted
    if offered:
        return "mapi-http"
    if response is not None or rpc_proxy_given:
        return "rpc-http"
    return "mapi-http"


__all__ = [
    "MAPI_HTTP",
    "PROTOCOL_CHOICES",
    "RPC_HTTP",
    "BodyTransport",
    "MailboxRoute",
    "MailboxTransport",
    "RouteError",
    "choose_protocol",
    "mailbox_route",
    "protocol_for",
    "rpc_http_transport",
]
