"""Names and one-line descriptions of the simulator scenarios (kept light: the CLI imports it for --help)."""

from __future__ import annotations

SCENARIOS: dict[str, str] = {
    "normal": "a healthy Exchange 2019-like organisation (mapiHttp when X-MapiHttpCapability is sent;"
    " Autodiscover offers Negotiate, NTLM, Bearer and Basic, /mapi/ the same without Basic)",
    "mapihttp-disabled": "MAPI over HTTP switched off org-wide: legacy blocks only, even with the header",
    "ignores-header": "a non-Microsoft server: always mapiHttp plus legacy blocks, header or not",
    "redirect-addr": "Autodiscover for contoso.test answers redirectAddr to <user>@fabrikam.test",
    "redirect-url": "autodiscover.contoso.test answers redirectUrl to https://mail.contoso.test/autodiscover/…",
    "redirect-loop": "autodiscover and mail hosts redirect (redirectUrl) to each other forever",
    "unknown-user": "every Autodiscover request gets ErrorCode 500 (address not found)",
    "html-login": "a reverse proxy answers HTTP 200 with an HTML login page instead of XML",
    "slow": "Autodiscover answers only after slow_seconds",
    "dead-root": "the root-domain candidate contoso.test:443 is a host that accepts TCP and never answers",
    "mailbox-expired": "mailbox Session Contexts expire after 2 s without a request (PING keeps them alive)",
    "mailbox-moved": "the first RopLogon of each user answers ecWrongServer (the mailbox has moved)",
    "mailbox-slow": "the mailbox endpoint takes 1.2 s per request, with PENDING keep-alives every 0.3 s",
    "mailbox-503": "a front end answers every mailbox request with HTTP 503",
    "mailbox-html": "a proxy answers every mailbox request with an HTML page and HTTP 200",
    "windows-auth": "every endpoint offers Negotiate and NTLM only (Basic switched off)",
    "modern-auth": "every endpoint offers Bearer, Negotiate and NTLM (demo tokens in --json output)",
    "ab-refused": "the first user authenticates everywhere but is refused (401) on the address book endpoint",
    "cert-wrong-name": "mail.<domain> presents a certificate whose names do not cover it",
    "cert-expired": "mail.<domain> presents a certificate that expired two days ago",
    "cert-missing-intermediate": "mail.<domain> sends its certificate but not the intermediate CA above it",
    "context-expires-early": "mailbox contexts are forgotten after 1 s idle; X-ExpirationInfo says 15 min",
    "lb-cut": "a load balancer cuts mailbox requests after 0.8 s (each takes 1.5 s with PENDING keep-alives)",
    "proxy-intercept": "the simulator's HTTP proxy (proxy_url) decrypts TLS with its own CA, not a tunnel",
    "basic-only": "like normal, but every endpoint offers Basic only and RPC/HTTP accepts RPC-level auth none"
    " (as gromox)",
    "rpch-unknown-server": "the RPC proxy refuses every RPC server name (HTTP 503)",
    "rpch-channel-cut": "the RPC proxy drops the OUT channel after the first EcDoRpcExt2 answer",
    "rpch-authn-level": "the RPC server refuses binds with RPC-level authentication (bind_nak), takes none",
}

__all__ = ["SCENARIOS"]
