"""What an Autodiscover run reports: attempts, redirects, findings, problems, progress and the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.session.autodiscover.candidates import MAX_REDIRECTS, Source


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
