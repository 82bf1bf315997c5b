"""Table ROPs for browsing: RopSetColumns (0x12) and RopQueryRows (0x15) — MS-OXCROPS 2.2.5.1 and
2.2.5.4, field semantics in MS-OXCTABL 2.2.2.2 and 2.2.2.5.

A RopQueryRows response cannot be parsed on its own: its rows are PropertyRow structures (MS-OXCDATA
2.8.1) laid out by the columns of the last RopSetColumns on the same table, so the decoder must be handed
those columns (:class:`~.base.ResponseContext`). The response keeps them (hidden from the JSON view) so
that it can be encoded again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from ..errors import DecodeError, EncodeError
from ..properties import Context, PropertyRow, PropertyTag, read_tag_array, write_tag_array
from ..wire import Reader, Writer
from .base import (
    HIDDEN,
    ResponseContext,
    RopId,
    RopRequest,
    RopResponse,
    StandardResponse,
    prefixed,
    request_codec,
    response_codec,
)

SET_COLUMNS_TBL_ASYNC = 0x01
"""SetColumnsFlags (MS-OXCTABL 2.2.2.1.4)."""

QUERY_ROWS_ADVANCE = 0x00
QUERY_ROWS_NO_ADVANCE = 0x01
QUERY_ROWS_ENABLE_PACKED_BUFFERS = 0x02
"""QueryRowsFlags (MS-OXCTABL 2.2.2.5.1)."""

BOOKMARK_BEGINNING = 0x00
BOOKMARK_CURRENT = 0x01
BOOKMARK_END = 0x02
"""Origin values of a RopQueryRows response (MS-OXCTABL 2.2.2.1.1)."""

TABLE_STATUS_NAMES = {
    0x00: "TBLSTAT_COMPLETE",
    0x09: "TBLSTAT_SORTING",
    0x0A: "TBLSTAT_SORT_ERROR",
    0x0B: "TBLSTAT_SETTING_COLS",
    0x0D: "TBLSTAT_SETCOL_ERROR",
    0x0E: "TBLSTAT_RESTRICTING",
    0x0F: "TBLSTAT_RESTRICT_ERROR",
}
"""TableStatus values (MS-OXCTABL 2.2.2.1.3)."""


def _tags(values: Sequence[int]) -> tuple[PropertyTag, ...]:
    return tuple(PropertyTag(v) for v in values)


@request_codec
@dataclass(frozen=True)
class RopSetColumnsRequest(RopRequest):
    """MS-OXCROPS 2.2.5.1.1: the columns (property tags) that later rows of the table carry, in order.
    PropertyTagCount (u16) is derived from ``property_tags``."""

    ROP_ID: ClassVar[int] = RopId.RopSetColumns

    logon_id: int
    input_handle_index: int
    set_columns_flags: int
    property_tags: tuple[PropertyTag, ...] = field(metadata=prefixed("PropertyTagCount"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_tags", _tags(self.property_tags))

    @classmethod
    def decode_body(cls, r: Reader) -> RopSetColumnsRequest:
        logon_id, inp, flags = r.u8("LogonId"), r.u8("InputHandleIndex"), r.u8("SetColumnsFlags")
        return cls(logon_id, inp, flags, read_tag_array(r, 2))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index).u8(self.set_columns_flags)
        write_tag_array(w, self.property_tags, 2)


@response_codec
@dataclass(frozen=True)
class RopSetColumnsResponse(StandardResponse):
    """MS-OXCROPS 2.2.5.1.2: TableStatus (MS-OXCTABL 2.2.2.1.3; 0x00 TBLSTAT_COMPLETE)."""

    ROP_ID: ClassVar[int] = RopId.RopSetColumns

    input_handle_index: int
    table_status: int = 0

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        return cls(handle, r.u8("TableStatus"))

    def _encode_success(self, w: Writer) -> None:
        w.u8(self.table_status)


@request_codec
@dataclass(frozen=True)
class RopQueryRowsRequest(RopRequest):
    """MS-OXCROPS 2.2.5.4.1: read up to ``row_count`` rows from the table cursor. ForwardRead is a Boolean
    (0x01 forwards, 0x00 backwards), kept as the byte that was sent."""

    ROP_ID: ClassVar[int] = RopId.RopQueryRows

    logon_id: int
    input_handle_index: int
    query_rows_flags: int
    forward_read: int
    row_count: int

    @classmethod
    def decode_body(cls, r: Reader) -> RopQueryRowsRequest:
        logon_id, inp = r.u8("LogonId"), r.u8("InputHandleIndex")
        return cls(logon_id, inp, r.u8("QueryRowsFlags"), r.u8("ForwardRead"), r.u16("RowCount"))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index).u8(self.query_rows_flags).u8(self.forward_read)
        w.u16(self.row_count)


def read_rows(r: Reader, count: int, columns: Sequence[int] | None, what: str) -> tuple[PropertyRow, ...]:
    """``count`` PropertyRows laid out by ``columns``; a clear error if the columns are unknown."""
    if count and columns is None:
        raise DecodeError(
            f"{what} carries {count} row(s) but the table's columns are unknown: give --columns "
            "(the property tags of the RopSetColumns for this table) or decode it with its request buffer",
            offset=r.offset,
            field="RowData",
            expected="the column list of the preceding RopSetColumns",
        )
    assert columns is not None or count == 0
    return tuple(PropertyRow.decode_many(r, columns or (), count, Context.ROP))


@response_codec
@dataclass(frozen=True)
class RopQueryRowsResponse(StandardResponse):
    """MS-OXCROPS 2.2.5.4.2: Origin (MS-OXCTABL 2.2.2.1.1), RowCount (u16, derived from ``row_data``)
    and RowData, one PropertyRow per row with the values in ``columns`` order."""

    ROP_ID: ClassVar[int] = RopId.RopQueryRows

    input_handle_index: int
    origin: int
    row_data: tuple[PropertyRow, ...] = field(metadata=prefixed("RowCount"))
    columns: tuple[int, ...] = field(default=(), metadata=HIDDEN)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_data", tuple(self.row_data))
        object.__setattr__(self, "columns", tuple(int(c) for c in self.columns))

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        origin = r.u8("Origin")
        count = r.count(2, "RowCount", item_size=1)
        rows = read_rows(r, count, ctx.columns, "a RopQueryRows response")
        return cls(handle, origin, rows, ctx.columns or ())

    def _encode_success(self, w: Writer) -> None:
        if self.row_data and not self.columns:
            raise EncodeError("RopQueryRows rows need the table's columns to be encoded", field="RowData")
        w.u8(self.origin)
        w.u16(len(self.row_data))
        for row in self.row_data:
            row.encode(w, self.columns, Context.ROP)


__all__ = [
    "BOOKMARK_BEGINNING",
    "BOOKMARK_CURRENT",
    "BOOKMARK_END",
    "QUERY_ROWS_ADVANCE",
    "QUERY_ROWS_NO_ADVANCE",
    "TABLE_STATUS_NAMES",
    "RopQueryRowsRequest",
    "RopQueryRowsResponse",
    "RopSetColumnsRequest",
    "RopSetColumnsResponse",
    "read_rows",
]
