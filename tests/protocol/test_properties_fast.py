"""The batch PropertyRow decoder (PropertyRow.decode_many and its in-place _fast_row) against the general
one (PropertyRow.decode, row by row), for AddressBookPropertyRows and for ROP rows (StandardPropertyRow and
FlaggedPropertyRow, MS-OXCDATA 2.8.1): the same rows with the same value types, or the same ProtocolError
(type, offset, field, message) after the same rows, on random, truncated and mutated bytes.

Also: the slotted PropertyValue/PropertyRow keep their public behaviour, and the session's
entries_from_rows (which reads rows by column index) gives what _entry gives row by row.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import random
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.properties import (
    FLAG_ABSENT,
    FLAG_ERROR,
    Context,
    ErrorCode,
    ErrorValue,
    FileTime,
    PropertyRow,
    PropertyTag,
    PropertyValue,
    PropType,
    _batch_columns,
    _fast_plan,
    _fast_row,
    _NotFast,
)
from mapiprobe.protocol.wire import Reader, Writer
from tests.hypothesis_profiles import examples

FUZZ = settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])

AB = Context.ADDRESS_BOOK

# The column types an address book asks for (and a few that take the compiled-reader path in _fast_row).
FAST_TYPES = (
    PropType.STRING,
    PropType.STRING8,
    PropType.BINARY,
    PropType.INTEGER32,
    PropType.BOOLEAN,
    PropType.TIME,
    PropType.ERROR_CODE,
)
READER_TYPES = (
    PropType.MV_STRING,
    PropType.MV_BINARY,
    PropType.MV_STRING8,
    PropType.MV_INTEGER32,
    PropType.INTEGER16,
    PropType.INTEGER64,
)
# PidTagDisplayName, PidTagEntryId, PidTagFolderId (an INTEGER64 FolderId), PidTagMid, a named-range id.
PROP_IDS = (0x3001, 0x0FFF, 0x39FE, 0x6748, 0x674A, 0x8001)

_text = st.text(st.characters(min_codepoint=1, exclude_categories=("Cs",)), max_size=12)
_text8 = st.text(st.characters(codec="cp1252", min_codepoint=1), max_size=12)
_blob = st.binary(max_size=12)
_has_value = st.sampled_from((0xFF, 0x01, 0x7F))  # any non-zero HasValue byte means "a value follows"


def _mv(element: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """None, or (form, elements): spec form (elements back to back) or gromox's presence byte per element."""
    return st.none() | st.tuples(
        st.sampled_from(("spec", "gromox")), st.lists(st.none() | element, max_size=3)
    )


VALUES: dict[int, st.SearchStrategy[Any]] = {
    PropType.STRING: st.none() | _text,
    PropType.STRING8: st.none() | _text8,
    PropType.BINARY: st.none() | _blob,
    PropType.INTEGER32: st.integers(-(2**31), 2**31 - 1),
    PropType.BOOLEAN: st.sampled_from((0, 1, 2, 0xFF)),  # the raw byte
    PropType.TIME: st.integers(0, 2**64 - 1),
    PropType.ERROR_CODE: st.integers(0, 2**32 - 1),
    PropType.MV_STRING: _mv(_text),
    PropType.MV_STRING8: _mv(_text8),
    PropType.MV_BINARY: _mv(_blob),
    PropType.MV_INTEGER32: st.none() | st.lists(st.integers(-(2**31), 2**31 - 1), max_size=3),
    PropType.INTEGER16: st.integers(-(2**15), 2**15 - 1),
    PropType.INTEGER64: st.integers(-(2**63), 2**63 - 1),
}


def _bare(w: Writer, prop_type: int, value: Any) -> None:
    base = prop_type & ~0x1000
    if base == PropType.STRING:
        w.utf16z(value)
    elif base == PropType.STRING8:
        w.asciiz(value, encoding="cp1252")
    elif base == PropType.BINARY:
        w.counted_bytes(value, 4)
    elif base == PropType.INTEGER32:
        w.i32(value)
    elif base == PropType.INTEGER16:
        w.i16(value)
    elif base == PropType.INTEGER64:
        w.i64(value)
    elif base == PropType.BOOLEAN:
        w.u8(value)
    elif base == PropType.TIME:
        w.u64(value)
    else:
        assert base == PropType.ERROR_CODE
        w.u32(value)


def _write_value(w: Writer, prop_type: int, value: Any, has_value: int) -> None:
    """An AddressBookPropertyValue (MS-OXCMAPIHTTP 2.2.1.1), with the gromox multi-value form too."""
    if prop_type in (PropType.STRING, PropType.STRING8, PropType.BINARY) or prop_type & 0x1000:
        if value is None:
            w.u8(0)
            return
        w.u8(has_value)
    if prop_type == PropType.MV_INTEGER32:
        w.u32(len(value))
        for item in value:
            w.i32(item)
    elif prop_type & 0x1000:
        form, items = value
        w.u32(len(items))
        for item in items:
            if form == "gromox":
                if item is None:
                    w.u8(0x00)
                    continue
                w.u8(0xFF)
            _bare(w, prop_type, item if item is not None else _EMPTY[prop_type])
    else:
        _bare(w, prop_type, value)


_EMPTY = {PropType.MV_STRING: "", PropType.MV_STRING8: "", PropType.MV_BINARY: b""}


@st.composite
def columns(draw: st.DrawFn, types: tuple[int, ...] = FAST_TYPES + READER_TYPES) -> tuple[int, ...]:
    n = draw(st.integers(1, 8))
    return tuple((draw(st.sampled_from(PROP_IDS)) << 16) | draw(st.sampled_from(types)) for _ in range(n))


@st.composite
def row_bytes(draw: st.DrawFn, cols: tuple[int, ...]) -> bytes:
    """One AddressBookPropertyRow of ``cols``: standard, or flagged with present/absent/error columns."""
    w = Writer()
    flagged = draw(st.booleans())
    w.u8(0x01 if flagged else 0x00)
    for col in cols:
        prop_type = col & 0xFFFF
        if flagged:
            flag = draw(st.sampled_from((0x00, 0x00, FLAG_ABSENT, FLAG_ERROR)))
            w.u8(flag)
            if flag == FLAG_ABSENT:
                continue
            if flag == FLAG_ERROR:
                w.u32(draw(st.integers(0, 2**32 - 1)))
                continue
        _write_value(w, prop_type, draw(VALUES[prop_type]), draw(_has_value))
    return w.getvalue()


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with a byte overwritten, inserted or removed, or as it is."""
    how = draw(st.sampled_from(("same", "truncate", "overwrite", "insert", "delete")))
    if how == "same" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        return data[:at]
    if how == "overwrite":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if how == "insert":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at:]
    return data[:at] + data[at + 1 :]


# -- comparing the two decoders ---------------------------------------------------------------------


def canon(x: Any) -> Any:
    """A comparable form that also tells bool from int, ErrorValue from ErrorCode, FileTime from int...
    (and compares floats by their bits, NaNs included)."""
    if isinstance(x, PropertyRow):
        return ("row", x.flag, tuple(canon(v) for v in x.values))
    if isinstance(x, PropertyValue):
        return ("pv", type(x.tag), int(x.tag), canon(x.value), x.flag)
    if isinstance(x, tuple):
        return ("tuple", tuple(canon(v) for v in x))
    if isinstance(x, float):
        return (float, struct.pack("<d", x))
    return (type(x), x)


def _outcome(
    decode: Any, data: bytes, cols: tuple[int, ...], count: int, window: int | None, *, ctx: Context
) -> Any:
    r = Reader(b"\xee\xee" + data + b"\x00\xff", base=100)
    r.take(2)
    rows: list[PropertyRow] = []
    try:
        if window is None:
            decode(r, cols, count, rows, ctx)
        else:
            with r.restrict_to(window):
                decode(r, cols, count, rows, ctx)
                r.take(r.remaining)
    except ProtocolError as exc:
        error: Any = (type(exc), exc.offset, exc.field, exc.message, exc.expected)
        return "error", error, [canon(row) for row in rows]
    return "rows", [canon(row) for row in rows], r.offset


def general(r: Reader, cols: tuple[int, ...], count: int, rows: list[PropertyRow], ctx: Context) -> None:
    for _ in range(count):
        rows.append(PropertyRow.decode(r, cols, ctx))


def batch(r: Reader, cols: tuple[int, ...], count: int, rows: list[PropertyRow], ctx: Context) -> None:
    out = PropertyRow.decode_many(r, cols, count, ctx, into=rows)
    assert out is rows


def assert_same(
    data: bytes, cols: tuple[int, ...], count: int, window: int | None = None, ctx: Context = AB
) -> Any:
    if window is not None:
        window = min(window, len(data) + 2)
    expected = _outcome(general, data, cols, count, window, ctx=ctx)
    assert _outcome(batch, data, cols, count, window, ctx=ctx) == expected
    return expected


@st.composite
def buffers(draw: st.DrawFn) -> tuple[tuple[int, ...], bytes, int]:
    cols = draw(columns())
    rows = draw(st.lists(row_bytes(cols), min_size=1, max_size=4))
    return cols, b"".join(rows), len(rows)


@EXAMPLES
@given(buffers())
def test_well_formed_rows_decode_the_same(case: tuple[tuple[int, ...], bytes, int]) -> None:
    cols, data, count = case
    kind, rows, _ = assert_same(data, cols, count)
    # A gromox multi-value whose elements are absent can also parse in the spec form, which the general
    # decoder then prefers (properties._read_ab_multi_strings): both decoders fail the same way there.
    assert kind == "error" or len(rows) == count


def _columns(plan: Any) -> tuple[Any, Any]:
    return _batch_columns(plan), _batch_columns(plan)


@EXAMPLES
@given(st.data())
def test_well_formed_rows_take_the_fast_path(data: st.DataObject) -> None:
    """_fast_row itself (no fall-back) reads every well-formed row of concrete column types."""
    cols = data.draw(columns())
    raw = data.draw(row_bytes(cols))
    plan = _fast_plan(cols, AB, "cp1252")
    assert plan is not None
    general = Reader(raw)
    try:
        expected = PropertyRow.decode(general, cols, AB)
    except ProtocolError:  # the gromox/spec ambiguity of test_well_formed_rows_decode_the_same
        with pytest.raises((_NotFast, IndexError, struct.error, UnicodeError, ProtocolError)):
            _fast_row(Reader(raw), raw, 0, len(raw), _columns(plan), encoding="cp1252", shared={})
        return
    row, end = _fast_row(Reader(raw), raw, 0, len(raw), _columns(plan), encoding="cp1252", shared={})
    assert canon(row) == canon(expected)
    assert end == general.offset


@FUZZ
@given(st.data())
def test_broken_rows_fail_the_same(data: st.DataObject) -> None:
    """Truncated and mutated rows: the same rows, or the same ProtocolError after the same rows."""
    cols, raw, count = data.draw(buffers())
    broken = data.draw(mutated(raw))
    extra = data.draw(st.integers(0, 2))  # ask for more rows than there are
    window = data.draw(st.none() | st.integers(0, len(broken) + 2))
    assert_same(broken, cols, count + extra, window)


@FUZZ
@given(
    st.lists(
        st.sampled_from((*FAST_TYPES, *READER_TYPES, PropType.UNSPECIFIED, 0x301F, 0x00FD)),
        min_size=1,
        max_size=6,
    ),
    st.binary(max_size=80),
    st.integers(1, 5),
)
def test_random_bytes_only_protocol_errors(types: list[int], raw: bytes, count: int) -> None:
    """Any bytes, any columns (PtypUnspecified, MultivalueInstance and PtypRestriction included): only a
    ProtocolError escapes, and the batch decoder agrees with the general one."""
    cols = tuple(0x3001_0000 | t for t in types)
    assert_same(raw, cols, count)


@st.composite
def repeating_buffers(draw: st.DrawFn) -> tuple[tuple[int, ...], bytes, int]:
    """Up to 150 rows whose values come from small pools, so that they repeat (memoised columns), and with
    columns whose values never repeat (memos dropped after the first rows of a batch)."""
    cols = draw(columns(types=(PropType.STRING, PropType.INTEGER32, PropType.BINARY, PropType.STRING8)))
    pools = {
        col: draw(st.lists(VALUES[col & 0xFFFF], min_size=1, max_size=draw(st.sampled_from((1, 3, 200)))))
        for col in cols
    }
    unique = {col for col in cols if draw(st.integers(0, 3)) == 0}
    count = draw(st.integers(1, 150))
    w = Writer()
    for n in range(count):
        flagged = draw(st.integers(0, 4)) == 0
        w.u8(0x01 if flagged else 0x00)
        for col in cols:
            prop_type = col & 0xFFFF
            if flagged:
                flag = draw(st.sampled_from((0x00, 0x00, FLAG_ABSENT, FLAG_ERROR)))
                w.u8(flag)
                if flag == FLAG_ABSENT:
                    continue
                if flag == FLAG_ERROR:
                    w.u32(draw(st.sampled_from((0x8004010F, 0x80040102))))
                    continue
            if col in unique:
                value: Any = {PropType.INTEGER32: n, PropType.BINARY: n.to_bytes(4, "little")}.get(
                    prop_type, f"u{n}"
                )
            else:
                value = draw(st.sampled_from(pools[col]))
            _write_value(w, prop_type, value, 0xFF)
    return cols, w.getvalue(), count


@EXAMPLES
@given(repeating_buffers(), st.data())
def test_repeated_values_are_shared_and_equal(
    case: tuple[tuple[int, ...], bytes, int], data: st.DataObject
) -> None:
    cols, raw, count = case
    assert_same(raw, cols, count)
    broken = data.draw(mutated(raw))
    assert_same(broken, cols, count)


def test_memo_shares_repeated_values_only_where_they_repeat() -> None:
    cols = (0x3A17001F, 0x39FE001F, 0x39000003)
    w = Writer()
    for n in range(200):
        w.u8(0x00).u8(0xFF).utf16z(f"title {n % 3}").u8(0xFF).utf16z(f"user{n}@x").i32(n % 2)
    rows = PropertyRow.decode_many(Reader(w.getvalue()), cols, 200, AB)
    titles = {id(row.values[0]) for row in rows}
    assert len(titles) == 3  # one PropertyValue per distinct title
    assert len({id(row.values[2]) for row in rows}) == 2
    assert len({id(row.values[1]) for row in rows}) == 200
    assert [row.values[0].value for row in rows[:4]] == ["title 0", "title 1", "title 2", "title 0"]
    assert_same(w.getvalue(), cols, 200)


def test_gromox_multi_value_presence_bytes() -> None:
    cols = (0x3001001F, 0x8001101F, 0x80021102)
    w = Writer().u8(0x00)
    w.u8(0xFF).utf16z("Ann")
    w.u8(0xFF).u32(2).u8(0xFF).utf16z("a").u8(0xFF).utf16z("b")  # gromox form
    w.u8(0xFF).u32(3).u8(0xFF).u32(1).raw(b"\x01").u8(0x00).u8(0xFF).u32(0)  # gromox, an absent element
    w.u8(0x01).u32(2).u32(1).raw(b"\x01").u32(0)  # spec form
    cols += (0x80031102,)
    assert assert_same(w.getvalue(), cols, 1)[0] == "rows"
    row = PropertyRow.decode_many(Reader(w.getvalue()), cols, 1, AB)[0]
    assert [pv.value for pv in row.values[1:]] == [("a", "b"), (b"\x01", None, b""), (b"\x01", b"")]


def test_flagged_row_values() -> None:
    cols = (0x3001001F, 0x3A17001F, 0x39000003, 0x0FFF0102, 0x3003001E)
    w = Writer().u8(0x01)
    w.u8(0x00).u8(0xFF).utf16z("Ann")
    w.u8(FLAG_ERROR).u32(0x8004010F)
    w.u8(FLAG_ABSENT)
    w.u8(0x00).u8(0x00)  # present, HasValue 0
    w.u8(0x00).u8(0x01).asciiz("x\xe9", encoding="cp1252")
    row = PropertyRow.decode_many(Reader(w.getvalue()), cols, 1, AB)[0]
    assert row.flag == 0x01
    assert [pv.flag for pv in row.values] == [0x00, FLAG_ERROR, FLAG_ABSENT, 0x00, 0x00]
    assert row.values[1].value == ErrorValue(0x8004010F) and type(row.values[1].value) is ErrorValue
    assert [pv.value for pv in row.values][2:] == [None, None, "x\xe9"]


def test_scalar_types() -> None:
    cols = (0x1000000B, 0x10010040, 0x1002000A, 0x10030003, 0x67480014)
    w = Writer().u8(0x00).u8(0x02).u64(5).u32(0x80004005).i32(-7).u64(0x0001_0000_0000_0002)
    row = PropertyRow.decode_many(Reader(w.getvalue()), cols, 1, AB)[0]
    values = [pv.value for pv in row.values]
    assert values[0] is True
    assert type(values[1]) is FileTime and values[1] == 5
    assert type(values[2]) is ErrorCode and values[2] == 0x80004005
    assert values[3] == -7
    assert type(values[4]).__name__ == "FolderId"
    assert all(pv.flag is None for pv in row.values)


def test_error_keeps_rows_before_it_and_offset() -> None:
    cols = (0x3001001F, 0x39000003)
    good = Writer().u8(0).u8(0xFF).utf16z("Ann").i32(6).getvalue()
    bad = Writer().u8(0).u8(0xFF).raw(b"A\x00n").getvalue()  # no terminator
    rows: list[PropertyRow] = []
    with pytest.raises(ProtocolError) as caught:
        PropertyRow.decode_many(Reader(good + bad, base=10), cols, 2, AB, into=rows)
    assert len(rows) == 1 and rows[0].values[0].value == "Ann"
    assert caught.value.offset == 10 + len(good) + 2
    assert "terminator" in caught.value.message


def test_bad_row_flag_and_value_flag() -> None:
    cols = (0x3001001F,)
    for raw in (b"\x02\xff\x00\x00", b"\x01\x05"):
        assert assert_same(raw, cols, 1)[0] == "error"


def test_window_end_is_respected() -> None:
    """A row that runs past the window (but not past the buffer) is a ShortBuffer in both decoders."""
    cols = (0x3001001F,)
    raw = Writer().u8(0).u8(0xFF).utf16z("Ann").getvalue()
    for size in range(len(raw) + 1):
        assert_same(raw, cols, 1, window=size)


def test_unspecified_columns_use_the_general_decoder() -> None:
    typed = Writer().u8(0).u16(0x0003).i32(4).getvalue()
    for ctx in (AB, ROP):
        assert _fast_plan((0x30010000,), ctx, "cp1252") is None
        assert canon(PropertyRow.decode_many(Reader(typed), (0x30010000,), 1, ctx)[0]) == canon(
            PropertyRow.decode(Reader(typed), (0x30010000,), ctx)
        )
        assert PropertyRow.decode_many(Reader(b""), (0x3001001F,), 0, ctx) == []


def test_a_real_page_is_identical() -> None:
    """A page the simulator's encoder writes (the GAL's columns, standard and flagged rows)."""
    from mapiprobe.session.addressbook import ENTRY_COLUMNS

    rng = random.Random(5)
    w = Writer()
    rows = []
    for i in range(300):
        values: dict[int, Any] = {
            0x3001001F: f"User {i} \u00e9\u4e2d",
            0x39FE001F: f"user{i}@example.org",
            0x0FFF0102: b"\x87" + bytes(27) + i.to_bytes(4, "little"),
            0x39000003: i % 7,
            0x3A00001F: f"user{i}",
        }
        for tag in (0x3A17001F, 0x3A18001F, 0x3A19001F, 0x3A08001F):
            pick = rng.random()
            if pick < 0.7:
                values[tag] = "x" * (i % 5)
            elif pick < 0.85:
                values[tag] = ErrorValue(0x8004010F)
        row = PropertyRow.build(ENTRY_COLUMNS, values)
        rows.append(row)
        row.encode(w, ENTRY_COLUMNS, AB)
    decoded = PropertyRow.decode_many(Reader(w.getvalue()), ENTRY_COLUMNS, len(rows), AB)
    assert [canon(r) for r in decoded] == [canon(r) for r in rows]


# -- ROP rows (StandardPropertyRow / FlaggedPropertyRow in a ROP buffer) ----------------------------------
#
# MS-OXCDATA 2.11.2.1: no HasValue byte, a PtypBinary (and PtypServerId, PtypObject) has a 16-bit COUNT,
# multi-valued types a 32-bit one. Fixed-size values are drawn as raw bytes, so every bit pattern (NaNs,
# booleans other than 0/1, negative ids) is met.

ROP = Context.ROP

ROP_FIXED = {
    PropType.INTEGER16: 2,
    PropType.INTEGER32: 4,
    PropType.FLOATING32: 4,
    PropType.FLOATING64: 8,
    PropType.CURRENCY: 8,
    PropType.FLOATING_TIME: 8,
    PropType.ERROR_CODE: 4,
    PropType.BOOLEAN: 1,
    PropType.INTEGER64: 8,
    PropType.TIME: 8,
    PropType.GUID: 16,
}
ROP_TYPES = (
    *ROP_FIXED,
    PropType.STRING,
    PropType.STRING8,
    PropType.BINARY,
    PropType.SERVER_ID,
    PropType.OBJECT,
    PropType.NULL,
    PropType.MV_STRING,
    PropType.MV_STRING8,
    PropType.MV_BINARY,
    PropType.MV_INTEGER32,
    PropType.MV_INTEGER64,
    PropType.MV_GUID,
    0x301F,  # a MultivalueInstance column: one PtypString value
    0x3003,
)
# PidTagSubject, PidTagMessageClass, PidTagFolderId, PidTagParentFolderId, PidTagMid, a named-range id.
ROP_PROP_IDS = (0x0037, 0x001A, 0x6748, 0x6749, 0x674A, 0x8001)


@st.composite
def rop_value(draw: st.DrawFn, prop_type: int) -> bytes:
    """The bytes of one ROP PropertyValue of ``prop_type``."""
    if prop_type & 0x2000:
        prop_type &= 0x0FFF
    if prop_type & 0x1000:
        items = draw(st.lists(rop_value(prop_type & ~0x1000), max_size=3))
        return struct.pack("<I", len(items)) + b"".join(items)
    if prop_type in ROP_FIXED:
        size = ROP_FIXED[prop_type]
        return draw(st.binary(min_size=size, max_size=size))
    if prop_type == PropType.STRING:
        return str(draw(_text)).encode("utf-16-le") + b"\x00\x00"
    if prop_type == PropType.STRING8:
        return str(draw(_text8)).encode("cp1252") + b"\x00"
    if prop_type == PropType.NULL:
        return b""
    blob = draw(_blob)
    return struct.pack("<H", len(blob)) + blob


@st.composite
def rop_columns(draw: st.DrawFn, types: tuple[int, ...] = ROP_TYPES) -> tuple[int, ...]:
    n = draw(st.integers(1, 8))
    return tuple((draw(st.sampled_from(ROP_PROP_IDS)) << 16) | draw(st.sampled_from(types)) for _ in range(n))


@st.composite
def rop_row_bytes(draw: st.DrawFn, cols: tuple[int, ...]) -> bytes:
    """One ROP PropertyRow of ``cols``: standard, or flagged with present/absent/error columns."""
    flagged = draw(st.booleans())
    out = [b"\x01" if flagged else b"\x00"]
    for col in cols:
        if flagged:
            flag = draw(st.sampled_from((0x00, 0x00, FLAG_ABSENT, FLAG_ERROR)))
            out.append(bytes([flag]))
            if flag == FLAG_ABSENT:
                continue
            if flag == FLAG_ERROR:
                out.append(struct.pack("<I", draw(st.integers(0, 2**32 - 1))))
                continue
        out.append(draw(rop_value(col & 0xFFFF)))
    return b"".join(out)


@st.composite
def rop_buffers(draw: st.DrawFn) -> tuple[tuple[int, ...], bytes, int]:
    cols = draw(rop_columns())
    rows = draw(st.lists(rop_row_bytes(cols), min_size=1, max_size=4))
    return cols, b"".join(rows), len(rows)


@EXAMPLES
@given(rop_buffers())
def test_rop_rows_decode_the_same(case: tuple[tuple[int, ...], bytes, int]) -> None:
    cols, data, count = case
    kind, rows, _ = assert_same(data, cols, count, ctx=ROP)
    assert kind == "rows" and len(rows) == count


@EXAMPLES
@given(st.data())
def test_rop_rows_take_the_fast_path(data: st.DataObject) -> None:
    """_fast_row itself (no fall-back) reads every well-formed ROP row of concrete column types."""
    cols = data.draw(rop_columns())
    raw = data.draw(rop_row_bytes(cols))
    plan = _fast_plan(cols, ROP, "cp1252")
    assert plan is not None
    general = Reader(raw)
    expected = PropertyRow.decode(general, cols, ROP)
    row, end = _fast_row(Reader(raw), raw, 0, len(raw), _columns(plan), encoding="cp1252", shared={})
    assert canon(row) == canon(expected)
    assert end == general.offset


@FUZZ
@given(st.data())
def test_broken_rop_rows_fail_the_same(data: st.DataObject) -> None:
    """Truncated and mutated ROP rows: the same rows, or the same ProtocolError after the same rows."""
    cols, raw, count = data.draw(rop_buffers())
    broken = data.draw(mutated(raw))
    extra = data.draw(st.integers(0, 2))
    window = data.draw(st.none() | st.integers(0, len(broken) + 2))
    assert_same(broken, cols, count + extra, window, ROP)


@FUZZ
@given(
    st.lists(
        st.sampled_from((*ROP_TYPES, PropType.UNSPECIFIED, PropType.RESTRICTION, 0x0099)),
        min_size=1,
        max_size=6,
    ),
    st.binary(max_size=80),
    st.integers(1, 5),
)
def test_random_bytes_in_rop_rows(types: list[int], raw: bytes, count: int) -> None:
    """Any bytes, any columns (an unknown type and PtypRestriction included): only a ProtocolError
    escapes, and the batch decoder agrees with the general one."""
    cols = tuple(0x0037_0000 | t for t in types)
    assert_same(raw, cols, count, ctx=ROP)


@st.composite
def repeating_rop_buffers(draw: st.DrawFn) -> tuple[tuple[int, ...], bytes, int]:
    """Up to 150 rows (mostly standard, some flagged) whose values come from small pools, so that the
    memoised columns (strings, 32-bit integers, booleans) repeat, and others never do."""
    cols = draw(
        rop_columns(types=(PropType.STRING, PropType.INTEGER32, PropType.BOOLEAN, PropType.INTEGER64))
    )
    pools = {
        col: draw(st.lists(rop_value(col & 0xFFFF), min_size=1, max_size=draw(st.sampled_from((1, 3, 200)))))
        for col in cols
    }
    count = draw(st.integers(1, 150))
    out = []
    for n in range(count):
        flagged = draw(st.integers(0, 4)) == 0
        out.append(b"\x01" if flagged else b"\x00")
        for col in cols:
            if flagged:
                flag = draw(st.sampled_from((0x00, 0x00, FLAG_ABSENT, FLAG_ERROR)))
                out.append(bytes([flag]))
                if flag == FLAG_ABSENT:
                    continue
                if flag == FLAG_ERROR:
                    out.append(struct.pack("<I", draw(st.sampled_from((0x8004010F, 0x80040102)))))
                    continue
            unique = col & 0xFFFF == PropType.STRING and col >> 16 == 0x0037
            out.append(f"s{n}\x00".encode("utf-16-le") if unique else draw(st.sampled_from(pools[col])))
    return cols, b"".join(out), count


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repeating_rop_buffers(), st.data())
def test_repeated_rop_values_are_shared_and_equal(
    case: tuple[tuple[int, ...], bytes, int], data: st.DataObject
) -> None:
    cols, raw, count = case
    assert_same(raw, cols, count, ctx=ROP)
    assert_same(data.draw(mutated(raw)), cols, count, ctx=ROP)


def test_rop_row_values_and_types() -> None:
    """A contents-table row (the columns of a mailbox sync) and a flagged one, value by value."""
    cols = (0x0037001F, 0x0C1A001F, 0x0E060040, 0x0E080003, 0x001A001E, 0x674A0014, 0x0E07000B, 0x0FFF0102)
    w = Writer().u8(0x00).utf16z("Hi \u00e9").utf16z("").u64(7).i32(-3).asciiz("IPM.Note", encoding="cp1252")
    w.u64(0xFFFF_0000_0000_0001).u8(0x02).u16(3).raw(b"\x00\x01\x02")
    w.u8(0x01).u8(0x00).utf16z("x").u8(FLAG_ERROR).u32(0x8004010F).u8(FLAG_ABSENT).u8(0x00).i32(5)
    w.u8(FLAG_ABSENT).u8(0x00).u64(1).u8(0x00).u8(0x00).u8(0x00).u16(0)
    rows = PropertyRow.decode_many(Reader(w.getvalue()), cols, 2, ROP)
    standard, flagged = rows
    assert [pv.value for pv in standard.values] == [
        "Hi \u00e9",
        "",
        7,
        -3,
        "IPM.Note",
        0xFFFF_0000_0000_0001,
        True,
        b"\x00\x01\x02",
    ]
    assert [type(pv.value).__name__ for pv in standard.values] == [
        "str",
        "str",
        "FileTime",
        "int",
        "str",
        "MessageId",
        "bool",
        "bytes",
    ]
    assert all(pv.flag is None for pv in standard.values) and standard.flag == 0
    assert [pv.flag for pv in flagged.values] == [0, FLAG_ERROR, FLAG_ABSENT, 0, FLAG_ABSENT, 0, 0, 0]
    assert type(flagged.values[1].value) is ErrorValue and flagged.values[1].value == 0x8004010F
    assert [pv.value for pv in flagged.values[5:]] == [1, False, b""]
    assert type(flagged.values[5].value).__name__ == "MessageId"
    assert_same(w.getvalue(), cols, 2, ctx=ROP)


def test_rop_error_offset_and_rows_before_it() -> None:
    """A string without its terminator in the second row: the first row is kept, the error is the
    general decoder's, at the string's first byte."""
    cols = (0x0037001F, 0x0E080003)
    good = Writer().u8(0).utf16z("Ann").i32(6).getvalue()
    bad = Writer().u8(0).raw(b"A\x00n").getvalue()
    rows: list[PropertyRow] = []
    with pytest.raises(ProtocolError) as caught:
        PropertyRow.decode_many(Reader(good + bad, base=10), cols, 2, ROP, into=rows)
    assert len(rows) == 1 and rows[0].values[0].value == "Ann"
    assert caught.value.offset == 10 + len(good) + 1
    assert "terminator" in caught.value.message
    assert assert_same(good + bad, cols, 2, ctx=ROP)[0] == "error"


def test_rop_window_end_is_respected() -> None:
    """A row that runs past the window (but not past the buffer) is a ShortBuffer in both decoders."""
    cols = (0x0037001F, 0x0FFF0102, 0x0E080003)
    raw = Writer().u8(0).utf16z("Ann").u16(2).raw(b"ab").i32(1).getvalue()
    for size in range(len(raw) + 1):
        assert_same(raw, cols, 1, window=size, ctx=ROP)


def test_query_rows_response_uses_the_batch_decoder() -> None:
    """RopQueryRows rows decode through decode_many: the same rows as decode, shared memoised values."""
    from mapiprobe.protocol.rops import RopQueryRowsResponse
    from mapiprobe.protocol.rops.base import ResponseContext

    cols = (0x0037001F, 0x001A001F, 0x0E080003)
    rows = tuple(
        PropertyRow.build(cols, {cols[0]: f"subject {n}", cols[1]: "IPM.Note", cols[2]: n % 2})
        for n in range(30)
    )
    body = Writer().u8(0).u32(0).u8(0).u16(len(rows))
    for row in rows:
        row.encode(body, cols, ROP)
    decoded = RopQueryRowsResponse.decode_body(Reader(body.getvalue()), ResponseContext(columns=cols))
    assert isinstance(decoded, RopQueryRowsResponse)
    assert [canon(row) for row in decoded.row_data] == [canon(row) for row in rows]
    assert len({id(row.values[1]) for row in decoded.row_data}) == 1


def _general_rows(raw: bytes, base: int, cols: tuple[int, ...], count: int) -> Any:
    """What PropertyRow.decode gives row by row: ("rows", rows, offset after them) or ("error", ...)."""
    r = Reader(raw, base=base)
    rows: list[PropertyRow] = []
    try:
        general(r, cols, count, rows, ROP)
    except ProtocolError as exc:
        return "error", (type(exc), exc.offset, exc.message), [canon(row) for row in rows]
    return "rows", [canon(row) for row in rows], r.offset


def _response_rows(cls: Any, head: bytes, raw: bytes, cols: tuple[int, ...], name: str | None) -> Any:
    """Decode a response body (``head`` then the rows) with ``cls``: the same shape as _general_rows."""
    from mapiprobe.protocol.rops.base import ResponseContext

    r = Reader(head + raw)
    try:
        response = cls.decode_body(r, ResponseContext(columns=cols))
    except ProtocolError as exc:
        return "error", (type(exc), exc.offset, exc.message)
    rows = response.values[name] if name else [response.row_data]
    return "rows", [canon(row) for row in rows], r.offset


@EXAMPLES
@given(rop_buffers(), st.data())
def test_expand_row_and_get_properties_specific_rows(
    case: tuple[tuple[int, ...], bytes, int], data: st.DataObject
) -> None:
    """RopExpandRow's RowData (layout Rows) and RopGetPropertiesSpecific's row go through decode_many: the
    rows PropertyRow.decode reads one by one and the offset after them, or its error (type, offset,
    message)."""
    from mapiprobe.protocol.rops import RESPONSES, RopId
    from mapiprobe.protocol.rops.property import RopGetPropertiesSpecificResponse

    expand_row = RESPONSES[RopId.RopExpandRow]
    cols, raw, count = case
    raw = data.draw(mutated(raw))
    for cls, head, n, name in (
        (expand_row, Writer().u8(0).u32(0).u32(count).u16(count).getvalue(), count, "RowData"),
        (RopGetPropertiesSpecificResponse, Writer().u8(0).u32(0).getvalue(), 1, None),
    ):
        if n > len(raw):  # RopExpandRow checks its RowCount against the bytes left before any row
            continue
        expected = _general_rows(raw, len(head), cols, n)
        if expected[0] == "error":
            expected = expected[:2]  # a response keeps no partial rows
        assert _response_rows(cls, head, raw, cols, name) == expected


# -- the slotted value classes keep their behaviour -----------------------------------------------------


def test_property_value_public_behaviour() -> None:
    fast = PropertyRow.decode_many(
        Reader(b"\x01\x00\xff" + "é".encode("utf-16-le") + b"\x00\x00"), (0x3001001F,), 1, AB
    )[0]
    pv = fast.values[0]
    built = PropertyValue(PropertyTag(0x3001001F), "é", 0)
    assert pv == built and hash(pv) == hash(built) and repr(pv) == repr(built)
    assert pv != PropertyValue(PropertyTag(0x3001001F), "é") and pv != (pv.tag, pv.value, pv.flag)
    assert pv.tag == 0x3001001F and pv.value == "é" and pv.flag == 0 and not pv.is_error
    with pytest.raises(dataclasses.FrozenInstanceError):
        pv.value = "x"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        pv.other = 1  # type: ignore[attr-defined]
    assert dataclasses.replace(pv, value="a").value == "a"
    assert [f.name for f in dataclasses.fields(pv)] == ["tag", "value", "flag"]
    assert pickle.loads(pickle.dumps(pv)) == pv
    assert to_jsonable(pv) == pv.__json__() == to_jsonable(built)
    json.dumps(to_jsonable(fast))
    assert fast == PropertyRow(0x01, (built,)) and hash(fast) == hash(PropertyRow(0x01, (built,)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.flag = 0  # type: ignore[misc]
    assert fast.get(0x3001001F) == "é" and repr(fast) == repr(PropertyRow(0x01, (built,)))


# -- entries_from_rows: by column index, the same AbEntry as _entry row by row ---------------------------

_ENTRY_TAGS = (
    0x3001001F,
    0x39FE001F,
    0x0FFF0102,
    0x3A17001F,
    0x39000003,
    0x3A00001F,
    0x3A18001F,
    0x3A19001F,
    0x3A08001F,
    0x0FF60102,
    0x3001001E,
    0x12340003,
)
_ANY_VALUE = st.one_of(
    st.none(),
    _text,
    st.binary(max_size=6),
    st.sampled_from((b"\x87" + bytes(31), b"\x01\x02\x03\x04", ErrorValue(5), True, 3)),
    st.integers(-5, 5),
)


@st.composite
def ab_rows(draw: st.DrawFn) -> tuple[tuple[int, ...], list[PropertyRow]]:
    cols = tuple(draw(st.lists(st.sampled_from(_ENTRY_TAGS), max_size=10)))
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        width = len(cols) if draw(st.integers(0, 4)) else draw(st.integers(0, len(cols) + 2))
        values = tuple(
            PropertyValue(
                PropertyTag(cols[i] if i < len(cols) else 0x80000003),
                draw(_ANY_VALUE),
                draw(st.sampled_from((None, None, 0, 1, 0xA))),
            )
            for i in range(width)
        )
        rows.append(PropertyRow(draw(st.sampled_from((0, 1))), values))
    return cols, rows


@EXAMPLES
@given(ab_rows(), st.booleans())
def test_entries_from_rows_matches_entry(
    case: tuple[tuple[int, ...], list[PropertyRow]], share: bool
) -> None:
    from mapiprobe.session.addressbook import _entry, _plan, entries_from_rows

    cols, rows = case
    strings_a: dict[str, str] | None = {} if share else None
    strings_b: dict[str, str] | None = {} if share else None
    expected = tuple(_entry(row, _plan(cols), None, strings_a) for row in rows)
    got = entries_from_rows(rows, cols, strings_b)
    assert got == expected
    assert [tuple(map(type, dataclasses.astuple(e))) for e in got] == [
        tuple(map(type, dataclasses.astuple(e))) for e in expected
    ]
    assert strings_a == strings_b
