"""The work on one Autodiscover candidate: trust, reporting, the HTTP exchange, one worker per method
(POST, SRV, v2 GET, redirect probe). :class:`~.session.AutodiscoverSession` adds the discovery itself."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import httpx

from mapiprobe.protocol.autodiscover import AutodiscoverResponse, build_request, parse_response
from mapiprobe.protocol.errors import AutodiscoverError, EncodeError
from mapiprobe.session.autodiscover.candidates import (
    AUTODISCOVER_PATH,
    X_MAPIHTTP_CAPABILITY,
    Source,
    UsageError,
    _same_url,
    host_of,
    split_address,
    srv_name,
)
from mapiprobe.session.autodiscover.results import (
    _FAILURE_KIND,
    Attempt,
    ConsentCallback,
    ConsentRequest,
    DiscoveryOptions,
    Finding,
    Outcome,
    ProgressCallback,
    ProgressEvent,
    Redirect,
)
from mapiprobe.transport.auth import Credentials, Secret, make_auth, offered_schemes
from mapiprobe.transport.client import ConnectionOptions
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


class CandidateWork:
    """One Autodiscover run's state and the work on each candidate (the base of the session)."""

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
