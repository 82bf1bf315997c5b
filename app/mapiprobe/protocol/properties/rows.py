"""PropertyRow: StandardPropertyRow / FlaggedPropertyRow (MS-OXCDATA 2.8.1) and AddressBookPropertyRow
(MS-OXCMAPIHTTP 2.2.1.7), with the batch decoder for pages of rows (RopQueryRows, GAL pages). Part of
:mod:`mapiprobe.protocol.properties`."""

from __future__ import annotations

import codecs
import functools
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DecodeError, EncodeError
from ..wire import Reader, Writer
from .types import (
    _ID_PROPS,
    Context,
    ErrorCode,
    ErrorValue,
    FileTime,
    FolderId,
    PropertyTag,
    PropType,
)
from .values import (
    FLAG_ABSENT,
    FLAG_ERROR,
    FLAG_PRESENT,
    PropertyValue,
    _compiled_reader,
    _read_flagged,
    _with_id_type,
    read_flagged_value,
    read_value,
    write_flagged_value,
    write_value,
)

# ---------------------------------------------------------------------------------------------------------
# PropertyRow (MS-OXCDATA 2.8.1; AddressBookPropertyRow MS-OXCMAPIHTTP 2.2.1.7)
# ---------------------------------------------------------------------------------------------------------


def _lookup(values: Mapping[int, Any], column: PropertyTag) -> tuple[PropertyTag, Any] | None:
    """Find the value for ``column``: by exact tag, then by a full tag with the same id, then by id alone.

    Returns the tag the value will carry: the column's own tag, except for a PtypUnspecified column, which
    takes the type of the key it was found under.
    """
    if int(column) in values:
        return column, values[int(column)]
    for key, v in values.items():
        if key > 0xFFFF and key >> 16 == column.prop_id:
            return (PropertyTag(key) if column.prop_type == PropType.UNSPECIFIED else column), v
    if column.prop_id in values:
        v = values[column.prop_id]
        if column.prop_type == PropType.UNSPECIFIED and not isinstance(v, ErrorValue):
            raise EncodeError(
                f"column {column!r} is PtypUnspecified: key its value by a full tag with the real type"
            )
        return column, v
    return None


_Column = tuple[PropertyTag, Callable[[Reader], Any] | None, Callable[[int], Any] | None]


@dataclass(frozen=True)
class _Plan:
    columns: tuple[_Column, ...]
    """Per column: its tag, a reader for its value (None for PtypUnspecified), and the id conversion."""
    standard: tuple[tuple[PropertyTag, Callable[[Reader], Any]], ...] | None
    """For a StandardPropertyRow when no column is PtypUnspecified: tag and reader, conversion included."""


def _as_id(cls: type[FolderId]) -> Callable[[Any], Any]:
    """PidTagFolderId/ParentFolderId/Mid values become :class:`FolderId`/:class:`MessageId` (unsigned)."""
    return lambda v: cls(v & 0xFFFFFFFFFFFFFFFF) if isinstance(v, int) else v


def _then(read: Callable[[Reader], Any], convert: Callable[[Any], Any]) -> Callable[[Reader], Any]:
    return lambda r: convert(read(r))


@functools.lru_cache(maxsize=128)
def _row_plan(columns: tuple[int, ...], ctx: Context, encoding: str) -> _Plan:
    """The decoding plan of one column list, made once: rows of a table share their columns, so the type
    dispatch happens here instead of per value."""
    plan: list[_Column] = []
    for column in columns:
        tag = PropertyTag(column & 0xFFFFFFFF)
        prop_type = tag.prop_type
        read = None if prop_type == PropType.UNSPECIFIED else _compiled_reader(prop_type, ctx, encoding)
        id_class = _ID_PROPS.get(tag.prop_id) if prop_type == PropType.INTEGER64 else None
        plan.append((tag, read, _as_id(id_class) if id_class else None))
    standard: list[tuple[PropertyTag, Callable[[Reader], Any]]] | None = []
    for tag, read, convert in plan:
        if read is None or standard is None:
            standard = None
        elif convert is None:
            standard.append((tag, read))
        else:
            standard.append((tag, _then(read, convert)))
    return _Plan(tuple(plan), tuple(standard) if standard is not None else None)


@dataclass(frozen=True, slots=True)
class PropertyRow:
    """StandardPropertyRow (Flag 0x00) or FlaggedPropertyRow (Flag 0x01), MS-OXCDATA 2.8.1.

    With ``ctx=Context.ADDRESS_BOOK`` the same class reads and writes an AddressBookPropertyRow
    (MS-OXCMAPIHTTP 2.2.1.7). A column of type PtypUnspecified carries its type on the wire
    (TypedPropertyValue, or FlaggedPropertyValueWithType where the u16 type precedes the flag); the decoded
    :class:`PropertyValue` then has the real type in its tag.
    """

    flag: int
    values: tuple[PropertyValue, ...]

    @classmethod
    def decode(
        cls, r: Reader, columns: Sequence[int], ctx: Context = Context.ROP, *, encoding: str = "cp1252"
    ) -> PropertyRow:
        start = r.offset
        flag = r.u8("Flag")
        if flag not in (0x00, 0x01):
            raise DecodeError(
                f"PropertyRow Flag 0x{flag:02X} is not defined",
                offset=start,
                field="Flag",
                expected="0x00 (StandardPropertyRow) or 0x01 (FlaggedPropertyRow) — MS-OXCDATA 2.8.1",
            )
        plan = _row_plan(tuple(columns), ctx, encoding)
        if flag == 0x00 and plan.standard is not None:  # the common case, without per-column branches
            return cls(0x00, tuple([PropertyValue(tag, read(r)) for tag, read in plan.standard]))
        out: list[PropertyValue] = []
        for column_tag, read, convert in plan.columns:
            tag = column_tag
            if read is None:  # PtypUnspecified column: the type comes from the wire
                prop_type = r.u16("PropertyType")
                tag = column_tag.with_type(prop_type)
                if flag == 0x01:
                    f, value = read_flagged_value(r, prop_type, ctx, encoding=encoding)
                    out.append(PropertyValue(tag, _with_id_type(tag, value), f))
                else:
                    out.append(
                        PropertyValue(
                            tag, _with_id_type(tag, read_value(r, prop_type, ctx, encoding=encoding))
                        )
                    )
            elif flag == 0x01:
                f, value = _read_flagged(r, read)
                out.append(PropertyValue(tag, convert(value) if convert and f == FLAG_PRESENT else value, f))
            else:
                value = read(r)
                out.append(PropertyValue(tag, convert(value) if convert else value))
        return cls(flag, tuple(out))

    @classmethod
    def decode_many(
        cls,
        r: Reader,
        columns: Sequence[int],
        count: int,
        ctx: Context = Context.ROP,
        *,
        encoding: str = "cp1252",
        into: list[PropertyRow] | None = None,
    ) -> list[PropertyRow]:
        """``count`` consecutive rows of ``columns``: what ``count`` calls of :meth:`decode` return, and the
        same error at the same offset if a row is wrong. Each row goes into ``into`` (returned) as soon as
        it is read, so a caller that reports partial results keeps the rows before a fault.

        Rows whose columns all have a concrete type (ROP rows and AddressBookPropertyRows alike) are read
        straight from the buffer by :func:`_fast_row`; a row it does not take on (or that is wrong) is read
        again from its first byte by :meth:`decode`. Rows of one call share equal values of a column (the
        same immutable :class:`PropertyValue`) where they repeat: a GAL page has few titles, departments or
        display types, a contents table few message classes and flags.
        """
        rows: list[PropertyRow] = [] if into is None else into
        key = tuple(columns)
        plan = _fast_plan(key, ctx, encoding) if count else None
        if plan is None:
            for _ in range(count):
                rows.append(cls.decode(r, columns, ctx, encoding=encoding))
            return rows
        data, pos, end = r.window()
        append = rows.append
        shared: dict[tuple[PropertyTag, int | None], PropertyValue] = {}
        if count < _MEMO_MIN:
            batch = _plain_columns(key, ctx, encoding)
        else:
            batch = (_batch_columns(plan), _batch_columns(plan))  # standard rows, flagged rows
        for i in range(count):
            if i == _MEMO_CHECK:
                batch = (_prune(batch[0]), _prune(batch[1]))
            try:
                row, after = _fast_row(r, data, pos, end, batch, encoding=encoding, shared=shared)
            except Exception:  # anything unusual: the general decoder reads the row and names any fault
                r.move_to(pos)
                row = cls.decode(r, columns, ctx, encoding=encoding)
                after = r.window()[1]
            append(row)
            pos = after
        r.move_to(pos)
        return rows

    def encode(
        self, w: Writer, columns: Sequence[int], ctx: Context = Context.ROP, *, encoding: str = "cp1252"
    ) -> None:
        if len(columns) != len(self.values):
            raise EncodeError(
                f"the row has {len(self.values)} value(s) but there are {len(columns)} column(s)"
            )
        if self.flag not in (0x00, 0x01):
            raise EncodeError(f"PropertyRow Flag 0x{self.flag:X} is not defined (0x00 or 0x01)")
        w.u8(self.flag)
        for column, pv in zip(columns, self.values, strict=True):
            prop_type = column & 0xFFFF
            if prop_type == PropType.UNSPECIFIED:
                prop_type = pv.tag.prop_type
                w.u16(prop_type)
            if self.flag == 0x01:
                f = pv.flag
                if f is None:
                    f = FLAG_ERROR if isinstance(pv.value, ErrorValue) else FLAG_PRESENT
                write_flagged_value(w, prop_type, f, pv.value, ctx, encoding=encoding)
            else:
                if pv.flag not in (None, FLAG_PRESENT) or isinstance(pv.value, ErrorValue):
                    raise EncodeError(
                        f"column {pv.tag!r} is absent or in error: that needs a FlaggedPropertyRow (flag 1)"
                    )
                write_value(w, prop_type, pv.value, ctx, encoding=encoding)

    def to_bytes(
        self, columns: Sequence[int], ctx: Context = Context.ROP, *, encoding: str = "cp1252"
    ) -> bytes:
        w = Writer()
        self.encode(w, columns, ctx, encoding=encoding)
        return w.getvalue()

    def get(self, tag: int) -> Any:
        """A column's value by full tag or by property id; ``None`` if absent, in error or not a column."""
        pv = self.find(tag)
        if pv is None or pv.flag in (FLAG_ABSENT, FLAG_ERROR) or isinstance(pv.value, ErrorValue):
            return None
        return pv.value

    def find(self, tag: int) -> PropertyValue | None:
        """The :class:`PropertyValue` of a column by full tag, else by property id (``tag`` <= 0xFFFF)."""
        for pv in self.values:
            if int(pv.tag) == tag:
                return pv
        pid = tag if tag <= 0xFFFF else tag >> 16
        for pv in self.values:
            if pv.tag.prop_id == pid:
                return pv
        return None

    @classmethod
    def build(cls, columns: Sequence[int], values: Mapping[int, Any]) -> PropertyRow:
        """A row for ``columns`` from ``values`` (keyed by full tag, or by property id).

        The result is a StandardPropertyRow if every column has a value; otherwise a FlaggedPropertyRow in
        which a missing column gets Flag 0x1 and an :class:`ErrorValue` gets Flag 0xA. For a PtypUnspecified
        column, key the value by its full tag (with its real type); a missing one is sent as PtypNull and
        an error as PtypErrorCode.
        """
        found: list[PropertyValue] = []
        complete = True
        for column in columns:
            col = PropertyTag(column & 0xFFFFFFFF)
            hit = _lookup(values, col)
            if hit is None:
                complete = False
                t = col.with_type(PropType.NULL) if col.prop_type == PropType.UNSPECIFIED else col
                found.append(PropertyValue(t, None, FLAG_ABSENT))
                continue
            t, value = hit
            if isinstance(value, ErrorValue):
                complete = False
                if col.prop_type == PropType.UNSPECIFIED:
                    t = col.with_type(PropType.ERROR_CODE)
                found.append(PropertyValue(t, value, FLAG_ERROR))
            else:
                found.append(PropertyValue(t, value, FLAG_PRESENT))
        if complete:
            return cls(0x00, tuple(PropertyValue(pv.tag, pv.value) for pv in found))
        return cls(0x01, tuple(found))

    def __json__(self) -> dict[str, Any]:
        kind = "StandardPropertyRow" if self.flag == 0 else "FlaggedPropertyRow"
        return {"Flag": f"0x{self.flag:02X} ({kind})", "ValueArray": list(self.values)}


AddressBookPropertyRow = PropertyRow
"""MS-OXCMAPIHTTP 2.2.1.7: the same structure; decode/encode it with ``ctx=Context.ADDRESS_BOOK``."""


# -- batch decoding --------------------------------------------------------------------------------------
#
# A GAL page is hundreds of rows of the same columns, and so is a RopQueryRows response of a contents
# table. _fast_row reads one row straight from the bytes with local variables (no Reader call per field)
# and builds the frozen PropertyValue/PropertyRow objects through their slot descriptors (no dataclass
# __init__). It must give exactly what PropertyRow.decode gives (tests/protocol/test_properties_fast.py
# checks this on random and broken rows of both contexts); on anything else it raises and
# PropertyRow.decode_many reads the row again with PropertyRow.decode, which reports the fault.

# How _fast_row reads a column. PtypString, PtypString8 and PtypBinary differ by context (MS-OXCDATA
# 2.11.2.1: ROP strings are bare and a ROP binary has a 16-bit COUNT; MS-OXCMAPIHTTP 2.2.1.1: in the
# address book a HasValue byte comes first and the COUNT has 32 bits). _K_STRING and _K_AB_STRING must stay
# 0 and 1 (and the two String8 kinds 1 apart): _fast_row adds the kind's offset to skip the HasValue byte.
_K_STRING = 0
_K_AB_STRING = 1
_K_INT32 = 2
_K_TIME = 3
_K_ID = 4  # PtypInteger64 PidTagFolderId/ParentFolderId/Mid: the column's extra is FolderId or MessageId
_K_BOOLEAN = 5
_K_BINARY = 6
_K_AB_BINARY = 7
_K_STRING8 = 8
_K_AB_STRING8 = 9
_K_ERROR_CODE = 10
_K_FIXED = 11  # another fixed-size number: the extra is (unpack_from, size)
_K_READER = 12  # anything else (multi-valued, PtypGuid, PtypCurrency...): the extra is its compiled reader

_CONTEXT_KINDS: dict[Context, dict[int, int]] = {
    Context.ROP: {PropType.STRING: _K_STRING, PropType.STRING8: _K_STRING8, PropType.BINARY: _K_BINARY},
    Context.ADDRESS_BOOK: {
        PropType.STRING: _K_AB_STRING,
        PropType.STRING8: _K_AB_STRING8,
        PropType.BINARY: _K_AB_BINARY,
    },
}
_SCALAR_KINDS: dict[int, int] = {
    PropType.INTEGER32: _K_INT32,
    PropType.BOOLEAN: _K_BOOLEAN,
    PropType.ERROR_CODE: _K_ERROR_CODE,
    PropType.TIME: _K_TIME,
}
"""Fixed-size column types with a kind of their own (the same in both contexts: no HasValue byte)."""
_FIXED: dict[int, tuple[Callable[[bytes, int], tuple[Any, ...]], int]] = {
    PropType.INTEGER16: (struct.Struct("<h").unpack_from, 2),
    PropType.INTEGER64: (struct.Struct("<q").unpack_from, 8),
    PropType.FLOATING32: (struct.Struct("<f").unpack_from, 4),
    PropType.FLOATING64: (struct.Struct("<d").unpack_from, 8),
    PropType.FLOATING_TIME: (struct.Struct("<d").unpack_from, 8),
}
"""Fixed-size numbers whose value is what struct gives (an int or a float), read as _K_FIXED."""
_MEMO_KINDS = frozenset({_K_STRING, _K_AB_STRING, _K_INT32, _K_BOOLEAN})
"""Kinds whose values tend to repeat down a table (titles, message classes, flags), memoised per batch."""

_FastColumn = tuple[PropertyTag, int, Any]
_FastPlan = tuple[_FastColumn, ...]


@functools.lru_cache(maxsize=128)
def _fast_plan(columns: tuple[int, ...], ctx: Context, encoding: str) -> _FastPlan | None:
    """(tag, kind, extra) per column; None when rows of ``columns`` are not read in place (a
    PtypUnspecified column, whose type comes from each row)."""
    standard = _row_plan(columns, ctx, encoding).standard
    if standard is None:
        return None
    by_context = _CONTEXT_KINDS[ctx]
    plan: list[_FastColumn] = []
    for tag, read in standard:
        prop_type = tag.prop_type
        kind = by_context.get(prop_type, _SCALAR_KINDS.get(prop_type, _K_READER))
        extra: Any = read
        if prop_type == PropType.INTEGER64 and tag.prop_id in _ID_PROPS:
            kind, extra = _K_ID, _ID_PROPS[tag.prop_id]
        elif kind == _K_READER and prop_type in _FIXED:
            kind, extra = _K_FIXED, _FIXED[prop_type]
        plan.append((tag, kind, extra))
    return tuple(plan)


_Memo = dict[Any, PropertyValue]
_BatchColumns = tuple[tuple[PropertyTag, int, Any, _Memo | None], ...]

_MEMO_CHECK = 64
"""After this many rows of a batch, a column that repeated few values stops being memoised."""
_MEMO_KEEP = 48
"""... that is, one whose memo holds more than this many distinct values."""


def _batch_columns(plan: _FastPlan) -> _BatchColumns:
    """The plan with a fresh memo (raw value -> PropertyValue) for the columns of a kind in _MEMO_KINDS."""
    return tuple((tag, kind, extra, {} if kind in _MEMO_KINDS else None) for tag, kind, extra in plan)


_MEMO_MIN = 4
"""Batches of fewer rows (a RopGetPropertiesSpecific row, a RopFindRow row) memoise nothing."""


@functools.lru_cache(maxsize=128)
def _plain_columns(
    columns: tuple[int, ...], ctx: Context, encoding: str
) -> tuple[_BatchColumns, _BatchColumns]:
    """The fast plan of ``columns`` without memos, for standard and flagged rows: immutable, so made once."""
    plan = _fast_plan(columns, ctx, encoding)
    assert plan is not None
    batch = tuple((tag, kind, extra, None) for tag, kind, extra in plan)
    return batch, batch


def _prune(columns: _BatchColumns) -> _BatchColumns:
    return tuple(
        (tag, kind, extra, memo if memo is not None and len(memo) <= _MEMO_KEEP else None)
        for tag, kind, extra, memo in columns
    )


class _NotFast(Exception):
    """_fast_row leaves this row to PropertyRow.decode."""


_new = object.__new__
_new_int = int.__new__
_pv_slots: Any = PropertyValue.__dict__
_set_tag, _set_value, _set_flag = (_pv_slots[n].__set__ for n in ("tag", "value", "flag"))
_row_slots: Any = PropertyRow.__dict__
_set_row_flag, _set_row_values = (_row_slots[n].__set__ for n in ("flag", "values"))
_unpack_u16 = struct.Struct("<H").unpack_from
_unpack_u32 = struct.Struct("<I").unpack_from
_unpack_i32 = struct.Struct("<i").unpack_from
_unpack_u64 = struct.Struct("<Q").unpack_from
_utf16le_decode = codecs.utf_16_le_decode


def _fast_row(
    r: Reader,
    data: bytes,
    pos: int,
    end: int,
    columns: tuple[_BatchColumns, _BatchColumns],
    *,
    encoding: str,
    shared: dict[tuple[PropertyTag, int | None], PropertyValue],
) -> tuple[PropertyRow, int]:
    """The PropertyRow at ``data[pos]`` (its Flag byte) and the index after it, which is at most ``end``
    (the end of ``r``'s window).

    Reads may run past ``end`` (not past ``data``: they raise IndexError or struct.error there); a row that
    does is refused at the end. ``r`` is only used (moved to the value) for the columns without an in-place
    reader. Any exception means "let PropertyRow.decode read this row". ``columns`` are the columns with
    their memos for a standard and for a flagged row (their values differ by Flag); ``shared`` holds the
    PropertyValue of each (column, error code or None) met in a flagged row. Both are for the rows of one
    batch to share.
    """
    row_flag = data[pos]
    pos += 1
    if row_flag > 0x01:
        raise _NotFast
    flag: int | None = None
    values: list[PropertyValue] = []
    append = values.append
    value: Any
    key: Any = None
    for tag, kind, extra, memo in columns[row_flag]:
        if row_flag:  # FlaggedPropertyRow: a Flag before each value (MS-OXCDATA 2.11.5)
            flag = data[pos]
            pos += 1
            if flag:
                if flag == FLAG_ERROR:
                    code: int | None = _unpack_u32(data, pos)[0]
                    pos += 4
                elif flag == FLAG_ABSENT:
                    code = None
                else:
                    raise _NotFast
                # Absent and error columns repeat from row to row: one shared (immutable) value each.
                pv = shared.get((tag, code))
                if pv is None:
                    pv = PropertyValue(tag, None if code is None else ErrorValue(code), flag)
                    shared[tag, code] = pv
                append(pv)
                continue
        if kind <= _K_AB_STRING:  # PtypString
            if kind and not data[pos]:  # address book, HasValue 0
                value = key = None
                pos += 1
            else:
                start = pos + kind  # past the HasValue byte in the address book
                stop = data.find(b"\x00\x00", start)
                while stop >= 0 and (stop - start) & 1:  # a NUL code unit is at an even distance
                    if not data[stop + 2]:  # "x\0" then the terminator (what find() from stop + 1 gives)
                        stop += 1
                        break
                    stop = data.find(b"\x00\x00", stop + 1)
                if stop < 0:
                    raise _NotFast
                raw = data[start:stop]
                pos = stop + 2
                if memo is not None:
                    pv = memo.get(raw)
                    if pv is not None:
                        append(pv)
                        continue
                    key = raw
                value = _utf16le_decode(raw, "strict", True)[0]
        elif kind == _K_INT32:
            key = value = _unpack_i32(data, pos)[0]
            pos += 4
            if memo is not None:
                pv = memo.get(value)
                if pv is not None:
                    append(pv)
                    continue
        elif kind == _K_TIME:
            value = FileTime(_unpack_u64(data, pos)[0])
            pos += 8
        elif kind == _K_ID:
            value = _new_int(extra, _unpack_u64(data, pos)[0])  # FolderId(...) without its range check
            pos += 8
        elif kind == _K_BOOLEAN:
            key = value = data[pos] != 0
            pos += 1
            if memo is not None:
                pv = memo.get(value)
                if pv is not None:
                    append(pv)
                    continue
        elif kind == _K_BINARY:
            start = pos + 2
            pos = start + _unpack_u16(data, pos)[0]
            value = data[start:pos]
        elif kind == _K_AB_BINARY:
            if data[pos]:
                start = pos + 5
                pos = start + _unpack_u32(data, pos + 1)[0]
                value = data[start:pos]
            else:
                value = None
                pos += 1
        elif kind <= _K_AB_STRING8:  # PtypString8
            if kind == _K_AB_STRING8 and not data[pos]:
                value = None
                pos += 1
            else:
                start = pos + kind - _K_STRING8
                stop = data.find(b"\x00", start)
                if stop < 0:
                    raise _NotFast
                value = data[start:stop].decode(encoding)
                pos = stop + 1
        elif kind == _K_ERROR_CODE:
            value = ErrorCode(_unpack_u32(data, pos)[0])
            pos += 4
        elif kind == _K_FIXED:
            unpack, size = extra
            value = unpack(data, pos)[0]
            pos += size
        else:
            r.move_to(pos)
            value = extra(r)
            pos = r.window()[1]
        pv = _new(PropertyValue)
        _set_tag(pv, tag)
        _set_value(pv, value)
        _set_flag(pv, flag)
        append(pv)
        if memo is not None:  # a memoised kind's value met for the first time in this batch
            memo[key] = pv
    if pos > end:
        raise _NotFast
    row = _new(PropertyRow)
    _set_row_flag(row, row_flag)
    _set_row_values(row, tuple(values))
    return row, pos
