"""MAPI/HTTP against RPC/HTTP on one mailbox: the same four phases over each protocol, each from a cold start.

Microsoft's case for MAPI/HTTP was a shorter "Connecting" phase; :func:`compare_protocols` measures it for one
user from this machine. For each protocol, one after the other, with new HTTP clients (no connection, cookie
or answer carried over), it runs what Outlook does when it starts:

1. **autodiscover**: the POX request, with X-MapiHttpCapability for MAPI/HTTP and without it for RPC/HTTP
   (Outlook's MapiHttpDisabled), so each protocol gets the answer that leads to it;
2. **connect**: the mailbox session: Connect (EcDoConnectEx over RPC/HTTP, after the virtual connection and
   the bind) and RopLogon;
3. **folders**: the whole folder tree (the hierarchy table with Depth);
4. **gal**: the address book: Bind (over RPC/HTTP after RFR named the NSPI server) and the first page of
   the GAL.

Per phase: wall time, HTTP requests, TCP connections, bytes sent and received (HTTP bodies; for RPC/HTTP the
channels' bodies), and the failure in words if it failed (the phases after a failure that needs it are
skipped). MAPI/HTTP is counted from the trace of every HTTP exchange, RPC/HTTP from its virtual connections'
counters (its Autodiscover from the trace). Nothing is printed; ``progress`` gets one line per phase.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.errors import TransportError
from mapiprobe.transport.trace import Trace, TraceRecord

from .addressbook import AddressBookError, AddressBookSession, BadAddressBookResponse
from .addressbook_transport import rpc_http_addressbook_transport
from .autodiscover import AutodiscoverSession, DiscoveryOptions
from .mailbox import MailboxError, MailboxSession
from .mailbox_transport import MAPI_HTTP, RPC_HTTP, rpc_http_transport
from .rpch_settings import settings_from_autodiscover

PHASES = ("autodiscover", "connect", "folders", "gal")
PROTOCOLS = ("mapi-http", "rpc-http")
_NAMES = {"mapi-http": MAPI_HTTP, "rpc-http": RPC_HTTP}
_RPC_PATH = "/rpc/rpcproxy.dll"


@dataclass
class PhaseResult:
    """One phase over one protocol."""

    name: str
    wall_ms: float = 0.0
    http_requests: int = 0
    tcp_connections: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    round_trips: int = 0
    """Answers the client waited for, one after the other: HTTP exchanges other than 401 legs (MAPI/HTTP,
    Autodiscover) and, per RPC/HTTP virtual connection, the echo (when the scheme was unknown), CONN/A3 with
    CONN/C2 (the IN channel opens while CONN/A1 travels), the bind and each call. x RTT = the phase's floor
    on a network where only the round trip costs."""
    ok: bool = True
    error: str | None = None
    skipped: bool = False
    detail: str | None = None
    """What the phase produced, in words (``26 folders``, ``50 GAL rows of 2000``)."""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ProtocolRun:
    """The four phases over one protocol, and what the connections were."""

    protocol: str
    phases: list[PhaseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    endpoint: str | None = None
    address_book_endpoint: str | None = None
    records: list[TraceRecord] = field(default_factory=list, repr=False)
    """Every HTTP exchange of the run (the window's Connection Status reads them; not in :meth:`to_json`)."""

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.phases)

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)

    def total(self, key: str) -> float:
        return float(sum(getattr(p, key) for p in self.phases))

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": _NAMES.get(self.protocol, self.protocol),
            "ok": self.ok,
            "endpoint": self.endpoint,
            "phases": [p.to_json() for p in self.phases],
            "total": {
                k: self.total(k)
                for k in (
                    "wall_ms",
                    "http_requests",
                    "tcp_connections",
                    "bytes_sent",
                    "bytes_received",
                    "round_trips",
                )
            },
            "notes": list(self.notes),
        }


@dataclass
class Comparison:
    email: str
    runs: list[ProtocolRun]

    def run(self, protocol: str) -> ProtocolRun | None:
        return next((r for r in self.runs if r.protocol == protocol), None)

    def ratio(self, phase: str, numerator: str = "rpc-http", denominator: str = "mapi-http") -> float | None:
        """Wall time of ``phase`` over ``numerator`` ÷ over ``denominator`` (None if either failed)."""
        a, b = self.run(numerator), self.run(denominator)
        pa = a.phase(phase) if a else None
        pb = b.phase(phase) if b else None
        if pa is None or pb is None or not pa.ok or not pb.ok or pb.wall_ms <= 0:
            return None
        return pa.wall_ms / pb.wall_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "runs": [r.to_json() for r in self.runs],
            "rpc_http_over_mapi_http": {
                **{p: self.ratio(p) for p in PHASES},
                "connect+folders": _ratio_sum(self),
            },
        }


class _Meter:
    """Counts one phase: the trace records it added (HTTP exchanges other than RPC/HTTP channels) and the
    deltas of the RPC/HTTP transports' counters."""

    def __init__(self, trace: Trace, transports: Sequence[Any]) -> None:
        self.trace = trace
        self.transports = transports

    def _rpc(self) -> dict[str, int]:
        out = {
            "http_requests": 0,
            "tcp_connections": 0,
            "bytes_sent": 0,
            "bytes_received": 0,
            "round_trips": 0,
        }
        for t in self.transports:
            for k in ("http_requests", "tcp_connections", "bytes_sent", "bytes_received"):
                out[k] += int(t.stats[k])
            for conn in t.connections:
                if conn.stats.http_requests == 0:
                    continue
                echo = 1 if conn.echo_ms is not None else 0
                opened = 1 if conn.interface is not None else 0  # CONN/A3+C2 and the bind
                out["round_trips"] += echo + 2 * opened + conn.stats.rpc_calls
        return out

    def start(self) -> tuple[int, dict[str, int], float]:
        return len(self.trace.records), self._rpc(), time.perf_counter()

    def stop(self, phase: PhaseResult, mark: tuple[int, dict[str, int], float]) -> None:
        first, rpc_before, started = mark
        phase.wall_ms = (time.perf_counter() - started) * 1000
        records: list[TraceRecord] = [r for r in self.trace.records[first:] if _RPC_PATH not in r.url.lower()]
        phase.http_requests = len(records)
        phase.tcp_connections = sum(
            1 for r in records if r.connect_ms is not None and not r.reused_connection
        )
        phase.bytes_sent = sum(r.request_bytes for r in records)
        phase.bytes_received = sum(r.response_bytes for r in records)
        phase.round_trips = sum(1 for r in records if r.status != 401)
        rpc_after = self._rpc()
        for k in rpc_after:
            setattr(phase, k, getattr(phase, k) + rpc_after[k] - rpc_before[k])


AuthFactory = Callable[[], httpx.Auth | None]


def compare_protocols(
    email: str,
    *,
    credentials: Credentials,
    connection: ConnectionOptions,
    auth_factory: AuthFactory,
    user: str | None = None,
    auth_scheme: str = "auto",
    autodiscover_url: str | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    rpc_auth: str = "auto",
    http_scheme: str | None = None,
    page_size: int = 50,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Comparison:
    """Run the four phases over each protocol in turn (see the module's docstring)."""
    runs = []
    for protocol in protocols:
        if cancel is not None and cancel.is_set():
            break
        runs.append(
            _run_one(
                protocol,
                email,
                credentials=credentials,
                connection=connection,
                auth_factory=auth_factory,
                user=user,
                auth_scheme=auth_scheme,
                autodiscover_url=autodiscover_url,
                rpc_auth=rpc_auth,
                http_scheme=http_scheme,
                page_size=page_size,
                progress=progress,
                cancel=cancel or threading.Event(),
            )
        )
    return Comparison(email, runs)


_FAILURES = (TransportError, MailboxError, AddressBookError, BadAddressBookResponse)


def _words(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc) or type(exc).__name__


def _run_one(
    protocol: str,
    email: str,
    *,
    credentials: Credentials,
    connection: ConnectionOptions,
    auth_factory: AuthFactory,
    user: str | None,
    auth_scheme: str,
    autodiscover_url: str | None,
    rpc_auth: str,
    http_scheme: str | None,
    page_size: int,
    progress: Callable[[str], None] | None,
    cancel: threading.Event,
) -> ProtocolRun:
    name = _NAMES[protocol]
    run = ProtocolRun(protocol)
    trace = Trace()
    transports: list[Any] = []
    meter = _Meter(trace, transports)

    def say(text: str) -> None:
        if progress is not None:
            progress(f"{name}: {text}")

    def phase(label: str) -> PhaseResult:
        p = PhaseResult(label)
        run.phases.append(p)
        return p

    # 1. Autodiscover
    p = phase("autodiscover")
    mark = meter.start()
    response: AutodiscoverResponse | None = None
    try:
        result = AutodiscoverSession(
            email,
            user=user,
            credentials=credentials,
            auth_scheme=auth_scheme,
            connection=connection,
            options=DiscoveryOptions(
                candidate_timeout=connection.connect_timeout,
                mapi_http_disabled=protocol == "rpc-http",
                url=autodiscover_url,
            ),
            cancel=cancel,
            trace=trace,
        ).run()
        response = result.response
        if response is None:
            p.ok, p.error = False, result.problem.message if result.problem is not None else "no answer"
    except _FAILURES as exc:
        p.ok, p.error = False, _words(exc)
    meter.stop(p, mark)
    say(f"autodiscover {p.wall_ms:.0f} ms" + (f" FAILED: {p.error}" if not p.ok else ""))

    mailbox_url = ab_url = None
    mailbox_transport = ab_transport = None
    legacy_dn = response.user.legacy_dn if response is not None and response.user is not None else None
    if response is not None:
        if protocol == "mapi-http":
            mapi = response.mapi_http
            mailbox_url = (mapi.mailstore_external or mapi.mailstore_internal) if mapi else None
            ab_url = (mapi.addressbook_external or mapi.addressbook_internal) if mapi else None
            if not mailbox_url:
                p.ok, p.error = False, "the answer has no mapiHttp MailStore URL"
        else:
            settings = settings_from_autodiscover(response)
            if settings is None:
                p.ok, p.error = False, "the answer has no RPC/HTTP settings (no EXHTTP or EXPR block)"
            else:
                scheme = http_scheme or settings.http_scheme
                mailbox_transport = rpc_http_transport(
                    settings, credentials, connection, trace=trace, http_scheme=scheme, rpc_auth=rpc_auth
                )
                ab_transport = rpc_http_addressbook_transport(
                    settings,
                    credentials,
                    connection,
                    user_dn=legacy_dn,
                    trace=trace,
                    http_scheme=scheme,
                    rpc_auth=rpc_auth,
                )
                transports += [mailbox_transport, ab_transport]
                mailbox_url = mailbox_transport.url
                ab_url = ab_transport.url
        if not legacy_dn:
            p.ok, p.error = False, "the answer has no User/LegacyDN"
    run.endpoint = mailbox_url
    ready = p.ok and mailbox_url is not None and legacy_dn is not None

    # 2. connect + 3. folders
    session: MailboxSession | None = None
    p = phase("connect")
    if not ready:
        p.ok, p.skipped, p.error = False, True, "skipped: Autodiscover gave no endpoint"
    else:
        assert mailbox_url is not None and legacy_dn is not None
        mark = meter.start()
        try:
            session = MailboxSession(
                mailbox_url,
                user_dn=legacy_dn,
                user=user or email,
                auth=auth_factory(),
                connection=connection,
                cancel=cancel,
                trace=trace,
                keepalive=False,
                transport=mailbox_transport,
            )
            session.open()
            session.logon_now()
            p.detail = f"logged on as {session.display_name or email}"
        except _FAILURES as exc:
            p.ok, p.error = False, _words(exc)
        meter.stop(p, mark)
    say(f"connect {p.wall_ms:.0f} ms" + (f" FAILED: {p.error}" if not p.ok else ""))

    p = phase("folders")
    if session is None or not run.phases[1].ok:
        p.ok, p.skipped, p.error = False, True, "skipped: not connected"
    else:
        mark = meter.start()
        try:
            tree = session.folder_tree()
            p.detail = f"{sum(1 for _ in tree.walk()) - 1} folders"
        except _FAILURES as exc:
            p.ok, p.error = False, _words(exc)
        meter.stop(p, mark)
    if session is not None:
        with contextlib.suppress(*_FAILURES):
            session.close()
    say(f"folders {p.wall_ms:.0f} ms" + (f" FAILED: {p.error}" if not p.ok else ""))

    # 4. the first GAL page
    p = phase("gal")
    if not ab_url or legacy_dn is None:
        p.ok, p.skipped = False, not ready
        p.error = "skipped: Autodiscover gave no endpoint" if not ready else "no address book endpoint"
    else:
        mark = meter.start()
        ab = AddressBookSession(
            ab_url,
            user=user or email,
            auth=auth_factory(),
            connection=connection,
            cancel=cancel,
            trace=trace,
            keepalive=False,
            transport=ab_transport,
        )
        try:
            ab.bind()
            page = ab.page(0, count=page_size)
            p.detail = f"{len(page.entries)} GAL rows of {page.total}"
        except _FAILURES as exc:
            p.ok, p.error = False, _words(exc)
        meter.stop(p, mark)  # the Unbind afterwards is not part of starting up (as Disconnect is not)
        with contextlib.suppress(*_FAILURES):
            ab.close()
        if ab_transport is not None:
            run.notes += ab_transport.notes
    say(f"gal {p.wall_ms:.0f} ms" + (f" FAILED: {p.error}" if not p.ok else ""))
    for t in transports:
        t.close()
    # Over RPC/HTTP the address book is where RFR sent it (its transport's URL), not Autodiscover's server.
    run.address_book_endpoint = (
        getattr(ab_transport, "url", None) if ab_transport is not None else None
    ) or ab_url
    run.records = list(trace.records)
    return run


def format_comparison(comparison: Comparison) -> list[str]:
    """The comparison as text lines: a table of phases by protocol, then totals and ratios."""
    lines = [f"MAPI/HTTP against RPC/HTTP for {comparison.email} (each from a cold start)"]
    lines.append(
        f"  {'phase':<13}{'protocol':<11}{'time':>9}{'HTTP req':>10}{'TCP conn':>10}{'sent':>10}"
        f"{'received':>11}  result"
    )
    for name in PHASES:
        for run in comparison.runs:
            p = run.phase(name)
            if p is None:
                continue
            result = (p.detail or "ok") if p.ok else f"FAILED: {p.error}"
            lines.append(
                f"  {name:<13}{_NAMES[run.protocol]:<11}{p.wall_ms:>7.0f} ms{p.http_requests:>10}"
                f"{p.tcp_connections:>10}{_size(p.bytes_sent):>10}{_size(p.bytes_received):>11}  {result}"
            )
    for run in comparison.runs:
        lines.append(
            f"  {'total':<13}{_NAMES[run.protocol]:<11}{run.total('wall_ms'):>7.0f} ms"
            f"{int(run.total('http_requests')):>10}{int(run.total('tcp_connections')):>10}"
            f"{_size(int(run.total('bytes_sent'))):>10}{_size(int(run.total('bytes_received'))):>11}"
            f"  {'ok' if run.ok else 'with failures'}"
        )
    for name in (*PHASES, "connect+folders"):
        ratio = comparison.ratio(name) if name != "connect+folders" else _ratio_sum(comparison)
        if ratio is not None:
            lines.append(f"  RPC/HTTP ÷ MAPI/HTTP, {name}: {ratio:.2f}")
    for run in comparison.runs:
        for note in run.notes:
            lines.append(f"  note ({_NAMES[run.protocol]}): {note}")
    return lines


def _ratio_sum(comparison: Comparison) -> float | None:
    rpc, mapi = comparison.run("rpc-http"), comparison.run("mapi-http")
    if rpc is None or mapi is None:
        return None
    parts = []
    for r in (rpc, mapi):
        ps = [r.phase("connect"), r.phase("folders")]
        if any(p is None or not p.ok for p in ps):
            return None
        parts.append(sum(p.wall_ms for p in ps if p is not None))
    return parts[0] / parts[1] if parts[1] > 0 else None


def _size(n: int) -> str:
    return f"{n} B" if n < 10_000 else f"{n / 1024:.0f} KiB"


__all__ = [
    "PHASES",
    "PROTOCOLS",
    "Comparison",
    "PhaseResult",
    "ProtocolRun",
    "compare_protocols",
    "format_comparison",
]
