"""The simulator's Autodiscover endpoints: POX v1 (MS-OXDSCLI), the v2 JSON lookup, the HTTP redirect probe.

* ``POST https://{autodiscover,mail}.<domain>/autodiscover/autodiscover.xml`` (Basic over HTTPS; MS-OXDSCLI
  3.2.5): a ``mapiHttp`` block when the client sends ``X-MapiHttpCapability`` (MS-OXDSCLI 3.1.4, 2.2.2.1)
  and the legacy EXCH/EXPR/EXHTTP/WEB blocks when it does not, as Exchange 2016/2019 do, plus ``User``.
* ``GET https://…/autodiscover/autodiscover.json/v1.0/<smtp>?Protocol=AutodiscoverV1`` (Autodiscover v2,
  PROTOCOL.md 1.4: not in the open specs): the v1 URL as JSON, unauthenticated.
* ``GET http://autodiscover.<domain>/autodiscover/autodiscover.xml`` on the plain-HTTP listener: 302 to the
  HTTPS URL, never asking for credentials (MS-OXDISCO 3.1.5.4).
* The root domain ``https://<domain>/…`` is a web site without Autodiscover: 404.

Scenario behaviour is chosen per request from :attr:`AutodiscoverService.scenario`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote

from mapiprobe.protocol.autodiscover import (
    AutodiscoverResponse,
    AutodiscoverUser,
    ErrorResponse,
    LegacyProtocol,
    MapiHttpSettings,
    XmlNode,
    build_response,
    parse_request,
)
from mapiprobe.protocol.errors import AutodiscoverError

from .org import Organisation, SimUser
from .web import Request, Response, Site

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
AUTODISCOVER_JSON_PATH = "/autodiscover/autodiscover.json"
XML_TYPE = "text/xml; charset=utf-8"

HTML_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Contoso Remote Access</title></head>
<body><h1>Contoso Remote Access</h1>
<form method="post" action="/portal/login"><label>User name <input name="username"></label>
<label>Password <input name="password" type="password"></label><button>Sign in</button></form>
</body></html>
"""


class AutodiscoverService:
    """Answers Autodiscover for one organisation according to the current scenario."""

    def __init__(
        self,
        org: Organisation,
        scenario: Callable[[], str],
        *,
        slow_seconds: Callable[[], float],
        stopping: threading.Event,
    ) -> None:
        self.org = org
        self.scenario = scenario
        self.slow_seconds = slow_seconds
        self.stopping = stopping
        self.rtt_s = 0.0
        """Added before every POX answer after authentication: the network's round trip, for
        benchmarks/compare.py (as MapiHttpService.rtt_s and RpcProxyService.rtt_s)."""

    # -- wiring ----------------------------------------------------------------------------------

    def install(self, https: Site, http: Site) -> None:
        org = self.org
        service_hosts = [
            f"{p}.{d}" for d in (org.domain, org.redirect_domain) for p in ("autodiscover", "mail")
        ]
        https.add(AUTODISCOVER_PATH, self.pox, methods=("POST",), hosts=service_hosts, auth=True, name="pox")
        https.add(AUTODISCOVER_PATH, self.get_pox, methods=("GET",), hosts=service_hosts, name="pox-get")
        https.add(
            AUTODISCOVER_JSON_PATH, self.v2, methods=("GET",), hosts=service_hosts, name="autodiscover-v2"
        )
        http.add(AUTODISCOVER_PATH, self.http_probe, methods=("GET",), name="redirect-probe")

    def url(self, domain: str | None = None, host_prefix: str = "autodiscover") -> str:
        return f"https://{host_prefix}.{domain or self.org.domain}{AUTODISCOVER_PATH}"

    # -- handlers --------------------------------------------------------------------------------

    def http_probe(self, req: Request) -> Response:
        """MS-OXDISCO 3.1.5.4: the unauthenticated GET on plain HTTP answers 302 to the HTTPS endpoint."""
        domain = self._domain_of(req.host) or self.org.domain
        resp = Response.text(302, "302 Found\n")
        resp.headers.append(("Location", self.url(domain)))
        return resp

    def get_pox(self, req: Request) -> Response:
        """A browser GET on the POX URL: Exchange answers an Error 600 (Invalid Request) document."""
        return self._xml(self._error("600", "Invalid Request"))

    def v2(self, req: Request) -> Response:
        """Autodiscover v2 (PROTOCOL.md 1.4): ``/autodiscover/autodiscover.json/v1.0/<smtp>?Protocol=…``."""
        query = {k.lower(): v[0] for k, v in parse_qs(req.query).items()}
        rest = req.path[len(AUTODISCOVER_JSON_PATH) :].strip("/")
        address = query.get("email")
        if rest.lower().startswith("v1.0"):
            tail = unquote(rest[4:].strip("/"))
            address = address or tail or None
        protocol = query.get("protocol")
        if not protocol:
            return _json(
                400,
                {
                    "ErrorCode": "MandatoryParameterMissing",
                    "ErrorMessage": "A valid value must be provided for the query parameter 'Protocol'.",
                },
            )
        if not address or "@" not in address:
            return _json(
                400,
                {
                    "ErrorCode": "MandatoryParameterMissing",
                    "ErrorMessage": "A valid email address must be provided.",
                },
            )
        domain = self._domain_of(req.host) or self.org.domain
        urls = {
            "autodiscoverv1": self.url(domain),
            "ews": f"https://mail.{domain}/EWS/Exchange.asmx",
            "activesync": f"https://mail.{domain}/Microsoft-Server-ActiveSync",
            "rest": f"https://mail.{domain}/api",
        }
        url = urls.get(protocol.lower())
        if url is None:
            return _json(
                400,
                {
                    "ErrorCode": "ProtocolNotSupported",
                    "ErrorMessage": f"The given protocol value '{protocol}' is invalid. Supported values are "
                    "'ActiveSync,AutodiscoverV1,Ews,Rest'.",
                },
            )
        canonical = {
            "autodiscoverv1": "AutodiscoverV1",
            "ews": "Ews",
            "activesync": "ActiveSync",
            "rest": "Rest",
        }
        return _json(200, {"Protocol": canonical[protocol.lower()], "Url": url})

    def pox(self, req: Request) -> Response:
        """The POX Autodiscover POST (MS-OXDSCLI 3.2.5), after authentication."""
        scenario = self.scenario()
        if self.rtt_s > 0 and self.stopping.wait(self.rtt_s):
            return Response.text(503, "503 Service Unavailable (simulator stopping)\n")
        if scenario == "slow" and self.stopping.wait(self.slow_seconds()):
            return Response.text(503, "503 Service Unavailable (simulator stopping)\n")
        if scenario == "html-login":
            return Response.text(200, HTML_LOGIN_PAGE, "text/html; charset=utf-8")
        try:
            request = parse_request(req.body)
        except AutodiscoverError as exc:
            return self._xml(self._error("600", "Invalid Request", debug=str(exc)))
        schema = request.acceptable_response_schema or ""
        if "outlook/responseschema/2006a" not in schema.lower():
            return self._xml(self._error("601", "The requested schema version is not supported"))
        if scenario == "unknown-user":
            return self._xml(self._error("500", "The email address can't be found."))
        # MS-OXDSCLI 3.2.5: with both EMailAddress and LegacyDN the server MUST use LegacyDN.
        if request.legacy_dn:
            user = self.org.find_by_legacy_dn(request.legacy_dn)
            address = user.email if user else request.legacy_dn
        else:
            address = request.email or ""
            user = self.org.find_user(address)
        if user is None:
            return self._xml(self._error("500", "The email address can't be found."))
        req_domain = address.rpartition("@")[2].lower() or self.org.domain
        host = req.host
        if scenario == "redirect-addr" and req_domain == self.org.domain:
            target = f"{user.local_part}@{self.org.redirect_domain}"
            return self._xml(
                AutodiscoverResponse(action="redirectAddr", redirect_addr=target, account_type="email")
            )
        if scenario == "redirect-url" and host != self.org.mail_host:
            return self._xml(
                AutodiscoverResponse(
                    action="redirectUrl", redirect_url=self.url(host_prefix="mail"), account_type="email"
                )
            )
        if scenario == "redirect-loop":
            other = "mail" if host.startswith("autodiscover.") else "autodiscover"
            return self._xml(
                AutodiscoverResponse(
                    action="redirectUrl", redirect_url=self.url(host_prefix=other), account_type="email"
                )
            )
        wants_mapi = req.header("X-MapiHttpCapability") is not None
        return self._xml(self.settings_for(user, address, wants_mapi=wants_mapi, scenario=scenario))

    # -- documents -------------------------------------------------------------------------------

    def settings_for(
        self, user: SimUser, address: str, *, wants_mapi: bool, scenario: str
    ) -> AutodiscoverResponse:
        org = self.org
        domain = address.rpartition("@")[2].lower() or org.domain
        smtp = f"{user.local_part}@{domain}"
        mailbox_id = f"{user.mailbox_guid}@{org.domain}"
        if scenario == "mapihttp-disabled":
            send_mapi, send_legacy = False, True
        elif scenario == "ignores-header":
            send_mapi, send_legacy = True, True
        else:
            send_mapi, send_legacy = wants_mapi, not wants_mapi
        mapi = None
        if send_mapi:
            emsmdb = f"https://{org.mail_host}/mapi/emsmdb/?MailboxId={mailbox_id}"
            nspi = f"https://{org.mail_host}/mapi/nspi/?MailboxId={mailbox_id}"
            mapi = MapiHttpSettings(1, emsmdb, emsmdb, nspi, nspi)
        legacy: list[LegacyProtocol] = []
        if send_legacy:
            legacy = self._legacy_blocks(user, mailbox_id, basic_only=scenario == "basic-only")
        legacy.append(self._web_block())
        return AutodiscoverResponse(
            action="settings",
            user=AutodiscoverUser(user.display_name, user.legacy_dn, smtp, org.deployment_id),
            mapi_http=mapi,
            legacy=tuple(legacy),
            account_type="email",
        )

    def _legacy_blocks(self, user: SimUser, mailbox_id: str, *, basic_only: bool) -> list[LegacyProtocol]:
        """EXCH (inside), EXPR and EXHTTP (outside). Exchange 2019's defaults: Outlook Anywhere's external
        client authentication Negotiate, internal NTLM; ``basic-only`` says Basic everywhere."""
        org = self.org
        # Outlook Anywhere's HTTP authentication (simulator/rpcproxy.py's /rpc/ offers Negotiate, NTLM and
        # Basic, as Exchange 2019's IIS does); Basic in the basic-only scenario (gromox-like).
        inside, outside = ("Basic", "Basic") if basic_only else ("Ntlm", "Negotiate")
        mail = f"https://{org.mail_host}"
        server_dn = f"{org.administrative_group}/cn=Configuration/cn=Servers/cn={mailbox_id}"
        urls = [
            ("ASUrl", f"{mail}/EWS/Exchange.asmx"),
            ("EwsUrl", f"{mail}/EWS/Exchange.asmx"),
            ("EcpUrl", f"{mail}/owa/"),
            ("OOFUrl", f"{mail}/EWS/Exchange.asmx"),
            ("OABUrl", f"{mail}/OAB/5a1c2e3f-0b4d-4c6e-8f9a-1b2c3d4e5f60/"),
        ]
        exch = LegacyProtocol.from_settings(
            "EXCH",
            [
                ("Server", mailbox_id),
                ("ServerDN", server_dn),
                ("ServerVersion", org.server_version),
                ("MdbDN", f"{server_dn}/cn=Microsoft Private MDB"),
                ("PublicFolderServer", org.mail_host),
                ("AuthPackage", inside),
                *urls,
                ("ServerExclusiveConnect", "off"),
            ],
        )
        expr = LegacyProtocol.from_settings(
            "EXPR",
            [
                ("Server", org.mail_host),
                ("SSL", "On"),
                ("AuthPackage", outside),
                *urls,
                ("ServerExclusiveConnect", "On"),
                ("CertPrincipalName", "None"),
            ],
        )
        exhttp = LegacyProtocol.from_settings(
            "EXHTTP",
            [
                ("Server", org.mail_host),
                ("SSL", "On"),
                ("AuthPackage", outside),
                *urls,
                ("ServerExclusiveConnect", "On"),
                ("CertPrincipalName", "None"),
            ],
        )
        return [exch, expr, exhttp]

    def _web_block(self) -> LegacyProtocol:
        owa = f"https://{self.org.mail_host}/owa/"

        def owa_url() -> XmlNode:
            return XmlNode("OWAUrl", owa, (("AuthenticationMethod", "Basic, Fba"),))

        node = XmlNode(
            "Protocol",
            None,
            (),
            (
                XmlNode("Type", "WEB"),
                XmlNode("Internal", None, (), (owa_url(),)),
                XmlNode("External", None, (), (owa_url(),)),
            ),
        )
        return LegacyProtocol.from_element(node)

    def _error(self, code: str, message: str, *, debug: str = "") -> AutodiscoverResponse:
        now = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        return AutodiscoverResponse(
            action="error", error=ErrorResponse(code, message, debug, now, "2847361093")
        )

    def _xml(self, resp: AutodiscoverResponse) -> Response:
        return Response(200, [("Content-Type", XML_TYPE)], build_response(resp))

    def _domain_of(self, host: str) -> str | None:
        for dom in (self.org.domain, self.org.redirect_domain):
            if host == dom or host.endswith("." + dom):
                return dom
        return None


def _json(status: int, obj: dict[str, str]) -> Response:
    return Response(status, [("Content-Type", "application/json; charset=utf-8")], json.dumps(obj).encode())


__all__ = ["AUTODISCOVER_PATH", "AutodiscoverService"]
