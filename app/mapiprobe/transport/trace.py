"""A record per HTTP exchange (what was sent, what came back, how long each phase took) and the collector.

The tracing transport in client.py builds one :class:`TraceRecord` per request and hands it to a
:class:`Trace`; a front end (the GUI's wire view, ``--trace`` output, a report) reads the records or
listens for them. Timings come from httpcore's ``trace`` request extension (``connection.connect_tcp``,
``connection.start_tls``, ``http11.receive_response_headers``...).

Secrets never enter a record: :func:`redact_headers` keeps the scheme name of ``Authorization`` and
``Proxy-Authorization``, the cookie names of ``Cookie`` and ``Set-Cookie`` (attributes of ``Set-Cookie``
too), the scheme names and ``realm`` of ``WWW-Authenticate``/``Proxy-Authenticate``; every other value of
those headers becomes ``[redacted]``.

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
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

REDACTED = "[redacted]"
ANNOTATION_PENDING_COUNT = "mapihttp.pending_count"
ANNOTATION_RESPONSE_CODE = "mapihttp.response_code"

_AUTHORIZATION = frozenset({"authorization", "proxy-authorization"})
_CHALLENGE = frozenset({"www-authenticate", "proxy-authenticate"})


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


# -- redaction ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PARAM = re.compile(r"""([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*$""")


def _redact_authorization(value: str) -> str:
    scheme = value.strip().split(None, 1)
    if not scheme:
        return ""
    if len(scheme) == 1:
        return scheme[0]
    return f"{scheme[0]} {REDACTED}"


def _split_commas(value: str) -> list[str]:
    """Split on commas that are not inside a quoted string."""
    items: list[str] = []
    cur: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    items.append("".join(cur))
    return [item.strip() for item in items if item.strip()]


@dataclass
class _Challenge:
    scheme: str
    realm: str | None = None
    other: bool = False  # a token68 or an auth-param other than realm was present


def _challenges(value: str) -> list[_Challenge]:
    """The challenges of a WWW-Authenticate value (RFC 7235 section 2.1, read tolerantly)."""
    found: list[_Challenge] = []
    for item in _split_commas(value):
        param = _PARAM.match(item)
        if param and found:  # an auth-param of the current challenge
            if param.group(1).lower() == "realm":
                found[-1].realm = param.group(2)
            else:
                found[-1].other = True
            continue
        m = _TOKEN.match(item)
        if not m:
            if found:
                found[-1].other = True
            continue
        challenge = _Challenge(m.group(0))
        rest = item[m.end() :].strip()
        if rest:
            param = _PARAM.match(rest)
            if param and param.group(1).lower() == "realm":
                challenge.realm = param.group(2)
            else:
                challenge.other = True
        found.append(challenge)
    return found


def _redact_challenge(value: str) -> str:
    out = []
    for ch in _challenges(value):
        text = ch.scheme
        if ch.realm is not None:
            text += f" realm={ch.realm}"
        if ch.other:
            text += f" {REDACTED}"
        out.append(text)
    return ", ".join(out) if out else (REDACTED if value.strip() else "")


def challenge_schemes(value: str) -> tuple[str, ...]:
    """Scheme names of a WWW-Authenticate value: ``Negotiate, Basic realm="x"`` -> (Negotiate, Basic)."""
    return tuple(ch.scheme for ch in _challenges(value))


def _redact_cookie(value: str) -> str:
    names = []
    for pair in value.split(";"):
        name = pair.split("=", 1)[0].strip()
        if name:
            names.append(f"{name}={REDACTED}")
    return "; ".join(names)


def _redact_set_cookie(value: str) -> str:
    first, *attrs = value.split(";")
    name = first.split("=", 1)[0].strip()
    kept = [f"{name}={REDACTED}"]
    kept += [attr.strip() for attr in attrs if attr.strip()]
    return "; ".join(kept)


def redact_header(name: str, value: str) -> str:
    lname = name.lower()
    if lname in _AUTHORIZATION:
        return _redact_authorization(value)
    if lname in _CHALLENGE:
        return _redact_challenge(value)
    if lname == "cookie":
        return _redact_cookie(value)
    if lname == "set-cookie":
        return _redact_set_cookie(value)
    return value


def redact_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), redact_header(str(k), str(v))) for k, v in items)


# -- the collector --------------------------------------------------------------------------------------

Listener = Callable[[TraceRecord], None]


class Trace:
    """Thread-safe list of :class:`TraceRecord` with listeners (called in the thread that did the request)."""

    def __init__(self, *, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._records: list[TraceRecord] = []
        self._listeners: list[Listener] = []
        self._seq = itertools.count(1)
        self._limit = limit

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
    "REDACTED",
    "Listener",
    "Trace",
    "TraceRecord",
    "challenge_schemes",
    "redact_header",
    "redact_headers",
]
