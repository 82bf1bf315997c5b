"""RPC/HTTP endpoints from Autodiscover's EXHTTP/EXPR/EXCH blocks (MS-OXDSCLI 2.2.4.1.1.2.6) or options."""

from __future__ import annotations

from pathlib import Path

from mapiprobe.protocol.autodiscover import AutodiscoverResponse, LegacyProtocol, parse_response
from mapiprobe.session.rpch_settings import settings_from_autodiscover, settings_from_options

DATA = Path(__file__).resolve().parents[1] / "data"


def test_exhttp_wins_and_exch_names_the_server() -> None:
    raw = (DATA / "autodiscover_constructed_gromox_style.xml").read_bytes()
    while raw.startswith(b"#"):  # the citation lines
        raw = raw.split(b"\n", 1)[1]
    response = parse_response(raw)
    s = settings_from_autodiscover(response)
    assert s is not None
    assert (s.proxy, s.server, s.ssl, s.source) == (
        "mx.example.org",
        "0a1b2c3d-0000-4000-8000-000000000001@example.org",
        True,
        "EXHTTP",
    )
    assert s.http_scheme == "ntlm" and s.cert_principal_name is None  # CertPrincipalName None
    ep = s.endpoint()
    assert (
        ep.url
        == "https://mx.example.org/rpc/rpcproxy.dll?0a1b2c3d-0000-4000-8000-000000000001@example.org:6001"
    )


def test_expr_with_cert_principal_and_ssl_off() -> None:
    expr = LegacyProtocol.from_settings(
        "EXPR", [("Server", "rpc.contoso.test"), ("SSL", "Off"), ("AuthPackage", "Basic"),
                 ("CertPrincipalName", "msstd:rpc.contoso.test")],
    )  # fmt: skip
    exch = LegacyProtocol.from_settings("EXCH", [("Server", "EXMBX01")])
    s = settings_from_autodiscover(AutodiscoverResponse("settings", legacy=(exch, expr)))
    assert s is not None
    assert (s.proxy, s.server, s.ssl, s.http_scheme, s.source) == (
        "rpc.contoso.test",
        "EXMBX01",
        False,
        "basic",
        "EXPR",
    )
    assert s.endpoint().cert_principal == "msstd:rpc.contoso.test"
    assert s.endpoint().url.startswith("http://rpc.contoso.test/rpc/")


def test_options_override_and_absence() -> None:
    assert settings_from_autodiscover(AutodiscoverResponse("settings")) is None
    s = settings_from_autodiscover(
        AutodiscoverResponse("settings"), proxy="localhost:8443", server="localhost"
    )
    assert s is not None and s.endpoint().proxy_port == 8443 and s.source == "options"
    o = settings_from_options("mail.contoso.test", None)
    assert o.server == "mail.contoso.test" and o.endpoint().proxy_port == 443


def test_mailbox_route_as_outlook_chooses() -> None:
    import pytest

    from mapiprobe.protocol.autodiscover import AutodiscoverUser, MapiHttpSettings
    from mapiprobe.session.mailbox_transport import RouteError, mailbox_route

    user = AutodiscoverUser("Dana", "/o=Example/cn=dana")
    exhttp = LegacyProtocol.from_settings("EXHTTP", [("Server", "mx.example.org"), ("AuthPackage", "Ntlm")])
    exch = LegacyProtocol.from_settings("EXCH", [("Server", "guid@example.org")])
    legacy_only = AutodiscoverResponse("settings", user=user, legacy=(exch, exhttp))
    route = mailbox_route(legacy_only)
    assert (route.protocol, route.legacy_dn) == ("rpc-http", "/o=Example/cn=dana")
    assert route.url == "https://mx.example.org/rpc/rpcproxy.dll?guid@example.org:6001"
    assert route.rpc_http is not None and route.rpc_http.http_scheme == "ntlm"
    with pytest.raises(RouteError, match="offers RPC/HTTP"):
        mailbox_route(legacy_only, protocol="mapi-http")
    mapi = MapiHttpSettings(
        1, mailstore_external="https://mx.example.org/mapi/emsmdb/?MailboxId=guid@example.org"
    )
    both = AutodiscoverResponse("settings", user=user, mapi_http=mapi, legacy=(exch, exhttp))
    assert mailbox_route(both).protocol == "mapi-http"
    assert mailbox_route(both, protocol="rpc-http").protocol == "rpc-http"
    with pytest.raises(RouteError, match="give --rpc-proxy"):
        mailbox_route(AutodiscoverResponse("settings", user=user), protocol="rpc-http")
    direct = mailbox_route(
        None, protocol="rpc-http", rpc_proxy="localhost:8443", rpc_server="x", legacy_dn="/o=X"
    )
    assert direct.url == "https://localhost:8443/rpc/rpcproxy.dll?x:6001"
