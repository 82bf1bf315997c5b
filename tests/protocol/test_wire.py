"""The bounds-checked reader and writer (protocol/wire.py)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.errors import DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData
from mapiprobe.protocol.wire import Reader, Writer
from tests.hypothesis_profiles import examples


def test_little_endian_integers() -> None:
    r = Reader(bytes.fromhex("01 0201 04030201 0807060504030201 FEFF"))
    assert r.u8() == 0x01
    assert r.u16() == 0x0102
    assert r.u32() == 0x01020304
    assert r.u64() == 0x0102030405060708
    assert r.i16() == -2
    r.expect_end()


def test_guid_is_windows_byte_order() -> None:
    # MS-OXCDATA 2.5.1: Data1..Data3 little-endian, Data4 as-is. GUID_NSPI from MS-OXNSPI 2.2.1.7.
    raw = bytes.fromhex("DCA740C8C042101AB4B908002B2FE182")
    g = Reader(raw).guid()
    assert g == uuid.UUID("C840A7DC-42C0-1A10-B4B9-08002B2FE182")
    assert Writer().guid(g).getvalue() == raw


def test_strings() -> None:
    r = Reader(b"abc\x00" + "Zoë".encode("utf-16-le") + b"\x00\x00")
    assert r.asciiz() == "abc"
    assert r.utf16z() == "Zoë"
    assert r.at_end()
    w = Writer().asciiz("abc").utf16z("Zoë")
    assert w.getvalue() == b"abc\x00" + "Zoë".encode("utf-16-le") + b"\x00\x00"


def test_utf16_terminator_is_aligned() -> None:
    # "\u0100" is 00 01: the 00 at an odd offset must not be taken for a terminator.
    data = "\u0100\u0001".encode("utf-16-le") + b"\x00\x00"
    assert Reader(data).utf16z() == "\u0100\u0001"


def test_short_input_reports_offset_and_expectation() -> None:
    r = Reader(b"\x01\x02\x03", base=100)
    r.u8()
    with pytest.raises(ShortBuffer) as info:
        r.u32("RowCount")
    err = info.value
    assert err.offset == 101
    assert err.field == "RowCount"
    assert "4 bytes" in (err.expected or "")
    assert "offset 101" in str(err)


def test_missing_terminators() -> None:
    with pytest.raises(ShortBuffer):
        Reader(b"abc").asciiz()
    with pytest.raises(ShortBuffer):
        Reader(b"a\x00b").utf16z()


def test_bad_utf16_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        Reader(b"\x00\xd8\x00\x00").utf16z()  # lone high surrogate


def test_restrict_to_requires_exact_consumption() -> None:
    r = Reader(b"\x01\x00\x02\x00\x03")
    with r.restrict_to(4) as sub:
        assert sub.u16() == 1
        assert sub.u16() == 2
    assert r.u8() == 3
    r2 = Reader(b"\x01\x00\x02\x00")
    with pytest.raises(TrailingData), r2.restrict_to(4) as sub:
        sub.u16()
    r3 = Reader(b"\x01\x00")
    with pytest.raises(ShortBuffer), r3.restrict_to(4):
        pass
    r4 = Reader(b"\x01\x00\x02\x00")
    with pytest.raises(ShortBuffer), r4.restrict_to(2) as sub:
        sub.u32()  # the window hides the bytes beyond it


def test_hostile_counts_fail_fast() -> None:
    r = Reader(b"\xff\xff\xff\xff" + b"\x00" * 8)
    with pytest.raises(ShortBuffer):
        r.count(4, "PropertyValueCount", item_size=4)
    with pytest.raises(DecodeError):
        Reader(b"\xa1\x86\x01\x00").count(4, limit=100_000)  # 100001 > 100000


def test_writer_range_checks() -> None:
    with pytest.raises(EncodeError):
        Writer().u16(0x10000)
    with pytest.raises(EncodeError):
        Writer().u8(-1)
    with pytest.raises(EncodeError):
        Writer().asciiz("a\x00b")
    with pytest.raises(EncodeError):
        Writer().asciiz("é", encoding="ascii")


def test_writer_patch() -> None:
    w = Writer().u16(0).u32(0)
    w.patch_u16(0, 0xBEEF)
    w.patch_u32(2, 7)
    assert w.getvalue() == bytes.fromhex("EFBE07000000")


@given(st.lists(st.tuples(st.sampled_from(["u8", "u16", "u32", "u64", "i32"]), st.integers(0, 2**7 - 1))))
def test_integer_round_trip(items: list[tuple[str, int]]) -> None:
    w = Writer()
    for kind, value in items:
        getattr(w, kind)(value)
    r = Reader(w.getvalue())
    assert [getattr(r, kind)() for kind, _ in items] == [v for _, v in items]
    r.expect_end()


@given(st.text(), st.binary(max_size=300))
def test_string_and_counted_round_trip(text: str, blob: bytes) -> None:
    text = text.replace("\x00", "")
    w = Writer().utf16z(text).counted_bytes(blob, 2).counted_bytes(blob, 4)
    r = Reader(w.getvalue())
    assert r.utf16z() == text
    assert r.counted_bytes(2) == blob
    assert r.counted_bytes(4) == blob
    r.expect_end()


@settings(max_examples=examples(2000))
@given(st.binary(max_size=64))
def test_reader_never_leaks_foreign_exceptions(data: bytes) -> None:
    r = Reader(data)
    ops = [
        r.u8,
        r.u16,
        r.asciiz,
        r.utf16z,
        r.guid,
        lambda: r.counted_bytes(2),
        lambda: r.count(4, item_size=2),
    ]
    i = 0
    try:
        while True:
            ops[i % len(ops)]()
            i += 1
    except ProtocolError:
        pass
