"""NDR stubs of the NSPI methods (MS-OXNSPI 3.1.4.1) and of RFR (MS-OXABREF 3.1.4) over RPC.

NSPI is interface F5CC5A18-4264-101A-8C59-08002B2F8426 version 56 (:data:`~.dcerpc.NSPI`), RFR
1544F5E0-613C-11D1-93DF-00C04FD7BD09 version 1 (:data:`~.dcerpc.RFR`). Each method has a request class
(the ``[in]`` parameters in the IDL's order) and a response class (the ``[out]`` parameters and the
``long`` return value), each with ``encode()`` and ``classmethod decode(data)``: a client encodes requests and
decodes responses, the simulator the other way round. The NDR forms of the data types are in
:mod:`.nspi_ndr`; STAT, property tags and values are the same Python types the MAPI/HTTP bodies of
:mod:`.nspi` use.

=========================  =====  ==================================================================
method                     opnum  notes
=========================  =====  ==================================================================
NspiBind                   0      pServerGuid ``[in,out,unique]``; the context handle comes back
NspiUnbind                 1      returns 1 (UnbindSuccess)
NspiUpdateStat             2      plDelta ``[in,out,unique]``: present when the client wants Delta
NspiQueryRows              3      lpETable ``[unique, size_is(dwETableCount)]``
NspiSeekEntries            4      pTarget by reference
NspiGetMatches             5      Filter ``Restriction_r`` and lpPropName, both unique
NspiDNToMId                7      StringsArray_r by reference
NspiGetPropList            8
NspiGetProps               9      the row comes back as ``PropertyRow_r**``
NspiGetSpecialTable        12     lpVersion ``[in,out]``
NspiQueryColumns           16
NspiResolveNames(W)        19/20  StringsArray_r / WStringsArray_r
RfrGetNewDSA               0      ppszUnused / ppszServer ``[in,out,unique,string] char**``
RfrGetFQDNFromServerDN     1      szMailboxServerDN ``[string, size_is(cb)]``
=========================  =====  ==================================================================

When a method fails the server sends NULL for its ``[out]`` pointers (gromox follows MS-OXNSPI's "server
processing rules" here); the decoders accept a NULL anywhere a pointer may be NULL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import DecodeError
from .ndr import NULL_HANDLE, ContextHandle, NdrReader
from .nspi_ndr import (
    Out,
    Restriction,
    Row,
    get_mid_list,
    get_restriction,
    get_row,
    get_stat,
    get_string8,
    get_strings_array,
    get_unique_rowset,
    get_unique_tags,
    get_value,
    put_mid_list,
    put_restriction,
    put_row,
    put_stat,
    put_string8,
    put_strings_array,
    put_unique_rowset,
    put_unique_tags,
    put_value,
)
from .nspi_types import Stat
from .properties import PropertyValue
from .registry import DecodeContext, decode_kind

OPNUM_BIND = 0
OPNUM_UNBIND = 1
OPNUM_UPDATE_STAT = 2
OPNUM_QUERY_ROWS = 3
OPNUM_SEEK_ENTRIES = 4
OPNUM_GET_MATCHES = 5
OPNUM_DN_TO_MID = 7
OPNUM_GET_PROP_LIST = 8
OPNUM_GET_PROPS = 9
OPNUM_GET_SPECIAL_TABLE = 12
OPNUM_QUERY_COLUMNS = 16
OPNUM_RESOLVE_NAMES = 19
OPNUM_RESOLVE_NAMES_W = 20

OPNUM_RFR_GET_NEW_DSA = 0
OPNUM_RFR_GET_FQDN = 1

NIL_GUID = uuid.UUID(int=0)
INITIAL_STAT = Stat()
NSPI_PORT = 6004
"""The RPC/HTTP port of NSPI on Exchange (gromox also serves it on the shared 6001)."""
RFR_PORT = 6002


def _reader(data: bytes, base: int) -> NdrReader:
    return NdrReader(data, base=base)


def _end(r: NdrReader, what: str) -> None:
    r.expect_end(f"end of {what}")


def _tags(v: tuple[int, ...] | None) -> list[str] | None:
    return None if v is None else [f"0x{t:08X}" for t in v]


class _Stub:
    OPNUM: ClassVar[int]
    NAME: ClassVar[str]

    def encode(self) -> bytes:
        raise NotImplementedError

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in vars(self).items():
            if k.endswith("tags") or k in ("columns", "explicit_table", "minimal_ids"):
                out[k] = _tags(v) if k.endswith("tags") or k == "columns" else v
            else:
                out[k] = v
        return out


# -- NspiBind / NspiUnbind ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NspiBindRequest(_Stub):
    """NspiBind ``[in]`` (MS-OXNSPI 3.1.4.1.1): dwFlags, pStat, pServerGuid (unique)."""

    OPNUM: ClassVar[int] = OPNUM_BIND
    NAME: ClassVar[str] = "NspiBind"
    flags: int = 0
    stat: Stat = INITIAL_STAT
    server_guid: uuid.UUID | None = NIL_GUID

    def encode(self) -> bytes:
        o = Out()
        o.w.u32(self.flags)
        put_stat(o, self.stat)
        if o.ptr(self.server_guid is not None):
            assert self.server_guid is not None
            o.w.raw(self.server_guid.bytes_le)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiBindRequest:
        r = _reader(data, base)
        flags = r.u32("dwFlags")
        stat = get_stat(r)
        guid = uuid.UUID(bytes_le=r.raw(16, "pServerGuid")) if r.u32("pServerGuid referent") else None
        _end(r, "NspiBind [in]")
        return cls(flags, stat, guid)


@dataclass(frozen=True)
class NspiBindResponse(_Stub):
    """NspiBind ``[out]``: pServerGuid, contextHandle, return value."""

    OPNUM: ClassVar[int] = OPNUM_BIND
    NAME: ClassVar[str] = "NspiBind"
    server_guid: uuid.UUID | None
    handle: ContextHandle
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        if o.ptr(self.server_guid is not None):
            assert self.server_guid is not None
            o.w.raw(self.server_guid.bytes_le)
        o.w.context_handle(self.handle).u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiBindResponse:
        r = _reader(data, base)
        guid = uuid.UUID(bytes_le=r.raw(16, "pServerGuid")) if r.u32("pServerGuid referent") else None
        handle = r.context_handle("contextHandle")
        rv = r.u32("return value")
        _end(r, "NspiBind [out]")
        return cls(guid, handle, rv)


@dataclass(frozen=True)
class NspiUnbindRequest(_Stub):
    """NspiUnbind ``[in]`` (3.1.4.1.2): contextHandle, Reserved."""

    OPNUM: ClassVar[int] = OPNUM_UNBIND
    NAME: ClassVar[str] = "NspiUnbind"
    handle: ContextHandle
    reserved: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiUnbindRequest:
        r = _reader(data, base)
        handle, reserved = r.context_handle("contextHandle"), r.u32("Reserved")
        _end(r, "NspiUnbind [in]")
        return cls(handle, reserved)


@dataclass(frozen=True)
class NspiUnbindResponse(_Stub):
    """NspiUnbind ``[out]``: the (zeroed) handle and the return value, 1 = UnbindSuccess."""

    OPNUM: ClassVar[int] = OPNUM_UNBIND
    NAME: ClassVar[str] = "NspiUnbind"
    handle: ContextHandle = NULL_HANDLE
    return_value: int = 1

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiUnbindResponse:
        r = _reader(data, base)
        handle, rv = r.context_handle("contextHandle"), r.u32("return value")
        _end(r, "NspiUnbind [out]")
        return cls(handle, rv)


# -- NspiUpdateStat ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NspiUpdateStatRequest(_Stub):
    """NspiUpdateStat ``[in]`` (3.1.4.1.4): hRpc, Reserved, pStat, plDelta (unique; sent as 0 when wanted)."""

    OPNUM: ClassVar[int] = OPNUM_UPDATE_STAT
    NAME: ClassVar[str] = "NspiUpdateStat"
    handle: ContextHandle
    stat: Stat
    delta_requested: bool = False
    reserved: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved)
        put_stat(o, self.stat)
        if o.ptr(self.delta_requested):
            o.w.u32(0)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiUpdateStatRequest:
        r = _reader(data, base)
        handle, reserved = r.context_handle("hRpc"), r.u32("Reserved")
        stat = get_stat(r)
        wanted = r.u32("plDelta referent") != 0
        if wanted:
            r.u32("plDelta")
        _end(r, "NspiUpdateStat [in]")
        return cls(handle, stat, wanted, reserved)


@dataclass(frozen=True)
class NspiUpdateStatResponse(_Stub):
    OPNUM: ClassVar[int] = OPNUM_UPDATE_STAT
    NAME: ClassVar[str] = "NspiUpdateStat"
    stat: Stat
    delta: int | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        put_stat(o, self.stat)
        if o.ptr(self.delta is not None):
            assert self.delta is not None
            o.w.u32(self.delta & 0xFFFFFFFF)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiUpdateStatResponse:
        r = _reader(data, base)
        stat = get_stat(r)
        delta = None
        if r.u32("plDelta referent"):
            d = r.u32("plDelta")
            delta = d - (1 << 32) if d & 0x80000000 else d
        rv = r.u32("return value")
        _end(r, "NspiUpdateStat [out]")
        return cls(stat, delta, rv)


# -- NspiQueryRows / NspiSeekEntries ----------------------------------------------------------------------


@dataclass(frozen=True)
class NspiQueryRowsRequest(_Stub):
    """NspiQueryRows ``[in]`` (3.1.4.1.8): hRpc, dwFlags, pStat, dwETableCount, lpETable, Count, pPropTags."""

    OPNUM: ClassVar[int] = OPNUM_QUERY_ROWS
    NAME: ClassVar[str] = "NspiQueryRows"
    handle: ContextHandle
    stat: Stat
    count: int
    columns: tuple[int, ...] | None = None
    flags: int = 0
    explicit_table: tuple[int, ...] | None = None

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.flags)
        put_stat(o, self.stat)
        table = self.explicit_table
        o.w.u32(len(table) if table else 0)
        if o.ptr(table is not None):
            assert table is not None
            put_mid_list(o, table)
        o.w.u32(self.count)
        put_unique_tags(o, self.columns)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiQueryRowsRequest:
        r = _reader(data, base)
        handle, flags = r.context_handle("hRpc"), r.u32("dwFlags")
        stat = get_stat(r)
        n = r.u32("dwETableCount")
        if n > 100_000:
            raise DecodeError(f"dwETableCount {n}", offset=r.offset - 4, expected="at most 100000")
        table = get_mid_list(r, n, "lpETable") if r.u32("lpETable referent") else None
        count = r.u32("Count")
        columns = get_unique_tags(r, "pPropTags")
        _end(r, "NspiQueryRows [in]")
        return cls(handle, stat, count, columns, flags, table)


@dataclass(frozen=True)
class RowsResponse(_Stub):
    """``[out]`` pStat, ppRows, return value: NspiQueryRows (3.1.4.1.8) and NspiSeekEntries (3.1.4.1.9)."""

    OPNUM: ClassVar[int] = OPNUM_QUERY_ROWS
    NAME: ClassVar[str] = "NspiQueryRows"
    stat: Stat
    rows: tuple[Row, ...] | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        put_stat(o, self.stat)
        put_unique_rowset(o, self.rows)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> Any:
        r = _reader(data, base)
        stat = get_stat(r)
        rows = get_unique_rowset(r, "ppRows")
        rv = r.u32("return value")
        _end(r, f"{cls.NAME} [out]")
        return cls(stat, rows, rv)


class NspiQueryRowsResponse(RowsResponse):
    pass


@dataclass(frozen=True)
class NspiSeekEntriesRequest(_Stub):
    """NspiSeekEntries ``[in]`` (3.1.4.1.9): hRpc, Reserved, pStat, pTarget, lpETable, pPropTags."""

    OPNUM: ClassVar[int] = OPNUM_SEEK_ENTRIES
    NAME: ClassVar[str] = "NspiSeekEntries"
    handle: ContextHandle
    stat: Stat
    target: PropertyValue
    columns: tuple[int, ...] | None = None
    explicit_table: tuple[int, ...] | None = None
    reserved: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved)
        put_stat(o, self.stat)
        put_value(o, self.target)
        put_unique_tags(o, self.explicit_table)
        put_unique_tags(o, self.columns)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiSeekEntriesRequest:
        r = _reader(data, base)
        handle, reserved = r.context_handle("hRpc"), r.u32("Reserved")
        stat = get_stat(r)
        target = get_value(r, "pTarget")
        table = get_unique_tags(r, "lpETable")
        columns = get_unique_tags(r, "pPropTags")
        _end(r, "NspiSeekEntries [in]")
        return cls(handle, stat, target, columns, table, reserved)


class NspiSeekEntriesResponse(RowsResponse):
    OPNUM: ClassVar[int] = OPNUM_SEEK_ENTRIES
    NAME: ClassVar[str] = "NspiSeekEntries"


# -- NspiGetMatches ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NspiGetMatchesRequest(_Stub):
    """NspiGetMatches ``[in]`` (3.1.4.1.10): hRpc, Reserved1, pStat, pReserved, Reserved2, Filter, lpPropName,
    ulRequested, pPropTags. ``prop_name`` is PropertyName_r's (lpguid, lID)."""

    OPNUM: ClassVar[int] = OPNUM_GET_MATCHES
    NAME: ClassVar[str] = "NspiGetMatches"
    handle: ContextHandle
    stat: Stat
    filter: Restriction | None
    requested: int
    columns: tuple[int, ...] | None = None
    prop_name: tuple[uuid.UUID | None, int] | None = None
    reserved_mids: tuple[int, ...] | None = None
    reserved1: int = 0
    reserved2: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved1)
        put_stat(o, self.stat)
        put_unique_tags(o, self.reserved_mids)
        o.w.u32(self.reserved2)
        if o.ptr(self.filter is not None):
            assert self.filter is not None
            put_restriction(o, self.filter)
        if o.ptr(self.prop_name is not None):
            assert self.prop_name is not None
            guid, lid = self.prop_name
            o.ptr(guid is not None)
            o.w.u32(0).u32(lid & 0xFFFFFFFF)
            if guid is not None:
                o.w.raw(guid.bytes_le)
        o.w.u32(self.requested)
        put_unique_tags(o, self.columns)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetMatchesRequest:
        r = _reader(data, base)
        handle, reserved1 = r.context_handle("hRpc"), r.u32("Reserved1")
        stat = get_stat(r)
        reserved_mids = get_unique_tags(r, "pReserved")
        reserved2 = r.u32("Reserved2")
        flt = get_restriction(r, "Filter") if r.u32("Filter referent") else None
        prop_name = None
        if r.u32("lpPropName referent"):
            has_guid = r.u32("lpPropName.lpguid referent") != 0
            r.u32("lpPropName.ulReserved")
            lid = r.u32("lpPropName.lID")
            guid = uuid.UUID(bytes_le=r.raw(16, "lpPropName.lpguid")) if has_guid else None
            prop_name = (guid, lid)
        requested = r.u32("ulRequested")
        columns = get_unique_tags(r, "pPropTags")
        _end(r, "NspiGetMatches [in]")
        return cls(handle, stat, flt, requested, columns, prop_name, reserved_mids, reserved1, reserved2)


@dataclass(frozen=True)
class NspiGetMatchesResponse(_Stub):
    """NspiGetMatches ``[out]``: pStat, ppOutMIds, ppRows, return value."""

    OPNUM: ClassVar[int] = OPNUM_GET_MATCHES
    NAME: ClassVar[str] = "NspiGetMatches"
    stat: Stat
    minimal_ids: tuple[int, ...] | None = None
    rows: tuple[Row, ...] | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        put_stat(o, self.stat)
        put_unique_tags(o, self.minimal_ids)
        put_unique_rowset(o, self.rows)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetMatchesResponse:
        r = _reader(data, base)
        stat = get_stat(r)
        mids = get_unique_tags(r, "ppOutMIds")
        rows = get_unique_rowset(r, "ppRows")
        rv = r.u32("return value")
        _end(r, "NspiGetMatches [out]")
        return cls(stat, mids, rows, rv)


# -- NspiDNToMId / NspiGetPropList / NspiGetProps / NspiQueryColumns -------------------------------------


@dataclass(frozen=True)
class NspiDNToMIdRequest(_Stub):
    """NspiDNToMId ``[in]`` (3.1.4.1.13): hRpc, Reserved, pNames (StringsArray_r)."""

    OPNUM: ClassVar[int] = OPNUM_DN_TO_MID
    NAME: ClassVar[str] = "NspiDNToMId"
    handle: ContextHandle
    names: tuple[str, ...]
    reserved: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved)
        put_strings_array(o, self.names, wide=False)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiDNToMIdRequest:
        r = _reader(data, base)
        handle, reserved = r.context_handle("hRpc"), r.u32("Reserved")
        names = get_strings_array(r, "pNames", wide=False)
        _end(r, "NspiDNToMId [in]")
        return cls(handle, tuple(n or "" for n in names), reserved)


@dataclass(frozen=True)
class TagsResponse(_Stub):
    """``[out]`` one PropertyTagArray_r** and the return value (DNToMId, GetPropList, QueryColumns)."""

    OPNUM: ClassVar[int] = OPNUM_DN_TO_MID
    NAME: ClassVar[str] = "NspiDNToMId"
    values: tuple[int, ...] | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        put_unique_tags(o, self.values)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> Any:
        r = _reader(data, base)
        values = get_unique_tags(r, cls.NAME + " [out] array")
        rv = r.u32("return value")
        _end(r, f"{cls.NAME} [out]")
        return cls(values, rv)


class NspiDNToMIdResponse(TagsResponse):
    pass


@dataclass(frozen=True)
class NspiGetPropListRequest(_Stub):
    """NspiGetPropList ``[in]`` (3.1.4.1.6): hRpc, dwFlags, dwMId, CodePage."""

    OPNUM: ClassVar[int] = OPNUM_GET_PROP_LIST
    NAME: ClassVar[str] = "NspiGetPropList"
    handle: ContextHandle
    mid: int
    flags: int = 0
    code_page: int = 1252

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.flags).u32(self.mid).u32(self.code_page)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetPropListRequest:
        r = _reader(data, base)
        handle, flags, mid, cp = r.context_handle("hRpc"), r.u32("dwFlags"), r.u32("dwMId"), r.u32("CodePage")
        _end(r, "NspiGetPropList [in]")
        return cls(handle, mid, flags, cp)


class NspiGetPropListResponse(TagsResponse):
    OPNUM: ClassVar[int] = OPNUM_GET_PROP_LIST
    NAME: ClassVar[str] = "NspiGetPropList"


@dataclass(frozen=True)
class NspiGetPropsRequest(_Stub):
    """NspiGetProps ``[in]`` (3.1.4.1.7): hRpc, dwFlags, pStat, pPropTags."""

    OPNUM: ClassVar[int] = OPNUM_GET_PROPS
    NAME: ClassVar[str] = "NspiGetProps"
    handle: ContextHandle
    stat: Stat
    tags: tuple[int, ...] | None = None
    flags: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.flags)
        put_stat(o, self.stat)
        put_unique_tags(o, self.tags)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetPropsRequest:
        r = _reader(data, base)
        handle, flags = r.context_handle("hRpc"), r.u32("dwFlags")
        stat = get_stat(r)
        tags = get_unique_tags(r, "pPropTags")
        _end(r, "NspiGetProps [in]")
        return cls(handle, stat, tags, flags)


@dataclass(frozen=True)
class NspiGetPropsResponse(_Stub):
    """NspiGetProps ``[out]``: ppRows (one PropertyRow_r) and the return value (0 or ErrorsReturned)."""

    OPNUM: ClassVar[int] = OPNUM_GET_PROPS
    NAME: ClassVar[str] = "NspiGetProps"
    row: Row | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        if o.ptr(self.row is not None):
            assert self.row is not None
            put_row(o, self.row)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetPropsResponse:
        r = _reader(data, base)
        row = get_row(r, "ppRows") if r.u32("ppRows referent") else None
        rv = r.u32("return value")
        _end(r, "NspiGetProps [out]")
        return cls(row, rv)


@dataclass(frozen=True)
class NspiQueryColumnsRequest(_Stub):
    """NspiQueryColumns ``[in]`` (3.1.4.1.5): hRpc, Reserved, dwFlags (NspiUnicodeProptypes)."""

    OPNUM: ClassVar[int] = OPNUM_QUERY_COLUMNS
    NAME: ClassVar[str] = "NspiQueryColumns"
    handle: ContextHandle
    flags: int = 0
    reserved: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved).u32(self.flags)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiQueryColumnsRequest:
        r = _reader(data, base)
        handle, reserved, flags = r.context_handle("hRpc"), r.u32("Reserved"), r.u32("dwFlags")
        _end(r, "NspiQueryColumns [in]")
        return cls(handle, flags, reserved)


class NspiQueryColumnsResponse(TagsResponse):
    OPNUM: ClassVar[int] = OPNUM_QUERY_COLUMNS
    NAME: ClassVar[str] = "NspiQueryColumns"


# -- NspiGetSpecialTable ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NspiGetSpecialTableRequest(_Stub):
    """NspiGetSpecialTable ``[in]`` (3.1.4.1.3): hRpc, dwFlags, pStat, lpVersion."""

    OPNUM: ClassVar[int] = OPNUM_GET_SPECIAL_TABLE
    NAME: ClassVar[str] = "NspiGetSpecialTable"
    handle: ContextHandle
    stat: Stat
    flags: int = 0
    version: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.flags)
        put_stat(o, self.stat)
        o.w.u32(self.version)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetSpecialTableRequest:
        r = _reader(data, base)
        handle, flags = r.context_handle("hRpc"), r.u32("dwFlags")
        stat = get_stat(r)
        version = r.u32("lpVersion")
        _end(r, "NspiGetSpecialTable [in]")
        return cls(handle, stat, flags, version)


@dataclass(frozen=True)
class NspiGetSpecialTableResponse(_Stub):
    """NspiGetSpecialTable ``[out]``: lpVersion, ppRows, return value."""

    OPNUM: ClassVar[int] = OPNUM_GET_SPECIAL_TABLE
    NAME: ClassVar[str] = "NspiGetSpecialTable"
    version: int = 0
    rows: tuple[Row, ...] | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        o.w.u32(self.version)
        put_unique_rowset(o, self.rows)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiGetSpecialTableResponse:
        r = _reader(data, base)
        version = r.u32("lpVersion")
        rows = get_unique_rowset(r, "ppRows")
        rv = r.u32("return value")
        _end(r, "NspiGetSpecialTable [out]")
        return cls(version, rows, rv)


# -- NspiResolveNames(W) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NspiResolveNamesWRequest(_Stub):
    """NspiResolveNamesW ``[in]`` (3.1.4.1.17): hRpc, Reserved, pStat, pPropTags, paWStr (WStringsArray_r).
    With ``wide=False`` the same object encodes NspiResolveNames (3.1.4.1.16, StringsArray_r, opnum 19)."""

    OPNUM: ClassVar[int] = OPNUM_RESOLVE_NAMES_W
    NAME: ClassVar[str] = "NspiResolveNamesW"
    handle: ContextHandle
    stat: Stat
    names: tuple[str, ...]
    tags: tuple[int, ...] | None = None
    reserved: int = 0
    wide: bool = True

    @property
    def opnum(self) -> int:
        return OPNUM_RESOLVE_NAMES_W if self.wide else OPNUM_RESOLVE_NAMES

    def encode(self) -> bytes:
        o = Out()
        o.w.context_handle(self.handle).u32(self.reserved)
        put_stat(o, self.stat)
        put_unique_tags(o, self.tags)
        put_strings_array(o, self.names, wide=self.wide)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0, *, wide: bool = True) -> NspiResolveNamesWRequest:
        r = _reader(data, base)
        handle, reserved = r.context_handle("hRpc"), r.u32("Reserved")
        stat = get_stat(r)
        tags = get_unique_tags(r, "pPropTags")
        names = get_strings_array(r, "paWStr" if wide else "paStr", wide=wide)
        _end(r, "NspiResolveNames [in]")
        return cls(handle, stat, tuple(n or "" for n in names), tags, reserved, wide)


@dataclass(frozen=True)
class NspiResolveNamesResponse(_Stub):
    """NspiResolveNames(W) ``[out]``: ppMIds, ppRows, return value."""

    OPNUM: ClassVar[int] = OPNUM_RESOLVE_NAMES_W
    NAME: ClassVar[str] = "NspiResolveNamesW"
    minimal_ids: tuple[int, ...] | None = None
    rows: tuple[Row, ...] | None = None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        put_unique_tags(o, self.minimal_ids)
        put_unique_rowset(o, self.rows)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> NspiResolveNamesResponse:
        r = _reader(data, base)
        mids = get_unique_tags(r, "ppMIds")
        rows = get_unique_rowset(r, "ppRows")
        rv = r.u32("return value")
        _end(r, "NspiResolveNames [out]")
        return cls(mids, rows, rv)


# -- RFR (MS-OXABREF) -------------------------------------------------------------------------------------


def _put_unique_unique_string(o: Out, outer: bool, text: str | None) -> None:
    """``[unique, string] char**``: the outer pointer, the inner pointer, the string."""
    if o.ptr(outer) and o.ptr(text is not None):
        assert text is not None
        put_string8(o, text)


def _get_unique_unique_string(r: NdrReader, name: str) -> tuple[bool, str | None]:
    if not r.u32(f"{name} referent"):
        return False, None
    if not r.u32(f"*{name} referent"):
        return True, None
    return True, get_string8(r, name)


@dataclass(frozen=True)
class RfrGetNewDSARequest(_Stub):
    """RfrGetNewDSA ``[in]`` (MS-OXABREF 3.1.4.1): ulFlags, pUserDN, ppszUnused, ppszServer.

    Outlook passes ppszUnused NULL and ppszServer pointing to a NULL string (``want_server``)."""

    OPNUM: ClassVar[int] = OPNUM_RFR_GET_NEW_DSA
    NAME: ClassVar[str] = "RfrGetNewDSA"
    user_dn: str
    flags: int = 0
    want_server: bool = True
    server: str | None = None

    def encode(self) -> bytes:
        o = Out()
        o.w.u32(self.flags)
        put_string8(o, self.user_dn)
        _put_unique_unique_string(o, False, None)
        _put_unique_unique_string(o, self.want_server, self.server)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> RfrGetNewDSARequest:
        r = _reader(data, base)
        flags = r.u32("ulFlags")
        dn = get_string8(r, "pUserDN")
        _get_unique_unique_string(r, "ppszUnused")
        want, server = _get_unique_unique_string(r, "ppszServer")
        _end(r, "RfrGetNewDSA [in]")
        return cls(dn, flags, want, server)


@dataclass(frozen=True)
class RfrGetNewDSAResponse(_Stub):
    """RfrGetNewDSA ``[out]``: ppszUnused, ppszServer (the NSPI server's FQDN), return value."""

    OPNUM: ClassVar[int] = OPNUM_RFR_GET_NEW_DSA
    NAME: ClassVar[str] = "RfrGetNewDSA"
    server: str | None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        _put_unique_unique_string(o, False, None)
        _put_unique_unique_string(o, self.server is not None, self.server)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> RfrGetNewDSAResponse:
        r = _reader(data, base)
        _get_unique_unique_string(r, "ppszUnused")
        _, server = _get_unique_unique_string(r, "ppszServer")
        rv = r.u32("return value")
        _end(r, "RfrGetNewDSA [out]")
        return cls(server, rv)


@dataclass(frozen=True)
class RfrGetFQDNFromServerDNRequest(_Stub):
    """RfrGetFQDNFromServerDN ``[in]`` (MS-OXABREF 3.1.4.2): ulFlags, cbMailboxServerDN, szMailboxServerDN
    (``[string, size_is(cb)]``: max_count cb, offset 0, actual_count, the DN and its NUL)."""

    OPNUM: ClassVar[int] = OPNUM_RFR_GET_FQDN
    NAME: ClassVar[str] = "RfrGetFQDNFromServerDN"
    server_dn: str
    flags: int = 0

    def encode(self) -> bytes:
        o = Out()
        raw = self.server_dn.encode("cp1252", errors="replace") + b"\x00"
        o.w.u32(self.flags).u32(len(raw)).varying_bytes(raw)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> RfrGetFQDNFromServerDNRequest:
        r = _reader(data, base)
        flags = r.u32("ulFlags")
        at = r.offset
        cb = r.u32("cbMailboxServerDN")
        if not 10 <= cb <= 1024:
            raise DecodeError(f"cbMailboxServerDN {cb}", offset=at, expected="10..1024 (MS-OXABREF 3.1.4.2)")
        dn = get_string8(r, "szMailboxServerDN")
        _end(r, "RfrGetFQDNFromServerDN [in]")
        return cls(dn, flags)


@dataclass(frozen=True)
class RfrGetFQDNFromServerDNResponse(_Stub):
    """RfrGetFQDNFromServerDN ``[out]``: ppszServerFQDN, return value."""

    OPNUM: ClassVar[int] = OPNUM_RFR_GET_FQDN
    NAME: ClassVar[str] = "RfrGetFQDNFromServerDN"
    server_fqdn: str | None
    return_value: int = 0

    def encode(self) -> bytes:
        o = Out()
        if o.ptr(self.server_fqdn is not None):
            assert self.server_fqdn is not None
            put_string8(o, self.server_fqdn)
        o.w.u32(self.return_value)
        return o.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> RfrGetFQDNFromServerDNResponse:
        r = _reader(data, base)
        fqdn = get_string8(r, "ppszServerFQDN") if r.u32("ppszServerFQDN referent") else None
        rv = r.u32("return value")
        _end(r, "RfrGetFQDNFromServerDN [out]")
        return cls(fqdn, rv)


# -- decode kinds ---------------------------------------------------------------------------------------

NSPI_REQUESTS: dict[int, Any] = {
    OPNUM_BIND: NspiBindRequest,
    OPNUM_UNBIND: NspiUnbindRequest,
    OPNUM_UPDATE_STAT: NspiUpdateStatRequest,
    OPNUM_QUERY_ROWS: NspiQueryRowsRequest,
    OPNUM_SEEK_ENTRIES: NspiSeekEntriesRequest,
    OPNUM_GET_MATCHES: NspiGetMatchesRequest,
    OPNUM_DN_TO_MID: NspiDNToMIdRequest,
    OPNUM_GET_PROP_LIST: NspiGetPropListRequest,
    OPNUM_GET_PROPS: NspiGetPropsRequest,
    OPNUM_GET_SPECIAL_TABLE: NspiGetSpecialTableRequest,
    OPNUM_QUERY_COLUMNS: NspiQueryColumnsRequest,
    OPNUM_RESOLVE_NAMES_W: NspiResolveNamesWRequest,
}
NSPI_RESPONSES: dict[int, Any] = {
    OPNUM_BIND: NspiBindResponse,
    OPNUM_UNBIND: NspiUnbindResponse,
    OPNUM_UPDATE_STAT: NspiUpdateStatResponse,
    OPNUM_QUERY_ROWS: NspiQueryRowsResponse,
    OPNUM_SEEK_ENTRIES: NspiSeekEntriesResponse,
    OPNUM_GET_MATCHES: NspiGetMatchesResponse,
    OPNUM_DN_TO_MID: NspiDNToMIdResponse,
    OPNUM_GET_PROP_LIST: NspiGetPropListResponse,
    OPNUM_GET_PROPS: NspiGetPropsResponse,
    OPNUM_GET_SPECIAL_TABLE: NspiGetSpecialTableResponse,
    OPNUM_QUERY_COLUMNS: NspiQueryColumnsResponse,
    OPNUM_RESOLVE_NAMES: NspiResolveNamesResponse,
    OPNUM_RESOLVE_NAMES_W: NspiResolveNamesResponse,
}
RFR_REQUESTS: dict[int, Any] = {
    OPNUM_RFR_GET_NEW_DSA: RfrGetNewDSARequest,
    OPNUM_RFR_GET_FQDN: RfrGetFQDNFromServerDNRequest,
}
RFR_RESPONSES: dict[int, Any] = {
    OPNUM_RFR_GET_NEW_DSA: RfrGetNewDSAResponse,
    OPNUM_RFR_GET_FQDN: RfrGetFQDNFromServerDNResponse,
}


def _opnum(ctx: DecodeContext, table: dict[int, Any], what: str) -> int:
    kind = (ctx.request_type or "").strip().lower()
    for opnum, cls in table.items():
        if cls.NAME.lower() == kind:
            return opnum
    try:
        opnum = int(kind, 0)
    except ValueError:
        opnum = -1
    if opnum not in table:
        names = ", ".join(f"{o}/{c.NAME}" for o, c in sorted(table.items()))
        raise DecodeError(f"unknown {what} method {ctx.request_type!r}", expected=f"--request-type {names}")
    return opnum


def _decode(data: bytes, ctx: DecodeContext, table: dict[int, Any], what: str) -> Any:
    opnum = _opnum(ctx, table, what)
    if table is NSPI_REQUESTS and opnum == OPNUM_RESOLVE_NAMES:
        return NspiResolveNamesWRequest.decode(data, wide=False)
    decoded = table[opnum].decode(data)
    ctx.partial[table[opnum].__name__] = decoded
    return decoded


@decode_kind(
    "nspi-rpc-request", "NSPI NDR request stub, MS-OXNSPI 3.1.4.1; --request-type NspiBind, NspiQueryRows..."
)
def _decode_nspi_request(data: bytes, ctx: DecodeContext) -> Any:
    return _decode(data, ctx, NSPI_REQUESTS, "NSPI")


@decode_kind("nspi-rpc-response", "NSPI NDR response stub; --request-type as for nspi-rpc-request")
def _decode_nspi_response(data: bytes, ctx: DecodeContext) -> Any:
    return _decode(data, ctx, NSPI_RESPONSES, "NSPI")


@decode_kind(
    "rfr-request", "RFR NDR request stub, MS-OXABREF 3.1.4; --request-type RfrGetNewDSA or ...FQDN..."
)
def _decode_rfr_request(data: bytes, ctx: DecodeContext) -> Any:
    return _decode(data, ctx, RFR_REQUESTS, "RFR")


@decode_kind("rfr-response", "RFR NDR response stub; --request-type as for rfr-request")
def _decode_rfr_response(data: bytes, ctx: DecodeContext) -> Any:
    return _decode(data, ctx, RFR_RESPONSES, "RFR")


__all__ = [
    "NSPI_PORT",
    "NSPI_REQUESTS",
    "NSPI_RESPONSES",
    "RFR_PORT",
    "RFR_REQUESTS",
    "RFR_RESPONSES",
    "NspiBindRequest",
    "NspiBindResponse",
    "NspiDNToMIdRequest",
    "NspiDNToMIdResponse",
    "NspiGetMatchesRequest",
    "NspiGetMatchesResponse",
    "NspiGetPropListRequest",
    "NspiGetPropListResponse",
    "NspiGetPropsRequest",
    "NspiGetPropsResponse",
    "NspiGetSpecialTableRequest",
    "NspiGetSpecialTableResponse",
    "NspiQueryColumnsRequest",
    "NspiQueryColumnsResponse",
    "NspiQueryRowsRequest",
    "NspiQueryRowsResponse",
    "NspiResolveNamesResponse",
    "NspiResolveNamesWRequest",
    "NspiSeekEntriesRequest",
    "NspiSeekEntriesResponse",
    "NspiUnbindRequest",
    "NspiUnbindResponse",
    "NspiUpdateStatRequest",
    "NspiUpdateStatResponse",
    "RfrGetFQDNFromServerDNRequest",
    "RfrGetFQDNFromServerDNResponse",
    "RfrGetNewDSARequest",
    "RfrGetNewDSAResponse",
]
