"""The one httpx client every endpoint uses: HTTP/1.1, keep-alive, timeouts always set, traced.

:func:`make_client` builds it from :class:`ConnectionOptions` (what ``cli/options.py`` reads from the command
line). Three things happen below httpx, in an httpcore network backend, so that everything above (SNI,
certificate name checks, the ``Host`` header, connection pooling) keeps seeing the name from the URL:

* ``--connect-to HOST:PORT:ADDR:PORT`` (curl's syntax) maps the (host, port) a connection is opened for to
  another address and port;
* names are resolved through :mod:`mapiprobe.transport.resolve` when ``--dns-server`` is given (otherwise
  the operating system resolves them);
* a TLS handshake that times out is told apart from a TCP connect that does.

TLS is verified against the operating system's trust store (``truststore`` on Windows and macOS, OpenSSL's
CA bundle elsewhere: see :func:`os_trust_context`) plus any ``--ca-cert`` file of this run; ``--insecure``
turns verification off (front ends must say so loudly: :data:`INSECURE_WARNING`).
Proxies: ``ConnectionOptions.proxy`` (``--proxy``) is a proxy URL, ``none``, or None for the system's settings
(environment variables; WinINet and its PAC file on Windows): see :mod:`mapiprobe.transport.proxy`. httpx's
own ``trust_env`` stays off; the choice is made here, per URL, and each trace record says which proxy the
request went through (:attr:`TraceRecord.proxy`).
"""

from __future__ import annotations

import contextlib
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpcore
import httpx
import truststore

from mapiprobe import __version__
from mapiprobe.transport.errors import BackendNameNotResolved, NameNotResolved, TLSHandshakeTimeout, translate
from mapiprobe.transport.limits import DEFAULT_MAX_PENDING, MIN_BODY_RATE, Pace, StreamGuard
from mapiprobe.transport.proxy import ProxySelector, settings_from_option
from mapiprobe.transport.resolve import Resolver, is_ip_literal, make_resolver
from mapiprobe.transport.trace import Trace, TraceRecord, redact_headers

USER_AGENT = f"mapiprobe/{__version__}"
DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=60)
INSECURE_WARNING = (
    "TLS certificate verification is OFF (--insecure): the server's identity is not checked, "
    "and anyone on the network path could read or change this exchange, credentials included."
)


@dataclass(frozen=True)
class ConnectionOptions:
    """How to reach servers: the network half of every command's options."""

    connect_to: tuple[str, ...] = ()  # curl-style "HOST:PORT:ADDR:PORT"
    ca_certs: tuple[Path, ...] = ()  # extra trusted CA certificates (PEM) for this run
    insecure: bool = False
    connect_timeout: float = 10
    read_timeout: float = 30
    dns_server: str | None = None  # "ADDR:PORT" for host and SRV lookups
    proxy: str | None = None  # --proxy: a proxy URL, "none", "pac+URL"; None: the system's settings
    # transport/limits.py: response heads within read_timeout of the request, bodies at min_rate bytes/s
    # averaged over read_timeout, MAPI/HTTP PENDING for at most max_pending seconds, and the whole run
    # until the time.monotonic() value ``deadline`` (--max-time, whose value ``max_time`` is for messages).
    min_rate: float = MIN_BODY_RATE
    max_pending: float = DEFAULT_MAX_PENDING
    max_time: float | None = None
    deadline: float | None = None

    def pace(self) -> Pace:
        return Pace(
            header_timeout=self.read_timeout,
            min_rate=self.min_rate,
            rate_window=self.read_timeout,
            deadline=self.deadline,
            max_time=self.max_time,
        )


# -- --connect-to ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectTo:
    """One curl ``--connect-to`` rule: connections for (host, port) go to (addr, addr_port).

    An empty ``host`` or ``port`` matches any; an empty ``addr`` or ``addr_port`` keeps the original.
    """

    host: str
    port: int | None
    addr: str
    addr_port: int | None

    def matches(self, host: str, port: int) -> bool:
        host_ok = not self.host or self.host.lower() == host.lower()
        return host_ok and (self.port is None or self.port == port)

    def apply(self, host: str, port: int) -> tuple[str, int]:
        return (self.addr or host, self.addr_port if self.addr_port is not None else port)


def _split_hostport_fields(text: str) -> list[str]:
    fields: list[str] = []
    cur = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "[":
            end = text.find("]", i)
            if end < 0:
                raise ValueError(f"unbalanced '[' in --connect-to {text!r}")
            cur += text[i + 1 : end]
            i = end + 1
            continue
        if ch == ":":
            fields.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    fields.append(cur)
    return fields


def _port(text: str, whole: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad port {text!r} in --connect-to {whole!r}")
    return int(text)


def parse_connect_to(text: str) -> ConnectTo:
    """Parse ``HOST1:PORT1:HOST2:PORT2`` (IPv6 addresses in brackets), as curl does."""
    fields = _split_hostport_fields(text.strip())
    if len(fields) != 4:
        raise ValueError(f"--connect-to needs HOST:PORT:ADDR:PORT, got {text!r}")
    host, port, addr, addr_port = fields
    return ConnectTo(host.strip(), _port(port, text), addr.strip(), _port(addr_port, text))


# -- the network backend --------------------------------------------------------------------------------


class SSLContextPool:
    """TLS contexts lent out one per handshake, so that handshakes run in parallel.

    truststore's context holds a lock for the whole of each handshake, so one shared context would make a
    black-holed server (whose handshake never completes) stall every other connection until it times out.
    A context is borrowed for the handshake only; the finished connection keeps using it, which is safe.
    """

    def __init__(self, factory: Callable[[], ssl.SSLContext]) -> None:
        self._factory = factory
        self._free: list[ssl.SSLContext] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[ssl.SSLContext]:
        with self._lock:
            ctx = self._free.pop() if self._free else None
        if ctx is None:
            ctx = self._factory()
        try:
            yield ctx
        finally:
            with self._lock:
                self._free.append(ctx)


class _Stream(httpcore.NetworkStream):
    """Delegates to the real stream; a TLS handshake timeout is raised as :class:`TLSHandshakeTimeout`;
    reads and writes keep the limits of its :class:`~mapiprobe.transport.limits.StreamGuard`."""

    def __init__(
        self,
        inner: httpcore.NetworkStream,
        contexts: SSLContextPool | None = None,
        guard: StreamGuard | None = None,
    ) -> None:
        self._inner = inner
        self._contexts = contexts
        self._guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        guard = self._guard
        if guard is None:
            return self._inner.read(max_bytes, timeout)
        return guard.read(lambda wait: self._inner.read(max_bytes, wait), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        guard = self._guard
        if guard is None:
            self._inner.write(buffer, timeout)
            return
        try:
            self._inner.write(buffer, guard.cap(timeout, "sending the request to"))
        except httpcore.WriteTimeout:
            guard.expired("sending the request to")
            raise
        guard.wrote()

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        guard = self._guard
        if guard is not None:
            timeout = guard.cap(timeout, "in the TLS handshake with")
        try:
            if self._contexts is None:
                return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout), guard=guard)
            with self._contexts.borrow() as ctx:
                ctx.set_alpn_protocols(["http/1.1"])
                return _Stream(self._inner.start_tls(ctx, server_hostname, timeout), guard=guard)
        except httpcore.ConnectTimeout as exc:
            if guard is not None:
                guard.expired("in the TLS handshake with")
            raise TLSHandshakeTimeout(f"TLS handshake with {server_hostname} timed out") from exc

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class MappedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend with ``--connect-to`` rules and a pluggable resolver in front of connect."""

    def __init__(
        self,
        rules: Iterable[ConnectTo] = (),
        resolver: Resolver | None = None,
        contexts: SSLContextPool | None = None,
        pace: Pace | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.resolver = resolver
        self.contexts = contexts
        self.pace = pace
        self._inner = httpcore.SyncBackend()

    def route(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection for (host, port) really goes (the first matching rule wins, as in curl)."""
        for rule in self.rules:
            if rule.matches(host, port):
                return rule.apply(host, port)
        return host, port

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        target, target_port = self.route(host, port)
        guard = StreamGuard(self.pace, host) if self.pace is not None else None
        if guard is not None:
            guard.cap(None, "connecting to")  # --max-time already over: not even a DNS lookup
        if self.resolver is None or is_ip_literal(target):
            addresses = [target.strip("[]")]
        else:
            try:
                addresses = self.resolver.addresses(target)
            except NameNotResolved as exc:
                raise BackendNameNotResolved(exc.message, exc.host) from exc
        options = list(socket_options or ())
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            wait = guard.cap(timeout, "connecting to") if guard is not None else timeout
            try:
                stream = self._inner.connect_tcp(address, target_port, wait, local_address, options)
            except httpcore.ConnectError as exc:  # try the next address; a timeout ends the attempt
                failure = exc
                continue
            except httpcore.ConnectTimeout:
                if guard is not None:
                    guard.expired("connecting to")
                raise
            return _Stream(stream, self.contexts, guard)
        assert failure is not None
        raise failure

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- TLS ------------------------------------------------------------------------------------------------


# Where Linux and BSD distributions keep their CA bundle, for systems whose OpenSSL default path is empty.
_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
)


def os_trust_context() -> ssl.SSLContext:
    """A context that verifies against the operating system's trust store.

    Windows and macOS: ``truststore`` (the platform's certificate verification APIs). Elsewhere the OS
    trust store *is* the CA bundle that OpenSSL reads, which is all truststore uses there too; but it
    re-reads the bundle on every handshake (about 25 ms of CPU each, serialising parallel handshakes),
    so a plain context that reads it once is used instead: same certificates, same verification.
    """
    if sys.platform in ("win32", "darwin"):
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    paths = ssl.get_default_verify_paths()
    if paths.cafile or (paths.capath and any(Path(paths.capath).glob("*.0"))):
        ctx.set_default_verify_paths()
    else:
        for bundle in _CA_BUNDLES:
            if Path(bundle).is_file():
                ctx.load_verify_locations(cafile=bundle)
                break
    return ctx


_SHARED_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext] = {}
_SHARED_LOCK = threading.Lock()
_SHARED_MAX = 8


def _trust_key(options: ConnectionOptions) -> tuple[object, ...] | None:
    """What a verifying context is made of: the CA bundle and each --ca-cert file as it is now on disk."""
    key: list[object] = []
    for path in options.ca_certs:
        try:
            st = Path(path).stat()
        except OSError:
            return None  # let the load below report the file
        key.append((str(Path(path).resolve()), st.st_mtime_ns, st.st_size))
    return tuple(key)


def make_ssl_context(options: ConnectionOptions) -> ssl.SSLContext:
    """The OS trust store plus ``--ca-cert`` files; or no verification at all with ``--insecure``.

    Outside Windows and macOS, verifying contexts are shared between the clients of a process that trust
    the same files (reading the CA bundle costs ~20 ms of CPU; a diagnosis makes a dozen clients): a
    context is only configured here, and httpcore sets the same ALPN on it each time, under the GIL.
    """
    if options.insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    key = _trust_key(options) if sys.platform not in ("win32", "darwin") else None
    if key is not None:
        key = (os_trust_context, *key)  # a replaced trust-store factory (tests) makes its own contexts
        with _SHARED_LOCK:
            found = _SHARED_CONTEXTS.get(key)
        if found is not None:
            return found
    ctx = os_trust_context()
    for path in options.ca_certs:
        ctx.load_verify_locations(cafile=str(path))
    if key is not None and not isinstance(ctx, truststore.SSLContext):
        with _SHARED_LOCK:
            if len(_SHARED_CONTEXTS) >= _SHARED_MAX:
                _SHARED_CONTEXTS.pop(next(iter(_SHARED_CONTEXTS)))
            ctx = _SHARED_CONTEXTS.setdefault(key, ctx)
    return ctx


# -- tracing --------------------------------------------------------------------------------------------


def _header_bytes(headers: Iterable[tuple[bytes, bytes]]) -> int:
    return sum(len(k) + len(v) + 4 for k, v in headers)


class _Exchange:
    """Collects httpcore trace events for one request and builds its :class:`TraceRecord`."""

    def __init__(self, trace: Trace, request: httpx.Request, proxy: str | None = None) -> None:
        self.trace = trace
        self.proxy = proxy
        self.request = request
        self.seq = trace.next_seq()
        self.t0 = time.perf_counter()
        self.wall = time.time()
        self.marks: dict[str, float] = {}
        self.peer: str | None = None
        self.tls: tuple[str | None, str | None, bytes | None] | None = None

    def on_event(self, name: str, info: dict[str, Any]) -> None:
        self.marks.setdefault(name, time.perf_counter())
        if name == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            if isinstance(stream, httpcore.NetworkStream):
                self.peer = _peer(stream)
        elif name == "connection.start_tls.complete":
            # Read now: a server that closes the connection after its answer takes the TLS object with it.
            self.tls = _tls_of(info.get("return_value"))

    def _span(self, start: str, end: str) -> float | None:
        if start in self.marks and end in self.marks:
            return (self.marks[end] - self.marks[start]) * 1000
        return None

    def finish(
        self,
        response: httpx.Response | None,
        *,
        received: int,
        error: BaseException | None = None,
        body: bytes | None = None,
        body_more: bool = False,
    ) -> None:
        req = self.request
        end = time.perf_counter()
        request_body, request_truncated = self.trace.keep_body(req.headers.multi_items(), _request_body(req))
        rec = TraceRecord(
            seq=self.seq,
            method=req.method,
            url=_strip_userinfo(req.url),
            started_at=self.wall,
            request_headers=redact_headers(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in req.headers.raw
            ),
            request_bytes=_content_length(req),
            request_header_bytes=_header_bytes(req.headers.raw),
            connect_ms=self._span("connection.connect_tcp.started", "connection.connect_tcp.complete"),
            tls_ms=self._span("connection.start_tls.started", "connection.start_tls.complete"),
            first_byte_ms=(
                (self.marks["http11.receive_response_headers.complete"] - self.t0) * 1000
                if "http11.receive_response_headers.complete" in self.marks
                else None
            ),
            total_ms=(end - self.t0) * 1000,
            reused_connection="connection.connect_tcp.started" not in self.marks,
            label=_str_ext(req, "mapiprobe.label"),
            request_type=req.headers.get("X-RequestType"),
            request_id=req.headers.get("X-RequestId"),
            annotations=tuple(req.extensions.get("mapiprobe.annotations", ())),
            peer_address=self.peer,
            request_body=request_body,
            request_body_truncated=request_truncated,
            proxy=self.proxy,
        )
        if response is not None:
            stream = response.extensions.get("network_stream")
            version, cipher, der = self.tls or _tls_of(stream)
            response_body, response_truncated = self.trace.keep_body(
                response.headers.multi_items(), body, more=body_more, decode=True
            )
            rec = replace(
                rec,
                status=response.status_code,
                http_version=str(response.extensions.get("http_version", b"HTTP/1.1"), "ascii", "replace"),
                response_headers=redact_headers(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
                ),
                response_header_bytes=_header_bytes(response.headers.raw),
                response_bytes=received,
                tls_version=version,
                tls_cipher=cipher,
                tls_certificate_der=der,
                peer_address=self.peer or (_peer(stream) if stream is not None else None),
                response_code=response.headers.get("X-ResponseCode"),
                outcome="ok",
                response_body=response_body,
                response_body_truncated=response_truncated,
            )
        if error is not None:
            mapped = translate(error, str(rec.url))
            rec = replace(
                rec,
                outcome=mapped.kind if mapped is not None else type(error).__name__,
                error=mapped.message if mapped is not None else str(error),
            )
        self.trace.add(rec)


def _str_ext(req: httpx.Request, key: str) -> str | None:
    value = req.extensions.get(key)
    return str(value) if value is not None else None


def _request_body(req: httpx.Request) -> bytes | None:
    """The request body when httpx holds it in memory (every request mapiprobe sends); None otherwise."""
    try:
        return req.content
    except httpx.RequestNotRead:
        return None


def _content_length(req: httpx.Request) -> int:
    value = req.headers.get("Content-Length")
    if value and value.isdigit():
        return int(value)
    try:
        return len(req.content)
    except httpx.RequestNotRead:
        return 0


def _strip_userinfo(url: httpx.URL) -> str:
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)


def _peer(stream: Any) -> str | None:
    try:
        addr = stream.get_extra_info("server_addr")
    except (OSError, AttributeError):
        return None
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = str(addr[0])
        return f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}"
    return None


def _tls_of(stream: Any) -> tuple[str | None, str | None, bytes | None]:
    if stream is None:
        return None, None, None
    try:
        obj = stream.get_extra_info("ssl_object")
        if obj is None:
            return None, None, None
        cipher = obj.cipher()
        der = obj.getpeercert(True)
        return obj.version(), (cipher[0] if cipher else None), der
    except (OSError, AttributeError, ValueError, TypeError):
        return None, None, None


class _CountingStream(httpx.SyncByteStream):
    """Counts the body bytes as they are read, keeps the first ``body_limit`` of them, and finishes the
    trace record when the body is closed (a body never read leaves ``response_body`` empty)."""

    def __init__(self, inner: httpx.SyncByteStream, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange
        self.response: httpx.Response | None = None
        self._count = 0
        self._kept = bytearray()
        self._limit = exchange.trace.body_limit
        self._error: BaseException | None = None
        self._done = False
        self._read = False

    def __iter__(self) -> Iterator[bytes]:
        self._read = True
        try:
            for chunk in self._inner:
                self._count += len(chunk)
                room = self._limit - len(self._kept)
                if room > 0:
                    self._kept += chunk[:room]
                yield chunk
        except BaseException as exc:
            self._error = exc
            raise

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if not self._done:
                self._done = True
                self._exchange.finish(
                    self.response,
                    received=self._count,
                    error=self._error,
                    body=bytes(self._kept) if self._read else None,
                    body_more=self._count > len(self._kept),
                )


class TracingTransport(httpx.HTTPTransport):
    """httpx's transport on our network backend and TLS context, recording a :class:`TraceRecord` each."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        backend: httpcore.NetworkBackend,
        trace: Trace | None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        proxy: str | None = None,
        max_pending: float = DEFAULT_MAX_PENDING,
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False, http1=True, http2=False, limits=limits)
        # httpx offers no public way to choose httpcore's network backend; the pool is rebuilt with ours,
        # with the same settings httpx would have used (through ``proxy`` when one is given).
        pool: httpcore.ConnectionPool
        if proxy is not None:
            pool = httpcore.HTTPProxy(
                proxy_url=proxy,
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=True,
                http2=False,
                network_backend=backend,
            )
        else:
            pool = httpcore.ConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=True,
                http2=False,
                network_backend=backend,
            )
        self._pool = pool
        self.trace = trace
        self.proxy = proxy
        self.max_pending = max_pending
        """Seconds a MAPI/HTTP request may answer only PENDING (transport/mapihttp.py reads it here)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.trace is None:
            return super().handle_request(request)
        exchange = _Exchange(self.trace, request, self.proxy)
        previous = request.extensions.get("trace")

        def on_event(name: str, info: dict[str, Any]) -> None:
            with contextlib.suppress(Exception):  # tracing must never break a request
                exchange.on_event(name, info)
            if previous is not None:
                previous(name, info)

        request.extensions = {**request.extensions, "trace": on_event}
        try:
            response = super().handle_request(request)
        except BaseException as exc:
            exchange.finish(None, received=0, error=exc)
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        counting = _CountingStream(response.stream, exchange)
        wrapped = httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=counting,
            extensions=response.extensions,
        )
        counting.response = wrapped
        return wrapped


class RoutingTransport(httpx.BaseTransport):
    """Sends each request through the transport of the proxy :class:`ProxySelector` picks for its URL."""

    def __init__(
        self,
        selector: ProxySelector,
        make: Callable[[str | None], TracingTransport],
        trace: Trace | None,
        max_pending: float = DEFAULT_MAX_PENDING,
    ) -> None:
        self.selector = selector
        self.max_pending = max_pending  # as TracingTransport.max_pending
        self._make = make
        self.trace = trace  # like TracingTransport.trace: given to every transport made
        self._transports: dict[str | None, TracingTransport] = {}
        self._lock = threading.Lock()

    def transport_for(self, url: str) -> TracingTransport:
        proxy = self.selector.for_url(url)
        with self._lock:
            found = self._transports.get(proxy)
            if found is None:
                found = self._transports[proxy] = self._make(proxy)
            found.trace = self.trace
            return found

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport_for(str(request.url)).handle_request(request)

    def close(self) -> None:
        with self._lock:
            transports = list(self._transports.values())
            self._transports.clear()
        for transport in transports:
            transport.close()


def proxy_selector(options: ConnectionOptions) -> ProxySelector:
    """The :class:`ProxySelector` of ``options`` (a PAC file is fetched directly, on first use)."""

    def fetch(url: str) -> str:
        with make_client(replace(options, proxy="none")) as client:
            response = client.get(url, extensions={"mapiprobe.label": "PAC file"})
            response.raise_for_status()
            return response.text

    return ProxySelector(settings_from_option(options.proxy), fetch_pac=fetch)


def make_client(
    options: ConnectionOptions, *, trace: Trace | None = None, max_connections: int | None = None
) -> httpx.Client:
    """An httpx.Client for ``options``; every request is recorded in ``trace`` when one is given.

    ``max_connections`` caps the TCP connections the client keeps (a MAPI/HTTP endpoint uses 2).

    Redirects are never followed automatically (the caller decides, MS-OXDISCO 3.1.5.4); the client carries
    no credentials (pass ``auth=`` per request).
    """
    rules = tuple(parse_connect_to(rule) for rule in options.connect_to)
    resolver = None
    if options.dns_server:
        resolver = make_resolver(options.dns_server, timeout=options.connect_timeout)
    ssl_context = make_ssl_context(options)  # a bad --ca-cert file fails here
    contexts = None
    if isinstance(ssl_context, truststore.SSLContext):
        # truststore locks each context for a whole handshake: lend one per handshake instead.
        contexts = SSLContextPool(lambda: make_ssl_context(options))
    limits = DEFAULT_LIMITS
    if max_connections is not None:
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
        )
    backend = MappedBackend(rules, resolver, contexts, options.pace())

    def transport_via(proxy: str | None) -> TracingTransport:
        return TracingTransport(
            ssl_context=ssl_context,
            backend=backend,
            trace=trace,
            limits=limits,
            proxy=proxy,
            max_pending=options.max_pending,
        )

    selector = proxy_selector(options)
    transport: httpx.BaseTransport = (
        RoutingTransport(selector, transport_via, trace, options.max_pending)
        if selector.may_proxy
        else transport_via(None)
    )
    timeout = httpx.Timeout(
        connect=options.connect_timeout,
        read=options.read_timeout,
        write=options.read_timeout,
        pool=options.connect_timeout,
    )
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


__all__ = [
    "INSECURE_WARNING",
    "USER_AGENT",
    "ConnectTo",
    "ConnectionOptions",
    "MappedBackend",
    "RoutingTransport",
    "TracingTransport",
    "make_client",
    "make_ssl_context",
    "os_trust_context",
    "parse_connect_to",
    "proxy_selector",
]
