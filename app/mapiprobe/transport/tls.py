"""What the TLS layer of a finished exchange looked like: protocol version, cipher and the peer certificate.

httpx exposes the connection of a response as ``response.extensions["network_stream"]``; its
``get_extra_info("ssl_object")`` is the :class:`ssl.SSLObject` (or socket) of the handshake. The certificate
is read in DER form (available even when verification is off) and described with ``cryptography``.

:func:`inspect_tls` is the certificate report of ``mapiprobe probe``: for one host it runs a *verifying*
handshake (the OS trust store plus ``--ca-cert``, host name checked: exactly what the other commands do)
and records the verdict and OpenSSL's reason, then reads the certificate chain **as the server sent it**
(the leaf, and the intermediates it did or did not include). Nothing is sent over either connection.

How the chain is read: Python 3.13 has ``SSLObject.get_unverified_chain()``; this code runs on 3.11, where
the ``ssl`` module only gives the leaf. So a second handshake is made with TLS 1.2 as the highest version
over memory BIOs, and the server's bytes are read as they pass: in TLS 1.2 the Certificate handshake
message travels in clear (RFC 5246 7.4.2), so the list is parsed straight from the records (type 22,
message 11) before the handshake completes. Chosen over alternatives because it needs no extra package
(pyOpenSSL) and no private ``_ssl`` API, and it shows what the server really sent, not a chain rebuilt from
the local store. A server that speaks TLS 1.3 only cannot show its chain this way (its Certificate message
is encrypted): the report then says ``chain_source = "leaf-only"``. On 3.13+ the built-in call is used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import socket
import ssl
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
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
    key_type: str | None = None  # "RSA", "EC", "Ed25519"...
    key_size: int | None = None  # bits (the curve size for EC)
    signature_algorithm: str | None = None  # e.g. "ecdsa-with-SHA256", "sha256WithRSAEncryption"
    curve: str | None = None  # EC keys: "secp256r1"...
    is_ca: bool = False

    def days_to_expiry(self, now: datetime | None = None) -> int:
        """Whole days until ``not_after`` (negative once expired)."""
        now = now or _dt.datetime.now(_dt.UTC)
        return int((self.not_after - now).total_seconds() / 86400)

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
    key_type, key_size, curve = _key_facts(cert)
    try:
        signature = cert.signature_algorithm_oid._name
    except Exception:
        signature = None
    try:
        constraints = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        is_ca = bool(getattr(constraints, "ca", False))
    except x509.ExtensionNotFound:
        is_ca = False
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
        key_type=key_type,
        key_size=key_size,
        signature_algorithm=signature,
        curve=curve,
        is_ca=is_ca,
    )


def _key_facts(cert: x509.Certificate) -> tuple[str | None, int | None, str | None]:
    try:
        key = cert.public_key()
    except Exception:  # an algorithm cryptography does not know
        return None, None, None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    return type(key).__name__, None, None


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


# -- the certificate report (mapiprobe probe) ------------------------------------------------------------

EXPIRY_WARNING_DAYS = 30
# OpenSSL X509_V_ERR_* codes that tell what went wrong (x509_vfy.h).
_CODE_EXPIRED = 10
_CODE_NOT_YET_VALID = 9
_CODE_SELF_SIGNED = 18
_CODE_SELF_SIGNED_IN_CHAIN = 19
_CODE_NO_LOCAL_ISSUER = 20
_CODE_NO_ISSUER = 2
_CODE_LEAF_SIGNATURE = 21
_CODE_HOSTNAME = 62


@dataclass(frozen=True)
class TLSReport:
    """The TLS and certificate facts of one host, as ``mapiprobe probe`` reports them.

    ``problems`` holds stable codes: ``name-mismatch``, ``expired``, ``not-yet-valid``, ``expires-soon``,
    ``incomplete-chain`` (the server did not send the intermediate certificates and they are not trusted
    locally), ``untrusted`` (the chain ends at a CA that is not trusted), ``self-signed``, and
    ``handshake-failed``. ``reason`` is the first of them in words; ``verify_error`` is OpenSSL's own text.
    """

    host: str
    port: int
    verified: bool = False
    verify_error: str | None = None
    verify_code: int | None = None
    tls_version: str | None = None
    cipher: str | None = None
    cipher_bits: int | None = None
    certificate: PeerCertificate | None = None
    chain: tuple[PeerCertificate, ...] = ()  # as sent by the server, leaf first
    chain_source: str = "none"  # "get_unverified_chain", "tls1.2-handshake", "leaf-only" or "none"
    name_matches: bool | None = None
    days_to_expiry: int | None = None
    problems: tuple[str, ...] = ()
    reason: str | None = None
    error: str | None = None  # no TLS at all (connection refused, timeout...)
    insecure: bool = False  # the run has --insecure: other commands did not verify this host
    proxy: str | None = None  # the proxy the handshakes went through (a CONNECT tunnel); None: direct

    @property
    def ok(self) -> bool:
        return self.verified and not self.problems


def inspect_tls(
    url_or_host: str, options: Any, *, port: int | None = None, now: datetime | None = None
) -> TLSReport:
    """The :class:`TLSReport` of the server of ``url_or_host`` (see the module docstring for how).

    ``options`` is the run's :class:`~mapiprobe.transport.client.ConnectionOptions`; its ``--connect-to``
    rules, resolver and ``--ca-cert`` files apply. Verification is always attempted, even with
    ``--insecure`` (which is then recorded in :attr:`TLSReport.insecure`): nothing is sent, so knowing
    whether the certificate would pass is safe and is the point of the report.
    """
    from mapiprobe.transport.client import make_ssl_context

    host, port = _host_port(url_or_host, port)
    backend = _backend_for(host, port, options)
    report = TLSReport(
        host=host,
        port=port,
        insecure=bool(getattr(options, "insecure", False)),
        proxy=getattr(backend, "proxy_url", None),
    )
    # 1. The verifying handshake: the verdict, and the version/cipher/leaf when it passes.
    try:
        ctx = make_ssl_context(replace(options, insecure=False))
    except (OSError, ssl.SSLError, ValueError) as exc:
        return replace(report, error=f"cannot load the trust store or --ca-cert: {exc}")
    verified_leaf: bytes | None = None
    try:
        obj, close = _handshake(host, port, options, ctx)
        try:
            cipher = obj.cipher()
            verified_leaf = obj.getpeercert(True)
            report = replace(
                report,
                verified=True,
                tls_version=obj.version(),
                cipher=cipher[0] if cipher else None,
                cipher_bits=cipher[2] if cipher else None,
            )
        finally:
            close()
    except ssl.SSLCertVerificationError as exc:
        report = replace(
            report,
            verify_error=str(getattr(exc, "verify_message", None) or exc.reason or exc),
            verify_code=getattr(exc, "verify_code", None),
        )
    except (ssl.SSLError, OSError, _HandshakeError) as exc:
        failed = _verification_error(exc)
        if failed is not None:
            report = replace(report, verify_error=failed[0], verify_code=failed[1])
        else:
            return replace(report, error=_network_reason(exc, host), problems=("handshake-failed",))
    # 2. What the server sends (no verification), for the chain, and the facts when step 1 failed.
    chain, source = _chain_as_sent(host, port, options)
    if not chain and verified_leaf:
        chain, source = (_describe_all([verified_leaf]), "leaf-only")
    leaf = chain[0] if chain else None
    if report.tls_version is None:
        # What an ordinary handshake negotiates (the chain handshake above may be held to TLS 1.2).
        facts, leaf_der = _plain_handshake(host, port, options)
        if facts is not None:
            report = replace(report, tls_version=facts[0], cipher=facts[1], cipher_bits=facts[2])
        if not chain and leaf_der:
            chain, source = _describe_all([leaf_der]), "leaf-only"
            leaf = chain[0] if chain else None
    report = replace(report, chain=chain, chain_source=source, certificate=leaf)
    if leaf is not None:
        report = replace(report, name_matches=leaf.covers(host), days_to_expiry=leaf.days_to_expiry(now))
    problems, reason = _judge(report, now)
    return replace(report, problems=problems, reason=reason)


class _HandshakeError(Exception):
    pass


def _host_port(url_or_host: str, port: int | None) -> tuple[str, int]:
    if "://" in url_or_host:
        parts = urlsplit(url_or_host)
        return (parts.hostname or "").lower(), port or parts.port or 443
    host, sep, rest = url_or_host.rpartition(":")
    if sep and rest.isdigit() and "]" not in rest:
        return host.strip("[]").lower(), port or int(rest)
    return url_or_host.strip("[]").lower(), port or 443


def _backend(options: Any) -> Any:
    from mapiprobe.transport.client import MappedBackend, parse_connect_to
    from mapiprobe.transport.resolve import make_resolver

    rules = [parse_connect_to(r) for r in options.connect_to]
    resolver = (
        make_resolver(options.dns_server, timeout=options.connect_timeout) if options.dns_server else None
    )
    return MappedBackend(rules, resolver)


def _backend_for(host: str, port: int, options: Any) -> Any:
    """The backend a handshake with (host, port) goes through: a CONNECT tunnel when a proxy applies."""
    from mapiprobe.transport.client import proxy_selector
    from mapiprobe.transport.proxy import TunnelBackend

    backend = _backend(options)
    if getattr(options, "proxy", "none") is None or getattr(options, "proxy", None):
        proxy = proxy_selector(options).for_url(f"https://{host}:{port}/")
        if proxy is not None:
            return TunnelBackend(backend, proxy)
    return backend


def _handshake(host: str, port: int, options: Any, ctx: ssl.SSLContext) -> tuple[Any, Any]:
    """A TLS handshake with ``host`` through the run's backend: (ssl object, close function)."""
    import httpcore

    backend = _backend_for(host, port, options)
    try:
        stream = backend.connect_tcp(host, port, timeout=options.connect_timeout)
    except (httpcore.NetworkError, httpcore.TimeoutException) as exc:
        raise _HandshakeError(_network_reason(exc, host)) from exc
    try:
        tls = stream.start_tls(ctx, server_hostname=host, timeout=options.connect_timeout)
    except (httpcore.NetworkError, httpcore.TimeoutException) as exc:
        stream.close()
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError):
            raise cause from None
        raise _HandshakeError(_network_reason(exc, host)) from exc
    except BaseException:
        stream.close()
        raise
    return tls.get_extra_info("ssl_object"), tls.close


def _verification_error(exc: BaseException) -> tuple[str, int | None] | None:
    cur: BaseException | None = exc
    seen = 0
    while cur is not None and seen < 8:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return str(getattr(cur, "verify_message", None) or cur.reason or cur), getattr(
                cur, "verify_code", None
            )
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return None


def _network_reason(exc: BaseException, host: str | None = None) -> str:
    from mapiprobe.transport.errors import translate

    mapped = translate(exc, f"https://{host}/" if host else None)
    if mapped is not None:
        return mapped.message
    return str(exc) or type(exc).__name__


def _describe_all(ders: list[bytes]) -> tuple[PeerCertificate, ...]:
    out: list[PeerCertificate] = []
    for der in ders:
        try:
            out.append(describe_certificate(der))
        except ValueError:
            continue
    return tuple(out)


def _no_verify_context(*, max_tls12: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if max_tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


Facts = tuple[str | None, str | None, int | None]


def _plain_handshake(host: str, port: int, options: Any) -> tuple[Facts | None, bytes | None]:
    """(version, cipher, bits) and the leaf of an ordinary handshake without verification."""
    try:
        obj, close = _handshake(host, port, options, _no_verify_context(max_tls12=False))
    except (ssl.SSLError, OSError, _HandshakeError):
        return None, None
    try:
        cipher = obj.cipher()
        der = obj.getpeercert(True)
        return (obj.version(), cipher[0] if cipher else None, cipher[2] if cipher else None), der
    finally:
        close()


def _chain_as_sent(host: str, port: int, options: Any) -> tuple[tuple[PeerCertificate, ...], str]:
    """The chain the server sends, leaf first, and how it was read ("none": not at all)."""
    if sys.version_info >= (3, 13):  # pragma: no cover - this project runs on 3.11 today
        try:
            obj, close = _handshake(host, port, options, _no_verify_context(max_tls12=False))
        except (ssl.SSLError, OSError, _HandshakeError):
            return (), "none"
        try:
            certs = obj.get_unverified_chain() or []
            ders = [c.public_bytes(ssl.ENCODING_DER) for c in certs]
        finally:
            close()
        return _describe_all(ders), "get_unverified_chain"
    try:
        ders = _tls12_chain(host, port, options)
    except (ssl.SSLError, OSError, _HandshakeError, ValueError):
        ders = []
    if ders:
        return _describe_all(ders), "tls1.2-handshake"
    return (), "none"


def _tls12_chain(host: str, port: int, options: Any) -> list[bytes]:
    """A TLS 1.2 handshake over memory BIOs, keeping the server's bytes; parse its Certificate message."""
    import httpcore

    backend = _backend_for(host, port, options)
    try:
        stream = backend.connect_tcp(host, port, timeout=options.connect_timeout)
    except (httpcore.NetworkError, httpcore.TimeoutException) as exc:
        raise _HandshakeError(_network_reason(exc, host)) from exc
    try:
        sock: socket.socket = stream.get_extra_info("socket")
        sock.settimeout(options.connect_timeout)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = _no_verify_context(max_tls12=True).wrap_bio(incoming, outgoing, server_hostname=_sni(host))
        received = bytearray()
        for _ in range(64):
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    sock.sendall(pending)
                data = sock.recv(65536)
                if not data:
                    raise _HandshakeError("the server closed the connection during the handshake") from None
                received += data
                incoming.write(data)
                certs = parse_tls12_certificates(bytes(received))
                if certs:
                    return certs  # no need to finish the handshake
        return parse_tls12_certificates(bytes(received))
    finally:
        stream.close()


def _sni(host: str) -> str | None:
    try:
        import ipaddress

        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


def parse_tls12_certificates(data: bytes) -> list[bytes]:
    """DER certificates of the first Certificate handshake message in a TLS 1.2 server byte stream.

    ``data`` is what the server sent from the start of the connection (records of RFC 5246 6.2.1). Only
    clear handshake records before the server's ChangeCipherSpec are read. Returns [] until the message is
    complete (or when there is none); never raises for short or odd input.
    """
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data):
        content_type = data[pos]
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if pos + 5 + length > len(data):
            break
        if content_type == 20:  # ChangeCipherSpec: what follows is encrypted
            break
        if content_type == 22:
            handshake += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
    at = 0
    while at + 4 <= len(handshake):
        msg_type = handshake[at]
        size = int.from_bytes(handshake[at + 1 : at + 4], "big")
        body = handshake[at + 4 : at + 4 + size]
        if len(body) < size:
            return []
        if msg_type == 11:  # Certificate (RFC 5246 7.4.2)
            return _certificate_list(bytes(body))
        at += 4 + size
    return []


def _certificate_list(body: bytes) -> list[bytes]:
    if len(body) < 3:
        return []
    total = int.from_bytes(body[0:3], "big")
    end = min(3 + total, len(body))
    certs: list[bytes] = []
    at = 3
    while at + 3 <= end:
        size = int.from_bytes(body[at : at + 3], "big")
        if at + 3 + size > end:
            break
        certs.append(body[at + 3 : at + 3 + size])
        at += 3 + size
    return certs


def _judge(report: TLSReport, now: datetime | None) -> tuple[tuple[str, ...], str | None]:
    """Problem codes and the main reason in words, from the verdict and the certificate facts."""
    problems: list[str] = []
    reasons: list[str] = []
    leaf = report.certificate
    now = now or _dt.datetime.now(_dt.UTC)
    code = report.verify_code
    if leaf is not None:
        if report.name_matches is False:
            problems.append("name-mismatch")
            names = ", ".join(leaf.subject_alt_names) or "no DNS names"
            reasons.append(f"the certificate does not cover {report.host} (it names: {names})")
        if leaf.not_after < now:
            problems.append("expired")
            reasons.append(
                f"the certificate expired on {leaf.not_after:%Y-%m-%d} ({-report.days_to_expiry!s} days ago)"
                if report.days_to_expiry is not None
                else "the certificate has expired"
            )
        elif leaf.not_before > now:
            problems.append("not-yet-valid")
            reasons.append(f"the certificate is valid only from {leaf.not_before:%Y-%m-%d}")
        elif report.days_to_expiry is not None and report.days_to_expiry < EXPIRY_WARNING_DAYS:
            problems.append("expires-soon")
            reasons.append(f"the certificate expires in {report.days_to_expiry} days")
    if not report.verified and report.verify_error is not None:
        if code in (_CODE_NO_LOCAL_ISSUER, _CODE_NO_ISSUER, _CODE_LEAF_SIGNATURE):
            sent_only_leaf = len(report.chain) <= 1 or all(not c.is_ca for c in report.chain[1:])
            if leaf is not None and not leaf.self_signed and sent_only_leaf:
                problems.append("incomplete-chain")
                reasons.append(
                    f"the server sent its certificate without the intermediate CA ({leaf.issuer}), "
                    "which is not trusted here either: the chain cannot be built"
                )
            else:
                problems.append("untrusted")
                reasons.append(
                    f"the certificate chain ends at a CA that is not trusted here ({report.verify_error})"
                )
        elif code in (_CODE_SELF_SIGNED, _CODE_SELF_SIGNED_IN_CHAIN):
            problems.append("self-signed" if code == _CODE_SELF_SIGNED else "untrusted")
            reasons.append(f"the certificate chain is not trusted: {report.verify_error}")
        elif code in (_CODE_EXPIRED, _CODE_NOT_YET_VALID, _CODE_HOSTNAME):
            pass  # said above from the certificate itself
        elif not problems:
            problems.append("untrusted")
            reasons.append(f"the certificate was rejected: {report.verify_error}")
    return tuple(problems), (reasons[0] if reasons else None)


__all__ = [
    "EXPIRY_WARNING_DAYS",
    "PeerCertificate",
    "TLSInfo",
    "TLSReport",
    "describe_certificate",
    "inspect_tls",
    "parse_tls12_certificates",
    "peek_certificate",
    "ssl_object_of",
    "tls_info",
    "tls_info_of",
]
