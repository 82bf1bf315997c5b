"""Host checks of a diagnosis, for each host as soon as it is known: ``dns``, ``tcp``, ``tls``, ``proxy``.

``tls`` is the certificate report of transport/tls.py (chain as sent, names, expiry, missing intermediate),
made through the proxy when one applies; ``proxy`` names the proxy and compares the certificate seen through
it with the one seen directly, which tells a TLS-intercepting proxy from a tunnel.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from mapiprobe.diagnostics.runner import (
    Checks,
    DiagnosisCancelled,
    _bad,
    _HostFacts,
    _ok,
    _Outcome,
    _reason,
)
from mapiprobe.diagnostics.steps import (
    Evidence,
    Status,
)
from mapiprobe.transport.client import MappedBackend
from mapiprobe.transport.errors import (
    TransportError,
)
from mapiprobe.transport.proxy import TunnelBackend
from mapiprobe.transport.resolve import is_ip_literal


class HostChecks(Checks):
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


__all__ = ["HostChecks"]
