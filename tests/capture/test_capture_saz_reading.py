"""The fast SAZ reader gives exactly what the plain one gives, damaged input included.

protocol/capture.py reads a SAZ member in one piece from its local header and inflates it itself (ISA-L
when installed, else zlib), checking the directory's CRC-32 and size; anything unusual goes through
``ZipFile.open`` as before. Heads are split without a Python loop per line in the usual case, remembered
header lines are not split again, and only secret headers are redacted one by one. Each test here reads the
same bytes both ways (or compares the fast helper with the general one on random input) and asserts the same
exchanges, notes and redaction.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol import capture
from mapiprobe.protocol.capture import CapturedExchange, read_saz
from mapiprobe.protocol.httpmsg import dechunk
from mapiprobe.protocol.redact import _split_commas, redact_headers
from mapiprobe.transport.capturefile import write_saz
from tests.hypothesis_profiles import examples

from .conftest import Recording
from .test_capture_faults import http_request, http_response, make_saz, secret_sessions


def read(raw: bytes) -> tuple[list[CapturedExchange], list[str]]:
    cap = read_saz(io.BytesIO(raw))
    exchanges = list(cap)
    return exchanges, cap.notes


def read_plain(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[CapturedExchange], list[str]]:
    """Every member through ZipFile.open, as before the fast path."""
    with monkeypatch.context() as m:
        m.setattr(capture, "_read_member_fast", lambda window, info: None)
        return read(raw)


def saz_of(recording: Recording) -> bytes:
    out = io.BytesIO()
    write_saz(recording.records, out)
    return out.getvalue()


class _NoSeek(io.RawIOBase):
    """A write-only stream that cannot seek: zipfile then writes data descriptors (flag bit 3)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def rezip(raw: bytes, method: int, *, seekable: bool = True) -> bytes:
    """The same members again, packed with ``method`` (and data descriptors when not ``seekable``)."""
    out: io.BytesIO | _NoSeek = io.BytesIO() if seekable else _NoSeek()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", method) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return out.getvalue() if isinstance(out, io.BytesIO) else bytes(out.data)


def central(raw: bytes, name: str) -> int:
    """Offset of the central directory header of member ``name``."""
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        (name_len,) = struct.unpack_from("<H", raw, at + 28)
        if raw[at + 46 : at + 46 + name_len] == name.encode():
            return at
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} not in the zip directory")


def local(raw: bytes, name: str) -> int:
    """Offset of the local header of member ``name``."""
    (offset,) = struct.unpack_from("<I", raw, central(raw, name) + 42)
    return int(offset)


def small_saz() -> bytes:
    sessions = [
        (http_request("GET", f"https://h.test/{n}", [("Host", "h.test"), ("Cookie", f"a={n}; b=2")]),
         http_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", f"s={n}; Path=/")],
                       b"body %d " % n * 50))
        for n in range(1, 4)
    ]  # fmt: skip
    return make_saz(sessions)


# -- the zip members -----------------------------------------------------------------------------------


def test_a_run_reads_the_same_fast_and_through_zipfile(
    recording: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = saz_of(recording)
    fast, notes = read(raw)
    assert len(fast) == len(recording.records) and not notes
    assert (fast, notes) == read_plain(raw, monkeypatch)
    with monkeypatch.context() as m:  # zlib, when ISA-L is not installed
        m.setattr(capture, "_INFLATE", zlib)
        assert read(raw) == (fast, notes)
    assert [ex.notes for ex in fast] == [ex.notes for ex in read_plain(raw, monkeypatch)[0]]


def test_secrets_are_redacted_the_same_fast_and_through_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = make_saz(secret_sessions(tmp_path))
    fast, notes = read(raw)
    assert (fast, notes) == read_plain(raw, monkeypatch)
    assert fast[0].header("Authorization", response=False) == "Basic [redacted]"
    assert fast[1].header("WWW-Authenticate") == "NTLM [redacted]"


@pytest.mark.parametrize(
    ("method", "seekable"),
    [(zipfile.ZIP_STORED, True), (zipfile.ZIP_DEFLATED, False), (zipfile.ZIP_STORED, False),
     (zipfile.ZIP_BZIP2, True), (zipfile.ZIP_LZMA, True)],
)  # fmt: skip
def test_stored_members_data_descriptors_and_other_methods_read_alike(
    recording: Recording, method: int, seekable: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = saz_of(recording)
    other = rezip(raw, method, seekable=seekable)
    flags = {info.flag_bits & 0x08 for info in zipfile.ZipFile(io.BytesIO(other)).infolist()}
    assert flags == ({0} if seekable else {0x08})
    assert read(other) == read(raw)
    assert read(other) == read_plain(other, monkeypatch)


def test_a_member_whose_crc_is_wrong_gets_the_zipfile_note(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bytearray(small_saz())
    at = central(bytes(raw), "raw/02_s.txt") + 16
    raw[at] ^= 0x01  # the directory's CRC-32 of that member
    fast, notes = read(bytes(raw))
    assert (fast, notes) == read_plain(bytes(raw), monkeypatch)
    assert any("raw/02_s.txt is damaged" in n and "CRC" in n for n in fast[1].notes), fast[1].notes
    assert fast[0].status == fast[2].status == 200 and fast[1].status is None


def test_a_local_header_that_disagrees_goes_through_zipfile(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bytearray(small_saz())
    at = local(bytes(raw), "raw/01_m.xml") + 30 + len("raw/01_")
    raw[at : at + 1] = b"n"  # the local header names raw/01_n.xml
    fast, notes = read(bytes(raw))
    assert (fast, notes) == read_plain(bytes(raw), monkeypatch)
    assert any("raw/01_m.xml is damaged" in n and "differ" in n for n in fast[0].notes), fast[0].notes
    assert fast[0].started_at is None and fast[1].started_at is not None


def test_a_member_whose_directory_size_runs_into_the_next_reads_as_zipfile_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = bytearray(small_saz())
    at = central(bytes(raw), "raw/01_c.txt") + 20
    (csize,) = struct.unpack_from("<I", raw, at)
    struct.pack_into("<I", raw, at, csize + 40)  # overlaps raw/01_s.txt: newer Pythons refuse it (zip bombs)
    fast, notes = read(bytes(raw))
    assert (fast, notes) == read_plain(bytes(raw), monkeypatch)
    assert fast[1:] == read(small_saz())[0][1:]


def test_a_member_over_the_limit_is_skipped_and_a_large_one_read_in_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = small_saz()
    sizes = {i.filename: i.file_size for i in zipfile.ZipFile(io.BytesIO(raw)).infolist()}
    normal = read(raw)
    with monkeypatch.context() as m:
        m.setattr(capture, "FAST_MEMBER", 64)  # every compressed member is larger: all through zipfile
        assert read(raw) == normal
    limit = sizes["raw/02_s.txt"] - 1
    with monkeypatch.context() as m:
        m.setattr(capture, "MAX_MEMBER", limit)
        exchanges, _ = read(raw)
    big = [name for name, size in sizes.items() if size > limit]
    assert "raw/02_s.txt" in big
    for name in big:
        number = int(name[4:6])
        note = f"{name} is {sizes[name]} bytes, more than the {limit} read: skipped"
        assert note in exchanges[number - 1].notes


def test_an_encrypted_member_or_an_unknown_method_is_a_note_not_an_exception() -> None:
    raw = bytearray(small_saz())
    normal, _ = read(bytes(raw))
    for name in ("raw/01_c.txt",):  # the encrypted flag, in the directory and the local header
        raw[central(bytes(raw), name) + 8] |= 0x01
        raw[local(bytes(raw), name) + 6] |= 0x01
    struct.pack_into("<H", raw, central(bytes(raw), "raw/02_s.txt") + 10, 99)  # AES, say
    exchanges, notes = read(bytes(raw))
    assert not notes and len(exchanges) == 3
    assert any("raw/01_c.txt is encrypted" in n for n in exchanges[0].notes), exchanges[0].notes
    assert any("raw/02_s.txt" in n and "method 99" in n for n in exchanges[1].notes), exchanges[1].notes
    assert exchanges[0].method == "" and exchanges[1].status is None
    assert exchanges[2] == normal[2]
    assert exchanges[1].request_headers == normal[1].request_headers


def test_the_header_index_filled_while_reading_is_what_header_would_build(recording: Recording) -> None:
    exchanges, _ = read(saz_of(recording))
    checked = 0
    for ex in exchanges:
        fresh = dataclasses.replace(ex)  # _index starts empty: header() builds it
        assert fresh._index is None
        for response, headers in ((False, ex.request_headers), (True, ex.response_headers)):
            for name in [name for name, _ in headers] + ["X-Not-There"]:
                assert ex.header(name, response=response) == fresh.header(name, response=response)
                checked += 1
    assert checked > len(exchanges) * 10


def test_session_timers_read_the_same_with_one_parser_after_bad_ones() -> None:
    raw = bytearray(small_saz())
    good = read(bytes(raw))[0][2]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(bytes(raw))) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "raw/01_m.xml":
                data = data[:-20]  # not well-formed
            elif info.filename == "raw/02_m.xml":
                data = data.replace(b"?>", b'?><!doctype Session [<!ENTITY x "y">]>', 1)
            dst.writestr(info, data)
    exchanges, _ = read(out.getvalue())
    assert any("not readable XML" in n for n in exchanges[0].notes), exchanges[0].notes
    assert any("carry a DOCTYPE" in n for n in exchanges[1].notes), exchanges[1].notes
    assert exchanges[2] == good and good.timings and good.peer_address == "10.0.0.5"


# -- heads, redaction: the fast helpers against the general ones ----------------------------------------

_LINE_PARTS = [
    "Host",
    "host",
    "Set-Cookie",
    "Cookie",
    "X-A",
    ":",
    ": ",
    " ",
    "\t",
    "a=b",
    "v",
    "\xa0",
    "\x85",
]


@st.composite
def heads(draw: st.DrawFn) -> str:
    """Heads as CRLF lines, most of them "name: value", with odd characters and line breaks mixed in."""
    lines = draw(st.lists(st.lists(st.sampled_from(_LINE_PARTS)).map("".join), max_size=8))
    seps = draw(st.lists(st.sampled_from(["\r\n"] * 6 + ["\n", "\r", "\x0b", "\x1c"]), min_size=len(lines)))
    return "GET / HTTP/1.1" + "".join(sep + line for sep, line in zip(seps, lines, strict=False))


_SEEN: dict[str, capture._Field] = {}  # shared by the examples: remembered lines are used too


@settings(max_examples=examples(600), deadline=None)
@given(heads())
def test_splitting_a_head_fast_is_splitting_it_line_by_line(text: str) -> None:
    notes_fast: list[str] = []
    notes_slow: list[str] = []
    fast = capture._split_head(text, "request", notes_fast, _SEEN)
    slow = capture._split_lines(text.splitlines(), "request", notes_slow)
    assert fast == slow and notes_fast == notes_slow


@settings(max_examples=examples(600), deadline=None)
@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"a", b" ", b":"]), max_size=20).map(b"".join))
def test_the_end_of_a_head_is_where_the_blank_line_regex_finds_it(data: bytes) -> None:
    for limit in (capture.MAX_HEAD, 6):
        capture_max = capture.MAX_HEAD
        try:
            capture.MAX_HEAD = limit
            m = re.compile(rb"\r?\n\r?\n").search(data, 0, limit)
            assert capture._head_end(data) == (None if m is None else m.span())
        finally:
            capture.MAX_HEAD = capture_max


_NAMES = ["Cookie", "cookie", "Set-Cookie", "Authorization", "WWW-Authenticate", "X-A", "Content-Type"]


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(["a=1; b=2", "NTLM TlRMTVNTUAAB", "x"]))))
def test_redacting_only_the_secret_headers_is_redact_headers(fields: list[tuple[str, str]]) -> None:
    names = tuple(name.lower() for name, _ in fields)
    first = dict(zip(names[::-1], [value for _, value in fields][::-1], strict=True))
    msg = capture._Message([], tuple(fields), b"", False, [], 0, first, names)
    headers, index = capture._redacted(msg)
    assert headers == redact_headers(fields)
    assert index == capture._first_values(headers)


def _split_commas_char_by_char(value: str) -> list[str]:
    """redact._split_commas as it was: a loop over every character."""
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


@settings(max_examples=examples(600), deadline=None)
@given(st.lists(st.sampled_from(['"', ",", "\\", " ", "a", "realm=", "\t"]), max_size=16).map("".join))
def test_splitting_a_challenge_at_commas_is_the_character_loop(value: str) -> None:
    assert _split_commas(value) == _split_commas_char_by_char(value)


def _dechunk_bytearray(data: bytes) -> tuple[bytes, str | None]:
    """httpmsg.dechunk as it was: the chunks gathered in a bytearray, copied out at the end."""
    out = bytearray()
    pos, end = 0, len(data)
    while True:
        if pos == end:
            return bytes(out), "the chunked body ends without its last (zero-size) chunk"
        eol = data.find(b"\r\n", pos, pos + 1024)
        line = data[pos:eol] if eol >= 0 else data[pos : pos + 1024]
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            if not out:
                return data, "Transfer-Encoding says chunked but the body is not chunked; taken as it is"
            return bytes(out), f"bad chunk size {size_text[:20]!r} at byte {pos}"
        if eol < 0:
            return bytes(out), f"the chunked body is cut off in a chunk-size line at byte {pos}"
        pos = eol + 2
        if size == 0:
            return bytes(out), None
        chunk = data[pos : pos + size]
        out += chunk
        if len(chunk) < size:
            return bytes(out), f"the chunked body is cut off: a {size}-byte chunk has only {len(chunk)} bytes"
        pos += size
        if data[pos : pos + 2] != b"\r\n":
            if pos >= end:
                return bytes(out), "the chunked body ends without its last (zero-size) chunk"
            return bytes(out), f"a chunk is not followed by CRLF at byte {pos}"
        pos += 2


_CHUNK_PARTS = [
    b"5\r\nhello\r\n",
    b"0\r\n\r\n",
    b"3;x\r\nabc\r\n",
    b"z\r\n",
    b"\r\n",
    b"A\r\n",
    b"0123456789",
    b"\r",
]


@settings(max_examples=examples(600), deadline=None)
@given(
    st.lists(st.sampled_from([*_CHUNK_PARTS, b" 2 \r\nxy\r\n", b"-1\r\n", b"ff\r\n"]), max_size=7).map(
        b"".join
    )
)
def test_dechunking_into_a_list_is_dechunking_into_a_bytearray(data: bytes) -> None:
    assert dechunk(data) == _dechunk_bytearray(data)
