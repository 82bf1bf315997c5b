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

The code lives in :mod:`.responsecode`, :mod:`.envelope_headers`, :mod:`.envelope_parser`,
:mod:`.envelope_writer` and :mod:`.httpcapture` (captures with an HTTP head or chunked coding, and the
``mapihttp-response`` / ``mapihttp-request`` decode kinds); this module re-exports them.
"""

from __future__ import annotations

from .envelope_headers import (
    format_http_date,
    guess_elapsed_time_unit,
    parse_elapsed_time,
    parse_response_code,
    parse_start_time,
)
from .envelope_parser import (
    MAX_HEADERS,
    MAX_LINE,
    META_LINE_LIMIT,
    META_TAGS,
    NEED_DATA,
    AdditionalHeader,
    BodyData,
    EndOfMessage,
    Envelope,
    EnvelopeParser,
    Event,
    MetaTag,
    NeedData,
    parse_envelope,
)
from .envelope_writer import encode_done, encode_envelope, encode_meta_tag
from .httpcapture import (
    MAX_HTTP_HEAD,
    Dechunked,
    HttpHead,
    decode_mapihttp_request,
    decode_mapihttp_response,
    looks_chunked,
    remove_chunked,
    split_http_head,
)
from .responsecode import ResponseCode, describe

__all__ = [
    "MAX_HEADERS",
    "MAX_HTTP_HEAD",
    "MAX_LINE",
    "META_LINE_LIMIT",
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
