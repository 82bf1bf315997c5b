"""Helpers of the simulated address book: spliced QueryRows answers, string codecs, row values and the
ANR restriction reader (MS-OXCDATA 2.12).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapiprobe.protocol.errors import DecodeError
from mapiprobe.protocol.nspi_layout import AddressBookResponse
from mapiprobe.protocol.properties import (
    Context,
    ErrorValue,
    PropertyRow,
    PropertyTag,
    PropType,
    read_value,
)
from mapiprobe.protocol.wire import Reader

from .nspi_values import _U32, NOT_FOUND, RELOP_EQ, RES_PROPERTY, TAG_ANR

# -- helpers --------------------------------------------------------------------------------------------


class _Spliced(AddressBookResponse):
    """A success response with rows whose bytes are already encoded: ``head`` (with no rows) is encoded by
    the codec, then RowCount and the rows replace its empty RowCount, just before the aux trailer.

    Every row-bearing body (QueryRows, SeekEntries, GetMatches, ResolveNames) ends
    ``... RowCount u32, RowData, AuxiliaryBufferSize u32, AuxiliaryBuffer`` (MS-OXCMAPIHTTP 2.2.5.x.2), so
    with an empty aux buffer the last 8 bytes of ``head`` are RowCount 0 and AuxiliaryBufferSize 0.
    """

    def __init__(self, head: AddressBookResponse, rows: list[bytes]) -> None:
        self.head = head
        self.rows = rows

    def encode(self, *, has_true: int = 0x01) -> bytes:
        data = self.head.encode(has_true=has_true)
        if self.head.auxiliary_buffer or data[-8:] != bytes(8):
            raise AssertionError("a spliced response needs an empty row set and aux buffer in its head")
        return b"".join([data[:-8], _U32.pack(len(self.rows)), *self.rows, data[-4:]])


def _codec(code_page: int) -> str:
    """The Python codec of an 8-bit code page (PtypString8 values); cp1252 when it has none."""
    name = f"cp{code_page}"
    try:
        "".encode(name)
    except LookupError:
        return "cp1252"
    return name


def _string8(tag: int) -> int:
    """The PtypString8 form of a PtypString tag (and of a PtypMultipleString one); others unchanged."""
    if tag & 0xFFFF == PropType.STRING:
        return (tag & 0xFFFF0000) | PropType.STRING8
    if tag & 0xFFFF == PropType.MV_STRING:
        return (tag & 0xFFFF0000) | PropType.MV_STRING8
    return tag


def _value_for(values: dict[int, Any], tag: PropertyTag) -> tuple[PropertyTag, Any] | None:
    """A value for ``tag`` from ``values`` (keyed by the Unicode tag): the 8-bit form of a string is the same
    text, written in the code page by the codec; a PtypUnspecified tag takes the stored type."""
    if int(tag) in values:
        return tag, values[int(tag)]
    for key, value in values.items():
        if key >> 16 == tag.prop_id:
            if tag.prop_type == PropType.UNSPECIFIED:
                return PropertyTag(key), value
            if _string8(key) == int(tag):
                return tag, value
            return None
    return None


def _row_values(values: dict[int, Any], columns: Sequence[PropertyTag]) -> dict[int, Any]:
    """The values of one row keyed as :meth:`PropertyRow.build` wants them: by column tag (by the full tag
    with the real type for a PtypUnspecified column). A column the entry has no value for, or asks for a
    type the value does not have, gets NotFound (a FlaggedPropertyRow with flag 0xA, as gromox answers)."""
    out: dict[int, Any] = {}
    for col in columns:
        hit = _value_for(values, col)
        if hit is None:
            out[int(col)] = ErrorValue(NOT_FOUND)
        else:
            out[int(hit[0])] = hit[1]
    return out


def _error_row(columns: Sequence[PropertyTag]) -> bytes:
    """The row of an Explicit Table MId that names nothing: every column NotFound."""
    return PropertyRow.build(columns, {int(c): ErrorValue(NOT_FOUND) for c in columns}).to_bytes(
        columns, Context.ADDRESS_BOOK
    )


def _filter_span(body: bytes) -> tuple[int, int] | None:
    """Where a GetMatches request's Filter starts, and where its HasFilter byte is; None if it has none.

    Layout (MS-OXCMAPIHTTP 2.2.5.5.1): Reserved u32, HasState u8 [STAT 36], HasMinimalIds u8
    [MinimalIdCount u32, MinimalIds u32[]], InterfaceOptionFlags u32, HasFilter u8 [Filter] ...
    """
    r = Reader(body)
    r.u32("Reserved")
    if r.u8("HasState"):
        r.take(36, "State")
    if r.u8("HasMinimalIds"):
        n = r.count(4, "MinimalIdCount", item_size=4, limit=100_000)
        r.take(4 * n, "MinimalIds")
    r.u32("InterfaceOptionFlags")
    has_at = r.offset
    if not r.u8("HasFilter"):
        return None
    return r.offset, has_at


def _read_anr_restriction(body: bytes, start: int, with_has_value: bool) -> tuple[str, int]:
    """A PropertyRestriction on PidTagAnr: (the text, the offset just after the restriction)."""
    r = Reader(body[start:], base=start)
    kind = r.u8("RestrictType")
    if kind != RES_PROPERTY:
        raise DecodeError(f"RestrictType 0x{kind:02X}", offset=start, field="RestrictType", expected="0x04")
    relop = r.u8("RelOp")
    prop_tag = r.u32("PropTag")
    value_tag = PropertyTag(r.u32("TaggedValue.PropertyTag"))
    if relop != RELOP_EQ or prop_tag >> 16 != TAG_ANR >> 16 or value_tag.prop_type not in (0x001E, 0x001F):
        raise DecodeError(
            "not an ANR restriction", offset=start, field="Filter", expected="PidTagAnr RELOP_EQ"
        )
    if with_has_value and r.u8("HasValue") != 0xFF:
        raise DecodeError("no HasValue byte", offset=r.offset - 1, field="HasValue", expected="0xFF")
    text = read_value(r, value_tag.prop_type, Context.ROP)
    return str(text), r.offset
