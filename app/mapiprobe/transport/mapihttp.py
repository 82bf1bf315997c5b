"""MAPI over HTTP on the wire: an endpoint, its Session Contexts, streamed envelopes, errors (MS-OXCMAPIHTTP).

The mailbox session (EMSMDB: Connect, Execute, Disconnect, NotificationWait) and the address-book session
(NSPI: Bind, QueryRows, ..., Unbind) talk to their endpoints through the same two objects:

* :class:`SessionContext` is the client's half of one Session Context (created by a Connect or Bind,
  3.1.5.1): its own cookie jar (every cookie the server set, newest value wins, names compared without
  case; 3.1.5.1, 3.1.5.2), the X-RequestId GUID fixed for its life with a counter that grows with every
  request (2.2.3.3.2), its X-ClientInfo value (2.2.3.3.4), and the idle deadline the server announced in
  X-ExpirationInfo (2.2.3.3.8). Only one request at a time runs in a context (3.2.5.1); NotificationWait
  may be outstanding beside it (3.1.5.5). :meth:`SessionContext.reconnect` makes the context for a
  reconnect: its Connect/Bind carries the *old* cookies, after which only the new ones are used
  (3.1.5.7, 3.2.5.6: never mix them).
* :class:`MapiHttpEndpoint` sends requests (2.2.2.1: POST, Content-Type ``application/mapi-http``,
  X-RequestType, X-RequestId, X-ClientInfo, X-ClientApplication, the context's cookies) and reads each
  answer as a stream through :class:`~mapiprobe.protocol.envelope.EnvelopeParser` (PROCESSING, PENDING...,
  DONE, additional headers, body; 2.2.7, 3.2.5.2). PENDING keep-alives are counted and reported as
  :class:`ProgressEvent`; once the answer's X-PendingPeriod is known, the read timeout becomes at least
  that period plus a margin while the envelope is open (2.2.3.3.5), so a slow server is not mistaken for
  a dead one while a dead one is still detected.

Failures are mapped here, once, into the transport error family (transport/errors.py)::

    TransportError
    ├── MapiHttpError          X-ResponseCode not 0 (2.2.3.3.3): number, spec name, the server's text
    │   └── ContextExpired     X-ResponseCode 10, Context Not Found: reconnect (3.2.5.6)
    ├── HTTPFailure
    │   └── BadMapiHttpResponse  the answer is not MAPI/HTTP: an HTML page with HTTP 200, text/html with
    │                            X-ResponseCode 0, a broken envelope, a missing X-ResponseCode...
    ├── ConnectionLost         also: the answer was cut off, or the server closed without answering
    ├── RequestCancelled       the caller's cancel event was set
    └── (the rest of transport/errors.py: ConnectFailed, Timeout, TLSFailure, AuthenticationFailed...)

A late X-ResponseCode among the additional headers (a failure found after the first bytes went out,
3.2.5.2) wins over the one in the HTTP headers. Every exchange leaves one
:class:`~mapiprobe.transport.trace.TraceRecord` with the request type, request id, response code, the
number of PENDING keep-alives, the bytes each way and the timings; cookie *values* never enter a record,
a message or a result (cookie names may).

An endpoint should have its own httpx client (:func:`make_mapihttp_client`): HTTP/1.1 keep-alive, and since
the endpoint never runs more than two requests at once, never more than two TCP connections (one for
requests, one for a NotificationWait that is pending).

The results live in :mod:`.mapihttp_results`, the errors in :mod:`.mapihttp_errors` and the Session Context
in :mod:`.session_context`; this module re-exports them.
"""

from __future__ import annotations

import contextlib
import html
import http.cookiejar
import itertools
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from mapiprobe.protocol.envelope import (
    AdditionalHeader,
    BodyData,
    EndOfMessage,
    EnvelopeParser,
    MetaTag,
    NeedData,
    ResponseCode,
    describe,
)
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.transport.client import ConnectionOptions, RoutingTransport, TracingTransport, make_client
from mapiprobe.transport.errors import (
    ConnectionLost,
    HTTPFailure,
    TooSlow,
    TransportError,
    redact_url,
    translate,
)
from mapiprobe.transport.limits import DEFAULT_MAX_PENDING, deadline_scope
from mapiprobe.transport.mapihttp_errors import (
    BadMapiHttpResponse,
    ContextExpired,
    MapiHttpError,
    RequestCancelled,
)
from mapiprobe.transport.mapihttp_results import MapiHttpResult, ProgressEvent, response_code_name
from mapiprobe.transport.session_context import _PROCESS_CLIENT_INFO, ClientInfo, SessionContext
from mapiprobe.transport.trace import Trace, TraceRecord, challenge_schemes, redact_headers

CONTENT_TYPE = "application/mapi-http"
DEFAULT_CLIENT_APPLICATION = "Outlook/16.0.18129.20000 mapiprobe/0.1"
PING = "PING"
CONNECT_TYPES = frozenset({"Connect", "Bind"})
"""Request types that create a Session Context (3.1.5.1)."""
DISCONNECT_TYPES = frozenset({"Disconnect", "Unbind"})
"""Request types that destroy it (3.1.5.4)."""
CONCURRENT_TYPES = frozenset({"NotificationWait"})
"""Request types that may be outstanding beside another request of the same context (3.1.5.5)."""

MAX_CONNECTIONS = 2
"""Requests of one endpoint in flight at once: one ordinary request and one pending NotificationWait."""
DEFAULT_PENDING_PERIOD_MS = 30000
NOTIFICATION_WAIT_LIMIT = 330.0
"""NotificationWait's own rule instead of --max-pending: the server holds it until an event, or up to 5
minutes without client activity (MS-OXCRPC 3.3.4.1 for EcDoAsyncWaitEx, whose MAPI/HTTP form it is), so it
is ended after 5 minutes and 30 seconds of PENDING."""
"""X-PendingPeriod default (2.2.3.3.5); 3.2.2 says 15 s and Exchange 2013 sent 15000 (PROTOCOL.md §2.6 ⚠)."""
MAX_SERVER_TEXT = 8192
"""Most bytes read of the diagnostic body of a failure (HTML from the server or a proxy)."""
ANNOTATION_ELAPSED_TIME = "mapihttp.elapsed_time"
"""Trace annotation: the X-ElapsedTime additional header of the response (the server's processing time)."""
MAX_BODY = 64 * 1024 * 1024
"""Largest response body accepted."""
SHOWN_TEXT = 600
"""Most characters of the server's text put into an error message."""

_BRACES = re.compile(r"[{}]")


# ---------------------------------------------------------------------------------------------------
# The endpoint
# ---------------------------------------------------------------------------------------------------


def make_mapihttp_client(options: ConnectionOptions, *, trace: Trace | None = None) -> httpx.Client:
    """The httpx client of one MAPI/HTTP endpoint (the transport's traced client, HTTP/1.1 keep-alive).

    :class:`MapiHttpEndpoint` lets at most :data:`MAX_CONNECTIONS` requests run at once on it, so the pool
    never holds more than two connections: one for requests, one for a pending NotificationWait; the
    pool itself is capped at the same number.
    """
    return make_client(options, trace=trace, max_connections=MAX_CONNECTIONS)


def _refusing_jar() -> http.cookiejar.CookieJar:
    """A cookie jar that stores nothing: cookies belong to Session Contexts, not to the httpx client."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


@dataclass
class _Exchange:
    """Book-keeping of one request while it runs."""

    request_type: str
    request_id: str
    sent_at: float
    wall: float
    annotations: list[tuple[str, str]] = field(default_factory=list)
    response: httpx.Response | None = None
    received: int = 0
    body_started: bool = False
    parser: EnvelopeParser = field(default_factory=EnvelopeParser)
    first_byte_at: float | None = None
    kept: bytearray | None = None  # the response body as read, up to keep_limit (for our own record)
    keep_limit: int = 0

    def keep(self, chunk: bytes) -> None:
        if self.kept is None:
            self.kept = bytearray()
        room = self.keep_limit - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    def annotate(self, key: str, value: str) -> None:
        """Set a trace annotation. The tracing transport copies the list when the body has been read,
        which can be before this request's code sees the end: keep the entries current as we go."""
        for i, (name, _) in enumerate(self.annotations):
            if name == key:
                self.annotations[i] = (key, value)
                return
        self.annotations.append((key, value))


class MapiHttpEndpoint:
    """One MAPI/HTTP endpoint URL (mailbox or address book) and the client that reaches it.

    ``client`` should come from :func:`make_mapihttp_client` (one client per endpoint). The endpoint
    switches the client's own cookie store off: cookies live in :class:`SessionContext` objects.
    ``auth`` is the httpx auth flow to use (None: the client's). ``timeout``: connect/read/write limits
    (None: the client's); the read limit is raised to the pending period plus a margin once the server
    announced one. ``trace``: where records go when the client does not trace by itself.
    """

    def __init__(
        self,
        url: str,
        client: httpx.Client,
        *,
        trace: Trace | None = None,
        client_application: str = DEFAULT_CLIENT_APPLICATION,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        timeout: httpx.Timeout | None = None,
        auth: httpx.Auth | None = None,
        client_info: ClientInfo | None = None,
        max_pending: float | None = None,
    ) -> None:
        self.url = url
        self.client = client
        self.client_application = client_application
        self.on_progress = on_progress
        self.timeout = timeout or client.timeout
        self.auth = auth
        self.client_info = client_info or _PROCESS_CLIENT_INFO
        client.cookies = _refusing_jar()
        transport = getattr(client, "_transport", None)
        self._own_trace: Trace | None = None
        if isinstance(transport, TracingTransport | RoutingTransport):
            if transport.trace is None and trace is not None:
                transport.trace = trace
            self.trace = transport.trace
        else:
            self.trace = self._own_trace = trace
        self.last_pending_period_ms: int | None = None
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        if max_pending is None:
            max_pending = getattr(transport, "max_pending", DEFAULT_MAX_PENDING)
        self.max_pending: float = float(max_pending)
        """A request that only answers PENDING is ended after this many seconds (--max-pending);
        NotificationWait follows :data:`NOTIFICATION_WAIT_LIMIT` instead."""

    # -- public verbs ------------------------------------------------------------------------------

    def request(
        self,
        request_type: str,
        body: bytes,
        *,
        context: SessionContext,
        cancel: threading.Event | None = None,
    ) -> MapiHttpResult:
        """Send one request in ``context`` and read its answer; raises a TransportError on any failure.

        Waits while another request of the same context runs (one at a time, 3.2.5.1); NotificationWait
        only waits for another NotificationWait (3.1.5.5).
        """
        lock = context.wait_lock if request_type in CONCURRENT_TYPES else context.request_lock
        with lock, self._slots:
            return self._request(request_type, body, context, cancel)

    def ping(self, context: SessionContext, *, cancel: threading.Event | None = None) -> MapiHttpResult:
        """PING (2.2.6, 3.1.5.3): no body either way; its X-ExpirationInfo confirms the timer was reset."""
        return self.request(PING, b"", context=context, cancel=cancel)

    # -- one exchange ------------------------------------------------------------------------------

    def _request(
        self, request_type: str, body: bytes, context: SessionContext, cancel: threading.Event | None
    ) -> MapiHttpResult:
        if cancel is not None and cancel.is_set():
            raise RequestCancelled(f"{request_type} cancelled before it was sent", url=self.url)
        if context.client_info is None:
            context.client_info = self.client_info.next()
        ex = _Exchange(request_type, context.next_request_id(), time.monotonic(), time.time())
        if self._own_trace is not None:
            ex.keep_limit = self._own_trace.body_limit
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-RequestType": request_type,
            "X-RequestId": ex.request_id,
            "X-ClientInfo": context.client_info,
            "X-ClientApplication": self.client_application,
            "Accept": "*/*",
        }
        cookie = context.cookie_header()
        if cookie:
            headers["Cookie"] = cookie
        self._progress(ex, "sending")
        watcher = _CancelWatcher(cancel, ex) if cancel is not None else None
        error: BaseException | None = None
        try:
            return self._exchange(ex, headers, body, context)
        except BaseException as exc:
            error = exc
            raise self._map_error(exc, ex, cancel) from exc
        finally:
            if watcher is not None:
                watcher.stop()
            if self._own_trace is not None:
                self._own_record(ex, headers, body, error)

    def _exchange(
        self, ex: _Exchange, headers: dict[str, str], body: bytes, context: SessionContext
    ) -> MapiHttpResult:
        extensions = {
            "mapiprobe.label": f"MAPI/HTTP {ex.request_type}",
            "mapiprobe.annotations": ex.annotations,
        }
        auth: Any = self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT
        notes: list[str] = []
        text = ""
        body_bytes = b""
        late = False
        with self.client.stream(
            "POST",
            self.url,
            content=body,
            headers=headers,
            timeout=self.timeout,
            extensions=extensions,
            auth=auth,
        ) as response:
            ex.response = response
            ex.first_byte_at = time.monotonic()
            try:
                code = self._check_head(ex, response, context, notes)
                self._progress(ex, "headers")
                if code != 0:
                    text = _server_text(self._read_bounded(ex, response))
                else:
                    self._open_envelope(response)
                    body_bytes = self._read_envelope(ex, response)
                    late_code = _late_code(ex.parser.headers)
                    if late_code is not None and late_code != 0:
                        # A failure found after the first bytes went out (3.2.5.2): it wins.
                        code, late = late_code, True
                        text = _server_text(body_bytes[:MAX_SERVER_TEXT])
                        ex.annotate("mapihttp.response_code", str(code))
            finally:
                ex.annotate("mapihttp.pending_count", str(ex.parser.pending_count))
        additional = ex.parser.headers
        result = MapiHttpResult(
            http_status=response.status_code,
            response_code=code,
            response_code_name=response_code_name(code),
            server_text=text or None,
            body=body_bytes,
            pending_count=ex.parser.pending_count,
            meta_tags=ex.parser.meta_tags,
            additional_headers=additional,
            server_application=response.headers.get("X-ServerApplication"),
            expiration_ms=_int_header(response.headers, "X-ExpirationInfo"),
            pending_period_ms=_int_header(response.headers, "X-PendingPeriod"),
            elapsed_time=_find(additional, "X-ElapsedTime"),
            start_time=_find(additional, "X-StartTime"),
            request_id=ex.request_id,
            trace_id=self._trace_id(ex),
            request_type=ex.request_type,
            elapsed_ms=(time.monotonic() - ex.sent_at) * 1000,
            notes=tuple(notes),
        )
        if code != 0:
            raise self._code_error(result, context, late=late)
        if ex.request_type in DISCONNECT_TYPES:
            context.clear()
            context.closed = True
        self._progress(ex, "complete")
        return result

    def _check_head(
        self, ex: _Exchange, response: httpx.Response, context: SessionContext, notes: list[str]
    ) -> int:
        """Cookies, lifetime and echoes from the HTTP head; the X-ResponseCode; raise for an answer that
        is not MAPI/HTTP at all."""
        headers = response.headers
        set_cookies = headers.get_list("Set-Cookie")
        if set_cookies:
            context.update_cookies(set_cookies, fresh_context=ex.request_type in CONNECT_TYPES)
        expiration = _int_header(headers, "X-ExpirationInfo")
        if expiration is not None:
            context.note_expiration(expiration, ex.sent_at)
        pending = _int_header(headers, "X-PendingPeriod")
        if pending is not None and pending > 0:
            context.pending_period_ms = self.last_pending_period_ms = pending
        context.last_response_at = time.monotonic()
        status = response.status_code
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        code_text = headers.get("X-ResponseCode")
        if status != 200:
            raise self._status_error(ex, response)
        if code_text is None:
            if content_type != CONTENT_TYPE:
                text = _server_text(self._read_bounded(ex, response))
                what = "an HTML page" if "html" in content_type else f"Content-Type {content_type or 'none'}"
                raise BadMapiHttpResponse(
                    f"HTTP 200 with {what} and no X-ResponseCode: not a MAPI/HTTP answer "
                    f"(a proxy or sign-in page in front of the server?){_quote(text)}",
                    status=status,
                    url=self.url,
                    server_text=text,
                )
            notes.append("the answer has no X-ResponseCode header (2.2.3.3.3 says every answer has one)")
            code = 0
        else:
            try:
                code = int(code_text.strip())
            except ValueError:
                raise BadMapiHttpResponse(
                    f"X-ResponseCode {code_text[:40]!r} is not a number (2.2.3.3.3)",
                    status=status,
                    url=self.url,
                ) from None
        ex.annotate("mapihttp.response_code", str(code))
        self._check_echoes(ex, headers, notes)
        if code == 0 and content_type != CONTENT_TYPE:
            text = _server_text(self._read_bounded(ex, response))
            raise BadMapiHttpResponse(
                f"X-ResponseCode 0 but Content-Type {content_type or 'none'}, not {CONTENT_TYPE} "
                f"(2.2.3.2.2): the body cannot be a MAPI/HTTP answer{_quote(text)}",
                status=status,
                url=self.url,
                server_text=text,
            )
        return code

    def _check_echoes(self, ex: _Exchange, headers: httpx.Headers, notes: list[str]) -> None:
        echoed = headers.get("X-RequestId")
        if echoed is not None and _norm_id(echoed) != _norm_id(ex.request_id):
            notes.append(f"X-RequestId echoed as {echoed!r}, sent {ex.request_id!r} (2.2.3.3.2)")
        echoed_type = headers.get("X-RequestType")
        if echoed_type is not None and echoed_type.strip().lower() != ex.request_type.lower():
            notes.append(f"X-RequestType echoed as {echoed_type!r}, sent {ex.request_type!r}")
        elif echoed_type is not None and echoed_type.strip() != ex.request_type:
            notes.append(f"X-RequestType echoed as {echoed_type!r} (case differs from {ex.request_type!r})")

    def _open_envelope(self, response: httpx.Response) -> None:
        """While the envelope is open the server sends PENDING every X-PendingPeriod: wait at least that
        long (plus a margin) between two reads (2.2.3.3.5, 3.2.5.2)."""
        pending_ms = _int_header(response.headers, "X-PendingPeriod")
        if pending_ms is None or pending_ms <= 0:
            return
        pending_s = pending_ms / 1000
        wanted = pending_s + max(2.0, pending_s * 0.25)
        read = self.timeout.read
        if read is not None and read >= wanted:
            return
        # httpcore takes the read timeout from the request's extensions when it starts reading the body.
        with contextlib.suppress(Exception):
            ext = response.request.extensions
            ext["timeout"] = {**ext.get("timeout", {}), "read": wanted}

    def _pending_limit(self, ex: _Exchange) -> tuple[float, str]:
        if ex.request_type in CONCURRENT_TYPES:
            return NOTIFICATION_WAIT_LIMIT, "the NotificationWait limit"
        return self.max_pending, "--max-pending"

    def _pending_error(self, ex: _Exchange) -> TooSlow:
        limit, name = self._pending_limit(ex)
        host = httpx.URL(self.url).host
        count = ex.parser.pending_count
        return TooSlow(
            f"{host} answered {ex.request_type} with PENDING {count} time{'s' if count != 1 else ''} over "
            f"{time.monotonic() - ex.sent_at:.0f} s without a result ({name} {limit:g} s). The server "
            f"accepted the request but does not finish it (overloaded, or stuck on this mailbox): try "
            f"again later, ask the server's administrators to look at it"
            + (", or raise --max-pending" if name == "--max-pending" else ""),
            phase="pending",
            url=self.url,
        )

    def _read_envelope(self, ex: _Exchange, response: httpx.Response) -> bytes:
        # PROCESSING/PENDING meta-tags are judged by the PENDING limit, not the body pace (limits.py).
        limit, _ = self._pending_limit(ex)
        with deadline_scope(ex.sent_at + limit, lambda: self._pending_error(ex), envelope=True):
            return self._read_envelope_body(ex, response, ex.sent_at + limit)

    def _read_envelope_body(self, ex: _Exchange, response: httpx.Response, pending_until: float) -> bytes:
        body = bytearray()
        parser = ex.parser
        ex.body_started = True
        for chunk in response.iter_bytes():
            ex.received += len(chunk)
            if ex.keep_limit:
                ex.keep(chunk)
            parser.receive_data(chunk)
            body_before = len(body)
            self._drain(ex, parser, body)
            if len(body) > MAX_BODY:
                raise BadMapiHttpResponse(f"the response body is larger than {MAX_BODY} bytes", url=self.url)
            if len(body) != body_before:
                self._progress(ex, "body")
            elif "DONE" not in parser.meta_tags[-1:] and time.monotonic() >= pending_until:
                raise self._pending_error(ex)
        parser.receive_data(b"")
        self._drain(ex, parser, body)
        return bytes(body)

    def _drain(self, ex: _Exchange, parser: EnvelopeParser, body: bytearray) -> None:
        while True:
            event = parser.next_event()
            if isinstance(event, NeedData | EndOfMessage):
                return
            if isinstance(event, MetaTag):
                ex.annotate("mapihttp.pending_count", str(parser.pending_count))
                self._progress(ex, event.name.lower())
            elif isinstance(event, BodyData):
                body += event.data
            elif isinstance(event, AdditionalHeader) and event.name.lower() == "x-responsecode":
                ex.annotate("mapihttp.response_code", event.value.strip())
            elif isinstance(event, AdditionalHeader) and event.name.lower() == "x-elapsedtime":
                # The server's own processing time (2.2.3.3.9), for Connection Status's "Avg Proc".
                ex.annotate(ANNOTATION_ELAPSED_TIME, event.value.strip())

    def _read_bounded(self, ex: _Exchange, response: httpx.Response) -> bytes:
        data = bytearray()
        # The server's text only explains the failure at hand: without it (even if it trickles: TooSlow)
        # that failure is still reported. --max-time (MaxTimeExceeded) is not suppressed.
        with contextlib.suppress(
            httpx.HTTPError, httpcore.NetworkError, httpcore.ProtocolError, OSError, TooSlow
        ):
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) >= MAX_SERVER_TEXT:
                    break
        ex.received += len(data)
        if ex.keep_limit:
            ex.keep(bytes(data))
        return bytes(data[:MAX_SERVER_TEXT])

    # -- errors ------------------------------------------------------------------------------------

    def _status_error(self, ex: _Exchange, response: httpx.Response) -> TransportError:
        status = response.status_code
        text = _server_text(self._read_bounded(ex, response))
        where = redact_url(self.url)
        if status == 401:
            offered = ", ".join(_schemes(response)) or "none named"
            message = f"{where} requires authentication (HTTP 401; the server offers: {offered})"
        elif status == 404:
            message = (
                f"no MAPI/HTTP endpoint at {where} (HTTP 404; the URL needs its ?MailboxId=... part, "
                "exactly as Autodiscover gave it)"
            )
        elif status in (301, 302, 303, 307, 308):
            message = (
                f"{where} redirects (HTTP {status}) to {response.headers.get('Location', '?')}; not followed"
            )
        elif status >= 500:
            message = (
                f"the server or a front end failed: HTTP {status} {response.reason_phrase}{_quote(text)}"
            )
        else:
            message = f"unexpected HTTP {status} {response.reason_phrase} from {where}{_quote(text)}"
        return HTTPFailure(message, status=status, url=self.url)

    def _code_error(self, result: MapiHttpResult, context: SessionContext, *, late: bool) -> MapiHttpError:
        code = result.response_code
        where = " (a late X-ResponseCode, among the additional headers)" if late else ""
        message = f"X-ResponseCode {describe(code)}{where}{_quote(result.server_text or '')}"
        cls = ContextExpired if code == ResponseCode.CONTEXT_NOT_FOUND else MapiHttpError
        if cls is ContextExpired:
            context.expired = True
        return cls(
            message,
            response_code=code,
            server_text=result.server_text,
            http_status=result.http_status,
            url=self.url,
            result=result,
        )

    def _map_error(self, exc: BaseException, ex: _Exchange, cancel: threading.Event | None) -> BaseException:
        """The one mapping of lower-layer failures for MAPI/HTTP (transport/errors.py does the rest)."""
        if isinstance(exc, TransportError):
            return exc
        if cancel is not None and cancel.is_set() and isinstance(exc, Exception):
            return RequestCancelled(f"{ex.request_type} cancelled{self._where(ex)}", url=self.url)
        if isinstance(exc, ProtocolError):
            return BadMapiHttpResponse(
                f"the {ex.request_type} answer is not a valid MAPI/HTTP response stream: {exc}"
                f"{self._where(ex)} (MS-OXCMAPIHTTP 2.2.7, 3.2.5.2)",
                status=ex.response.status_code if ex.response is not None else None,
                url=self.url,
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpcore.RemoteProtocolError):
            if ex.response is None:
                return ConnectionLost(
                    f"the server closed the connection without answering the {ex.request_type} request "
                    f"(3.1.7.2: reconnect with a new Session Context)",
                    url=self.url,
                )
            if ex.body_started:
                return ConnectionLost(
                    f"the {ex.request_type} answer was cut off after {ex.received} body bytes"
                    f"{self._where(ex)}: {exc}",
                    url=self.url,
                )
        mapped = translate(exc, self.url)
        if mapped is None:
            return exc
        detail = self._where(ex)
        if detail:
            mapped.message += detail
            mapped.args = (mapped.message,)
        return mapped

    @staticmethod
    def _where(ex: _Exchange) -> str:
        if ex.response is None:
            return ""
        tags = ex.parser.meta_tags
        if not tags:
            return " (before PROCESSING)"
        return f" (after {', '.join(_counted(tags))})"

    # -- progress and trace ------------------------------------------------------------------------

    def _progress(self, ex: _Exchange, phase: str) -> None:
        if self.on_progress is None:
            return
        self.on_progress(
            ProgressEvent(
                request_type=ex.request_type,
                request_id=ex.request_id,
                phase=phase,
                pending_count=ex.parser.pending_count,
                bytes_received=ex.received,
                elapsed_ms=(time.monotonic() - ex.sent_at) * 1000,
                http_status=ex.response.status_code if ex.response is not None else None,
            )
        )

    def _trace_id(self, ex: _Exchange) -> int | None:
        trace = self.trace
        if trace is None or self._own_trace is not None:
            return None
        for record in reversed(trace.records[-50:]):
            if record.request_id == ex.request_id:
                return record.seq
        return None

    def _own_record(
        self, ex: _Exchange, headers: Mapping[str, str], body: bytes, error: BaseException | None
    ) -> None:
        """A trace record for a client without the tracing transport (its records would be missing)."""
        trace = self._own_trace
        assert trace is not None
        response = ex.response
        end = time.monotonic()
        code = dict(ex.annotations).get("mapihttp.response_code")
        mapped = self._map_error(error, ex, None) if error is not None else None
        request_body, request_truncated = trace.keep_body(headers, body)
        response_body, response_truncated = None, False
        if response is not None and ex.kept is not None:
            # iter_bytes() already undid any Content-Encoding: keep as read.
            response_body, response_truncated = trace.keep_body(
                [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"],
                bytes(ex.kept),
                more=ex.received > len(ex.kept),
            )
        record = TraceRecord(
            seq=trace.next_seq(),
            method="POST",
            url=redact_url(self.url),
            started_at=ex.wall,
            status=response.status_code if response is not None else None,
            http_version=response.http_version if response is not None else None,
            request_headers=redact_headers(headers.items()),
            response_headers=redact_headers(response.headers.multi_items()) if response is not None else (),
            request_bytes=len(body),
            response_bytes=ex.received,
            first_byte_ms=(ex.first_byte_at - ex.sent_at) * 1000 if ex.first_byte_at else None,
            total_ms=(end - ex.sent_at) * 1000,
            outcome="ok" if error is None else (getattr(mapped, "kind", None) or type(error).__name__),
            error=None if mapped is None else str(getattr(mapped, "message", mapped)),
            label=f"MAPI/HTTP {ex.request_type}",
            request_type=ex.request_type,
            request_id=ex.request_id,
            response_code=code
            if code is not None
            else (response.headers.get("X-ResponseCode") if response else None),
            annotations=tuple(ex.annotations),
            request_body=request_body,
            request_body_truncated=request_truncated,
            response_body=response_body,
            response_body_truncated=response_truncated,
        )
        trace.add(record)


class _CancelWatcher:
    """Shuts the connection down when ``cancel`` is set, so a blocked read returns at once.

    ``stop()`` returns at once instead of joining the polling thread (a join cost up to one poll, 50 ms, on
    every request); the lock makes "check stopped, then shut the socket" atomic against ``stop()``, so a
    watcher that outlives its exchange never touches a connection the pool has handed to the next request.
    """

    def __init__(self, cancel: threading.Event, ex: _Exchange) -> None:
        self._cancel = cancel
        self._ex = ex
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mapihttp-cancel", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            fired = self._cancel.wait(0.05)
            with self._lock:
                if self._stopped:
                    return
                response = self._ex.response if fired else None
                if response is not None:
                    stream = response.extensions.get("network_stream")
                    sock = stream.get_extra_info("socket") if stream is not None else None
                    if isinstance(sock, socket.socket):
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    return
            if fired:  # cancelled before the answer started: look again shortly (no busy loop)
                time.sleep(0.02)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _find(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    found = None
    for key, value in headers:
        if key.lower() == wanted:
            found = value
    return found


def _late_code(headers: Sequence[tuple[str, str]]) -> int | None:
    value = _find(headers, "X-ResponseCode")
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise BadMapiHttpResponse(f"late X-ResponseCode {value[:40]!r} is not a number (3.2.5.2)")
    return int(text)


def _norm_id(value: str) -> str:
    return _BRACES.sub("", value.strip()).lower()


def _counted(tags: Sequence[str]) -> Iterator[str]:
    for name, group in itertools.groupby(tags):
        n = len(list(group))
        yield f"{n} x {name}" if n > 1 else name


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def _server_text(data: bytes) -> str:
    """The server's diagnostic body as one line of text: tags removed, entities decoded, bounded."""
    text = data.decode("utf-8", errors="replace")
    text = html.unescape(_TAG.sub(" ", text))
    return _SPACE.sub(" ", text).strip()


def _quote(text: str) -> str:
    if not text:
        return ""
    shown = text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT] + "..."
    return f"; the server says: {shown}"


def _schemes(response: httpx.Response) -> list[str]:
    found: list[str] = []
    for value in response.headers.get_list("WWW-Authenticate"):
        for scheme in challenge_schemes(value):
            if scheme not in found:
                found.append(scheme)
    return found


__all__ = [
    "ANNOTATION_ELAPSED_TIME",
    "CONCURRENT_TYPES",
    "CONNECT_TYPES",
    "CONTENT_TYPE",
    "DEFAULT_CLIENT_APPLICATION",
    "DISCONNECT_TYPES",
    "MAX_CONNECTIONS",
    "PING",
    "BadMapiHttpResponse",
    "ClientInfo",
    "ContextExpired",
    "MapiHttpEndpoint",
    "MapiHttpError",
    "MapiHttpResult",
    "ProgressEvent",
    "RequestCancelled",
    "SessionContext",
    "make_mapihttp_client",
    "response_code_name",
]
