"""The simulator's local certificate authority and server certificates (made with ``cryptography``).

A CA is created once per state directory (and reused when it exists, so a tester who trusted it once keeps
trusting it); each server certificate is issued by it for a list of host names.

Certificate scenarios (:class:`CertificateScenarios`, chosen per TLS handshake by the SNI name through the
listener's ``context_for`` hook) concern the MAPI host ``mail.<domain>`` only, so that Autodiscover still
works and the failure shows where Outlook would meet it:

* ``cert-wrong-name``: a certificate for the domain, ``autodiscover.<domain>`` and ``owa.<domain>``, not
  for ``mail.<domain>``;
* ``cert-expired``: valid from 400 days ago until 2 days ago;
* ``cert-missing-intermediate``: issued by an intermediate CA (itself issued by the simulator's CA); the
  server sends the leaf only, so a client that trusts the simulator's CA cannot build the chain. The
  intermediate is written to ``intermediate.pem`` in the state directory (``--ca-cert`` it to see the
  chain verify).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .org import Organisation

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path


@dataclass(frozen=True)
class ServerCert:
    cert_path: Path
    key_path: Path
    hosts: tuple[str, ...]


# What a CA certificate (root or intermediate) may do: sign certificates and CRLs.
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def load_or_create_ca(state_dir: Path, *, name: str = "mapiprobe simulator local CA") -> CertificateAuthority:
    """The CA in ``state_dir`` (created on first use)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = state_dir / CA_CERT_FILE, state_dir / CA_KEY_FILE
    if cert_path.is_file() and key_path.is_file():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now():
            return CertificateAuthority(cert, key, cert_path)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - _dt.timedelta(days=1))
        .not_valid_after(_now() + _dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            _CA_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(cert, key, cert_path)


def issue_server_cert(
    ca: CertificateAuthority,
    hosts: list[str],
    out_dir: Path,
    *,
    stem: str = "server",
    not_before: _dt.datetime | None = None,
    not_after: _dt.datetime | None = None,
) -> ServerCert:
    """Issue a TLS server certificate for ``hosts`` (DNS names or IP addresses) signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or _now() - _dt.timedelta(hours=1))
        .not_valid_after(not_after or _now() + _dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    cert_path, key_path = out_dir / f"{stem}.pem", out_dir / f"{stem}-key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ServerCert(cert_path, key_path, tuple(hosts))


def server_context(cert: ServerCert) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) presenting ``cert``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert.cert_path, cert.key_path)
    return ctx


INTERMEDIATE_CERT_FILE = "intermediate.pem"
CERT_SCENARIOS = ("cert-wrong-name", "cert-expired", "cert-missing-intermediate")


def issue_intermediate(
    ca: CertificateAuthority, out_dir: Path, *, name: str = "mapiprobe simulator intermediate CA"
) -> CertificateAuthority:
    """An intermediate CA under ``ca`` (path length 0), written to ``intermediate.pem`` in ``out_dir``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - _dt.timedelta(days=1))
        .not_valid_after(_now() + _dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _CA_KEY_USAGE,
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    path = out_dir / INTERMEDIATE_CERT_FILE
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(cert, key, path)


class CertificateScenarios:
    """The TLS context for a handshake in a certificate scenario (None: the normal certificate)."""

    def __init__(
        self, ca: CertificateAuthority, org: Organisation, out_dir: Path, scenario: Callable[[], str]
    ):
        self.ca = ca
        self.org = org
        self.out_dir = out_dir
        self._scenario = scenario
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    @property
    def intermediate_path(self) -> Path:
        return self.out_dir / INTERMEDIATE_CERT_FILE

    def context_for(self, sni: str | None) -> ssl.SSLContext | None:
        scenario = self._scenario()
        if scenario not in CERT_SCENARIOS or (sni or "").lower() != self.org.mail_host:
            return None
        with self._lock:
            ctx = self._contexts.get(scenario)
            if ctx is None:
                ctx = server_context(self._issue(scenario))
                self._contexts[scenario] = ctx
            return ctx

    def _issue(self, scenario: str) -> ServerCert:
        domain = self.org.domain
        if scenario == "cert-wrong-name":
            hosts = [domain, f"autodiscover.{domain}", f"owa.{domain}"]
            return issue_server_cert(self.ca, hosts, self.out_dir, stem="server-wrong-name")
        if scenario == "cert-expired":
            return issue_server_cert(
                self.ca,
                [self.org.mail_host, f"autodiscover.{domain}"],
                self.out_dir,
                stem="server-expired",
                not_before=_now() - _dt.timedelta(days=400),
                not_after=_now() - _dt.timedelta(days=2),
            )
        intermediate = issue_intermediate(self.ca, self.out_dir)
        # The server's file holds the leaf only: the intermediate is "forgotten" on the server.
        return issue_server_cert(intermediate, [self.org.mail_host], self.out_dir, stem="server-leaf-only")


__all__ = [
    "CERT_SCENARIOS",
    "CertificateAuthority",
    "CertificateScenarios",
    "ServerCert",
    "issue_intermediate",
    "issue_server_cert",
    "load_or_create_ca",
    "server_context",
]
