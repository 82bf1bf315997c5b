"""The anonymous probe and the certificate report (``mapiprobe probe EMAIL|URL``).

For every endpoint URL (the Autodiscover candidates of the address's domain, and, when Autodiscover can
run with credentials, the mailbox and address book endpoints, internal and external), one request **without
credentials** shows what a client meets before it logs on: the HTTP status, the schemes the server offers
in ``WWW-Authenticate`` (MAPI/HTTP requires authentication, MS-OXCMAPIHTTP 2.1, and leaves the scheme to
the deployment) and the headers that name the front end and the back end (``X-FEServer``, ``X-BEServer``,
``request-id``, ``X-ServerApplication``... when present).

For every host, :func:`~mapiprobe.transport.tls.inspect_tls` reports the certificate: subject, names,
issuer, validity, key, signature algorithm, the chain as the server sent it, the host name check, days
to expiry, TLS version and cipher, and the verdict of a verifying handshake with its reason.

Where an endpoint offers Negotiate: :func:`~mapiprobe.transport.auth.check_kerberos` asks the KDC for a
ticket to ``HTTP/<host>`` (a missing SPN is named), and with credentials one authenticated exchange shows
which mechanism Negotiate really used (Kerberos or NTLM). Nothing else is sent with credentials.

Requests are plain POSTs with an empty body (what Outlook's first, anonymous request looks like to a
front end); a server that answers them without asking for credentials is reported (``anonymous_allowed``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from mapiprobe.session.autodiscover import DiscoveryOptions
from mapiprobe.transport.auth import (
    Credentials,
    KerberosCheck,
    NegotiateAuth,
    auth_outcomes,
    check_kerberos,
    endpoint_of,
    kerberos_available,
    offered_schemes,
)
from mapiprobe.transport.client import ConnectionOptions, make_client
from mapiprobe.transport.errors import AuthenticationFailed, TransportError, map_transport_errors, redact_url
from mapiprobe.transport.tls import TLSReport, inspect_tls
from mapiprobe.transport.trace import Trace

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
FRONT_END_HEADERS = (
    "X-FEServer",
    "X-BEServer",
    "request-id",
    "X-ServerApplication",
    "X-CalculatedBETarget",
    "X-DiagInfo",
    "X-Powered-By",
    "Server",
)


class ProbeUsageError(ValueError):
    """The target is neither an email address nor an https:// URL."""


@dataclass(frozen=True)
class NegotiateCheck:
    """What Negotiate does at one endpoint."""

    kerberos: KerberosCheck | None = None  # can a ticket for HTTP/<host> be had? (None: not checked)
    mechanism: str | None = None  # what an authenticated exchange really used: "kerberos" or "ntlm"
    authenticated: bool | None = None  # None: not tried (no credentials)
    detail: str | None = None


@dataclass(frozen=True)
class EndpointProbe:
    """One unauthenticated request and what it showed."""

    role: str  # "autodiscover (autodiscover.<domain>)", "mailbox (external)", "address book (internal)"...
    url: str
    status: int | None = None
    offered: tuple[str, ...] = ()
    realm: str | None = None
    front_end: tuple[tuple[str, str], ...] = ()
    elapsed_ms: float | None = None
    error: str | None = None
    error_kind: str | None = None
    negotiate: NegotiateCheck | None = None

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def anonymous_allowed(self) -> bool:
        """The server answered without asking for credentials (a MAPI/HTTP endpoint never should)."""
        return self.status is not None and self.status != 401 and 200 <= self.status < 300


@dataclass(frozen=True)
class ProbeReport:
    target: str
    endpoints: tuple[EndpointProbe, ...]
    certificates: tuple[TLSReport, ...]
    insecure: bool = False
    discovery: str | None = None  # how the MAPI/HTTP URLs were found, or why they were not
    notes: tuple[str, ...] = ()
    rpc_http_only: bool = False  # Autodiscover offered only RPC/HTTP (which the probe cannot use yet)

    def certificate_for(self, host: str) -> TLSReport | None:
        return next((c for c in self.certificates if c.host == host.lower()), None)


ProgressCallback = Callable[[str], None]


def _domain_of(target: str) -> str | None:
    if "://" in target:
        return None
    local, at, domain = target.strip().rpartition("@")
    if not at or not local or not domain or "/" in domain or "." not in domain:
        return None
    return domain.lower().rstrip(".")


def targets_for(target: str) -> list[tuple[str, str]]:
    """(role, url) pairs probed for ``target`` before Autodiscover (an address's two domain candidates)."""
    text = target.strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise ProbeUsageError(f"probe needs an https:// URL or an email address, not {target!r}")
        return [("given URL", text)]
    domain = _domain_of(text)
    if domain is None:
        raise ProbeUsageError(f"probe needs an email address or an https:// URL, not {target!r}")
    return [
        (f"autodiscover ({domain})", f"https://{domain}{AUTODISCOVER_PATH}"),
        (f"autodiscover (autodiscover.{domain})", f"https://autodiscover.{domain}{AUTODISCOVER_PATH}"),
    ]


def _realm(response: httpx.Response) -> str | None:
    from mapiprobe.transport.trace import redact_header

    for value in response.headers.get_list("WWW-Authenticate"):
        shown = redact_header("WWW-Authenticate", value)
        if " realm=" in shown:
            return shown.split(" realm=", 1)[1].split(",")[0].split(" ")[0].strip('"')
    return None


class Prober:
    """Runs one probe. Blocking; call :meth:`run` from a worker thread in a GUI."""

    def __init__(
        self,
        target: str,
        *,
        connection: ConnectionOptions | None = None,
        credentials: Credentials | None = None,
        auth_scheme: str = "auto",
        trace: Trace | None = None,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        extra_urls: Sequence[tuple[str, str]] = (),
        discover: bool = True,
        check_certificates: bool = True,
        discovery: DiscoveryOptions | None = None,
    ) -> None:
        self.target = target.strip()
        self.connection = connection or ConnectionOptions()
        self.credentials = credentials
        self.auth_scheme = auth_scheme
        self.trace = trace if trace is not None else Trace()
        self.cancel = cancel or threading.Event()
        self._progress = progress
        self._extra = list(extra_urls)
        self._discover = discover
        self._check_certificates = check_certificates
        self.discovery = discovery
        self._initial = targets_for(self.target)
        if discovery is not None and discovery.url and _domain_of(self.target) is not None:
            # --url: the given Autodiscover URL instead of the domain's candidates (which may not resolve)
            host = (urlsplit(discovery.url).hostname or "").lower()
            self._initial = [(f"autodiscover ({host})", discovery.url)]
        self._notes: list[str] = []
        self._rpc_http_only = False

    def _say(self, text: str) -> None:
        if self._progress is not None:
            self._progress(text)

    # -- the steps --------------------------------------------------------------------------------------

    def run(self) -> ProbeReport:
        urls = [*self._initial, *self._extra]
        discovery = None
        client = make_client(self.connection, trace=self.trace)
        try:
            if _domain_of(self.target) is not None and self._discover:
                found, discovery = self._mapi_urls()
                urls += found
            seen: set[str] = set()
            endpoints: list[EndpointProbe] = []
            for role, url in urls:
                if self.cancel.is_set():
                    self._notes.append("cancelled by the user")
                    break
                key = redact_url(url)
                if key in seen:
                    continue
                seen.add(key)
                self._say(f"probing {key} without credentials")
                probe = self._anonymous(client, role, url)
                if any(s.lower() == "negotiate" for s in probe.offered):
                    probe = _with_negotiate(probe, self._negotiate(probe))
                endpoints.append(probe)
        finally:
            client.close()
        certificates: list[TLSReport] = []
        if self._check_certificates:
            hosts: list[tuple[str, int]] = []
            for probe in endpoints:
                parts = urlsplit(probe.url)
                where = ((parts.hostname or "").lower(), parts.port or 443)
                if where[0] and where not in hosts:
                    hosts.append(where)
            for host, port in hosts:
                if self.cancel.is_set():
                    break
                self._say(f"reading the certificate of {host}:{port}")
                certificates.append(inspect_tls(host, self.connection, port=port))
        return ProbeReport(
            target=self.target,
            endpoints=tuple(endpoints),
            certificates=tuple(certificates),
            insecure=self.connection.insecure,
            discovery=discovery,
            notes=tuple(self._notes),
            rpc_http_only=self._rpc_http_only,
        )

    def _mapi_urls(self) -> tuple[list[tuple[str, str]], str]:
        """The MAPI/HTTP endpoint URLs from Autodiscover (which needs credentials)."""
        creds = self.credentials
        if creds is None or creds.is_empty:
            return (
                [],
                "not run: Autodiscover needs credentials (give --password-stdin to probe the endpoints)",
            )
        from mapiprobe.session.autodiscover import AutodiscoverSession
        from mapiprobe.session.mapihttp_disabled import rpc_http_only

        self._say("running Autodiscover for the endpoint URLs")
        try:
            session = AutodiscoverSession(
                self.target,
                user=creds.user,
                credentials=creds,
                auth_scheme=self.auth_scheme,
                connection=self.connection,
                options=self.discovery or DiscoveryOptions(candidate_timeout=self.connection.connect_timeout),
                cancel=self.cancel,
                trace=self.trace,
            )
            result = session.run()
        except (TransportError, ValueError) as exc:
            return [], f"Autodiscover failed: {exc}"
        settings = result.response.mapi_http if result.response is not None else None
        only_rpc = rpc_http_only(result.response)
        if settings is None and only_rpc:
            self._rpc_http_only = True
            return [], only_rpc
        if settings is None:
            reason = (
                result.problem.message if result.problem is not None else "no mapiHttp settings in the answer"
            )
            return [], f"Autodiscover gave no MAPI/HTTP URLs: {reason}"
        found: list[tuple[str, str]] = []
        for role, url in (
            ("mailbox (external)", settings.mailstore_external),
            ("mailbox (internal)", settings.mailstore_internal),
            ("address book (external)", settings.addressbook_external),
            ("address book (internal)", settings.addressbook_internal),
        ):
            if url:
                found.append((role, url))
        return found, f"Autodiscover at {redact_url(result.url or '')}"

    def _anonymous(self, client: httpx.Client, role: str, url: str) -> EndpointProbe:
        started = time.perf_counter()
        try:
            with map_transport_errors(url):
                response = client.post(
                    url,
                    content=b"",
                    headers={
                        "Content-Type": "text/xml"
                        if "autodiscover" in url.lower()
                        else "application/mapi-http"
                    },
                    extensions={"mapiprobe.label": f"probe {role}"},
                )
        except TransportError as exc:
            return EndpointProbe(
                role,
                redact_url(url),
                elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
                error=exc.message,
                error_kind=exc.kind,
            )
        front = tuple((name, value) for name in FRONT_END_HEADERS if (value := response.headers.get(name)))
        return EndpointProbe(
            role,
            redact_url(url),
            status=response.status_code,
            offered=offered_schemes(response),
            realm=_realm(response),
            front_end=front,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _negotiate(self, probe: EndpointProbe) -> NegotiateCheck:
        creds = self.credentials
        kerberos = check_kerberos(probe.host, creds) if kerberos_available() else None
        if creds is None or not creds.can_spnego:
            return NegotiateCheck(kerberos=kerberos, detail="no credentials: the mechanism was not tried")
        auth = NegotiateAuth(creds.user, creds.password)
        # A client of its own: a connection already authenticated would hide the handshake.
        client = make_client(self.connection, trace=self.trace)
        try:
            with map_transport_errors(probe.url):
                client.post(
                    probe.url,
                    content=b"",
                    auth=auth,
                    extensions={"mapiprobe.label": f"probe {probe.role} (Negotiate)"},
                )
        except AuthenticationFailed as exc:
            return NegotiateCheck(kerberos=kerberos, authenticated=False, detail=exc.message)
        except TransportError as exc:
            return NegotiateCheck(kerberos=kerberos, detail=exc.message)
        finally:
            client.close()
        found = auth_outcomes(auth).get(endpoint_of(httpx.URL(probe.url)))
        if found is None:
            return NegotiateCheck(kerberos=kerberos, detail="the server did not ask for credentials")
        detail = None
        if found.mechanism == "ntlm" and kerberos is not None and not kerberos.ok:
            detail = f"Negotiate fell back to NTLM: {kerberos.reason}"
        return NegotiateCheck(
            kerberos=kerberos, mechanism=found.mechanism, authenticated=found.ok, detail=detail
        )


def _with_negotiate(probe: EndpointProbe, check: NegotiateCheck) -> EndpointProbe:
    return replace(probe, negotiate=check)


def probe(target: str, **kwargs: Any) -> ProbeReport:
    """Run a :class:`Prober` for ``target`` (same keyword arguments)."""
    return Prober(target, **kwargs).run()


__all__ = [
    "FRONT_END_HEADERS",
    "EndpointProbe",
    "NegotiateCheck",
    "ProbeReport",
    "ProbeUsageError",
    "Prober",
    "probe",
    "targets_for",
]
