"""What the window's background jobs do: Autodiscover, then the mailbox and the address book sessions.

Plain functions over the session layer, called on worker threads (:mod:`mapiprobe.gui.workers`); they hold
no Qt object and return plain results. :func:`explain` turns any exception into a sentence for the pane it
concerns (never a traceback).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the window shows before the session layer is loaded
    from mapiprobe.protocol.autodiscover import AutodiscoverResponse
    from mapiprobe.session.addressbook import AddressBookSession, AddressList
    from mapiprobe.session.autodiscover import ConsentCallback, DiscoveryResult, ProgressCallback
    from mapiprobe.session.mailbox import Folder, MailboxSession
    from mapiprobe.session.mailbox_transport import MailboxRoute
    from mapiprobe.session.mapihttp_disabled import Comparison
    from mapiprobe.transport.auth import Credentials, Secret
    from mapiprobe.transport.client import ConnectionOptions
    from mapiprobe.transport.trace import Trace


@dataclass(frozen=True)
class Account:
    """What the account bar says (the password only in memory, as a :class:`Secret`)."""

    email: str
    url: str | None = None
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    auth: str = "auto"
    mapi_http_disabled: bool = False

    def credentials(self) -> Credentials | None:
        from mapiprobe.transport.auth import Credentials

        user = self.user or self.email
        if self.auth == "bearer":
            creds = Credentials(user=user, token=self.password)
        else:
            creds = Credentials(
                user=user,
                password=self.password,
                current_user=self.password is None and self.auth in ("ntlm", "negotiate"),
            )
        return None if creds.is_empty else creds


@dataclass(frozen=True)
class Discovered:
    result: DiscoveryResult
    comparison: Comparison | None = None
    raw_xml: str = ""
    raw_xml_note: str = ""


def discover(
    account: Account,
    connection: ConnectionOptions,
    trace: Trace,
    cancel: threading.Event,
    *,
    consent: ConsentCallback | None = None,
    progress: ProgressCallback | None = None,
) -> Discovered:
    """Autodiscover as Outlook does; with MapiHttpDisabled emulated also the run with the header (compare)."""
    from mapiprobe.session.autodiscover import AutodiscoverSession, DiscoveryOptions
    from mapiprobe.session.mapihttp_disabled import compare

    options = DiscoveryOptions(
        url=account.url or None,
        mapi_http_disabled=account.mapi_http_disabled,
        candidate_timeout=min(connection.connect_timeout, 10.0),
    )
    kwargs: dict[str, Any] = {
        "user": account.user or account.email,
        "credentials": account.credentials(),
        "auth_scheme": account.auth,
        "connection": connection,
        "consent": consent,
        "progress": progress,
        "cancel": cancel,
        "trace": trace,
    }
    comparison = None
    if account.mapi_http_disabled:
        comparison = compare(account.email, options=replace(options, mapi_http_disabled=False), **kwargs)
        result = comparison.without_header
    else:
        result = AutodiscoverSession(account.email, options=options, **kwargs).run()
    xml, note = raw_xml(result, trace)
    return Discovered(result, comparison, xml, note)


def raw_xml(result: DiscoveryResult, trace: Trace) -> tuple[str, str]:
    """The answer's XML as the server sent it (from the trace, once it keeps bodies), else re-written from
    the parsed answer, with a note saying which."""
    from mapiprobe.protocol.autodiscover import build_response

    if result.url:
        for record in reversed(trace.records):
            body = getattr(record, "response_body", None)
            if record.method == "POST" and record.url == result.url and body:
                return bytes(body).decode("utf-8", "replace"), "as received"
    response: AutodiscoverResponse | None = result.raw_response
    if response is None:
        return "", "no Autodiscover answer"
    return build_response(response).decode("utf-8"), "re-written from the parsed answer"


def mailbox_target(result: DiscoveryResult) -> tuple[str, str] | None:
    """(mailbox URL, legacy DN) as Outlook would choose: MAPI/HTTP when offered, else the RPC/HTTP proxy
    (Autodiscover's EXHTTP/EXPR blocks); None when the answer names neither (:func:`route_problem`: why)."""
    route = _route(result)
    return None if isinstance(route, str) else (route.url, route.legacy_dn)


def route_problem(result: DiscoveryResult) -> str:
    """Why :func:`mailbox_target` found no endpoint in the answer, in words ("" when it found one)."""
    route = _route(result)
    return route if isinstance(route, str) else ""


def _route(result: DiscoveryResult) -> MailboxRoute | str:
    """The mailbox route of the answer, or the reason there is none."""
    from mapiprobe.session.mailbox_transport import RouteError, mailbox_route

    try:
        return mailbox_route(result.response)
    except RouteError as exc:
        return str(exc)


def address_book_url(result: DiscoveryResult) -> str | None:
    """The address book endpoint: MAPI/HTTP's AddressBook URL, else the RPC/HTTP proxy (NSPI through it)."""
    response = result.response
    if response is None:
        return None
    if response.mapi_http is not None and response.mapi_http.addressbook_url:
        return response.mapi_http.addressbook_url
    target = mailbox_target(result)
    return target[0] if target is not None and response.mapi_http is None else None


def _rpc_http_settings(result: DiscoveryResult) -> Any:
    from mapiprobe.session.rpch_settings import settings_from_autodiscover

    response = result.response
    if response is None or response.mapi_http is not None:
        return None
    return settings_from_autodiscover(response)


def open_mailbox(  # noqa: PLR0917
    account: Account,
    url: str,
    user_dn: str,
    connection: ConnectionOptions,
    trace: Trace,
    cancel: threading.Event,
    result: DiscoveryResult | None = None,
) -> tuple[MailboxSession, Folder]:
    """Connect, RopLogon and read the folder tree; the session stays open for the Folders tab. Over RPC/HTTP
    when Autodiscover offered only that (``result``'s EXHTTP/EXPR block), as Outlook then does."""
    from mapiprobe.session.mailbox import MailboxSession
    from mapiprobe.session.mailbox_transport import rpc_http_transport
    from mapiprobe.transport.auth import Credentials, make_auth

    auth = make_auth(account.credentials(), account.auth)
    settings = _rpc_http_settings(result) if result is not None else None
    transport = None
    if settings is not None:
        scheme = account.auth if account.auth in ("basic", "ntlm", "negotiate") else None
        creds = account.credentials() or Credentials()
        transport = rpc_http_transport(settings, creds, connection, trace=trace, http_scheme=scheme)
    session = MailboxSession(
        url,
        user_dn=user_dn,
        auth=auth,
        connection=connection,
        trace=trace,
        cancel=cancel,
        transport=transport,
    )
    try:
        session.open()
        tree = session.folder_tree()
    except BaseException:
        session.close()
        raise
    return session, tree


@dataclass(frozen=True)
class AddressBookOpened:
    session: AddressBookSession
    lists: list[AddressList]
    gal_total: int


def open_address_book(  # noqa: PLR0917
    account: Account,
    url: str,
    connection: ConnectionOptions,
    trace: Trace,
    cancel: threading.Event,
    result: DiscoveryResult | None = None,
) -> AddressBookOpened:
    """Bind, read the address lists and the GAL's size; the session stays open for the Address Book tab
    (NSPI through the RPC/HTTP proxy when that is all Autodiscover offered)."""
    from mapiprobe.session.addressbook import AddressBookSession
    from mapiprobe.session.addressbook_transport import rpc_http_addressbook_transport
    from mapiprobe.transport.auth import Credentials, make_auth

    auth = make_auth(account.credentials(), account.auth)
    settings = _rpc_http_settings(result) if result is not None else None
    transport = None
    if settings is not None and result is not None:
        response = result.response
        dn = response.user.legacy_dn if response is not None and response.user is not None else None
        scheme = account.auth if account.auth in ("basic", "ntlm", "negotiate") else None
        transport = rpc_http_addressbook_transport(
            settings,
            account.credentials() or Credentials(),
            connection,
            user_dn=dn,
            trace=trace,
            http_scheme=scheme,
        )
        url = transport.url
    session = AddressBookSession(
        url, auth=auth, connection=connection, trace=trace, cancel=cancel, transport=transport
    )
    try:
        session.bind()
        lists = session.address_lists()
        total = session.count(0)
    except BaseException:
        session.close()
        raise
    return AddressBookOpened(session, lists, total)


def explain(exc: BaseException) -> str:
    """An exception in words for the pane it concerns (the message, never a traceback)."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        text = message
    else:
        text = str(exc) or type(exc).__name__
    name = type(exc).__name__
    if name == "RequestCancelled":
        return "Stopped."
    return text


__all__ = [
    "Account",
    "AddressBookOpened",
    "Discovered",
    "address_book_url",
    "discover",
    "explain",
    "mailbox_target",
    "open_address_book",
    "open_mailbox",
    "raw_xml",
]
