"""Captures of HTTP traffic read back as exchanges: Fiddler session archives (SAZ) and HAR files.

A capture is evidence from someone else's machine, so a reader never raises on what it finds in it: a
damaged zip member, a response cut off in a chunk, a request body a tool stored as lossy text all become
plain-language ``notes`` on the exchange (or on the :class:`Capture` itself), and reading goes on.

Formats:

* **SAZ** (Fiddler): a zip holding ``raw/NN_c.txt`` (the request as sent: request line, headers, body),
  ``raw/NN_s.txt`` (the response as received, chunked or compressed as it came) and ``raw/NN_m.xml``
  (session timers and flags). Members are read one at a time, in session order: a stored or deflated one
  in one piece from its local header, checked against the directory's size and CRC-32 (inflated by ISA-L
  when python-isal is installed, else zlib), anything unusual through ``ZipFile.open`` (same bytes, same
  notes on damage). The XML is parsed with entity resolution, DTDs and network access off. A zip whose
  central directory is missing (a file cut off while Fiddler wrote it) is read member by member from its
  local headers, up to the cut.
* **HAR 1.2**: JSON, read entry by entry through ``ijson`` so a large file never sits in memory whole.
  Response bodies may be base64 (``content.encoding``); HAR 1.2 has no way to store a binary request body,
  so ``postData.encoding: "base64"`` (the HAR 1.3 draft; written by mapiprobe and some tools) is accepted,
  and a binary request body stored as text is flagged as lossy (its bytes may have been altered).

Secrets never leave a reader: URLs, headers and bodies pass through :mod:`.redact` as they are read,
exactly as the live trace does (Authorization, NTLM/Negotiate blobs, Bearer tokens, cookie values, form
or JSON passwords). :mod:`.capture_decode` decodes the exchanges down to ROPs and NSPI calls.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import functools
import importlib
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from .httpmsg import dechunk, decode_content
from .redact import header_value, redact_body, redact_header, redact_headers, redact_url

MAX_HEAD = 256 * 1024
"""Most bytes of an HTTP head (request line and headers) accepted in a SAZ member."""
MAX_MEMBER = 256 * 1024 * 1024
"""Largest SAZ member read."""
MAX_BODY = 64 * 1024 * 1024
"""Largest body kept after decoding (a gzip bomb stops here)."""

Headers = tuple[tuple[str, str], ...]

_BINARY_TYPES = ("application/mapi-http", "application/octet-stream", "application/rpc")


@dataclass
class CapturedExchange:
    """One request and its response as the capture holds them (redacted; bodies decoded to what a program
    reads: chunked framing and Content-Encoding undone)."""

    index: int  # the session number (SAZ) or the entry's position from 1 (HAR)
    method: str
    url: str
    http_version: str | None = None
    request_headers: Headers = ()
    request_body: bytes | None = None
    status: int | None = None  # None: no response in the capture (aborted, or not stored)
    reason: str | None = None
    response_version: str | None = None
    response_headers: Headers = ()
    response_body: bytes | None = None
    request_body_truncated: bool = False
    response_body_truncated: bool = False
    request_body_lossy: bool = False  # stored as text by a tool that could not store bytes
    response_body_lossy: bool = False
    response_wire_bytes: int | None = None  # body bytes as on the wire, when the capture says
    started_at: float | None = None  # epoch seconds
    timings: dict[str, float] = field(default_factory=dict)  # HAR names, milliseconds
    peer_address: str | None = None
    notes: list[str] = field(default_factory=list)
    source: str = ""  # where in the capture: "raw/03_c.txt", "entries[2]"

    _index: tuple[Headers, Headers, dict[str, str], dict[str, str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def header(self, name: str, *, response: bool = True) -> str | None:
        """First value of a (redacted) header, case-insensitive."""
        index = self._index
        if index is None or index[0] is not self.request_headers or index[1] is not self.response_headers:
            index = self._index = (
                self.request_headers,
                self.response_headers,
                _first_values(self.request_headers),
                _first_values(self.response_headers),
            )
        return (index[3] if response else index[2]).get(name.lower())

    @property
    def request_type(self) -> str | None:
        value = self.header("X-RequestType", response=False) or self.header("X-RequestType")
        return value.strip() if value else None


def _first_values(headers: Headers) -> dict[str, str]:
    first: dict[str, str] = {}
    for name, value in reversed(headers):
        first[name.lower()] = value
    return first


class Capture:
    """A capture being read: iterate it for :class:`CapturedExchange` objects, one at a time.

    ``notes`` collects what is wrong with the file as a whole (it grows while the capture is read).
    """

    def __init__(self, kind: str, exchanges: Callable[[Capture], Iterator[CapturedExchange]]) -> None:
        self.kind = kind  # "saz" or "har"
        self.notes: list[str] = []
        self._exchanges = exchanges

    def __iter__(self) -> Iterator[CapturedExchange]:
        return self._exchanges(self)


def open_capture(stream: IO[bytes], name: str = "") -> Capture:
    """A SAZ or a HAR, told apart by the first bytes (a zip starts ``PK``) or else by ``name``."""
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(b"PK") or (not head and name.lower().endswith(".saz")):
        return read_saz(stream)
    return read_har(stream)


# -- HTTP messages as stored in a SAZ -----------------------------------------------------------------

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie"}
)  # the headers redact_header() changes; every other one it returns as it is


@dataclass(slots=True)
class _Message:
    start: list[str]
    headers: Headers
    body: bytes
    truncated: bool
    notes: list[str]
    wire_bytes: int
    first: dict[str, str]  # lower-case name -> its first value
    names: tuple[str, ...]  # the lower-case names, in order

    def header(self, name: str) -> str | None:
        return self.first.get(name)


def _head_end(data: bytes) -> tuple[int, int] | None:
    """Where the head ends: the first ``\r?\n\r?\n`` within MAX_HEAD (start and end of the blank line)."""
    i = data.find(b"\r\n\r\n", 0, MAX_HEAD)
    # The usual CRLF head: the first CRLFCRLF is the match unless a bare-LF blank line comes before it.
    if i >= 0 and data.find(b"\n\n", 0, i) < 0 and data.find(b"\n\r\n", 0, i + 2) < 0:
        return i, i + 4
    m = _HEAD_END.search(data, 0, MAX_HEAD)
    return None if m is None else (m.start(), m.end())


_Field = tuple[tuple[str, str], str, str]
"""A header line read: (name, value) as kept, the lower-case name, the value."""
_SEEN_LINES = 4096
"""Most header lines a capture reader remembers (most lines recur: Server, Content-Type, X-ClientInfo...)."""


def _split_head(
    text: str, what: str, notes: list[str], seen: dict[str, _Field]
) -> tuple[list[str], Headers, tuple[str, ...], tuple[str, ...]]:
    """Start line (split in up to 3 words) and header fields of a head, as ``str.splitlines()`` cuts it:
    obsolete line folding joined, lines without a colon skipped with a note. Returns the start line, the
    (name, value) fields, their lower-case names and their values. ``seen`` remembers header lines."""
    lines = text.splitlines()
    if len(lines) > 1:  # the usual head: every line "name: value", no folding
        rest = lines[1:]
        known: list[_Field | None] = list(map(seen.get, rest))
        fields = _new_fields(rest, known, seen) if None in known else known
        if fields is not None:
            headers, names, values = zip(*fields, strict=True)
            return lines[0].split(None, 2), headers, names, values
    return _split_lines(lines, what, notes)


def _split_lines(
    lines: list[str], what: str, notes: list[str]
) -> tuple[list[str], Headers, tuple[str, ...], tuple[str, ...]]:
    """:func:`_split_head` line by line: any head (folding, lines without a colon...)."""
    found: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and found:  # obsolete line folding
            found[-1] = (found[-1][0], found[-1][1] + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            found.append((name.strip(), value.strip()))
        elif line.strip():
            notes.append(f"a {what} header line without a colon was skipped: {line[:40]!r}")
    start = lines[0].split(None, 2) if lines else []
    return start, tuple(found), tuple(name.lower() for name, _ in found), tuple(value for _, value in found)


def _new_fields(
    lines: list[str], known: list[_Field | None], seen: dict[str, _Field]
) -> list[_Field | None] | None:
    """``known`` completed with the lines not seen before, or None when one of them is not a plain
    ``name: value`` line (no colon, or a folded continuation): the caller then reads the head line by line."""
    for i, old in enumerate(known):
        if old is None:
            line = lines[i]
            name, colon, value = line.partition(":")
            if not colon or line[:1] in (" ", "\t"):
                return None
            name = name.strip()
            value = value.strip()
            if len(seen) >= _SEEN_LINES:
                seen.clear()
            known[i] = seen[line] = ((name, value), name.lower(), value)
    return known


def _parse_message(
    data: bytes, what: str, seen: dict[str, _Field], *, request_method: str | None = None
) -> _Message:
    """Split a raw HTTP/1.x message into start line, headers and body; undo chunking and compression."""
    end = _head_end(data)
    notes: list[str] = []
    if end is None:
        head, body = data[:MAX_HEAD], b""
        notes.append(f"the {what} ends inside its headers (no blank line after them): cut off")
    else:
        head, body = data[: end[0]], data[end[1] :]
    start, headers, names, values = _split_head(head.decode("latin-1"), what, notes, seen)
    first = dict(zip(names[::-1], values[::-1], strict=True))  # the first value of each name
    msg = _Message(start, headers, b"", False, notes, len(body), first, names)
    if request_method is not None and _bodyless_response(request_method, _status_of(start)[0]):
        return msg
    transfer = (first.get("transfer-encoding") or "").lower()
    length = first.get("content-length")
    if "chunked" in transfer:
        body, note = dechunk(body)
        if note:
            notes.append(f"{what}: {note}")
            msg.truncated = "cut off" in note or "without its last" in note
    elif length is not None and length.strip().isdigit():
        want = int(length)
        if len(body) < want:
            notes.append(
                f"the {what} body has {len(body)} of the {want} bytes Content-Length announces: cut off"
            )
            msg.truncated = True
        elif len(body) > want:
            notes.append(
                f"{len(body) - want} byte(s) after the {what} body Content-Length announces: ignored"
            )
            body = body[:want]
    coding = first.get("content-encoding")
    if coding and body:
        result = decode_content(coding, body, MAX_BODY)
        body = result.data
        msg.truncated = msg.truncated or result.truncated
        if result.note:
            notes.append(f"{what}: {result.note}")
    msg.body = body
    return msg


def _redacted(msg: _Message) -> tuple[Headers, dict[str, str]]:
    """``redact_headers(msg.headers)``, and the first value of each (lower-case) name in it."""
    if _SECRET_HEADERS.isdisjoint(msg.first):
        return msg.headers, msg.first  # nothing to redact: the same fields
    headers = list(msg.headers)
    first = dict(msg.first)
    names = msg.names
    for low in _SECRET_HEADERS.intersection(first):
        i = -1
        for n in range(names.count(low)):
            i = names.index(low, i + 1)
            name, value = headers[i]
            headers[i] = (name, redact_header(name, value))
            if n == 0:  # the first value of that name is now the redacted one
                first[low] = headers[i][1]
    return tuple(headers), first


def _bodyless_response(method: str, status: int | None) -> bool:
    return method == "HEAD" or status is None or 100 <= status < 200 or status in (204, 304)


def _status_of(start: list[str]) -> tuple[int | None, str | None, str | None]:
    if len(start) >= 2 and start[0].upper().startswith("HTTP/") and start[1].isdigit():
        return int(start[1]), (start[2] if len(start) > 2 else ""), start[0]
    return None, None, None


def _fill_request(
    ex: CapturedExchange, raw: bytes, source: str, seen: dict[str, _Field], urls: dict[str, str]
) -> dict[str, str]:
    """Fill the request side of ``ex``; returns the first value of each request header (redacted).
    ``urls`` remembers the URLs of this capture redacted (most requests go to a few)."""
    msg = _parse_message(raw, "request", seen)
    if len(msg.start) >= 2:
        ex.method = msg.start[0]
        target = msg.start[1]
        ex.http_version = msg.start[2] if len(msg.start) > 2 else None
        if target.startswith("/"):  # origin form: rebuild the URL from Host
            host = msg.header("host") or "unknown-host"
            ex.url = f"https://{host}{target}"
        else:
            ex.url = target
    else:
        ex.notes.append(f"{source}: no request line")
    url = urls.get(ex.url)
    if url is None:
        if len(urls) >= _SEEN_URLS:
            urls.clear()
        url = urls[ex.url] = redact_url(ex.url)
    ex.url = url
    ex.request_headers, first = _redacted(msg)
    ex.request_body = redact_body(msg.header("content-type"), msg.body)
    ex.request_body_truncated = msg.truncated
    ex.notes += msg.notes
    return first


def _fill_response(ex: CapturedExchange, raw: bytes, seen: dict[str, _Field]) -> dict[str, str] | None:
    """Fill the response side of ``ex``; returns the first value of each response header (redacted), or
    None when the response is empty."""
    if not raw[:64].strip() and not raw.strip():
        ex.notes.append("the response is empty (the server closed the connection without answering?)")
        return None
    msg = _parse_message(raw, "response", seen, request_method=ex.method)
    status, reason, version = _status_of(msg.start)
    if status is None:
        ex.notes.append("the response has no HTTP status line")
    ex.status, ex.reason, ex.response_version = status, reason, version
    ex.response_headers, first = _redacted(msg)
    ex.response_body = redact_body(msg.header("content-type"), msg.body)
    ex.response_body_truncated = msg.truncated
    ex.response_wire_bytes = msg.wire_bytes
    ex.notes += msg.notes
    return first


_SEEN_URLS = 256
"""Most URLs a capture reader remembers redacted (per capture: nothing unredacted outlives the reading)."""


def _redacted_body(headers: Headers, body: bytes) -> bytes:
    return redact_body(header_value(headers, "Content-Type"), body)


# -- SAZ ----------------------------------------------------------------------------------------------

_MEMBER = re.compile(r"^raw/(\d+)_([csm])\.(txt|xml)$", re.IGNORECASE)
_TIMERS = (  # Fiddler's SessionTimers attributes, in the order they happen
    "ClientConnected",
    "ClientBeginRequest",
    "GotRequestHeaders",
    "ClientDoneRequest",
    "ServerConnected",
    "FiddlerBeginRequest",
    "ServerGotRequest",
    "ServerBeginResponse",
    "GotResponseHeaders",
    "ServerDoneResponse",
    "ClientBeginResponse",
    "ClientDoneResponse",
)


def read_saz(stream: IO[bytes]) -> Capture:
    """A Fiddler session archive from a seekable binary stream (see the module docstring)."""
    return Capture("saz", lambda cap: _saz_exchanges(cap, stream))


def _saz_exchanges(cap: Capture, stream: IO[bytes]) -> Iterator[CapturedExchange]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        cap.notes.append(
            f"the SAZ has no readable zip directory ({exc}): the file was probably cut off; "
            "reading its members one by one up to the damage"
        )
        stream.seek(0)
        yield from _sessions(cap, _scan_local_members(cap, stream))
        return
    with archive:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            name = info.filename.replace("\\", "/")
            if _MEMBER.match(name):
                members[name.lower()] = info
        if not members:
            cap.notes.append("the zip holds no raw/NN_c.txt members: not a Fiddler session archive")
        yield from _sessions(cap, _zip_members(cap, archive, stream, members))


_Member = tuple[int, str, str, str, bytes, str | None]
"""A ``raw/NN_[csm]`` member as read: session number, its digits as written, the part (c, s or m), the
member's (normalised, lower-case) name, its bytes, and a note on damage (or None)."""

FAST_MEMBER = 64 * 1024 * 1024
"""Largest member (compressed) read in one piece; a larger one is read through ``zipfile`` in slices."""


def _zip_members(
    cap: Capture,
    archive: zipfile.ZipFile,
    stream: IO[bytes],
    members: dict[str, zipfile.ZipInfo],
) -> Iterator[_Member]:
    window = _Window(stream)
    for name in sorted(members, key=_member_order):
        info = members[name]
        digits = name[4:-6]  # the name is raw/<digits>_<part>.<ext>, lower-case
        number, part = int(digits), name[-5].casefold()  # casefold: "ſ" matches [csm] without case
        if info.file_size > MAX_MEMBER:
            note = f"{name} is {info.file_size} bytes, more than the {MAX_MEMBER} read: skipped"
            yield number, digits, part, name, b"", note
            continue
        if info.flag_bits & 0x41:  # traditional (bit 0) or strong (bit 6) encryption
            note = f"{name} is encrypted in the zip (a SAZ saved with a password?): not read"
            yield number, digits, part, name, b"", note
            continue
        if info.compress_type not in _ZIP_METHODS:
            note = (
                f"{name} is packed with zip compression method {info.compress_type}, "
                "which cannot be read here: not read"
            )
            yield number, digits, part, name, b"", note
            continue
        data = _read_member_fast(window, info)
        if data is not None:
            yield number, digits, part, name, data, None
            continue
        yield number, digits, part, name, *_read_member(archive, info, name)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> tuple[bytes, str | None]:
    """A member through ``ZipFile.open``, 1 MiB at a time: its bytes, and a note when it is damaged."""
    data = bytearray()
    try:
        with archive.open(info) as member:
            while chunk := member.read(1 << 20):
                data += chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError) as exc:
        return bytes(data), f"{name} is damaged in the zip ({exc}); {len(data)} byte(s) of it could be read"
    return bytes(data), None


_ZIP_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)  # what zipfile reads (bzip2 and lzma when Python was built with them; else a note through open())


def _member_order(name: str) -> tuple[int, int]:
    """Session order: by number, then request, response, timers."""
    return int(name[4:-6]), "csm".index(name[-5].casefold())


class _Window:
    """A seekable stream read 1 MiB at a time: members stored one after another cost no seek or read each."""

    __slots__ = ("base", "buf", "stream")

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.base = 0
        self.buf = b""

    def span(self, offset: int, size: int) -> tuple[bytes, int]:
        """Bytes that hold the file's ``[offset, offset + size)`` from the position returned (fewer when the
        file ends before)."""
        pos = offset - self.base
        if pos < 0 or pos + size > len(self.buf):
            self.stream.seek(offset)
            self.buf = self.stream.read(max(size, 1 << 20))
            self.base, pos = offset, 0
        return self.buf, pos


def _read_member_fast(window: _Window, info: zipfile.ZipInfo) -> bytes | None:
    """The bytes of a stored or deflated member read in one piece and checked against its CRC, or None
    when anything about it is unusual (damaged, cut off, another method, flags): then ``zipfile`` reads it,
    and says what is wrong exactly as before.

    Accepts only what ``ZipFile.open`` would read to the same bytes: the local header's signature and name
    match the directory, the compressed data is all there, the deflate stream ends, the size is the one the
    directory announces and the CRC-32 matches.
    """
    method, csize, size = info.compress_type, info.compress_size, info.file_size
    if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x61 or not size:
        return None
    if csize > FAST_MEMBER:
        return None
    offset = info.header_offset
    buf, pos = window.span(offset, _LOCAL.size + len(info.orig_filename) + len(info.extra) + csize)
    if len(buf) < pos + _LOCAL.size:
        return None
    sig, _, flags, _, _, _, _, _, _, name_len, extra_len = _LOCAL.unpack_from(buf, pos)
    if sig != b"PK\x03\x04":
        return None
    start = _LOCAL.size + name_len + extra_len
    if len(buf) < pos + start + csize:  # the local extra field is longer than the directory's
        buf, pos = window.span(offset, start + csize)
        if len(buf) < pos + start + csize:
            return None
    name = buf[pos + _LOCAL.size : pos + _LOCAL.size + name_len]
    try:  # as ZipFile.open decodes it (ASCII reads the same in UTF-8 and cp437, and fastest)
        local_name = name.decode("ascii" if name.isascii() else "utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if local_name != info.orig_filename:
        return None
    end = getattr(info, "_end_offset", None)  # Python 3.11.8+, 3.12.2+: ZipFile.open refuses overlaps
    if end is not None and offset + start + csize > end:
        return None
    start += pos
    if method == zipfile.ZIP_STORED:
        if csize != size:
            return None
        data = buf[start : start + csize]
    else:
        inflater = _INFLATE.decompressobj(-15)
        try:
            data = inflater.decompress(memoryview(buf)[start : start + csize], size + 1)
        except Exception:  # zlib.error, IsalError...: ZipFile.open says what is wrong
            return None
        if len(data) != size or not inflater.eof:
            return None
    if _INFLATE.crc32(data) != info.CRC:
        return None
    return data


def _inflate_module() -> Any:
    """``isal.isal_zlib`` when it is installed (the ``fast`` extra: ISA-L inflates about twice as fast as
    zlib, to the same bytes), else ``zlib``."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:
        return zlib


_INFLATE: Any = _inflate_module()


_LOCAL = struct.Struct("<4sHHHHHIIIHH")


def _scan_local_members(cap: Capture, stream: IO[bytes]) -> Iterator[_Member]:
    """Zip members from their local headers, in file order, up to the first damage (no directory)."""
    while True:
        head = stream.read(_LOCAL.size)
        if len(head) < _LOCAL.size or head[:4] != b"PK\x03\x04":
            if head[:4] not in (b"PK\x01\x02", b"PK\x05\x06", b"") and len(head) >= 4:
                cap.notes.append("the zip data stops making sense after the last member listed")
            return
        _, _, flags, method, _, _, _, csize, _, name_len, extra_len = _LOCAL.unpack(head)
        name = stream.read(name_len).decode("utf-8" if flags & 0x800 else "cp437", "replace")
        stream.read(extra_len)
        name = name.replace("\\", "/").lower()
        if method == 0 and not flags & 0x08:
            data = stream.read(csize)
            note = None if len(data) == csize else f"{name} is cut off after {len(data)} of {csize} bytes"
        elif method == 8:
            data, note = _inflate_member(stream, name, csize if not flags & 0x08 else None)
        else:
            cap.notes.append(f"{name}: zip method {method} cannot be read without the zip directory")
            return
        m = _MEMBER.match(name)
        if m:
            yield int(m.group(1)), m.group(1), m.group(2).casefold(), name, data, note
        if note is not None:
            return
        if flags & 0x08:  # a data descriptor follows: optional signature, CRC, sizes
            desc = stream.read(16)
            if desc[:4] != b"PK\x07\x08":
                stream.seek(-4, 1)


def _inflate_member(stream: IO[bytes], name: str, csize: int | None) -> tuple[bytes, str | None]:
    inflater = zlib.decompressobj(-15)
    out = bytearray()
    left = csize
    try:
        while not inflater.eof:
            want = 1 << 16 if left is None else min(1 << 16, left)
            chunk = stream.read(want) if want else b""
            if not chunk:
                return bytes(out), f"{name} is cut off after {len(out)} byte(s): the capture file ends here"
            if left is not None:
                left -= len(chunk)
            out += inflater.decompress(chunk)
            if len(out) > MAX_MEMBER:
                return bytes(out[:MAX_MEMBER]), f"{name} is larger than {MAX_MEMBER} bytes: cut there"
    except zlib.error as exc:
        return bytes(out), f"{name} is damaged ({exc}); {len(out)} byte(s) of it could be read"
    if inflater.unused_data:  # read past the end of the member: step back
        stream.seek(-len(inflater.unused_data), 1)
    return bytes(out), None


def _sessions(cap: Capture, members: Iterator[_Member]) -> Iterator[CapturedExchange]:
    """Group ``raw/NN_[csm]`` members (in session order) into exchanges."""
    current: CapturedExchange | None = None
    have_response = False
    firsts: list[dict[str, str]] = [{}, {}]  # first values of the request's and the response's headers
    parser = _xml_parser()  # one per capture: lxml parsers are not shared between threads
    seen: dict[str, _Field] = {}  # header lines already split
    urls: dict[str, str] = {}  # URLs already redacted
    for number, digits, part, name, data, note in members:
        if current is not None and current.index != number:
            yield _finish_saz(current, have_response, firsts)
            current = None
        if current is None:
            current = CapturedExchange(number, "", "", source=f"raw/{digits}")
            have_response = False
            firsts = [{}, {}]
        if note is not None:
            current.notes.append(note)
        if part == "c":
            firsts[0] = _fill_request(current, data, name, seen, urls)
        elif part == "s":
            have_response = True
            if (first := _fill_response(current, data, seen)) is not None:
                firsts[1] = first
        else:
            _read_session_xml(current, data, parser)
    if current is not None:
        yield _finish_saz(current, have_response, firsts)


def _finish_saz(ex: CapturedExchange, have_response: bool, firsts: list[dict[str, str]]) -> CapturedExchange:
    if not ex.method:
        ex.notes.append("the capture holds no request for this session")
    if not have_response:
        ex.notes.append("no response stored for this session (aborted, or still running when saved)")
    ex._index = (ex.request_headers, ex.response_headers, firsts[0], firsts[1])  # header() needs no pass
    return ex


def _xml_parser() -> etree.XMLParser:
    """A parser for one capture (lxml parsers must not be shared between threads): no entities, no DTD,
    no network; ``collect_ids`` off as nothing here looks elements up by ID."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, collect_ids=False
    )


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)  # bytes: ASCII case only, as bytes.upper()


def _read_session_xml(ex: CapturedExchange, data: bytes, parser: etree.XMLParser) -> None:
    if _DOCTYPE.search(data, 0, 4096):
        ex.notes.append(f"the session's timers ({ex.source}_m.xml) carry a DOCTYPE: not read (entities)")
        return
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        ex.notes.append(f"the session's timers ({ex.source}_m.xml) are not readable XML: {exc}")
        return
    marks: dict[str, float] = {}
    for timers in root.iter("{*}SessionTimers", "SessionTimers"):
        for name, when in zip(_TIMERS, map(_timer_time, map(timers.get, _TIMERS)), strict=True):
            if when is not None and when > 0:
                marks[name] = when
        for name in ("DNSTime", "TCPConnectTime", "HTTPSHandshakeTime", "GatewayTime"):  # whole ms
            value = timers.get(name)
            if value and value.lstrip("-").isdigit() and int(value) >= 0:
                marks[name] = float(value)
    for flag in root.iter("{*}SessionFlag", "SessionFlag"):
        if (flag.get("N") or "").lower() == "x-hostip" and flag.get("V"):
            ex.peer_address = flag.get("V")
    ex.started_at = marks.get("ClientBeginRequest") or marks.get("ClientConnected")
    ex.timings = _saz_timings(marks)


def _iso_time(text: str | None) -> float | None:
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        when = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.timestamp()


_timer_time = functools.lru_cache(maxsize=1024)(_iso_time)
""":func:`_iso_time` remembered: the 12 timers of a session share a few distinct times."""


def _saz_timings(marks: dict[str, float]) -> dict[str, float]:
    """HAR-style phases (ms) from Fiddler's timers."""
    out: dict[str, float] = {}
    if "DNSTime" in marks:
        out["dns"] = marks["DNSTime"]
    if "TCPConnectTime" in marks or "HTTPSHandshakeTime" in marks:  # HAR's connect includes ssl
        out["connect"] = marks.get("TCPConnectTime", 0.0) + marks.get("HTTPSHandshakeTime", 0.0)
    if "HTTPSHandshakeTime" in marks:
        out["ssl"] = marks["HTTPSHandshakeTime"]

    def span(a: str, b: str) -> float | None:
        if a in marks and b in marks and marks[b] >= marks[a]:
            return (marks[b] - marks[a]) * 1000
        return None

    for har, a, b in (
        ("send", "FiddlerBeginRequest", "ServerGotRequest"),
        ("wait", "ServerGotRequest", "GotResponseHeaders"),
        ("receive", "GotResponseHeaders", "ServerDoneResponse"),
        ("total", "ClientBeginRequest", "ClientDoneResponse"),
    ):
        value = span(a, b)
        if value is not None:
            out[har] = value
    return out


# -- HAR ----------------------------------------------------------------------------------------------


def read_har(stream: IO[bytes]) -> Capture:
    """A HAR file from a binary stream, entry by entry (see the module docstring)."""
    return Capture("har", lambda cap: _har_exchanges(cap, stream))


def _har_exchanges(cap: Capture, stream: IO[bytes]) -> Iterator[CapturedExchange]:
    import ijson  # type: ignore[import-untyped]  # the C (yajl2) backend builds each entry in C

    index = 0
    try:
        for entry in ijson.items(stream, "log.entries.item", use_float=True):
            index += 1
            yield _har_entry(index, entry)
    except ijson.JSONError as exc:
        where = f"after entry {index}" if index else "before the first entry"
        cap.notes.append(
            f"the HAR file is not valid JSON {where} ({exc}): cut off or damaged; read up to there"
        )
        return
    if index == 0:
        cap.notes.append("the file holds no log.entries: an empty capture, or not a HAR file")


def _har_headers(items: Any) -> Headers:
    out: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and "name" in item:
            out.append((str(item.get("name", "")), str(item.get("value", ""))))
    return tuple(out)


def _is_binary(mime: str | None) -> bool:
    ctype = (mime or "").split(";")[0].strip().lower()
    return ctype in _BINARY_TYPES or ctype.startswith(("image/", "audio/", "video/"))


def _har_body(
    holder: Any, *, encoding_key: str, what: str, notes: list[str], default_mime: str | None
) -> tuple[bytes | None, bool]:
    """(bytes, lossy) of a postData or content object."""
    if not isinstance(holder, dict):
        return None, False
    text = holder.get("text")
    mime = holder.get("mimeType") or default_mime
    encoding = str(holder.get(encoding_key) or "").lower()
    if text is None:
        params = holder.get("params")
        if isinstance(params, list) and params:  # a form stored as params only
            from urllib.parse import quote_plus

            pairs = [
                f"{quote_plus(str(p.get('name', '')))}={quote_plus(str(p.get('value', '')))}" for p in params
            ]
            return "&".join(pairs).encode(), False
        return (b"" if holder.get("size", 0) in (0, None) else None), False
    text = str(text)
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=False), False
        except (binascii.Error, ValueError) as exc:
            notes.append(f"the {what} body is marked base64 but does not decode ({exc}); not used")
            return None, False
    if encoding:
        notes.append(f"the {what} body has an unknown encoding {encoding!r}; taken as text")
    lossy = _is_binary(mime)
    if lossy:
        if what == "request":
            notes.append(
                f"the request body ({mime}) was stored as text: HAR 1.2 has no field for a binary request "
                "body, so its bytes may have been changed by the tool that wrote the file "
                '(write postData.encoding "base64", as the HAR 1.3 draft and mapiprobe do)'
            )
        else:
            notes.append(
                f"the response body ({mime}) was stored as text, not base64: its bytes may have been changed"
            )
    try:  # a tool that stored bytes 1:1 as code points (latin-1) lost nothing
        return text.encode("latin-1"), lossy and "\ufffd" in text
    except UnicodeEncodeError:
        return text.encode("utf-8"), lossy


def _har_entry(index: int, entry: Any) -> CapturedExchange:
    ex = CapturedExchange(index, "", "", source=f"entries[{index - 1}]")
    if not isinstance(entry, dict):
        ex.notes.append("the entry is not an object")
        return ex
    req: dict[str, Any] = entry["request"] if isinstance(entry.get("request"), dict) else {}
    resp: dict[str, Any] = entry["response"] if isinstance(entry.get("response"), dict) else {}
    ex.method = str(req.get("method") or "")
    ex.url = redact_url(str(req.get("url") or ""))
    ex.http_version = req.get("httpVersion")
    raw_req_headers = _har_headers(req.get("headers"))
    ex.request_headers = redact_headers(raw_req_headers)
    body, lossy = _har_body(
        req.get("postData"),
        encoding_key="encoding",
        what="request",
        notes=ex.notes,
        default_mime=header_value(raw_req_headers, "Content-Type"),
    )
    if body is None and ex.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        body = b""
    ex.request_body = _redacted_body(raw_req_headers, body) if body is not None else None
    ex.request_body_lossy = lossy
    status = resp.get("status")
    if isinstance(status, int | float) and int(status) > 0:
        ex.status = int(status)
        ex.reason = str(resp.get("statusText") or "")
        ex.response_version = resp.get("httpVersion")
        raw_resp_headers = _har_headers(resp.get("headers"))
        ex.response_headers = redact_headers(raw_resp_headers)
        rbody, rlossy = _har_body(
            resp.get("content"),
            encoding_key="encoding",
            what="response",
            notes=ex.notes,
            default_mime=header_value(raw_resp_headers, "Content-Type"),
        )
        ex.response_body = _redacted_body(raw_resp_headers, rbody) if rbody is not None else None
        ex.response_body_lossy = rlossy
        size = resp.get("bodySize")
        if isinstance(size, int | float) and size >= 0:
            ex.response_wire_bytes = int(size)
    else:
        error = resp.get("_error") or entry.get("_error")
        ex.notes.append(f"no response{f': {error}' if error else ' in the capture'}")
    ours = entry.get("_mapiprobe")
    if isinstance(ours, dict):
        ex.request_body_truncated = bool(ours.get("request_body_truncated"))
        ex.response_body_truncated = bool(ours.get("response_body_truncated"))
        for note in ours.get("notes") or ():
            ex.notes.append(str(note))
    ex.started_at = _iso_time(entry.get("startedDateTime"))
    timings = entry.get("timings")
    if isinstance(timings, dict):
        for key in ("blocked", "dns", "connect", "ssl", "send", "wait", "receive"):
            value = timings.get(key)
            if isinstance(value, int | float) and value >= 0:
                ex.timings[key] = float(value)
    total = entry.get("time")
    if isinstance(total, int | float) and total >= 0:
        ex.timings["total"] = float(total)
    if entry.get("serverIPAddress"):
        ex.peer_address = str(entry["serverIPAddress"])
    return ex


__all__ = [
    "MAX_BODY",
    "MAX_HEAD",
    "MAX_MEMBER",
    "Capture",
    "CapturedExchange",
    "open_capture",
    "read_har",
    "read_saz",
]
