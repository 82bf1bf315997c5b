"""Autodiscover discovery: from an email address to the MAPI/HTTP endpoints, the way Outlook finds them.

Candidates (MS-OXDISCO 3.1.5), in the order of priority used to pick the answer:

1. ``https://<domain>/autodiscover/autodiscover.xml``                         (3.1.5.2, root domain)
2. ``https://autodiscover.<domain>/autodiscover/autodiscover.xml``            (3.1.5.2)
3. DNS SRV ``_autodiscover._tcp.<domain>`` -> ``https://<target>[:port]/...``  (3.1.5.3)
4. Autodiscover v2: ``GET https://autodiscover.<domain>/autodiscover/autodiscover.json/v1.0/<smtp>
   ?Protocol=AutodiscoverV1`` -> the v1 URL (not in the open specs; PROTOCOL.md 1.4)
5. The unauthenticated ``GET http://autodiscover.<domain>/autodiscover/autodiscover.xml``; a 302
   ``Location`` becomes a candidate only if the user agrees (3.1.5.4)

SCP lookup (3.1.5.1) needs a domain-joined Windows machine and LDAP; it is not done here.

All candidates are probed at once (one thread each, a time limit each). The answer honours the priority,
without paying a dead host's time limit: once a lower-priority candidate has a usable answer, a still pending
higher-priority one is waited for only if it has shown a sign of life (its TLS handshake completed: a live
server gets that far about as fast as the answering one did), and then only for a grace period of
``max(GRACE_MIN, GRACE_FACTOR x the answering candidate's time)`` (never past its own time limit). A pending
candidate without a handshake by then, or still without an answer at the end of its grace, is abandoned and
reported as such (outcome ``abandoned``, with how far it got), so a black-holed root domain costs nothing
and a live but slower one still wins. The signs of life come from httpcore's trace events
(``connection.start_tls.complete``) of each candidate's own requests.

Then redirects are followed (MS-OXDSCLI 3.1.5): ``redirectAddr`` (ask again for the new address),
``redirectUrl`` and an HTTP 302 on the POST (ask the new URL), at most 10 hops (PROTOCOL.md 1.3, from the
Exchange 2007 SDK), stopping at the first URL + address seen twice.

Safety rules, each enforced in one place:

* Credentials go only over HTTPS (every flow ``make_auth`` builds refuses anything else) and only to a host
  the user named (the email address's domain and ``autodiscover.<domain>``, or the host of ``--url``) or
  approved (``--allow-redirect``, or the consent callback). :meth:`AutodiscoverSession._credentials_for` is
  the only place credentials are attached.
* Every redirect to another host (302, SRV target, v2 answer, redirectUrl, redirectAddr to another domain)
  asks the consent callback first; without a callback the answer is no.
* The domain is used exactly as given: never ``autodiscover.<tld>``, never labels stripped off.
* A certificate that does not verify stops that attempt and is reported; it is never retried without TLS.

The session reports progress through a callback, asks consent through another (both called in the thread
that runs :meth:`AutodiscoverSession.run`), can be cancelled with a :class:`threading.Event`, never prints
and keeps no global state.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple, cast
from urllib.parse import quote, urljoin, urlsplit

import httpx

from mapiprobe.protocol.autodiscover import AutodiscoverResponse, build_request, parse_response
from mapiprobe.protocol.errors import AutodiscoverError, EncodeError
from mapiprobe.transport.auth import Credentials, Secret, make_auth, offered_schemes
from mapiprobe.transport.client import ConnectionOptions, make_client
from mapiprobe.transport.errors import (
    AuthenticationFailed,
    InsecureCredentialRefused,
    NameNotResolved,
    TLSFailure,
    TransportError,
    map_transport_errors,
    redact_url,
)
from mapiprobe.transport.resolve import Resolver, make_resolver
from mapiprobe.transport.tls import PeerCertificate, peek_certificate
from mapiprobe.transport.trace import Trace, TraceRecord

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
V2_PATH = "/autodiscover/autodiscover.json/v1.0/"
MAX_REDIRECTS = 10
SECONDARY_DELAY = 0.3  # seconds before the lookups start while the two domain URLs are still pending
# A pending higher-priority candidate that has completed its TLS handshake when a lower-priority one answers
# is waited for max(GRACE_MIN, GRACE_FACTOR x the answering candidate's elapsed time) more (see _abandon).
GRACE_MIN = 1.0
GRACE_FACTOR = 3.0
X_MAPIHTTP_CAPABILITY = "1"  # the version Outlook and ruler send (MS-OXDSCLI 2.2.2.1)


class Source(StrEnum):
    """How a URL became a candidate."""

    GIVEN_URL = "given-url"
    ROOT_DOMAIN = "root-domain"
    AUTODISCOVER_DOMAIN = "autodiscover-domain"
    SRV = "dns-srv"
    AUTODISCOVER_V2 = "autodiscover-v2"
    REDIRECT_PROBE = "http-redirect-probe"
    REDIRECT_URL = "redirectUrl"
    REDIRECT_ADDR = "redirectAddr"
    HTTP_302 = "http-302"


class Outcome(StrEnum):
    """What one attempt ended with."""

    SETTINGS = "settings"
    REDIRECT_ADDR = "redirectAddr"
    REDIRECT_URL = "redirectUrl"
    ERROR_RESPONSE = "error-response"  # a valid Autodiscover document with an Error element
    HTTP_REDIRECT = "http-redirect"  # a 301/302/307/308 with a Location
    CANDIDATE = "candidate"  # a lookup (SRV, v2, redirect probe) produced a URL
    NO_CANDIDATE = "no-candidate"  # a lookup found nothing (no SRV record, no 302)
    DUPLICATE = "duplicate"  # the lookup named a URL that is already a candidate
    NAME_NOT_RESOLVED = "name-not-resolved"
    CONNECT_FAILED = "connect-failed"
    TIMEOUT = "timeout"
    TLS_FAILED = "tls-failed"
    CONNECTION_LOST = "connection-lost"
    HTTP_ERROR = "http-error"
    AUTH_REQUIRED = "auth-required"  # 401 and we had no credentials
    AUTH_FAILED = "auth-failed"  # 401 to our credentials
    REJECTED_DOCUMENT = "rejected-document"  # 200 but not an Autodiscover document (HTML login page...)
    CONSENT_REFUSED = "consent-refused"
    UNSAFE = "unsafe"  # refused on safety grounds (credentials to plain HTTP, ...)
    SUPERSEDED = "superseded"  # not waited for: a higher-priority candidate answered
    ABANDONED = "abandoned"  # higher priority, but no sign of life (or answer) once a lower one answered
    CANCELLED = "cancelled"


_FAILURE_KIND = {
    "name-not-resolved": Outcome.NAME_NOT_RESOLVED,
    "connect-failed": Outcome.CONNECT_FAILED,
    "connect-timeout": Outcome.TIMEOUT,
    "read-timeout": Outcome.TIMEOUT,
    "too-slow": Outcome.TIMEOUT,
    "max-time": Outcome.TIMEOUT,
    "timeout": Outcome.TIMEOUT,
    "tls-failed": Outcome.TLS_FAILED,
    "connection-lost": Outcome.CONNECTION_LOST,
    "http-failed": Outcome.HTTP_ERROR,
    "auth-failed": Outcome.AUTH_FAILED,
    "insecure-credentials-refused": Outcome.UNSAFE,
}


@dataclass(frozen=True)
class Attempt:
    """One step of the discovery: a request, a DNS lookup, or a decision (consent, superseded)."""

    url: str
    source: Source
    method: str  # POST, GET, SRV, or "-" for a decision
    outcome: Outcome
    detail: str | None = None
    resolved_address: str | None = None  # ADDR:PORT actually connected to
    tls: str | None = None  # "TLSv1.3 TLS_AES_256_GCM_SHA384", or the failure reason
    http_status: int | None = None
    elapsed_ms: float | None = None
    email: str | None = None  # the address asked for (POST)
    hop: int = 0  # 0: discovery; n: the n-th redirect followed


@dataclass(frozen=True)
class Redirect:
    """A redirect that was followed (``approved`` says whether the user had to agree to it)."""

    kind: str  # "redirectAddr", "redirectUrl", "http-302"
    source_url: str
    target: str  # the new URL, or the new address for redirectAddr
    approved_by: str | None = None  # None: no consent needed; "allow-list"; "user"


@dataclass(frozen=True)
class Finding:
    """Something a helpdesk engineer should know that is not an error of this run."""

    code: str
    severity: str  # "info", "warning", "error"
    message: str


@dataclass(frozen=True)
class Problem:
    """Why the run did not end with settings, in the client's words (``code`` is stable for scripts)."""

    code: str
    message: str


@dataclass(frozen=True)
class ConsentRequest:
    """A question to the user: may credentials go to ``host`` (a URL's host, or a domain)?"""

    kind: str  # a Source value: "http-redirect-probe", "dns-srv", "redirectUrl", "redirectAddr", ...
    host: str
    target: str  # the URL or the address
    reason: str


@dataclass(frozen=True)
class ProgressEvent:
    """What the session is doing now (``attempt`` set when one just finished)."""

    stage: str  # "start", "candidates", "attempt", "consent", "redirect", "done"
    message: str
    attempt: Attempt | None = None


@dataclass(frozen=True)
class DiscoveryOptions:
    mapi_http_disabled: bool = False  # emulate Outlook's MapiHttpDisabled=1 (no X-MapiHttpCapability)
    url: str | None = None  # --url: skip discovery, ask this URL
    allowed_hosts: frozenset[str] = frozenset()  # --allow-redirect: hosts or domains pre-approved
    candidate_timeout: float = 10.0
    max_redirects: int = MAX_REDIRECTS
    use_srv: bool = True
    use_v2: bool = True
    use_redirect_probe: bool = True


@dataclass(frozen=True)
class DiscoveryResult:
    """Everything a run found. ``response`` is the last answer as used (a mapiHttp block the client did
    not ask for is removed in MapiHttpDisabled mode; ``raw_response`` keeps it)."""

    email: str
    final_email: str
    response: AutodiscoverResponse | None
    raw_response: AutodiscoverResponse | None
    url: str | None  # the URL that gave ``response``
    attempts: tuple[Attempt, ...]
    redirects: tuple[Redirect, ...] = ()
    findings: tuple[Finding, ...] = ()
    problem: Problem | None = None
    mapi_http_disabled: bool = False
    cancelled: bool = False
    source: str | None = None  # "discovery", "url", or "file:<path>" for a saved answer

    @property
    def action(self) -> str:
        return self.response.action if self.response is not None else "error"

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.action == "settings" and self.problem is None

    @property
    def protocol(self) -> str | None:
        """``mapiHttp``, ``rpcHttp`` (EXPR/EXHTTP only) or None."""
        return protocol_of(self.response)


def protocol_of(response: AutodiscoverResponse | None) -> str | None:
    if response is None or response.action != "settings":
        return None
    if response.mapi_http is not None:
        return "mapiHttp"
    if any(p.type.upper() in ("EXPR", "EXHTTP") for p in response.legacy):
        return "rpcHttp"
    return None


ConsentCallback = Callable[[ConsentRequest], bool]
ProgressCallback = Callable[[ProgressEvent], None]


class UsageError(ValueError):
    """Bad input from the user (an address that is not one, a --url that is not HTTPS)."""


def split_address(email: str) -> tuple[str, str]:
    """``local@domain`` -> (local, domain in lower case, IDNA-encoded). Raises UsageError."""
    text = email.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise UsageError(f"{email!r} is not an email address (local@domain)")
    domain = domain.rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise UsageError(f"{email!r}: the domain {domain!r} is not a valid host name") from None
    labels = domain.split(".")
    if any(not label or len(label) > 63 for label in labels) or len(domain) > 253:
        raise UsageError(f"{email!r}: the domain {domain!r} is not a valid host name")
    if not all(ch.isalnum() or ch == "-" for label in labels for ch in label):
        raise UsageError(f"{email!r}: the domain {domain!r} is not a valid host name")
    return local, domain


def candidate_urls(domain: str) -> list[tuple[Source, str]]:
    """The two URLs built from the domain (MS-OXDISCO 3.1.5.2): the domain exactly as given, never
    a parent domain and never ``autodiscover.<tld>``."""
    return [
        (Source.ROOT_DOMAIN, f"https://{domain}{AUTODISCOVER_PATH}"),
        (Source.AUTODISCOVER_DOMAIN, f"https://autodiscover.{domain}{AUTODISCOVER_PATH}"),
    ]


def srv_name(domain: str) -> str:
    return f"_autodiscover._tcp.{domain}"


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (
        pa.scheme.lower() == pb.scheme.lower()
        and (pa.hostname or "").lower() == (pb.hostname or "").lower()
        and (pa.port or 443) == (pb.port or 443)
        and pa.path.lower() == pb.path.lower()
        and pa.query == pb.query
    )


# -- one exchange ---------------------------------------------------------------------------------------


@dataclass
class _Answer:
    url: str
    email: str
    response: AutodiscoverResponse
    attempt: Attempt
    http_redirect: bool = False  # not a document: an HTTP 302 to the POST, held as a redirectUrl to follow


def _http_redirect(url: str, email: str, location: str, attempt: Attempt) -> _Answer:
    """A 302 answer to the POST (MS-OXDSCLI 3.2.5), to be followed like a redirectUrl (as kind http-302)."""
    return _Answer(
        url, email, AutodiscoverResponse(action="redirectUrl", redirect_url=location), attempt, True
    )


@dataclass
class _Exchange:
    """The result of one POST (or GET): an attempt, and what it produced."""

    attempt: Attempt
    answer: _Answer | None = None
    location: str | None = None  # a redirect's Location
    rejected: bool = False  # a document came back that is not Autodiscover


class _GetOutcome(NamedTuple):
    result: _SlotResult
    attempt: Callable[..., Attempt]
    response: httpx.Response | None


@dataclass
class _SlotResult:
    attempts: list[Attempt] = field(default_factory=list)
    answer: _Answer | None = None
    consent: ConsentRequest | None = None  # a URL that needs the user's agreement first
    consent_source: Source | None = None
    rejected: bool = False


class _Liveness:
    """Signs of life of one candidate's connections, from httpcore's trace events of its own requests
    (written by the candidate's thread, read by the coordinator: single assignments of immutable values)."""

    def __init__(self) -> None:
        self.connected_at: float | None = None  # TCP connection established
        self.peer: str | None = None  # ADDR:PORT of that connection
        # The connection is ready: TLS handshake completed, or a request is being sent on a ready connection
        # (a kept-alive one, which emits no handshake event, or plain HTTP).
        self.ready_at: float | None = None

    def on_event(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.complete" and self.connected_at is None:
            self.connected_at = time.perf_counter()
            try:
                addr = info["return_value"].get_extra_info("server_addr")
            except Exception:  # an observer must never break the request
                addr = None
            if isinstance(addr, tuple) and len(addr) >= 2:
                self.peer = f"[{addr[0]}]:{addr[1]}" if ":" in str(addr[0]) else f"{addr[0]}:{addr[1]}"
        elif (
            name in ("connection.start_tls.complete", "http11.send_request_headers.started")
            and self.ready_at is None
        ):
            self.ready_at = time.perf_counter()


@dataclass
class _Slot:
    priority: int
    source: Source
    url: str  # what it probes first (the URL, the SRV name, the probe URL)
    budget: float  # seconds before the coordinator stops waiting
    started: float = 0.0
    finished: float | None = None  # when its worker returned
    result: _SlotResult | None = None
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)  # set when the discovery has decided
    live: _Liveness = field(default_factory=_Liveness)
    grace_until: float | None = None  # set when a lower-priority answer arrived while it showed signs of life
    grace: float = 0.0  # the length of that grace period (seconds)


class AutodiscoverSession:
    """One Autodiscover run for one address. Call :meth:`run` (blocking) from any thread but the GUI's."""

    def __init__(
        self,
        email: str,
        *,
        user: str | None = None,
        password: str | Secret | None = None,
        connection: ConnectionOptions | None = None,
        options: DiscoveryOptions | None = None,
        consent: ConsentCallback | None = None,
        credentials: Credentials | None = None,
        auth_scheme: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        trace: Trace | None = None,
        resolver: Resolver | None = None,
        approved_hosts: set[str] | None = None,
    ) -> None:
        self.email = email.strip()
        self.local, self.domain = split_address(self.email)
        self.options = options or DiscoveryOptions()
        if self.options.url is not None:
            parts = urlsplit(self.options.url)
            if parts.scheme.lower() != "https" or not parts.hostname:
                raise UsageError(f"--url must be an https:// URL, not {self.options.url!r}")
        self.user = user or self.email
        self._password = password if isinstance(password, Secret) or password is None else Secret(password)
        # THE auth factory (transport/auth.py). ``password=`` alone means Basic, as before issue 6;
        # ``credentials=`` with ``auth_scheme`` (default "auto") is what the CLI passes.
        if credentials is None and self._password is not None:
            credentials, scheme = Credentials(user=self.user, password=self._password), auth_scheme or "basic"
        else:
            scheme = auth_scheme or "auto"
        if credentials is not None and not credentials.user:
            credentials = replace(credentials, user=self.user)
        self._auth = make_auth(credentials, scheme)  # AuthConfigError (a ValueError) for a bad combination
        base = connection or ConnectionOptions()
        timeout = self.options.candidate_timeout
        self.connection = replace(
            base,
            connect_timeout=min(base.connect_timeout, timeout),
            read_timeout=min(base.read_timeout, timeout),
        )
        self._consent = consent
        self._progress = progress
        self.cancel = cancel or threading.Event()
        self.trace = trace if trace is not None else Trace()
        self._resolver = resolver
        self._labels = itertools.count(1)
        self._lock = threading.Lock()
        self._events: queue.Queue[tuple[str, object]] = queue.Queue()
        # Hosts (and domains, for redirectAddr) credentials may go to. ``approved_hosts`` is shared with a
        # second run (compare mode) so that the user is not asked twice.
        self._approved: set[str] = approved_hosts if approved_hosts is not None else set()
        self._named: set[str] = {self.domain, f"autodiscover.{self.domain}"}
        if self.options.url:
            self._named.add(host_of(self.options.url))
        self._allowed = {h.lower().rstrip(".") for h in self.options.allowed_hosts}
        self._attempts: list[Attempt] = []
        self._redirects: list[Redirect] = []
        self._findings: list[Finding] = []
        self._client: httpx.Client | None = None
        self._threads: list[threading.Thread] = []

    # -- trust ------------------------------------------------------------------------------------------

    def _trust(self, host: str) -> str | None:
        """Why credentials may go to ``host``: "named", "allow-list", "user" (approved), or None."""
        host = host.lower().rstrip(".")
        with self._lock:
            if host in self._named:
                return "named"
            if host in self._allowed:
                return "allow-list"
            if host in self._approved:
                return "user"
        return None

    def _trusted(self, host: str) -> bool:
        return self._trust(host) is not None

    def _credentials_for(self, url: str) -> httpx.Auth | None:
        """The only place credentials are attached to a request (one auth object for the whole run, so that
        ``auto`` learns each server's schemes once and a refusal is not retried)."""
        if self._auth is None:
            return None
        if urlsplit(url).scheme.lower() != "https":
            raise InsecureCredentialRefused(url)
        if not self._trusted(host_of(url)):  # the callers never get here; a guard against future ones
            raise InsecureCredentialRefused(url, f"credentials (host {host_of(url)} not approved)")
        return self._auth

    def _ask(self, request: ConsentRequest) -> str | None:
        """Ask for consent (in the caller's thread). Returns how it was granted, or None."""
        host = request.host.lower().rstrip(".")
        if host in self._allowed:
            return "allow-list"
        with self._lock:
            if host in self._approved:
                return "user"
        self._emit("consent", f"asking: {request.reason}")
        granted = bool(self._consent(request)) if self._consent is not None else False
        if granted:
            with self._lock:
                self._approved.add(host)
            return "user"
        return None

    # -- reporting --------------------------------------------------------------------------------------

    def _emit(self, stage: str, message: str, attempt: Attempt | None = None) -> None:
        if self._progress is not None:
            self._progress(ProgressEvent(stage, message, attempt))

    def _record(self, attempt: Attempt) -> None:
        self._attempts.append(attempt)
        text = f"{attempt.method} {attempt.url}: {attempt.outcome.value}"
        if attempt.detail:
            text += f" ({attempt.detail})"
        self._emit("attempt", text, attempt)

    def _trace_of(self, label: str) -> TraceRecord | None:
        for rec in reversed(self.trace.records):
            if rec.label == label:
                return rec
        return None

    # -- HTTP -------------------------------------------------------------------------------------------

    def _headers(self, email: str) -> dict[str, str]:
        headers = {"Content-Type": "text/xml; charset=utf-8", "X-AnchorMailbox": email}
        # MapiHttpDisabled leaves out X-MapiHttpCapability only (MS-OXDSCLI 2.2.2.1: a client that does not
        # implement MAPI/HTTP MUST NOT send it). X-AnchorMailbox stays: 2.2.2.2 says it SHOULD accompany the
        # capability header but does not forbid it otherwise, Exchange routes on it, and Outlook keeps it.
        if not self.options.mapi_http_disabled:
            headers["X-MapiHttpCapability"] = X_MAPIHTTP_CAPABILITY
        return headers

    def _attempt_from(
        self,
        *,
        url: str,
        source: Source,
        method: str,
        label: str,
        started: float,
        outcome: Outcome,
        detail: str | None,
        status: int | None = None,
        email: str | None = None,
        hop: int = 0,
        error: TransportError | None = None,
    ) -> Attempt:
        rec = self._trace_of(label)
        tls: str | None = None
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        if isinstance(error, TLSFailure):
            tls = f"failed: {error.reason}"
            if error.is_verification_failure and not self.cancel.is_set():
                # Say what the server presented (read without verification; nothing is sent).
                cert = peek_certificate(url, self.connection)
                if cert is not None:
                    detail = f"{detail}; {_describe_cert(cert)}"
        elif rec is not None and rec.tls_version:
            tls = f"{rec.tls_version} {rec.tls_cipher or ''}".strip()
        return Attempt(
            url=redact_url(url),
            source=source,
            method=method,
            outcome=outcome,
            detail=detail,
            resolved_address=rec.peer_address if rec is not None else None,
            tls=tls,
            http_status=status,
            elapsed_ms=elapsed,
            email=email,
            hop=hop,
        )

    def _client_or_fail(self) -> httpx.Client:
        assert self._client is not None
        return self._client

    def _post(
        self, url: str, email: str, source: Source, *, hop: int = 0, live: _Liveness | None = None
    ) -> _Exchange:
        """POST the Autodiscover request for ``email`` to ``url`` (which must be trusted); ``live`` (a
        candidate's) is told of the connection's progress."""
        label = f"autodiscover-{next(self._labels)}"
        started = time.perf_counter()

        def attempt(outcome: Outcome, detail: str | None, **kw: object) -> Attempt:
            return self._attempt_from(
                url=url,
                source=source,
                method="POST",
                label=label,
                started=started,
                outcome=outcome,
                detail=detail,
                email=email,
                hop=hop,
                **kw,  # type: ignore[arg-type]
            )

        try:
            body = build_request(email)
        except EncodeError as exc:
            return _Exchange(attempt(Outcome.UNSAFE, str(exc)))
        try:
            auth = self._credentials_for(url)
            with map_transport_errors(url):
                response = self._client_or_fail().post(
                    url,
                    content=body,
                    headers=self._headers(email),
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                    extensions=_extensions(label, live),
                )
        except TransportError as exc:
            outcome = _FAILURE_KIND.get(exc.kind, Outcome.CONNECT_FAILED)
            status = exc.status if isinstance(exc, AuthenticationFailed) else None
            return _Exchange(attempt(outcome, exc.message, error=exc, status=status))
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                return _Exchange(
                    attempt(Outcome.HTTP_ERROR, f"HTTP {status} without Location", status=status)
                )
            target = urljoin(url, location)
            return _Exchange(
                attempt(Outcome.HTTP_REDIRECT, f"Location: {redact_url(target)}", status=status),
                location=target,
            )
        if status == 401:
            offered = ", ".join(offered_schemes(response)) or "none"
            return _Exchange(
                attempt(
                    Outcome.AUTH_REQUIRED,
                    f"no credentials given; the server offers: {offered}",
                    status=status,
                )
            )
        if status != 200:
            reason = response.reason_phrase or ""
            return _Exchange(attempt(Outcome.HTTP_ERROR, f"HTTP {status} {reason}".strip(), status=status))
        try:
            parsed = parse_response(response.content)
        except AutodiscoverError as exc:
            ctype = response.headers.get("Content-Type", "no Content-Type")
            return _Exchange(
                attempt(Outcome.REJECTED_DOCUMENT, f"{exc.message} (Content-Type: {ctype})", status=status),
                rejected=True,
            )
        outcome = {
            "settings": Outcome.SETTINGS,
            "redirectAddr": Outcome.REDIRECT_ADDR,
            "redirectUrl": Outcome.REDIRECT_URL,
        }.get(parsed.action, Outcome.ERROR_RESPONSE)
        detail = None
        if parsed.error is not None:
            detail = (
                f"ErrorCode {parsed.error.code}: {parsed.error.message or parsed.error.meaning or ''}".strip()
            )
        elif parsed.redirect_addr and outcome is Outcome.REDIRECT_ADDR:
            detail = f"RedirectAddr {parsed.redirect_addr}"
        elif parsed.redirect_url and outcome is Outcome.REDIRECT_URL:
            detail = f"RedirectUrl {parsed.redirect_url}"
        att = attempt(outcome, detail, status=status)
        return _Exchange(att, _Answer(url, email, parsed, att))

    def _get(
        self, url: str, source: Source, label: str, live: _Liveness | None = None
    ) -> tuple[httpx.Response | None, TransportError | None]:
        """An unauthenticated GET (never with credentials)."""
        try:
            with map_transport_errors(url):
                response = self._client_or_fail().get(
                    url,
                    headers={"Accept": "application/json"},
                    extensions=_extensions(label, live),
                )
        except TransportError as exc:
            return None, exc
        return response, None

    # -- candidate workers (run in their own threads; they never call back into the user) ---------------

    def _work_post(self, slot: _Slot, email: str) -> _SlotResult:
        ex = self._post(slot.url, email, slot.source, live=slot.live)
        answer = ex.answer
        if ex.location is not None:
            answer = _http_redirect(slot.url, email, ex.location, ex.attempt)
        return _SlotResult([ex.attempt], answer, rejected=ex.rejected)

    def _work_srv(self, slot: _Slot, email: str, taken: list[str]) -> _SlotResult:
        result = _SlotResult()
        name = srv_name(self.domain)
        started = time.perf_counter()
        resolver = self._resolver or make_resolver(
            self.connection.dns_server, timeout=self.options.candidate_timeout
        )
        try:
            records = resolver.srv(name)
        except NameNotResolved as exc:
            result.attempts.append(
                Attempt(
                    name, Source.SRV, "SRV", Outcome.NAME_NOT_RESOLVED, exc.message, elapsed_ms=_ms(started)
                )
            )
            return result
        if not records:
            result.attempts.append(
                Attempt(
                    name,
                    Source.SRV,
                    "SRV",
                    Outcome.NO_CANDIDATE,
                    "no SRV record (not an error)",
                    elapsed_ms=_ms(started),
                )
            )
            return result
        rec = records[0]
        target = rec.target.lower().rstrip(".")
        url = f"https://{target}{'' if rec.port == 443 else f':{rec.port}'}{AUTODISCOVER_PATH}"
        listed = ", ".join(f"{r.target}:{r.port} (priority {r.priority}, weight {r.weight})" for r in records)
        if any(_same_url(url, t) for t in taken):
            result.attempts.append(
                Attempt(
                    name, Source.SRV, "SRV", Outcome.DUPLICATE, f"{listed} -> {url}", elapsed_ms=_ms(started)
                )
            )
            return result
        result.attempts.append(
            Attempt(name, Source.SRV, "SRV", Outcome.CANDIDATE, f"{listed} -> {url}", elapsed_ms=_ms(started))
        )
        if self.cancel.is_set() or slot.stop.is_set():
            return result
        if not self._trusted(target):
            result.consent = ConsentRequest(
                Source.SRV.value,
                target,
                url,
                f"the DNS SRV record {name} points to {target}, a host not yet approved",
            )
            result.consent_source = Source.SRV
            return result
        ex = self._post(url, email, Source.SRV, live=slot.live)
        result.attempts.append(ex.attempt)
        result.answer, result.rejected = ex.answer, ex.rejected
        return result

    def _get_slot(self, slot: _Slot, source: Source, kind: str) -> _GetOutcome:
        """The unauthenticated GET of a v2 lookup or of the redirect probe, and how to record its attempt;
        a transport failure is already recorded (``response`` is then None)."""
        result = _SlotResult()
        label = f"{kind}-{next(self._labels)}"
        started = time.perf_counter()
        response, error = self._get(slot.url, source, label, slot.live)

        def attempt(outcome: Outcome, detail: str | None, **kw: object) -> Attempt:
            return self._attempt_from(
                url=slot.url,
                source=source,
                method="GET",
                label=label,
                started=started,
                outcome=outcome,
                detail=detail,
                **kw,  # type: ignore[arg-type]
            )

        if error is not None:
            result.attempts.append(
                attempt(_FAILURE_KIND.get(error.kind, Outcome.CONNECT_FAILED), error.message, error=error)
            )
            return _GetOutcome(result, attempt, None)
        assert response is not None
        return _GetOutcome(result, attempt, response)

    def _work_v2(self, slot: _Slot, email: str, taken: list[str]) -> _SlotResult:
        result, attempt, response = self._get_slot(slot, Source.AUTODISCOVER_V2, "autodiscover-v2")
        if response is None:
            return result
        url = _v2_url(response)
        if url is None:
            detail = _v2_error(response)
            result.attempts.append(attempt(Outcome.NO_CANDIDATE, detail, status=response.status_code))
            return result
        if not url.lower().startswith("https://"):
            result.attempts.append(
                attempt(
                    Outcome.UNSAFE, f"the v2 answer names a non-HTTPS URL {url}", status=response.status_code
                )
            )
            return result
        if any(_same_url(url, t) for t in taken):
            result.attempts.append(attempt(Outcome.DUPLICATE, f"-> {url}", status=response.status_code))
            return result
        result.attempts.append(attempt(Outcome.CANDIDATE, f"-> {url}", status=response.status_code))
        if self.cancel.is_set() or slot.stop.is_set():
            return result
        target = host_of(url)
        if not self._trusted(target):
            result.consent = ConsentRequest(
                Source.AUTODISCOVER_V2.value,
                target,
                url,
                f"Autodiscover v2 names {target} as the Autodiscover server",
            )
            result.consent_source = Source.AUTODISCOVER_V2
            return result
        ex = self._post(url, email, Source.AUTODISCOVER_V2, live=slot.live)
        result.attempts.append(ex.attempt)
        result.answer, result.rejected = ex.answer, ex.rejected
        return result

    def _work_probe(self, slot: _Slot, email: str, taken: list[str]) -> _SlotResult:
        """MS-OXDISCO 3.1.5.4: an unauthenticated GET over plain HTTP; a 302 Location is a candidate that
        needs the user's agreement."""
        result, attempt, response = self._get_slot(slot, Source.REDIRECT_PROBE, "redirect-probe")
        if response is None:
            return result
        status = response.status_code
        location = response.headers.get("Location")
        if status != 302 or not location:  # MS-OXDISCO 3.1.5.4 names 302 only
            detail = f"HTTP {status}, no 302 redirect" if status != 302 else "302 without Location"
            result.attempts.append(attempt(Outcome.NO_CANDIDATE, detail, status=status))
            return result
        url = urljoin(slot.url, location)
        if not url.lower().startswith("https://"):
            result.attempts.append(
                attempt(Outcome.UNSAFE, f"302 to {redact_url(url)}: not HTTPS, never used", status=status)
            )
            return result
        if any(_same_url(url, t) for t in taken):
            result.attempts.append(attempt(Outcome.DUPLICATE, f"302 to {redact_url(url)}", status=status))
            return result
        result.attempts.append(attempt(Outcome.CANDIDATE, f"302 to {redact_url(url)}", status=status))
        target = host_of(url)
        # The spec asks for the user's agreement for this URL whatever its host (MS-OXDISCO 3.1.5.4).
        result.consent = ConsentRequest(
            Source.REDIRECT_PROBE.value,
            target,
            url,
            f"http://autodiscover.{self.domain} (plain HTTP, unauthenticated) redirects to {redact_url(url)}",
        )
        result.consent_source = Source.REDIRECT_PROBE
        return result

    # -- the discovery ----------------------------------------------------------------------------------

    def _slots(self, domain: str, email: str) -> tuple[list[_Slot], list[str]]:
        timeout = self.options.candidate_timeout
        grace = 0.25
        slots: list[_Slot] = []
        for source, url in candidate_urls(domain):
            slots.append(_Slot(len(slots), source, url, timeout + grace))
        taken = [s.url for s in slots]
        if self.options.use_srv:
            slots.append(_Slot(len(slots), Source.SRV, srv_name(domain), 2 * timeout + grace))
        if self.options.use_v2:
            v2 = f"https://autodiscover.{domain}{V2_PATH}{quote(email, safe='@')}?Protocol=AutodiscoverV1"
            slots.append(_Slot(len(slots), Source.AUTODISCOVER_V2, v2, 2 * timeout + grace))
        if self.options.use_redirect_probe:
            probe = f"http://autodiscover.{domain}{AUTODISCOVER_PATH}"
            slots.append(_Slot(len(slots), Source.REDIRECT_PROBE, probe, timeout + grace))
        return slots, taken

    def _start(self, slots: list[_Slot], email: str, taken: list[str]) -> None:
        """Start a thread per slot, all released at the same moment: a thread started alone would run its
        request's set-up before the next one is even created, and delay it by as much."""
        gate = threading.Event()
        for slot in slots:
            self._start_one(slot, email, taken, gate)
        now = time.perf_counter()
        for slot in slots:
            slot.started = now
        gate.set()

    def _start_one(self, slot: _Slot, email: str, taken: list[str], gate: threading.Event) -> None:
        work: Callable[[], _SlotResult]
        if slot.source is Source.SRV:
            work = lambda: self._work_srv(slot, email, taken)  # noqa: E731
        elif slot.source is Source.AUTODISCOVER_V2:
            work = lambda: self._work_v2(slot, email, taken)  # noqa: E731
        elif slot.source is Source.REDIRECT_PROBE:
            work = lambda: self._work_probe(slot, email, taken)  # noqa: E731
        else:
            work = lambda: self._work_post(slot, email)  # noqa: E731
        events = self._events

        def run() -> None:
            gate.wait()
            try:
                result = work()
            except Exception as exc:  # a bug must not hang the coordinator
                result = _SlotResult(
                    [Attempt(slot.url, slot.source, "-", Outcome.CONNECT_FAILED, f"internal error: {exc!r}")]
                )
            slot.finished = time.perf_counter()
            events.put(("done", (slot, result)))

        slot.started = time.perf_counter()  # set again when the gate opens
        slot.thread = threading.Thread(target=run, name=f"autodiscover-{slot.source.value}", daemon=True)
        self._threads.append(slot.thread)
        slot.thread.start()

    def _discover(self, domain: str, email: str) -> tuple[_Answer | None, bool]:
        """Probe every candidate of ``domain`` concurrently. Returns (answer, any document rejected)."""
        slots, taken = self._slots(domain, email)
        try:
            return self._decide(slots, taken, domain, email)
        finally:
            # Workers still running start nothing new (no POST after a lookup) once the answer is known.
            for slot in slots:
                slot.stop.set()

    def _decide(
        self, slots: list[_Slot], taken: list[str], domain: str, email: str
    ) -> tuple[_Answer | None, bool]:
        self._emit("candidates", f"{len(slots)} candidates for {domain}: " + ", ".join(s.url for s in slots))
        self._events = queue.Queue()
        primary = [s for s in slots if s.source in (Source.ROOT_DOMAIN, Source.AUTODISCOVER_DOMAIN)]
        secondary = [s for s in slots if s not in primary]
        self._start(primary, email, taken)
        began = time.perf_counter()
        rejected = False
        error_answer: _Answer | None = None
        handled: set[int] = set()

        while True:
            if self.cancel.is_set():
                self._supersede(slots, handled, cancelled=True)
                return None, rejected
            now = time.perf_counter()
            # The lookups (SRV, v2, redirect probe) start a moment later, or as soon as both URLs built from
            # the domain have failed: they are rarely needed, and would only compete for the CPU meanwhile.
            # Never once a URL built from the domain has answered (a lookup could not win over it).
            if (
                secondary
                and not any(_usable(s.result) for s in primary)
                and (now - began >= SECONDARY_DELAY or all(s.result is not None for s in primary))
            ):
                self._start(secondary, email, taken)
                secondary = []
            # Candidates out of time are failed here (the thread itself ends within its own time limits).
            for slot in slots:
                if slot.result is None and slot.thread is not None and now - slot.started > slot.budget:
                    slot.result = _SlotResult(
                        [
                            Attempt(
                                slot.url,
                                slot.source,
                                "-",
                                Outcome.TIMEOUT,
                                f"no answer within {slot.budget:.1f} s",
                                elapsed_ms=_ms(slot.started),
                            )
                        ]
                    )
            # Decide, in priority order.
            decided = True
            for slot in slots:
                res = slot.result
                if res is None:
                    decided = False
                    break
                if slot.priority not in handled:
                    handled.add(slot.priority)
                    for att in res.attempts:
                        self._record(att)
                    rejected = rejected or res.rejected
                if res.answer is not None:
                    if res.answer.response.action == "error":
                        error_answer = error_answer or res.answer
                        continue
                    self._supersede(slots, handled)
                    return res.answer, rejected
                if res.consent is not None:
                    request, res.consent = res.consent, None
                    answer, rej = self._consented_post(
                        request, res.consent_source or slot.source, email, hop=0
                    )
                    rejected = rejected or rej
                    if answer is not None:
                        if answer.response.action == "error":
                            error_answer = error_answer or answer
                            continue
                        self._supersede(slots, handled)
                        return answer, rejected
            if decided:
                return error_answer, rejected
            if self._abandon(slots, time.perf_counter()):
                continue  # a pending candidate was given up: decide again at once
            try:
                kind, payload = self._events.get(timeout=0.05)
            except queue.Empty:
                continue
            if kind == "done":
                done_slot, done_result = cast(tuple[_Slot, _SlotResult], payload)
                if done_slot.result is None:
                    done_slot.result = done_result

    def _abandon(self, slots: list[_Slot], now: float) -> bool:
        """Give up pending higher-priority candidates once a lower-priority one has a usable answer: at once
        if their connection is not ready (no TLS handshake: a black hole, a host still connecting), else at
        the end of their grace period. Returns whether any was given up (its result is then set)."""
        pending: list[_Slot] = []
        winner: _Slot | None = None
        for slot in slots:
            res = slot.result
            if res is None:
                pending.append(slot)
            elif pending and _usable(res):
                winner = slot
                break
        if winner is None or winner.result is None or winner.result.answer is None:
            return False
        took = (winner.finished or now) - winner.started
        grace = max(GRACE_MIN, GRACE_FACTOR * took)
        who = f"{redact_url(winner.result.answer.url)} answered in {took * 1000:.0f} ms"
        gave_up = False
        for slot in pending:
            live = slot.live
            waited = (now - slot.started) * 1000
            handshake = "connection" if slot.url.startswith("http://") else "TLS handshake"
            if slot.grace_until is None and live.ready_at is not None:
                # Its own time limit still applies (see _decide): whichever comes first.
                slot.grace, slot.grace_until = grace, now + grace
                continue
            if slot.grace_until is None:
                how = "no TCP connection yet"
                if live.connected_at is not None:
                    how = f"TCP connected to {live.peer or '?'}"
                detail = f"no {handshake} after {waited:.0f} ms ({how}) while {who}"
            elif now >= slot.grace_until:
                detail = (
                    f"{handshake} done, but no answer after {waited:.0f} ms "
                    f"(grace period {slot.grace:.1f} s) while {who}"
                )
            else:
                continue
            slot.result = _SlotResult(
                [
                    Attempt(
                        slot.url,
                        slot.source,
                        _METHOD.get(slot.source, "POST"),
                        Outcome.ABANDONED,
                        detail,
                        resolved_address=live.peer,
                        elapsed_ms=round(waited, 1),
                    )
                ]
            )
            gave_up = True
        return gave_up

    def _supersede(self, slots: list[_Slot], handled: set[int], *, cancelled: bool = False) -> None:
        """Close the slots not handled yet: finished ones report what they did (nothing more is done for
        them), unfinished ones are reported as superseded (or cancelled)."""
        for slot in slots:
            if slot.priority in handled:
                continue
            handled.add(slot.priority)
            if slot.result is not None and not cancelled:
                for att in slot.result.attempts:
                    self._record(att)
                continue
            outcome = Outcome.CANCELLED if cancelled else Outcome.SUPERSEDED
            if slot.thread is None:
                detail = "cancelled before it started" if cancelled else "not needed: an answer came first"
                self._record(Attempt(slot.url, slot.source, "-", outcome, detail))
                continue
            detail = "cancelled" if cancelled else "not waited for: a higher-priority candidate answered"
            self._record(Attempt(slot.url, slot.source, "-", outcome, detail, elapsed_ms=_ms(slot.started)))

    def _consented_post(
        self, request: ConsentRequest, source: Source, email: str, *, hop: int
    ) -> tuple[_Answer | None, bool]:
        how = self._ask(request)
        if how is None:
            self._record(
                Attempt(
                    redact_url(request.target),
                    source,
                    "-",
                    Outcome.CONSENT_REFUSED,
                    f"not approved: {request.reason} (use --allow-redirect {request.host})",
                    hop=hop,
                )
            )
            return None, False
        if self.cancel.is_set():
            return None, False
        ex = self._post(request.target, email, source, hop=hop)
        self._record(ex.attempt)
        return ex.answer, ex.rejected

    # -- redirects --------------------------------------------------------------------------------------

    def _follow(self, answer: _Answer) -> tuple[_Answer, Problem | None]:
        """Follow redirectAddr / redirectUrl / HTTP 302 answers from ``answer`` (MS-OXDSCLI 3.1.5)."""
        seen = {(answer.url.lower(), answer.email.lower())}
        hops = 0
        current = answer
        while True:
            resp = current.response
            if resp.action not in ("redirectAddr", "redirectUrl"):
                return current, None
            if hops >= self.options.max_redirects:
                return current, Problem(
                    "too-many-redirects",
                    f"stopped after {hops} redirects (limit {self.options.max_redirects})",
                )
            if self.cancel.is_set():
                return current, Problem("cancelled", "cancelled")
            hops += 1
            if resp.action == "redirectUrl":
                target = resp.redirect_url or ""
                kind = "http-302" if current.http_redirect else "redirectUrl"
                nxt, problem = self._redirect_url(current, target, kind, hops, seen)
            else:
                nxt, problem = self._redirect_addr(current, resp.redirect_addr or "", hops, seen)
            if problem is not None or nxt is None:
                return current, problem or Problem("redirect-failed", "the redirect target gave no answer")
            current = nxt

    def _check_loop(self, url: str, email: str, seen: set[tuple[str, str]]) -> Problem | None:
        key = (url.lower(), email.lower())
        if key in seen:
            return Problem("redirect-loop", f"redirect loop: {redact_url(url)} for {email} was asked before")
        seen.add(key)
        return None

    def _redirect_url(
        self, current: _Answer, target: str, kind: str, hop: int, seen: set[tuple[str, str]]
    ) -> tuple[_Answer | None, Problem | None]:
        target = urljoin(current.url, target)
        if not target.lower().startswith("https://"):
            self._record(
                Attempt(
                    redact_url(target),
                    Source(kind),
                    "-",
                    Outcome.UNSAFE,
                    "redirect to a non-HTTPS URL",
                    hop=hop,
                )
            )
            return None, Problem(
                "unsafe-redirect", f"{kind} to {redact_url(target)} is not HTTPS; not followed"
            )
        loop = self._check_loop(target, current.email, seen)
        if loop is not None:
            return None, loop
        host = host_of(target)
        approved_by: str | None = None
        trust = self._trust(host)
        if host != host_of(current.url) and trust in ("allow-list", "user"):
            approved_by = trust
        elif host != host_of(current.url) and trust is None:
            approved_by = self._ask(
                ConsentRequest(
                    kind, host, target, f"{host_of(current.url)} redirects ({kind}) to {redact_url(target)}"
                )
            )
            if approved_by is None:
                self._record(
                    Attempt(
                        redact_url(target),
                        Source(kind),
                        "-",
                        Outcome.CONSENT_REFUSED,
                        f"redirect to {host} not approved (use --allow-redirect {host})",
                        hop=hop,
                    )
                )
                return None, Problem(
                    "consent-refused",
                    f"{kind} to {host} was not approved; rerun with --allow-redirect {host}",
                )
        self._redirects.append(Redirect(kind, redact_url(current.url), redact_url(target), approved_by))
        self._emit("redirect", f"{kind}: {redact_url(current.url)} -> {redact_url(target)}")
        source = Source.HTTP_302 if kind == "http-302" else Source.REDIRECT_URL
        ex = self._post(target, current.email, source, hop=hop)
        self._record(ex.attempt)
        if ex.location is not None:
            # A 302 answer to the POST (MS-OXDSCLI 3.2.5) is one more hop.
            return self._redirect_url(
                _http_redirect(target, current.email, ex.location, ex.attempt),
                ex.location,
                "http-302",
                hop,
                seen,
            )
        if ex.answer is None:
            if ex.rejected:
                return None, Problem("rejected-document", f"{redact_url(target)}: {ex.attempt.detail}")
            return None, Problem(ex.attempt.outcome.value, f"{redact_url(target)}: {ex.attempt.detail}")
        return ex.answer, None

    def _redirect_addr(
        self, current: _Answer, address: str, hop: int, seen: set[tuple[str, str]]
    ) -> tuple[_Answer | None, Problem | None]:
        try:
            _, new_domain = split_address(address)
        except UsageError:
            return None, Problem("bad-redirect", f"RedirectAddr {address!r} is not an email address")
        old_domain = current.email.rpartition("@")[2].lower()
        if new_domain == old_domain:
            # Same domain: ask the same server again for the new address.
            loop = self._check_loop(current.url, address, seen)
            if loop is not None:
                return None, loop
            self._redirects.append(Redirect("redirectAddr", redact_url(current.url), address, None))
            self._emit("redirect", f"redirectAddr: {current.email} -> {address}")
            ex = self._post(current.url, address, Source.REDIRECT_ADDR, hop=hop)
            self._record(ex.attempt)
            if ex.answer is None:
                return None, Problem(
                    ex.attempt.outcome.value, f"{redact_url(current.url)}: {ex.attempt.detail}"
                )
            return ex.answer, None
        # Another domain: the user must agree before credentials go to its servers; then discovery starts
        # again for the new address (MS-OXDSCLI 3.1.5).
        approved_by = self._ask(
            ConsentRequest(
                Source.REDIRECT_ADDR.value,
                new_domain,
                address,
                f"{host_of(current.url)} redirects {current.email} to {address} (domain {new_domain})",
            )
        )
        if approved_by is None:
            self._record(
                Attempt(
                    address,
                    Source.REDIRECT_ADDR,
                    "-",
                    Outcome.CONSENT_REFUSED,
                    f"redirect to domain {new_domain} not approved (use --allow-redirect {new_domain})",
                    hop=hop,
                )
            )
            return None, Problem(
                "consent-refused",
                f"redirectAddr to {address} was not approved; rerun with --allow-redirect {new_domain}",
            )
        with self._lock:
            self._approved.update({new_domain, f"autodiscover.{new_domain}"})
        self._redirects.append(Redirect("redirectAddr", redact_url(current.url), address, approved_by))
        self._emit("redirect", f"redirectAddr: {current.email} -> {address}; discovery for {new_domain}")
        answer, rejected = self._discover(new_domain, address)
        if answer is None:
            code = "rejected-document" if rejected else "no-autodiscover"
            return None, Problem(code, f"no Autodiscover answer for {address} in {new_domain}")
        loop = self._check_loop(answer.url, answer.email, seen)
        if loop is not None:
            return None, loop
        return answer, None

    # -- entry point ------------------------------------------------------------------------------------

    def run(self) -> DiscoveryResult:
        """Discover (or ask ``options.url``), follow redirects, and return what was found."""
        self._emit("start", f"Autodiscover for {self.email}")
        client = self._client = make_client(self.connection, trace=self.trace)
        try:
            return self._run()
        finally:
            self._close_later(client)

    def _close_later(self, client: httpx.Client) -> None:
        """Close the client once no candidate thread uses it any more, without waiting here: a superseded
        candidate may still be in flight (it ends within its own time limit)."""
        live = [t for t in self._threads if t.is_alive()]
        if not live:
            client.close()
            return

        def close_when_idle() -> None:
            for thread in live:
                thread.join()
            client.close()

        threading.Thread(target=close_when_idle, name="autodiscover-closer", daemon=True).start()

    def _run(self) -> DiscoveryResult:
        rejected = False
        if self.options.url:
            url = self.options.url
            ex = self._post(url, self.email, Source.GIVEN_URL)
            self._record(ex.attempt)
            answer, rejected = ex.answer, ex.rejected
            if ex.location is not None:  # an HTTP 302 to the POST: follow it like a redirectUrl
                answer = _http_redirect(url, self.email, ex.location, ex.attempt)
        else:
            answer, rejected = self._discover(self.domain, self.email)
        if self.cancel.is_set():
            return self._result(answer, Problem("cancelled", "cancelled by the user"), cancelled=True)
        if answer is None:
            if rejected:
                return self._result(
                    None,
                    Problem(
                        "rejected-document", "a server answered with a document that is not Autodiscover XML"
                    ),
                )
            return self._result(None, _no_answer_problem(self._attempts))
        final, problem = self._follow(answer)
        if self.cancel.is_set():
            return self._result(final, Problem("cancelled", "cancelled by the user"), cancelled=True)
        return self._result(final, problem)

    def _result(
        self, answer: _Answer | None, problem: Problem | None, *, cancelled: bool = False
    ) -> DiscoveryResult:
        raw = answer.response if answer is not None and not answer.http_redirect else None
        used = raw
        if raw is not None and self.options.mapi_http_disabled and raw.mapi_http is not None:
            # Outlook with MapiHttpDisabled never reads the block; report that the server sent it anyway.
            used = replace(raw, mapi_http=None)
            self._findings.append(
                Finding(
                    "server-ignores-mapihttp-capability",
                    "warning",
                    "server ignores X-MapiHttpCapability: it sent a mapiHttp Protocol block although the "
                    "request did not carry the header (MS-OXDSCLI 3.1.4); the block was ignored",
                )
            )
        if raw is not None and raw.action == "error" and problem is None and raw.error is not None:
            problem = Problem(f"autodiscover-{raw.error.code}", raw.error.message or raw.error.meaning or "")
        if self.connection.insecure:
            self._findings.append(
                Finding("insecure", "warning", "TLS certificate verification was off (--insecure)")
            )
        self._emit("done", "done")
        return DiscoveryResult(
            email=self.email,
            final_email=answer.email if answer is not None else self.email,
            response=used,
            raw_response=raw,
            url=redact_url(answer.url) if answer is not None else None,
            attempts=tuple(self._attempts),
            redirects=tuple(self._redirects),
            findings=tuple(self._findings),
            problem=problem,
            mapi_http_disabled=self.options.mapi_http_disabled,
            cancelled=cancelled,
            source="url" if self.options.url else "discovery",
        )


def _describe_cert(cert: PeerCertificate) -> str:
    names = ", ".join(cert.subject_alt_names[:6]) or "none"
    if len(cert.subject_alt_names) > 6:
        names += ", ..."
    return (
        f"the server presented {cert.subject} (names: {names}), issued by {cert.issuer}"
        f"{' (self-signed)' if cert.self_signed else ''}, valid {cert.not_before:%Y-%m-%d} to "
        f"{cert.not_after:%Y-%m-%d}"
    )


def _extensions(label: str, live: _Liveness | None) -> dict[str, Any]:
    """Request extensions: the trace label, and httpcore's trace hook for a candidate's signs of life
    (the tracing transport calls it after its own)."""
    if live is None:
        return {"mapiprobe.label": label}
    return {"mapiprobe.label": label, "trace": live.on_event}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _v2_url(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return None
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeError):
        return None
    if not isinstance(data, dict):
        return None
    url = data.get("Url")
    return url if isinstance(url, str) and url else None


def _v2_error(response: httpx.Response) -> str:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeError):
        data = None
    if isinstance(data, dict) and "ErrorCode" in data:
        return f"HTTP {response.status_code}: {data.get('ErrorCode')}: {data.get('ErrorMessage', '')}".strip()
    return f"HTTP {response.status_code}: no Autodiscover v2 answer"


_METHOD = {Source.SRV: "SRV", Source.AUTODISCOVER_V2: "GET", Source.REDIRECT_PROBE: "GET"}  # else POST


def _usable(result: _SlotResult | None) -> bool:
    """A candidate's answer that would be taken (an error answer is kept only as a last resort)."""
    return result is not None and result.answer is not None and result.answer.response.action != "error"


_FAILURE_ORDER = (
    Outcome.AUTH_FAILED,
    Outcome.AUTH_REQUIRED,
    Outcome.TLS_FAILED,
    Outcome.CONSENT_REFUSED,
    Outcome.HTTP_ERROR,
    Outcome.TIMEOUT,
    Outcome.CONNECTION_LOST,
    Outcome.CONNECT_FAILED,
    Outcome.NAME_NOT_RESOLVED,
)


def _no_answer_problem(attempts: list[Attempt]) -> Problem:
    """The most telling reason why no candidate answered (auth and TLS first: they need action)."""
    for outcome in _FAILURE_ORDER:
        hit = next((a for a in attempts if a.outcome is outcome), None)
        if hit is not None:
            code = {Outcome.AUTH_REQUIRED: "auth-required"}.get(outcome, outcome.value)
            return Problem(code, f"no Autodiscover answer; {hit.url}: {hit.detail or outcome.value}")
    return Problem("no-autodiscover", "no Autodiscover candidate answered")


def discover(email: str, **kwargs: object) -> DiscoveryResult:
    """Shortcut: ``AutodiscoverSession(email, **kwargs).run()``."""
    return AutodiscoverSession(email, **kwargs).run()  # type: ignore[arg-type]


__all__ = [
    "AUTODISCOVER_PATH",
    "MAX_REDIRECTS",
    "Attempt",
    "AutodiscoverSession",
    "ConsentCallback",
    "ConsentRequest",
    "DiscoveryOptions",
    "DiscoveryResult",
    "Finding",
    "Outcome",
    "Problem",
    "ProgressCallback",
    "ProgressEvent",
    "Redirect",
    "Source",
    "UsageError",
    "candidate_urls",
    "discover",
    "protocol_of",
    "split_address",
    "srv_name",
]
