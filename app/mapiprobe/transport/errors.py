"""The error family of the transport layer, and the one place where lower-layer exceptions become ours.

Error tree (what session/ and the front ends see; nothing from httpx, httpcore, ssl or socket escapes)::

    TransportError                 any failure below HTTP semantics, or an HTTP answer we cannot use
    ├── ConnectFailed              no TCP connection (refused, unreachable, reset during connect)
    │   └── NameNotResolved        the host name has no address (system resolver or --dns-server)
    ├── Timeout                    a time limit ran out; ``phase`` says which one
    │   ├── ConnectTimeout         TCP connect or TLS handshake (``phase`` "connect" or "tls")
    │   ├── ReadTimeout            waiting for the answer, or sending the request ("read", "write", "pool")
    │   │   └── TooSlow            bytes trickle: headers not done in time, body under the minimum pace,
    │   │                          PENDING for too long ("headers", "body", "pending"; transport/limits.py)
    │   └── MaxTimeExceeded        the whole command ran out of --max-time ("max-time")
    ├── TLSFailure                 handshake failed; ``reason`` is the verification result in words
    ├── ConnectionLost             the peer closed or reset the connection in the middle of an exchange
    ├── HTTPFailure                an HTTP answer that is not what the exchange needs (``status``)
    ├── AuthenticationFailed       the server refused the credentials we sent (``endpoint``, ``scheme``)
    └── InsecureCredentialRefused  we refused to send credentials (not HTTPS); nothing was sent

:func:`map_transport_errors` is the mapping context manager: every network call of session/ runs inside
it. :func:`translate` does the same for one exception (the tracing transport uses it to name outcomes).

No message ever contains credentials: URLs are shown without their user-info part, and nothing here reads
request headers.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx


class TransportError(Exception):
    """Base of every transport failure. ``url`` is the request URL without user-info, when known."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.message = message
        self.url = redact_url(url) if url else None
        super().__init__(message)

    @property
    def kind(self) -> str:
        """A short stable name for reports and JSON (``connect-failed``, ``tls-failed``, ...)."""
        return _KINDS.get(type(self), "transport-error")


class ConnectFailed(TransportError):
    """No TCP connection could be made."""


class NameNotResolved(ConnectFailed):
    """The host name did not resolve to any address."""

    def __init__(self, message: str, *, host: str, url: str | None = None) -> None:
        self.host = host
        super().__init__(message, url=url)


class Timeout(TransportError):
    """A time limit ran out. ``phase``: connect, tls, read, write or pool."""

    def __init__(self, message: str, *, phase: str, url: str | None = None) -> None:
        self.phase = phase
        super().__init__(message, url=url)


class ConnectTimeout(Timeout):
    """The TCP connection or the TLS handshake took longer than the connect timeout."""


class ReadTimeout(Timeout):
    """The server accepted the request but did not answer (or did not accept the body) in time."""


class TooSlow(ReadTimeout):
    """The server keeps sending, but too slowly to finish: see transport/limits.py."""


class MaxTimeExceeded(Timeout):
    """The command's --max-time ran out."""


class TLSFailure(TransportError):
    """The TLS handshake failed. ``reason`` is OpenSSL's (or the OS trust store's) verdict in words."""

    def __init__(
        self, message: str, *, reason: str, verify_code: int | None = None, url: str | None = None
    ) -> None:
        self.reason = reason
        self.verify_code = verify_code
        super().__init__(message, url=url)

    @property
    def is_verification_failure(self) -> bool:
        """True when the certificate was rejected (as opposed to a failed or garbled handshake)."""
        return self.verify_code is not None


class ConnectionLost(TransportError):
    """The connection closed or was reset while a request or its answer was in flight."""


class HTTPFailure(TransportError):
    """An HTTP answer that cannot be used: a bad status, or not HTTP at all (``status`` is then None)."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        self.status = status
        super().__init__(message, url=url)


class AuthenticationFailed(TransportError):
    """The server answered 401 to credentials we sent.

    ``offered`` lists the scheme names of the server's ``WWW-Authenticate`` challenges (no tokens).
    """

    def __init__(
        self, endpoint: str, scheme: str, *, offered: tuple[str, ...] = (), status: int = 401
    ) -> None:
        self.endpoint = redact_url(endpoint)
        self.scheme = scheme
        self.offered = offered
        self.status = status
        message = f"authentication failed for {self.endpoint} with {scheme}"
        if offered:
            message += f" (the server offers: {', '.join(offered)})"
        super().__init__(message, url=endpoint)


class InsecureCredentialRefused(TransportError):
    """Credentials were about to go to a URL that is not HTTPS; the request was not sent."""

    def __init__(self, url: str, scheme: str = "Basic") -> None:
        self.scheme = scheme
        super().__init__(f"refused to send {scheme} credentials to {redact_url(url)}: not HTTPS", url=url)


_KINDS: dict[type[TransportError], str] = {
    TransportError: "transport-error",
    ConnectFailed: "connect-failed",
    NameNotResolved: "name-not-resolved",
    Timeout: "timeout",
    ConnectTimeout: "connect-timeout",
    ReadTimeout: "read-timeout",
    TooSlow: "too-slow",
    MaxTimeExceeded: "max-time",
    TLSFailure: "tls-failed",
    ConnectionLost: "connection-lost",
    HTTPFailure: "http-failed",
    AuthenticationFailed: "auth-failed",
    InsecureCredentialRefused: "insecure-credentials-refused",
}


# -- markers raised by our own httpcore network backend (client.py), recognised below -------------------


class TLSHandshakeTimeout(httpcore.ConnectTimeout):
    """Raised by the network backend when the TLS handshake (not the TCP connect) timed out."""


class BackendNameNotResolved(httpcore.ConnectError):
    """Raised by the network backend when the configured resolver found no address."""

    def __init__(self, message: str, host: str) -> None:
        self.host = host
        super().__init__(message)


# -- mapping --------------------------------------------------------------------------------------------


def redact_url(url: str | httpx.URL) -> str:
    """The URL without ``user:password@`` (a URL may carry credentials; reports never do)."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if "@" not in parts.netloc:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    for item in _chain(exc):
        if isinstance(item, kind):
            return item
    return None


def _tls_failure(err: ssl.SSLError, url: str | None) -> TLSFailure:
    if isinstance(err, ssl.SSLCertVerificationError):
        reason = str(getattr(err, "verify_message", None) or getattr(err, "reason", None) or err)
        return TLSFailure(
            f"TLS certificate rejected: {reason}",
            reason=reason,
            verify_code=getattr(err, "verify_code", None),
            url=url,
        )
    reason = str(getattr(err, "reason", None) or err.strerror or err)
    return TLSFailure(f"TLS handshake failed: {reason}", reason=reason, url=url)


def _host_of(url: str | None) -> str:
    if not url:
        return "the server"
    try:
        return urlsplit(url).hostname or "the server"
    except ValueError:
        return "the server"


def translate(exc: BaseException, url: str | None = None) -> TransportError | None:
    """Our error for ``exc`` (an httpx/httpcore/ssl/socket exception), or None if it is not a network error.

    A :class:`TransportError` is returned unchanged.
    """
    if isinstance(exc, TransportError):
        return exc
    if url is None and isinstance(exc, httpx.RequestError):
        try:
            url = str(exc.request.url)
        except RuntimeError:  # no request attached
            url = None
    where = f" ({redact_url(url)})" if url else ""

    marker = _find(exc, BackendNameNotResolved)
    if isinstance(marker, BackendNameNotResolved):
        return NameNotResolved(f"{marker}{where}", host=marker.host, url=url)
    gai = _find(exc, socket.gaierror)
    if gai is not None:
        host = _host_of(url)
        return NameNotResolved(f"cannot resolve {host}: {gai}", host=host, url=url)

    if isinstance(exc, httpx.TimeoutException | httpcore.TimeoutException | TimeoutError):
        if _find(exc, TLSHandshakeTimeout) is not None:
            return ConnectTimeout(f"TLS handshake timed out{where}", phase="tls", url=url)
        if isinstance(exc, httpx.ConnectTimeout | httpcore.ConnectTimeout):
            return ConnectTimeout(f"TCP connect timed out{where}", phase="connect", url=url)
        if isinstance(exc, httpx.WriteTimeout | httpcore.WriteTimeout):
            return ReadTimeout(f"sending the request timed out{where}", phase="write", url=url)
        if isinstance(exc, httpx.PoolTimeout | httpcore.PoolTimeout):
            return ReadTimeout(f"no free connection in time{where}", phase="pool", url=url)
        return ReadTimeout(f"timed out waiting for the answer{where}", phase="read", url=url)

    # A TLS error while connecting is a handshake failure; one while reading is a lost connection.
    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError | ssl.SSLError):
        ssl_err = _find(exc, ssl.SSLError)
        if isinstance(ssl_err, ssl.SSLError):
            return _tls_failure(ssl_err, url)

    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError | ConnectionRefusedError):
        os_err = _find(exc, OSError)
        detail = os_err.strerror if isinstance(os_err, OSError) and os_err.strerror else str(exc)
        return ConnectFailed(f"cannot connect to {_host_of(url)}: {detail}{where}", url=url)
    if isinstance(exc, httpx.RemoteProtocolError | httpcore.RemoteProtocolError):
        return HTTPFailure(f"the server's answer is not valid HTTP/1.1: {exc}{where}", url=url)
    if isinstance(
        exc,
        httpx.ReadError | httpx.WriteError | httpx.CloseError | httpcore.ReadError | httpcore.WriteError,
    ):
        return ConnectionLost(f"connection lost: {exc or type(exc).__name__}{where}", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol | httpcore.UnsupportedProtocol):
        return HTTPFailure(f"unsupported URL: {exc}", url=url)
    if isinstance(exc, httpx.InvalidURL):
        return HTTPFailure(f"invalid URL: {exc}", url=url)
    if isinstance(exc, httpx.HTTPError | httpcore.NetworkError | httpcore.ProtocolError):
        return TransportError(f"{type(exc).__name__}: {exc}{where}", url=url)
    if isinstance(exc, ConnectionError):
        return ConnectionLost(f"connection lost: {exc}{where}", url=url)
    if isinstance(exc, OSError):
        return ConnectFailed(f"network error: {exc.strerror or exc}{where}", url=url)
    return None


@contextmanager
def map_transport_errors(url: str | httpx.URL | None = None) -> Iterator[None]:
    """Re-raise every network exception raised inside the block as a :class:`TransportError`."""
    try:
        yield
    except TransportError:
        raise
    except Exception as exc:
        mapped = translate(exc, str(url) if url is not None else None)
        if mapped is None:
            raise
        raise mapped from exc


__all__ = [
    "AuthenticationFailed",
    "BackendNameNotResolved",
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionLost",
    "HTTPFailure",
    "InsecureCredentialRefused",
    "MaxTimeExceeded",
    "NameNotResolved",
    "ReadTimeout",
    "TLSFailure",
    "TLSHandshakeTimeout",
    "Timeout",
    "TooSlow",
    "TransportError",
    "map_transport_errors",
    "redact_url",
    "translate",
]
