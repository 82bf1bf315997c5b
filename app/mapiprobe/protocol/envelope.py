"""The MAPI/HTTP response envelope: meta-tags, additional headers, body (MS-OXCMAPIHTTP 2.2.7, 3.2.5.2).

Every MAPI/HTTP response body (after the HTTP headers, with any chunked transfer coding removed) is::

    PROCESSING\\r\\n                 sent at once: the request is queued               (2.2.7)
    PENDING\\r\\n                    zero or more keep-alives, one per X-PendingPeriod  (2.2.7, 3.2.5.3)
    DONE\\r\\n                       processing finished                                (2.2.7)
    X-ElapsedTime: 17\\r\\n          additional headers (2.2.3.3.9, 2.2.3.3.10, and a late X-ResponseCode)
    X-StartTime: <RFC 1123 date>\\r\\n
    \\r\\n                           empty line
    <binary body>                  laid out by X-RequestType (2.2.4, 2.2.5); absent for PING (2.2.6)

The client MUST parse this stream however the chunks fall (3.1.5.6), so :class:`EnvelopeParser` is an
incremental, sans-I/O parser in the style of h11: feed bytes with :meth:`EnvelopeParser.receive_data`
(``b""`` marks the end of the stream) and pull events with :meth:`EnvelopeParser.next_event` until it
returns :data:`NEED_DATA`. The events are :class:`MetaTag`, :class:`AdditionalHeader`, :class:`BodyData`
and :class:`EndOfMessage`. Memory is bounded: a line longer than :data:`MAX_LINE` bytes, more than
:data:`MAX_HEADERS` additional headers, or an unknown meta-tag is a :class:`DecodeError` carrying the
absolute offset in the stream. :func:`parse_envelope` is the one-shot form; :func:`encode_envelope`
(and its streaming pieces :func:`encode_meta_tag` and :func:`encode_done`) is what a server writes.

The transport-level result code sent in the X-ResponseCode header (2.2.3.3.3) is :class:`ResponseCode`;
:func:`describe` also names numbers outside the spec's table (gromox uses its own numbering on its
error path).
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import enum
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData
from .registry import DecodeContext, body_request_types, decode_kind, find_body_decoder

# ---------------------------------------------------------------------------------------------------
# X-ResponseCode (MS-OXCMAPIHTTP 2.2.3.3.3)
# ---------------------------------------------------------------------------------------------------


class ResponseCode(enum.IntEnum):
    """Values of the X-ResponseCode header, MS-OXCMAPIHTTP 2.2.3.3.3.

    Member names are the spec's names in upper case; :attr:`spec_name` gives the spec's exact words.
    Codes 14-18 are quoted from the MS-OXCMAPIHTTP v10 requirement spreadsheet (PROTOCOL.md §2.4).
    """

    SUCCESS = 0
    UNKNOWN_FAILURE = 1
    INVALID_VERB = 2
    INVALID_PATH = 3
    INVALID_HEADER = 4
    INVALID_REQUEST_TYPE = 5
    INVALID_CONTEXT_COOKIE = 6
    MISSING_HEADER = 7
    ANONYMOUS_NOT_ALLOWED = 8
    TOO_LARGE = 9
    CONTEXT_NOT_FOUND = 10
    NO_PRIVILEGE = 11
    INVALID_REQUEST_BODY = 12
    MISSING_COOKIE = 13
    RESERVED = 14
    INVALID_SEQUENCE = 15
    ENDPOINT_DISABLED = 16
    INVALID_RESPONSE = 17
    ENDPOINT_SHUTTING_DOWN = 18

    @property
    def spec_name(self) -> str:
        """The name as the spec's table prints it (``Context Not Found``)."""
        return _SPEC_NAMES[self]


_SPEC_NAMES: dict[ResponseCode, str] = {
    ResponseCode.SUCCESS: "Success",
    ResponseCode.UNKNOWN_FAILURE: "Unknown Failure",
    ResponseCode.INVALID_VERB: "Invalid Verb",
    ResponseCode.INVALID_PATH: "Invalid Path",
    ResponseCode.INVALID_HEADER: "Invalid Header",
    ResponseCode.INVALID_REQUEST_TYPE: "Invalid Request Type",
    ResponseCode.INVALID_CONTEXT_COOKIE: "Invalid Context Cookie",
    ResponseCode.MISSING_HEADER: "Missing Header",
    ResponseCode.ANONYMOUS_NOT_ALLOWED: "Anonymous Not Allowed",
    ResponseCode.TOO_LARGE: "Too Large",
    ResponseCode.CONTEXT_NOT_FOUND: "Context Not Found",
    ResponseCode.NO_PRIVILEGE: "No Privilege",
    ResponseCode.INVALID_REQUEST_BODY: "Invalid Request Body",
    ResponseCode.MISSING_COOKIE: "Missing Cookie",
    ResponseCode.RESERVED: "Reserved",
    ResponseCode.INVALID_SEQUENCE: "Invalid Sequence",
    ResponseCode.ENDPOINT_DISABLED: "Endpoint Disabled",
    ResponseCode.INVALID_RESPONSE: "Invalid Response",
    ResponseCode.ENDPOINT_SHUTTING_DOWN: "Endpoint Shutting Down",
}

_MEANINGS: dict[ResponseCode, str] = {
    ResponseCode.SUCCESS: "the request was accepted; the body is laid out by X-RequestType",
    ResponseCode.INVALID_REQUEST_TYPE: "the X-RequestType header is not a known request type",
    ResponseCode.INVALID_CONTEXT_COOKIE: "the Session Context cookie is malformed",
    ResponseCode.MISSING_HEADER: "a required header (X-RequestId, X-ClientInfo, ...) is missing",
    ResponseCode.ANONYMOUS_NOT_ALLOWED: "the request was not authenticated",
    ResponseCode.TOO_LARGE: "the request body is too large",
    ResponseCode.INVALID_REQUEST_BODY: "the request body could not be parsed",
    ResponseCode.MISSING_COOKIE: "the Session Context cookie is missing",
    ResponseCode.CONTEXT_NOT_FOUND: (
        "the Session Context is unknown or expired, or was created under another identity; reconnect"
    ),
    ResponseCode.NO_PRIVILEGE: "no rights on this Session Context",
    ResponseCode.RESERVED: "reserved; the client MUST ignore it",
    ResponseCode.INVALID_SEQUENCE: "more than one request at a time in one Session Context",
}


def describe(code: int) -> str:
    """One line naming an X-ResponseCode, also for numbers the spec does not define.

    >>> describe(10)
    '10 Context Not Found: the Session Context is unknown or expired, ...'
    """
    try:
        known = ResponseCode(code)
    except ValueError:
        return (
            f"{code}: not an X-ResponseCode of MS-OXCMAPIHTTP 2.2.3.3.3 (which defines 0-18); "
            "the server uses its own numbering"
        )
    meaning = _MEANINGS.get(known)
    text = f"{int(known)} {known.spec_name}"
    if meaning:
        text += f": {meaning}"
    elif known != ResponseCode.SUCCESS:
        text += ": the body is diagnostic text from the server"
    return text


# ---------------------------------------------------------------------------------------------------
# Events of the incremental parser
# ---------------------------------------------------------------------------------------------------

META_TAGS = ("PROCESSING", "PENDING", "DONE")
"""The three meta-tags of MS-OXCMAPIHTTP 2.2.7, in the order a server sends them."""

MAX_LINE = 8192
"""Longest meta-tag or additional-header line accepted (bytes, without its CRLF)."""

META_LINE_LIMIT = 64
"""Longest line accepted where a meta-tag is expected (room for trailing blanks); longer is unknown."""

MAX_HEADERS = 100
"""Most additional headers accepted after DONE."""


class NeedData(enum.Enum):
    """Type of the :data:`NEED_DATA` sentinel (an enum so that type checkers can narrow on it)."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Literal[NeedData.NEED_DATA] = NeedData.NEED_DATA
"""Returned by :meth:`EnvelopeParser.next_event` when it cannot go on without more bytes."""


@dataclass(frozen=True)
class MetaTag:
    """One of PROCESSING, PENDING, DONE (MS-OXCMAPIHTTP 2.2.7)."""

    name: str


@dataclass(frozen=True)
class AdditionalHeader:
    """A ``Name: value`` line after DONE (MS-OXCMAPIHTTP 3.2.5.2); ``name`` is as the server spelled it."""

    name: str
    value: str


@dataclass(frozen=True)
class BodyData:
    """A piece of the response body; the pieces follow the chunks fed in, not any structure."""

    data: bytes


@dataclass(frozen=True)
class EndOfMessage:
    """The stream ended after the blank line (end of the body)."""


Event = MetaTag | AdditionalHeader | BodyData | EndOfMessage

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class EnvelopeParser:
    """Incremental reader of the envelope of one MAPI/HTTP response (MS-OXCMAPIHTTP 3.1.5.6, 3.2.5.2).

    Sans-I/O: it never reads a socket. ``receive_data(b"")`` marks the end of the stream. The events
    and errors are the same however the input is split; error offsets count bytes from the start of
    the stream. After :class:`EndOfMessage` every further call returns :class:`EndOfMessage` again;
    after a :class:`DecodeError` every further call raises the same error.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._base = 0  # stream offset of self._buf[0]
        self._eof = False
        self._state: Literal["META", "HEADERS", "BODY", "ENDED"] = "META"
        self._error: DecodeError | None = None
        self._meta_tags: list[str] = []
        self._headers: list[tuple[str, str]] = []
        self._body_offset: int | None = None

    # -- inspection -------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``META`` (reading meta-tags), ``HEADERS`` (after DONE), ``BODY``, ``ENDED`` or ``ERROR``."""
        return "ERROR" if self._error is not None else self._state

    @property
    def meta_tags(self) -> tuple[str, ...]:
        """Meta-tags returned so far, in order."""
        return tuple(self._meta_tags)

    @property
    def pending_count(self) -> int:
        """How many PENDING keep-alives were returned so far."""
        return self._meta_tags.count("PENDING")

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Additional headers returned so far, in order."""
        return tuple(self._headers)

    @property
    def body_offset(self) -> int | None:
        """Stream offset of the first body byte, once the blank line has been read."""
        return self._body_offset

    # -- input ------------------------------------------------------------------------------------
    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes to the stream; ``b""`` means the stream has ended (no more data will come)."""
        if not data:
            self._eof = True
            return
        if self._eof:
            raise DecodeError(
                "bytes received after the end of the stream was signalled",
                offset=self._base + len(self._buf),
                expected="no more data",
            )
        self._buf += data

    # -- output -----------------------------------------------------------------------------------
    def next_event(self) -> Event | NeedData:
        """The next event, or :data:`NEED_DATA` if more bytes (or the end of the stream) are needed."""
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except DecodeError as exc:
            self._error = exc
            raise

    def events(self) -> Iterator[Event]:
        """Every event available now (stops at :data:`NEED_DATA` or after :class:`EndOfMessage`)."""
        while True:
            ev = self.next_event()
            if ev is NEED_DATA:
                return
            assert not isinstance(ev, NeedData)
            yield ev
            if isinstance(ev, EndOfMessage):
                return

    def _next(self) -> Event | NeedData:
        if self._state == "ENDED":
            return EndOfMessage()
        if self._state == "BODY":
            if self._buf:
                chunk = bytes(self._buf)
                self._base += len(self._buf)
                self._buf.clear()
                return BodyData(chunk)
            if self._eof:
                self._state = "ENDED"
                return EndOfMessage()
            return NEED_DATA
        line = self._next_line()
        if line is None:
            return NEED_DATA
        start, raw = line
        if self._state == "META":
            return self._meta(start, raw)
        return self._header(start, raw)

    def _next_line(self) -> tuple[int, bytes] | None:
        """Take one line off the buffer: (stream offset of the line, bytes without CRLF or LF)."""
        limit = META_LINE_LIMIT if self._state == "META" else MAX_LINE
        nl = self._buf.find(b"\n")
        start = self._base
        if nl < 0:
            # A CR at the end may be the first half of a CRLF split across feeds: allow one more byte.
            if len(self._buf) > limit + 1:
                raise self._too_long(start, bytes(self._buf))
            if not self._eof:
                return None
            if len(self._buf.rstrip(b"\r")) > limit:
                raise self._too_long(start, bytes(self._buf))
            if self._state == "META":
                partial = bytes(self._buf).rstrip(b"\r").rstrip(b" \t").upper()
                if not any(tag.encode().startswith(partial) for tag in META_TAGS):
                    raise self._unknown_tag(start, bytes(self._buf).rstrip(b"\r"))
                raise ShortBuffer(
                    "the response stream ended before the DONE meta-tag line was complete",
                    offset=self._base + len(self._buf),
                    expected="PROCESSING, PENDING or DONE followed by CRLF (MS-OXCMAPIHTTP 2.2.7)",
                )
            raise ShortBuffer(
                "the response stream ended before the empty line that closes the additional headers",
                offset=self._base + len(self._buf),
                expected="an additional header or an empty line (MS-OXCMAPIHTTP 3.2.5.2)",
            )
        raw = bytes(self._buf[:nl])
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > limit:
            raise self._too_long(start, raw)
        del self._buf[: nl + 1]
        self._base += nl + 1
        return start, raw

    def _too_long(self, start: int, raw: bytes) -> DecodeError:
        if self._state == "META":
            # Longer than any meta-tag could be: say so at once instead of buffering up to MAX_LINE.
            return self._unknown_tag(start, raw[:META_LINE_LIMIT] + b"...")
        return DecodeError(
            f"an additional header line is longer than {MAX_LINE} bytes",
            offset=start,
            expected=f"a line of at most {MAX_LINE} bytes ending in CRLF",
        )

    def _unknown_tag(self, start: int, raw: bytes) -> DecodeError:
        text = raw.decode("latin-1")
        shown = text if len(text) <= 40 else text[:40] + "..."
        hint = ""
        if not self._meta_tags:
            hint = " (a body without meta-tags is diagnostic text when X-ResponseCode is not 0)"
        return DecodeError(
            f"unknown meta-tag {shown!r}{hint}",
            offset=start,
            expected="PROCESSING, PENDING or DONE (MS-OXCMAPIHTTP 2.2.7)",
            field="meta-tag",
        )

    def _meta(self, start: int, raw: bytes) -> Event:
        stripped = raw.rstrip(b" \t")
        name = stripped.decode("latin-1").upper()
        if name not in META_TAGS:
            raise self._unknown_tag(start, stripped)
        self._meta_tags.append(name)
        if name == "DONE":
            self._state = "HEADERS"
        return MetaTag(name)

    def _header(self, start: int, raw: bytes) -> Event | NeedData:
        if not raw:
            self._state = "BODY"
            self._body_offset = self._base
            return self._next()
        text = raw.decode("latin-1")
        name, sep, value = text.partition(":")
        name = name.strip(" \t")
        if not sep or not _TOKEN.fullmatch(name):
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise DecodeError(
                f"additional header line {shown!r} is not 'Name: value'",
                offset=start,
                expected="an HTTP header line or an empty line (MS-OXCMAPIHTTP 3.2.5.2)",
                field="additional header",
            )
        if len(self._headers) >= MAX_HEADERS:
            raise DecodeError(
                f"more than {MAX_HEADERS} additional headers",
                offset=start,
                expected="the empty line that ends the additional headers",
            )
        header = AdditionalHeader(name, value.strip(" \t"))
        self._headers.append((header.name, header.value))
        return header


# ---------------------------------------------------------------------------------------------------
# Whole envelopes
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A complete response stream: meta-tags, additional headers (in order), body."""

    meta_tags: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_offset: int = 0
    """Offset of the body in the stream the envelope was parsed from."""

    def header(self, name: str) -> str | None:
        """Value of an additional header, names compared without case; the last one wins if repeated."""
        wanted = name.lower()
        found: str | None = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found

    @property
    def pending_count(self) -> int:
        return self.meta_tags.count("PENDING")

    @property
    def response_code(self) -> int | None:
        """A late X-ResponseCode among the additional headers (3.2.5.2), if the server sent one."""
        value = self.header("X-ResponseCode")
        return None if value is None else parse_response_code(value)

    @property
    def elapsed_time(self) -> int | None:
        """X-ElapsedTime as sent (milliseconds per the spec; gromox sends seconds)."""
        value = self.header("X-ElapsedTime")
        return None if value is None else parse_elapsed_time(value)

    @property
    def start_time(self) -> _dt.datetime | None:
        """X-StartTime (2.2.3.3.10) as an aware datetime."""
        value = self.header("X-StartTime")
        return None if value is None else parse_start_time(value)

    def __json__(self) -> dict[str, Any]:
        headers: dict[str, Any] = {}
        for key, value in self.headers:
            if key in headers:
                prev = headers[key]
                headers[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                headers[key] = value
        out: dict[str, Any] = {
            "MetaTags": list(self.meta_tags),
            "PendingCount": self.pending_count,
            "AdditionalHeaders": headers,
        }
        code = self.header("X-ResponseCode")
        if code is not None:
            try:
                out["XResponseCode"] = describe(parse_response_code(code))
            except DecodeError as exc:
                out["XResponseCode"] = f"unreadable: {exc}"
        out["BodySize"] = len(self.body)
        out["Body"] = self.body
        return out


def parse_envelope(data: bytes | bytearray | memoryview) -> Envelope:
    """Parse a complete response stream (chunked transfer coding already removed)."""
    parser = EnvelopeParser()
    parser.receive_data(data)
    parser.receive_data(b"")
    body = bytearray()
    for ev in parser.events():
        if isinstance(ev, BodyData):
            body += ev.data
    return Envelope(parser.meta_tags, parser.headers, bytes(body), parser.body_offset or 0)


# ---------------------------------------------------------------------------------------------------
# Well-known additional headers
# ---------------------------------------------------------------------------------------------------


def _parse_uint(value: str, header: str) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise DecodeError(
            f"{header} value {value!r} is not a decimal number", expected="decimal digits", field=header
        )
    return int(text)


def parse_response_code(value: str) -> int:
    """The number in an X-ResponseCode header (2.2.3.3.3); may be outside :class:`ResponseCode`."""
    return _parse_uint(value, "X-ResponseCode")


def parse_elapsed_time(value: str) -> int:
    """The number in an X-ElapsedTime header (2.2.3.3.9), as sent.

    The spec's unit is milliseconds; gromox sends **seconds** (PROTOCOL.md §10). Use
    :func:`guess_elapsed_time_unit` with the round trip the client measured to tell them apart.
    """
    return _parse_uint(value, "X-ElapsedTime")


def guess_elapsed_time_unit(raw: int, measured_ms: float) -> Literal["ms", "s", "unknown"]:
    """Guess the unit of an X-ElapsedTime value from the round-trip time the client measured.

    The server's processing time cannot exceed the whole round trip. A value that, read as
    milliseconds, would be under 1 % of a round trip of at least a second, but that matches the
    round trip when read as seconds, was almost certainly sent in seconds.
    """
    if raw < 0 or measured_ms < 0:
        return "unknown"
    if raw > measured_ms + 1000:
        return "unknown"  # too long in either unit: clocks disagree
    if raw == 0:
        return "unknown"  # "0" is a fast answer in either unit
    if measured_ms >= 1000 and raw * 100 <= measured_ms and raw * 1000 <= measured_ms + 1000:
        return "s"
    return "ms"


def parse_start_time(value: str) -> _dt.datetime:
    """X-StartTime (2.2.3.3.10): an RFC 1123 date such as ``Mon, 01 Jan 2024 10:00:00 GMT``."""
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        raise DecodeError(
            f"X-StartTime value {value!r} is not an RFC 1123 date",
            expected="e.g. 'Mon, 01 Jan 2024 10:00:00 GMT'",
            field="X-StartTime",
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed


def format_http_date(when: _dt.datetime) -> str:
    """An RFC 1123 date in GMT, as X-StartTime carries it."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return email.utils.format_datetime(when.astimezone(_dt.UTC), usegmt=True)


# ---------------------------------------------------------------------------------------------------
# Writing (the server side)
# ---------------------------------------------------------------------------------------------------


def encode_meta_tag(name: str) -> bytes:
    """``PROCESSING\\r\\n`` or ``PENDING\\r\\n`` (what a server flushes while it works, 3.2.5.2)."""
    if name not in META_TAGS:
        raise EncodeError(f"{name!r} is not a meta-tag of MS-OXCMAPIHTTP 2.2.7")
    return name.encode("ascii") + b"\r\n"


def _header_line(name: str, value: str) -> bytes:
    if not _TOKEN.fullmatch(name):
        raise EncodeError(f"{name!r} is not a valid header name")
    if "\r" in value or "\n" in value:
        raise EncodeError(f"the value of header {name} contains a line break")
    try:
        line = f"{name}: {value}".encode("latin-1")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"header {name} cannot be sent as latin-1: {exc}") from None
    if len(line) > MAX_LINE:
        raise EncodeError(f"header {name} is longer than {MAX_LINE} bytes")
    return line + b"\r\n"


def encode_done(
    *,
    elapsed_time: int = 0,
    start_time: _dt.datetime | None = None,
    response_code: int | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """``DONE``, the additional headers and the empty line (the last part before the body, 3.2.5.2).

    Writes X-ElapsedTime (milliseconds, 2.2.3.3.9), X-StartTime (2.2.3.3.10; the current time if
    ``start_time`` is None), X-ResponseCode when given (a failure found after the first response was
    sent), then ``headers`` in order.
    """
    if elapsed_time < 0:
        raise EncodeError(f"X-ElapsedTime must not be negative ({elapsed_time})")
    when = start_time if start_time is not None else _dt.datetime.now(_dt.UTC)
    out = bytearray(encode_meta_tag("DONE"))
    out += _header_line("X-ElapsedTime", str(int(elapsed_time)))
    out += _header_line("X-StartTime", format_http_date(when))
    if response_code is not None:
        if response_code < 0:
            raise EncodeError(f"X-ResponseCode must not be negative ({response_code})")
        out += _header_line("X-ResponseCode", str(int(response_code)))
    for name, value in headers:
        out += _header_line(name, value)
    out += b"\r\n"
    return bytes(out)


def encode_envelope(
    body: bytes,
    *,
    pending: int = 0,
    elapsed_time: int = 0,
    start_time: _dt.datetime | None = None,
    response_code: int | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A whole response stream: PROCESSING, ``pending`` x PENDING, DONE, additional headers, body."""
    if pending < 0:
        raise EncodeError(f"pending must not be negative ({pending})")
    return (
        encode_meta_tag("PROCESSING")
        + encode_meta_tag("PENDING") * pending
        + encode_done(
            elapsed_time=elapsed_time, start_time=start_time, response_code=response_code, headers=headers
        )
        + bytes(body)
    )


# ---------------------------------------------------------------------------------------------------
# Captures: an optional HTTP head, chunked transfer coding (RFC 7230 4.1), then the envelope
# ---------------------------------------------------------------------------------------------------

MAX_HTTP_HEAD = 65536
"""Longest HTTP head (start line and header fields) accepted in a capture."""

_RESPONSE_LINE = re.compile(rb"HTTP/\d\.\d[ \t]")
_REQUEST_LINE = re.compile(rb"[A-Z]+ [^ \r\n]+ HTTP/\d\.\d\r?\n")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]*)?\r?\n")


@dataclass(frozen=True)
class HttpHead:
    """The start line and header fields of an HTTP message pasted in front of a body."""

    start_line: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """A header field's value, names compared without case; repeated fields are joined by ``, ``."""
        wanted = name.lower()
        values = [v for k, v in self.headers if k.lower() == wanted]
        return ", ".join(values) if values else None

    def __json__(self) -> dict[str, Any]:
        headers: dict[str, Any] = {}
        for key, value in self.headers:
            prev = headers.get(key)
            if prev is None:
                headers[key] = value
            else:
                headers[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        return {"StartLine": self.start_line, "Headers": headers}


def split_http_head(data: bytes) -> tuple[HttpHead, int]:
    """Parse the HTTP head at the start of ``data``; return it and the offset of the message body."""
    end = _HEAD_END.search(data, 0, MAX_HTTP_HEAD + 4)
    if end is None:
        if len(data) > MAX_HTTP_HEAD:
            raise DecodeError(
                f"the HTTP head is longer than {MAX_HTTP_HEAD} bytes",
                offset=0,
                expected="an empty line ending the HTTP header fields",
            )
        raise ShortBuffer(
            "the HTTP head is not closed by an empty line",
            offset=len(data),
            expected="CRLF CRLF after the HTTP header fields",
        )
    lines = data[: end.start()].split(b"\n")
    offset = len(lines[0]) + 1
    start_line = lines[0].rstrip(b"\r").decode("latin-1")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        text = raw.rstrip(b"\r").decode("latin-1")
        if text[:1] in (" ", "\t") and headers:  # obsolete line folding (RFC 7230 3.2.4)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {text.strip()}")
        else:
            name, sep, value = text.partition(":")
            if not sep or not _TOKEN.fullmatch(name):
                raise DecodeError(
                    f"HTTP header line {text[:40]!r} is not 'Name: value'",
                    offset=offset,
                    expected="an HTTP header field",
                    field="HTTP header",
                )
            headers.append((name, value.strip(" \t")))
        offset += len(raw) + 1
    return HttpHead(start_line, tuple(headers)), end.end()


def looks_chunked(data: bytes) -> bool:
    """True if ``data`` starts with a chunk-size line (hex digits and CRLF) rather than a meta-tag."""
    return _CHUNK_SIZE_LINE.match(data) is not None


@dataclass(frozen=True)
class Dechunked:
    """The payload of a chunked message body and where each piece came from."""

    data: bytes
    segments: tuple[tuple[int, int, int], ...]
    """(offset in ``data``, offset in the chunked input, length) of each chunk."""
    terminated: bool
    """Whether the last-chunk (size 0) was present; a capture cut short has none."""

    def map_offset(self, offset: int) -> int:
        """Offset in the chunked input of byte ``offset`` of :attr:`data` (the end maps to the end)."""
        for out_start, in_start, length in self.segments:
            if out_start <= offset < out_start + length:
                return in_start + (offset - out_start)
        if self.segments:
            out_start, in_start, length = self.segments[-1]
            return in_start + length + max(0, offset - out_start - length)
        return offset

    def __json__(self) -> dict[str, Any]:
        return {"Chunks": len(self.segments), "Size": len(self.data), "LastChunkSeen": self.terminated}


def remove_chunked(data: bytes) -> Dechunked:
    """Undo HTTP/1.1 chunked transfer coding (RFC 7230 4.1); trailer fields are skipped.

    A capture that stops right after a complete chunk (the server was still sending PENDING) is
    accepted with ``terminated`` False; one that stops inside a chunk is a :class:`ShortBuffer`.
    """
    out = bytearray()
    segments: list[tuple[int, int, int]] = []
    pos = 0
    while pos < len(data):
        m = _CHUNK_SIZE_LINE.match(data, pos)
        if m is None:
            raise DecodeError(
                "not a chunk-size line",
                offset=pos,
                expected="hexadecimal chunk size followed by CRLF (RFC 7230 4.1)",
                field="chunk-size",
            )
        size = int(m.group(1), 16)
        start = m.end()
        if size == 0:
            # Trailer fields, then the final empty line; a capture may stop before them.
            rest = data[start:]
            while rest:
                nl = rest.find(b"\n")
                if nl < 0 or not rest[:nl].rstrip(b"\r"):
                    break
                rest = rest[nl + 1 :]
            return Dechunked(bytes(out), tuple(segments), True)
        if start + size > len(data):
            raise ShortBuffer(
                f"a {size}-byte chunk is cut off after {len(data) - start} byte(s)",
                offset=start,
                expected=f"{size} bytes of chunk data",
                field="chunk-data",
            )
        segments.append((len(out), start, size))
        out += data[start : start + size]
        pos = start + size
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        elif pos < len(data):
            raise DecodeError(
                "chunk data is not followed by CRLF",
                offset=pos,
                expected="CRLF after the chunk data (RFC 7230 4.1)",
                field="chunk-data",
            )
    return Dechunked(bytes(out), tuple(segments), False)


def _shift(exc: ProtocolError, mapper: Callable[[int], int]) -> None:
    if exc.offset is not None:
        exc.at(mapper(exc.offset) - exc.offset)


def _as_text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _decode_body(
    body: bytes,
    request_type: str | None,
    direction: str,
    ctx: DecodeContext,
    mapper: Callable[[int], int],
) -> tuple[Any, str | None]:
    """The body decoded by its X-RequestType, or hex with a note saying why it was not decoded."""
    if request_type is None:
        return body, f"give --request-type (Connect, Execute, Bind, ...) to decode the {direction} body"
    decoder = find_body_decoder(request_type, direction)
    if decoder is None:
        known = ", ".join(body_request_types(direction))
        return body, f"no {direction} body decoder for X-RequestType {request_type!r} (known: {known})"
    try:
        return decoder(body, ctx), None
    except ProtocolError as exc:
        _shift(exc, mapper)
        raise


@decode_kind(
    "mapihttp-response",
    "a MAPI/HTTP response: [HTTP head] [chunked coding] meta-tags, headers, body (by --request-type)",
)
def decode_mapihttp_response(data: bytes, ctx: DecodeContext) -> dict[str, Any]:
    """Decode a captured response stream, MS-OXCMAPIHTTP 2.2.7 and 3.2.5.2, and its body by X-RequestType.

    Accepts, in front of the envelope, the HTTP status line and headers (then Transfer-Encoding and
    X-RequestType are taken from them) and chunked transfer coding (detected by its hex size lines).
    Error offsets count bytes of the input as given.
    """
    result: dict[str, Any] = {}
    head: HttpHead | None = None
    pos = 0
    if _RESPONSE_LINE.match(data):
        head, pos = split_http_head(data)
        ctx.partial["HTTP"] = result["HTTP"] = head
    request_type = ctx.request_type or (head.header("X-RequestType") if head else None)
    payload = data[pos:]
    transfer_coding = (head.header("Transfer-Encoding") or "") if head else ""
    mapper: Callable[[int], int] = lambda off: pos + off  # noqa: E731
    stream = payload
    if "chunked" in transfer_coding.lower() or looks_chunked(payload):
        try:
            dechunked = remove_chunked(payload)
        except ProtocolError as exc:
            _shift(exc, mapper)
            raise
        ctx.partial["Chunked"] = result["Chunked"] = dechunked
        mapper = lambda off: pos + dechunked.map_offset(off)  # noqa: E731
        stream = dechunked.data
    if head is not None:
        code_text = head.header("X-ResponseCode")
        code = parse_response_code(code_text) if code_text is not None else 0
        if code != 0:
            result["XResponseCode"] = describe(code)
            result["Body"] = _as_text(stream)
            return result
    try:
        envelope = parse_envelope(stream)
    except ProtocolError as exc:
        _shift(exc, mapper)
        raise
    summary = envelope.__json__()
    del summary["Body"]
    ctx.partial["Envelope"] = result["Envelope"] = summary
    late = envelope.header("X-ResponseCode")
    if late is not None and parse_response_code(late) != 0:
        result["Body"] = _as_text(envelope.body)
        return result
    body, note = _decode_body(
        envelope.body, request_type, "response", ctx, lambda off: mapper(envelope.body_offset + off)
    )
    if note:
        result["Note"] = note
    result["Body"] = body
    return result


@decode_kind(
    "mapihttp-request",
    "a MAPI/HTTP request body (or a whole POST with headers), decoded by --request-type",
)
def decode_mapihttp_request(data: bytes, ctx: DecodeContext) -> dict[str, Any]:
    """Decode a request body by its X-RequestType (MS-OXCMAPIHTTP 2.2.4, 2.2.5, 2.2.6).

    A pasted ``POST`` line and headers in front of the body are accepted; X-RequestType is then taken
    from them unless ``--request-type`` is given, and Content-Length is checked.
    """
    result: dict[str, Any] = {}
    head: HttpHead | None = None
    pos = 0
    if _REQUEST_LINE.match(data):
        head, pos = split_http_head(data)
        ctx.partial["HTTP"] = result["HTTP"] = head
    request_type = ctx.request_type or (head.header("X-RequestType") if head else None)
    body = data[pos:]
    length_text = head.header("Content-Length") if head else None
    if length_text is not None:
        length = _parse_uint(length_text, "Content-Length")
        if len(body) < length:
            raise ShortBuffer(
                f"the body has {len(body)} of the {length} bytes Content-Length announces",
                offset=len(data),
                expected=f"{length} body bytes",
                field="Content-Length",
            )
        if len(body) > length:
            raise TrailingData(
                f"{len(body) - length} byte(s) after the {length} bytes Content-Length announces",
                offset=pos + length,
                expected="the end of the request",
                field="Content-Length",
            )
    decoded, note = _decode_body(body, request_type, "request", ctx, lambda off: pos + off)
    if note:
        result["Note"] = note
    result["Body"] = decoded
    return result


__all__ = [
    "MAX_HEADERS",
    "MAX_HTTP_HEAD",
    "MAX_LINE",
    "META_TAGS",
    "NEED_DATA",
    "AdditionalHeader",
    "BodyData",
    "Dechunked",
    "EndOfMessage",
    "Envelope",
    "EnvelopeParser",
    "Event",
    "HttpHead",
    "MetaTag",
    "NeedData",
    "ResponseCode",
    "decode_mapihttp_request",
    "decode_mapihttp_response",
    "describe",
    "encode_done",
    "encode_envelope",
    "encode_meta_tag",
    "format_http_date",
    "guess_elapsed_time_unit",
    "looks_chunked",
    "parse_elapsed_time",
    "parse_envelope",
    "parse_response_code",
    "parse_start_time",
    "remove_chunked",
    "split_http_head",
]
