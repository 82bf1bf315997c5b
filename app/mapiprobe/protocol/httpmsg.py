"""HTTP/1.1 message bodies as bytes: content codings (RFC 9110 8.4) and chunked framing (RFC 9112 7.1).

Pure functions, no I/O: the tracing transport uses :func:`decode_content` to keep the body a program
reads (not the gzip bytes on the wire), and the capture reader (protocol/capture.py) uses all of them to
turn a message stored "as received" (Fiddler's ``raw/NN_s.txt``) back into its head and body.

Nothing here raises on a broken body: each function returns what it could decode and a note that says
plainly what was wrong, because a capture is evidence and a half-decoded body is still worth showing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

MAX_DECODED = 64 * 1024 * 1024
"""Most bytes a body is decoded to (a gzip bomb stops here, marked truncated)."""


@dataclass(frozen=True)
class Decoded:
    """A body after decoding: ``data``, whether it was cut at the limit, and what went wrong (or None)."""

    data: bytes
    truncated: bool = False
    note: str | None = None


def decode_content(coding: str | None, data: bytes, limit: int = MAX_DECODED) -> Decoded:
    """Undo a ``Content-Encoding`` (gzip, x-gzip, deflate, identity; a list is undone right to left).

    An unknown coding (br, zstd...) leaves ``data`` as it is with a note; a corrupt or cut-off stream
    yields what decompressed before the fault, with a note.
    """
    codings = [c.strip().lower() for c in (coding or "").split(",") if c.strip()]
    truncated = False
    for name in reversed(codings):
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            return Decoded(data, truncated, f"content coding {name!r} is not decoded here; body left as sent")
        result = _inflate(name, data, limit)
        truncated = truncated or result.truncated
        if result.note is not None:
            return Decoded(result.data, truncated, result.note)
        data = result.data
    return Decoded(data, truncated)


def _inflate(name: str, data: bytes, limit: int) -> Decoded:
    # gzip: a gzip header (wbits 16+15); deflate: RFC 9110 means zlib-wrapped, but some servers send raw
    # deflate: accept both (32+15 autodetects zlib or gzip; -15 is raw).
    attempts = (16 + 15,) if name != "deflate" else (32 + 15, -15)
    error: zlib.error | None = None
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(data, limit + 1)
        except zlib.error as exc:
            error = exc
            continue
        if len(out) > limit:
            return Decoded(out[:limit], True)
        if not inflater.eof:
            return Decoded(out, True, f"the {name} stream ends early (cut off after {len(out)} bytes)")
        return Decoded(out)
    return Decoded(data, False, f"the body is not valid {name} data ({error}); body left as sent")


def dechunk(data: bytes) -> tuple[bytes, str | None]:
    """The payload of a ``Transfer-Encoding: chunked`` body, and a note when the framing is broken.

    Chunk extensions and trailers are skipped. A body cut off inside a chunk keeps the bytes that did
    arrive; a body that is not chunked at all (a capture tool that already removed the framing but kept
    the header) is returned unchanged with a note.
    """
    out: list[bytes] = []  # joined at the end: one chunk (the usual case) is returned as it is
    pos = 0
    end = len(data)
    while True:
        if pos == end:
            return b"".join(out), "the chunked body ends without its last (zero-size) chunk"
        eol = data.find(b"\r\n", pos, pos + 1024)
        line = data[pos:eol] if eol >= 0 else data[pos : pos + 1024]
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            if not out:
                return data, "Transfer-Encoding says chunked but the body is not chunked; taken as it is"
            return b"".join(out), f"bad chunk size {size_text[:20]!r} at byte {pos}"
        if eol < 0:
            return b"".join(out), f"the chunked body is cut off in a chunk-size line at byte {pos}"
        pos = eol + 2
        if size == 0:
            return b"".join(out), None  # trailers, if any, are ignored
        chunk = data[pos : pos + size]
        out.append(chunk)
        if len(chunk) < size:
            note = f"the chunked body is cut off: a {size}-byte chunk has only {len(chunk)} bytes"
            return b"".join(out), note
        pos += size
        if data[pos : pos + 2] != b"\r\n":
            if pos >= end:
                return b"".join(out), "the chunked body ends without its last (zero-size) chunk"
            return b"".join(out), f"a chunk is not followed by CRLF at byte {pos}"
        pos += 2


__all__ = ["MAX_DECODED", "Decoded", "dechunk", "decode_content"]
