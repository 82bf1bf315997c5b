"""The ``mapiprobe decode`` kinds of property rows, address book rows and folder IDs. Part of
:mod:`mapiprobe.protocol.properties`."""

from __future__ import annotations

from ..errors import DecodeError
from ..registry import DecodeContext, decode_kind
from ..wire import Reader
from .rows import (
    PropertyRow,
)
from .types import (
    Context,
    FolderId,
    FolderIdView,
)

# ---------------------------------------------------------------------------------------------------------
# mapiprobe decode kinds
# ---------------------------------------------------------------------------------------------------------


def _need_columns(ctx: DecodeContext) -> tuple[int, ...]:
    if ctx.columns is None:
        raise DecodeError(
            "a property row can only be read with its column list",
            offset=0,
            expected="--columns 0xTAG,PidTagName,... (the tags of the SetColumns/request, in order)",
        )
    return ctx.columns


@decode_kind(
    "property-row", "one PropertyRow of a ROP buffer (MS-OXCDATA 2.8.1); needs --columns", needs_columns=True
)
def _decode_property_row(data: bytes, ctx: DecodeContext) -> PropertyRow:
    columns = _need_columns(ctx)
    r = Reader(data)
    row = PropertyRow.decode(r, columns, Context.ROP)
    ctx.partial["PropertyRow"] = row
    r.expect_end("end of the PropertyRow")
    return row


@decode_kind(
    "ab-property-row",
    "one AddressBookPropertyRow of an NSPI body (MS-OXCMAPIHTTP 2.2.1.7); needs --columns",
    needs_columns=True,
)
def _decode_ab_property_row(data: bytes, ctx: DecodeContext) -> PropertyRow:
    columns = _need_columns(ctx)
    r = Reader(data)
    row = PropertyRow.decode(r, columns, Context.ADDRESS_BOOK)
    ctx.partial["AddressBookPropertyRow"] = row
    r.expect_end("end of the AddressBookPropertyRow")
    return row


@decode_kind("folder-id", "an 8-byte Folder ID or Message ID (MS-OXCDATA 2.2.1.1); also RRRR-GGGGGGGGGGGG")
def _decode_folder_id(data: bytes, ctx: DecodeContext) -> FolderIdView:
    fid: FolderId
    if len(data) == 8:
        fid = FolderId.from_bytes8(data)
    else:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if not text.strip():
            raise DecodeError(
                f"a Folder ID is 8 bytes, got {len(data)}",
                offset=0,
                expected="8 bytes, 16 hex digits or RRRR-GGGGGGGGGGGG",
            )
        fid = FolderId.parse(text)
    view = FolderIdView(fid, fid.replica_id, fid.global_counter)
    ctx.partial["FolderId"] = view
    return view
