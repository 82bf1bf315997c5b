"""Autodiscover and the endpoints it names: ``autodiscover``, ``mapi-http``, ``reachability``, ``probe``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from mapiprobe.diagnostics.runner import (
    Checks,
    DiagnosisCancelled,
    _bad,
    _HostFacts,
    _ok,
    _Outcome,
    _word,
)
from mapiprobe.diagnostics.steps import (
    Evidence,
    Status,
)
from mapiprobe.transport.errors import (
    redact_url,
)


class DiscoveryChecks(Checks):
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
            no_answer = detail.startswith("no Autodiscover answer")
            if any(a.outcome == "auth-failed" for a in result.attempts):
                return _bad(Status.FAIL, "autodiscover-auth", detail, *evidence, detail=detail)
            timeouts = [a for a in result.attempts if a.outcome == "timeout" and a.method == "POST"]
            if no_answer and timeouts:
                # Candidates that took too long, whatever a lookup (SRV...) offered besides.
                what = "; ".join(f"{a.url}: {a.detail or 'timed out'}" for a in timeouts)
                return _bad(
                    Status.FAIL,
                    "autodiscover-timeout",
                    "no candidate answered in time",
                    *evidence,
                    detail=what,
                )
            if "not approved" in detail or "consent" in code_text:
                return _bad(Status.FAIL, "autodiscover-redirect-consent", detail, *evidence, detail=detail)
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
        dead = [a for a in result.attempts if a.method == "POST" and self._never_answered(a)]
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

    def _never_answered(self, attempt: Any) -> bool:
        """A candidate that timed out, or that was abandoned and whose host's own TLS check got no answer
        either (an abandoned candidate is otherwise just one that was not waited for)."""
        if attempt.outcome == "timeout":
            return True
        if attempt.outcome != "abandoned":
            return False
        facts = self._facts_of(attempt.url)
        return (
            facts is not None
            and facts.tcp_ok
            and not facts.tls_ok
            and facts.tls is not None
            and bool(facts.tls.error)
        )

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
        from mapiprobe.session import mapihttp_disabled

        registry = mapihttp_disabled.registry_setting()
        evidence.append(Evidence("MapiHttpDisabled on this computer", registry.message))
        if mapi is not None:
            self.facts["protocol"] = "MAPI/HTTP"
            if registry.available and registry.disabled and not self.options.mapi_http_disabled:
                return _bad(
                    Status.WARN,
                    "mapihttp-disabled-registry",
                    "MAPI over HTTP is offered, but this computer's Outlook will not ask for it",
                    *evidence,
                    value=registry.value,
                )
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


__all__ = ["DiscoveryChecks"]
