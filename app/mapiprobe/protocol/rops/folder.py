"""Folder ROPs for browsing: RopOpenFolder (0x02), RopGetHierarchyTable (0x04) and RopGetContentsTable
(0x05) — MS-OXCROPS 2.2.4.1, 2.2.4.13, 2.2.4.14; field semantics in MS-OXCFOLD 2.2.1.1, 2.2.1.13, 2.2.1.14.

All three create a Server object, so their responses carry OutputHandleIndex.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..errors import EncodeError
from ..properties import FolderId
from ..wire import Reader, Writer
from .base import (
    HIDDEN,
    ResponseContext,
    RopId,
    RopRequest,
    RopResponse,
    StandardResponse,
    request_codec,
    response_codec,
)

OPEN_MODE_OPEN_SOFT_DELETED = 0x04
"""RopOpenFolder OpenModeFlags (MS-OXCFOLD 2.2.1.1.1)."""

# TableFlags of RopGetHierarchyTable (MS-OXCFOLD 2.2.1.13.1) and RopGetContentsTable (2.2.1.14.1).
TABLE_FLAG_ASSOCIATED = 0x02
TABLE_FLAG_DEPTH = 0x04
TABLE_FLAG_DEFERRED_ERRORS = 0x08
TABLE_FLAG_NO_NOTIFICATIONS = 0x10
TABLE_FLAG_SOFT_DELETES = 0x20
TABLE_FLAG_USE_UNICODE = 0x40
TABLE_FLAG_SUPPRESSES_NOTIFICATIONS = 0x80
TABLE_FLAG_CONVERSATION_MEMBERS = 0x80


@request_codec
@dataclass(frozen=True)
class RopOpenFolderRequest(RopRequest):
    """MS-OXCROPS 2.2.4.1.1: open the folder ``folder_id`` below the Logon or Folder object at
    ``input_handle_index``; the Folder object goes to ``output_handle_index``."""

    ROP_ID: ClassVar[int] = RopId.RopOpenFolder

    logon_id: int
    input_handle_index: int
    output_handle_index: int
    folder_id: FolderId
    open_mode_flags: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder_id", FolderId(self.folder_id))

    @classmethod
    def decode_body(cls, r: Reader) -> RopOpenFolderRequest:
        logon_id, inp, out = r.u8("LogonId"), r.u8("InputHandleIndex"), r.u8("OutputHandleIndex")
        return cls(logon_id, inp, out, FolderId(r.u64("FolderId")), r.u8("OpenModeFlags"))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index).u8(self.output_handle_index)
        w.u64(int(self.folder_id)).u8(self.open_mode_flags)


@response_codec
@dataclass(frozen=True)
class RopOpenFolderResponse(StandardResponse):
    """MS-OXCROPS 2.2.4.1.2. HasRules and IsGhosted are Booleans (kept as the byte that was sent);
    ServerCount, CheapServerCount and Servers follow only when IsGhosted is non-zero, otherwise
    ``cheap_server_count`` and ``servers`` are ``None``."""

    ROP_ID: ClassVar[int] = RopId.RopOpenFolder
    HANDLE_FIELD: ClassVar[str] = "output_handle_index"

    output_handle_index: int
    has_rules: int = 0
    is_ghosted: int = 0
    cheap_server_count: int | None = field(default=None, metadata=HIDDEN)
    servers: tuple[str, ...] | None = field(default=None, metadata=HIDDEN)

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        has_rules, is_ghosted = r.u8("HasRules"), r.u8("IsGhosted")
        if not is_ghosted:
            return cls(handle, has_rules, is_ghosted)
        count = r.count(2, "ServerCount", item_size=1)
        cheap = r.u16("CheapServerCount")
        servers = tuple(r.asciiz("Servers") for _ in range(count))
        return cls(handle, has_rules, is_ghosted, cheap, servers)

    def _encode_success(self, w: Writer) -> None:
        w.u8(self.has_rules).u8(self.is_ghosted)
        if not self.is_ghosted:
            if self.servers or self.cheap_server_count:
                raise EncodeError("Servers are only sent when IsGhosted is non-zero", field="Servers")
            return
        servers = self.servers or ()
        w.u16(len(servers)).u16(self.cheap_server_count or 0)
        for name in servers:
            w.asciiz(name)

    def __json__(self) -> dict[str, object]:
        view = super().__json__()
        if self.is_ghosted:
            servers = list(self.servers or ())
            view["ServerCount"] = len(servers)
            view["CheapServerCount"] = self.cheap_server_count or 0
            view["Servers"] = servers
        return view


@dataclass(frozen=True)
class _TableRequest(RopRequest):
    """RopGetHierarchyTable / RopGetContentsTable request: the Folder object in, the Table object out."""

    logon_id: int
    input_handle_index: int
    output_handle_index: int
    table_flags: int = 0

    @classmethod
    def decode_body(cls, r: Reader) -> RopRequest:
        logon_id, inp, out = r.u8("LogonId"), r.u8("InputHandleIndex"), r.u8("OutputHandleIndex")
        return cls(logon_id, inp, out, r.u8("TableFlags"))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index).u8(self.output_handle_index).u8(self.table_flags)


@dataclass(frozen=True)
class _TableResponse(StandardResponse):
    """RopGetHierarchyTable / RopGetContentsTable success response: RowCount u32, the number of rows in
    the new table (inaccurate with DeferredErrors, MS-OXCFOLD 2.2.1.13.2)."""

    HANDLE_FIELD: ClassVar[str] = "output_handle_index"

    output_handle_index: int
    row_count: int

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        return cls(handle, r.u32("RowCount"))

    def _encode_success(self, w: Writer) -> None:
        w.u32(self.row_count)


@request_codec
@dataclass(frozen=True)
class RopGetHierarchyTableRequest(_TableRequest):
    """MS-OXCROPS 2.2.4.13.1; TableFlags per MS-OXCFOLD 2.2.1.13.1 (0x04 Depth lists all descendants)."""

    ROP_ID: ClassVar[int] = RopId.RopGetHierarchyTable


@response_codec
@dataclass(frozen=True)
class RopGetHierarchyTableResponse(_TableResponse):
    """MS-OXCROPS 2.2.4.13.2."""

    ROP_ID: ClassVar[int] = RopId.RopGetHierarchyTable


@request_codec
@dataclass(frozen=True)
class RopGetContentsTableRequest(_TableRequest):
    """MS-OXCROPS 2.2.4.14.1; TableFlags per MS-OXCFOLD 2.2.1.14.1 (0x02 Associated lists FAI messages)."""

    ROP_ID: ClassVar[int] = RopId.RopGetContentsTable


@response_codec
@dataclass(frozen=True)
class RopGetContentsTableResponse(_TableResponse):
    """MS-OXCROPS 2.2.4.14.2."""

    ROP_ID: ClassVar[int] = RopId.RopGetContentsTable


__all__ = [
    "OPEN_MODE_OPEN_SOFT_DELETED",
    "TABLE_FLAG_ASSOCIATED",
    "TABLE_FLAG_DEFERRED_ERRORS",
    "TABLE_FLAG_DEPTH",
    "TABLE_FLAG_USE_UNICODE",
    "RopGetContentsTableRequest",
    "RopGetContentsTableResponse",
    "RopGetHierarchyTableRequest",
    "RopGetHierarchyTableResponse",
    "RopOpenFolderRequest",
    "RopOpenFolderResponse",
]
