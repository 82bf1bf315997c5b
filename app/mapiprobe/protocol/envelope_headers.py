"""The well-known additional headers of a MAPI/HTTP envelope
(MS-OXCMAPIHTTP 2.2.3.3.3, 2.2.3.3.9, 2.2.3.3.10).
"""

from __future__ import annotations

import datetime as _dt
import email.utils
from typing import Literal

from .errors import DecodeError

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
