"""Where RPC/HTTP goes: the RPC proxy and RPC server from Autodiscover's legacy blocks, or given directly.

MS-OXDSCLI 2.2.4.1.1.2.6: ``EXHTTP`` (Exchange 2013 and later, preferred when present) or ``EXPR`` (Outlook
Anywhere "outside") names the RPC proxy (``Server``), whether it speaks TLS (``SSL``), the HTTP
authentication it wants (``AuthPackage``: Basic, Ntlm, Negotiate...) and the certificate's principal name
(``CertPrincipalName``: ``msstd:NAME`` or ``None``); ``EXCH``'s ``Server`` is the RPC server behind the
proxy (the mailbox GUID@domain on Exchange 2013 and later, a server name before). ``--rpc-proxy HOST[:PORT]``
and ``--rpc-server NAME`` replace either.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.transport.rpch import EMSMDB_PORT, RpchEndpoint

_AUTH_PACKAGES = {"basic": "basic", "ntlm": "ntlm", "negotiate": "negotiate", "kerb": "negotiate"}


@dataclass(frozen=True)
class RpcHttpSettings:
    """The RPC/HTTP endpoint of a mailbox and how to authenticate at the proxy."""

    proxy: str
    """HOST or HOST:PORT of the RPC proxy."""
    server: str
    """The RPC server name sent in the URL (``?SERVER:6001``)."""
    ssl: bool = True
    auth_package: str | None = None
    """As Autodiscover wrote it (``Ntlm``, ``Basic``...), None when not given."""
    cert_principal_name: str | None = None
    source: str = "options"
    """``EXHTTP``, ``EXPR`` or ``options`` (``--rpc-proxy``/``--rpc-server``)."""

    @property
    def http_scheme(self) -> str:
        """The HTTP scheme AuthPackage asks for (``auto`` when it names none we know)."""
        return _AUTH_PACKAGES.get((self.auth_package or "").strip().lower(), "auto")

    def endpoint(self, port: int = EMSMDB_PORT) -> RpchEndpoint:
        return RpchEndpoint.parse_proxy(
            self.proxy, self.server, server_port=port, https=self.ssl, cert_principal=self.cert_principal_name
        )

    def describe(self) -> str:
        scheme = "https" if self.ssl else "http"
        extra = f", AuthPackage {self.auth_package}" if self.auth_package else ""
        return f"RPC proxy {scheme}://{self.proxy}, RPC server {self.server} (from {self.source}{extra})"


def settings_from_autodiscover(
    response: AutodiscoverResponse, *, proxy: str | None = None, server: str | None = None
) -> RpcHttpSettings | None:
    """The RPC/HTTP settings of an Autodiscover answer (EXHTTP before EXPR), with the given overrides;
    None when the answer has no RPC/HTTP block and no override names the proxy."""
    outside = response.protocol("EXHTTP") or response.protocol("EXPR")
    exch = response.protocol("EXCH")
    proxy_host = proxy or (outside.server if outside is not None else None)
    rpc_server = server or (exch.server if exch is not None and exch.server else None) or proxy_host
    if not proxy_host or not rpc_server:
        return None
    ssl = True
    if outside is not None and (outside.ssl or "").strip().lower() == "off":
        ssl = False
    cpn = outside.cert_principal_name if outside is not None else None
    return RpcHttpSettings(
        proxy=proxy_host,
        server=rpc_server,
        ssl=ssl,
        auth_package=outside.auth_package if outside is not None else None,
        cert_principal_name=None if (cpn or "").strip().lower() in ("", "none") else cpn,
        source=outside.type.upper() if outside is not None and not proxy else "options",
    )


def settings_from_options(proxy: str, server: str | None) -> RpcHttpSettings:
    """``--rpc-proxy HOST[:PORT]`` and ``--rpc-server NAME`` (the proxy's host name when not given)."""
    host = proxy.rpartition("@")[2]
    return RpcHttpSettings(proxy=host, server=server or host.split(":")[0].strip("[]"), source="options")


__all__ = ["RpcHttpSettings", "settings_from_autodiscover", "settings_from_options"]
