"""The simulator's small web server: listeners, virtual hosts, routing, authentication hook, request log.

Built on the standard library's :class:`http.server.ThreadingHTTPServer` (HTTP/1.1 with keep-alive; one
thread per connection), optionally wrapped in TLS. The TLS handshake runs in the connection's own thread,
so a client that never finishes it cannot block the accept loop.

* **Routing.** A :class:`Route` names the virtual hosts it serves (``None`` = any), the methods, and a
  path prefix compared without regard to case; the longest matching prefix wins.
* **Virtual hosts** come from the ``Host`` header (port stripped), else from the TLS SNI name.
* **Authentication** is pluggable: a route with ``auth=True`` runs the server's :class:`AuthScheme` list
  (Basic here; NTLM, Negotiate and Bearer in simulator/auth.py). Each scheme sees the per-connection
  :class:`ConnectionState`, which is what connection-bound handshakes such as NTLM need. Which schemes a
  path offers is :meth:`Site.offered_for` (per path prefix, or a policy callable); a scheme that marks the
  connection ``auth.persistent`` (NTLM, Negotiate: IIS keeps them for the connection) lets later requests
  on it through without ``Authorization``; :attr:`Site.authorizers` may refuse an authenticated user on a
  path (401, as IIS does); every verdict goes to :attr:`Site.auth_log`. A scheme's last token on success
  (mutual authentication) is sent with the handler's answer (``Request.response_headers``).
* **Streaming.** A handler may return a :class:`Response` whose ``chunks`` is an iterator; it is sent with
  ``Transfer-Encoding: chunked``, each chunk flushed as soon as the iterator yields it (the iterator may
  sleep in between: that is how MAPI/HTTP PENDING keep-alives are simulated).
* **Request log.** Every request is recorded as a :class:`ReceivedRequest` before it is handled.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from .org import Organisation, SimUser

MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the simulator received it (headers include Authorization, on purpose: tests look)."""

    listener: str
    scheme: str
    host: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    sni: str | None = None
    peer: tuple[str, int] | None = None
    time: float = 0.0

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), None)


@dataclass
class ConnectionState:
    """What the server remembers about one TCP connection (NTLM binds its handshake to it)."""

    peer: tuple[str, int] | None = None
    sni: str | None = None
    user: SimUser | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    listener: str
    scheme: str
    host: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    connection: ConnectionState
    user: SimUser | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    """Headers added to whatever the handler answers (the last WWW-Authenticate token of a handshake)."""
    stream: Any = None
    """For a ``stream_body`` route with a long body: the connection's reader, the body not yet read
    (``stream_length`` bytes); the handler reads it as it arrives (RPC/HTTP's IN channel)."""
    stream_length: int = 0

    def header(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), default)


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: Iterable[bytes] | None = None
    """When set, the body is sent chunked, one chunk per item, flushed as it is produced."""
    close: bool = False
    length: int | None = None
    """With ``chunks``: send ``Content-Length: length`` and the chunks unframed (RPC/HTTP's OUT channel)."""
    continue_first: bool = False
    """Send ``HTTP/1.1 100 Continue`` before the answer (as IIS does on RPC/HTTP channels)."""

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, [("Content-Type", content_type)], text.encode("utf-8"))


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class AuthOutcome:
    """The verdict of one scheme on one Authorization header."""

    user: SimUser | None = None
    """Set when the request is authenticated."""
    header: str | None = None
    """A WWW-Authenticate value to send with a 401 (a multi-leg handshake's next token)."""


class AuthScheme(Protocol):
    """One HTTP authentication scheme of the simulator (Basic, later NTLM/Negotiate/Bearer)."""

    name: str

    def challenge(self, realm: str) -> str:
        """The WWW-Authenticate value that offers this scheme."""
        ...

    def accept(self, authorization: str, request: Request) -> AuthOutcome | None:
        """Judge an Authorization header of this scheme; None if it is not for this scheme."""
        ...


class BasicAuth:
    """RFC 7617 Basic against the demo users (login ``alice``, ``alice@contoso.test``, ``CONTOSO\\alice``)."""

    name = "Basic"

    def __init__(self, org: Organisation) -> None:
        self.org = org

    def challenge(self, realm: str) -> str:
        return f'Basic realm="{realm}"'

    def accept(self, authorization: str, request: Request) -> AuthOutcome | None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            login, sep, password = (
                base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return AuthOutcome()
        if not sep:
            return AuthOutcome()
        user = self.org.find_login(login)
        if user is None or user.password != password:
            return AuthOutcome()
        return AuthOutcome(user=user)


@dataclass(frozen=True)
class AuthEvent:
    """One verdict of the simulator's authentication: ``challenge`` (a handshake continues), ``ok``,
    ``failed`` (bad credentials) or ``refused`` (good credentials, but not allowed on this path)."""

    scheme: str
    host: str
    path: str
    outcome: str
    login: str | None = None
    mechanism: str | None = None
    time: float = 0.0


Authorizer = Callable[[Request, SimUser], bool]
PERSISTENT_AUTH = "auth.persistent"  # ConnectionState.data key: the scheme that authenticated the connection
AUTH_MECHANISM = "auth.mechanism"  # ConnectionState.data key: what Negotiate used (kerberos / ntlm)


@dataclass(frozen=True)
class Route:
    prefix: str
    handler: Handler
    methods: tuple[str, ...] = ("GET", "POST")
    hosts: frozenset[str] | None = None
    auth: bool = False
    name: str = ""
    stream_body: bool = False


STREAM_THRESHOLD = 0x10000
"""A ``stream_body`` route gets bodies longer than this unread (:attr:`Request.stream`)."""


class Site:
    """The routing table and authentication schemes shared by one or more listeners."""

    def __init__(self, realm: str) -> None:
        self.realm = realm
        self.routes: list[Route] = []
        self.auth_schemes: list[AuthScheme] = []
        self.offers: list[tuple[str, tuple[str, ...]]] = []
        """(path prefix, scheme names) rules; the longest matching prefix wins; none: every scheme."""
        self.offer_policy: Callable[[Request], tuple[str, ...] | None] | None = None
        """When set and it answers a tuple, that is what ``req``'s path offers (scenarios use it)."""
        self.authorizers: list[Authorizer] = []
        self.auth_log: list[AuthEvent] = []
        self.front_end = "EXFE01"  # the X-FEServer name on 401 answers
        self.log: list[ReceivedRequest] = []
        self._log_lock = threading.Lock()
        self.errors: list[str] = []

    def add(
        self,
        prefix: str,
        handler: Handler,
        *,
        methods: Iterable[str] = ("GET", "POST"),
        hosts: Iterable[str] | None = None,
        auth: bool = False,
        name: str = "",
        stream_body: bool = False,
    ) -> None:
        self.routes.append(
            Route(
                prefix.lower(),
                handler,
                tuple(m.upper() for m in methods),
                frozenset(h.lower() for h in hosts) if hosts is not None else None,
                auth,
                name or prefix,
                stream_body,
            )
        )

    def record(self, entry: ReceivedRequest) -> None:
        with self._log_lock:
            self.log.append(entry)

    def match(self, host: str, path: str) -> list[Route]:
        low = path.lower()
        found = [r for r in self.routes if low.startswith(r.prefix) and (r.hosts is None or host in r.hosts)]
        return sorted(found, key=lambda r: len(r.prefix), reverse=True)

    def dispatch(self, req: Request) -> Response:
        routes = self.match(req.host, req.path)
        if not routes:
            return Response.text(404, "404 Not Found\n")
        allowed = [r for r in routes if req.method in r.methods]
        if not allowed:
            methods = sorted({m for r in routes for m in r.methods})
            resp = Response.text(405, "405 Method Not Allowed\n")
            resp.headers.append(("Allow", ", ".join(methods)))
            return resp
        route = allowed[0]
        if route.auth:
            denied = self.authenticate(req)
            if denied is not None:
                return denied
        resp = route.handler(req)
        if req.response_headers:
            resp.headers = [*resp.headers, *req.response_headers]
        return resp

    def offered_for(self, req: Request) -> list[AuthScheme]:
        """The schemes ``req``'s path offers, in the order of :attr:`auth_schemes`."""
        names: tuple[str, ...] | None = self.offer_policy(req) if self.offer_policy is not None else None
        if names is None:
            low = req.path.lower()
            rules = [r for r in self.offers if low.startswith(r[0].lower())]
            if rules:
                names = max(rules, key=lambda r: len(r[0]))[1]
        if names is None:
            return list(self.auth_schemes)
        wanted = {n.lower() for n in names}
        return [s for s in self.auth_schemes if s.name.lower() in wanted]

    def _note(self, req: Request, scheme: str, outcome: str, user: SimUser | None = None) -> None:
        event = AuthEvent(
            scheme,
            req.host,
            req.path,
            outcome,
            user.user if user is not None else None,
            req.connection.data.get(AUTH_MECHANISM) if outcome in ("ok", "refused") else None,
            time.time(),
        )
        with self._log_lock:
            self.auth_log.append(event)

    def _authorized(self, req: Request, user: SimUser, scheme: str) -> bool:
        if all(allow(req, user) for allow in self.authorizers):
            return True
        self._note(req, scheme, "refused", user)
        return False

    def authenticate(self, req: Request) -> Response | None:
        """None when ``req`` is authenticated (``req.user`` set); otherwise the 401 to send."""
        authorization = req.header("Authorization")
        offered = self.offered_for(req)
        extra: str | None = None
        persistent = req.connection.data.get(PERSISTENT_AUTH)
        user = req.connection.user
        if not authorization and persistent and user is not None:
            # IIS keeps an NTLM/Negotiate logon for the connection (authPersistNonNTLM).
            if any(s.name == persistent for s in offered) and self._authorized(req, user, persistent):
                req.user = user
                return None
        elif authorization:
            name = authorization.strip().partition(" ")[0]
            for scheme in offered:
                outcome = scheme.accept(authorization, req)
                if outcome is None:
                    continue
                if outcome.user is not None:
                    self._note(req, scheme.name, "ok", outcome.user)
                    req.connection.user = outcome.user
                    if not self._authorized(req, outcome.user, scheme.name):
                        break
                    req.user = outcome.user
                    if outcome.header:
                        req.response_headers.append(("WWW-Authenticate", outcome.header))
                    return None
                extra = outcome.header
                self._note(req, scheme.name, "challenge" if extra else "failed")
                break
            else:
                self._note(req, name, "failed")
        resp = Response.text(401, "401 Unauthorized\n")
        # What an Exchange front end puts on its 401s (mapiprobe probe reports them).
        resp.headers += [("request-id", str(uuid.uuid4())), ("X-FEServer", self.front_end)]
        if extra:
            resp.headers.append(("WWW-Authenticate", extra))
        else:
            resp.headers += [("WWW-Authenticate", s.challenge(self.realm)) for s in offered]
        return resp


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        site: Site,
        *,
        listener: str,
        tls: ssl.SSLContext | None,
        server_header: str,
    ) -> None:
        self.site = site
        self.listener = listener
        self.tls = tls
        self.server_header = server_header
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.conn_lock:
            self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, OSError | ssl.SSLError | TimeoutError):
            return  # a client hanging up or refusing our certificate is not the simulator's fault
        self.site.errors.append(f"{self.listener} {client_address}: {exc!r}")
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
            self.connections.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def setup(self) -> None:
        self.conn_state = ConnectionState(peer=self.client_address)
        sock = self.request
        # Small answers must not wait for Nagle + delayed ACK (about 40 ms each on loopback).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(sock, ssl.SSLSocket):
            sock.settimeout(10)
            sock.do_handshake()
            self.conn_state.sni = getattr(sock, "sni_name", None)
        super().setup()

    def version_string(self) -> str:
        return self.server.server_header

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            parts: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("request body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(16)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _streams(self, host: str, path: str) -> int:
        """The Content-Length to leave unread for a ``stream_body`` route, else 0."""
        length = self.headers.get("Content-Length") or ""
        if not length.isdigit() or int(length) <= STREAM_THRESHOLD:
            return 0
        for route in self.server.site.match(host, path):
            if self.command in route.methods:
                return int(length) if route.stream_body else 0
        return 0

    def _handle(self) -> None:
        srv = self.server
        host_header = self.headers.get("Host") or self.conn_state.sni or ""
        host = _strip_port(host_header).lower()
        target = urlsplit(self.path)
        path = unquote(target.path) or "/"
        stream_length = self._streams(host, path)
        try:
            body = b"" if stream_length else self._read_body()
        except ValueError:
            self._send(Response.text(400, "400 Bad Request\n", "text/plain"), head=False)
            self.close_connection = True
            return
        headers = {k: v for k, v in self.headers.items()}
        cookies = self.headers.get_all("Cookie") or []
        if len(cookies) > 1:  # several Cookie header lines are one list (RFC 6265 5.4; MS-OXCMAPIHTTP 4.2)
            headers = {k: v for k, v in headers.items() if k.lower() != "cookie"}
            headers["Cookie"] = "; ".join(cookies)
        scheme = "https" if srv.tls is not None else "http"
        srv.site.record(
            ReceivedRequest(
                listener=srv.listener,
                scheme=scheme,
                host=host,
                method=self.command,
                path=self.path,
                headers=headers,
                body=body,
                sni=self.conn_state.sni,
                peer=self.client_address,
                time=time.time(),
            )
        )
        req = Request(
            listener=srv.listener,
            scheme=scheme,
            host=host,
            method=self.command,
            path=path,
            query=target.query,
            headers=headers,
            body=body,
            connection=self.conn_state,
        )
        if stream_length:
            req.stream, req.stream_length = self.rfile, stream_length
        try:
            resp = srv.site.dispatch(req)
        except Exception as exc:  # a handler bug: answer 500 and keep serving
            srv.site.errors.append(f"{srv.listener} {self.command} {self.path}: {exc!r}")
            resp = Response.text(500, "500 Internal Server Error (simulator)\n")
        if stream_length:
            resp.close = True  # whatever the handler left unread of the body cannot be skipped
        self._send(resp, head=self.command == "HEAD")

    def _send(self, resp: Response, *, head: bool) -> None:
        if resp.continue_first:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.send_response(resp.status)
        names = {k.lower() for k, _ in resp.headers}
        for key, value in resp.headers:
            self.send_header(key, value)
        if resp.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if resp.chunks is not None and resp.length is not None:
            self.send_header("Content-Length", str(resp.length))
            self.end_headers()
            self.wfile.flush()
            for chunk in _nonempty(resp.chunks):
                self.wfile.write(chunk)
                self.wfile.flush()
            self.close_connection = True
            return
        if resp.chunks is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            if head:
                return
            for chunk in _nonempty(resp.chunks):
                self.wfile.write(f"{len(chunk):X}\r\n".encode("ascii") + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if not head:
            self.wfile.write(resp.body)
        self.wfile.flush()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _handle
    do_RPC_IN_DATA = do_RPC_OUT_DATA = _handle  # RPC over HTTP (simulator/rpcproxy.py)


def _nonempty(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield chunk


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Listener:
    """One listening socket on 127.0.0.1 and the thread that serves it."""

    def __init__(
        self,
        name: str,
        site: Site,
        *,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        server_header: str = "Microsoft-IIS/10.0",
        context_for: Callable[[str | None], ssl.SSLContext | None] | None = None,
    ) -> None:
        """``context_for(sni)`` may pick another TLS context (another certificate) per handshake."""
        if tls is not None:
            tls.sni_callback = _sni_callback(context_for)
        self.name = name
        self.server = _Server(("127.0.0.1", port), site, listener=name, tls=tls, server_header=server_header)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sim-{name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()
        self._thread.join(timeout=5)


def _remember_sni(sock: Any, name: str | None, ctx: ssl.SSLContext) -> None:
    with contextlib.suppress(AttributeError):
        sock.sni_name = name


def _sni_callback(
    context_for: Callable[[str | None], ssl.SSLContext | None] | None,
) -> Callable[[Any, str | None, ssl.SSLContext], None]:
    def callback(sock: Any, name: str | None, ctx: ssl.SSLContext) -> None:
        _remember_sni(sock, name, ctx)
        other = context_for(name) if context_for is not None else None
        if other is not None:
            sock.context = other  # the handshake goes on with this context's certificate

    return callback


__all__ = [
    "AUTH_MECHANISM",
    "PERSISTENT_AUTH",
    "AuthEvent",
    "AuthOutcome",
    "AuthScheme",
    "Authorizer",
    "BasicAuth",
    "ConnectionState",
    "Handler",
    "Listener",
    "ReceivedRequest",
    "Request",
    "Response",
    "Route",
    "Site",
]
