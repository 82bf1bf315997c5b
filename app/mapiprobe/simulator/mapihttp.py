"""The simulator's generic MAPI/HTTP endpoint: headers, Session Contexts, cookies, envelope, faults.

A :class:`MapiHttpService` is what the mailbox (``/mapi/emsmdb/``) and address-book (``/mapi/nspi/``)
endpoints have in common; each plugs in a :class:`MapiHttpHandler` that turns a request body into a
response body. The service does the rest, as MS-OXCMAPIHTTP describes the server role:

* **Path.** The bare path answers 404 (as Exchange and gromox do); only ``<prefix>?MailboxId=...`` is the
  endpoint. A GET on it answers the small HTML page Exchange shows to a browser. Requests are
  authenticated through the site's schemes after the path check, so the bare path says nothing about
  authentication.
* **Headers** (2.2.2.1, 2.2.3): a missing X-RequestType, X-RequestId or X-ClientInfo is X-ResponseCode 7
  (Missing Header); a malformed X-RequestId or a Content-Type other than ``application/mapi-http`` is 4
  (Invalid Header); an unknown request type is 5 (Invalid Request Type). Every response echoes
  X-RequestType, X-RequestId and X-ClientInfo and carries X-ResponseCode, X-ServerApplication,
  X-ExpirationInfo and X-PendingPeriod (2.2.2.2, 2.2.3.3).
* **Session Contexts** (3.2.5.1, 3.2.5.6, 3.2.6): a Connect/Bind request creates one and sets two cookies,
  ``MapiContext`` (which context) and ``MapiSequence`` (the cookie names are implementation-specific,
  3.2.5.1; these are the names Exchange is said to use, PROTOCOL.md §2.6). The sequence cookie gets a new
  value with every accepted request, and the next request must carry the newest one. A Connect/Bind that
  carries the cookies of a live context destroys that context first and ignores its sequence cookie
  (3.2.5.6). Contexts expire ``lifetime_s`` after their last request (default 15 minutes; 3.2.6).
* **Cookie errors**: no ``MapiContext`` cookie is 13 (Missing Cookie); one that is not of our making is 6
  (Invalid Context Cookie); an unknown or expired context, or one created under another authenticated
  user, is 10 (Context Not Found: "not found", and 3.2.5.1 keeps the authentication context with the
  Session Context). No ``MapiSequence`` cookie is 13.
* **Sequencing**: a request that carries an older ``MapiSequence`` value than the newest one issued is 15
  (Invalid Sequence). Decision, from the spec text: 3.1.5.1 says a server uses a session sequence cookie
  "to guarantee the sequencing of requests", and 15 is the code for a broken sequence (2.2.3.3.3;
  3.2.5.1: one request at a time per Session Context); a stale sequence value means the client sent a
  request without waiting for the answer to the previous one. 6 is about the *context* cookie. (gromox
  answers its "invalid sequence" code in this case too.) A second request while one is still being
  processed is 15 as well. NotificationWait is the exception (3.1.5.5): it may be outstanding while
  another request runs, so it neither checks nor rotates the sequence cookie; one NotificationWait at a
  time.
* **Envelope** (2.2.7, 3.2.5.2): the answer is chunked: PROCESSING at once, PENDING every
  ``pending_period_ms`` while the handler works, then DONE, X-ElapsedTime, X-StartTime, the empty line and
  the body. A handler that raises :class:`SimResponseCode` after the headers went out is reported by a late
  X-ResponseCode among the additional headers, with the text as body (3.2.5.2). PING (2.2.6, 3.2.5.3) is
  answered without a body and resets the idle timer.

Knobs a test or scenario may turn at any time: :attr:`~MapiHttpService.lifetime_s`,
:attr:`~MapiHttpService.pending_period_ms`, :attr:`~MapiHttpService.delay_s` (handler delay per request),
:attr:`~MapiHttpService.rtt_s` (added latency per request), :attr:`~MapiHttpService.forget_after_s` (the
context is forgotten after that many idle seconds although X-ExpirationInfo still announces ``lifetime_s``:
a context that expires early), :attr:`~MapiHttpService.cut_after_s` (a load balancer in front closes the
connection of any request still running after that many seconds) and :attr:`~MapiHttpService.fault`:
``"503"`` (a front end answers 503), ``"html-200"`` (a proxy answers HTTP 200 with an HTML page),
``"truncate"`` (the response stops in the middle of the body) or ``"drop"`` (the connection closes
without an answer).
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl

from mapiprobe.protocol.envelope import ResponseCode, encode_done, encode_meta_tag

from .org import SimUser
from .web import Request, Response, Site

CONTEXT_COOKIE = "MapiContext"
SEQUENCE_COOKIE = "MapiSequence"
CONTENT_TYPE = "application/mapi-http"
PING = "PING"
DEFAULT_SERVER_APPLICATION = "Exchange/15.02.1544.004"
DEFAULT_LIFETIME_S = 900.0
DEFAULT_PENDING_PERIOD_MS = 30000
MAX_CONTEXTS = 10000

Fault = Literal["503", "html-200", "truncate", "drop"]
FAULTS: tuple[str, ...] = ("503", "html-200", "truncate", "drop")

# X-RequestId / X-ClientInfo: a GUID (with or without braces: PROTOCOL.md §2.2 ⚠) and a decimal counter.
_GUID_COUNTER = re.compile(
    r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?:\d{1,10}"
)
_CONTEXT_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")

PROXY_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Contoso Remote Access</title></head>
<body><h1>Contoso Remote Access</h1><p>Your session has ended. Please sign in again.</p>
<form method="post" action="/portal/login"><label>User name <input name="username"></label>
<label>Password <input name="password" type="password"></label><button>Sign in</button></form>
</body></html>
"""

FRONT_END_503_PAGE = """<!DOCTYPE html>
<html><head><title>503 Service Unavailable</title></head>
<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. Please try again later.</p>
<hr><address>Contoso load balancer</address></body></html>
"""


class SimResponseCode(Exception):
    """Raised by a handler to answer with a non-zero X-ResponseCode (MS-OXCMAPIHTTP 2.2.3.3.3)."""

    def __init__(self, code: int, text: str = "") -> None:
        self.code = int(code)
        self.text = text or _default_text(self.code)
        super().__init__(f"X-ResponseCode {self.code}: {self.text}")


@dataclass(eq=False)
class SimSessionContext:
    """One Session Context of the simulated server (created by Connect/Bind, MS-OXCMAPIHTTP 3.2.5.1)."""

    id: str
    user: SimUser
    service: str
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    state: dict[str, Any] = field(default_factory=dict)
    """The handler's own per-context state (handles, tables, the STAT...)."""
    sequence: str = field(default_factory=lambda: str(uuid.uuid4()))
    """The newest MapiSequence value issued; the next request must carry it."""
    requests: int = 0
    busy: bool = False
    """A request other than NotificationWait is being processed."""
    waiting: bool = False
    """A NotificationWait is outstanding."""
    closed: bool = False
    _discard: bool = False

    def discard(self) -> None:
        """Forget this context once the current request is answered (e.g. a Connect that failed)."""
        self._discard = True


class MapiHttpHandler(Protocol):
    """What an endpoint plugs into :class:`MapiHttpService`: the request body in, the response body out."""

    def handle(self, request_type: str, body: bytes, ctx: SimSessionContext, req: Request) -> bytes:
        """The response body for ``request_type``; may raise :class:`SimResponseCode`."""
        ...


@dataclass
class _Job:
    request_type: str
    ctx: SimSessionContext
    req: Request
    kind: Literal["connect", "disconnect", "wait", "other"]
    start_wall: _dt.datetime
    start: float
    done: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    code: int = 0
    text: str = ""
    elapsed_ms: int = 0


class MapiHttpService:
    """A MAPI/HTTP endpoint of the simulator; see the module docstring for what it checks and sends."""

    def __init__(
        self,
        name: str,
        *,
        connect_types: set[str],
        disconnect_types: set[str],
        handler: MapiHttpHandler,
        lifetime_s: float = DEFAULT_LIFETIME_S,
        pending_period_ms: int = DEFAULT_PENDING_PERIOD_MS,
        server_application: str = DEFAULT_SERVER_APPLICATION,
        request_types: Iterable[str] | None = None,
        concurrent_types: Iterable[str] = ("NotificationWait",),
    ) -> None:
        """``request_types``: every type the handler accepts besides Connect/Bind, Disconnect/Unbind and PING
        (None: leave unknown types to the handler). ``concurrent_types`` may run beside another request."""
        self.name = name
        self.handler = handler
        self.connect_types = set(connect_types)
        self.disconnect_types = set(disconnect_types)
        self.concurrent_types = set(concurrent_types)
        self.request_types = None if request_types is None else set(request_types)
        self.lifetime_s = lifetime_s
        self.pending_period_ms = pending_period_ms
        self.server_application = server_application
        self.delay_s = 0.0
        self.rtt_s = 0.0
        self.forget_after_s: float | None = None
        self.cut_after_s: float | None = None
        self.fault: Fault | None = None
        self.prefix = "/"
        self._site: Site | None = None
        self._lock = threading.Lock()
        self._contexts: dict[str, SimSessionContext] = {}
        self._stopping = threading.Event()
        self.counters: dict[str, int] = {}
        """How often each outcome happened (``Execute``, ``code-15``, ``fault-503``...): for tests."""

    # -- wiring ----------------------------------------------------------------------------------

    def install(self, site: Site, prefix: str, *, hosts: Iterable[str] | None = None) -> None:
        """Mount the service at ``prefix`` (e.g. ``/mapi/emsmdb/``) on ``site``, for ``hosts`` (None: any)."""
        self.prefix = "/" + prefix.strip("/") + "/"
        self._site = site
        site.add(self.prefix, self.route, methods=("POST", "GET", "HEAD"), hosts=hosts, name=self.name)

    def stop(self) -> None:
        """End every wait: pending requests finish with X-ResponseCode 18 (Endpoint Shutting Down)."""
        self._stopping.set()

    @property
    def contexts(self) -> list[SimSessionContext]:
        """The live Session Contexts (a copy)."""
        with self._lock:
            return list(self._contexts.values())

    def context(self, context_id: str) -> SimSessionContext | None:
        with self._lock:
            return self._contexts.get(context_id)

    def expire_all(self) -> None:
        """Forget every Session Context, as a server restart would (the next request gets code 10)."""
        with self._lock:
            for ctx in self._contexts.values():
                ctx.closed = True
            self._contexts.clear()

    # -- the route -------------------------------------------------------------------------------

    def route(self, req: Request) -> Response:
        if self.rtt_s > 0:
            self._stopping.wait(self.rtt_s)
        if req.path.rstrip("/").lower() != self.prefix.rstrip("/").lower() or mailbox_id(req) is None:
            # The bare path (no ?MailboxId=) is no endpoint: 404, no WWW-Authenticate (PROTOCOL.md §10).
            return Response.text(404, "404 Not Found\n", "text/html; charset=utf-8")
        fault = self.fault
        if fault is not None:
            self._count(f"fault-{fault}")
        if fault == "503":
            resp = Response.text(503, FRONT_END_503_PAGE, "text/html; charset=utf-8")
            resp.headers.append(("Retry-After", "30"))
            return resp
        if fault == "html-200":
            return Response.text(200, PROXY_LOGIN_PAGE, "text/html; charset=utf-8")
        if fault == "drop":
            return _dropped_connection()
        site = self._site
        if site is not None:
            denied = site.authenticate(req)
            if denied is not None:
                return denied
        if req.method in ("GET", "HEAD"):
            return Response.text(200, self._browser_page(), "text/html; charset=utf-8")
        return self._post(req, fault)

    def _browser_page(self) -> str:
        version = self.server_application.partition("/")[2] or self.server_application
        return (
            "<html><body>Exchange MAPI/HTTP Connectivity Endpoint<br><br>"
            f"Version: {html.escape(version)}<br>Vdir Path: {html.escape(self.prefix)}<br><br></body></html>"
        )

    def _post(self, req: Request, fault: Fault | None) -> Response:
        raw_type = req.header("X-RequestType")
        if not raw_type:
            return self._error(req, None, 7, "The X-RequestType header is missing.")
        request_type = self._canonical_type(raw_type.strip())
        for name in ("X-RequestId", "X-ClientInfo"):
            value = req.header(name)
            if not value:
                return self._error(req, request_type, 7, f"The {name} header is missing.")
            if not _GUID_COUNTER.fullmatch(value.strip()):
                return self._error(req, request_type, 4, f"The {name} header is not GUID:counter.")
        content_type = req.header("Content-Type")
        if content_type is None:
            if req.body:
                return self._error(req, request_type, 7, "The Content-Type header is missing.")
        elif content_type.split(";")[0].strip().lower() != CONTENT_TYPE:
            return self._error(req, request_type, 4, f"Content-Type must be {CONTENT_TYPE}.")
        if request_type is None:
            return self._error(req, raw_type, 5, f"{raw_type!r} is not a request type of this endpoint.")
        user = req.user
        if user is None:  # only when the site has no authentication at all
            return self._error(req, request_type, 8, "Anonymous requests are not accepted.")
        cookies = parse_cookie_header(req.header("Cookie") or "")
        kind = self._kind(request_type)
        if kind == "connect":
            ctx = self._connect(cookies, user)
        else:
            found = self._accept(cookies, user, kind)
            if isinstance(found, tuple):
                return self._error(req, request_type, *found)
            ctx = found
        self._count(request_type)
        job = _Job(request_type, ctx, req, kind, _dt.datetime.now(_dt.UTC), time.monotonic())
        headers = self._headers(req, request_type, 0, ctx)
        headers.append(("Content-Type", CONTENT_TYPE))
        if kind != "wait":  # NotificationWait runs beside other requests: it leaves the sequence alone
            headers += self._cookies(ctx)
        if request_type == PING:
            self._finish(job)
            body = encode_meta_tag("PROCESSING") + encode_done(elapsed_time=0, start_time=job.start_wall)
            return Response(200, headers, body)
        worker = threading.Thread(target=self._work, args=(job,), name=f"sim-{self.name}-work", daemon=True)
        worker.start()
        return Response(200, headers, chunks=self._stream(job, fault))

    # -- Session Contexts ------------------------------------------------------------------------

    def _connect(self, cookies: dict[str, str], user: SimUser) -> SimSessionContext:
        """A new context; an old one named by the request's cookies is destroyed first (3.2.5.6)."""
        now = time.monotonic()
        with self._lock:
            old_id = cookies.get(CONTEXT_COOKIE.lower())
            old = self._contexts.get(old_id) if old_id else None
            if old is not None and old.user == user:
                old.closed = True
                del self._contexts[old.id]
            self._purge(now)
            ctx = SimSessionContext(secrets.token_urlsafe(24), user, self.name)
            ctx.busy = True
            ctx.requests = 1
            self._contexts[ctx.id] = ctx
            return ctx

    def _idle_limit(self) -> float:
        forget = self.forget_after_s
        return self.lifetime_s if forget is None else min(forget, self.lifetime_s)

    def _purge(self, now: float) -> None:
        lifetime = self._idle_limit()
        for ctx in [c for c in self._contexts.values() if self._expired(c, now, lifetime)]:
            ctx.closed = True
            del self._contexts[ctx.id]
        while len(self._contexts) >= MAX_CONTEXTS:  # bounded memory: the oldest idle context goes
            oldest = min(self._contexts.values(), key=lambda c: c.last_used)
            oldest.closed = True
            del self._contexts[oldest.id]

    @staticmethod
    def _expired(ctx: SimSessionContext, now: float, lifetime: float) -> bool:
        return not ctx.busy and not ctx.waiting and now - ctx.last_used > lifetime

    def _accept(
        self, cookies: dict[str, str], user: SimUser, kind: str
    ) -> SimSessionContext | tuple[int, str]:
        """The context a request names, checked and marked busy; or (X-ResponseCode, text)."""
        context_id = cookies.get(CONTEXT_COOKIE.lower())
        if context_id is None:
            return (13, f"The {CONTEXT_COOKIE} cookie is missing.")
        if not _CONTEXT_ID.fullmatch(context_id):
            return (6, f"The {CONTEXT_COOKIE} cookie is not one this server issued.")
        now = time.monotonic()
        with self._lock:
            ctx = self._contexts.get(context_id)
            if ctx is not None and self._expired(ctx, now, self._idle_limit()):
                ctx.closed = True
                del self._contexts[ctx.id]
                return (10, "The Session Context has expired.")
            if ctx is None:
                return (10, "The Session Context is not found (unknown or expired).")
            if ctx.user != user:
                # 3.2.5.1: the authentication context is kept with the Session Context; 2.2.3.3.3 code 10.
                return (10, "The Session Context belongs to another user.")
            if kind == "wait":
                if ctx.waiting:
                    return (15, "A NotificationWait is already outstanding.")
                ctx.waiting = True
                ctx.last_used = now
                return ctx
            sequence = cookies.get(SEQUENCE_COOKIE.lower())
            if sequence is None:
                return (13, f"The {SEQUENCE_COOKIE} cookie is missing.")
            if ctx.busy:
                return (15, "Another request of this Session Context is still being processed.")
            if sequence.lower() != ctx.sequence.lower():
                return (15, f"The {SEQUENCE_COOKIE} cookie is not the newest one: requests out of sequence.")
            ctx.sequence = str(uuid.uuid4())
            ctx.busy = True
            ctx.requests += 1
            ctx.last_used = now
            return ctx

    def _finish(self, job: _Job) -> None:
        ctx = job.ctx
        with self._lock:
            ctx.last_used = time.monotonic()
            if job.kind == "wait":
                ctx.waiting = False
            else:
                ctx.busy = False
            drop = ctx._discard or (job.kind == "connect" and job.code != 0)
            drop = drop or (job.kind == "disconnect" and job.code == 0)
            if drop and self._contexts.get(ctx.id) is ctx:
                ctx.closed = True
                del self._contexts[ctx.id]

    # -- processing ------------------------------------------------------------------------------

    def _work(self, job: _Job) -> None:
        try:
            if self.delay_s > 0 and self._stopping.wait(self.delay_s):
                raise SimResponseCode(18, "The endpoint is shutting down.")
            job.body = self.handler.handle(job.request_type, job.req.body, job.ctx, job.req)
        except SimResponseCode as exc:
            job.code, job.text = exc.code, exc.text
        except Exception as exc:  # a handler bug: say so to the client and to the test
            if self._site is not None:
                self._site.errors.append(f"{self.name} {job.request_type}: {exc!r}")
            job.code, job.text = 1, f"The server failed: {type(exc).__name__}"
        finally:
            job.elapsed_ms = int((time.monotonic() - job.start) * 1000)
            if job.code:
                self._count(f"code-{job.code}")
            self._finish(job)
            job.done.set()

    def _stream(self, job: _Job, fault: Fault | None) -> Iterator[bytes]:
        yield encode_meta_tag("PROCESSING")
        cut = self.cut_after_s
        while not job.done.wait(max(self.pending_period_ms, 1) / 1000):
            if self._stopping.is_set():
                break
            if cut is not None and time.monotonic() - job.start >= cut:
                # A load balancer that ends requests after ``cut`` seconds, PENDING or not: the connection
                # is closed in the middle of the stream (an OSError: the listener just drops it).
                raise ConnectionAbortedError("simulated load balancer cut")
            yield encode_meta_tag("PENDING")
        if not job.done.is_set():
            code, text, body = 18, "The endpoint is shutting down.", b""
        else:
            code, text, body = job.code, job.text, job.body
        if code:
            # A failure found after the headers went out: a late X-ResponseCode and the text as body.
            tail = encode_done(
                elapsed_time=job.elapsed_ms,
                start_time=job.start_wall,
                response_code=code,
                headers=[("Content-Type", "text/html; charset=utf-8")],
            )
            body = _html_text(code, text).encode("utf-8")
        else:
            tail = encode_done(elapsed_time=job.elapsed_ms, start_time=job.start_wall)
        if fault == "truncate":
            yield tail + body[: len(body) // 2]
            # The connection goes down before the rest of the body and the last chunk (an OSError is what
            # the listener treats as a client or network failure: no handler error is recorded).
            raise ConnectionAbortedError("simulated truncated response")
        yield tail + body

    # -- building answers ------------------------------------------------------------------------

    def _canonical_type(self, value: str) -> str | None:
        known = {PING, *self.connect_types, *self.disconnect_types, *self.concurrent_types}
        if self.request_types is not None:
            known |= self.request_types
        for name in known:
            if name.lower() == value.lower():
                return name
        return value if self.request_types is None else None

    def _kind(self, request_type: str) -> Literal["connect", "disconnect", "wait", "other"]:
        if request_type in self.connect_types:
            return "connect"
        if request_type in self.disconnect_types:
            return "disconnect"
        if request_type in self.concurrent_types:
            return "wait"
        return "other"

    def _headers(
        self, req: Request, request_type: str | None, code: int, ctx: SimSessionContext | None
    ) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        if request_type:
            headers.append(("X-RequestType", request_type))
        for name in ("X-RequestId", "X-ClientInfo"):
            value = req.header(name)
            if value:
                headers.append((name, value.strip()))
        expiration = 0 if code == 10 else int(self.lifetime_s * 1000)
        headers += [
            ("X-ResponseCode", str(code)),
            ("X-ServerApplication", self.server_application),
            ("X-ExpirationInfo", str(expiration)),
            ("X-PendingPeriod", str(int(self.pending_period_ms))),
            ("Cache-Control", "private"),
            ("request-id", str(uuid.uuid4())),
        ]
        return headers

    def _cookies(self, ctx: SimSessionContext) -> list[tuple[str, str]]:
        attrs = f"path={self.prefix}; secure; HttpOnly"
        return [
            ("Set-Cookie", f"{CONTEXT_COOKIE}={ctx.id}; {attrs}"),
            ("Set-Cookie", f"{SEQUENCE_COOKIE}={ctx.sequence}; {attrs}"),
        ]

    def _error(self, req: Request, request_type: str | None, code: int, text: str) -> Response:
        self._count(f"code-{code}")
        headers = self._headers(req, request_type, code, None)
        headers.append(("Content-Type", "text/html; charset=utf-8"))
        return Response(200, headers, _html_text(code, text).encode("utf-8"))

    def _count(self, key: str) -> None:
        with self._lock:
            self.counters[key] = self.counters.get(key, 0) + 1


class _DropHeaders(list[tuple[str, str]]):
    """Headers that cannot be sent: the listener fails before anything is flushed and closes the connection.

    web.py has no "close without answering" response; its ``_send`` iterates the headers after buffering
    the status line but before flushing anything, and it treats an OSError as a network failure (no
    handler error recorded, the connection is shut). That is exactly a dropped connection.
    """

    def __iter__(self) -> Iterator[tuple[str, str]]:
        raise ConnectionAbortedError("simulated dropped connection")


def _dropped_connection() -> Response:
    return Response(200, _DropHeaders(), close=True)


def _default_text(code: int) -> str:
    try:
        return ResponseCode(code).spec_name
    except ValueError:
        return "Failure"


def _html_text(code: int, text: str) -> str:
    return f"<html><body><p>{html.escape(text)}</p><!-- X-ResponseCode {code} --></body></html>"


def parse_cookie_header(value: str) -> dict[str, str]:
    """``a=1; B=2`` -> ``{"a": "1", "b": "2"}`` (names lower-cased; the last of a repeated name wins)."""
    cookies: dict[str, str] = {}
    for pair in value.split(";"):
        name, sep, val = pair.partition("=")
        name = name.strip()
        if name and sep:
            cookies[name.lower()] = val.strip().strip('"')
    return cookies


def mailbox_id(req: Request) -> str | None:
    """The ``MailboxId`` query parameter (name compared without case), or None."""
    for key, value in parse_qsl(req.query, keep_blank_values=True):
        if key.lower() == "mailboxid":
            return value
    return None


__all__ = [
    "CONTEXT_COOKIE",
    "FAULTS",
    "SEQUENCE_COOKIE",
    "Fault",
    "MapiHttpHandler",
    "MapiHttpService",
    "SimResponseCode",
    "SimSessionContext",
    "mailbox_id",
    "parse_cookie_header",
]
