"""Writing MAPI/HTTP envelopes (the server side, MS-OXCMAPIHTTP 2.2.7): meta-tags, DONE with its additional
headers, whole envelopes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from .envelope_headers import format_http_date
from .envelope_parser import _TOKEN, MAX_LINE, META_TAGS
from .errors import EncodeError

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
