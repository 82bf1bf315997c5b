"""One NSPI call on two wires: MAPI/HTTP address book bodies (:mod:`.nspi`) <-> NDR stubs (:mod:`.nspi_rpc`).

MS-OXCMAPIHTTP 2.2.5 defines each address book request type as the parameters of the NSPI method of the same
name (MS-OXNSPI 3.1.4.1): Bind = NspiBind, QueryRows = NspiQueryRows and so on. So one session can speak in
MAPI/HTTP bodies and a transport can carry them as RPCs, and a simulator can answer RPCs with its MAPI/HTTP
handler. Four pure functions do the mapping:

* :func:`rpc_request` (client): a MAPI/HTTP request body object -> the NDR request stub object;
* :func:`mapihttp_response` (client): the NDR response, with the request it answers -> the MAPI/HTTP response;
* :func:`mapihttp_request` (server): an NDR request stub -> the MAPI/HTTP request body object;
* :func:`rpc_response` (server): a MAPI/HTTP response, with the NDR request -> the NDR response stub.

Differences the mapping bridges:

* MAPI/HTTP rows are PropertyRows against the request's columns, where a column in error is a flagged value
  (Flag 0xA, MS-OXCDATA 2.8.1.2); NDR rows are PropertyRow_r lists in which such a value has its type switched
  to PtypErrorCode (MS-OXNSPI 3.1.4.1.8). An absent value (Flag 0x1) becomes PtypErrorCode NotFound.
* MAPI/HTTP's GetMatches Filter is an MS-OXCDATA 2.12 restriction in bytes, NspiGetMatches' a Restriction_r.
  :func:`restriction_from_oxcdata` / :func:`restriction_to_oxcdata` convert the kinds an address book
  client sends: Property and Content restrictions with a TaggedValue, And/Or (2-byte counts, the ROP form),
  Not, Exist.
* A failed NDR call comes back with NULL ``[out]`` pointers; the MAPI/HTTP body then has ErrorCode set and
  its optional fields absent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from . import nspi as mh
from . import nspi_rpc as rpc
from .errors import DecodeError, EncodeError
from .ndr import ContextHandle
from .nspi_layout import AddressBookRequest, AddressBookResponse
from .nspi_ndr import RES_AND, RES_CONTENT, RES_EXIST, RES_NOT, RES_OR, RES_PROPERTY, Restriction, Row
from .nspi_types import UNBIND_SUCCESS, Stat
from .properties import (
    FLAG_ABSENT,
    FLAG_ERROR,
    FLAG_PRESENT,
    Context,
    ErrorCode,
    ErrorValue,
    PropertyRow,
    PropertyTag,
    PropertyValue,
    read_tagged_value,
    write_tagged_value,
)
from .restriction import ROP as OXCDATA_ROP_FORM
from .restriction import Restriction as TreeRestriction
from .wire import Reader, Writer

PT_ERROR = 0x000A
NOT_FOUND = 0x8004010F
NIL_GUID = uuid.UUID(int=0)


# -- restrictions ---------------------------------------------------------------------------------------


def restriction_from_oxcdata(data: bytes) -> Restriction:
    """An MS-OXCDATA 2.12 restriction (the MAPI/HTTP GetMatches Filter) as a Restriction_r."""
    r = Reader(data)
    res = _read_oxcdata(r, 0)
    r.expect_end("end of the restriction")
    return res


def _read_oxcdata(r: Reader, depth: int) -> Restriction:
    at = r.offset
    if depth > 32:
        raise DecodeError("restriction nested too deep", offset=at, expected="at most 32 levels")
    rt = r.u8("RestrictType")
    if rt in (RES_AND, RES_OR):
        n = r.u16("RestrictCount")
        return Restriction(rt, tuple(_read_oxcdata(r, depth + 1) for _ in range(n)))
    if rt == RES_NOT:
        return Restriction(rt, (_read_oxcdata(r, depth + 1),))
    if rt == RES_CONTENT:
        fuzzy, tag = r.u32("FuzzyLevelLow/High"), r.u32("PropertyTag")
        return Restriction(rt, tag=tag, fuzzy_level=fuzzy, value=read_tagged_value(r, Context.ROP))
    if rt == RES_PROPERTY:
        relop, tag = r.u8("RelOp"), r.u32("PropTag")
        return Restriction(rt, tag=tag, relop=relop, value=read_tagged_value(r, Context.ROP))
    if rt == RES_EXIST:
        return Restriction(rt, tag=r.u32("PropTag"))
    raise DecodeError(
        f"restriction type 0x{rt:02X} is not carried over RPC here",
        offset=at,
        expected="And, Or, Not, Content, Property or Exist (MS-OXCDATA 2.12)",
    )


def restriction_to_oxcdata(res: Restriction) -> bytes:
    """A Restriction_r as MS-OXCDATA 2.12 bytes (what the MAPI/HTTP handler of a server reads)."""
    w = Writer()
    _write_oxcdata(w, res)
    return w.getvalue()


def _write_oxcdata(w: Writer, res: Restriction) -> None:
    w.u8(res.rt)
    if res.rt in (RES_AND, RES_OR):
        w.u16(len(res.children))
        for c in res.children:
            _write_oxcdata(w, c)
    elif res.rt == RES_NOT:
        _write_oxcdata(w, res.children[0])
    elif res.rt in (RES_CONTENT, RES_PROPERTY):
        if res.value is None:
            raise EncodeError("a Content/Property restriction needs a value")
        if res.rt == RES_CONTENT:
            w.u32(res.fuzzy_level).u32(res.tag)
        else:
            w.u8(res.relop).u32(res.tag)
        write_tagged_value(w, res.value, Context.ROP)
    elif res.rt == RES_EXIST:
        w.u32(res.tag)
    else:
        raise EncodeError(f"restriction type {res.rt} has no MS-OXCDATA form here")


def decode_getmatches_request(body: bytes) -> mh.GetMatchesRequest:
    """A MAPI/HTTP GetMatches request body, Filter included (:mod:`.nspi` cannot find where a Filter ends;
    :func:`restriction_from_oxcdata`'s reader can). Layout: MS-OXCMAPIHTTP 2.2.5.5.1."""
    r = Reader(body)
    reserved = r.u32("Reserved")
    state = Stat.read(r) if r.u8("HasState") else None
    mids = None
    if r.u8("HasMinimalIds"):
        n = r.count(4, "MinimalIdCount", limit=100_000, item_size=4)
        mids = tuple(r.u32("MinimalIds") for _ in range(n))
    flags = r.u32("InterfaceOptionFlags")
    flt = None
    if r.u8("HasFilter"):
        start = r.offset
        _read_oxcdata(r, 0)
        flt = body[start : r.offset]
    guid = prop_id = None
    if r.u8("HasPropertyName"):
        guid, prop_id = r.guid("PropertyNameGuid"), r.u32("PropertyNameId")
    row_count = r.u32("RowCount")
    columns = None
    if r.u8("HasColumns"):
        n = r.count(4, "PropertyTagCount", limit=100_000, item_size=4)
        columns = tuple(PropertyTag(r.u32("PropertyTag")) for _ in range(n))
    aux = r.take(r.u32("AuxiliaryBufferSize"), "AuxiliaryBuffer")
    r.expect_end("end of the GetMatches request body")
    return mh.GetMatchesRequest(
        reserved=reserved,
        state=state,
        minimal_ids=mids,
        interface_option_flags=flags,
        filter=flt,
        property_name_guid=guid,
        property_name_id=prop_id,
        row_count=row_count,
        columns=columns,
        auxiliary_buffer=aux,
    )


# -- rows -----------------------------------------------------------------------------------------------


def row_from_ndr(values: Row, columns: Sequence[int]) -> PropertyRow:
    """A PropertyRow_r as the PropertyRow MAPI/HTTP carries for ``columns`` (flagged if any column failed)."""
    cols = [PropertyTag(c) for c in columns]
    if len(values) != len(cols):  # a server that answers other columns: take its own tags
        cols = [v.tag for v in values]
    flagged = any(v.tag.prop_type != c.prop_type for v, c in zip(values, cols, strict=True))
    if not flagged:
        return PropertyRow(0x00, tuple(PropertyValue(c, v.value) for v, c in zip(values, cols, strict=True)))
    out = []
    for v, c in zip(values, cols, strict=True):
        if v.tag.prop_type == PT_ERROR and c.prop_type != PT_ERROR:
            out.append(PropertyValue(c, ErrorValue(int(v.value)), FLAG_ERROR))
        else:
            out.append(PropertyValue(c, v.value, FLAG_PRESENT))
    return PropertyRow(0x01, tuple(out))


def row_to_ndr(row: PropertyRow) -> Row:
    """A MAPI/HTTP PropertyRow as a PropertyRow_r: a failed column becomes PtypErrorCode."""
    out = []
    for pv in row.values:
        if pv.flag == FLAG_ERROR or isinstance(pv.value, ErrorValue):
            out.append(PropertyValue(pv.tag.with_type(PT_ERROR), ErrorCode(int(pv.value))))
        elif pv.flag == FLAG_ABSENT:
            out.append(PropertyValue(pv.tag.with_type(PT_ERROR), ErrorCode(NOT_FOUND)))
        else:
            out.append(PropertyValue(pv.tag, pv.value))
    return tuple(out)


def _columns_of(requested: Sequence[int] | None, rows: tuple[Row, ...] | None) -> tuple[PropertyTag, ...]:
    if requested is not None:
        return tuple(PropertyTag(t) for t in requested)
    if rows:
        return tuple(v.tag for v in rows[0])
    return ()


def _rows(rows: tuple[Row, ...] | None, columns: Sequence[int]) -> tuple[PropertyRow, ...]:
    return tuple(row_from_ndr(r, columns) for r in rows or ())


def _tags(v: tuple[int, ...] | None) -> tuple[PropertyTag, ...] | None:
    return None if v is None else tuple(PropertyTag(t) for t in v)


# -- client side ---------------------------------------------------------------------------------------


def rpc_request(req: AddressBookRequest, handle: ContextHandle) -> Any:
    """The NDR request stub of a MAPI/HTTP request body (``handle``: the NspiBind context handle)."""
    stat = getattr(req, "state", None) or Stat()
    if isinstance(req, mh.BindRequest):
        return rpc.NspiBindRequest(req.flags, stat, NIL_GUID)
    if isinstance(req, mh.UnbindRequest):
        return rpc.NspiUnbindRequest(handle, req.reserved)
    if isinstance(req, mh.GetSpecialTableRequest):
        return rpc.NspiGetSpecialTableRequest(handle, stat, req.flags, req.version or 0)
    if isinstance(req, mh.QueryRowsRequest):
        table = req.explicit_table or None
        return rpc.NspiQueryRowsRequest(handle, stat, req.row_count, _ints(req.columns), req.flags, table)
    if isinstance(req, mh.SeekEntriesRequest):
        if req.target is None:
            raise EncodeError("SeekEntries needs a target value")
        return rpc.NspiSeekEntriesRequest(
            handle, stat, req.target, _ints(req.columns), req.explicit_table, req.reserved
        )
    if isinstance(req, mh.GetMatchesRequest):
        raw_filter = (
            req.filter.to_bytes(OXCDATA_ROP_FORM) if isinstance(req.filter, TreeRestriction) else req.filter
        )
        flt = restriction_from_oxcdata(raw_filter) if raw_filter is not None else None
        name = None
        if req.property_name_id is not None:
            name = (req.property_name_guid, req.property_name_id)
        return rpc.NspiGetMatchesRequest(
            handle, stat, flt, req.row_count, _ints(req.columns), name, req.minimal_ids, req.reserved,
            req.interface_option_flags,
        )  # fmt: skip
    if isinstance(req, mh.GetPropsRequest):
        return rpc.NspiGetPropsRequest(handle, stat, _ints(req.property_tags), req.flags)
    if isinstance(req, mh.GetPropListRequest):
        return rpc.NspiGetPropListRequest(handle, req.minimal_id, req.flags, req.code_page)
    if isinstance(req, mh.QueryColumnsRequest):
        return rpc.NspiQueryColumnsRequest(handle, req.mapi_flags, req.reserved)
    if isinstance(req, mh.ResolveNamesRequest):
        return rpc.NspiResolveNamesWRequest(
            handle, stat, tuple(req.names or ()), _ints(req.property_tags), req.reserved
        )
    if isinstance(req, mh.DNToMIdRequest):
        return rpc.NspiDNToMIdRequest(handle, tuple(req.names or ()), req.reserved)
    if isinstance(req, mh.UpdateStatRequest):
        return rpc.NspiUpdateStatRequest(handle, stat, req.delta_requested, req.reserved)
    raise EncodeError(f"{req.REQUEST_TYPE} has no NSPI method over RPC", expected="an NSPI request type")


def _ints(tags: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if tags is None else tuple(int(t) for t in tags)


def response_type(req: Any) -> type[Any]:
    """The NDR response class that answers the NDR request ``req``."""
    cls: type[Any] = rpc.NSPI_RESPONSES[opnum_of(req)]
    return cls


def opnum_of(req: Any) -> int:
    return int(req.opnum if isinstance(req, rpc.NspiResolveNamesWRequest) else req.OPNUM)


def mapihttp_response(req: AddressBookRequest, resp: Any) -> AddressBookResponse:
    """The MAPI/HTTP response body an NDR response stands for (``req``: the MAPI/HTTP request it answers)."""
    rv = int(resp.return_value)
    ok = rv in (0, 0x00040380) or (isinstance(req, mh.UnbindRequest) and rv == UNBIND_SUCCESS)
    if isinstance(req, mh.BindRequest):
        return mh.BindResponse(error_code=rv, server_guid=resp.server_guid or NIL_GUID)
    if isinstance(req, mh.UnbindRequest):
        return mh.UnbindResponse(error_code=rv)
    if not ok:
        return _failure(req, rv)
    state = getattr(req, "state", None)
    code_page = state.code_page if isinstance(state, Stat) else 1252
    if isinstance(req, mh.GetSpecialTableRequest):
        version = resp.version if req.version is not None else None
        return mh.GetSpecialTableResponse(
            error_code=rv, code_page=code_page, version=version, rows=resp.rows or ()
        )
    if isinstance(req, mh.QueryRowsRequest | mh.SeekEntriesRequest):
        cols = _columns_of(req.columns, resp.rows)
        cls = mh.QueryRowsResponse if isinstance(req, mh.QueryRowsRequest) else mh.SeekEntriesResponse
        return cls(error_code=rv, state=resp.stat, columns=cols, row_data=_rows(resp.rows, cols))
    if isinstance(req, mh.GetMatchesRequest):
        cols = _columns_of(req.columns, resp.rows)
        return mh.GetMatchesResponse(
            error_code=rv,
            state=resp.stat,
            minimal_ids=resp.minimal_ids,
            columns=cols if resp.rows is not None else None,
            row_data=_rows(resp.rows, cols),
        )
    if isinstance(req, mh.GetPropsRequest):
        return mh.GetPropsResponse(error_code=rv, code_page=code_page, property_values=resp.row)
    if isinstance(req, mh.GetPropListRequest):
        return mh.GetPropListResponse(error_code=rv, property_tags=_tags(resp.values))
    if isinstance(req, mh.QueryColumnsRequest):
        return mh.QueryColumnsResponse(error_code=rv, columns=_tags(resp.values))
    if isinstance(req, mh.ResolveNamesRequest):
        cols = _columns_of(req.property_tags, resp.rows)
        return mh.ResolveNamesResponse(
            error_code=rv,
            code_page=code_page,
            minimal_ids=resp.minimal_ids,
            property_tags=cols if resp.rows is not None else None,
            row_data=_rows(resp.rows, cols),
        )
    if isinstance(req, mh.DNToMIdRequest):
        return mh.DNToMIdResponse(error_code=rv, minimal_ids=resp.values)
    if isinstance(req, mh.UpdateStatRequest):
        return mh.UpdateStatResponse(error_code=rv, state=resp.stat, delta=resp.delta)
    raise EncodeError(f"{req.REQUEST_TYPE} has no NSPI method over RPC")


def _failure(req: AddressBookRequest, rv: int) -> AddressBookResponse:
    cls = mh.RESPONSE_CLASSES[req.REQUEST_TYPE]
    fields: dict[str, Any] = {"error_code": rv}
    if "code_page" in getattr(cls, "__dataclass_fields__", {}):
        fields["code_page"] = 0
    response: AddressBookResponse = cls(**fields)
    return response


# -- server side ---------------------------------------------------------------------------------------


def mapihttp_request(req: Any) -> AddressBookRequest:
    """The MAPI/HTTP request body an NDR request stands for (what a MAPI/HTTP handler can answer)."""
    if isinstance(req, rpc.NspiBindRequest):
        return mh.BindRequest(flags=req.flags, state=req.stat)
    if isinstance(req, rpc.NspiUnbindRequest):
        return mh.UnbindRequest(reserved=req.reserved)
    if isinstance(req, rpc.NspiGetSpecialTableRequest):
        return mh.GetSpecialTableRequest(flags=req.flags, state=req.stat, version=req.version)
    if isinstance(req, rpc.NspiQueryRowsRequest):
        return mh.QueryRowsRequest(
            flags=req.flags,
            state=req.stat,
            explicit_table=req.explicit_table or (),
            row_count=req.count,
            columns=_tags(req.columns),
        )
    if isinstance(req, rpc.NspiSeekEntriesRequest):
        return mh.SeekEntriesRequest(
            reserved=req.reserved,
            state=req.stat,
            target=req.target,
            explicit_table=req.explicit_table,
            columns=_tags(req.columns),
        )
    if isinstance(req, rpc.NspiGetMatchesRequest):
        guid, lid = req.prop_name if req.prop_name is not None else (None, None)
        return mh.GetMatchesRequest(
            reserved=req.reserved1,
            state=req.stat,
            minimal_ids=req.reserved_mids,
            interface_option_flags=req.reserved2,
            filter=restriction_to_oxcdata(req.filter) if req.filter is not None else None,
            property_name_guid=guid if lid is not None else None,
            property_name_id=lid,
            row_count=req.requested,
            columns=_tags(req.columns),
        )
    if isinstance(req, rpc.NspiGetPropsRequest):
        return mh.GetPropsRequest(flags=req.flags, state=req.stat, property_tags=_tags(req.tags))
    if isinstance(req, rpc.NspiGetPropListRequest):
        return mh.GetPropListRequest(flags=req.flags, minimal_id=req.mid, code_page=req.code_page)
    if isinstance(req, rpc.NspiQueryColumnsRequest):
        return mh.QueryColumnsRequest(reserved=req.reserved, mapi_flags=req.flags)
    if isinstance(req, rpc.NspiResolveNamesWRequest):
        return mh.ResolveNamesRequest(
            reserved=req.reserved, state=req.stat, property_tags=_tags(req.tags), names=req.names
        )
    if isinstance(req, rpc.NspiDNToMIdRequest):
        return mh.DNToMIdRequest(reserved=req.reserved, names=req.names)
    if isinstance(req, rpc.NspiUpdateStatRequest):
        return mh.UpdateStatRequest(
            reserved=req.reserved, state=req.stat, delta_requested=req.delta_requested
        )
    raise EncodeError(f"{type(req).__name__} has no MAPI/HTTP request type")


def rpc_response(req: Any, resp: AddressBookResponse, handle: ContextHandle) -> Any:
    """The NDR response stub for ``req`` from the MAPI/HTTP response a handler gave (``handle``: the
    context handle Bind hands out, or the one the request carried)."""
    rv = int(resp.error_code or 0) if resp.status_code == 0 else 0x80004005
    r: Any = resp
    stat = getattr(r, "state", None) or getattr(req, "stat", None) or Stat()
    if isinstance(req, rpc.NspiBindRequest):
        return rpc.NspiBindResponse(
            r.server_guid if rv == 0 else None, handle if rv == 0 else ContextHandle(), rv
        )
    if isinstance(req, rpc.NspiUnbindRequest):
        return rpc.NspiUnbindResponse(ContextHandle(), rv)
    if isinstance(req, rpc.NspiGetSpecialTableRequest):
        return rpc.NspiGetSpecialTableResponse(
            getattr(r, "version", None) or req.version, getattr(r, "rows", None), rv
        )
    if isinstance(req, rpc.NspiQueryRowsRequest | rpc.NspiSeekEntriesRequest):
        rows = tuple(row_to_ndr(x) for x in r.row_data) if getattr(r, "columns", None) is not None else None
        cls = (
            rpc.NspiQueryRowsResponse
            if isinstance(req, rpc.NspiQueryRowsRequest)
            else rpc.NspiSeekEntriesResponse
        )
        return cls(stat, rows, rv)
    if isinstance(req, rpc.NspiGetMatchesRequest):
        rows = tuple(row_to_ndr(x) for x in r.row_data) if getattr(r, "columns", None) is not None else None
        return rpc.NspiGetMatchesResponse(stat, getattr(r, "minimal_ids", None), rows, rv)
    if isinstance(req, rpc.NspiGetPropsRequest):
        return rpc.NspiGetPropsResponse(getattr(r, "property_values", None), rv)
    if isinstance(req, rpc.NspiGetPropListRequest):
        return rpc.NspiGetPropListResponse(_ints(getattr(r, "property_tags", None)), rv)
    if isinstance(req, rpc.NspiQueryColumnsRequest):
        return rpc.NspiQueryColumnsResponse(_ints(getattr(r, "columns", None)), rv)
    if isinstance(req, rpc.NspiResolveNamesWRequest):
        rows = (
            tuple(row_to_ndr(x) for x in r.row_data)
            if getattr(r, "property_tags", None) is not None
            else None
        )
        return rpc.NspiResolveNamesResponse(getattr(r, "minimal_ids", None), rows, rv)
    if isinstance(req, rpc.NspiDNToMIdRequest):
        return rpc.NspiDNToMIdResponse(getattr(r, "minimal_ids", None), rv)
    if isinstance(req, rpc.NspiUpdateStatRequest):
        return rpc.NspiUpdateStatResponse(
            stat, getattr(r, "delta", None) if req.delta_requested else None, rv
        )
    raise EncodeError(f"{type(req).__name__} has no NDR response here")


__all__ = [
    "decode_getmatches_request",
    "mapihttp_request",
    "mapihttp_response",
    "opnum_of",
    "response_type",
    "restriction_from_oxcdata",
    "restriction_to_oxcdata",
    "row_from_ndr",
    "row_to_ndr",
    "rpc_request",
    "rpc_response",
]
