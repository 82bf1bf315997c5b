"""Connection Status: one row per endpoint session, as Outlook's Ctrl+right-click dialog shows them.

The rows are computed here, outside Qt, from what a front end knows about its sessions
(:class:`EndpointSession`, built by :func:`describe_mailbox` / :func:`describe_address_book` /
:func:`describe_rpc_http`) and from the HTTP trace (:class:`~mapiprobe.transport.trace.TraceRecord`), so that
the GUI's pane, ``Copy as text`` and the diagnosis report show the same table. ``gui/`` only adapts them.

Columns (:data:`COLUMNS`) and where each value comes from:

* ``Server name``: the endpoint URL actually used (after redirects), without credentials.
* ``SMTP Address`` / ``Display name``: the account, and the name Connect/Bind (or Autodiscover) returned.
* ``Type``: ``Mail`` (the mailbox endpoint, EMSMDB) or ``Directory`` (the address book endpoint, NSPI).
* ``Protocol``: ``HTTP`` for MAPI over HTTP, ``RPC/HTTP`` where that is what the session uses or the only
  thing Autodiscover offered (when that cannot be used, Status says why: "Not connected: ...").
* ``Authn``: Outlook's words for the scheme: Clear (Basic), NTLM, Nego, Kerberos (Negotiate that used
  Kerberos), Bearer, Anonymous. From the trace: the redacted ``Authorization`` header of the session's
  requests (its scheme name survives redaction) or the ``auth.scheme`` annotation.
* ``Encrypt``: the TLS version of the session's last exchange (Outlook only says SSL).
* ``Status``: ``Established``, ``Connecting``, ``Disconnected``... or the error, in words.
* ``Session``: the state machine's state (:class:`~mapiprobe.session.state.SessionState`).
* ``Expires in``: seconds until the server forgets the Session Context, from the last ``X-ExpirationInfo``
  (MS-OXCMAPIHTTP 2.2.3.3.8) counted from the end of that exchange; it counts down as ``now`` moves.
* ``Req/Fail``: the session's HTTP requests and how many failed (transport error, HTTP error, or an
  X-ResponseCode other than 0; a 401 that a later request of the same session answered is an
  authentication leg, not a failure).
* ``Avg Resp``: mean request time measured by the client (ms). ``Avg Proc``: mean ``X-ElapsedTime`` the
  server reported (ms; MS-OXCMAPIHTTP 2.2.3.3.9). ``Version``: ``X-ServerApplication``.

Use::

    rows = status_rows([describe_mailbox(mbx, smtp_address=email), describe_address_book(ab, ...)],
                       trace.records)
    print(format_status_table(rows))
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # kept light at import time: the GUI imports this module before its first window
    from mapiprobe.session.state import SessionState
    from mapiprobe.transport.trace import TraceRecord

# The same strings as transport/mapihttp.py's ANNOTATION_ELAPSED_TIME and transport/auth.py's
# ANNOTATION_AUTH_SCHEME (tests/session/test_status.py checks they agree).
ANNOTATION_ELAPSED_TIME = "mapihttp.elapsed_time"
ANNOTATION_AUTH_SCHEME = "auth.scheme"

MAIL = "Mail"
DIRECTORY = "Directory"
HTTP = "HTTP"
RPC_HTTP = "RPC/HTTP"

COLUMNS: tuple[str, ...] = (
    "Server name",
    "SMTP Address",
    "Display name",
    "Type",
    "Protocol",
    "Authn",
    "Encrypt",
    "Status",
    "Session",
    "Expires in",
    "Req/Fail",
    "Avg Resp",
    "Avg Proc",
    "Version",
)
"""The column titles, in Outlook's order (the GUI's header and the text table use these)."""

_AUTHN_WORDS = {
    "basic": "Clear",
    "ntlm": "NTLM",
    "negotiate": "Nego",
    "kerberos": "Kerberos",
    "bearer": "Bearer",
}


@dataclass(frozen=True)
class EndpointSession:
    """What a front end knows about one endpoint session (the rest comes from the trace)."""

    kind: str  # MAIL or DIRECTORY
    url: str  # the endpoint URL actually used
    smtp_address: str = ""
    display_name: str = ""
    protocol: str = HTTP  # HTTP (MAPI over HTTP) or RPC_HTTP
    state: SessionState | str = "disconnected"  # a SessionState, or its value
    error: str | None = None  # why the session failed or is not connected, in a helpdesk engineer's words
    mechanism: str | None = None  # what Negotiate really used ("kerberos" / "ntlm"), when known
    server_application: str | None = None  # X-ServerApplication, when the session kept it


@dataclass(frozen=True)
class StatusRow:
    """One row of the Connection Status table. ``values()`` gives the cells as text, in :data:`COLUMNS` order;
    the typed fields let a view sort numerically."""

    server_name: str
    smtp_address: str
    display_name: str
    type: str
    protocol: str
    authn: str
    encrypt: str
    status: str
    session: str
    expires_in_s: float | None  # None: unknown or no live context
    requests: int
    failures: int
    avg_resp_ms: float | None
    avg_proc_ms: float | None
    version: str

    @property
    def expires_in(self) -> str:
        return format_seconds(self.expires_in_s)

    @property
    def req_fail(self) -> str:
        return f"{self.requests}/{self.failures}"

    def values(self) -> tuple[str, ...]:
        return (
            self.server_name,
            self.smtp_address,
            self.display_name,
            self.type,
            self.protocol,
            self.authn,
            self.encrypt,
            self.status,
            self.session,
            self.expires_in,
            self.req_fail,
            _ms(self.avg_resp_ms),
            _ms(self.avg_proc_ms),
            self.version,
        )

    def sort_key(self, column: int) -> Any:
        """A value that sorts column ``column`` sensibly (numbers as numbers, unknowns last)."""
        numeric = {
            9: self.expires_in_s,
            10: (self.requests, self.failures),
            11: self.avg_resp_ms,
            12: self.avg_proc_ms,
        }
        if column in numeric:
            value = numeric[column]
            return (value is None, value if value is not None else 0)
        return (False, self.values()[column].casefold())


# -- building the rows ----------------------------------------------------------------------------------


def endpoint_key(url: str) -> tuple[str, str, int, str, str]:
    """What makes two URLs the same endpoint: scheme, host, port, path (case-insensitive), query."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 0
    return scheme, (parts.hostname or "").lower(), port, parts.path.lower().rstrip("/"), parts.query.lower()


def records_for(url: str, records: Iterable[TraceRecord]) -> list[TraceRecord]:
    """The trace records of the endpoint ``url`` (its requests, oldest first)."""
    key = endpoint_key(url)
    return [r for r in records if endpoint_key(r.url) == key]


def _failed(record: TraceRecord, later_same_endpoint: bool) -> bool:
    if record.status == 401 and record.outcome in ("ok", "http-401"):  # RPC/HTTP channels say http-401
        return not later_same_endpoint  # a handshake leg when the session went on
    if record.outcome == "closed" and record.status is None:
        return False  # an RPC/HTTP IN channel: the server never answers it, the session closes it
    if record.outcome not in ("ok", "pending"):
        return True
    if record.response_code not in (None, "", "0"):
        return True
    status = record.status
    if status is None:
        return record.outcome != "pending"
    if status == 401:
        return not later_same_endpoint  # a handshake leg when the session went on
    return status >= 400


def _authn(records: Sequence[TraceRecord], mechanism: str | None) -> str:
    scheme: str | None = None
    for record in reversed(records):
        value = record.header("Authorization", response=False)
        if value:
            scheme = value.split(None, 1)[0].lower()
            break
        note = dict(record.annotations).get(ANNOTATION_AUTH_SCHEME)
        if note:
            scheme = note.split(None, 1)[0].lower()
            break
    if scheme is None:
        return "Anonymous" if records else ""
    if scheme == "negotiate" and mechanism:
        return "Kerberos" if mechanism.lower() == "kerberos" else "Nego"
    return _AUTHN_WORDS.get(scheme, scheme.capitalize())


def _encrypt(url: str, records: Sequence[TraceRecord]) -> str:
    for record in reversed(records):
        if record.tls_version:
            return record.tls_version.replace("TLSv", "TLS ")
    if urlsplit(url).scheme.lower() == "http":
        return "None"
    return ""


def _expires_in(records: Sequence[TraceRecord], now: float) -> float | None:
    for record in reversed(records):
        value = record.header("X-ExpirationInfo")
        if value is None:
            continue
        try:
            lifetime_ms = int(value.strip())
        except ValueError:
            return None
        answered = record.started_at + (record.total_ms or 0.0) / 1000
        return max(0.0, answered + lifetime_ms / 1000 - now)
    return None


def parse_elapsed_ms(value: str) -> float | None:
    """X-ElapsedTime as milliseconds (the spec's unit, 2.2.3.3.9); a decimal value is read as seconds, which
    gromox sends (PROTOCOL.md §2.6)."""
    text = value.strip()
    try:
        if "." in text:
            return float(text) * 1000
        return float(int(text))
    except ValueError:
        return None


def _avg(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _version(records: Sequence[TraceRecord], fallback: str | None) -> str:
    for record in reversed(records):
        value = record.header("X-ServerApplication")
        if value:
            return _short_version(value)
    return _short_version(fallback) if fallback else ""


def _short_version(value: str) -> str:
    """``Exchange/15.02.1544.004`` -> ``15.2.1544.4`` (Outlook shows the build number); other text as is."""
    _, slash, rest = value.partition("/")
    text = rest if slash else value
    parts = text.strip().split(".")
    if parts and all(p.isdigit() for p in parts):
        return ".".join(str(int(p)) for p in parts)
    return value.strip()


_STATUS_WORDS = {  # by SessionState value (session/state.py)
    "connected": "Established",
    "idle-pinging": "Established",
    "connecting": "Connecting",
    "reconnecting": "Reconnecting",
    "expired": "Expired",
    "failed": "Failed",
    "disconnected": "Disconnected",
}


def _state_value(state: Any) -> str:
    return str(getattr(state, "value", state))


def status_row(
    session: EndpointSession, records: Iterable[TraceRecord], *, now: float | None = None
) -> StatusRow:
    """The row of one session; ``records`` may be the whole trace (the session's are picked by URL)."""
    from mapiprobe.transport.errors import redact_url

    now = time.time() if now is None else now
    mine = records_for(session.url, records)
    failures = sum(1 for i, r in enumerate(mine) if _failed(r, i + 1 < len(mine)))
    state = _state_value(session.state)
    live = state in ("connected", "idle-pinging")
    status = _STATUS_WORDS.get(state, state)
    if session.protocol == RPC_HTTP and not live and session.error and not mine:
        status = f"Not connected: {session.error}"  # offered by Autodiscover, never reached (no request sent)
    elif session.error and not live:  # a session closed without an error keeps its plain word (Disconnected)
        status = f"{status}: {session.error}"
    elapsed = (
        parse_elapsed_ms(v)
        for r in mine
        if (v := dict(r.annotations).get(ANNOTATION_ELAPSED_TIME)) is not None
    )
    return StatusRow(
        server_name=redact_url(session.url),
        smtp_address=session.smtp_address,
        display_name=session.display_name,
        type=session.kind,
        protocol=session.protocol,
        authn=_authn(mine, session.mechanism),
        encrypt=_encrypt(session.url, mine),
        status=status,
        session=state,
        expires_in_s=_expires_in(mine, now) if live else None,
        requests=len(mine),
        failures=failures,
        avg_resp_ms=_avg(r.total_ms for r in mine),
        avg_proc_ms=_avg(elapsed),
        version=_version(mine, session.server_application),
    )


def status_rows(
    sessions: Iterable[EndpointSession], records: Iterable[TraceRecord], *, now: float | None = None
) -> list[StatusRow]:
    """One :class:`StatusRow` per session, in the order given."""
    everything = list(records)
    now = time.time() if now is None else now
    return [status_row(s, everything, now=now) for s in sessions]


# -- describing sessions ----------------------------------------------------------------------------------


def describe_mailbox(session: Any, *, smtp_address: str = "", error: str | None = None) -> EndpointSession:
    """An :class:`EndpointSession` for a :class:`~mapiprobe.session.mailbox.MailboxSession` (read-only)."""
    return EndpointSession(
        kind=MAIL,
        url=session.url,
        protocol=_protocol_of(session),
        smtp_address=smtp_address,
        display_name=session.display_name or "",
        state=session.machine.state,
        error=error,
        mechanism=_mechanism_of(getattr(session, "_auth", None), session.url),
        server_application=session.server_application,
    )


def describe_address_book(
    session: Any, *, smtp_address: str = "", display_name: str = "", error: str | None = None
) -> EndpointSession:
    """An :class:`EndpointSession` for an :class:`~mapiprobe.session.addressbook.AddressBookSession`."""
    info = session.bind_info
    return EndpointSession(
        kind=DIRECTORY,
        url=session.url,
        protocol=_protocol_of(session),
        smtp_address=smtp_address,
        display_name=display_name,
        state=session.machine.state,
        error=error,
        mechanism=_mechanism_of(getattr(getattr(session, "endpoint", None), "auth", None), session.url),
        server_application=info.server_application if info is not None else None,
    )


def describe_rpc_http(
    server: str, kind: str, *, smtp_address: str = "", display_name: str = "", reason: str | None = None
) -> EndpointSession:
    """A row for an RPC/HTTP endpoint that Autodiscover offered (the EXHTTP/EXPR ``Server``) but that cannot
    be connected to (its settings are incomplete): Protocol RPC/HTTP, Status "Not connected: <reason>"."""
    url = server if "://" in server else f"https://{server}/rpc/rpcproxy.dll"
    return EndpointSession(
        kind=kind,
        url=url,
        smtp_address=smtp_address,
        display_name=display_name,
        protocol=RPC_HTTP,
        state="disconnected",
        error=reason or "Autodiscover's RPC/HTTP (Outlook Anywhere) settings cannot be used",
    )


def _protocol_of(session: Any) -> str:
    """``HTTP`` for MAPI/HTTP, ``RPC/HTTP`` for a session on the RPC/HTTP transport (session.protocol)."""
    return RPC_HTTP if str(getattr(session, "protocol", "")).upper() == "RPC/HTTP" else HTTP


def _mechanism_of(auth: Any, url: str) -> str | None:
    if auth is None:
        return None
    from mapiprobe.transport.auth import auth_outcomes

    key = endpoint_key(url)
    for endpoint, outcome in auth_outcomes(auth).items():
        if endpoint_key(endpoint)[:4] == key[:4] and outcome.mechanism:
            return str(outcome.mechanism)
    return None


# -- text ---------------------------------------------------------------------------------------------------


def format_seconds(seconds: float | None) -> str:
    """``Expires in`` as Outlook counts it: ``m:ss`` (``h:mm:ss`` past an hour); empty when unknown."""
    if seconds is None:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms"


def format_status_table(rows: Sequence[StatusRow], *, columns: Sequence[str] = COLUMNS) -> str:
    """The rows as a plain-text table for a ticket ("Copy as text"): a header line, a rule, one line per row;
    columns separated by two spaces and padded to the widest cell. ``columns`` picks a subset by title."""
    index = [COLUMNS.index(c) for c in columns]
    table = [list(columns), *[[row.values()[i] for i in index] for row in rows]]
    widths = [max(len(line[c]) for line in table) for c in range(len(columns))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[c]) for c, cell in enumerate(cells)).rstrip()

    out = [line(table[0]), "  ".join("-" * w for w in widths)]
    out += [line(cells) for cells in table[1:]]
    return "\n".join(out) + "\n"


__all__ = [
    "COLUMNS",
    "DIRECTORY",
    "HTTP",
    "MAIL",
    "RPC_HTTP",
    "EndpointSession",
    "StatusRow",
    "describe_address_book",
    "describe_mailbox",
    "describe_rpc_http",
    "endpoint_key",
    "format_seconds",
    "format_status_table",
    "parse_elapsed_ms",
    "records_for",
    "status_row",
    "status_rows",
]
