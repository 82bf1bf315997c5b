"""The vocabulary of a diagnosis: step ids in running order, statuses, steps, events, and the known causes.

A :class:`Step` is one check of one target (``(id, target)`` is unique in a run): its status, how long it
took, what it sent and saw (:class:`Evidence`, already redacted), and for ``warn`` and ``fail`` a ``cause``
and a ``remedy`` in plain words. Known causes have a stable ``cause_code`` and their words in
:data:`CAUSES`, so that the scenario catalogue, the report and scripts can rely on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"
    RUNNING = "running"


# Step ids in the order they run (per host, dns/tcp/tls/proxy come as soon as the host is known).
STEP_TITLES: dict[str, str] = {
    "dns": "Name resolution",
    "tcp": "TCP connection",
    "tls": "TLS certificate",
    "proxy": "Proxy",
    "autodiscover": "Autodiscover",
    "mapi-http": "MAPI over HTTP offered",
    "reachability": "Endpoint reachable from here",
    "probe": "Anonymous probe (schemes offered)",
    "rpc-http": "RPC/HTTP connection (Outlook Anywhere)",
    "mailbox-connect": "Mailbox Connect",
    "logon": "Mailbox logon",
    "folders": "Folder tree",
    "ab-bind": "Address book Bind",
    "resolve": "Resolve the user's own address",
    "ping": "Session keep-alive (PING)",
    "disconnect": "Disconnect",
}
STEP_IDS: tuple[str, ...] = tuple(STEP_TITLES)


@dataclass(frozen=True)
class Evidence:
    """One thing sent or seen (``text`` is redacted: no password, token, blob, cookie value)."""

    label: str
    text: str


@dataclass(frozen=True)
class Step:
    id: str
    target: str
    status: Status
    summary: str = ""
    elapsed_ms: float = 0.0
    cause: str | None = None
    remedy: str | None = None
    cause_code: str | None = None
    evidence: tuple[Evidence, ...] = ()
    started_at: float = 0.0  # wall clock
    seqs: tuple[int, ...] = field(default=(), repr=False)  # trace records of this step

    @property
    def title(self) -> str:
        return STEP_TITLES.get(self.id, self.id)

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.target)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "target": self.target,
            "status": str(self.status),
            "summary": self.summary,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "cause_code": self.cause_code,
            "cause": self.cause,
            "remedy": self.remedy,
            "evidence": [{"label": e.label, "text": e.text} for e in self.evidence],
            "trace_seqs": list(self.seqs),
        }


@dataclass(frozen=True)
class StepEvent:
    """Progress of a run: ``started`` (status RUNNING) and ``finished`` for each step, in order per thread."""

    kind: str  # "started" or "finished"
    step: Step


EventCallback = Callable[[StepEvent], None]


@dataclass(frozen=True)
class Cause:
    code: str
    cause: str
    remedy: str


def _c(code: str, cause: str, remedy: str) -> tuple[str, Cause]:
    return code, Cause(code, cause, remedy)


CAUSES: dict[str, Cause] = dict(
    [
        _c(
            "dns-not-found",
            "the name {host} does not resolve ({detail})",
            "Create the DNS record for {host} (an A/AAAA or CNAME record), or check this computer's DNS "
            "servers and suffix.",
        ),
        _c(
            "tcp-refused",
            "nothing accepts connections on {host}:{port} from here ({detail})",
            "Check that the server or load balancer listens on port {port} and that no firewall between "
            "this computer and it drops the port.",
        ),
        _c(
            "tcp-timeout",
            "connecting to {host}:{port} timed out ({detail}): a firewall drops the packets or the "
            "host is down",
            "Open port {port} towards {host} in the firewalls on the way, or fix the address the "
            "name points to.",
        ),
        _c(
            "candidate-never-answers",
            "{host}:{port} accepts the connection but never answers ({detail}); Outlook tries this "
            "Autodiscover "
            "candidate first and pays its whole timeout on it before moving on",
            "Make {host} answer on port {port} (or refuse it quickly), or point the name elsewhere; Outlook "
            "users can set ExcludeHttpsRootDomain=1 as a workaround.",
        ),
        _c(
            "cert-name-mismatch",
            "the certificate of {host} does not name {host} (it names: {names}); Outlook shows its "
            'certificate warning ("The name on the security certificate is invalid or does not match the '
            'name of the site") for every URL on this host',
            "Install a certificate whose subject alternative names include {host} (and every Exchange URL "
            "name), e.g. with Enable-ExchangeCertificate on the servers or on the load balancer.",
        ),
        _c(
            "cert-expired",
            "the certificate of {host} expired on {not_after}; Outlook shows a certificate warning and "
            "refuses to connect silently",
            "Renew the certificate of {host} and install it on every server or load balancer that "
            "presents it.",
        ),
        _c(
            "cert-expires-soon",
            "the certificate of {host} expires in {days} days ({not_after})",
            "Renew the certificate of {host} before it expires.",
        ),
        _c(
            "cert-missing-intermediate",
            "{host} sends its certificate without the intermediate CA certificate above it ({detail}); "
            "clients that do not already hold that intermediate cannot build the chain",
            "Install the intermediate CA certificate on the server (or load balancer) so that it sends the "
            "whole chain.",
        ),
        _c(
            "cert-untrusted",
            "the certificate of {host} is not trusted here ({detail})",
            "Use a certificate from a CA this computer trusts, or deploy the issuing CA to the clients.",
        ),
        _c(
            "tls-failed",
            "no TLS session with {host}:{port} ({detail})",
            "Check that {host}:{port} speaks TLS 1.2 or later with a certificate and cipher suites Windows "
            "accepts.",
        ),
        _c(
            "proxy-intercepts",
            "the proxy {proxy} intercepts TLS: through it {host} presents a certificate issued by "
            '"{issuer}" instead of its own{direct}',
            "Exempt the Exchange names ({host}) from TLS inspection on the proxy (or bypass the proxy for "
            "them); MAPI/HTTP with NTLM/Negotiate and long-running requests break through TLS inspection.",
        ),
        _c(
            "proxy-refused",
            "the proxy {proxy} did not open a tunnel to {host}:{port} ({detail})",
            "Allow CONNECT to {host}:{port} on the proxy, or bypass the proxy for the Exchange names.",
        ),
        _c(
            "autodiscover-html",
            "a front end answered Autodiscover with an HTML page (HTTP 200) instead of Autodiscover XML: "
            "a reverse proxy or pre-authentication portal is in the way",
            "Publish /autodiscover/ on the reverse proxy without forms-based pre-authentication (pass "
            "Basic/NTLM/Negotiate through), or point the Autodiscover names at Exchange directly.",
        ),
        _c(
            "autodiscover-unknown-user",
            "Autodiscover does not know the address {email} ({detail})",
            "Check the address (a typo, or the mailbox lives in another organisation), and that the mailbox "
            "exists and has this primary SMTP address.",
        ),
        _c(
            "autodiscover-redirect-loop",
            "Autodiscover redirects in a loop ({detail})",
            "Fix the redirect on the Autodiscover servers (the ExternalUrl/InternalUrl of the Autodiscover "
            "virtual directory, or an HTTP redirect on the front end) so that it ends at one server.",
        ),
        _c(
            "autodiscover-redirect-consent",
            "Autodiscover redirects elsewhere and the redirect needs the user's consent ({detail}); Outlook "
            'asks "Allow this website to configure server settings?"',
            "Allow the redirect if the target is the organisation's own (here: --allow-redirect HOST), or "
            "publish Autodiscover under the user's own domain.",
        ),
        _c(
            "autodiscover-timeout",
            "no Autodiscover candidate answered in time ({detail})",
            "Look at the Autodiscover servers' load and their dependencies (domain controllers) and at what "
            "sits in front of them; Outlook gives up on such a server and keeps its old or no settings.",
        ),
        _c(
            "autodiscover-auth",
            "Autodiscover refused the credentials ({detail})",
            "Check the user name and password (or token), that the account is not locked, and that the "
            "Autodiscover virtual directory allows the scheme used.",
        ),
        _c(
            "autodiscover-failed",
            "Autodiscover found no settings for {email} ({detail})",
            "Check the DNS records autodiscover.<domain> or _autodiscover._tcp.<domain>, and that one "
            "candidate answers POST /autodiscover/autodiscover.xml.",
        ),
        _c(
            "server-stalls",
            '{what} took {seconds:.1f} s to answer: the server stalls (Outlook shows "Trying to connect..." '
            "meanwhile)",
            "Look at the server's load and its dependencies (domain controllers, the Autodiscover or "
            "mailbox database) while it answers slowly.",
        ),
        _c(
            "mapihttp-disabled-org",
            "the organisation answers only RPC/HTTP settings although this client asked for MAPI over HTTP "
            "(X-MapiHttpCapability sent): MAPI over HTTP is switched off organisation-wide",
            "Run Set-OrganizationConfig -MapiHttpEnabled $true (and check Get-CASMailbox "
            "-MapiHttpEnabled for "
            "the user) on Exchange; Outlook picks it up at its next Autodiscover.",
        ),
        _c(
            "mapihttp-disabled-client",
            "MAPI over HTTP was not asked for: the MapiHttpDisabled emulation kept the X-MapiHttpCapability "
            "header off, so the answer carries RPC/HTTP settings only",
            "Remove the MapiHttpDisabled registry value (HKCU\\Software\\Microsoft\\Exchange) on the user's "
            "computer if Outlook should use MAPI over HTTP.",
        ),
        _c(
            "mapihttp-disabled-registry",
            "the organisation offers MAPI over HTTP, but this computer's Outlook has MapiHttpDisabled = "
            "{value} (HKCU\\Software\\Microsoft\\Exchange): it leaves X-MapiHttpCapability off and "
            "connects with RPC/HTTP",
            "Delete the MapiHttpDisabled value (or set it to 0) and restart Outlook; run the check with "
            "--mapi-http-disabled to see what Outlook does meanwhile.",
        ),
        _c(
            "server-ignores-header",
            "the server sent MAPI/HTTP settings although the request did not carry X-MapiHttpCapability "
            "(it ignores the header, MS-OXDSCLI 3.1.4)",
            "Nothing to do for Outlook with MAPI/HTTP enabled; clients with MapiHttpDisabled may be steered "
            "to MAPI/HTTP anyway by this server.",
        ),
        _c(
            "no-mapihttp",
            "Autodiscover offered no MAPI/HTTP settings ({detail})",
            "Enable MAPI over HTTP (Set-OrganizationConfig -MapiHttpEnabled $true) and check the "
            "MapiVirtualDirectory's InternalUrl/ExternalUrl.",
        ),
        _c(
            "endpoint-unreachable",
            "the {role} URL {url} is not reachable from here ({detail})",
            "From this network Outlook needs the {role} URL; publish it (external URL) or connect from the "
            "internal network / VPN.",
        ),
        _c(
            "only-basic",
            "the {role} endpoint offers only Basic authentication (WWW-Authenticate: {offered}); Outlook "
            "with modern authentication or Basic disabled cannot log on",
            "Enable NTLM/Negotiate (Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm,Negotiate) or "
            "OAuth on the {role} endpoint.",
        ),
        _c(
            "front-end-html",
            "a front end answers the {role} endpoint with an HTML page (HTTP {http_status}) instead of "
            "asking for credentials: a reverse proxy or login portal is in the way",
            "Publish /mapi/ (and /rpc/) on the reverse proxy without forms-based pre-authentication, passing "
            "NTLM/Negotiate or OAuth through to Exchange.",
        ),
        _c(
            "front-end-unavailable",
            "a front end answers the {role} endpoint with HTTP {http_status} ({detail})",
            "Check the load balancer's pool and health checks for /mapi/ and the "
            "MSExchangeMapiFrontEndAppPool "
            "on the servers.",
        ),
        _c(
            "auth-refused",
            "the {role} endpoint refused the credentials ({detail})",
            "Check the user name and password (or token), that the account is not locked, and the "
            "authentication methods of the {role} virtual directory.",
        ),
        _c(
            "auth-refused-one-endpoint",
            "the address book endpoint refused the credentials that the mailbox endpoint accepted ({detail})",
            "Compare the authentication settings of /mapi/nspi/ with /mapi/emsmdb/ "
            "(IISAuthenticationMethods, "
            "per-vdir restrictions, the account's address book policy).",
        ),
        _c(
            "mailbox-moved",
            "the mailbox has moved: RopLogon answered ecWrongServer and a new Autodiscover gave {detail}",
            "Nothing to fix if the move is finished (Outlook follows it after a restart); if it recurs, the "
            "mailbox move or the Autodiscover cache is stuck.",
        ),
        _c(
            "lb-cut",
            "the connection was cut after {seconds:.1f} s while the server was still working (PENDING "
            "keep-alives were flowing): a load balancer or proxy ends long requests",
            "Raise the idle/request timeout of the load balancer or proxy for /mapi/ (Exchange holds "
            "requests open for minutes; Microsoft recommends at least 20 minutes).",
        ),
        _c(
            "context-expires-early",
            "the server forgot the session context after {idle:.1f} s idle although it announced {announced} "
            "(X-ExpirationInfo): something between drops affinity or recycles the application pool",
            "Check the load balancer's session affinity and idle timeout for /mapi/, and the "
            "application pool "
            "recycling on the mailbox servers.",
        ),
        _c(
            "context-short",
            "the server keeps a session context only {seconds:.1f} s without a request (X-ExpirationInfo); "
            "clients must PING very often",
            "Check the MAPI/HTTP idle time-out settings of the server or the proxy in front.",
        ),
        _c(
            "rpc-server-refused",
            "the RPC proxy refuses to connect to the RPC server ({detail})",
            "Check the RPC server name Autodiscover gives (EXCH Server / the mailbox GUID) and the "
            "RPC proxy's "
            "ValidPorts and Outlook Anywhere InternalHostname; the proxy must be allowed to reach it on port "
            "6001.",
        ),
        _c(
            "rpc-channel-cut",
            "the RPC/HTTP {channel} channel was closed in the middle of an answer ({detail}): a load "
            "balancer "
            "or proxy ends the long-lived RPC_IN_DATA/RPC_OUT_DATA requests",
            "Raise the idle and request timeouts for /rpc/ on the load balancer or proxy, and let the 1 GB "
            "RPC_IN_DATA/RPC_OUT_DATA requests through unbuffered.",
        ),
        _c(
            "rpc-auth-none",
            "the RPC server refused RPC-level authentication (the bind with NTLM at packet privacy was "
            "answered with bind_nak); the session works only without it",
            "Outlook authenticates at the RPC level against Exchange; check the RPC server's authentication "
            "settings (some non-Microsoft servers accept only unauthenticated RPC binds).",
        ),
        _c(
            "connection-lost",
            "the connection to the {role} endpoint broke ({detail})",
            "Check the load balancer and proxies between this computer and the {role} endpoint.",
        ),
        _c(
            "mapihttp-error",
            "the {role} endpoint answered X-ResponseCode {detail}",
            "See MS-OXCMAPIHTTP 2.2.3.3.3 for the code; check the server's MAPI/HTTP logs.",
        ),
        _c(
            "request-failed",
            "the {role} request failed ({detail})",
            "Look at the evidence and the trace of this step.",
        ),
        _c(
            "not-resolved",
            "the address book does not resolve {email} ({detail})",
            "Check that the mailbox is in the address book (not hidden) and that its address is {email}.",
        ),
        _c(
            "disconnect-failed",
            "the session did not end cleanly ({detail})",
            "Usually harmless; if it recurs the server is not releasing sessions.",
        ),
    ]
)


def cause_words(code: str, **facts: object) -> tuple[str, str]:
    """The cause and remedy of ``code`` with ``facts`` filled in (a missing fact shows as ``?``)."""
    cause = CAUSES[code]

    class _Default(dict[str, object]):
        def __missing__(self, key: str) -> object:
            return "?"

    values = _Default(facts)
    return cause.cause.format_map(values), cause.remedy.format_map(values)


__all__ = [
    "CAUSES",
    "STEP_IDS",
    "STEP_TITLES",
    "Cause",
    "EventCallback",
    "Evidence",
    "Status",
    "Step",
    "StepEvent",
    "cause_words",
]
