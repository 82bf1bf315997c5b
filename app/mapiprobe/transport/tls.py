"""What the TLS layer of a finished exchange looked like: protocol version, cipher and the peer certificate.

httpx exposes the connection of a response as ``response.extensions["network_stream"]``; its
``get_extra_info("ssl_object")`` is the :class:`ssl.SSLObject` (or socket) of the handshake. The certificate
is read in DER form (available even when verification is off) and described with ``cryptography``.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from cryptography import x509
from cryptography.x509.oid import ExtensionOID


@dataclass(frozen=True)
class PeerCertificate:
    """The facts of a server certificate a helpdesk engineer looks at."""

    subject: str
    issuer: str
    subject_alt_names: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    serial_number: str
    sha256_fingerprint: str
    self_signed: bool
    der: bytes = field(repr=False)

    def covers(self, host: str) -> bool:
        """Whether a DNS name of the certificate matches ``host`` (one-label ``*.`` wildcards, RFC 6125)."""
        host = host.lower().rstrip(".")
        for san in self.subject_alt_names:
            name = san.lower().rstrip(".")
            if name == host:
                return True
            if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
                return True
        return False


@dataclass(frozen=True)
class TLSInfo:
    version: str | None
    cipher: str | None
    cipher_bits: int | None
    alpn: str | None
    certificate: PeerCertificate | None


def describe_certificate(der: bytes) -> PeerCertificate:
    """Parse a DER certificate; raises ValueError when it is not one."""
    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        pass
    else:
        san = ext.value
        assert isinstance(san, x509.SubjectAlternativeName)
        names += san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return PeerCertificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        subject_alt_names=tuple(names),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        serial_number=f"{cert.serial_number:X}",
        sha256_fingerprint=hashlib.sha256(der).hexdigest().upper(),
        self_signed=cert.subject == cert.issuer,
        der=der,
    )


def ssl_object_of(response: httpx.Response) -> Any:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        return stream.get_extra_info("ssl_object")
    except (OSError, AttributeError):
        return None


def tls_info(response: httpx.Response) -> TLSInfo | None:
    """TLS facts of the connection ``response`` came over; None for plain HTTP."""
    obj = ssl_object_of(response)
    if obj is None:
        return None
    return tls_info_of(obj)


def tls_info_of(obj: ssl.SSLObject | ssl.SSLSocket | Any) -> TLSInfo:
    cipher = obj.cipher()
    der = obj.getpeercert(True)
    certificate = None
    if der:
        try:
            certificate = describe_certificate(der)
        except ValueError:
            certificate = None
    return TLSInfo(
        version=obj.version(),
        cipher=cipher[0] if cipher else None,
        cipher_bits=cipher[2] if cipher else None,
        alpn=obj.selected_alpn_protocol(),
        certificate=certificate,
    )


def peek_certificate(url: str, options: Any) -> PeerCertificate | None:
    """The certificate ``url``'s server presents, read over a handshake WITHOUT verification.

    For diagnosis only, after a verified handshake failed ("the server presented CN=..., issued by ...").
    Nothing is sent over this connection; it is closed right after the handshake. ``options`` is the run's
    :class:`~mapiprobe.transport.client.ConnectionOptions` (its --connect-to rules and resolver apply).
    Returns None when no certificate could be read.
    """
    from urllib.parse import urlsplit

    import httpcore

    from mapiprobe.transport.client import MappedBackend, parse_connect_to
    from mapiprobe.transport.resolve import make_resolver

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or 443
        rules = [parse_connect_to(r) for r in options.connect_to]
        resolver = (
            make_resolver(options.dns_server, timeout=options.connect_timeout) if options.dns_server else None
        )
    except ValueError:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    backend = MappedBackend(rules, resolver)
    try:
        stream = backend.connect_tcp(host, port, timeout=options.connect_timeout)
        try:
            tls = stream.start_tls(ctx, server_hostname=host, timeout=options.connect_timeout)
        except BaseException:
            stream.close()
            raise
        try:
            obj = tls.get_extra_info("ssl_object")
            der = obj.getpeercert(True) if obj is not None else None
        finally:
            tls.close()
    except (httpcore.NetworkError, httpcore.TimeoutException, OSError, ValueError):
        return None
    if not der:
        return None
    try:
        return describe_certificate(der)
    except ValueError:
        return None


__all__ = [
    "PeerCertificate",
    "TLSInfo",
    "describe_certificate",
    "peek_certificate",
    "ssl_object_of",
    "tls_info",
    "tls_info_of",
]
