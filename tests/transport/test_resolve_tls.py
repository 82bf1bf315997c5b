"""Name resolution through a given DNS server (the simulator's), and certificate descriptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.simulator import Simulator
from mapiprobe.transport.client import ConnectionOptions, make_client
from mapiprobe.transport.errors import NameNotResolved, map_transport_errors
from mapiprobe.transport.resolve import (
    DnsServerResolver,
    SrvRecord,
    SystemResolver,
    is_ip_literal,
    make_resolver,
    parse_dns_server,
)
from mapiprobe.transport.tls import describe_certificate
from tests.hypothesis_profiles import examples


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator() as s:
        yield s


def test_parse_dns_server() -> None:
    assert parse_dns_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_dns_server("10.0.0.1") == ("10.0.0.1", 53)
    assert parse_dns_server("[::1]:53") == ("::1", 53)
    assert parse_dns_server("::1") == ("::1", 53)
    for bad in ("dns.test:53", "127.0.0.1:0", "127.0.0.1:x", "[::1]x"):
        with pytest.raises(ValueError):
            parse_dns_server(bad)


@settings(max_examples=examples(500))
@given(st.text(max_size=40))
def test_parse_dns_server_only_raises_value_error(text: str) -> None:
    try:
        addr, port = parse_dns_server(text)
    except ValueError:
        return
    assert is_ip_literal(addr) and 0 < port < 65536


def test_dns_server_answers_a_and_srv(sim: Simulator) -> None:
    resolver = make_resolver(f"127.0.0.1:{sim.dns_port}", timeout=2)
    assert isinstance(resolver, DnsServerResolver)
    assert resolver.addresses("mail.contoso.test") == ["127.0.0.1"]
    assert resolver.addresses("127.0.0.5") == ["127.0.0.5"]
    records = resolver.srv("_autodiscover._tcp.contoso.test")
    assert records and isinstance(records[0], SrvRecord)
    assert records[0].target == "mail.contoso.test" and records[0].port == 443
    assert resolver.srv("_autodiscover._tcp.nowhere.test") == []
    with pytest.raises(NameNotResolved):
        resolver.addresses("nowhere.invalid")
    assert "127.0.0.1" in resolver.description


def test_client_resolves_through_the_dns_server(sim: Simulator) -> None:
    # No --connect-to for port 80: the simulator's DNS says mail.contoso.test is 127.0.0.1, and the port is
    # mapped without changing the address.
    opts = ConnectionOptions(
        connect_to=(f"mail.contoso.test:80::{sim.http_port}",),
        dns_server=f"127.0.0.1:{sim.dns_port}",
        connect_timeout=2,
    )
    with make_client(opts) as client:
        resp = client.get("http://mail.contoso.test/autodiscover/autodiscover.xml")
    assert resp.status_code == 302
    with make_client(opts) as client, pytest.raises(NameNotResolved), map_transport_errors():
        client.get("http://unknown.nowhere.test/")


def test_system_resolver_literals() -> None:
    resolver = SystemResolver()
    assert resolver.addresses("127.0.0.1") == ["127.0.0.1"]
    assert resolver.addresses("[::1]") == ["::1"]
    with pytest.raises(NameNotResolved):
        resolver.addresses("name-that-does-not-exist.invalid")


def test_srv_sorting() -> None:
    from mapiprobe.transport.resolve import _sort_srv

    recs = [SrvRecord(10, 5, 443, "b"), SrvRecord(0, 1, 443, "c"), SrvRecord(10, 50, 443, "a")]
    assert [r.target for r in _sort_srv(recs)] == ["c", "a", "b"]


def test_describe_certificate() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("*.contoso.test", "contoso.test")
    der = cert.cert_chain_pems[0].bytes()
    from cryptography import x509

    info = describe_certificate(x509.load_pem_x509_certificate(der).public_bytes(_der_encoding()))
    assert info.covers("mail.contoso.test") and info.covers("contoso.test")
    assert not info.covers("a.b.contoso.test") and not info.covers("other.test")
    assert not info.self_signed
    assert len(info.sha256_fingerprint) == 64
    assert info.not_before < info.not_after
    with pytest.raises(ValueError):
        describe_certificate(b"not a certificate")


def _der_encoding() -> object:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER
