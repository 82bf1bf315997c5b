"""The certificate report: each simulator certificate scenario found with the right reason, the chain as
the server sent it, the TLS 1.2 Certificate-message reader (constructed vector + fuzzing)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.session.mailbox import MailboxSession
from mapiprobe.simulator import Simulator
from mapiprobe.transport.errors import TLSFailure
from mapiprobe.transport.tls import describe_certificate, inspect_tls, parse_tls12_certificates
from tests.hypothesis_profiles import examples
from tests.session.simhelp import connection

DATA = Path(__file__).resolve().parents[1] / "data"
MAIL = "https://mail.contoso.test/mapi/emsmdb/"


def _hex_file(name: str) -> bytes:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return bytes.fromhex("".join(line.split("#", 1)[0] for line in lines).replace(" ", ""))


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    _module_sim.set_scenario("normal")
    yield _module_sim
    _module_sim.set_scenario("normal")
    assert not _module_sim.errors


# -- the reader -----------------------------------------------------------------------------------------


def test_constructed_tls12_flight() -> None:
    data = _hex_file("tls12_certificate_message_constructed.txt")
    assert parse_tls12_certificates(data) == [b"X", b"YZ"]
    # Byte by byte: nothing until the Certificate message is complete, then the same answer.
    complete_at = None
    for n in range(len(data) + 1):
        found = parse_tls12_certificates(data[:n])
        assert found in ([], [b"X", b"YZ"])
        if found and complete_at is None:
            complete_at = n
    assert complete_at == 5 + 0x11 + 5 + 0x0D  # whole records only: when the second one is in
    # A Certificate message after ChangeCipherSpec (encrypted in real life) is never read.
    ccs_first = bytes.fromhex("140303000101") + data
    assert parse_tls12_certificates(ccs_first) == []


def _flight(certs: list[bytes], record_size: int) -> bytes:
    """A TLS 1.2 server flight (RFC 5246 6.2.1, 7.4.2): ServerHello stub, Certificate, ServerHelloDone,
    cut into handshake records of ``record_size`` bytes; then ChangeCipherSpec."""
    entries = b"".join(len(c).to_bytes(3, "big") + c for c in certs)
    body = len(entries).to_bytes(3, "big") + entries
    stream = b"\x02\x00\x00\x02\x03\x03" + b"\x0b" + len(body).to_bytes(3, "big") + body + b"\x0e\x00\x00\x00"
    records = b""
    for at in range(0, len(stream), record_size):
        part = stream[at : at + record_size]
        records += b"\x16\x03\x03" + len(part).to_bytes(2, "big") + part
    return records + bytes.fromhex("140303000101")


@settings(max_examples=examples(500))
@given(st.lists(st.binary(min_size=1, max_size=60), max_size=5), st.integers(1, 64))
def test_round_trip_any_chain_any_record_split(certs: list[bytes], record_size: int) -> None:
    flight = _flight(certs, record_size)
    assert parse_tls12_certificates(flight) == certs
    assert parse_tls12_certificates(flight + b"\x17\x03\x03\x00\x05junk!") == certs


@settings(max_examples=examples(2000))
@given(st.binary(max_size=300))
def test_fuzz_reader_random_bytes(data: bytes) -> None:
    certs = parse_tls12_certificates(data)
    assert isinstance(certs, list) and all(isinstance(c, bytes) for c in certs)


@settings(max_examples=examples(2000))
@given(st.data())
def test_fuzz_reader_mutated_flight(data: st.DataObject) -> None:
    flight = bytearray(_hex_file("tls12_certificate_message_constructed.txt"))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(flight) - 1))
        flight[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(flight)))
    parse_tls12_certificates(bytes(flight[:cut]))


# -- the report against the simulator's scenarios -------------------------------------------------------


def test_normal_certificate(sim: Simulator) -> None:
    report = inspect_tls(MAIL, connection(sim))
    assert report.ok and report.verified and report.problems == () and report.reason is None
    assert report.name_matches is True and report.days_to_expiry is not None and report.days_to_expiry > 300
    assert report.tls_version in ("TLSv1.2", "TLSv1.3") and report.cipher
    assert report.chain_source == "tls1.2-handshake" and len(report.chain) == 1
    cert = report.certificate
    assert cert is not None and "mail.contoso.test" in cert.subject_alt_names
    assert (cert.key_type, cert.key_size, cert.curve) == ("EC", 256, "secp256r1")
    assert cert.signature_algorithm == "ecdsa-with-SHA256"
    assert cert.issuer == "CN=mapiprobe simulator local CA" and not cert.is_ca


def test_cert_wrong_name(sim: Simulator) -> None:
    sim.set_scenario("cert-wrong-name")
    report = inspect_tls(MAIL, connection(sim))
    assert not report.verified and report.problems == ("name-mismatch",)
    assert report.verify_code == 62 and "Hostname mismatch" in (report.verify_error or "")
    assert report.reason is not None and "does not cover mail.contoso.test" in report.reason
    # Autodiscover's host is fine in the same scenario.
    assert inspect_tls("https://autodiscover.contoso.test/", connection(sim)).ok


def test_cert_expired(sim: Simulator) -> None:
    sim.set_scenario("cert-expired")
    report = inspect_tls(MAIL, connection(sim))
    assert not report.verified and report.problems == ("expired",)
    assert report.verify_code == 10 and report.verify_error == "certificate has expired"
    assert report.days_to_expiry == -2 and report.reason is not None and "expired on" in report.reason
    # A session meets the same certificate and says so.
    alice = sim.users[0]
    url = f"{MAIL}?MailboxId={alice.mailbox_guid}@contoso.test"
    session = MailboxSession(
        url, user_dn=alice.legacy_dn, password=alice.password, connection=connection(sim)
    )
    with pytest.raises(TLSFailure) as info:
        session.open()
    session.close()
    assert info.value.reason == "certificate has expired"


def test_cert_missing_intermediate(sim: Simulator) -> None:
    sim.set_scenario("cert-missing-intermediate")
    report = inspect_tls(MAIL, connection(sim))
    assert not report.verified and report.problems == ("incomplete-chain",)
    assert report.verify_code == 20 and "unable to get local issuer certificate" in (
        report.verify_error or ""
    )
    assert len(report.chain) == 1 and report.certificate is not None
    assert report.certificate.issuer == "CN=mapiprobe simulator intermediate CA"
    assert report.reason is not None and "without the intermediate CA" in report.reason
    # With the intermediate trusted locally (--ca-cert), the same server verifies.
    fixed = replace(connection(sim), ca_certs=(sim.ca_cert_path, sim.certificates.intermediate_path))
    assert inspect_tls(MAIL, fixed).ok


def test_untrusted_and_insecure(sim: Simulator) -> None:
    untrusted = replace(connection(sim), ca_certs=())
    report = inspect_tls(MAIL, untrusted)
    assert not report.verified and report.problems in (("untrusted",), ("incomplete-chain",))
    marked = inspect_tls(MAIL, replace(connection(sim), insecure=True))
    assert marked.insecure and marked.ok  # verification is still done (nothing is sent)


def test_unreachable_host(sim: Simulator, closed_port: int) -> None:
    options = replace(connection(sim), connect_to=(f"nowhere.contoso.test:443:127.0.0.1:{closed_port}",))
    report = inspect_tls("https://nowhere.contoso.test/", options)
    assert report.error and report.problems == ("handshake-failed",) and report.certificate is None


def test_expiry_soon_and_not_yet_valid(sim: Simulator) -> None:
    report = inspect_tls(MAIL, connection(sim))
    cert = report.certificate
    assert cert is not None
    later = cert.not_after - dt.timedelta(days=5)
    assert "expires-soon" in inspect_tls(MAIL, connection(sim), now=later).problems
    earlier = cert.not_before - dt.timedelta(days=1)
    assert "not-yet-valid" in inspect_tls(MAIL, connection(sim), now=earlier).problems


def test_describe_certificate_rsa_key(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = ca.issue_cert("mail.contoso.test", key_type=trustme.KeyType.RSA)
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    cert = describe_certificate(der)
    assert (
        cert.key_type == "RSA" and cert.key_size == 2048 and "RSA" in (cert.signature_algorithm or "").upper()
    )
