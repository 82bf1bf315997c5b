"""The one-click diagnosis: ordered checks of one address, each with a status, evidence, cause and remedy.

:class:`Diagnosis` runs (blocking; call :meth:`Diagnosis.run` from a worker thread in a GUI):

1. for each Autodiscover candidate host (``<domain>`` and ``autodiscover.<domain>``, or the ``--url`` host),
   side by side: ``dns``, ``tcp`` (the URL's port, through the proxy when one applies), ``tls`` (the
   certificate report of transport/tls.py: chain, names, expiry, missing intermediate) and ``proxy`` (which
   proxy, and whether it intercepts TLS: the certificate through the proxy against the one seen directly);
2. ``autodiscover`` (session/autodiscover.py: every method tried, the winner) and ``mapi-http`` (offered or
   not, and why);
3. for each endpoint host Autodiscover named that step 1 did not check: ``dns``/``tcp``/``tls``/``proxy``;
   then ``reachability`` (internal vs external URL from here) and ``probe`` (one anonymous request per
   endpoint: the schemes offered, what the front end answers);
4. the mailbox (``mailbox-connect``, ``logon``, ``folders``), the address book (``ab-bind``, ``resolve``),
   ``ping`` (optionally after ``idle_check_s`` of silence, to catch a context that expires early) and
   ``disconnect``.

A step that fails makes the steps that depend on it ``skipped``, with the reason. Progress goes to the
``on_event`` callback as :class:`~mapiprobe.diagnostics.steps.StepEvent` (``started``/``finished``; host
checks run in worker threads, so a GUI must hand them to its own thread). ``cancel`` stops the run between
steps and inside the sessions. Nothing is printed; there is no global state.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from mapiprobe.diagnostics.steps import (
    EventCallback,
    Evidence,
    Status,
    Step,
    StepEvent,
    cause_words,
)
from mapiprobe.transport.auth import Credentials, auth_outcomes, make_auth
from mapiprobe.transport.client import ConnectionOptions, MappedBackend, parse_connect_to, proxy_selector
from mapiprobe.transport.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HTTPFailure,
    TransportError,
    redact_url,
)
from mapiprobe.transport.resolve import is_ip_literal, make_resolver
from mapiprobe.transport.trace import Trace, TraceRecord

SLOW_REQUEST_S = 1.0  # one answer slower than this is a stalling server (Exchange answers in milliseconds)
SHORT_CONTEXT_S = 60.0  # an announced context lifetime below this is worth a warning
HOST_STEPS = ("dns", "tcp", "tls", "proxy")


class DiagnosisCancelled(Exception):
    pass


@dataclass(frozen=True)
class DiagnosisOptions:
    """What the front end chose (the connection, who to be, discovery switches)."""

    connection: ConnectionOptions = field(default_factory=ConnectionOptions)
    credentials: Credentials | None = None
    auth_scheme: str = "auto"
    mapi_http_disabled: bool = False
    url: str | None = None  # --url: ask this Autodiscover URL instead of discovering
    allowed_hosts: frozenset[str] = frozenset()
    candidate_timeout: float | None = None  # None: the connection's connect timeout
    use_srv: bool = True
    use_v2: bool = True
    use_redirect_probe: bool = True
    idle_check_s: float = 0.0  # stay silent this long before the PING (0: PING at once)
    slow_request_s: float = SLOW_REQUEST_S


@dataclass(frozen=True)
class DiagnosisResult:
    email: str
    started_at: float
    finished_at: float
    steps: tuple[Step, ...]
    trace: tuple[TraceRecord, ...]
    facts: dict[str, Any]
    cancelled: bool = False

    @property
    def result(self) -> str:
        """``fail`` if a step failed, ``warn`` if one warned, else ``pass``."""
        statuses = {s.status for s in self.steps}
        if Status.FAIL in statuses or self.cancelled:
            return "fail"
        if Status.WARN in statuses:
            return "warn"
        return "pass"

    @property
    def first_failure(self) -> Step | None:
        return next((s for s in self.steps if s.status == Status.FAIL), None) or next(
            (s for s in self.steps if s.status == Status.WARN), None
        )

    @property
    def elapsed_ms(self) -> float:
        return (self.finished_at - self.started_at) * 1000

    def step(self, step_id: str, target: str | None = None) -> Step | None:
        return next(
            (s for s in self.steps if s.id == step_id and (target is None or s.target == target)), None
        )


@dataclass
class _Outcome:
    status: Status
    summary: str
    cause_code: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)


def _ok(summary: str, *evidence: Evidence) -> _Outcome:
    return _Outcome(Status.PASS, summary, evidence=list(evidence))


def _bad(status: Status, code: str, summary: str, *evidence: Evidence, **facts: Any) -> _Outcome:
    return _Outcome(status, summary, code, dict(facts), list(evidence))


@dataclass
class _HostFacts:
    host: str
    port: int
    dns_ok: bool = False
    tcp_ok: bool = False
    tls_ok: bool = False
    tls: Any = None  # TLSReport
    proxy: str | None = None
    failed_step: str | None = None


class Diagnosis:
    """One run for one address; see the module docstring."""

    def __init__(
        self,
        email: str,
        options: DiagnosisOptions | None = None,
        *,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
        trace: Trace | None = None,
        consent: Callable[[Any], bool] | None = None,
    ) -> None:
        from mapiprobe.session.autodiscover import split_address

        self.email = email.strip()
        self.local, self.domain = split_address(self.email)  # UsageError for a bad address
        self.options = options or DiagnosisOptions()
        self.connection = self.options.connection
        self.on_event = on_event
        self.cancel = cancel or threading.Event()
        self.trace = trace if trace is not None else Trace()
        self.consent = consent
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        self._hosts: dict[tuple[str, int], _HostFacts] = {}
        self.facts: dict[str, Any] = {"email": self.email}
        self._selector = proxy_selector(self.connection)
        rules = tuple(parse_connect_to(r) for r in self.connection.connect_to)
        self._backend = MappedBackend(rules)
        self._resolver = (
            make_resolver(self.connection.dns_server, timeout=self.connection.connect_timeout)
            if self.connection.dns_server
            else None
        )

    # -- plumbing --------------------------------------------------------------------------------------

    def _emit(self, kind: str, step: Step) -> None:
        if self.on_event is not None:
            self.on_event(StepEvent(kind, step))

    def _run_step(self, step_id: str, target: str, work: Callable[[], _Outcome]) -> Step:
        if self.cancel.is_set():
            raise DiagnosisCancelled()
        wall, started = time.time(), time.perf_counter()
        first_seq = len(self.trace.records)
        self._emit("started", Step(step_id, target, Status.RUNNING, started_at=wall))
        try:
            outcome = work()
        except DiagnosisCancelled:
            raise
        except Exception as exc:  # a check that breaks is a failed step with the reason, never a crash
            outcome = _bad(Status.FAIL, "request-failed", f"the check broke: {exc}", role=step_id, detail=exc)
        elapsed = (time.perf_counter() - started) * 1000
        seqs = tuple(r.seq for r in self.trace.records[first_seq:] if r.started_at >= wall - 0.001)
        cause = remedy = None
        if outcome.cause_code is not None and outcome.status in (Status.WARN, Status.FAIL):
            cause, remedy = cause_words(outcome.cause_code, **outcome.facts)
        step = Step(
            step_id,
            target,
            outcome.status,
            outcome.summary,
            elapsed,
            cause,
            remedy,
            outcome.cause_code if cause else None,
            tuple(outcome.evidence),
            wall,
            seqs,
        )
        with self._lock:
            self._steps.append(step)
        self._emit("finished", step)
        return step

    def _skip(self, step_id: str, target: str, reason: str) -> Step:
        step = Step(step_id, target, Status.SKIPPED, f"skipped: {reason}", started_at=time.time())
        with self._lock:
            self._steps.append(step)
        self._emit("finished", step)
        return step

    # -- the run ---------------------------------------------------------------------------------------

    def run(self) -> DiagnosisResult:
        started = time.time()
        cancelled = False
        try:
            self._run()
        except DiagnosisCancelled:
            cancelled = True
        return DiagnosisResult(
            email=self.email,
            started_at=started,
            finished_at=time.time(),
            steps=tuple(self._steps),
            trace=self.trace.records,
            facts=dict(self.facts),
            cancelled=cancelled,
        )

    def _run(self) -> None:
        if self.options.url:
            parts = urlsplit(self.options.url)
            candidates = [((parts.hostname or "").lower(), parts.port or 443)]
        else:
            candidates = [(self.domain, 443), (f"autodiscover.{self.domain}", 443)]
        self.facts["proxy_settings"] = self._selector.settings.describe
        self._check_hosts(candidates, candidate=True)
        discovery = self._autodiscover_steps()
        settings = discovery.response.mapi_http if discovery is not None and discovery.response else None
        after = "Autodiscover gave no MAPI/HTTP settings"
        if discovery is None or not discovery.ok:
            after = "Autodiscover failed"
        if settings is None:
            for step_id, target in (
                ("reachability", "mailbox"),
                ("probe", "mailbox"),
                ("mailbox-connect", "mailbox"),
                ("logon", "mailbox"),
                ("folders", "mailbox"),
                ("ab-bind", "address book"),
                ("resolve", self.email),
                ("ping", "mailbox"),
                ("disconnect", "mailbox"),
            ):
                self._skip(step_id, target, after)
            return
        assert discovery is not None and discovery.response is not None
        endpoint_hosts: list[tuple[str, int]] = []
        for url in (
            settings.mailstore_external,
            settings.mailstore_internal,
            settings.addressbook_external,
            settings.addressbook_internal,
        ):
            if url:
                parts = urlsplit(url)
                where = ((parts.hostname or "").lower(), parts.port or 443)
                if where not in endpoint_hosts and where not in self._hosts:
                    endpoint_hosts.append(where)
        self._check_hosts(endpoint_hosts, candidate=False, urls=settings)
        mailbox_url = self._reachability("mailbox", settings.mailstore_external, settings.mailstore_internal)
        ab_url = self._reachability(
            "address book", settings.addressbook_external, settings.addressbook_internal
        )
        self._probe_steps([("mailbox", mailbox_url), ("address book", ab_url)])
        legacy_dn = discovery.response.user.legacy_dn if discovery.response.user else None
        self._sessions(mailbox_url, ab_url, legacy_dn)

    # -- host checks -----------------------------------------------------------------------------------

    def _check_hosts(self, hosts: Sequence[tuple[str, int]], *, candidate: bool, urls: Any = None) -> None:
        todo = [h for h in hosts if h not in self._hosts]
        for where in todo:
            self._hosts[where] = _HostFacts(*where)
        if not todo:
            return
        if len(todo) == 1:
            self._host_steps(self._hosts[todo[0]], candidate)
        else:
            with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="diagnose-host") as pool:
                futures = [pool.submit(self._host_steps, self._hosts[w], candidate) for w in todo]
                for future in futures:
                    future.result()
        if self.cancel.is_set():
            raise DiagnosisCancelled()

    def _host_steps(self, facts: _HostFacts, candidate: bool) -> None:
        target = f"{facts.host}:{facts.port}"
        facts.proxy = self._selector.for_url(f"https://{target}/")
        self._run_step("dns", target, lambda: self._dns(facts))
        if not facts.dns_ok:
            for step_id in ("tcp", "tls", "proxy"):
                self._skip(step_id, target, f"{facts.host} does not resolve")
            return
        self._run_step("tcp", target, lambda: self._tcp(facts, candidate))
        if not facts.tcp_ok:
            self._skip("tls", target, f"no TCP connection to {target}")
            self._run_step("proxy", target, lambda: self._proxy(facts))
            return
        self._run_step("tls", target, lambda: self._tls(facts, candidate))
        self._run_step("proxy", target, lambda: self._proxy(facts))

    def _dns(self, facts: _HostFacts) -> _Outcome:
        addr, port = self._backend.route(facts.host, facts.port)
        evidence = []
        if (addr, port) != (facts.host, facts.port):
            evidence.append(Evidence("--connect-to", f"{facts.host}:{facts.port} -> {addr}:{port}"))
        if facts.proxy is not None:
            evidence.append(Evidence("proxy", f"{facts.proxy} resolves {facts.host} for this computer"))
        if is_ip_literal(addr):
            facts.dns_ok = True
            how = "an address" if addr == facts.host else f"mapped to {addr} by --connect-to"
            return _ok(f"{facts.host} is {how}", *evidence)
        try:
            if self._resolver is not None:
                addresses = list(self._resolver.addresses(addr))
                server = self.connection.dns_server
            else:
                infos = socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM)
                addresses = sorted({str(i[4][0]) for i in infos})
                server = "the system resolver"
        except (OSError, TransportError) as exc:
            detail = getattr(exc, "message", None) or str(exc)
            if facts.proxy is not None:
                facts.dns_ok = True  # the proxy resolves the name, not this computer
                return _bad(
                    Status.PASS,
                    "dns-not-found",
                    f"{addr} does not resolve here ({detail}); the proxy {facts.proxy} resolves it",
                    *evidence,
                )
            return _bad(
                Status.FAIL,
                "dns-not-found",
                f"{addr} does not resolve",
                *evidence,
                Evidence("lookup", f"{addr} via {server}: {detail}"),
                host=addr,
                detail=detail,
            )
        facts.dns_ok = True
        evidence.append(Evidence("lookup", f"{addr} via {server}: {', '.join(addresses)}"))
        return _ok(f"{addr} resolves to {', '.join(addresses[:4])}", *evidence)

    def _tcp(self, facts: _HostFacts, candidate: bool) -> _Outcome:
        from mapiprobe.transport.proxy import TunnelBackend

        backend: Any = MappedBackend(
            self._backend.rules,
            self._resolver,
        )
        where = f"{facts.host}:{facts.port}"
        if facts.proxy is not None:
            backend = TunnelBackend(backend, facts.proxy)
        started = time.perf_counter()
        try:
            stream = backend.connect_tcp(facts.host, facts.port, timeout=self.connection.connect_timeout)
        except Exception as exc:
            detail = _reason(exc)
            ms = (time.perf_counter() - started) * 1000
            ev = Evidence("connect", f"{where}: {detail} after {ms:.0f} ms")
            if facts.proxy is not None:
                return _bad(
                    Status.FAIL,
                    "proxy-refused",
                    f"the proxy did not open a tunnel to {where}",
                    ev,
                    proxy=facts.proxy,
                    host=facts.host,
                    port=facts.port,
                    detail=detail,
                )
            code = "tcp-timeout" if "timed out" in detail.lower() else "tcp-refused"
            status = Status.WARN if candidate else Status.FAIL
            return _bad(
                status,
                code,
                f"no TCP connection to {where}",
                ev,
                host=facts.host,
                port=facts.port,
                detail=detail,
            )
        ms = (time.perf_counter() - started) * 1000
        peer = None
        try:
            sock = stream.get_extra_info("socket")
            if sock is not None:
                name = sock.getpeername()
                peer = f"{name[0]}:{name[1]}"
        except (OSError, AttributeError, TypeError):
            peer = None
        stream.close()
        facts.tcp_ok = True
        via = f" through the proxy {facts.proxy} (CONNECT)" if facts.proxy else ""
        return _ok(
            f"connected to {where}{via} in {ms:.0f} ms",
            Evidence("connect", f"{where} -> {peer or '?'}{via}, {ms:.0f} ms"),
        )

    def _tls(self, facts: _HostFacts, candidate: bool) -> _Outcome:
        from mapiprobe.transport.tls import inspect_tls

        report = inspect_tls(facts.host, self.connection, port=facts.port)
        facts.tls = report
        cert = report.certificate
        evidence = [
            Evidence(
                "handshake",
                f"{report.tls_version or '?'} {report.cipher or ''} verified={report.verified}"
                + (f" ({report.verify_error})" if report.verify_error else ""),
            )
        ]
        if report.proxy:
            evidence.append(Evidence("through proxy", report.proxy))
        for i, c in enumerate(report.chain):
            evidence.append(
                Evidence(
                    f"chain[{i}]",
                    f"subject {c.subject}; issuer {c.issuer}; names {', '.join(c.subject_alt_names[:8])}; "
                    f"valid {c.not_before:%Y-%m-%d} to {c.not_after:%Y-%m-%d}",
                )
            )
        host = facts.host
        names = ", ".join(cert.subject_alt_names[:8]) if cert is not None else "?"
        not_after = f"{cert.not_after:%Y-%m-%d}" if cert is not None else "?"
        if report.error:
            if candidate and "timed out" in report.error.lower():
                return _bad(
                    Status.WARN,
                    "candidate-never-answers",
                    f"{host}:{facts.port} never completes a TLS handshake",
                    *evidence,
                    host=host,
                    port=facts.port,
                    detail=report.error,
                )
            return _bad(
                Status.WARN if candidate else Status.FAIL,
                "tls-failed",
                f"no TLS with {host}:{facts.port}",
                *evidence,
                host=host,
                port=facts.port,
                detail=report.error,
            )
        status = Status.WARN if candidate else Status.FAIL
        problems = set(report.problems)
        if report.proxy and not report.verified and cert is not None:
            # Judged by the proxy step (the same handshake seen directly tells interception apart).
            facts.tls_ok = False
            return _bad(
                Status.FAIL,
                "cert-untrusted",
                f"the certificate {host} presents through the proxy is not trusted",
                *evidence,
                host=host,
                detail=f"{report.verify_error}; issued by {cert.issuer}; see the proxy step",
            )
        if "name-mismatch" in problems:
            return _bad(
                status,
                "cert-name-mismatch",
                f"the certificate does not name {host}",
                *evidence,
                host=host,
                names=names,
            )
        if "expired" in problems:
            return _bad(
                status,
                "cert-expired",
                f"the certificate expired on {not_after}",
                *evidence,
                host=host,
                not_after=not_after,
            )
        if "incomplete-chain" in problems:
            return _bad(
                status,
                "cert-missing-intermediate",
                "the intermediate CA certificate is missing",
                *evidence,
                host=host,
                detail=report.reason or report.verify_error,
            )
        if problems - {"expires-soon"} or not report.verified:
            return _bad(
                status,
                "cert-untrusted",
                f"the certificate of {host} is not accepted",
                *evidence,
                host=host,
                detail=report.reason or report.verify_error,
            )
        facts.tls_ok = True
        if "expires-soon" in problems:
            return _bad(
                Status.WARN,
                "cert-expires-soon",
                f"the certificate expires on {not_after}",
                *evidence,
                host=host,
                days=report.days_to_expiry,
                not_after=not_after,
            )
        return _ok(f"{report.tls_version}, certificate for {names} valid until {not_after}", *evidence)

    def _proxy(self, facts: _HostFacts) -> _Outcome:
        settings = Evidence("settings", self._selector.settings.describe)
        if facts.proxy is None:
            return _ok("direct connection (no proxy for this host)", settings)
        report = facts.tls
        if report is None or report.certificate is None:
            return _ok(f"through the proxy {facts.proxy}", settings)
        from mapiprobe.transport.tls import inspect_tls

        direct = inspect_tls(facts.host, replace(self.connection, proxy="none"), port=facts.port)
        proxied_fp = report.certificate.sha256_fingerprint
        evidence = [
            settings,
            Evidence(
                "through the proxy",
                f"{report.certificate.issuer} -> {report.certificate.subject} (SHA-256 {proxied_fp[:23]}...)",
            ),
        ]
        if direct.certificate is not None:
            evidence.append(
                Evidence(
                    "direct",
                    f"{direct.certificate.issuer} -> {direct.certificate.subject} "
                    f"(SHA-256 {direct.certificate.sha256_fingerprint[:23]}...)",
                )
            )
            if direct.certificate.sha256_fingerprint != proxied_fp:
                return _bad(
                    Status.FAIL if not report.verified else Status.WARN,
                    "proxy-intercepts",
                    f"the proxy {facts.proxy} intercepts TLS to {facts.host}",
                    *evidence,
                    proxy=facts.proxy,
                    host=facts.host,
                    issuer=report.certificate.issuer,
                    direct=f' (directly it presents one issued by "{direct.certificate.issuer}")',
                )
            return _ok(
                f"through the proxy {facts.proxy}: a tunnel (the same certificate as direct)", *evidence
            )
        if not report.verified:
            return _bad(
                Status.FAIL,
                "proxy-intercepts",
                f"the proxy {facts.proxy} presents an untrusted certificate for {facts.host}",
                *evidence,
                proxy=facts.proxy,
                host=facts.host,
                issuer=report.certificate.issuer,
                direct=" (the host cannot be reached directly to compare)",
            )
        return _ok(
            f"through the proxy {facts.proxy} (the host cannot be reached directly to compare)", *evidence
        )

    # -- Autodiscover ----------------------------------------------------------------------------------

    def _autodiscover_steps(self) -> Any:
        from mapiprobe.session.autodiscover import AutodiscoverSession, DiscoveryOptions

        holder: dict[str, Any] = {}
        timeout = self.options.candidate_timeout or self.connection.connect_timeout
        creds = self.options.credentials
        target = self.options.url or self.domain

        def work() -> _Outcome:
            session = AutodiscoverSession(
                self.email,
                user=creds.user if creds else None,
                credentials=creds,
                auth_scheme=self.options.auth_scheme,
                connection=self.connection,
                options=DiscoveryOptions(
                    mapi_http_disabled=self.options.mapi_http_disabled,
                    url=self.options.url,
                    allowed_hosts=self.options.allowed_hosts,
                    candidate_timeout=timeout,
                    use_srv=self.options.use_srv,
                    use_v2=self.options.use_v2,
                    use_redirect_probe=self.options.use_redirect_probe,
                ),
                consent=self.consent,
                cancel=self.cancel,
                trace=self.trace,
            )
            started = time.perf_counter()
            result = session.run()
            holder["result"] = result
            return self._judge_discovery(result, time.perf_counter() - started)

        self._run_step("autodiscover", target, work)
        result = holder.get("result")
        if self.cancel.is_set():
            raise DiagnosisCancelled()
        if result is None:
            self._skip("mapi-http", target, "Autodiscover did not run")
            return None
        where = redact_url(result.url) if result.url else target
        self._run_step("mapi-http", where, lambda: self._judge_protocol(result))
        return result

    def _judge_discovery(self, result: Any, seconds: float) -> _Outcome:
        evidence = []
        for a in result.attempts:
            bits = [a.method, a.url, a.outcome]
            if a.http_status is not None:
                bits.append(f"HTTP {a.http_status}")
            if a.elapsed_ms is not None:
                bits.append(f"{a.elapsed_ms:.0f} ms")
            if a.detail:
                bits.append(a.detail)
            evidence.append(
                Evidence(f"{a.source}" + (f" (hop {a.hop})" if a.hop else ""), " | ".join(map(str, bits)))
            )
        for r in result.redirects:
            evidence.append(Evidence("redirect", f"{r.kind}: {r.source_url} -> {r.target}"))
        for f in result.findings:
            evidence.append(Evidence(f"finding {f.code}", f.message))
        self.facts["autodiscover_url"] = result.url
        if result.url:
            evidence.append(Evidence("winner", str(result.url)))
        if not result.ok:
            problem = result.problem
            code_text = problem.code if problem is not None else "error"
            detail = problem.message if problem is not None else result.action
            if code_text == "rejected-document":
                return _bad(
                    Status.FAIL, "autodiscover-html", "a front end answered HTML, not Autodiscover", *evidence
                )
            if code_text.startswith("autodiscover-500") or "500" in code_text:
                return _bad(
                    Status.FAIL,
                    "autodiscover-unknown-user",
                    f"address not found: {detail}",
                    *evidence,
                    email=self.email,
                    detail=detail,
                )
            if "loop" in code_text:
                return _bad(Status.FAIL, "autodiscover-redirect-loop", detail, *evidence, detail=detail)
            if "not approved" in detail or "consent" in code_text:
                return _bad(Status.FAIL, "autodiscover-redirect-consent", detail, *evidence, detail=detail)
            if any(a.outcome == "auth-failed" for a in result.attempts):
                return _bad(Status.FAIL, "autodiscover-auth", detail, *evidence, detail=detail)
            return _bad(
                Status.FAIL, "autodiscover-failed", detail, *evidence, email=self.email, detail=detail
            )
        winner = next((a for a in reversed(result.attempts) if a.outcome == "settings"), None)
        if (
            winner is not None
            and winner.elapsed_ms is not None
            and winner.elapsed_ms / 1000 > self.options.slow_request_s
        ):
            return _bad(
                Status.WARN,
                "server-stalls",
                f"Autodiscover answered after {winner.elapsed_ms / 1000:.1f} s",
                *evidence,
                what=f"Autodiscover at {winner.url}",
                seconds=winner.elapsed_ms / 1000,
            )
        dead = [a for a in result.attempts if a.outcome in ("timeout", "abandoned") and a.method == "POST"]
        if dead:
            a = dead[0]
            host = urlsplit(a.url).hostname or a.url
            return _bad(
                Status.WARN,
                "candidate-never-answers",
                f"{a.url} never answered",
                *evidence,
                host=host,
                port=urlsplit(a.url).port or 443,
                detail=a.detail or a.outcome,
            )
        return _ok(f"settings from {result.url} ({result.protocol or 'no protocol'})", *evidence)

    def _judge_protocol(self, result: Any) -> _Outcome:
        response = result.response
        if response is None or not result.ok:
            return _bad(Status.SKIPPED, "no-mapihttp", "Autodiscover gave no settings")
        mapi = response.mapi_http
        evidence = []
        if mapi is not None:
            for label, url in (
                ("mailbox (external)", mapi.mailstore_external),
                ("mailbox (internal)", mapi.mailstore_internal),
                ("address book (external)", mapi.addressbook_external),
                ("address book (internal)", mapi.addressbook_internal),
            ):
                if url:
                    evidence.append(Evidence(label, redact_url(url)))
        for p in response.legacy:
            evidence.append(
                Evidence(f"legacy {p.type}", f"server {p.server or '-'} version {p.server_version or '-'}")
            )
            if p.server_version:
                self.facts.setdefault("server_version", p.server_version)
        if mapi is not None:
            self.facts["protocol"] = "MAPI/HTTP"
            if any(f.code == "server-ignores-mapihttp-capability" for f in result.findings):
                return _bad(
                    Status.WARN, "server-ignores-header", "MAPI/HTTP offered without the header", *evidence
                )
            return _ok("MAPI over HTTP offered", *evidence)
        rpc = result.protocol == "rpcHttp"
        if self.options.mapi_http_disabled:
            if result.raw_response is not None and result.raw_response.mapi_http is not None:
                return _bad(
                    Status.WARN, "server-ignores-header", "MAPI/HTTP offered without the header", *evidence
                )
            return _bad(
                Status.WARN,
                "mapihttp-disabled-client",
                "MapiHttpDisabled emulation: RPC/HTTP settings only",
                *evidence,
            )
        if rpc:
            self.facts["protocol"] = "RPC/HTTP"
            return _bad(
                Status.FAIL, "mapihttp-disabled-org", "the organisation answers only RPC/HTTP", *evidence
            )
        return _bad(
            Status.FAIL, "no-mapihttp", "no MAPI/HTTP settings", *evidence, detail="no mapiHttp block"
        )

    # -- endpoints -------------------------------------------------------------------------------------

    def _reachability(self, role: str, external: str | None, internal: str | None) -> str:
        chosen = external or internal or ""

        def host_ok(url: str | None) -> bool | None:
            if not url:
                return None
            parts = urlsplit(url)
            facts = self._hosts.get(((parts.hostname or "").lower(), parts.port or 443))
            return None if facts is None else facts.tcp_ok and facts.tls_ok

        def work() -> _Outcome:
            nonlocal chosen
            ext, inn = host_ok(external), host_ok(internal)
            evidence = [
                Evidence("external URL", f"{redact_url(external) if external else '(none)'}: {_word(ext)}"),
                Evidence("internal URL", f"{redact_url(internal) if internal else '(none)'}: {_word(inn)}"),
            ]
            if ext:
                chosen = external or chosen
                return _ok(f"the external {role} URL is reachable from here", *evidence)
            if inn:
                chosen = internal or chosen
                return _ok(
                    f"the internal {role} URL is reachable from here (this computer is inside)", *evidence
                )
            return _bad(
                Status.FAIL,
                "endpoint-unreachable",
                f"no {role} URL is reachable from here",
                *evidence,
                role=role,
                url=redact_url(chosen),
                detail="no TCP connection: see the host steps",
            )

        target = redact_url(chosen) if chosen else role
        tls_failed = [
            f.host
            for f in (self._facts_of(external), self._facts_of(internal))
            if f is not None and f.tcp_ok and not f.tls_ok
        ]
        if tls_failed and not any(host_ok(u) for u in (external, internal)):
            # Reached, but TLS failed: the tls step has the cause; what depends on it is skipped.
            step = self._skip("reachability", target, f"the TLS check of {tls_failed[0]} failed")
            self.facts[f"{role}_url"] = redact_url(chosen)
            self.facts[f"{role}_reachable"] = False
            return chosen
        step = self._run_step("reachability", target, work)
        self.facts[f"{role}_url"] = redact_url(chosen)
        self.facts[f"{role}_reachable"] = step.status == Status.PASS
        return chosen

    def _facts_of(self, url: str | None) -> _HostFacts | None:
        if not url:
            return None
        parts = urlsplit(url)
        return self._hosts.get(((parts.hostname or "").lower(), parts.port or 443))

    def _probe_steps(self, endpoints: Sequence[tuple[str, str]]) -> None:
        from mapiprobe.session.probe import Prober

        def one(role: str, url: str) -> None:
            if not self.facts.get(f"{role}_reachable"):
                self._skip("probe", redact_url(url) or role, f"the {role} URL is not reachable")
                return

            def work() -> _Outcome:
                report = Prober(
                    url,
                    connection=self.connection,
                    trace=self.trace,
                    cancel=self.cancel,
                    discover=False,
                    check_certificates=False,
                ).run()
                probe = report.endpoints[0] if report.endpoints else None
                if probe is None:
                    return _bad(
                        Status.FAIL, "request-failed", "no answer", role=role, detail="nothing probed"
                    )
                evidence = [
                    Evidence("answer", f"HTTP {probe.status}" if probe.status else f"{probe.error}"),
                    Evidence("WWW-Authenticate", ", ".join(probe.offered) or "(none)"),
                ]
                evidence += [Evidence(k, v) for k, v in probe.front_end]
                self.facts[f"{role}_offered"] = probe.offered
                front = dict(probe.front_end)
                if "Server" in front:
                    self.facts.setdefault("front_end", front["Server"])
                if probe.error:
                    return _bad(
                        Status.FAIL, "request-failed", probe.error, *evidence, role=role, detail=probe.error
                    )
                if probe.status in (502, 503, 504):
                    return _bad(
                        Status.FAIL,
                        "front-end-unavailable",
                        f"HTTP {probe.status}",
                        *evidence,
                        role=role,
                        http_status=probe.status,
                        detail="the service behind is unavailable",
                    )
                if probe.status != 401:
                    return _bad(
                        Status.FAIL,
                        "front-end-html",
                        f"HTTP {probe.status} without asking for credentials",
                        *evidence,
                        role=role,
                        http_status=probe.status,
                    )
                schemes = [s.lower() for s in probe.offered]
                if schemes and all(s == "basic" for s in schemes):
                    return _bad(
                        Status.WARN,
                        "only-basic",
                        "only Basic is offered",
                        *evidence,
                        role=role,
                        offered=", ".join(probe.offered),
                    )
                return _ok(f"asks for credentials: {', '.join(probe.offered)}", *evidence)

            self._run_step("probe", redact_url(url), work)

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="diagnose-probe") as pool:
            futures = [pool.submit(one, role, url) for role, url in endpoints if url]
            for future in futures:
                future.result()

    # -- sessions --------------------------------------------------------------------------------------

    def _auth(self) -> Any:
        creds = self.options.credentials
        return make_auth(creds, self.options.auth_scheme)

    def _sessions(self, mailbox_url: str, ab_url: str, legacy_dn: str | None) -> None:
        from mapiprobe.session.mailbox import MailboxSession

        mbx_target, ab_target = redact_url(mailbox_url), redact_url(ab_url)
        probe_mbx = self._find("probe", mbx_target)
        probe_ab = self._find("probe", ab_target)
        mailbox: MailboxSession | None = None
        blocked = None
        if probe_mbx is not None and probe_mbx.status in (Status.FAIL, Status.SKIPPED):
            blocked = _because(probe_mbx, "the mailbox endpoint failed the probe")
        if not legacy_dn:
            blocked = "Autodiscover gave no LegacyDN"
        moved: list[str] = []
        mailbox_auth = self._auth()

        def rediscover(server_dn: str) -> str:
            from mapiprobe.session.autodiscover import AutodiscoverSession

            creds = self.options.credentials
            result = AutodiscoverSession(
                self.email,
                user=creds.user if creds else None,
                credentials=creds,
                auth_scheme=self.options.auth_scheme,
                connection=self.connection,
                cancel=self.cancel,
                trace=self.trace,
            ).run()
            mapi = result.response.mapi_http if result.response else None
            url = (mapi.mailstore_external or mapi.mailstore_internal) if mapi else None
            if not url:
                raise RuntimeError("the new Autodiscover gave no mailbox URL")
            moved.append(f"{server_dn} -> {redact_url(url)}")
            return str(url)

        connected: dict[str, float] = {}

        def progress(event: Any) -> None:
            if event.stage == "connect" and event.message.startswith("connected"):
                connected.setdefault("at", time.perf_counter())

        if blocked is None:
            assert legacy_dn is not None
            mailbox = MailboxSession(
                mailbox_url,
                user_dn=legacy_dn,
                auth=mailbox_auth,
                connection=self.connection,
                trace=self.trace,
                progress=progress,
                cancel=self.cancel,
                resolve_mailbox_url=rediscover,
                keepalive=False,
            )
            holder: dict[str, Any] = {}

            def connect() -> _Outcome:
                since = time.time()
                return self._stalled(connect_inner(), since, "mailbox")

            def connect_inner() -> _Outcome:
                started = time.perf_counter()
                try:
                    mailbox.open()
                except Exception as exc:  # sorted out below: connect or logon
                    holder["error"] = exc
                    holder["connected"] = "at" in connected
                    if "at" in connected:
                        return _ok(
                            f"connected in {(connected['at'] - started) * 1000:.0f} ms",
                            *self._auth_evidence(mailbox_auth),
                        )
                    return self._judge_error(exc, "mailbox", started)
                holder["connected"] = True
                self.facts["display_name"] = mailbox.display_name
                self.facts["server_application"] = mailbox.server_application
                self.facts["mailbox_expiration_ms"] = mailbox.context_expiration_ms
                return _ok(
                    f"Connect accepted: {mailbox.display_name or '-'}", *self._auth_evidence(mailbox_auth)
                )

            step = self._run_step("mailbox-connect", mbx_target, connect)
            self.facts["mailbox_auth"] = self._auth_scheme_used(mailbox_auth)
            if step.status == Status.FAIL:
                blocked = "Connect failed"

            def logon() -> _Outcome:
                error = holder.get("error")
                if error is not None:
                    return self._judge_error(error, "mailbox", time.perf_counter())
                assert mailbox is not None
                ids = mailbox.folder_ids
                ev = [
                    Evidence(
                        "logon", f"{mailbox.display_name or '-'}; server {mailbox.server_application or '-'}"
                    )
                ]
                if moved or mailbox.stats.redirects:
                    return _bad(
                        Status.WARN,
                        "mailbox-moved",
                        "the mailbox moved (followed)",
                        *ev,
                        detail="; ".join(moved) or "a new mailbox URL",
                    )
                return _ok(f"logged on{' (special folders known)' if ids is not None else ''}", *ev)

            if blocked is None:
                step = self._run_step("logon", mbx_target, logon)
                if step.status == Status.FAIL:
                    blocked = "logon failed"
            else:
                self._skip("logon", mbx_target, blocked)

            def folders() -> _Outcome:
                since = time.time()
                return self._stalled(folders_inner(), since, "mailbox")

            def folders_inner() -> _Outcome:
                assert mailbox is not None
                started = time.perf_counter()
                try:
                    found = mailbox.folders()
                except Exception as exc:
                    return self._judge_error(exc, "mailbox", started)
                names = ", ".join(f.display_name for f in found[:8])
                return _ok(f"{len(found)} folders", Evidence("folders", names))

            if blocked is None:
                step = self._run_step("folders", mbx_target, folders)
                if step.status == Status.FAIL:
                    blocked = "reading folders failed"
            else:
                self._skip("folders", mbx_target, blocked)
        else:
            for step_id in ("mailbox-connect", "logon", "folders"):
                self._skip(step_id, mbx_target, blocked)
        self._address_book(ab_url, ab_target, probe_ab)
        self._ping_and_disconnect(mailbox, mbx_target, blocked)

    def _address_book(self, ab_url: str, ab_target: str, probe_ab: Step | None) -> None:
        from mapiprobe.session.addressbook import AddressBookSession

        if probe_ab is not None and probe_ab.status in (Status.FAIL, Status.SKIPPED):
            self._skip("ab-bind", ab_target, _because(probe_ab, "the address book endpoint failed the probe"))
            self._skip("resolve", self.email, "no address book session")
            return
        auth = self._auth()
        session = AddressBookSession(
            ab_url,
            auth=auth,
            connection=self.connection,
            trace=self.trace,
            cancel=self.cancel,
            keepalive=False,
            reconnect=False,
        )
        try:

            def bind() -> _Outcome:
                started = time.perf_counter()
                try:
                    info = session.bind()
                except Exception as exc:
                    return self._judge_error(exc, "address book", started)
                self.facts["ab_expiration_ms"] = info.expiration_ms
                return _ok(
                    f"bound ({info.server_application or 'server'}, GUID {info.server_guid})",
                    *self._auth_evidence(auth),
                )

            step = self._run_step("ab-bind", ab_target, bind)
            self.facts["ab_auth"] = self._auth_scheme_used(auth)
            if step.status == Status.FAIL:
                self._skip("resolve", self.email, "the address book Bind failed")
                return

            def resolve() -> _Outcome:
                started = time.perf_counter()
                try:
                    found = session.resolve([self.email])
                except Exception as exc:
                    return self._judge_error(exc, "address book", started)
                r = found[0] if found else None
                if r is None or r.status.upper() != "RESOLVED" or r.entry is None:
                    status = r.status if r is not None else "no answer"
                    return _bad(Status.FAIL, "not-resolved", status, email=self.email, detail=status)
                return _ok(
                    f"{self.email} is {r.entry.display_name}",
                    Evidence("entry", f"{r.entry.display_name} <{r.entry.smtp_address or '-'}>"),
                )

            self._run_step("resolve", self.email, resolve)
        finally:
            self._ab_session = session

    def _ping_and_disconnect(self, mailbox: Any, target: str, blocked: str | None) -> None:
        from mapiprobe.transport.mapihttp import ContextExpired

        ab = getattr(self, "_ab_session", None)
        if mailbox is None or blocked is not None:
            self._skip("ping", target, blocked or "no mailbox session")
        else:

            def ping() -> _Outcome:
                announced_ms = mailbox.context_expiration_ms
                announced = f"{announced_ms / 1000:.0f} s" if announced_ms is not None else "nothing"
                idle = self.options.idle_check_s
                if idle > 0 and self.cancel.wait(idle):
                    raise DiagnosisCancelled()
                started = time.perf_counter()
                try:
                    result = mailbox.ping_now()
                except ContextExpired as exc:
                    if announced_ms is None or announced_ms / 1000 > idle:
                        return _bad(
                            Status.FAIL,
                            "context-expires-early",
                            "the context expired early",
                            Evidence("PING", exc.message),
                            idle=idle,
                            announced=announced,
                        )
                    return self._judge_error(exc, "mailbox", started)
                except Exception as exc:
                    return self._judge_error(exc, "mailbox", started)
                ev = Evidence("PING", f"after {idle:.1f} s idle: X-ExpirationInfo {result.expiration_ms} ms")
                lifetime_ms = result.expiration_ms if result.expiration_ms is not None else announced_ms
                if lifetime_ms is not None and lifetime_ms / 1000 < SHORT_CONTEXT_S:
                    return _bad(
                        Status.WARN,
                        "context-short",
                        f"contexts live {lifetime_ms / 1000:.1f} s",
                        ev,
                        seconds=lifetime_ms / 1000,
                    )
                return _ok(f"context kept alive (server keeps it {announced})", ev)

            self._run_step("ping", target, ping)

        def disconnect() -> _Outcome:
            errors = []
            started = time.perf_counter()
            if mailbox is not None:
                mailbox.close()
                if mailbox.close_error is not None:
                    errors.append(f"mailbox: {mailbox.close_error}")
                self.facts["mailbox_requests"] = mailbox.stats.requests
            if ab is not None:
                try:
                    ab.close()
                except Exception as exc:
                    errors.append(f"address book: {exc}")
            ms = (time.perf_counter() - started) * 1000
            if errors:
                return _bad(Status.WARN, "disconnect-failed", "; ".join(errors), detail="; ".join(errors))
            return _ok(f"sessions closed in {ms:.0f} ms")

        if mailbox is None and ab is None:
            self._skip("disconnect", target, "no session was opened")
        else:
            self._run_step("disconnect", target, disconnect)

    # -- judging errors --------------------------------------------------------------------------------

    def _judge_error(self, exc: BaseException, role: str, started: float) -> _Outcome:
        from mapiprobe.session.mailbox import MailboxError, MailboxMoved
        from mapiprobe.transport.mapihttp import ContextExpired, MapiHttpError

        seconds = time.perf_counter() - started
        detail = getattr(exc, "message", None) or str(exc)
        ev = Evidence("error", f"{type(exc).__name__}: {detail}")
        if isinstance(exc, AuthenticationFailed):
            other = self._find_status("mailbox-connect") if role == "address book" else None
            if other == Status.PASS:
                return _bad(Status.FAIL, "auth-refused-one-endpoint", detail, ev, detail=detail)
            return _bad(Status.FAIL, "auth-refused", detail, ev, role=role, detail=detail)
        if isinstance(exc, ConnectionLost) or (
            isinstance(exc, TransportError) and exc.kind == "connection-lost"
        ):
            last = self._last_record()
            pending = (last.pending_count if last is not None else None) or "PENDING" in detail
            if pending:
                return _bad(Status.FAIL, "lb-cut", f"cut after {seconds:.1f} s", ev, seconds=seconds)
            return _bad(Status.FAIL, "connection-lost", detail, ev, role=role, detail=detail)
        if isinstance(exc, ContextExpired):
            return _bad(Status.FAIL, "context-expires-early", detail, ev, idle=seconds, announced="?")
        if isinstance(exc, HTTPFailure):
            if exc.status in (502, 503, 504):
                return _bad(
                    Status.FAIL,
                    "front-end-unavailable",
                    detail,
                    ev,
                    role=role,
                    http_status=exc.status,
                    detail=detail,
                )
            return _bad(Status.FAIL, "front-end-html", detail, ev, role=role, http_status=exc.status)
        if isinstance(exc, MapiHttpError):
            return _bad(
                Status.FAIL,
                "mapihttp-error",
                detail,
                ev,
                role=role,
                detail=f"{exc.response_code} ({exc.name}): {exc.server_text or ''}",
            )
        if isinstance(exc, MailboxMoved):
            return _bad(Status.FAIL, "mailbox-moved", detail, ev, detail=detail)
        if isinstance(exc, MailboxError | TransportError):
            return _bad(Status.FAIL, "request-failed", detail, ev, role=role, detail=detail)
        return _bad(Status.FAIL, "request-failed", detail, ev, role=role, detail=detail)

    def _stalled(self, outcome: _Outcome, since: float, what: str) -> _Outcome:
        """A passing outcome becomes a warning when a request of it (since ``since``, wall clock) was slow."""
        if outcome.status != Status.PASS:
            return outcome
        slow = [
            r
            for r in self.trace.records
            if r.started_at >= since
            and r.total_ms is not None
            and r.total_ms / 1000 > self.options.slow_request_s
        ]
        if not slow:
            return outcome
        worst = max(slow, key=lambda r: r.total_ms or 0)
        seconds = (worst.total_ms or 0) / 1000
        name = worst.request_type or worst.method
        return _bad(
            Status.WARN,
            "server-stalls",
            f"{outcome.summary}; but {name} took {seconds:.1f} s",
            *outcome.evidence,
            Evidence(
                "slowest request", f"{name} {worst.url}: {seconds:.1f} s, {worst.pending_count or 0} PENDING"
            ),
            what=f"the {what} request {name}",
            seconds=seconds,
        )

    def _find(self, step_id: str, target: str) -> Step | None:
        with self._lock:
            return next((s for s in self._steps if s.id == step_id and s.target == target), None)

    def _find_status(self, step_id: str) -> Status | None:
        with self._lock:
            found = next((s for s in self._steps if s.id == step_id), None)
        return found.status if found is not None else None

    def _last_record(self) -> TraceRecord | None:
        records = [r for r in self.trace.records if r.outcome != "ok"]
        return records[-1] if records else None

    @staticmethod
    def _auth_evidence(auth: Any) -> list[Evidence]:
        return [
            Evidence(
                "authentication",
                f"{o.scheme}{' (' + o.mechanism + ')' if o.mechanism else ''}: "
                f"{'accepted' if o.ok else 'refused'} after {o.legs} leg(s)",
            )
            for o in auth_outcomes(auth).values()
        ]

    @staticmethod
    def _auth_scheme_used(auth: Any) -> str | None:
        outcomes = list(auth_outcomes(auth).values())
        if not outcomes:
            return None
        o = outcomes[-1]
        return f"{o.scheme}{' (' + o.mechanism + ')' if o.mechanism else ''}"


def _because(step: Step, failed: str) -> str:
    """Why a dependent step is skipped: the same reason as ``step`` when it was skipped itself."""
    if step.status == Status.SKIPPED:
        return step.summary.removeprefix("skipped: ")
    return failed


def _word(ok: bool | None) -> str:
    return {True: "reachable", False: "not reachable", None: "not checked"}[ok]


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return f"timed out ({text})" if "timed out" not in text.lower() else text
    return text


def diagnose(email: str, options: DiagnosisOptions | None = None, **kwargs: Any) -> DiagnosisResult:
    """Run a :class:`Diagnosis` (same arguments)."""
    return Diagnosis(email, options, **kwargs).run()


__all__ = ["Diagnosis", "DiagnosisCancelled", "DiagnosisOptions", "DiagnosisResult", "diagnose"]
