"""RPC over HTTP v2 (MS-RPCH): the client's virtual connection, DCE/RPC on top, and EMSMDB calls over it.

One virtual connection is two HTTP/1.1 connections to the RPC proxy (``/rpc/rpcproxy.dll?SERVER:6001``):

* the **OUT channel**: ``RPC_OUT_DATA`` with ``Content-Length: 76`` (CONN/A1 is the whole body); the answer is
  one long response (``Content-Length`` 1 GiB, never chunked) carrying CONN/A3, CONN/C2 and then every PDU
  the server sends;
* the **IN channel**: ``RPC_IN_DATA`` with a large fixed ``Content-Length`` (1 GiB) whose body is written
  over time: CONN/B1 first, then every PDU the client sends. No answer is read from it unless it fails.

Each connection authenticates on its own (connection-based auth): Basic on the request itself; NTLM and
Negotiate with their first legs as ``Content-Length: 0`` requests and the last token on the channel request.
``100 Continue`` is neither waited for nor required (IIS sends one, gromox does not); h11 passes it by.

The **echo probe** (MS-RPCH 3.2.2.5.1) is an ``RPC_IN_DATA`` with a 4-byte body (gromox never answers a
``Content-Length: 0`` echo); its 401 names the schemes the proxy offers, which picks the HTTP scheme as
:class:`~mapiprobe.transport.auth.AutoAuth` would (Negotiate, NTLM, then Basic over HTTPS only).

**Flow control** (MS-RPCH 3.2.2.4): the client announces a receive window (64 KiB by default, 8–256 KiB) in
CONN/A1 and acknowledges the OUT channel's data with FlowControlAckWithDestination on the IN channel every
half window; it keeps what it sends on the IN channel within the window the IN proxy announced in CONN/C2,
waiting for the proxy's FlowControlAck when needed. Pings from the proxy keep an idle OUT channel alive.

The channels are exempt from per-exchange time limits: every read has an **idle deadline**
(``ConnectionOptions.read_timeout``): a channel that carries nothing at all for that long is declared dead.

Built on h11 (the HTTP/1.1 engine under httpx) over httpcore's network streams with
:class:`~mapiprobe.transport.client.MappedBackend`, so the TLS context, trust store, ``--ca-cert``,
``--connect-to``, ``--dns-server`` and timeouts are those of every other request.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import dataclasses
import itertools
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import httpcore
import truststore

from mapiprobe.protocol.dcerpc import (
    EMSMDB,
    NDR,
    PFC_LAST_FRAG,
    AuthLevel,
    AuthType,
    Bind,
    BindAck,
    BindNak,
    ContextElement,
    Fault,
    Pdu,
    PduStream,
    PType,
    Request,
    Response,
    SyntaxId,
    build_pdu,
    describe_contexts,
    encode_auth3,
    encode_bind,
    fragment_stub,
)
from mapiprobe.protocol.emsmdb_rpc import (
    MAX_ROP_OUT,
    OPNUM_CONNECT_EX,
    OPNUM_DISCONNECT,
    OPNUM_RPC_EXT2,
    ConnectExRequest,
    ConnectExResponse,
    DisconnectRpcRequest,
    DisconnectRpcResponse,
    RpcExt2Request,
    RpcExt2Response,
)
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.ndr import ContextHandle
from mapiprobe.protocol.rts import (
    DEFAULT_RECEIVE_WINDOW,
    CommandType,
    FlowControlAck,
    RtsPdu,
    conn_a1,
    conn_b1,
    flow_control_ack_with_destination,
    ping,
)

from .auth import Credentials, spnego_user
from .client import (
    USER_AGENT,
    ConnectionOptions,
    MappedBackend,
    SSLContextPool,
    make_ssl_context,
    parse_connect_to,
    proxy_selector,
)
from .errors import (
    AuthenticationFailed,
    ConnectFailed,
    ConnectionLost,
    HTTPFailure,
    InsecureCredentialRefused,
    ReadTimeout,
    TLSFailure,
    TransportError,
)
from .proxy import DIRECT_WORDS, TunnelBackend
from .resolve import make_resolver
from .rpcsec import SIGNATURE_SIZE, RpcSecurity, RpcSecurityError, client_context
from .trace import Trace, TraceRecord, challenge_schemes, redact_headers

DEFAULT_PATH = "/rpc/rpcproxy.dll"
EMSMDB_PORT = 6001
IN_CHANNEL_LENGTH = 0x40000000
"""Content-Length of the IN channel request: 1 GiB, the channel lifetime announced in CONN/B1."""
OUT_CHANNEL_LENGTH = 76
"""Content-Length of the OUT channel request: exactly CONN/A1."""
ECHO_BODY = b"\x00" * 4
MAX_FRAG = 0x1000 * 4 - 8  # 16376, what Windows proposes for ncacn_http
_MAX_ERROR_BODY = 64 * 1024
MAX_RESPONSE_STUB = 4 * 1024 * 1024
"""The largest reassembled response stub accepted (a bound for a hostile server; EMSMDB needs ~260 KB)."""
_READ_SIZE = 64 * 1024


class RpchError(TransportError):
    """RPC/HTTP failed; ``stage`` says where (``echo``, ``out-channel``, ``in-channel``, ``bind``, ...)."""

    def __init__(self, message: str, *, stage: str, url: str | None = None) -> None:
        self.stage = stage
        super().__init__(message, url=url)


class RpcFault(RpchError):
    """The server answered a call with a fault PDU; ``status`` is its code, the message its name."""

    def __init__(self, status: int, *, stage: str = "call", url: str | None = None) -> None:
        self.status = status
        super().__init__(f"the RPC server answered with fault {Fault(status).name}", stage=stage, url=url)


@dataclass(frozen=True)
class RpchEndpoint:
    """Where to go: the RPC proxy (host and port, HTTPS by default) and the RPC server behind it."""

    proxy_host: str
    rpc_server: str
    proxy_port: int = 443
    server_port: int = EMSMDB_PORT
    path: str = DEFAULT_PATH
    https: bool = True
    cert_principal: str | None = None
    """Autodiscover's CertPrincipalName (``msstd:NAME``): the certificate must name NAME."""

    @property
    def target(self) -> str:
        return f"{self.path}?{self.rpc_server}:{self.server_port}"

    @property
    def url(self) -> str:
        scheme = "https" if self.https else "http"
        default = 443 if self.https else 80
        port = "" if self.proxy_port == default else f":{self.proxy_port}"
        return f"{scheme}://{self.proxy_host}{port}{self.target}"

    @property
    def host_header(self) -> str:
        default = 443 if self.https else 80
        return self.proxy_host if self.proxy_port == default else f"{self.proxy_host}:{self.proxy_port}"

    @classmethod
    def parse_proxy(cls, proxy: str, rpc_server: str, **kw: Any) -> RpchEndpoint:
        """From ``HOST[:PORT]`` (``--rpc-proxy``); IPv6 literals in brackets."""
        host, port = proxy.strip(), None
        if host.startswith("["):
            inner, _, rest = host[1:].partition("]")
            host = inner
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif host.count(":") == 1:
            name, _, p = host.partition(":")
            if p.isdigit():
                host, port = name, int(p)
        return cls(host, rpc_server, proxy_port=port or (443 if kw.get("https", True) else 80), **kw)


@dataclass
class RpchStats:
    """What one virtual connection cost: HTTP requests, TCP connections, bytes, RPC calls."""

    http_requests: int = 0
    tcp_connections: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    rpc_calls: int = 0
    continues_seen: int = 0
    http_scheme: str | None = None
    rpc_auth: str = "none"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, n: int = 1) -> None:
        """Count (the two channels open in parallel threads)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + n)


# -- one HTTP connection ------------------------------------------------------------------------------


class _Channel:
    """One TCP (+TLS) connection speaking HTTP/1.1 through h11."""

    def __init__(self, conn: RpchConnection, name: str) -> None:
        self.owner = conn
        self.name = name
        self.stream: httpcore.NetworkStream | None = None
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_READ_SIZE)
        self.record: TraceRecord | None = None
        self.sent = 0
        self.received = 0
        self.started = 0.0
        self.tls_version: str | None = None
        self.tls_cipher: str | None = None

    def connect(self) -> None:
        o = self.owner
        ep = o.endpoint
        timeout = o.options.connect_timeout
        try:
            stream = o.backend.connect_tcp(ep.proxy_host, ep.proxy_port, timeout=timeout)
        except TransportError:
            raise
        except httpcore.ConnectTimeout:
            raise ConnectFailed(
                f"connecting to {ep.proxy_host}:{ep.proxy_port} timed out", url=ep.url
            ) from None
        except (httpcore.ConnectError, OSError) as exc:
            via = f" through the proxy {o.proxy}" if o.proxy else ""
            raise ConnectFailed(
                f"cannot connect to {ep.proxy_host}:{ep.proxy_port}{via}: {exc}", url=ep.url
            ) from None
        o.stats.add("tcp_connections")
        if ep.https:
            try:
                stream = stream.start_tls(o.ssl_context, server_hostname=ep.proxy_host, timeout=timeout)
            except Exception as exc:
                stream.close()
                cause = exc.__cause__ or exc.__context__ or exc
                code = getattr(cause, "verify_code", None)
                reason = str(getattr(cause, "verify_message", None) or cause or type(exc).__name__)
                raise TLSFailure(
                    f"TLS with {ep.proxy_host} failed: {reason}", reason=reason, verify_code=code, url=ep.url
                ) from None
            ssl_object = stream.get_extra_info("ssl_object")
            if ssl_object is not None:
                self.tls_version = ssl_object.version()
                cipher = ssl_object.cipher()
                self.tls_cipher = cipher[0] if cipher else None
                if ep.cert_principal:
                    _check_principal(ssl_object.getpeercert() or {}, ep.cert_principal, ep.url, stream)
        self.stream = stream

    def _write(self, data: bytes | None) -> None:
        if not data:
            return
        assert self.stream is not None
        try:
            self.stream.write(data, timeout=self.owner.options.read_timeout)
        except (httpcore.WriteError, httpcore.WriteTimeout, OSError) as exc:
            raise ConnectionLost(
                f"the {self.name} channel was closed while sending ({exc or type(exc).__name__})",
                url=self.owner.endpoint.url,
            ) from None

    def request(
        self, method: str, length: int, body: bytes, headers: list[tuple[str, str]], label: str
    ) -> None:
        """Send the request head and the first ``body`` bytes (all of them when ``len(body) == length``)."""
        ep = self.owner.endpoint
        all_headers = [
            ("Host", ep.host_header),
            ("User-Agent", f"MSRPC {USER_AGENT}"),
            ("Accept", "application/rpc"),
            ("Cache-Control", "no-cache"),
            ("Pragma", "no-cache"),
            ("Connection", "Keep-Alive"),
            ("Content-Length", str(length)),
            *headers,
        ]
        self.started = time.monotonic()
        self.sent = len(body)
        self.received = 0
        self.owner.stats.add("http_requests")
        self.record = TraceRecord(
            seq=self.owner.trace.next_seq() if self.owner.trace is not None else 0,
            method=method,
            url=ep.url,
            started_at=time.time(),
            http_version="HTTP/1.1",
            request_headers=redact_headers(all_headers),
            label=label,
            tls_version=self.tls_version,
            tls_cipher=self.tls_cipher,
            peer_address=f"{ep.proxy_host}:{ep.proxy_port}",
            proxy=self.owner.proxy,
        )
        self._write(self.h11.send(h11.Request(method=method, target=ep.target, headers=all_headers)))
        if body:
            self._write(self.h11.send(h11.Data(data=body)))
        if len(body) == length:
            self._write(self.h11.send(h11.EndOfMessage()))
        self.owner.stats.add("bytes_sent", len(body))

    def send(self, data: bytes) -> None:
        """More of the request body (the IN channel's PDUs)."""
        self._write(self.h11.send(h11.Data(data=data)))
        self.sent += len(data)
        self.owner.stats.add("bytes_sent", len(data))

    def _event(self, timeout: float) -> Any:
        assert self.stream is not None
        while True:
            try:
                ev = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if "peer closed connection" in str(exc):
                    raise ConnectionLost(
                        f"the RPC proxy closed the {self.name} channel in the middle of its answer",
                        url=self.owner.endpoint.url,
                    ) from None
                raise HTTPFailure(f"the {self.name} channel's answer is not valid HTTP: {exc}") from None
            if ev is not h11.NEED_DATA:
                return ev
            try:
                data = self.stream.read(_READ_SIZE, timeout=timeout)
            except httpcore.ReadTimeout:
                raise ReadTimeout(
                    f"the {self.name} channel carried nothing for {timeout:g} s", phase=self.name
                ) from None
            except (httpcore.ReadError, OSError) as exc:
                raise ConnectionLost(
                    f"the {self.name} channel was reset ({exc or type(exc).__name__})",
                    url=self.owner.endpoint.url,
                ) from None
            self.h11.receive_data(data)

    def response(self, timeout: float) -> h11.Response:
        """The final response head (``100 Continue`` and other 1xx are passed by)."""
        while True:
            ev = self._event(timeout)
            if isinstance(ev, h11.InformationalResponse):
                self.owner.stats.add("continues_seen")
                continue
            if isinstance(ev, h11.Response):
                self._finish_record(ev)
                return ev
            if isinstance(ev, h11.ConnectionClosed):
                raise ConnectionLost(
                    f"the RPC proxy closed the {self.name} channel without an answer",
                    url=self.owner.endpoint.url,
                )
            raise HTTPFailure(f"unexpected {type(ev).__name__} on the {self.name} channel")

    def _finish_record(self, resp: h11.Response) -> None:
        if self.record is None:
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.headers]
        elapsed = (time.monotonic() - self.started) * 1000
        self.record = dataclasses.replace(
            self.record,
            status=resp.status_code,
            response_headers=redact_headers(headers),
            first_byte_ms=elapsed,
            total_ms=elapsed,
            request_bytes=self.sent,
            outcome="ok" if resp.status_code < 400 else f"http-{resp.status_code}",
        )
        # Written once its body is read (body()), or for a channel's answer, which lasts as long as the
        # channel, at close(): with the bytes it carried.

    def _add_record(self) -> None:
        rec, self.record = self.record, None
        if rec is not None and self.owner.trace is not None:
            self.owner.trace.add(rec)

    def body(self, timeout: float, limit: int = _MAX_ERROR_BODY) -> bytes:
        """The rest of a (short) response body."""
        out = bytearray()
        while True:
            ev = self._event(timeout)
            if isinstance(ev, h11.Data):
                out += ev.data
                self.received += len(ev.data)
                self.owner.stats.add("bytes_received", len(ev.data))
                if len(out) > limit:
                    self._body_done()
                    return bytes(out[:limit])
            elif isinstance(ev, (h11.EndOfMessage, h11.ConnectionClosed)):
                self._body_done()
                return bytes(out)

    def _body_done(self) -> None:
        if self.record is not None:
            total = (time.monotonic() - self.started) * 1000
            self.record = dataclasses.replace(self.record, response_bytes=self.received, total_ms=total)
        self._add_record()

    def data(self, timeout: float) -> bytes:
        """The next piece of a long response body; ``b""`` when it ended."""
        ev = self._event(timeout)
        if isinstance(ev, h11.Data):
            self.received += len(ev.data)
            self.owner.stats.add("bytes_received", len(ev.data))
            return bytes(ev.data)
        return b""

    def next_cycle(self) -> None:
        self.h11.start_next_cycle()

    def close(self) -> None:
        if self.record is not None:
            self.record = dataclasses.replace(
                self.record,
                request_bytes=self.sent,
                response_bytes=self.received,
                total_ms=(time.monotonic() - self.started) * 1000,
                outcome=self.record.outcome if self.record.status is not None else "closed",
            )
            self._add_record()
        if self.stream is not None:
            with contextlib.suppress(Exception):  # closing a dead socket
                self.stream.close()
            self.stream = None


def _check_principal(cert: dict[str, Any], principal: str, url: str, stream: Any) -> None:
    """CertPrincipalName ``msstd:NAME`` (MS-OXDSCLI 2.2.4.1.1.2.6.7): the certificate's subject or one of its
    DNS names must be NAME. An unverified connection (``--insecure``) has no parsed certificate to check."""
    if not cert:
        return
    wanted = principal.partition("msstd:")[2] or principal
    names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
    names += [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
    if any(n.lower() == wanted.lower() for n in names):
        return
    stream.close()
    reason = f"the certificate names {', '.join(names) or 'nothing'}, not the CertPrincipalName {wanted}"
    raise TLSFailure(f"RPC proxy certificate check failed: {reason}", reason=reason, url=url)


def _header(resp: h11.Response, name: str) -> list[str]:
    key = name.lower().encode("ascii")
    return [v.decode("latin-1") for k, v in resp.headers if k.lower() == key]


def _schemes(resp: h11.Response) -> tuple[str, ...]:
    found: list[str] = []
    for value in _header(resp, "WWW-Authenticate"):
        for scheme in challenge_schemes(value):
            if scheme not in found:
                found.append(scheme)
    return tuple(found)


def _token(resp: h11.Response, scheme: str) -> bytes | None:
    for value in _header(resp, "WWW-Authenticate"):
        name, _, rest = value.strip().partition(" ")
        if name.lower() == scheme.lower() and rest.strip():
            try:
                return base64.b64decode(rest.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
    return None


# -- the virtual connection ---------------------------------------------------------------------------


ContextFactory = Callable[[str, str], Any]
"""``factory(protocol, host)`` -> a pyspnego-like client context (tests may pass their own)."""


class RpchConnection:
    """One RPC/HTTP virtual connection to ``endpoint`` and one DCE/RPC association over it.

    ``http_scheme``: ``auto`` (from the echo probe's 401), ``basic``, ``ntlm`` or ``negotiate``.
    ``rpc_auth``: ``none``, ``ntlm`` or ``negotiate`` at the RPC level, with ``rpc_level``
    (:class:`~mapiprobe.protocol.dcerpc.AuthLevel`: CONNECT, PKT_INTEGRITY or PKT_PRIVACY).
    Calls are serialised (one at a time); every method can raise :class:`RpchError` or another
    :class:`~mapiprobe.transport.errors.TransportError`.
    """

    def __init__(
        self,
        endpoint: RpchEndpoint,
        credentials: Credentials,
        options: ConnectionOptions | None = None,
        *,
        http_scheme: str = "auto",
        rpc_auth: str = "none",
        rpc_level: int = AuthLevel.PKT_PRIVACY,
        receive_window: int = DEFAULT_RECEIVE_WINDOW,
        trace: Trace | None = None,
        context_factory: ContextFactory | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.options = options or ConnectionOptions()
        self.http_scheme = http_scheme
        self.rpc_auth = rpc_auth
        self.rpc_level = rpc_level
        self.receive_window = receive_window
        self.trace = trace
        self.stats = RpchStats()
        self._factory = context_factory
        rules = tuple(parse_connect_to(r) for r in self.options.connect_to)
        resolver = None
        if self.options.dns_server:
            resolver = make_resolver(self.options.dns_server, timeout=self.options.connect_timeout)
        # Building a context reads the CA bundle (tens of ms): callers that open several connections lend one.
        self.ssl_context = ssl_context or make_ssl_context(self.options)
        contexts = None
        if isinstance(self.ssl_context, truststore.SSLContext):
            contexts = SSLContextPool(lambda: make_ssl_context(self.options))
        self.ssl_context.set_alpn_protocols(["http/1.1"])
        self.backend: Any = MappedBackend(rules, resolver, contexts)
        self.proxy: str | None = None
        """The HTTP proxy the channels tunnel through (CONNECT), from --proxy or the system's settings."""
        if endpoint.https and (self.options.proxy or "").lower() not in DIRECT_WORDS:
            self.proxy = proxy_selector(self.options).for_url(endpoint.url)
            if self.proxy is not None:
                self.backend = TunnelBackend(self.backend, self.proxy)
        self._lock = threading.RLock()
        self._in: _Channel | None = None
        self._out: _Channel | None = None
        self._pdus = PduStream()
        self._ready: collections.deque[bytes] = collections.deque()
        self._vc = uuid.uuid4()
        self._in_cookie = uuid.uuid4()
        self._out_cookie = uuid.uuid4()
        self._group = uuid.uuid4()
        self._call_ids = itertools.count(1)
        self._out_received = 0
        self._out_acked = 0
        self._in_sent = 0
        self._in_acked = 0
        self._peer_window = DEFAULT_RECEIVE_WINDOW
        self.connection_timeout_ms: int | None = None
        self.security: RpcSecurity | None = None
        self.max_xmit = MAX_FRAG
        self.max_recv = MAX_FRAG
        self.assoc_group = 0
        self.interface: SyntaxId | None = None
        self.echo_ms: float | None = None
        self.closed = False

    # -- HTTP authentication of one channel request ---------------------------------------------------

    def _context(self, protocol: str) -> Any:
        if self._factory is not None:
            return self._factory(protocol, self.endpoint.proxy_host)
        import spnego

        c = self.credentials
        password = c.password.reveal() if c.password is not None else None
        user = spnego_user(c.user, protocol) if password is not None else None
        return spnego.client(
            user, password, hostname=self.endpoint.proxy_host, service="HTTP", protocol=protocol
        )

    def _basic(self) -> str:
        c = self.credentials
        if c.password is None or not c.user:
            raise RpchError("Basic authentication needs a user name and a password", stage="auth")
        raw = f"{c.user}:{c.password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def _open(self, ch: _Channel, method: str, length: int, body: bytes, label: str) -> None:
        """Authenticate ``ch`` and send the channel request head and ``body``."""
        scheme = self.stats.http_scheme
        ep = self.endpoint
        if scheme not in (None, "anonymous") and not ep.https:
            raise InsecureCredentialRefused(ep.url, scheme or "")
        if scheme is None or scheme == "anonymous":
            ch.request(method, length, body, [], label)
            return
        if scheme == "Basic":
            ch.request(method, length, body, [("Authorization", self._basic())], label)
            return
        protocol = "ntlm" if scheme == "NTLM" else "negotiate"
        try:
            ctx = self._context(protocol)
            token = ctx.step(None)
        except Exception as exc:
            raise AuthenticationFailed(ep.url, scheme, offered=()) from _Reason(exc)
        legs = 0
        timeout = self.options.read_timeout
        while True:
            legs += 1
            header = [("Authorization", f"{scheme} {base64.b64encode(token).decode('ascii')}")]
            last = bool(ctx.complete) or (legs == 1 and getattr(ctx, "negotiated_protocol", "") == "kerberos")
            if last:
                ch.request(method, length, body, header, label)
                return
            ch.request(method, 0, b"", header, f"{label} (authentication leg {legs})")
            resp = ch.response(timeout)
            leg_body = ch.body(timeout)
            if 200 <= resp.status_code < 300:
                # The handshake finished on this leg: the connection is authenticated (IIS keeps an
                # NTLM/Negotiate logon for the connection); the channel request goes without a token.
                server_token = _token(resp, scheme)
                if server_token is not None and not ctx.complete:
                    try:
                        ctx.step(server_token)
                    except Exception as exc:
                        raise AuthenticationFailed(ep.url, scheme, offered=()) from _Reason(exc)
                ch.next_cycle()
                ch.request(method, length, body, [], label)
                return
            if resp.status_code in (400, 404, 503):
                # Authenticated, then refused: a Negotiate handshake (SPNEGO around NTLM) ends with a leg
                # of its own, so the proxy's verdict on the channel request can come on that leg.
                what = label.removeprefix("RPC/HTTP ")  # echo, IN channel, OUT channel
                raise RpchError(
                    self._status_words(resp, leg_body, what), stage=what.lower().replace(" ", "-"), url=ep.url
                )
            if resp.status_code != 401:
                raise HTTPFailure(
                    f"the RPC proxy answered {resp.status_code} to an authentication leg",
                    status=resp.status_code,
                )
            server_token = _token(resp, scheme)
            if server_token is None or legs >= 4:
                raise AuthenticationFailed(ep.url, scheme, offered=_schemes(resp))
            try:
                token = ctx.step(server_token)
            except Exception as exc:
                raise AuthenticationFailed(ep.url, scheme, offered=_schemes(resp)) from _Reason(exc)
            ch.next_cycle()

    def _choose_scheme(self, offered: tuple[str, ...]) -> str:
        lower = {s.lower(): s for s in offered}
        wanted = self.http_scheme.lower()
        c = self.credentials
        order = ("negotiate", "ntlm", "basic") if wanted == "auto" else (wanted,)
        for name in order:
            if name not in lower:
                continue
            if name in ("negotiate", "ntlm") and c.can_spnego:
                return {"negotiate": "Negotiate", "ntlm": "NTLM"}[name]
            if name == "basic" and c.password is not None and (c.allow_basic or wanted == "basic"):
                if not self.endpoint.https:
                    raise InsecureCredentialRefused(self.endpoint.url, "Basic")
                return "Basic"
        raise AuthenticationFailed(self.endpoint.url, self.http_scheme, offered=offered)

    # -- echo ---------------------------------------------------------------------------------------

    def echo(self) -> float:
        """The echo probe (MS-RPCH 3.2.2.5.1): one ``RPC_IN_DATA`` with a 4-byte body on its own connection.

        Without credentials yet, its 401 tells which schemes the proxy offers and the scheme is chosen; then
        the echo is repeated with them. Returns the round trip of the answered echo in milliseconds."""
        timeout = self.options.read_timeout
        while True:
            ch = _Channel(self, "echo")
            try:
                ch.connect()
                self._open(ch, "RPC_IN_DATA", len(ECHO_BODY), ECHO_BODY, "RPC/HTTP echo")
                start = time.monotonic()
                resp = ch.response(timeout)
                body = ch.body(timeout)
            finally:
                ch.close()
            if resp.status_code == 401:
                if self.stats.http_scheme is not None:
                    raise AuthenticationFailed(
                        self.endpoint.url, self.stats.http_scheme, offered=_schemes(resp)
                    )
                if self.credentials.is_empty and self.http_scheme == "auto":
                    raise AuthenticationFailed(self.endpoint.url, "none", offered=_schemes(resp))
                self.stats.http_scheme = self._choose_scheme(_schemes(resp))
                continue
            if resp.status_code != 200:
                raise RpchError(self._status_words(resp, body, "echo"), stage="echo", url=self.endpoint.url)
            try:
                pdu = RtsPdu.decode(body)
            except ProtocolError as exc:
                raise RpchError(f"the echo answer is not an RTS echo: {exc}", stage="echo") from None
            if pdu.name != "Echo":
                raise RpchError(f"the echo answer is {pdu.name}, not an echo", stage="echo")
            if self.stats.http_scheme is None:
                self.stats.http_scheme = "anonymous"
            self.echo_ms = (time.monotonic() - start) * 1000
            return self.echo_ms

    def _status_words(self, resp: h11.Response, body: bytes, what: str) -> str:
        reason = resp.reason.decode("latin-1", "replace")
        text = f"the RPC proxy answered the {what} with HTTP {resp.status_code} {reason}".rstrip()
        if resp.status_code == 503:
            ep = self.endpoint
            text += f" (it cannot reach or refuses the RPC server {ep.rpc_server}:{ep.server_port})"
        elif resp.status_code == 404:
            text += " (no RPC proxy at this path)"
        elif resp.status_code == 400:
            text += " (the proxy rejects the request; the RPC server name is malformed or not allowed)"
        snippet = body[:200].decode("latin-1", "replace").strip()
        if (
            snippet
            and resp.status_code >= 400
            and "<" not in snippet[:1]
            and not snippet.startswith(str(resp.status_code))
        ):
            text += f": {snippet}"
        return text

    # -- the virtual connection --------------------------------------------------------------------

    def open(self) -> RpchConnection:
        """Echo (unless the scheme is known), then the OUT and IN channels: CONN/A1 and CONN/B1 go out one
        after the other, CONN/A3 and CONN/C2 come back on the OUT channel."""
        with self._lock:
            if self.stats.http_scheme is None and self.http_scheme != "auto":
                self.stats.http_scheme = {"basic": "Basic", "ntlm": "NTLM", "negotiate": "Negotiate"}.get(
                    self.http_scheme.lower()
                )
            scheme = self.stats.http_scheme
            if scheme is not None and scheme != "anonymous" and not self.endpoint.https:
                raise InsecureCredentialRefused(self.endpoint.url, scheme)
            if scheme is None:
                self.echo()
            timeout = self.options.read_timeout
            out = self._out = _Channel(self, "OUT")
            out.connect()
            a1 = conn_a1(self._vc, self._out_cookie, self.receive_window).encode()
            self._open(out, "RPC_OUT_DATA", OUT_CHANNEL_LENGTH, a1, "RPC/HTTP OUT channel")
            # The IN channel is opened while CONN/A1 is on its way (Windows does the same): CONN/A3 and
            # CONN/C2 then come back in one round trip instead of two. (Opening both on parallel threads
            # was tried: on a busy 2-core machine it was slower, and B1 then often overtakes A1.)
            inch = self._in = _Channel(self, "IN")
            in_failure: TransportError | None = None
            try:
                inch.connect()
                b1 = conn_b1(self._vc, self._in_cookie, self._group).encode()
                self._open(inch, "RPC_IN_DATA", IN_CHANNEL_LENGTH, b1, "RPC/HTTP IN channel")
            except TransportError as exc:
                in_failure = exc
            resp = out.response(timeout)
            if resp.status_code == 401:
                raise AuthenticationFailed(
                    self.endpoint.url, self.stats.http_scheme or "none", offered=_schemes(resp)
                )
            if resp.status_code != 200:
                body = out.body(timeout)
                raise RpchError(self._status_words(resp, body, "OUT channel"), stage="out-channel")
            first = self._next_rts(timeout, "CONN/A3", "CONN/C2")
            if in_failure is not None:
                raise in_failure
            # CONN/A3 comes first from every proxy seen; CONN/C2 first is accepted too (the IN proxy's
            # answer may overtake the OUT proxy's on another path).
            try:
                second = self._next_rts(timeout, "CONN/C2" if first.name == "CONN/A3" else "CONN/A3")
            except TransportError as exc:
                raise self._in_channel_failure(exc) from None
            c2 = first if first.name == "CONN/C2" else second
            self._peer_window = c2.u32(CommandType.RECEIVE_WINDOW_SIZE)
            self.connection_timeout_ms = c2.u32(CommandType.CONNECTION_TIMEOUT)
            return self

    def _in_channel_failure(self, cause: TransportError) -> TransportError:
        """The OUT channel did not bring CONN/C2: the IN channel's own answer usually says why."""
        inch = self._in
        if inch is None:
            return cause
        try:
            resp = inch.response(min(5.0, self.options.read_timeout))
            body = inch.body(2.0)
        except TransportError:
            return cause
        if resp.status_code == 401:
            return AuthenticationFailed(
                self.endpoint.url, self.stats.http_scheme or "none", offered=_schemes(resp)
            )
        return RpchError(
            self._status_words(resp, body, "IN channel"), stage="in-channel", url=self.endpoint.url
        )

    def _next_rts(self, timeout: float, *names: str) -> RtsPdu:
        while True:
            raw = self._read_raw(timeout)
            name = " or ".join(names)
            if raw[2] != PType.RTS:
                raise RpchError(f"expected {name}, the proxy sent PDU type {raw[2]}", stage="out-channel")
            try:
                pdu = RtsPdu.decode(raw)
            except ProtocolError as exc:
                raise RpchError(
                    f"expected {name}, the proxy sent a bad RTS PDU: {exc}", stage="out-channel"
                ) from None
            if pdu.name in names:
                return pdu
            if pdu.name in ("Ping", "FlowControlAck"):
                self._on_rts(pdu)
                continue
            raise RpchError(f"expected {name}, the proxy sent {pdu.name}", stage="out-channel")

    def _read_raw(self, timeout: float) -> bytes:
        out = self._out
        if out is None:
            raise RpchError("the virtual connection is not open", stage="call")
        while not self._ready:
            data = out.data(timeout)
            if not data:
                raise ConnectionLost(
                    "the RPC proxy ended the OUT channel (the virtual connection is gone)",
                    url=self.endpoint.url,
                )
            try:
                self._ready.extend(self._pdus.feed(data))
            except ProtocolError as exc:
                raise RpchError(
                    f"the OUT channel carries something that is not RPC: {exc}", stage="out-channel"
                ) from None
        return self._ready.popleft()

    def _on_rts(self, pdu: RtsPdu) -> None:
        for cmd in pdu.commands:
            if cmd.type == CommandType.FLOW_CONTROL_ACK and isinstance(cmd.value, FlowControlAck):
                self._in_acked = cmd.value.bytes_received
                self._peer_window = cmd.value.available_window or self._peer_window

    def _read_pdu(self, timeout: float) -> Pdu:
        """The next non-RTS PDU from the OUT channel; RTS PDUs in between are handled; flow control acked."""
        while True:
            raw = self._read_raw(timeout)
            if raw[2] == PType.RTS:
                try:
                    self._on_rts(RtsPdu.decode(raw))
                except ProtocolError as exc:
                    raise RpchError(f"bad RTS PDU on the OUT channel: {exc}", stage="out-channel") from None
                continue
            self._out_received += len(raw)
            if self._out_received - self._out_acked >= self.receive_window // 2:
                self._out_acked = self._out_received
                ack = flow_control_ack_with_destination(
                    self._out_received, self.receive_window, self._out_cookie
                )
                self._send_in(ack.encode(), rts=True)
            try:
                return Pdu.decode(raw)
            except ProtocolError as exc:
                raise RpchError(f"bad PDU on the OUT channel: {exc}", stage="call") from None

    def _send_in(self, data: bytes, *, rts: bool = False) -> None:
        inch = self._in
        if inch is None:
            raise RpchError("the virtual connection is not open", stage="call")
        if not rts:
            deadline = time.monotonic() + self.options.read_timeout
            while self._in_sent - self._in_acked + len(data) > self._peer_window:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RpchError("the IN proxy's receive window stayed full", stage="call")
                raw = self._read_raw(remaining)
                if raw[2] != PType.RTS:
                    raise RpchError("a PDU arrived while waiting for flow control", stage="call")
                self._on_rts(RtsPdu.decode(raw))
            self._in_sent += len(data)
        inch.send(data)

    def ping(self) -> None:
        """Keep the IN channel alive (an RTS Ping; the proxy does not answer it)."""
        with self._lock:
            self._send_in(ping().encode(), rts=True)

    # -- DCE/RPC ------------------------------------------------------------------------------------

    def bind(self, interface: SyntaxId = EMSMDB) -> BindAck:
        """Bind the interface (with RPC-level authentication when asked) and remember the fragment sizes."""
        with self._lock:
            timeout = self.options.read_timeout
            ctx_list = (ContextElement(0, interface, (NDR,)),)
            bind = Bind(ctx_list, MAX_FRAG, MAX_FRAG, 0)
            call_id = next(self._call_ids)
            sec: RpcSecurity | None = None
            if self.rpc_auth != "none":
                sec = self._rpc_security()
                token = sec.step(None) or b""
                raw = encode_bind(PType.BIND, bind, call_id=call_id, trailer=sec.trailer(), auth_value=token)
            else:
                raw = encode_bind(PType.BIND, bind, call_id=call_id)
            self._send_in(raw)
            pdu = self._read_pdu(timeout)
            try:
                body = pdu.parse()
            except ProtocolError as exc:
                raise RpchError(f"the bind's answer does not decode: {exc}", stage="bind") from None
            if isinstance(body, Fault):
                raise RpcFault(body.status, stage="bind", url=self.endpoint.url)
            if isinstance(body, BindNak):
                hint = (
                    "it may want RPC-level authentication none, as gromox does"
                    if self.rpc_auth != "none"
                    else "it wants RPC-level authentication (NTLM or Negotiate), as Exchange does"
                )
                raise RpchError(f"the RPC server refused the bind: {body.reason_name} ({hint})", stage="bind")
            if not isinstance(body, BindAck):
                raise RpchError(f"the bind was answered with PDU type {pdu.ptype}", stage="bind")
            if not body.results or not body.results[0].accepted:
                raise RpchError(
                    f"the RPC server refused the interface {interface}: {describe_contexts(body.results)}",
                    stage="bind",
                )
            self.max_xmit = min(MAX_FRAG, body.max_recv_frag)
            self.max_recv = body.max_xmit_frag
            self.assoc_group = body.assoc_group_id
            if sec is not None:
                self._finish_rpc_auth(sec, pdu, bind, timeout)
            self.security = sec
            self.interface = interface
            self.stats.rpc_auth = (
                "none" if sec is None else f"{sec.mechanism}, level {AuthLevel(sec.level).name.lower()}"
            )
            return body

    def _rpc_security(self) -> RpcSecurity:
        protocol = "ntlm" if self.rpc_auth == "ntlm" else "negotiate"
        c = self.credentials
        if self._factory is not None:
            ctx = self._factory(protocol, self.endpoint.rpc_server)
        else:
            password = c.password.reveal() if c.password is not None else None
            user = spnego_user(c.user, protocol) if password is not None else None
            ctx = client_context(user, password, host=self.endpoint.rpc_server, protocol=protocol)
        auth_type = AuthType.WINNT if protocol == "ntlm" else AuthType.GSS_NEGOTIATE
        return RpcSecurity(ctx, level=self.rpc_level, auth_type=auth_type)

    def _finish_rpc_auth(self, sec: RpcSecurity, ack_pdu: Pdu, bind: Bind, timeout: float) -> None:
        token = ack_pdu.auth_value
        try:
            if not token:
                raise RpcSecurityError("the bind_ack carries no security token")
            out = sec.step(token)
            if sec.auth_type == AuthType.WINNT:
                if out:
                    self._send_in(encode_auth3(next(self._call_ids), sec.trailer(), out))
                return
            while out and not sec.complete:  # SPNEGO: alter_context legs
                alter = Bind(bind.contexts, bind.max_xmit_frag, bind.max_recv_frag, self.assoc_group)
                raw = encode_bind(
                    PType.ALTER_CONTEXT,
                    alter,
                    call_id=next(self._call_ids),
                    trailer=sec.trailer(),
                    auth_value=out,
                )
                self._send_in(raw)
                resp = self._read_pdu(timeout)
                if resp.ptype == PType.FAULT:
                    fault = resp.parse()
                    assert isinstance(fault, Fault)
                    raise RpcFault(fault.status, stage="bind")
                if resp.ptype != PType.ALTER_CONTEXT_RESP:
                    raise RpchError(f"alter_context answered with PDU type {resp.ptype}", stage="bind")
                out = sec.step(resp.auth_value) if resp.auth_value else None
        except (RpcSecurityError, ProtocolError) as exc:
            raise RpchError(str(exc), stage="bind") from None

    def call(self, opnum: int, stub: bytes, *, context_id: int = 0) -> bytes:
        """One RPC: the request (fragmented to the server's size) and the reassembled response stub."""
        with self._lock:
            if self.interface is None:
                raise RpchError("call before bind", stage="call")
            timeout = self.options.read_timeout
            call_id = next(self._call_ids)
            sec = self.security
            signed = sec is not None and sec.signs
            overhead = 24 + (8 + SIGNATURE_SIZE + 3 if signed else 0)
            # A fragment never takes more than half the IN proxy's window: the proxy acknowledges every
            # half window (MS-RPCH 3.2.2.4), so a whole-window fragment could wait for an ack forever.
            max_frag = max(1024, min(self.max_xmit, self._peer_window // 2))
            for flags, piece in fragment_stub(stub, max_frag, overhead):
                fixed = Request(opnum, piece, context_id, alloc_hint=len(stub)).fixed()
                if signed:
                    assert sec is not None
                    raw = build_pdu(
                        PType.REQUEST, fixed, piece, call_id=call_id, flags=flags, trailer=sec.trailer(),
                        auth_length=SIGNATURE_SIZE, protect=sec.protect,
                    )  # fmt: skip
                else:
                    raw = build_pdu(PType.REQUEST, fixed, piece, call_id=call_id, flags=flags)
                self._send_in(raw)
            self.stats.add("rpc_calls")
            parts: list[bytes] = []
            received = 0
            while True:
                pdu = self._read_pdu(timeout)
                if pdu.call_id != call_id:
                    raise RpchError(
                        f"answer for call {pdu.call_id} while waiting for call {call_id}", stage="call"
                    )
                if pdu.ptype == PType.FAULT:
                    try:
                        fault = pdu.parse()
                    except ProtocolError as exc:
                        raise RpchError(f"the fault PDU does not decode: {exc}", stage="call") from None
                    assert isinstance(fault, Fault)
                    raise RpcFault(fault.status, url=self.endpoint.url)
                if pdu.ptype != PType.RESPONSE:
                    raise RpchError(f"the call was answered with PDU type {pdu.ptype}", stage="call")
                if signed:
                    assert sec is not None
                    try:
                        pdu = sec.unprotect(pdu)
                    except RpcSecurityError as exc:
                        raise RpchError(str(exc), stage="call") from None
                try:
                    body = pdu.parse()
                except ProtocolError as exc:
                    raise RpchError(f"the call's answer does not decode: {exc}", stage="call") from None
                assert isinstance(body, Response)
                parts.append(body.stub)
                received += len(body.stub)
                if received > MAX_RESPONSE_STUB:
                    raise RpchError(
                        f"the response is larger than {MAX_RESPONSE_STUB} bytes (EMSMDB answers are at most "
                        "256 KB of ROPs and 4 KB of auxiliary data)",
                        stage="call",
                    )
                if pdu.flags & PFC_LAST_FRAG:
                    return b"".join(parts)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            for ch in (self._in, self._out):
                if ch is not None:
                    ch.close()
            self._in = self._out = None

    def __enter__(self) -> RpchConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reason(Exception):
    """Carries a security library's message as the cause of an AuthenticationFailed (no secrets in it)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(" ".join(str(exc).split())[:300] or type(exc).__name__)


# -- EMSMDB over the virtual connection ---------------------------------------------------------------


@dataclass
class EmsmdbRpcClient:
    """EcDoConnectEx / EcDoRpcExt2 / EcDoDisconnect over one :class:`RpchConnection` bound to EMSMDB."""

    connection: RpchConnection
    handle: ContextHandle = field(default_factory=ContextHandle)

    def connect(self, user_dn: str, **kw: Any) -> ConnectExResponse:
        resp = ConnectExResponse.decode(
            self.connection.call(OPNUM_CONNECT_EX, ConnectExRequest(user_dn, **kw).encode())
        )
        if resp.return_value == 0:
            self.handle = resp.handle
        return resp

    def execute(
        self, rop_in: bytes, *, flags: int = 0x3, aux_in: bytes = b"", cb_out: int = MAX_ROP_OUT
    ) -> RpcExt2Response:
        req = RpcExt2Request(self.handle, rop_in, flags=flags, cb_out=min(cb_out, MAX_ROP_OUT), aux_in=aux_in)
        resp = RpcExt2Response.decode(self.connection.call(OPNUM_RPC_EXT2, req.encode()))
        if resp.return_value == 0:
            self.handle = resp.handle
        return resp

    def disconnect(self) -> DisconnectRpcResponse:
        resp = DisconnectRpcResponse.decode(
            self.connection.call(OPNUM_DISCONNECT, DisconnectRpcRequest(self.handle).encode())
        )
        self.handle = resp.handle
        return resp


__all__ = [
    "DEFAULT_PATH",
    "EMSMDB_PORT",
    "EmsmdbRpcClient",
    "RpcFault",
    "RpchConnection",
    "RpchEndpoint",
    "RpchError",
    "RpchStats",
]
