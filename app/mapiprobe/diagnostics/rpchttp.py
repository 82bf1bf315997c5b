"""The RPC/HTTP (Outlook Anywhere) path of a diagnosis, when Autodiscover offers no MAPI/HTTP settings.

Outlook falls back to RPC/HTTP when the organisation has MAPI/HTTP switched off, or when the client has
MapiHttpDisabled (the emulation). The ``mapi-http`` step says which; then, as Outlook would, the checks go on
over RPC/HTTP: the RPC proxy's host (``dns``/``tcp``/``tls``/``proxy``), ``reachability`` and ``probe`` of the
RPC proxy URL, ``rpc-http`` (the virtual connection: HTTP authentication at the proxy, the IN and OUT
channels, the EMSMDB bind and its RPC-level authentication), and the mailbox (``mailbox-connect``, ``logon``,
``folders``, ``ping``, ``disconnect``) and the address book (``ab-bind``: RFR, then NSPI; ``resolve``) through
the RPC proxy (session/mailbox_transport.py, session/addressbook_transport.py).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from mapiprobe.diagnostics.runner import Checks
from mapiprobe.diagnostics.steps import Evidence, Status
from mapiprobe.transport.errors import redact_url

RPC_PROXY_PORT_HTTPS = 443


class RpcHttpChecks(Checks):
    def _rpc_http_path(self, discovery: Any) -> bool:
        """The RPC/HTTP checks; False when the answer has no RPC/HTTP settings either."""
        from mapiprobe.session.mailbox_transport import rpc_http_transport
        from mapiprobe.session.rpch_settings import settings_from_autodiscover
        from mapiprobe.transport.auth import Credentials

        response = discovery.response
        settings = settings_from_autodiscover(response) if response is not None else None
        legacy_dn = response.user.legacy_dn if response is not None and response.user else None
        if settings is None or not legacy_dn:
            return False
        creds = self.options.credentials or Credentials()
        scheme = (
            self.options.auth_scheme if self.options.auth_scheme in ("basic", "ntlm", "negotiate") else None
        )
        transport = rpc_http_transport(settings, creds, self.connection, trace=self.trace, http_scheme=scheme)
        url = str(transport.url)
        parts = urlsplit(url)
        where = ((parts.hostname or "").lower(), parts.port or RPC_PROXY_PORT_HTTPS)
        self.facts["protocol"] = "RPC/HTTP"
        self._check_hosts([where], candidate=False)
        target = redact_url(url)

        def reach() -> Any:
            from mapiprobe.diagnostics.runner import _bad, _ok

            facts = self._hosts.get(where)
            ev = Evidence("RPC/HTTP", settings.describe())
            if facts is not None and facts.tcp_ok and facts.tls_ok:
                return _ok(f"the RPC proxy {where[0]} is reachable from here", ev)
            return _bad(
                Status.FAIL,
                "endpoint-unreachable",
                "the RPC proxy is not reachable from here",
                ev,
                role="RPC/HTTP",
                url=target,
                detail="see the host steps",
            )

        facts = self._hosts.get(where)
        if facts is not None and facts.tcp_ok and not facts.tls_ok:
            step = self._skip("reachability", target, f"the TLS check of {where[0]} failed")
        else:
            step = self._run_step("reachability", target, reach)
        self.facts["mailbox_url"] = target
        self.facts["mailbox_reachable"] = step.status == Status.PASS
        if self.facts["mailbox_reachable"]:
            probe = self._run_step("probe", target, lambda: self._rpc_probe(url))
        else:
            probe = self._skip("probe", target, "the RPC proxy is not reachable")
        blocked = None
        if probe.status in (Status.FAIL, Status.SKIPPED):
            blocked = (
                probe.summary.removeprefix("skipped: ")
                if probe.status == Status.SKIPPED
                else ("the RPC proxy failed the probe")
            )
            self._skip("rpc-http", target, blocked)
        else:
            step = self._run_step("rpc-http", target, lambda: self._rpc_open(transport))
            if step.status == Status.FAIL:
                blocked = "the RPC/HTTP connection failed"
        from mapiprobe.session.addressbook_transport import rpc_http_addressbook_transport

        ab_transport = rpc_http_addressbook_transport(
            settings, creds, self.connection, user_dn=legacy_dn, trace=self.trace, http_scheme=scheme
        )
        self._sessions(
            url, ab_transport.url, legacy_dn, transport=transport, ab_transport=ab_transport, blocked=blocked
        )
        return True

    def _rpc_open(self, transport: Any) -> Any:
        """Open the virtual connection and bind EMSMDB (RPC-level authentication ``auto``, as Outlook)."""
        from mapiprobe.diagnostics.runner import _bad, _ok

        started = time.perf_counter()
        try:
            transport.open()
        except Exception as exc:
            return self._judge_error(exc, "RPC/HTTP", started)
        connections = list(transport.connections)
        last = connections[-1] if connections else None
        http_scheme, rpc_auth = transport.http_scheme_used, transport.rpc_auth_used
        self.facts["mailbox_auth"] = http_scheme
        evidence = [
            Evidence("RPC proxy", f"{transport.url}"),
            Evidence(
                "virtual connection",
                f"HTTP authentication {http_scheme}, RPC-level {rpc_auth}, {len(connections)} attempt(s)"
                + (f", echo {last.echo_ms:.0f} ms" if last is not None and last.echo_ms is not None else ""),
            ),
        ]
        creds = self.options.credentials
        if len(connections) > 1 and rpc_auth == "none" and creds is not None and creds.can_spnego:
            return _bad(Status.WARN, "rpc-auth-none", "bound without RPC-level authentication", *evidence)
        return _ok(f"IN and OUT channels open, EMSMDB bound ({http_scheme}, RPC-level {rpc_auth})", *evidence)

    def _transport_error(self, exc: BaseException, role: str, ev: Evidence) -> Any:
        from mapiprobe.diagnostics.runner import _bad
        from mapiprobe.transport.errors import ConnectionLost
        from mapiprobe.transport.rpch import RpchError

        message = getattr(exc, "message", None) or str(exc)
        if isinstance(exc, RpchError) and "HTTP 503" in message:
            return _bad(Status.FAIL, "rpc-server-refused", message, ev, detail=message)
        if isinstance(exc, ConnectionLost) and "RPC proxy closed the" in message:
            channel = "OUT" if "OUT channel" in message else "IN"
            return _bad(Status.FAIL, "rpc-channel-cut", message, ev, channel=channel, detail=message)
        return None

    def _rpc_probe(self, url: str) -> Any:
        """One anonymous ``RPC_IN_DATA`` (what opens Outlook's IN channel, MS-RPCH 2.1.2.1): the schemes."""
        from mapiprobe.diagnostics.runner import _bad, _ok
        from mapiprobe.transport.auth import offered_schemes
        from mapiprobe.transport.client import make_client
        from mapiprobe.transport.errors import TransportError, map_transport_errors

        try:
            with make_client(self.connection, trace=self.trace) as client, map_transport_errors(url):
                response = client.request(
                    "RPC_IN_DATA",
                    url,
                    headers={"Content-Length": "0", "Accept": "application/rpc"},
                    extensions={"mapiprobe.label": "probe RPC proxy (RPC_IN_DATA)"},
                )
        except TransportError as exc:
            return _bad(Status.FAIL, "request-failed", exc.message, role="RPC proxy", detail=exc.message)
        offered = offered_schemes(response)
        evidence = [
            Evidence("answer", f"HTTP {response.status_code}"),
            Evidence("WWW-Authenticate", ", ".join(offered) or "(none)"),
        ]
        self.facts["mailbox_offered"] = offered
        if response.status_code in (502, 503, 504):
            return _bad(
                Status.FAIL,
                "front-end-unavailable",
                f"HTTP {response.status_code}",
                *evidence,
                role="RPC proxy",
                http_status=response.status_code,
                detail="the RPC proxy or the service behind is unavailable",
            )
        if response.status_code != 401:
            return _bad(
                Status.FAIL,
                "front-end-html",
                f"HTTP {response.status_code} without asking for credentials",
                *evidence,
                role="RPC proxy",
                http_status=response.status_code,
            )
        if offered and all(s.lower() == "basic" for s in offered):
            return _bad(
                Status.WARN,
                "only-basic",
                "only Basic is offered",
                *evidence,
                role="RPC proxy",
                offered="Basic",
            )
        return _ok(f"asks for credentials: {', '.join(offered)}", *evidence)


__all__ = ["RpcHttpChecks"]
