"""The table-driven reader and writer behind the address book bodies of :mod:`mapiprobe.protocol.nspi`.

Every body of MS-OXCMAPIHTTP 2.2.5 is a flat sequence of fields, so each body class declares its wire
layout as data (``_LAYOUT``: a tuple of ``(kind, field names...)``) and the one reader and one writer in
this module walk it — protocol shape kept in tables, not in code paths. A kind ending in ``?`` is an
optional field behind a ``Has*`` byte. This module also holds the shared base classes
(:class:`AddressBookRequest`, :class:`AddressBookResponse`) with the StatusCode/ErrorCode prefix, the
failure form and the ``AuxiliaryBufferSize`` + ``AuxiliaryBuffer`` trailer (PROTOCOL.md §6.1).
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from .errorcodes import error_name
from .errors import DecodeError, EncodeError, ProtocolError
from .jsonview import spec_name
from .nspi_types import Stat
from .properties import (
    Context,
    PropertyRow,
    PropertyTag,
    PropertyValue,
    read_ab_value_list,
    read_tagged_value,
    read_value,
    write_ab_value_list,
    write_property_value_r,
    write_tagged_value,
)
from .restriction import ADDRESS_BOOK as AB_RESTRICTION
from .restriction import EXTENDED_RULE, Restriction
from .restriction import ROP as ROP_RESTRICTION
from .rpcext import AuxBuffer, decode_aux_buffer
from .wire import Reader, Writer

MAX_COUNT = 100_000
"""Upper bound of explicit tables, tag arrays and row counts (MS-OXCMAPIHTTP 2.2.1.8, 2.2.5.12.1)."""

HAS_TRUE = 0x01
"""What the encoders put in a ``Has*`` byte that is true (TS sends 0x01, gromox 0xFF; both accepted)."""

TARGET_PROPERTY_VALUE_R = "PropertyValue_r"
TARGET_TAGGED = "AddressBookTaggedPropertyValue"


# -- reading and writing helpers ----------------------------------------------------------------------


class _BodyWriter(Writer):
    __slots__ = ("true_byte",)

    def __init__(self, true_byte: int) -> None:
        super().__init__()
        if not 1 <= true_byte <= 0xFF:
            raise EncodeError(f"a true Has* byte must be 0x01..0xFF, not {true_byte!r}")
        self.true_byte = true_byte

    def has(self, present: bool) -> None:
        self.u8(self.true_byte if present else 0)

    def count_of(self, items: Sequence[Any], what: str) -> None:
        if len(items) > MAX_COUNT:
            raise EncodeError(f"{what} holds {len(items)} entries; MS-OXCMAPIHTTP allows {MAX_COUNT}")
        self.u32(len(items))


@dataclass
class _Dec:
    """Decoding state: the whole body (for look-ahead), the reader, and the partial result."""

    data: bytes
    r: Reader
    partial: dict[str, Any]


def _read_u32_array(r: Reader, what: str) -> tuple[int, ...]:
    n = r.count(4, f"{what}Count", limit=MAX_COUNT, item_size=4)
    return tuple(r.u32(what) for _ in range(n))


def _write_u32_array(w: _BodyWriter, values: Sequence[int], what: str) -> None:
    w.count_of(values, what)
    for v in values:
        w.u32(v)


def _read_tags(r: Reader, what: str) -> tuple[PropertyTag, ...]:
    """LargePropertyTagArray, MS-OXCMAPIHTTP 2.2.1.8: PropertyTagCount u32 (<= 100,000) + tags."""
    n = r.count(4, f"{what}.PropertyTagCount", limit=MAX_COUNT, item_size=4)
    return tuple(PropertyTag(r.u32(what)) for _ in range(n))


def _write_tags(w: _BodyWriter, tags: Sequence[int], what: str) -> None:
    w.count_of(tags, what)
    for t in tags:
        w.u32(int(t))


def _read_doubled_nul(dec: _Dec) -> bool:
    """After a utf16z that ends the body before the aux trailer: skip a second UTF-16 NUL if present.

    ⚠ TS appends two NULs to the DNs of GetMailboxUrl/GetAddressBookUrl (PROTOCOL.md §6.5). A second
    terminator is taken only when the AuxiliaryBufferSize that follows it fits the body exactly and the
    one-terminator reading does not.
    """
    r = dec.r
    rem = r.remaining
    pos = r.offset  # absolute: every reader here has base = its first byte's index in dec.data
    ahead = dec.data[pos : pos + 6]
    if rem < 6 or ahead[:2] != b"\x00\x00":
        return False
    single = int.from_bytes(ahead[0:4], "little")
    doubled = int.from_bytes(ahead[2:6], "little")
    if rem - 4 != single and rem - 6 == doubled:
        r.take(2, "second UTF-16 terminator")
        return True
    return False


# -- the field kinds of the layout tables --------------------------------------------------------------
#
# Each kind has a reader ``(dec, names) -> {name: value}`` and a writer ``(w, obj, names) -> None``.
# A kind name ending in "?" is an optional field behind a Has* byte (MS-OXCMAPIHTTP 2.2.5).


def _has(dec: _Dec, name: str) -> bool:
    return dec.r.u8(f"Has{name}") != 0


def _rd_u32(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: dec.r.u32(names[0])}


def _rd_i32(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: dec.r.i32(names[0])}


def _rd_bool8(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: dec.r.u8(names[0]) != 0}


def _rd_guid(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: dec.r.guid(names[0])}


def _rd_stat_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: Stat.read(dec.r) if _has(dec, "State") else None}


def _rd_u32_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: dec.r.u32(names[0]) if _has(dec, names[0]) else None}


def _rd_i32_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: dec.r.i32(names[0]) if _has(dec, names[0]) else None}


def _rd_mids(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: _read_u32_array(dec.r, names[0])}


def _rd_mids_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: _read_u32_array(dec.r, names[0]) if _has(dec, names[0]) else None}


def _rd_tags_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    return {names[0]: _read_tags(dec.r, names[0]) if _has(dec, names[0]) else None}


def _rd_str8s_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    # StringsArray_r (MS-OXNSPI 2.2.7.1): Count u32 + NUL-terminated 8-bit strings (DNs: ASCII).
    if not _has(dec, names[0]):
        return {names[0]: None}
    n = dec.r.count(4, "Count", limit=MAX_COUNT, item_size=1)
    return {names[0]: tuple(dec.r.asciiz(names[0], encoding="latin-1") for _ in range(n))}


def _rd_wstrs_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    # WStringsArray_r (MS-OXNSPI 2.2.7.2): Count u32 + NUL-terminated UTF-16LE strings.
    if not _has(dec, names[0]):
        return {names[0]: None}
    n = dec.r.count(4, "NameCount", limit=MAX_COUNT, item_size=2)
    return {names[0]: tuple(dec.r.utf16z(names[0]) for _ in range(n))}


def _rd_wstr(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    value = dec.r.utf16z(names[0])
    return {names[0]: value, names[1]: _read_doubled_nul(dec)}


FILTER_MS_OXCDATA = "MS-OXCDATA"
"""GetMatches Filter as MS-OXCDATA 2.12 draws it: 32-bit RestrictCount (the non-ROP width), TaggedValues as
TaggedPropertyValue (MS-OXCDATA 2.11.4). What mapiprobe sends."""
FILTER_HAS_VALUE = "HasValue"
"""The form gromox reads: 32-bit counts, a HasValue byte before each value and AddressBook values ⚠ [I]."""
FILTER_ROP = "ROP"
"""16-bit RestrictCount, as in ROP buffers (accepted, never sent)."""

_FILTER_DIALECTS = {
    FILTER_MS_OXCDATA: EXTENDED_RULE,
    FILTER_HAS_VALUE: AB_RESTRICTION,
    FILTER_ROP: ROP_RESTRICTION,
}


def _rd_str8_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    if not _has(dec, spec_name(names[0])):
        return {names[0]: None}
    return {names[0]: dec.r.asciiz(spec_name(names[0]))}


def _rd_bins_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    # BinaryArray_r (MS-OXNSPI 2.2.2.3): Count u32, then each binary as a u32 size and its bytes.
    if not _has(dec, spec_name(names[0])):
        return {names[0]: None}
    n = dec.r.count(4, "EntryIdCount", limit=MAX_COUNT, item_size=4)
    return {names[0]: tuple(dec.r.counted_bytes(4, spec_name(names[0])) for _ in range(n))}


def _rd_propname_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    if not _has(dec, "PropertyName"):
        return {names[0]: None, names[1]: None}
    return {names[0]: dec.r.guid("PropertyNameGuid"), names[1]: dec.r.u32("PropertyNameId")}


def _rd_colrows_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    """HasColumnsAndRows, [Columns LargePropertyTagArray, RowCount u32, RowData AddressBookPropertyRow[]]."""
    if not _has(dec, "ColumnsAndRows"):
        return {names[0]: None, names[1]: ()}
    columns = _read_tags(dec.r, "Columns")
    dec.partial[_key(names[0])] = columns
    n = dec.r.count(4, "RowCount", limit=MAX_COUNT, item_size=1)
    rows: list[PropertyRow] = []
    dec.partial[_key(names[1])] = rows  # filled row by row: a fault keeps the rows before it
    PropertyRow.decode_many(dec.r, columns, n, Context.ADDRESS_BOOK, into=rows)
    return {names[0]: columns, names[1]: tuple(rows)}


def _rd_rowsets_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    """HasRows, [RowsCount u32, Rows AddressBookPropertyValueList[]] (GetSpecialTable, 2.2.5.8.2)."""
    if not _has(dec, "Rows"):
        return {names[0]: None}
    n = dec.r.count(4, "RowsCount", limit=MAX_COUNT, item_size=4)
    rows: list[tuple[PropertyValue, ...]] = []
    dec.partial[_key(names[0])] = rows
    for _ in range(n):
        rows.append(tuple(read_ab_value_list(dec.r)))
    return {names[0]: tuple(rows)}


def _rd_values_opt(dec: _Dec, names: tuple[str, ...]) -> dict[str, Any]:
    if not _has(dec, "PropertyValues"):
        return {names[0]: None}
    return {names[0]: tuple(read_ab_value_list(dec.r))}


def _read_target(r: Reader, form: str) -> PropertyValue:
    if form == TARGET_TAGGED:
        return read_tagged_value(r, Context.ADDRESS_BOOK)
    tag = PropertyTag(r.u32("Target.PropertyTag"))
    reserved_at = r.offset
    reserved = r.u32("Target.Reserved")
    if reserved != 0:
        # Not the spec's form (or a broken one): the caller then tries TS's tag+value form.
        raise DecodeError(
            f"PropertyValue_r Reserved is 0x{reserved:08X}",
            offset=reserved_at,
            field="Target.Reserved",
            expected="0x00000000",
        )
    return PropertyValue(tag, read_value(r, tag.prop_type, Context.ADDRESS_BOOK))


_ReadFn = Callable[[_Dec, tuple[str, ...]], dict[str, Any]]
_WriteFn = Callable[[_BodyWriter, Any, tuple[str, ...]], None]


def _wr_u32(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    w.u32(_required(obj, names[0]))


def _wr_i32(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    w.i32(_required(obj, names[0]))


def _wr_bool8(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    w.has(bool(getattr(obj, names[0])))


def _wr_guid(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = _required(obj, names[0])
    if not isinstance(value, uuid.UUID):
        raise EncodeError(f"{names[0]} must be a uuid.UUID, not {value!r}")
    w.guid(value)


def _wr_stat_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    stat = getattr(obj, names[0])
    w.has(stat is not None)
    if stat is not None:
        stat.write(w)


def _wr_u32_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        w.u32(value)


def _wr_i32_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        w.i32(value)


def _wr_mids(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    _write_u32_array(w, getattr(obj, names[0]), names[0])


def _wr_mids_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        _write_u32_array(w, value, names[0])


def _wr_tags_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        _write_tags(w, value, names[0])


def _wr_str8s_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        w.count_of(value, names[0])
        for s in value:
            w.asciiz(s, "latin-1")


def _wr_wstrs_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        w.count_of(value, names[0])
        for s in value:
            w.utf16z(s)


def _wr_wstr(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    w.utf16z(_required(obj, names[0]))
    if getattr(obj, names[1]):
        w.raw(b"\x00\x00")


def _wr_filter_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if isinstance(value, Restriction):
        form = getattr(obj, names[1]) if len(names) > 1 else FILTER_MS_OXCDATA
        dialect = _FILTER_DIALECTS.get(form)
        if dialect is None:
            raise EncodeError(f"unknown GetMatches filter form {form!r}")
        value.encode(w, dialect)
    elif value is not None:
        w.raw(bytes(value))


def _wr_str8_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        w.asciiz(value)


def _wr_bins_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    value = getattr(obj, names[0])
    w.has(value is not None)
    if value is not None:
        w.count_of(value, names[0])
        for item in value:
            w.counted_bytes(bytes(item), 4)


def _wr_propname_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    guid, prop_id = getattr(obj, names[0]), getattr(obj, names[1])
    if (guid is None) != (prop_id is None):
        raise EncodeError("PropertyNameGuid and PropertyNameId must be given together")
    w.has(guid is not None)
    if guid is not None:
        w.guid(guid).u32(prop_id)


def _wr_colrows_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    columns, rows = getattr(obj, names[0]), getattr(obj, names[1])
    if columns is None:
        if rows:
            raise EncodeError(f"{spec_name(names[1])} needs {spec_name(names[0])}")
        w.has(False)
        return
    w.has(True)
    _write_tags(w, columns, names[0])
    w.count_of(rows, names[1])
    for row in rows:
        row.encode(w, columns, Context.ADDRESS_BOOK)


def _wr_rowsets_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    rows = getattr(obj, names[0])
    w.has(rows is not None)
    if rows is not None:
        w.count_of(rows, names[0])
        for values in rows:
            write_ab_value_list(w, values)


def _wr_values_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    values = getattr(obj, names[0])
    w.has(values is not None)
    if values is not None:
        write_ab_value_list(w, values)


def _wr_target_opt(w: _BodyWriter, obj: Any, names: tuple[str, ...]) -> None:
    target, form = getattr(obj, names[0]), getattr(obj, names[1])
    w.has(target is not None)
    if target is None:
        return
    if form == TARGET_PROPERTY_VALUE_R:
        write_property_value_r(w, target)
    elif form == TARGET_TAGGED:
        write_tagged_value(w, target, Context.ADDRESS_BOOK)
    else:
        raise EncodeError(f"unknown SeekEntries target form {form!r}")


_KINDS: dict[str, tuple[_ReadFn | None, _WriteFn]] = {
    "u32": (_rd_u32, _wr_u32),
    "i32": (_rd_i32, _wr_i32),
    "bool8": (_rd_bool8, _wr_bool8),
    "guid": (_rd_guid, _wr_guid),
    "stat?": (_rd_stat_opt, _wr_stat_opt),
    "u32?": (_rd_u32_opt, _wr_u32_opt),
    "i32?": (_rd_i32_opt, _wr_i32_opt),
    "mids": (_rd_mids, _wr_mids),
    "mids?": (_rd_mids_opt, _wr_mids_opt),
    "tags?": (_rd_tags_opt, _wr_tags_opt),
    "str8s?": (_rd_str8s_opt, _wr_str8s_opt),
    "wstrs?": (_rd_wstrs_opt, _wr_wstrs_opt),
    "wstr": (_rd_wstr, _wr_wstr),
    "filter?": (None, _wr_filter_opt),  # read by _decode_fields itself: it tries the restriction forms
    "str8?": (_rd_str8_opt, _wr_str8_opt),
    "bins?": (_rd_bins_opt, _wr_bins_opt),
    "propname?": (_rd_propname_opt, _wr_propname_opt),
    "colrows?": (_rd_colrows_opt, _wr_colrows_opt),
    "rowsets?": (_rd_rowsets_opt, _wr_rowsets_opt),
    "values?": (_rd_values_opt, _wr_values_opt),
    "target?": (None, _wr_target_opt),  # read by _decode_fields itself: it needs to try two forms
}


def _key(name: str) -> str:
    return spec_name(name)


def _required(obj: Any, name: str) -> Any:
    value = getattr(obj, name)
    if value is None:
        raise EncodeError(f"{spec_name(name)} is required in a success body", field=spec_name(name))
    return value


Layout = tuple[tuple[str, ...], ...]


def _decode_fields(dec: _Dec, layout: Layout, start: int, out: dict[str, Any]) -> None:
    """Read ``layout[start:]`` then the aux trailer, putting every field in ``out`` and the partial."""
    for i in range(start, len(layout)):
        kind, *rest = layout[i]
        names = tuple(rest)
        if kind == "target?":
            _decode_target_then_rest(dec, layout, i, out)
            return
        if kind == "filter?":
            _decode_filter_then_rest(dec, layout, i, out)
            return
        reader = _KINDS[kind][0]
        assert reader is not None
        values = reader(dec, names)
        out.update(values)
        for name, value in values.items():
            dec.partial[_key(name)] = value
    aux = dec.r.counted_bytes(4, "AuxiliaryBufferSize")
    out["auxiliary_buffer"] = aux
    dec.partial["AuxiliaryBuffer"] = aux
    dec.r.expect_end("end of the body after the auxiliary buffer")


def _decode_target_then_rest(dec: _Dec, layout: Layout, i: int, out: dict[str, Any]) -> None:
    """SeekEntries Target ⚠: the spec form first (PropertyValue_r: tag, Reserved u32, value), then TS's.

    The spreadsheet names the field PropertyValue_r (MS-OXCDATA 2.11.2.2), which has a Reserved u32;
    Microsoft's test client and gromox send a tag followed directly by the value (PROTOCOL.md §6.5).
    Both are accepted: whichever form lets the *whole rest of the body* decode wins, the spec's form
    when both do. The value itself is an AddressBookPropertyValue (HasValue byte before strings).
    """
    _, target_name, form_name = layout[i]
    if not _has(dec, "Target"):
        out[target_name] = None
        out[form_name] = TARGET_PROPERTY_VALUE_R
        dec.partial[_key(target_name)] = None
        _decode_fields(dec, layout, i + 1, out)
        return
    pos = dec.r.offset
    first_error: ProtocolError | None = None
    for form in (TARGET_PROPERTY_VALUE_R, TARGET_TAGGED):
        sub = _Dec(dec.data, Reader(dec.data[pos:], base=pos), dec.partial)
        attempt = dict(out)
        try:
            attempt[target_name] = _read_target(sub.r, form)
            attempt[form_name] = form
            dec.partial[_key(target_name)] = attempt[target_name]
            _decode_fields(sub, layout, i + 1, attempt)
        except ProtocolError as exc:
            first_error = first_error or exc
            continue
        out.update(attempt)
        return
    assert first_error is not None
    raise first_error


def _decode_filter_then_rest(dec: _Dec, layout: Layout, i: int, out: dict[str, Any]) -> None:
    """GetMatches Filter ⚠: MS-OXCMAPIHTTP 2.2.5.5.1 only says "a restriction (MS-OXCDATA 2.12)". The
    MS-OXCDATA form (32-bit counts, plain TaggedPropertyValues) is tried first, then gromox's (a HasValue byte
    before each value), then 16-bit counts; the first form with which the *whole rest of the body* decodes
    wins, and ``filter_form`` records it so the request encodes back to the same bytes."""
    _, filter_name, form_name = layout[i]
    if not _has(dec, "Filter"):
        out[filter_name] = None
        out[form_name] = FILTER_MS_OXCDATA
        dec.partial[_key(filter_name)] = None
        _decode_fields(dec, layout, i + 1, out)
        return
    pos = dec.r.offset
    first_error: ProtocolError | None = None
    for form, dialect in _FILTER_DIALECTS.items():
        sub = _Dec(dec.data, Reader(dec.data[pos:], base=pos), dec.partial)
        attempt = dict(out)
        try:
            attempt[filter_name] = Restriction.decode(sub.r, dialect)
            attempt[form_name] = form
            dec.partial[_key(filter_name)] = attempt[filter_name]
            _decode_fields(sub, layout, i + 1, attempt)
        except ProtocolError as exc:
            first_error = first_error or exc
            continue
        out.update(attempt)
        return
    assert first_error is not None
    raise first_error


# -- body base classes --------------------------------------------------------------------------------


class AddressBookBody:
    """Shared encode/decode of one MS-OXCMAPIHTTP 2.2.5 body, driven by the subclass's ``_LAYOUT``."""

    REQUEST_TYPE: ClassVar[str]
    _LAYOUT: ClassVar[Layout]
    auxiliary_buffer: bytes

    @functools.cached_property
    def auxiliary(self) -> AuxBuffer | None:
        """The AuxiliaryBuffer decoded (RPC_HEADER_EXT + AUX blocks, MS-OXCRPC 3.1.4.1.2); None if empty.

        Decoded on first use; raises :class:`ProtocolError` if it does not decode (the raw bytes stay in
        ``auxiliary_buffer``).
        """
        if not self.auxiliary_buffer:
            return None
        return decode_aux_buffer(self.auxiliary_buffer)

    def __json__(self) -> dict[str, Any]:
        """The fields under their spec names, plus what a reader wants beside them (not wire fields):
        AuxiliaryBufferSize, the ErrorCode's name and the auxiliary buffer decoded."""
        out: dict[str, Any] = {}
        assert dataclasses.is_dataclass(self)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "auxiliary_buffer":
                out["AuxiliaryBufferSize"] = len(value)
            out[f.metadata.get("spec") or spec_name(f.name)] = value
            if f.name == "error_code" and value is not None:
                out["ErrorCodeName"] = error_name(value, nspi=True)
            if f.name == "auxiliary_buffer" and value:
                try:
                    out["AuxiliaryBufferDecoded"] = self.auxiliary
                except ProtocolError as exc:
                    out["AuxiliaryBufferError"] = str(exc)
        return out

    @classmethod
    def decode(cls, data: bytes, partial: dict[str, Any] | None = None) -> Self:
        """Decode one body; ``partial`` (e.g. ``ctx.partial``) receives each field as it is read."""
        dec = _Dec(bytes(data), Reader(data), {} if partial is None else partial)
        out: dict[str, Any] = {}
        cls._decode_into(dec, out)
        factory: Callable[..., Self] = cls
        return factory(**out)

    @classmethod
    def _decode_into(cls, dec: _Dec, out: dict[str, Any]) -> None:
        _decode_fields(dec, cls._LAYOUT, 0, out)

    def encode(self, *, has_true: int = HAS_TRUE) -> bytes:
        w = _BodyWriter(has_true)
        self._encode_into(w)
        return w.getvalue()

    def _encode_into(self, w: _BodyWriter) -> None:
        self._write_layout(w)
        w.counted_bytes(bytes(self.auxiliary_buffer), 4)

    def _write_layout(self, w: _BodyWriter) -> None:
        for kind, *rest in self._LAYOUT:
            _KINDS[kind][1](w, self, tuple(rest))


class AddressBookRequest(AddressBookBody):
    """A request body (client to server)."""


class AddressBookResponse(AddressBookBody):
    """A response body: StatusCode u32, then (when it is 0) ErrorCode u32 and the success fields."""

    status_code: int
    error_code: int | None

    @classmethod
    def _decode_into(cls, dec: _Dec, out: dict[str, Any]) -> None:
        out["status_code"] = dec.partial["StatusCode"] = dec.r.u32("StatusCode")
        if out["status_code"] != 0:
            # Failure response body (e.g. MS-OXCMAPIHTTP 2.2.5.1.3): StatusCode + aux only.
            out["error_code"] = None
            _decode_fields(dec, (), 0, out)
            return
        out["error_code"] = dec.partial["ErrorCode"] = dec.r.u32("ErrorCode")
        _decode_fields(dec, cls._LAYOUT, 0, out)

    def _encode_into(self, w: _BodyWriter) -> None:
        w.u32(self.status_code)
        if self.status_code == 0:
            w.u32(_required(self, "error_code"))
            self._write_layout(w)
        w.counted_bytes(bytes(self.auxiliary_buffer), 4)

    @property
    def is_failure_form(self) -> bool:
        return self.status_code != 0


def aux_field() -> Any:
    """The ``auxiliary_buffer`` dataclass field every body ends with (raw AuxiliaryBuffer bytes)."""
    return field(default=b"", metadata={"spec": "AuxiliaryBuffer"})


__all__ = [
    "FILTER_HAS_VALUE",
    "FILTER_MS_OXCDATA",
    "FILTER_ROP",
    "HAS_TRUE",
    "MAX_COUNT",
    "TARGET_PROPERTY_VALUE_R",
    "TARGET_TAGGED",
    "AddressBookBody",
    "AddressBookRequest",
    "AddressBookResponse",
    "Layout",
    "aux_field",
]
