"""The incremental, sans-I/O parser of the MAPI/HTTP response envelope
(MS-OXCMAPIHTTP 2.2.7, 3.1.5.6, 3.2.5.2) and its one-shot form; :mod:`mapiprobe.protocol.envelope` shows
the layout.
"""

from __future__ import annotations

import datetime as _dt
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .envelope_headers import parse_elapsed_time, parse_response_code, parse_start_time
from .errors import DecodeError, ShortBuffer
from .responsecode import describe

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
    data = bytes(data)
    whole = _parse_well_formed(data)
    if whole is not None:
        return whole
    # Anything unusual goes through the incremental parser, which names the fault and its offset.
    parser = EnvelopeParser()
    parser.receive_data(data)
    parser.receive_data(b"")
    body = bytearray()
    for ev in parser.events():
        if isinstance(ev, BodyData):
            body += ev.data
    return Envelope(parser.meta_tags, parser.headers, bytes(body), parser.body_offset or 0)


def _parse_well_formed(data: bytes) -> Envelope | None:
    """The envelope of a complete, well-formed stream read in one pass (a capture decodes thousands); the
    same result as :class:`EnvelopeParser` gives, or ``None`` at the first thing it would question."""
    pos = 0
    tags: list[str] = []
    while True:  # meta-tags up to DONE
        line, pos = _whole_line(data, pos, META_LINE_LIMIT)
        if line is None:
            return None
        name = line.rstrip(b" \t").decode("latin-1").upper()
        if name not in META_TAGS:
            return None
        tags.append(name)
        if name == "DONE":
            break
    headers: list[tuple[str, str]] = []
    while True:  # additional headers up to the empty line
        line, pos = _whole_line(data, pos, MAX_LINE)
        if line is None:
            return None
        if not line:
            return Envelope(tuple(tags), tuple(headers), data[pos:], pos)
        name, sep, value = line.decode("latin-1").partition(":")
        name = name.strip(" \t")
        if not sep or len(headers) >= MAX_HEADERS or not _TOKEN.fullmatch(name):
            return None
        headers.append((name, value.strip(" \t")))


def _whole_line(data: bytes, pos: int, limit: int) -> tuple[bytes | None, int]:
    """(the line at ``pos`` without its LF or CRLF, the index after it); None for the line when there is no LF
    or the line is longer than ``limit``."""
    nl = data.find(b"\n", pos)
    if nl < 0 or nl - pos > limit + 1:
        return None, pos
    line = data[pos:nl]
    if line.endswith(b"\r"):
        line = line[:-1]
    return (line if len(line) <= limit else None), nl + 1
