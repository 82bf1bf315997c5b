"""The MAPI/HTTP response envelope (protocol/envelope.py): MS-OXCMAPIHTTP 2.2.7, 3.2.5.2, 2.2.3.3.3.

The incremental parser is fed every input three ways, as h11's tests do: whole, one byte at a time,
and split at random points (hypothesis); the events and errors must not depend on the split.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import struct
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.emsmdb import ExecuteResponse, NoBody, NotificationWaitResponse
from mapiprobe.protocol.envelope import (
    MAX_HEADERS,
    MAX_LINE,
    NEED_DATA,
    AdditionalHeader,
    BodyData,
    EndOfMessage,
    Envelope,
    EnvelopeParser,
    Event,
    MetaTag,
    NeedData,
    ResponseCode,
    decode_mapihttp_request,
    decode_mapihttp_response,
    describe,
    encode_done,
    encode_envelope,
    encode_meta_tag,
    format_http_date,
    guess_elapsed_time_unit,
    looks_chunked,
    parse_elapsed_time,
    parse_envelope,
    parse_response_code,
    parse_start_time,
    remove_chunked,
    split_http_head,
)
from mapiprobe.protocol.errors import DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.registry import DecodeContext, kinds
from tests.hypothesis_profiles import examples

DATA = Path(__file__).resolve().parents[1] / "data"
START = dt.datetime(2024, 1, 1, 10, 0, 0, tzinfo=dt.UTC)


def load_vector(name: str) -> bytes:
    """Hex after the '#' citation lines of tests/data/NAME."""
    lines = (DATA / name).read_text(encoding="ascii").splitlines()
    assert lines[0].startswith("#"), "every vector file starts by citing its source"
    return bytes.fromhex("".join(line for line in lines if not line.startswith("#")))


# -- feeding helpers ---------------------------------------------------------------------------------


def _normalise(events: list[Event]) -> list[Event]:
    """Merge adjacent BodyData events: how the body is cut depends on the feed, nothing else does."""
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, BodyData) and out and isinstance(out[-1], BodyData):
            out[-1] = BodyData(out[-1].data + ev.data)
        elif isinstance(ev, BodyData) and not ev.data:
            continue
        else:
            out.append(ev)
    return out


def feed(pieces: list[bytes], *, eof: bool = True) -> list[Event] | ProtocolError:
    """Feed ``pieces`` one by one, draining events after each; return the events or the error."""
    parser = EnvelopeParser()
    events: list[Event] = []
    try:
        for piece in [*pieces, b""] if eof else pieces:
            parser.receive_data(piece)
            while True:
                ev = parser.next_event()
                if ev is NEED_DATA:
                    break
                assert not isinstance(ev, NeedData)
                events.append(ev)
                if isinstance(ev, EndOfMessage):
                    break
    except ProtocolError as exc:
        return exc
    return _normalise(events)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return [p for p in pieces if p]


def _same(a: list[Event] | ProtocolError, b: list[Event] | ProtocolError) -> None:
    if isinstance(a, ProtocolError) or isinstance(b, ProtocolError):
        assert type(a) is type(b), (a, b)
        assert isinstance(a, ProtocolError) and isinstance(b, ProtocolError)
        assert (a.offset, a.message) == (b.offset, b.message)
    else:
        assert a == b


def three_ways(data: bytes) -> list[Event] | ProtocolError:
    whole = feed([data])
    _same(whole, feed([data[i : i + 1] for i in range(len(data))]))
    _same(whole, feed([data[: len(data) // 2], data[len(data) // 2 :]]))
    return whole


# -- X-ResponseCode -----------------------------------------------------------------------------------


def test_response_codes_are_the_spec_table() -> None:
    # MS-OXCMAPIHTTP 2.2.3.3.3 (14-18 from the v10 spreadsheet, PROTOCOL.md §2.4).
    assert [int(c) for c in ResponseCode] == list(range(19))
    assert ResponseCode(10).spec_name == "Context Not Found"
    assert ResponseCode.MISSING_COOKIE == 13
    assert ResponseCode(18).spec_name == "Endpoint Shutting Down"
    assert all(c.spec_name for c in ResponseCode)


def test_describe_known_and_unknown_codes() -> None:
    assert describe(0).startswith("0 Success")
    assert describe(10).startswith("10 Context Not Found: ")
    assert "reconnect" in describe(10)
    assert describe(7).startswith("7 Missing Header")
    assert "not an X-ResponseCode" in describe(99)
    assert "99" in describe(99)
    assert describe(-1).startswith("-1")


# -- the constructed vector of PROTOCOL.md §8.2 ------------------------------------------------------


def test_execute_response_stream_vector() -> None:
    data = load_vector("oxcmapihttp_execute_response_stream_constructed.txt")
    env = parse_envelope(data)
    assert env.meta_tags == ("PROCESSING", "DONE")
    assert env.headers == (("X-ElapsedTime", "3"), ("X-StartTime", "Mon, 01 Jan 2024 10:00:00 GMT"))
    assert env.elapsed_time == 3
    assert env.start_time == START
    assert env.response_code is None
    assert env.pending_count == 0
    assert data[env.body_offset :] == env.body
    body = ExecuteResponse.decode(env.body)
    assert isinstance(body, ExecuteResponse)
    assert body.error_code == 0
    assert body.rop_buffer == bytes.fromhex("0000040006000600 0200 FFFFFFFF")
    # Re-encode byte-exact, as the simulator writes it.
    assert encode_envelope(body.encode(), elapsed_time=3, start_time=START) == data
    events = three_ways(data)
    assert events == [
        MetaTag("PROCESSING"),
        MetaTag("DONE"),
        AdditionalHeader("X-ElapsedTime", "3"),
        AdditionalHeader("X-StartTime", "Mon, 01 Jan 2024 10:00:00 GMT"),
        BodyData(env.body),
        EndOfMessage(),
    ]


# -- feeding -----------------------------------------------------------------------------------------


def test_three_ways_with_trailing_bytes_that_look_like_protocol() -> None:
    # Everything after the empty line is body, even bytes that look like meta-tags or blank lines.
    body = b"DONE\r\n\r\nPENDING\r\n\x00\xff"
    data = encode_envelope(body, pending=2, elapsed_time=5, start_time=START)
    events = three_ways(data)
    assert isinstance(events, list)
    assert events[-2:] == [BodyData(body), EndOfMessage()]
    assert [e.name for e in events if isinstance(e, MetaTag)] == ["PROCESSING", "PENDING", "PENDING", "DONE"]


def test_crlf_and_tags_split_across_feeds() -> None:
    pieces = [
        b"PROC",
        b"ESSING\r",
        b"\nPEN",
        b"D",
        b"ING\r",
        b"\n",
        b"DONE\r\nX-Elapsed",
        b"Time: 1\r",
        b"\n\r",
        b"\nZ",
    ]
    assert feed(pieces) == [
        MetaTag("PROCESSING"),
        MetaTag("PENDING"),
        MetaTag("DONE"),
        AdditionalHeader("X-ElapsedTime", "1"),
        BodyData(b"Z"),
        EndOfMessage(),
    ]


def test_incremental_parser_reports_progress() -> None:
    p = EnvelopeParser()
    assert p.next_event() is NEED_DATA
    p.receive_data(b"PROCESSING\r\nPENDING\r\nPEN")
    assert p.next_event() == MetaTag("PROCESSING")
    assert p.next_event() == MetaTag("PENDING")
    assert p.next_event() is NEED_DATA
    assert p.state == "META"
    assert p.pending_count == 1
    p.receive_data(b"DING\r\nDONE\r\nx-responsecode: 0\r\n\r\nab")
    assert list(p.events()) == [
        MetaTag("PENDING"),
        MetaTag("DONE"),
        AdditionalHeader("x-responsecode", "0"),
        BodyData(b"ab"),
    ]
    assert p.state == "BODY"
    assert p.body_offset == len(b"PROCESSING\r\nPENDING\r\nPENDING\r\nDONE\r\nx-responsecode: 0\r\n\r\n")
    assert p.meta_tags == ("PROCESSING", "PENDING", "PENDING", "DONE")
    assert p.pending_count == 2
    assert p.headers == (("x-responsecode", "0"),)
    p.receive_data(b"cd")
    assert p.next_event() == BodyData(b"cd")
    assert p.next_event() is NEED_DATA
    p.receive_data(b"")
    assert p.next_event() == EndOfMessage()
    assert p.next_event() == EndOfMessage()  # stays there
    assert p.state == "ENDED"
    with pytest.raises(DecodeError, match="after the end"):
        p.receive_data(b"x")


def test_bare_lf_and_trailing_spaces_are_tolerated() -> None:
    assert feed([b"PROCESSING\nDONE  \nX-A:b\n\n"]) == [
        MetaTag("PROCESSING"),
        MetaTag("DONE"),
        AdditionalHeader("X-A", "b"),
        EndOfMessage(),
    ]


def test_pending_counting() -> None:
    env = parse_envelope(encode_envelope(b"x", pending=7, start_time=START))
    assert env.pending_count == 7
    assert env.meta_tags == ("PROCESSING", *["PENDING"] * 7, "DONE")


def test_late_response_code_in_additional_headers() -> None:
    # MS-OXCMAPIHTTP 3.2.5.2: a failure found after the first response went out comes as an additional
    # X-ResponseCode, possibly with an empty body. Header names are compared without case.
    data = encode_envelope(b"", elapsed_time=12, start_time=START, response_code=10)
    env = parse_envelope(data)
    assert env.response_code == 10
    assert env.header("x-responsecode") == "10"
    assert env.header("X-RESPONSECODE") == "10"
    assert env.body == b""
    assert "Context Not Found" in to_jsonable(env)["XResponseCode"]
    raw = b"PROCESSING\r\nDONE\r\nx-responsecode: 0\r\nX-ResponseCode: 15\r\n\r\n"
    assert parse_envelope(raw).response_code == 15  # the last one wins


def test_ping_response_without_body() -> None:
    # MS-OXCMAPIHTTP 2.2.6 / 3.2.5.3: a PING response may carry meta-tags but has no body.
    data = b"PROCESSING\r\nDONE\r\nX-ElapsedTime: 0\r\nX-StartTime: Mon, 01 Jan 2024 10:00:00 GMT\r\n\r\n"
    events = three_ways(data)
    assert isinstance(events, list)
    assert not any(isinstance(e, BodyData) for e in events)
    assert events[-1] == EndOfMessage()
    env = parse_envelope(data)
    assert env.body == b""
    assert NoBody.decode(env.body) == NoBody()
    assert encode_envelope(b"", start_time=START, elapsed_time=0) == data


def test_json_view() -> None:
    data = encode_envelope(b"\x01\x02", pending=1, elapsed_time=4, start_time=START, headers=[("X-A", "1")])
    view = to_jsonable(parse_envelope(data))
    assert view == {
        "MetaTags": ["PROCESSING", "PENDING", "DONE"],
        "PendingCount": 1,
        "AdditionalHeaders": {
            "X-ElapsedTime": "4",
            "X-StartTime": "Mon, 01 Jan 2024 10:00:00 GMT",
            "X-A": "1",
        },
        "BodySize": 2,
        "Body": "0102",
    }
    dup = parse_envelope(b"DONE\r\nX-A: 1\r\nX-A: 2\r\nX-A: 3\r\n\r\n")
    assert to_jsonable(dup)["AdditionalHeaders"] == {"X-A": ["1", "2", "3"]}


# -- errors ------------------------------------------------------------------------------------------


def test_unknown_meta_tag_has_offset() -> None:
    err = three_ways(b"PROCESSING\r\nWAITING\r\nDONE\r\n\r\n")
    assert isinstance(err, DecodeError)
    assert err.offset == 12
    assert "WAITING" in err.message
    err = three_ways(b"<html>Missing cookie</html>")
    assert isinstance(err, DecodeError)
    assert err.offset == 0
    assert "diagnostic text" in err.message


def test_long_lines_are_refused_whatever_the_split() -> None:
    ok = b"PROCESSING\r\nDONE\r\nX-A: " + b"a" * (MAX_LINE - 5) + b"\r\n\r\n"
    assert isinstance(three_ways(ok), list)
    ok_lf = b"PROCESSING\r\nDONE\r\nX-A: " + b"a" * (MAX_LINE - 5) + b"\n\n"
    assert isinstance(three_ways(ok_lf), list)
    for tail in (b"\r\n\r\n", b"\n\n", b"", b"\rx"):
        data = b"PROCESSING\r\nDONE\r\nX-A: " + b"a" * (MAX_LINE - 4) + tail
        err = three_ways(data)
        assert isinstance(err, DecodeError), tail
        assert err.offset == 18
        assert "longer than" in err.message
    # A meta-tag line that never ends: bounded memory, error at the line's start.
    p = EnvelopeParser()
    p.receive_data(b"PROCESSING\r\n" + b"P" * (MAX_LINE + 2))
    assert p.next_event() == MetaTag("PROCESSING")
    with pytest.raises(DecodeError) as info:
        p.next_event()
    assert info.value.offset == 12
    with pytest.raises(DecodeError):  # sticky
        p.next_event()
    assert p.state == "ERROR"


def test_stream_ending_early() -> None:
    err = three_ways(b"PROCESSING\r\nPENDING\r\n")
    assert isinstance(err, ShortBuffer)
    assert "before the DONE" in err.message
    assert err.offset == 21
    err = three_ways(b"PROCESSING\r\nPEND")
    assert isinstance(err, ShortBuffer)
    assert err.offset == 16
    err = three_ways(b"PROCESSING\r\nDONE\r\nX-ElapsedTime: 1\r\n")
    assert isinstance(err, ShortBuffer)
    assert "empty line" in err.message
    err = three_ways(b"")
    assert isinstance(err, ShortBuffer)
    assert err.offset == 0
    # Without the end of the stream there is no error, only NEED_DATA.
    assert feed([b"PROCESSING\r\nPENDING\r\n"], eof=False) == [MetaTag("PROCESSING"), MetaTag("PENDING")]


def test_bad_header_lines() -> None:
    for line in (b"no colon here", b": empty name", b"bad name: x", b"\xff: x"):
        err = three_ways(b"DONE\r\n" + line + b"\r\n\r\n")
        assert isinstance(err, DecodeError), line
        assert err.offset == 6
    many = b"DONE\r\n" + b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(MAX_HEADERS + 1)) + b"\r\n"
    err = three_ways(many)
    assert isinstance(err, DecodeError)
    assert "more than" in err.message


def test_header_value_helpers() -> None:
    assert parse_response_code(" 0 ") == 0
    assert parse_elapsed_time("17") == 17
    with pytest.raises(DecodeError):
        parse_response_code("zero")
    with pytest.raises(DecodeError):
        parse_elapsed_time("-1")
    with pytest.raises(DecodeError):
        parse_elapsed_time("١")  # a non-ASCII digit
    assert parse_start_time("Mon, 01 Jan 2024 10:00:00 GMT") == START
    assert parse_start_time(format_http_date(START)) == START
    assert format_http_date(dt.datetime(2024, 1, 1, 10, 0, 0)) == "Mon, 01 Jan 2024 10:00:00 GMT"
    for bad in ("yesterday", "", "Mon, 99 Foo 2024 10:00:00 GMT"):
        with pytest.raises(DecodeError):
            parse_start_time(bad)


def test_elapsed_time_unit_guess() -> None:
    # gromox sends X-ElapsedTime in seconds (PROTOCOL.md §10); the spec says milliseconds (2.2.3.3.9).
    assert guess_elapsed_time_unit(2, 2300) == "s"
    assert guess_elapsed_time_unit(2100, 2300) == "ms"
    assert guess_elapsed_time_unit(17, 40) == "ms"
    assert guess_elapsed_time_unit(0, 50) == "unknown"
    assert guess_elapsed_time_unit(90000, 100) == "unknown"


def test_encoder_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(EncodeError):
        encode_meta_tag("WAITING")
    with pytest.raises(EncodeError):
        encode_done(start_time=START, headers=[("X-A", "a\r\nX-Injected: 1")])
    with pytest.raises(EncodeError):
        encode_done(start_time=START, headers=[("Bad Name", "1")])
    with pytest.raises(EncodeError):
        encode_done(start_time=START, headers=[("X-A", "€")])
    with pytest.raises(EncodeError):
        encode_done(start_time=START, headers=[("X-A", "a" * MAX_LINE)])
    with pytest.raises(EncodeError):
        encode_envelope(b"", pending=-1)
    with pytest.raises(EncodeError):
        encode_done(elapsed_time=-1)
    with pytest.raises(EncodeError):
        encode_done(response_code=-1)
    # Without a start time the current time is written.
    env = parse_envelope(encode_done())
    assert env.start_time is not None
    assert abs((env.start_time - dt.datetime.now(dt.UTC)).total_seconds()) < 60


# -- hypothesis: round trips, random splits, fuzz ------------------------------------------------------

_header_names = st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True)
_header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=40)
_envelopes = st.builds(
    lambda body, pending, elapsed, code, headers: (body, pending, elapsed, code, headers),
    st.binary(max_size=200),
    st.integers(0, 6),
    st.integers(0, 10**9),
    st.none() | st.integers(0, 30),
    st.lists(st.tuples(_header_names, _header_values), max_size=4),
)


@settings(max_examples=examples(300))
@given(_envelopes, st.lists(st.integers(0, 10**6), max_size=12))
def test_round_trip_under_random_splits(
    params: tuple[bytes, int, int, int | None, list[tuple[str, str]]], cuts: list[int]
) -> None:
    body, pending, elapsed, code, headers = params
    data = encode_envelope(
        body, pending=pending, elapsed_time=elapsed, start_time=START, response_code=code, headers=headers
    )
    env = parse_envelope(data)
    assert env.body == body
    assert env.pending_count == pending
    assert env.elapsed_time == elapsed
    assert env.start_time == START
    assert env.response_code == code
    assert env.headers[3 if code is not None else 2 :] == tuple(headers)
    whole = feed([data])
    assert feed(_split(data, cuts)) == whole
    assert feed([data[i : i + 1] for i in range(len(data))]) == whole


_SAMPLE = encode_envelope(b"\x00\x01body", pending=1, elapsed_time=3, start_time=START, response_code=0)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for pos, value in edits:
        if buf:
            buf[pos % len(buf)] = value
    if cut is not None:
        del buf[cut % (len(buf) + 1) :]
    return bytes(buf)


_fuzz_inputs = st.one_of(
    st.binary(max_size=300),
    st.builds(
        _mutate,
        st.just(_SAMPLE),
        st.lists(
            st.tuples(st.integers(0, 10**4), st.sampled_from([0, 0x0A, 0x0D, 0x3A, 0x20, 0x41, 0xFF])),
            max_size=4,
        ),
        st.none() | st.integers(0, 10**4),
    ),
    st.lists(st.sampled_from([b"PROCESSING", b"PENDING", b"DONE", b"X-A: 1", b"", b"\r", b"junk"])).map(
        lambda parts: b"\r\n".join(parts)
    ),
)


@settings(max_examples=examples(2000))
@given(_fuzz_inputs, st.lists(st.integers(0, 10**4), max_size=6))
def test_fuzz_parser_only_raises_protocol_errors(data: bytes, cuts: list[int]) -> None:
    whole = feed([data])
    _same(whole, feed(_split(data, cuts)))
    with contextlib.suppress(ProtocolError):
        parse_envelope(data)


def _incremental(data: bytes) -> Envelope | ProtocolError:
    """What parse_envelope gave before its one-pass path: the envelope from the incremental parser."""
    parser = EnvelopeParser()
    try:
        parser.receive_data(data)
        parser.receive_data(b"")
        body = b"".join(ev.data for ev in parser.events() if isinstance(ev, BodyData))
    except ProtocolError as exc:
        return exc
    return Envelope(parser.meta_tags, parser.headers, body, parser.body_offset or 0)


def _one_shot(data: bytes) -> Envelope | ProtocolError:
    try:
        return parse_envelope(data)
    except ProtocolError as exc:
        return exc


@settings(max_examples=examples(2000))
@given(
    st.one_of(
        _fuzz_inputs,
        _envelopes.map(
            lambda p: encode_envelope(p[0], pending=p[1], elapsed_time=p[2], response_code=p[3], headers=p[4])
        ),
    )
)
@example(b"DONE\r\n" + b"X-A: " + b"v" * (MAX_LINE - 5) + b"\r\n\r\nbody")  # the longest header line
@example(b"DONE\r\n" + b"X-A: " + b"v" * (MAX_LINE - 4) + b"\r\n\r\nbody")  # one byte too long
@example(b"DONE  \t\n\nbody")  # blanks after a meta-tag, bare LF
@example(b"PENDING\r\nDONE\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n")
def test_one_pass_path_gives_what_the_incremental_parser_gives(data: bytes) -> None:
    got, want = _one_shot(data), _incremental(data)
    if isinstance(want, ProtocolError):
        assert isinstance(got, type(want)) and (got.message, got.offset) == (want.message, want.offset)
    else:
        assert got == want


# -- captures: HTTP head, chunked coding, the mapihttp-response / mapihttp-request kinds --------------


def chunk(data: bytes, size: int) -> bytes:
    out = b""
    for i in range(0, len(data), size):
        piece = data[i : i + size]
        out += b"%X\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def test_remove_chunked() -> None:
    data = b"PROCESSING\r\nDONE\r\n\r\nbody"
    for size in (1, 3, 7, 100):
        dc = remove_chunked(chunk(data, size))
        assert dc.data == data
        assert dc.terminated
    assert remove_chunked(b"4;ext=1\r\nabcd\r\n0\r\nTrailer: x\r\n\r\n").data == b"abcd"
    cut = remove_chunked(b"4\r\nabcd\r\n")  # the capture ended while the server was still sending
    assert cut.data == b"abcd"
    assert not cut.terminated
    with pytest.raises(ShortBuffer) as info:
        remove_chunked(b"8\r\nabcd")
    assert info.value.offset == 3
    with pytest.raises(DecodeError) as info2:
        remove_chunked(b"4\r\nabcdXX")
    assert info2.value.offset == 7
    with pytest.raises(DecodeError) as info2:
        remove_chunked(b"4\r\nabcd\r\nzz\r\n")
    assert info2.value.offset == 9
    assert looks_chunked(b"1a\r\nPROCESSING")
    assert not looks_chunked(b"PROCESSING\r\n")
    assert not looks_chunked(b"DONE\r\n")


def test_map_offset_points_into_the_chunked_input() -> None:
    raw = chunk(b"0123456789", 4)  # 4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\n
    dc = remove_chunked(raw)
    for i in range(10):
        assert raw[dc.map_offset(i)] == ord(str(i))


def test_split_http_head() -> None:
    head, pos = split_http_head(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nx-a: 2\r\n\r\nBODY")
    assert head.start_line == "HTTP/1.1 200 OK"
    assert head.header("X-A") == "1 folded, 2"
    assert pos == len(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nx-a: 2\r\n\r\n")
    with pytest.raises(ShortBuffer):
        split_http_head(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n")
    with pytest.raises(DecodeError) as info:
        split_http_head(b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n")
    assert info.value.offset == 17


def _execute_stream() -> bytes:
    return load_vector("oxcmapihttp_execute_response_stream_constructed.txt")


def _wait_stream(body: bytes | None = None) -> bytes:
    """A NotificationWait response stream (its body decoder is emsmdb's; execute.py owns Execute's)."""
    body = NotificationWaitResponse(event_pending=1).encode() if body is None else body
    return encode_envelope(body, pending=1, elapsed_time=2, start_time=START)


def test_mapihttp_response_kind_plain_and_chunked() -> None:
    data = _wait_stream()
    for capture in (data, chunk(data, 5), chunk(data, 64)):
        ctx = DecodeContext(request_type="NotificationWait")
        out = to_jsonable(decode_mapihttp_response(capture, ctx))
        assert out["Envelope"]["MetaTags"] == ["PROCESSING", "PENDING", "DONE"]
        assert out["Body"]["EventPending"] == 1
        assert "Envelope" in ctx.partial
        assert ("Chunked" in out) == (capture != data)
    # The Execute vector decodes through whichever Execute body decoder is registered.
    out = to_jsonable(
        decode_mapihttp_response(chunk(_execute_stream(), 7), DecodeContext(request_type="Execute"))
    )
    assert out["Envelope"]["AdditionalHeaders"]["X-ElapsedTime"] == "3"
    assert "Note" not in out
    # Without a request type the body is shown as hex with a hint.
    out = to_jsonable(decode_mapihttp_response(_execute_stream(), DecodeContext()))
    assert out["Body"] == parse_envelope(_execute_stream()).body.hex().upper()
    assert "--request-type" in out["Note"]


def test_mapihttp_response_with_http_head() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/mapi-http\r\nTransfer-Encoding: chunked\r\n"
        b"x-requesttype: notificationwait\r\nX-ResponseCode: 0\r\n\r\n"
    )
    out = to_jsonable(decode_mapihttp_response(head + chunk(_wait_stream(), 9), DecodeContext()))
    assert out["HTTP"]["StartLine"] == "HTTP/1.1 200 OK"
    assert out["Body"]["EventPending"] == 1
    # X-ResponseCode other than 0: the body is diagnostic text (2.2.3.3.3).
    fail = b"HTTP/1.1 200 OK\r\nX-ResponseCode: 6\r\nContent-Length: 20\r\n\r\n<html>no cookie</html>"
    out = to_jsonable(decode_mapihttp_response(fail, DecodeContext()))
    assert out["XResponseCode"].startswith("6 Invalid Context Cookie")
    assert out["Body"] == "<html>no cookie</html>"


def test_mapihttp_response_late_failure_and_unknown_type() -> None:
    data = encode_envelope(b"<p>late</p>", start_time=START, response_code=10)
    out = to_jsonable(decode_mapihttp_response(data, DecodeContext(request_type="Execute")))
    assert out["Body"] == "<p>late</p>"
    out = to_jsonable(decode_mapihttp_response(_execute_stream(), DecodeContext(request_type="Frobnicate")))
    assert "no response body decoder" in out["Note"]


def test_mapihttp_response_error_offsets_count_input_bytes() -> None:
    # An AuxiliaryBufferSize too large for the body: the offset must point at it in the input as given.
    stream = _wait_stream(struct.pack("<4I", 0, 0, 1, 0xFF))
    for capture in (stream, chunk(stream, 6), chunk(stream, 1)):
        ctx = DecodeContext(request_type="NotificationWait")
        with pytest.raises(DecodeError) as info:
            decode_mapihttp_response(capture, ctx)
        assert info.value.field == "AuxiliaryBufferSize"
        assert capture[info.value.offset or 0] == 0xFF
        assert ctx.partial["NotificationWait response body"]["EventPending"] == 1
    # An envelope fault inside a chunked capture, too.
    broken = _execute_stream().replace(b"X-StartTime", b"X StartTime")
    capture = chunk(broken, 4)
    with pytest.raises(DecodeError) as info:
        decode_mapihttp_response(capture, DecodeContext())
    at = info.value.offset or 0
    assert capture[at : at + 1] == b"X"
    assert capture[at + 1 : at + 3] != b"-E"


def test_mapihttp_request_kind() -> None:
    body = load_vector("oxcmapihttp_connect_request_constructed.txt")
    out = to_jsonable(decode_mapihttp_request(body, DecodeContext(request_type="Connect")))
    assert out["Body"]["UserDn"] == "/o=ex/cn=u1"
    post = (
        b"POST /mapi/emsmdb/?MailboxId=x@example.com HTTP/1.1\r\nContent-Type: application/mapi-http\r\n"
        b"X-RequestType: Connect\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    out = to_jsonable(decode_mapihttp_request(post + body, DecodeContext()))
    assert out["Body"]["LcidSort"] == 0x409
    assert out["HTTP"]["Headers"]["X-RequestType"] == "Connect"
    with pytest.raises(TrailingData):
        decode_mapihttp_request(post + body + b"!", DecodeContext())
    with pytest.raises(ShortBuffer):
        decode_mapihttp_request(post + body[:-1], DecodeContext())
    out = to_jsonable(decode_mapihttp_request(body, DecodeContext()))
    assert out["Body"] == body.hex().upper()
    # A fault in the body is reported at its offset in the whole input.
    with pytest.raises(ShortBuffer) as info:
        decode_mapihttp_request(
            post.replace(b"%d" % len(body), b"%d" % (len(body) - 2)) + body[:-2], DecodeContext()
        )
    assert (info.value.offset or 0) >= len(post)


def test_kinds_are_registered_and_cli_decodes() -> None:
    from mapiprobe import cli

    table = kinds()
    assert "mapihttp-response" in table
    assert "mapihttp-request" in table
    hexdata = chunk(_execute_stream(), 16).hex()
    rc = cli.main(["decode", "mapihttp-response", "--hex", hexdata, "--request-type", "Execute", "--json"])
    assert rc == 0
    rc = cli.main(["decode", "mapihttp-response", "--hex", "505245"])
    assert rc == 2


def test_cli_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    from mapiprobe import cli

    rc = cli.main(["decode", "mapihttp-response", "--hex", _execute_stream().hex(), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    assert doc["decoded"]["Envelope"]["AdditionalHeaders"]["X-ElapsedTime"] == "3"


@settings(max_examples=examples(2000))
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(lambda d, s: chunk(d, s), _fuzz_inputs, st.integers(1, 20)),
        st.builds(lambda d: b"HTTP/1.1 200 OK\r\nX-ResponseCode: 0\r\n\r\n" + d, _fuzz_inputs),
        st.builds(
            _mutate,
            st.just(chunk(load_vector("oxcmapihttp_execute_response_stream_constructed.txt"), 8)),
            st.lists(st.tuples(st.integers(0, 10**4), st.integers(0, 255)), max_size=3),
            st.none() | st.integers(0, 10**4),
        ),
    ),
    st.sampled_from([None, "Execute", "Connect", "PING", "Disconnect", "NotificationWait"]),
)
def test_fuzz_mapihttp_response(data: bytes, request_type: str | None) -> None:
    with contextlib.suppress(ProtocolError):
        decode_mapihttp_response(data, DecodeContext(request_type=request_type))
