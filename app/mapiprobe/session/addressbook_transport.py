"""The address book session's transport interface and its two implementations: MAPI/HTTP and RPC/HTTP.

:class:`~mapiprobe.session.addressbook.AddressBookSession` speaks in MS-OXCMAPIHTTP address book bodies (Bind,
QueryRows, ResolveNames...), which are the NSPI methods' parameters (MS-OXNSPI 3.1.4.1) on the MAPI/HTTP wire.
An :class:`AddressBookTransport` carries them:

* MAPI/HTTP: :class:`~mapiprobe.transport.mapihttp.MapiHttpEndpoint` (``/mapi/nspi/?MailboxId=...``), which
  the session builds itself when no transport is given;
* :func:`rpc_http_addressbook_transport`: RPC over HTTP through the mailbox's RPC proxy, RFR first and then
  NSPI (:class:`~mapiprobe.transport.rpch_addressbook.RpchAddressBookEndpoint`).

The choice of protocol is the mailbox's (:func:`~mapiprobe.session.mailbox_transport.choose_protocol`), but
on the address book URL: ``auto`` takes MAPI/HTTP when Autodiscover offers an AddressBook URL.
"""

from __future__ import annotations

from typing import Protocol

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.protocol.dcerpc import AuthLevel
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.rpch_addressbook import RpchAddressBookEndpoint
from mapiprobe.transport.trace import Trace

from .mailbox_transport import MAPI_HTTP, PROTOCOL_CHOICES, RPC_HTTP, BodyTransport, protocol_for
from .rpch_settings import RpcHttpSettings


class AddressBookTransport(BodyTransport, Protocol):
    """What an address book session needs of a transport."""

    @property
    def url(self) -> str: ...


def rpc_http_addressbook_transport(
    settings: RpcHttpSettings,
    credentials: Credentials,
    connection: ConnectionOptions,
    *,
    user_dn: str | None,
    trace: Trace,
    http_scheme: str | None = None,
    rpc_auth: str = "auto",
    rpc_level: int = AuthLevel.PKT_PRIVACY,
) -> RpchAddressBookEndpoint:
    """NSPI over RPC/HTTP through ``settings``' proxy: RFR with ``user_dn`` names the NSPI server."""
    return RpchAddressBookEndpoint(
        settings.endpoint(),
        credentials,
        connection,
        user_dn=user_dn,
        http_scheme=http_scheme or settings.http_scheme,
        rpc_auth=rpc_auth,
        rpc_level=rpc_level,
        trace=trace,
    )


def choose_addressbook_protocol(
    wanted: str, response: AutodiscoverResponse | None, *, rpc_proxy_given: bool = False
) -> str:
    """``mapi-http`` or ``rpc-http``: ``auto`` takes MAPI/HTTP when the answer has an AddressBook URL."""
    mapi = response.mapi_http if response is not None else None
    offered = mapi is not None and bool(mapi.addressbook_external or mapi.addressbook_internal)
    return protocol_for(wanted, response, offered=offered, rpc_proxy_given=rpc_proxy_given)


__all__ = [
    "MAPI_HTTP",
    "PROTOCOL_CHOICES",
    "RPC_HTTP",
    "AddressBookTransport",
    "choose_addressbook_protocol",
    "rpc_http_addressbook_transport",
]
