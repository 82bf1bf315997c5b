"""A record per HTTP exchange (what was sent, what came back, how long each phase took) and the collector.

The tracing transport in client.py builds one :class:`TraceRecord` per request and hands it to a
:class:`Trace`; a front end (the GUI's wire view, ``--trace`` output, a report) reads the records or
listens for them. Timings come from httpcore's ``trace`` request extension (``connection.connect_tcp``,
``connection.start_tls``, ``http11.receive_response_headers``...).

Secrets never enter a record: :func:`redact_headers` keeps the scheme name of ``Authorization`` and
``Proxy-Authorization``, the cookie names of ``Cookie`` and ``Set-Cookie`` (attributes of ``Set-Cookie``
too), the scheme names and ``realm`` of ``WWW-Authenticate``/``Proxy-Authenticate``; every other value of
those headers becomes ``[redacted]``.

Bodies are kept too, each cut at :data:`MAX_BODY_BYTES` (1 MiB, then marked truncated) and passed
through :func:`redact_body` first: the values of password/secret/token-like fields of a form or JSON
body, of such elements of an XML body, and any ``Basic``/``NTLM``/``Negotiate``/``Bearer`` credential
quoted in a text body become ``[redacted]``. Autodiscover POX and MAPI/HTTP bodies carry no
credentials, so for them this is a safety net; a :class:`Trace` can be given another ``body_redactor``
(or ``body_limit=0`` to keep no bodies at all).

Later layers add MAPI/HTTP fields: ``request_type``, ``request_id`` and ``response_code`` are read from
the ``X-RequestType``, ``X-RequestId`` and ``X-ResponseCode`` headers when present, and ``annotations``
carries any further (name, value) pairs a caller attaches through the ``mapiprobe.annotations``
request extension. transport/mapihttp.py annotates what only the response stream shows: the number of
PENDING keep-alives (``mapihttp.pending_count`` -> :attr:`TraceRecord.pending_count`) and a late
X-ResponseCode among the additional headers (``mapihttp.response_code``, which then wins over the header
value in :attr:`TraceRecord.response_code`; MS-OXCMAPIHTTP 3.2.5.2).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from mapiprobe.protocol.httpmsg import decode_content

# The redaction rules are pure and shared with the capture reader (protocol/capture.py): they live in
# protocol/redact.py and are re-exported here, where the trace has always offered them.
from mapiprobe.protocol.redact import (
    REDACTED,
    BodyRedactor,
    challenge_schemes,
    header_value,
    is_secret_name,
    redact_body,
    redact_header,
    redact_headers,
    redact_url,
)

MAX_BODY_BYTES = 1024 * 1024
"""Most bytes of each body a record keeps."""
ANNOTATION_PENDING_COUNT = "mapihttp.pending_count"
ANNOTATION_RESPONSE_CODE = "mapihttp.response_code"


@dataclass(frozen=True)
class TraceRecord:
    """One HTTP exchange as seen by the transport. Durations in milliseconds, None when not measured."""

    seq: int
    method: str
    url: str
    started_at: float  # wall clock (time.time()) when the request was handed to the transport
    status: int | None = None
    http_version: str | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    request_bytes: int = 0  # body bytes sent
    response_bytes: int = 0  # body bytes received (as on the wire, before content decoding)
    request_header_bytes: int = 0
    response_header_bytes: int = 0
    connect_ms: float | None = None  # TCP connect (None: a kept-alive connection was reused)
    tls_ms: float | None = None  # TLS handshake
    first_byte_ms: float | None = None  # request start until the status line and headers had arrived
    total_ms: float | None = None  # request start until the body was read (or the exchange failed)
    reused_connection: bool = False
    tls_version: str | None = None
    tls_cipher: str | None = None
    tls_certificate_der: bytes | None = field(default=None, repr=False)  # the server's leaf certificate
    peer_address: str | None = None  # "ADDR:PORT" actually connected to (after --connect-to and DNS)
    outcome: str = "pending"  # "ok", or the error kind ("tls-failed", "read-timeout", ...)
    error: str | None = None  # the error's message (never contains credentials)
    label: str | None = None  # what the exchange was for, from the ``mapiprobe.label`` request extension
    request_type: str | None = None  # X-RequestType (MAPI/HTTP)
    request_id: str | None = None  # X-RequestId (MAPI/HTTP)
    response_code: str | None = None  # X-ResponseCode (MAPI/HTTP); a late one in the envelope wins
    annotations: tuple[tuple[str, str], ...] = field(default=())
    pending_count: int | None = None  # PENDING keep-alives in the MAPI/HTTP response stream
    # The bodies, redacted (:func:`redact_body`) and cut at :data:`MAX_BODY_BYTES` (then ``*_truncated``).
    # The response body is what the program read: after chunked framing and any Content-Encoding were
    # undone (``response_bytes`` counts the wire). None: no body was kept (not read, or not kept).
    request_body: bytes | None = field(default=None, repr=False)
    response_body: bytes | None = field(default=None, repr=False)
    request_body_truncated: bool = False
    response_body_truncated: bool = False
    proxy: str | None = None  # the proxy (http://host:port) the request went through; None: direct

    def __post_init__(self) -> None:
        # MAPI/HTTP facts seen in the response stream arrive as annotations (see the module docstring).
        for key, value in self.annotations:
            if key == ANNOTATION_PENDING_COUNT and self.pending_count is None and value.isdigit():
                object.__setattr__(self, "pending_count", int(value))
            elif key == ANNOTATION_RESPONSE_CODE and value:
                object.__setattr__(self, "response_code", value)

    def header(self, name: str, *, response: bool = True) -> str | None:
        """First value of a (redacted) header, case-insensitive."""
        lname = name.lower()
        for key, value in self.response_headers if response else self.request_headers:
            if key.lower() == lname:
                return value
        return None

    def with_annotations(self, **more: str) -> TraceRecord:
        return replace(self, annotations=(*self.annotations, *more.items()))


# -- the collector --------------------------------------------------------------------------------------

Listener = Callable[[TraceRecord], None]


class Trace:
    """Thread-safe list of :class:`TraceRecord` with listeners (called in the thread that did the request)."""

    def __init__(
        self,
        *,
        limit: int | None = None,
        body_limit: int = MAX_BODY_BYTES,
        body_redactor: BodyRedactor = redact_body,
    ) -> None:
        self.body_limit = body_limit
        self.body_redactor = body_redactor
        self._lock = threading.Lock()
        self._records: list[TraceRecord] = []
        self._listeners: list[Listener] = []
        self._seq = itertools.count(1)
        self._limit = limit

    def keep_body(
        self,
        headers: Iterable[tuple[str, str]] | Mapping[str, str],
        data: bytes | None,
        *,
        more: bool = False,
        decode: bool = False,
    ) -> tuple[bytes | None, bool]:
        """(body to keep, truncated) for ``data`` sent or received with ``headers``.

        ``more``: ``data`` is already a prefix of a longer body. ``decode``: undo the Content-Encoding
        of ``headers`` first (a response as read off the wire). The result is cut at :attr:`body_limit`
        and redacted; a body that cannot be decoded is kept as it was.
        """
        if data is None or self.body_limit <= 0:
            return None, False
        truncated = more
        if decode:
            coding = header_value(headers, "Content-Encoding")
            if coding:
                result = decode_content(coding, data, self.body_limit)
                data = result.data
                truncated = truncated or result.truncated
        if len(data) > self.body_limit:
            data, truncated = data[: self.body_limit], True
        try:
            kept = self.body_redactor(header_value(headers, "Content-Type"), data)
        except Exception:  # a redactor must never break tracing; keep nothing rather than risk a secret
            return None, True
        return kept, truncated

    def next_seq(self) -> int:
        with self._lock:
            return next(self._seq)

    def add(self, record: TraceRecord) -> None:
        with self._lock:
            self._records.append(record)
            if self._limit is not None and len(self._records) > self._limit:
                del self._records[: len(self._records) - self._limit]
            listeners = list(self._listeners)
        for listener in listeners:
            listener(record)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; returns a function that removes it again."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    @property
    def records(self) -> tuple[TraceRecord, ...]:
        with self._lock:
            return tuple(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


__all__ = [
    "ANNOTATION_PENDING_COUNT",
    "ANNOTATION_RESPONSE_CODE",
    "MAX_BODY_BYTES",
    "REDACTED",
    "BodyRedactor",
    "Listener",
    "Trace",
    "TraceRecord",
    "challenge_schemes",
    "header_value",
    "is_secret_name",
    "redact_body",
    "redact_header",
    "redact_headers",
    "redact_url",
]
