"""RopLogon (0xFE): the request and its four response forms (MS-OXCROPS 2.2.3.1; MS-OXCSTOR 2.2.1.1).

The success response has two layouts, chosen by the Private bit (0x01) of the request's LogonFlags,
which the server echoes in the response's LogonFlags (MS-OXCSTOR 2.2.1.1.3 and 2.2.1.1.4):

* private mailbox — 13 FolderIds, ResponseFlags, MailboxGuid, ReplId, ReplGuid, LogonTime, GwartTime,
  StoreState (166 bytes in all);
* public folders — 13 FolderIds, ReplId, ReplGuid, PerUserGuid.

ReturnValue 0x00000478 (ecWrongServer) is the redirect response with the ESSDN of the server that holds
the mailbox (MS-OXCROPS 2.2.3.1.4); any other non-zero ReturnValue is the plain failure response.
RopLogon's request is the one ROP request without an InputHandleIndex.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..errors import DecodeError
from ..properties import FolderId
from ..wire import Reader, Writer
from .base import (
    ResponseContext,
    RopId,
    RopRequest,
    RopResponse,
    StandardResponse,
    asciiz_size,
    prefixed,
    read_sized_asciiz,
    request_codec,
    response_codec,
    spec_view,
    write_sized_asciiz,
)

EC_WRONG_SERVER = 0x00000478
"""ReturnValue of the redirect response (MS-OXCSTOR 3.2.5.1.3)."""

LOGON_FLAG_PRIVATE = 0x01
LOGON_FLAG_UNDERCOVER = 0x02
LOGON_FLAG_GHOSTED = 0x04
LOGON_FLAG_SPOOLER_PROCESS = 0x08

OPEN_FLAG_USE_ADMIN_PRIVILEGE = 0x00000001
OPEN_FLAG_PUBLIC = 0x00000002
OPEN_FLAG_HOME_LOGON = 0x00000004
OPEN_FLAG_TAKE_OWNERSHIP = 0x00000008
OPEN_FLAG_ALTERNATE_SERVER = 0x00000100
OPEN_FLAG_IGNORE_HOME_MDB = 0x00000200
OPEN_FLAG_NO_MAIL = 0x00000400
OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING = 0x01000000
OPEN_FLAG_SUPPORT_PROGRESS = 0x20000000

RESPONSE_FLAG_RESERVED = 0x01
RESPONSE_FLAG_OWNER_RIGHT = 0x02
RESPONSE_FLAG_SEND_AS_RIGHT = 0x04
RESPONSE_FLAG_OOF = 0x10

_NULL_GUID = uuid.UUID(int=0)


@request_codec
@dataclass(frozen=True)
class RopLogonRequest(RopRequest):
    """MS-OXCROPS 2.2.3.1.1. ``essdn`` is the user's legacy DN for a private logon; ``None`` means
    EssdnSize 0 (no Essdn at all), ``""`` means a lone NUL terminator."""

    ROP_ID: ClassVar[int] = RopId.RopLogon

    logon_id: int
    output_handle_index: int
    logon_flags: int
    open_flags: int
    store_state: int = 0
    essdn: str | None = field(default=None, metadata=prefixed("EssdnSize", asciiz_size))

    @classmethod
    def decode_body(cls, r: Reader) -> RopLogonRequest:
        logon_id = r.u8("LogonId")
        out = r.u8("OutputHandleIndex")
        logon_flags = r.u8("LogonFlags")
        open_flags = r.u32("OpenFlags")
        store_state = r.u32("StoreState")
        size = r.u16("EssdnSize")
        essdn = read_sized_asciiz(r, size, "Essdn") if size else None
        return cls(logon_id, out, logon_flags, open_flags, store_state, essdn)

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.output_handle_index).u8(self.logon_flags)
        w.u32(self.open_flags).u32(self.store_state)
        if self.essdn is None:
            w.u16(0)
        else:
            write_sized_asciiz(w, self.essdn, 2, "Essdn")

    def __json__(self) -> dict[str, Any]:
        view = super().__json__()
        if self.essdn is None:
            view["EssdnSize"] = 0
        return view

    @property
    def is_private(self) -> bool:
        return bool(self.logon_flags & LOGON_FLAG_PRIVATE)


def _read_fids(r: Reader) -> list[FolderId]:
    return [FolderId(r.u64("FolderIds")) for _ in range(13)]


@dataclass(frozen=True)
class MailboxFolderIds:
    """The 13 FolderIds of a private-mailbox logon, in wire order (MS-OXCSTOR 2.2.1.1.3)."""

    mailbox_root: FolderId
    deferred_action: FolderId
    spooler_queue: FolderId
    ipm_subtree: FolderId = field(metadata={"spec": "IpmSubtree"})
    inbox: FolderId
    outbox: FolderId
    sent_items: FolderId
    deleted_items: FolderId
    common_views: FolderId
    schedule: FolderId
    search: FolderId
    views: FolderId
    shortcuts: FolderId

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, FolderId(getattr(self, f.name)))

    @classmethod
    def decode(cls, r: Reader) -> MailboxFolderIds:
        return cls(*_read_fids(r))

    def encode(self, w: Writer) -> None:
        for f in fields(self):
            w.u64(int(getattr(self, f.name)))

    def as_tuple(self) -> tuple[FolderId, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __json__(self) -> dict[str, Any]:
        return spec_view(self)


@dataclass(frozen=True)
class PublicFolderIds:
    """The 13 FolderIds of a public-folders logon, in wire order (MS-OXCSTOR 2.2.1.1.4); the last three
    are "Empty"."""

    public_folders_root: FolderId
    ipm_subtree: FolderId = field(metadata={"spec": "IpmSubtree"})
    non_ipm_subtree: FolderId = field(metadata={"spec": "NonIpmSubtree"})
    eforms_registry: FolderId = field(metadata={"spec": "EFormsRegistry"})
    free_busy: FolderId
    offline_address_book: FolderId
    local_eforms_registry: FolderId = field(metadata={"spec": "LocalEFormsRegistry"})
    local_free_busy: FolderId
    local_offline_address_book: FolderId
    nntp_article_index: FolderId = field(metadata={"spec": "NntpArticleIndex"})
    empty1: FolderId
    empty2: FolderId
    empty3: FolderId

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, FolderId(getattr(self, f.name)))

    @classmethod
    def decode(cls, r: Reader) -> PublicFolderIds:
        return cls(*_read_fids(r))

    def encode(self, w: Writer) -> None:
        for f in fields(self):
            w.u64(int(getattr(self, f.name)))

    def as_tuple(self) -> tuple[FolderId, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __json__(self) -> dict[str, Any]:
        return spec_view(self)


@dataclass(frozen=True)
class LogonTime:
    """The 8-byte LogonTime structure, server time in UTC (MS-OXCROPS 2.2.3.1.2.1). DayOfWeek: Sunday = 0;
    Month: January = 1."""

    seconds: int
    minutes: int
    hour: int
    day_of_week: int
    day: int
    month: int
    year: int

    @classmethod
    def decode(cls, r: Reader) -> LogonTime:
        sec, minute, hour = r.u8("Seconds"), r.u8("Minutes"), r.u8("Hour")
        dow, day, month = r.u8("DayOfWeek"), r.u8("Day"), r.u8("Month")
        return cls(sec, minute, hour, dow, day, month, r.u16("Year"))

    def encode(self, w: Writer) -> None:
        w.u8(self.seconds).u8(self.minutes).u8(self.hour).u8(self.day_of_week).u8(self.day).u8(self.month)
        w.u16(self.year)

    @classmethod
    def from_datetime(cls, when: _dt.datetime) -> LogonTime:
        utc = when.astimezone(_dt.UTC) if when.tzinfo else when
        return cls(utc.second, utc.minute, utc.hour, (utc.weekday() + 1) % 7, utc.day, utc.month, utc.year)

    def to_datetime(self) -> _dt.datetime | None:
        """The time as an aware UTC datetime, or ``None`` if the fields are not a valid date."""
        try:
            return _dt.datetime(
                self.year, self.month, self.day, self.hour, self.minutes, self.seconds, tzinfo=_dt.UTC
            )
        except ValueError:
            return None

    def __json__(self) -> dict[str, Any]:
        view = spec_view(self)
        when = self.to_datetime()
        if when is not None:
            view["Utc"] = when.isoformat()
        return view


@response_codec
@dataclass(frozen=True)
class RopLogonPrivateMailboxResponse(StandardResponse):
    """MS-OXCROPS 2.2.3.1.2 (field meanings MS-OXCSTOR 2.2.1.1.3): the success response of a logon with
    the Private flag. This class is registered for RopId 0xFE and dispatches to the other forms."""

    ROP_ID: ClassVar[int] = RopId.RopLogon
    HANDLE_FIELD: ClassVar[str] = "output_handle_index"

    output_handle_index: int
    logon_flags: int
    folder_ids: MailboxFolderIds
    response_flags: int
    mailbox_guid: uuid.UUID
    repl_id: int
    repl_guid: uuid.UUID
    logon_time: LogonTime
    gwart_time: int
    store_state: int = 0

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        logon_flags = r.u8("LogonFlags")
        private = logon_flags & LOGON_FLAG_PRIVATE
        if isinstance(ctx.request, RopLogonRequest):
            # The request decides which layout the server sends (MS-OXCSTOR 2.2.1.1.3/2.2.1.1.4).
            private = ctx.request.logon_flags & LOGON_FLAG_PRIVATE
        if not private:
            return RopLogonPublicFoldersResponse.decode_rest(r, handle, logon_flags)
        return cls(
            handle,
            logon_flags,
            MailboxFolderIds.decode(r),
            r.u8("ResponseFlags"),
            r.guid("MailboxGuid"),
            r.u16("ReplId"),
            r.guid("ReplGuid"),
            LogonTime.decode(r),
            r.u64("GwartTime"),
            r.u32("StoreState"),
        )

    @classmethod
    def decode_special(
        cls, r: Reader, ctx: ResponseContext, handle: int, return_value: int
    ) -> RopResponse | None:
        if return_value != EC_WRONG_SERVER:
            return None
        logon_flags = r.u8("LogonFlags")
        start = r.offset
        size = r.u8("ServerNameSize")
        if size == 0:
            raise DecodeError(
                "ServerNameSize is 0 in an ecWrongServer redirect",
                offset=start,
                field="ServerNameSize",
                expected="the size of the server ESSDN including its NUL terminator",
            )
        return RopLogonRedirectResponse(handle, logon_flags, read_sized_asciiz(r, size, "ServerName"))

    def _encode_success(self, w: Writer) -> None:
        w.u8(self.logon_flags)
        self.folder_ids.encode(w)
        w.u8(self.response_flags).guid(self.mailbox_guid).u16(self.repl_id).guid(self.repl_guid)
        self.logon_time.encode(w)
        w.u64(self.gwart_time).u32(self.store_state)


@dataclass(frozen=True)
class RopLogonPublicFoldersResponse(StandardResponse):
    """MS-OXCROPS 2.2.3.1.3 (MS-OXCSTOR 2.2.1.1.4): the success response of a public-folders logon."""

    ROP_ID: ClassVar[int] = RopId.RopLogon
    HANDLE_FIELD: ClassVar[str] = "output_handle_index"

    output_handle_index: int
    logon_flags: int
    folder_ids: PublicFolderIds
    repl_id: int
    repl_guid: uuid.UUID
    per_user_guid: uuid.UUID = _NULL_GUID

    @classmethod
    def decode_rest(cls, r: Reader, handle: int, logon_flags: int) -> RopLogonPublicFoldersResponse:
        folder_ids = PublicFolderIds.decode(r)
        repl_id, repl_guid = r.u16("ReplId"), r.guid("ReplGuid")
        return cls(handle, logon_flags, folder_ids, repl_id, repl_guid, r.guid("PerUserGuid"))

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        return cls.decode_rest(r, handle, r.u8("LogonFlags"))

    def _encode_success(self, w: Writer) -> None:
        w.u8(self.logon_flags)
        self.folder_ids.encode(w)
        w.u16(self.repl_id).guid(self.repl_guid).guid(self.per_user_guid)


@dataclass(frozen=True)
class RopLogonRedirectResponse(RopResponse):
    """MS-OXCROPS 2.2.3.1.4 (MS-OXCSTOR 2.2.1.1.2): ReturnValue ecWrongServer, and ServerName, the ESSDN
    of the server that now holds the mailbox; the client should reconnect there."""

    ROP_ID: ClassVar[int] = RopId.RopLogon

    output_handle_index: int
    logon_flags: int
    server_name: str = field(metadata=prefixed("ServerNameSize", asciiz_size))

    @property
    def return_value(self) -> int:
        return EC_WRONG_SERVER

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.output_handle_index).u32(EC_WRONG_SERVER).u8(self.logon_flags)
        write_sized_asciiz(w, self.server_name, 1, "ServerName")

    def __json__(self) -> dict[str, object]:
        view = super().__json__()
        return {
            "RopId": view.pop("RopId"),
            "OutputHandleIndex": view.pop("OutputHandleIndex"),
            "ReturnValue": EC_WRONG_SERVER,
            **view,
        }


__all__ = [
    "EC_WRONG_SERVER",
    "LOGON_FLAG_PRIVATE",
    "OPEN_FLAG_PUBLIC",
    "OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING",
    "LogonTime",
    "MailboxFolderIds",
    "PublicFolderIds",
    "RopLogonPrivateMailboxResponse",
    "RopLogonPublicFoldersResponse",
    "RopLogonRedirectResponse",
    "RopLogonRequest",
]
