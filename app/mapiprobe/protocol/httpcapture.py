"""Captured MAPI/HTTP bytes: an optional HTTP head, chunked transfer coding (RFC 7230 4.1), then the envelope
and the body inside it; the ``mapihttp-response`` and ``mapihttp-request`` decode kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .envelope_headers import _parse_uint, parse_response_code
from .envelope_parser import _TOKEN, parse_envelope
from .errors import DecodeError, ProtocolError, ShortBuffer, TrailingData
from .registry import DecodeContext, body_request_types, decode_kind, find_body_decoder
from .responsecode import describe

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
