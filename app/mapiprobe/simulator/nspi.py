"""The simulator's address book endpoint (``/mapi/nspi/?MailboxId=...``): NSPI over MAPI/HTTP.

:class:`NspiHandler` answers the request bodies of MS-OXCMAPIHTTP 2.2.5 for the generic
:class:`~mapiprobe.simulator.mapihttp.MapiHttpService` (which does headers, cookies, Session Contexts and the
envelope), from the generated directory of :mod:`mapiprobe.simulator.directory`. The server-side rules
follow MS-OXNSPI 3.1.4.1 (one subsection per method) and the positioning rules of 3.1.4.5:

* **STAT** (MS-OXNSPI 2.2.8). The Current Position is the row of ``CurrentRec`` (absolute positioning,
  3.1.4.5.1: MID_BEGINNING_OF_TABLE, MID_END_OF_TABLE or an object's MId) or, when ``CurrentRec`` is
  MID_CURRENT, ``TotalRecs(actual) * NumPos / TotalRecs(client)`` truncated (fractional positioning,
  3.1.4.5.2); then ``Delta`` rows are added, clamped to the table. On output ``CurrentRec`` is the MId at
  the new position or MID_END_OF_TABLE, ``NumPos`` the 0-based position, ``TotalRecs`` the row count and
  ``Delta`` 0. ``ContainerID`` 0 is the GAL (PROTOCOL.md §9 item 15).
* **Errors** are NSPI return values in ErrorCode (MS-OXNSPI 2.2.1.2, MS-OXCDATA 2.4): NotFound for an MId
  or a seek that finds nothing, InvalidBookmark for an unknown container, InvalidParameter for QueryRows
  with neither rows nor an explicit table, NotSupported for a STAT in CP_WINUNICODE, TableTooBig for more
  than 100 columns or more matches than GetMatches allows. A body that does not decode is
  X-ResponseCode 12 (Invalid Request Body).
* **Missing properties** come back with their type switched to PtypErrorCode and NotFound as the value;
  GetProps then returns ErrorsReturned, as gromox does (PROTOCOL.md §10). In rows they are flagged
  (FlaggedPropertyRow, flag 0xA).
* **Speed.** Address lists are pre-sorted; a QueryRows response is assembled from per-row bytes that are
  encoded once per (entry, columns, flags) and cached, so paging a 100,000-entry GAL costs the codec only
  on first sight of a row.

gromox-isms the simulator imitates (PROTOCOL.md §10): GetProps with CurrentRec 0 answers for the logged-on
user; DNToMId maps an unknown DN to 0; Unbind answers UNBIND_SUCCESS (1). It does **not** imitate gromox's
ResolveNames bugs: a resolved name gets its real MId and an unknown one MID_UNRESOLV

The return values, limits and property tags are in :mod:`.nspi_values`, row assembly and restriction
parsing in :mod:`.nspi_rows`; this module re-exports the public names.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mapiprobe.protocol import nspi as nspi_bodies
from mapiprobe.protocol.errors import DecodeError, ProtocolError
from mapiprobe.protocol.nspi import (
    BindRequest,
    BindResponse,
    CompareMIdsRequest,
    CompareMIdsResponse,
    DNToMIdRequest,
    DNToMIdResponse,
    GetAddressBookUrlRequest,
    GetAddressBookUrlResponse,
    GetMailboxUrlRequest,
    GetMailboxUrlResponse,
    GetMatchesRequest,
    GetMatchesResponse,
    GetPropListRequest,
    GetPropListResponse,
    GetPropsRequest,
    GetPropsResponse,
    GetSpecialTableRequest,
    GetSpecialTableResponse,
    QueryColumnsRequest,
    QueryColumnsResponse,
    QueryRowsRequest,
    QueryRowsResponse,
    ResolveNamesRequest,
    ResolveNamesResponse,
    SeekEntriesRequest,
    SeekEntriesResponse,
    UnbindRequest,
    UnbindResponse,
    UpdateStatRequest,
    UpdateStatResponse,
    canonical_request_type,
)
from mapiprobe.protocol.nspi_layout import AddressBookRequest, AddressBookResponse
from mapiprobe.protocol.nspi_types import (
    CP_WINUNICODE,
    ERRORS_RETURNED,
    F_EPH_ID,
    MID_AMBIGUOUS,
    MID_BEGINNING_OF_TABLE,
    MID_CURRENT,
    MID_END_OF_TABLE,
    MID_UNRESOLVED,
    NSPI_ADDRESS_CREATION_TEMPLATES,
    NSPI_UNICODE_PROPTYPES,
    NSPI_UNICODE_STRINGS,
    UNBIND_SUCCESS,
    DisplayType,
    EphemeralEntryId,
    PermanentEntryId,
    Stat,
)
from mapiprobe.protocol.properties import (
    Context,
    ErrorCode,
    PropertyRow,
    PropertyTag,
    PropertyValue,
    PropType,
)

from .directory import (
    DEFAULT_GAL_SIZE,
    DEFAULT_SEED,
    MAPI_ABCONT,
    AddressList,
    Directory,
    DirEntry,
    LazyDirectory,
)
from .mapihttp import MapiHttpService, SimResponseCode, SimSessionContext
from .nspi_rows import (
    _codec,
    _error_row,
    _filter_span,
    _read_anr_restriction,
    _row_values,
    _Spliced,
    _string8,
    _value_for,
)
from .nspi_values import (
    _U32,
    DEFAULT_COLUMNS,
    ENTRY_TAGS,
    GENERAL_FAILURE,
    HIERARCHY_VERSION,
    INVALID_BOOKMARK,
    INVALID_PARAMETER,
    MAX_COLUMNS,
    MAX_ROWS_PER_QUERY,
    NOT_FOUND,
    NOT_SUPPORTED,
    RELOP_EQ,
    RES_PROPERTY,
    ROW_CACHE_SIZE,
    SUCCESS,
    TABLE_TOO_BIG,
    TAG_ACCOUNT,
    TAG_ADDRESS_TYPE,
    TAG_ANR,
    TAG_BUSINESS_PHONE,
    TAG_COMPANY_NAME,
    TAG_CONTAINER_FLAGS,
    TAG_CONTAINER_ID,
    TAG_COUNTRY,
    TAG_DEPARTMENT_NAME,
    TAG_DEPTH,
    TAG_DISPLAY_NAME,
    TAG_DISPLAY_NAME_PRINTABLE,
    TAG_DISPLAY_TYPE,
    TAG_DISPLAY_TYPE_EX,
    TAG_EMAIL_ADDRESS,
    TAG_ENTRY_ID,
    TAG_GIVEN_NAME,
    TAG_INSTANCE_KEY,
    TAG_IS_MASTER,
    TAG_LOCALITY,
    TAG_MOBILE_PHONE,
    TAG_OBJECT_TYPE,
    TAG_OFFICE_LOCATION,
    TAG_PARENT_ENTRY_ID,
    TAG_PRIMARY_PHONE,
    TAG_PROXY_ADDRESSES,
    TAG_SMTP_ADDRESS,
    TAG_SURNAME,
    TAG_TITLE,
    TOO_COMPLEX,
)
from .org import Organisation
from .web import Request

if TYPE_CHECKING:
    from .core import Simulator

NSPI_PATH = "/mapi/nspi/"

ACCESS_DENIED = 0x80070005
"""ecAccessDenied (MS-OXCDATA 2.4): the answer to ModProps/ModLinkAtt on the read-only simulated directory."""


@dataclass
class _NspiState:
    """What the handler keeps in a Session Context's ``state`` after Bind."""

    code_page: int
    server_guid: uuid.UUID


class NspiHandler:
    """Answers address book request bodies (MS-OXCMAPIHTTP 2.2.5) from a generated directory."""

    def __init__(self, org: Organisation, directory: LazyDirectory | Directory) -> None:
        self.org = org
        self._directory = directory
        self.server_guid = uuid.uuid5(uuid.NAMESPACE_DNS, f"nspi.{org.domain}")
        """The Bind ServerGuid: ephemeral EntryIDs carry it (MS-OXNSPI 2.2.9.2)."""
        self.max_rows = MAX_ROWS_PER_QUERY
        self._cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.stats: dict[str, int] = {}
        """Requests answered per type and row bytes served from the cache (``rows-cached``), for tests."""
        self.mangle: Callable[[str, bytes], bytes] | None = None
        """Tests set this to damage response bodies: ``mangle(request_type, body) -> body`` (a server that
        sends bodies the spec's layout does not describe)."""

    @property
    def directory(self) -> Directory:
        d = self._directory
        return d.get() if isinstance(d, LazyDirectory) else d

    def warm(self) -> Directory:
        """Generate the directory now (it is otherwise made by the first Bind)."""
        return self.directory

    # -- dispatch ---------------------------------------------------------------------------------

    def handle(self, request_type: str, body: bytes, ctx: SimSessionContext, req: Request) -> bytes:
        try:
            name = canonical_request_type(request_type)
        except DecodeError:
            raise SimResponseCode(
                5, f"X-RequestType {request_type} is not served by the address book"
            ) from None
        method = getattr(self, f"_{name.lower()}", None)
        if method is None:
            raise SimResponseCode(5, f"X-RequestType {name} is not implemented by the simulator")
        self.stats[name] = self.stats.get(name, 0) + 1
        response: AddressBookResponse = method(body, ctx, req)
        data = response.encode()
        mangle = self.mangle
        return mangle(name, data) if mangle is not None else data

    @staticmethod
    def _decode(kind: type[AddressBookRequest], body: bytes) -> Any:
        try:
            return kind.decode(body)
        except ProtocolError as exc:
            raise SimResponseCode(12, f"{kind.REQUEST_TYPE} request body does not decode: {exc}") from None

    def _state(self, ctx: SimSessionContext) -> _NspiState:
        state = ctx.state.get("nspi")
        if not isinstance(state, _NspiState):
            raise SimResponseCode(10, "this Session Context has no address book binding: send Bind first")
        return state

    # -- Bind / Unbind (MS-OXNSPI 3.1.4.1.1, 3.1.4.1.2) -----------------------------------------------

    def _bind(self, body: bytes, ctx: SimSessionContext, req: Request) -> BindResponse:
        request: BindRequest = self._decode(BindRequest, body)
        stat = request.state
        if stat is not None and stat.code_page == CP_WINUNICODE:
            ctx.discard()
            return BindResponse(error_code=NOT_SUPPORTED, server_guid=uuid.UUID(int=0))
        self.directory  # noqa: B018 - build the directory now, inside the request that needs it
        ctx.state["nspi"] = _NspiState(stat.code_page if stat is not None else 1252, self.server_guid)
        return BindResponse(server_guid=self.server_guid)

    def _unbind(self, body: bytes, ctx: SimSessionContext, req: Request) -> UnbindResponse:
        self._decode(UnbindRequest, body)
        ctx.state.pop("nspi", None)
        return UnbindResponse(error_code=UNBIND_SUCCESS)

    # -- the hierarchy table (MS-OXNSPI 3.1.4.1.3, 3.1.4.4.3.1) -------------------------------------

    def _getspecialtable(self, body: bytes, ctx: SimSessionContext, req: Request) -> GetSpecialTableResponse:
        request: GetSpecialTableRequest = self._decode(GetSpecialTableRequest, body)
        state = self._state(ctx)
        code_page = request.state.code_page if request.state is not None else state.code_page
        version = HIERARCHY_VERSION if request.version is not None else None
        if request.flags & NSPI_ADDRESS_CREATION_TEMPLATES:
            return GetSpecialTableResponse(code_page=code_page, version=version, rows=())
        unicode = bool(request.flags & NSPI_UNICODE_STRINGS)
        rows = tuple(self._container_values(a, unicode=unicode) for a in self.directory.lists)
        return GetSpecialTableResponse(code_page=code_page, version=version, rows=rows)

    def _container_values(self, alist: AddressList, *, unicode: bool) -> tuple[PropertyValue, ...]:
        name_tag = TAG_DISPLAY_NAME if unicode else _string8(TAG_DISPLAY_NAME)
        values = [
            PropertyValue(PropertyTag(TAG_ENTRY_ID), self._container_entry_id(alist)),
            PropertyValue(PropertyTag(TAG_CONTAINER_FLAGS), alist.flags),
            PropertyValue(PropertyTag(TAG_DEPTH), alist.depth),
            PropertyValue(PropertyTag(TAG_CONTAINER_ID), alist.container_id),
            PropertyValue(PropertyTag(name_tag), alist.name),
            PropertyValue(PropertyTag(TAG_IS_MASTER), False),
        ]
        parent = self.directory.container(alist.parent_id) if alist.parent_id is not None else None
        if parent is not None:
            values.append(PropertyValue(PropertyTag(TAG_PARENT_ENTRY_ID), self._container_entry_id(parent)))
        return tuple(values)

    @staticmethod
    def _container_entry_id(alist: AddressList) -> bytes:
        return PermanentEntryId(int(DisplayType.DT_CONTAINER), alist.dn).encode()

    # -- positioning (MS-OXNSPI 3.1.4.5) -------------------------------------------------------------

    def _table(self, stat: Stat) -> AddressList | int:
        if stat.code_page == CP_WINUNICODE:
            return NOT_SUPPORTED
        alist = self.directory.container(stat.container_id)
        if alist is None:
            return INVALID_BOOKMARK
        return alist

    def _position(self, stat: Stat, alist: AddressList) -> int | None:
        """The Current Position a STAT names (before Delta), or None if its CurrentRec is not in the table."""
        total = len(alist)
        rec = stat.current_rec
        if rec == MID_BEGINNING_OF_TABLE:
            return 0
        if rec == MID_END_OF_TABLE:
            return total
        if rec == MID_CURRENT:
            if stat.total_recs == 0:
                return 0
            return min(total, total * stat.num_pos // stat.total_recs)
        return alist.position_of(rec, self.directory.entry(rec))

    @staticmethod
    def _moved(stat: Stat, pos: int, alist: AddressList) -> Stat:
        """``stat`` reporting position ``pos``: CurrentRec, NumPos, TotalRecs set, Delta 0."""
        total = len(alist)
        pos = max(0, min(pos, total))
        rec = alist.entries[pos].mid if pos < total else MID_END_OF_TABLE
        return replace(stat, current_rec=rec, delta=0, num_pos=pos, total_recs=total)

    # -- rows ----------------------------------------------------------------------------------------

    def _columns(self, columns: Sequence[int] | None) -> tuple[PropertyTag, ...] | int:
        cols = DEFAULT_COLUMNS if columns is None else tuple(columns)
        if len(cols) > MAX_COLUMNS:
            return TABLE_TOO_BIG
        return tuple(PropertyTag(c) for c in cols)

    def entry_values(self, entry: DirEntry, *, ephemeral: bool = False) -> dict[int, Any]:
        """The properties of one recipient, keyed by full (Unicode) tag; absent ones are left out."""
        if ephemeral:
            entry_id = EphemeralEntryId(self.server_guid, entry.display_type, entry.mid).encode()
        else:
            entry_id = PermanentEntryId(entry.display_type, entry.legacy_dn).encode()
        values: dict[int, Any] = {
            TAG_ENTRY_ID: entry_id,
            TAG_INSTANCE_KEY: _U32.pack(entry.mid),
            TAG_OBJECT_TYPE: entry.object_type,
            TAG_DISPLAY_NAME: entry.display_name,
            TAG_ADDRESS_TYPE: "EX",
            TAG_EMAIL_ADDRESS: entry.legacy_dn,
            TAG_DISPLAY_TYPE: entry.display_type,
            TAG_DISPLAY_TYPE_EX: entry.display_type_ex,
            TAG_SMTP_ADDRESS: entry.smtp_address,
            TAG_DISPLAY_NAME_PRINTABLE: entry.alias,
            TAG_ACCOUNT: entry.alias,
            TAG_PROXY_ADDRESSES: (f"SMTP:{entry.smtp_address}",),
        }
        optional = (
            (TAG_GIVEN_NAME, entry.given_name),
            (TAG_SURNAME, entry.surname),
            (TAG_COMPANY_NAME, entry.company),
            (TAG_TITLE, entry.title),
            (TAG_DEPARTMENT_NAME, entry.department),
            (TAG_OFFICE_LOCATION, entry.office),
            (TAG_BUSINESS_PHONE, entry.phone),
            (TAG_PRIMARY_PHONE, entry.phone),
            (TAG_MOBILE_PHONE, entry.mobile),
            (TAG_COUNTRY, entry.country),
            (TAG_LOCALITY, entry.city),
        )
        for tag, value in optional:
            if value is not None:
                values[tag] = value
        return values

    def container_values(self, alist: AddressList) -> dict[int, Any]:
        return {
            TAG_ENTRY_ID: self._container_entry_id(alist),
            TAG_OBJECT_TYPE: MAPI_ABCONT,
            TAG_DISPLAY_NAME: alist.name,
            TAG_DISPLAY_TYPE: int(DisplayType.DT_CONTAINER),
            TAG_CONTAINER_FLAGS: alist.flags,
            TAG_DEPTH: alist.depth,
            TAG_CONTAINER_ID: alist.container_id,
            TAG_IS_MASTER: False,
        }

    def row_bytes(
        self, entry: DirEntry, columns: tuple[PropertyTag, ...], flags: int, code_page: int
    ) -> bytes:
        """One AddressBookPropertyRow (MS-OXCMAPIHTTP 2.2.1.7), encoded once and then served from a cache."""
        key = (entry.mid, columns, bool(flags & F_EPH_ID), code_page)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.stats["rows-cached"] = self.stats.get("rows-cached", 0) + 1
                return cached
        values = _row_values(self.entry_values(entry, ephemeral=bool(flags & F_EPH_ID)), columns)
        data = PropertyRow.build(columns, values).to_bytes(
            columns, Context.ADDRESS_BOOK, encoding=_codec(code_page)
        )
        with self._cache_lock:
            self._cache[key] = data
            while len(self._cache) > ROW_CACHE_SIZE:
                self._cache.popitem(last=False)
        return data

    def _rows_response(
        self,
        head: AddressBookResponse,
        entries: Sequence[DirEntry],
        columns: tuple[PropertyTag, ...],
        flags: int,
        code_page: int,
    ) -> _Spliced:
        """A response whose rows are spliced in as cached bytes (the codec encodes the rest of the body)."""
        return _Spliced(head, [self.row_bytes(e, columns, flags, code_page) for e in entries])

    # -- QueryRows (MS-OXNSPI 3.1.4.1.8) -------------------------------------------------------------

    def _queryrows(self, body: bytes, ctx: SimSessionContext, req: Request) -> AddressBookResponse:
        request: QueryRowsRequest = self._decode(QueryRowsRequest, body)
        self._state(ctx)
        stat = request.state or Stat()
        columns = self._columns(request.columns)
        if isinstance(columns, int):
            return QueryRowsResponse(error_code=columns)
        if stat.code_page == CP_WINUNICODE:
            return QueryRowsResponse(error_code=NOT_SUPPORTED)
        if request.explicit_table:
            # An Explicit Table: one row per MId; an unknown MId gives a row of errors. STAT unchanged.
            entries = [self.directory.entry(mid) for mid in request.explicit_table]
            head = QueryRowsResponse(state=stat, columns=columns)
            return _Spliced(
                head,
                [
                    self.row_bytes(e, columns, request.flags, stat.code_page)
                    if e is not None
                    else _error_row(columns)
                    for e in entries
                ],
            )
        if request.row_count == 0:
            return QueryRowsResponse(error_code=INVALID_PARAMETER)
        alist = self._table(stat)
        if isinstance(alist, int):
            return QueryRowsResponse(error_code=alist)
        start = self._position(stat, alist)
        if start is None:
            return QueryRowsResponse(error_code=NOT_FOUND)
        start = max(0, min(start + stat.delta, len(alist)))
        count = min(request.row_count, self.max_rows)
        chosen = alist.entries[start : start + count]
        out_stat = self._moved(stat, start + len(chosen), alist)
        return self._rows_response(
            QueryRowsResponse(state=out_stat, columns=columns), chosen, columns, request.flags, stat.code_page
        )

    # -- UpdateStat / SeekEntries / CompareMIds ------------------------------------------------------

    def _updatestat(self, body: bytes, ctx: SimSessionContext, req: Request) -> UpdateStatResponse:
        request: UpdateStatRequest = self._decode(UpdateStatRequest, body)
        self._state(ctx)
        stat = request.state or Stat()
        alist = self._table(stat)
        if isinstance(alist, int):
            return UpdateStatResponse(error_code=alist)
        start = self._position(stat, alist)
        if start is None:
            return UpdateStatResponse(error_code=NOT_FOUND)
        pos = max(0, min(start + stat.delta, len(alist)))
        delta = pos - start if request.delta_requested else None
        return UpdateStatResponse(state=self._moved(stat, pos, alist), delta=delta)

    def _seekentries(self, body: bytes, ctx: SimSessionContext, req: Request) -> AddressBookResponse:
        request: SeekEntriesRequest = self._decode(SeekEntriesRequest, body)
        self._state(ctx)
        stat = request.state or Stat()
        target = request.target
        if (
            target is None
            or target.tag.prop_id != TAG_DISPLAY_NAME >> 16
            or not isinstance(target.value, str)
        ):
            # Only the display-name sort order exists here (MS-OXNSPI 2.2.1.10 SortTypeDisplayName).
            return SeekEntriesResponse(error_code=NOT_SUPPORTED)
        columns = self._columns(request.columns) if request.columns is not None else None
        if isinstance(columns, int):
            return SeekEntriesResponse(error_code=columns)
        text = target.value.casefold()
        if request.explicit_table is not None:
            found = [
                e
                for e in (self.directory.entry(m) for m in request.explicit_table)
                if e is not None and e.sort_key[0] >= text
            ]
            if not found:
                return SeekEntriesResponse(error_code=NOT_FOUND)
            row_pos = next(i for i, m in enumerate(request.explicit_table) if m == found[0].mid)
            out = replace(stat, current_rec=found[0].mid, num_pos=row_pos, total_recs=len(found), delta=0)
            if columns is None:
                return SeekEntriesResponse(state=out)
            return self._rows_response(
                SeekEntriesResponse(state=out, columns=columns), found, columns, 0, stat.code_page
            )
        alist = self._table(stat)
        if isinstance(alist, int):
            return SeekEntriesResponse(error_code=alist)
        pos = alist.seek(target.value)
        if pos >= len(alist):
            return SeekEntriesResponse(error_code=NOT_FOUND)
        out = self._moved(stat, pos, alist)
        if columns is None:
            return SeekEntriesResponse(state=out)
        # The row found, as gromox returns it (MS-OXNSPI leaves the number of rows open).
        return self._rows_response(
            SeekEntriesResponse(state=out, columns=columns),
            alist.entries[pos : pos + 1],
            columns,
            0,
            stat.code_page,
        )

    def _comparemids(self, body: bytes, ctx: SimSessionContext, req: Request) -> CompareMIdsResponse:
        request: CompareMIdsRequest = self._decode(CompareMIdsRequest, body)
        self._state(ctx)
        alist = self._table(request.state or Stat())
        if isinstance(alist, int):
            return CompareMIdsResponse(error_code=alist, result=0)
        d = self.directory
        p1 = alist.position_of(request.minimal_id1, d.entry(request.minimal_id1))
        p2 = alist.position_of(request.minimal_id2, d.entry(request.minimal_id2))
        if p1 is None or p2 is None:
            return CompareMIdsResponse(error_code=GENERAL_FAILURE, result=0)
        return CompareMIdsResponse(result=(p1 > p2) - (p1 < p2))

    # -- GetProps / GetPropList / QueryColumns / DNToMId ---------------------------------------------

    def _getprops(self, body: bytes, ctx: SimSessionContext, req: Request) -> GetPropsResponse:
        request: GetPropsRequest = self._decode(GetPropsRequest, body)
        state = self._state(ctx)
        stat = request.state or Stat()
        code_page = stat.code_page if request.state is not None else state.code_page
        mid = stat.current_rec
        d = self.directory
        values: dict[int, Any] | None = None
        if mid == MID_BEGINNING_OF_TABLE:
            # gromox answers for the logged-on user here (PROTOCOL.md §10); so does the simulator.
            me = d.find_dn(ctx.user.legacy_dn)
            values = self.entry_values(me, ephemeral=bool(request.flags & F_EPH_ID)) if me else None
        else:
            entry = d.entry(mid)
            alist = d.container(mid) if entry is None else None
            if entry is not None:
                values = self.entry_values(entry, ephemeral=bool(request.flags & F_EPH_ID))
            elif alist is not None and mid != 0:
                values = self.container_values(alist)
        if values is None:
            return GetPropsResponse(error_code=NOT_FOUND, code_page=code_page)
        tags = request.property_tags if request.property_tags is not None else tuple(values)
        out: list[PropertyValue] = []
        missing = False
        for wanted in tags:
            tag = PropertyTag(wanted)
            hit = _value_for(values, tag)
            if hit is None:
                missing = True
                out.append(PropertyValue(tag.with_type(PropType.ERROR_CODE), ErrorCode(NOT_FOUND)))
            else:
                out.append(PropertyValue(hit[0], hit[1]))
        return GetPropsResponse(
            error_code=ERRORS_RETURNED if missing else SUCCESS,
            code_page=code_page,
            property_values=tuple(out),
        )

    def _getproplist(self, body: bytes, ctx: SimSessionContext, req: Request) -> GetPropListResponse:
        request: GetPropListRequest = self._decode(GetPropListRequest, body)
        self._state(ctx)
        entry = self.directory.entry(request.minimal_id)
        if entry is None:
            return GetPropListResponse(error_code=NOT_FOUND)
        values = self.entry_values(entry)
        return GetPropListResponse(property_tags=tuple(PropertyTag(t) for t in values))

    def _querycolumns(self, body: bytes, ctx: SimSessionContext, req: Request) -> QueryColumnsResponse:
        request: QueryColumnsRequest = self._decode(QueryColumnsRequest, body)
        self._state(ctx)
        unicode = bool(request.mapi_flags & NSPI_UNICODE_PROPTYPES)
        tags = tuple(PropertyTag(t if unicode else _string8(t)) for t in ENTRY_TAGS)
        return QueryColumnsResponse(columns=tags)

    def _dntomid(self, body: bytes, ctx: SimSessionContext, req: Request) -> DNToMIdResponse:
        request: DNToMIdRequest = self._decode(DNToMIdRequest, body)
        self._state(ctx)
        d = self.directory
        mids = []
        for dn in request.names or ():
            entry = d.find_dn(dn)
            alist = d.find_container_dn(dn) if entry is None else None
            mids.append(entry.mid if entry is not None else alist.container_id if alist is not None else 0)
        return DNToMIdResponse(minimal_ids=tuple(mids))

    # -- ResolveNames (MS-OXNSPI 3.1.4.1.17) and GetMatches (3.1.4.1.10) -----------------------------

    def _resolvenames(self, body: bytes, ctx: SimSessionContext, req: Request) -> AddressBookResponse:
        request: ResolveNamesRequest = self._decode(ResolveNamesRequest, body)
        state = self._state(ctx)
        stat = request.state or Stat(code_page=state.code_page)
        columns = self._columns(request.property_tags)
        if isinstance(columns, int):
            return ResolveNamesResponse(error_code=columns, code_page=stat.code_page)
        mids: list[int] = []
        resolved: list[DirEntry] = []
        for name in request.names or ():
            entry, candidates = self.directory.resolve(name)
            if entry is not None:
                mids.append(entry.mid)
                resolved.append(entry)
            else:
                mids.append(MID_AMBIGUOUS if candidates else MID_UNRESOLVED)
        head = ResolveNamesResponse(code_page=stat.code_page, minimal_ids=tuple(mids), property_tags=columns)
        return _Spliced(head, [self.row_bytes(e, columns, 0, stat.code_page) for e in resolved])

    def _getmatches(self, body: bytes, ctx: SimSessionContext, req: Request) -> AddressBookResponse:
        request, anr = self._decode_getmatches(body)
        self._state(ctx)
        stat = request.state or Stat()
        if request.property_name_guid is not None or anr is None:
            # Membership tables (lpPropName) and other restrictions are not simulated.
            return GetMatchesResponse(error_code=NOT_SUPPORTED if anr is None else TOO_COMPLEX)
        alist = self._table(stat)
        if isinstance(alist, int):
            return GetMatchesResponse(error_code=alist)
        columns = self._columns(request.columns) if request.columns is not None else None
        if isinstance(columns, int):
            return GetMatchesResponse(error_code=columns)
        matches = [
            e for e in self.directory.anr(anr) if alist.is_gal or alist.position_of(e.mid, e) is not None
        ]
        if len(matches) > request.row_count:
            return GetMatchesResponse(error_code=TABLE_TOO_BIG)
        out_stat = replace(
            stat, current_rec=MID_BEGINNING_OF_TABLE, delta=0, num_pos=0, total_recs=len(matches)
        )
        mids = tuple(e.mid for e in matches)
        if columns is None:
            return GetMatchesResponse(state=out_stat, minimal_ids=mids)
        head = GetMatchesResponse(state=out_stat, minimal_ids=mids, columns=columns)
        return _Spliced(head, [self.row_bytes(e, columns, 0, stat.code_page) for e in matches])

    def _decode_getmatches(self, body: bytes) -> tuple[GetMatchesRequest, str | None]:
        """GetMatches with its Filter: the codec reads every field but the restriction, which is read here.

        Only the restriction Outlook sends for "check names" is understood: a PropertyRestriction
        (MS-OXCDATA 2.12.5) on PidTagAnr with RELOP_EQ and a string. ⚠ Its TaggedValue is sent here in the
        MS-OXCDATA 2.11.4 form (tag + value); gromox also puts a HasValue byte (0xFF) before the string
        (PROTOCOL.md §6.4). Both are accepted. Returns (request, ANR text or None when the filter is other).
        """
        try:
            cut = _filter_span(body)
        except ProtocolError as exc:
            raise SimResponseCode(12, f"GetMatches request body does not decode: {exc}") from None
        if cut is None:
            return self._decode(GetMatchesRequest, body), None
        start, has_at = cut
        last_error: ProtocolError | None = None
        for with_has_value in (False, True):
            try:
                text, end = _read_anr_restriction(body, start, with_has_value)
                request = GetMatchesRequest.decode(body[:has_at] + b"\x00" + body[end:])
            except ProtocolError as exc:
                last_error = exc
                continue
            return replace(request, filter=body[start:end]), text
        raise SimResponseCode(12, f"GetMatches Filter is not an ANR property restriction: {last_error}")

    # -- GetMailboxUrl / GetAddressBookUrl (MS-OXCMAPIHTTP 2.2.5.18, 2.2.5.19) -----------------------

    def _urls(self, ctx: SimSessionContext) -> tuple[str, str]:
        mailbox_id = f"{ctx.user.mailbox_guid}@{self.org.domain}"
        host = self.org.mail_host
        return (
            f"https://{host}/mapi/emsmdb/?MailboxId={mailbox_id}",
            f"https://{host}{NSPI_PATH}?MailboxId={mailbox_id}",
        )

    # -- GetTemplateInfo / ModLinkAtt / ModProps / ResortRestriction (MS-OXNSPI 3.1.4.1.18, .15, .14, .11) --

    def _gettemplateinfo(
        self, body: bytes, ctx: SimSessionContext, req: Request
    ) -> nspi_bodies.GetTemplateInfoResponse:
        request: nspi_bodies.GetTemplateInfoRequest = self._decode(nspi_bodies.GetTemplateInfoRequest, body)
        self._state(ctx)
        # The simulated directory has no display templates.
        return nspi_bodies.GetTemplateInfoResponse(error_code=NOT_FOUND, code_page=request.code_page)

    def _modlinkatt(
        self, body: bytes, ctx: SimSessionContext, req: Request
    ) -> nspi_bodies.ModLinkAttResponse:
        self._decode(nspi_bodies.ModLinkAttRequest, body)
        self._state(ctx)
        return nspi_bodies.ModLinkAttResponse(
            error_code=ACCESS_DENIED
        )  # the simulated directory is read-only

    def _modprops(self, body: bytes, ctx: SimSessionContext, req: Request) -> nspi_bodies.ModPropsResponse:
        self._decode(nspi_bodies.ModPropsRequest, body)
        self._state(ctx)
        return nspi_bodies.ModPropsResponse(error_code=ACCESS_DENIED)

    def _resortrestriction(
        self, body: bytes, ctx: SimSessionContext, req: Request
    ) -> nspi_bodies.ResortRestrictionResponse:
        request: nspi_bodies.ResortRestrictionRequest = self._decode(
            nspi_bodies.ResortRestrictionRequest, body
        )
        self._state(ctx)
        known = [e for e in (self.directory.entry(m) for m in request.minimal_ids or ()) if e is not None]
        known.sort(key=lambda e: e.display_name.casefold())
        return nspi_bodies.ResortRestrictionResponse(
            state=request.state, minimal_ids=tuple(e.mid for e in known)
        )

    def _getmailboxurl(self, body: bytes, ctx: SimSessionContext, req: Request) -> GetMailboxUrlResponse:
        request: GetMailboxUrlRequest = self._decode(GetMailboxUrlRequest, body)
        self._state(ctx)
        if not request.server_dn:
            return GetMailboxUrlResponse(error_code=NOT_FOUND, server_url="")
        return GetMailboxUrlResponse(server_url=self._urls(ctx)[0])

    def _getaddressbookurl(
        self, body: bytes, ctx: SimSessionContext, req: Request
    ) -> GetAddressBookUrlResponse:
        request: GetAddressBookUrlRequest = self._decode(GetAddressBookUrlRequest, body)
        self._state(ctx)
        if self.directory.find_dn(request.user_dn) is None:
            return GetAddressBookUrlResponse(error_code=NOT_FOUND, server_url="")
        return GetAddressBookUrlResponse(server_url=self._urls(ctx)[1])


def install(sim: Simulator) -> MapiHttpService:
    """Mount the address book endpoint at ``/mapi/nspi/`` of the simulator's HTTPS site (every host).

    The directory has ``sim.gal_size`` entries (default :data:`DEFAULT_GAL_SIZE`) and ``sim.gal_seed``
    as its seed; it is generated on the first Bind (or by :meth:`NspiHandler.warm`).
    """
    org = sim.org
    size = getattr(sim, "gal_size", None) or DEFAULT_GAL_SIZE
    seed = getattr(sim, "gal_seed", None) or DEFAULT_SEED
    handler = NspiHandler(org, LazyDirectory(size, seed=seed, org=org))
    service = MapiHttpService(
        "nspi",
        connect_types={"Bind"},
        disconnect_types={"Unbind"},
        handler=handler,
        server_application=org.server_application,
        request_types={name for name in _REQUEST_TYPES if name not in ("Bind", "Unbind")},
    )
    service.install(sim.https_site, NSPI_PATH)
    return service


_REQUEST_TYPES = (
    "Bind",
    "Unbind",
    "CompareMIds",
    "DNToMId",
    "GetMatches",
    "GetPropList",
    "GetProps",
    "GetSpecialTable",
    "QueryRows",
    "QueryColumns",
    "ResolveNames",
    "SeekEntries",
    "UpdateStat",
    "GetMailboxUrl",
    "GetAddressBookUrl",
)

__all__ = [
    "DEFAULT_COLUMNS",
    "ENTRY_TAGS",
    "GENERAL_FAILURE",
    "HIERARCHY_VERSION",
    "INVALID_BOOKMARK",
    "INVALID_PARAMETER",
    "MAX_COLUMNS",
    "MAX_ROWS_PER_QUERY",
    "NOT_FOUND",
    "NOT_SUPPORTED",
    "NSPI_PATH",
    "RELOP_EQ",
    "RES_PROPERTY",
    "ROW_CACHE_SIZE",
    "SUCCESS",
    "TABLE_TOO_BIG",
    "TAG_ACCOUNT",
    "TAG_ADDRESS_TYPE",
    "TAG_ANR",
    "TAG_BUSINESS_PHONE",
    "TAG_COMPANY_NAME",
    "TAG_CONTAINER_FLAGS",
    "TAG_CONTAINER_ID",
    "TAG_COUNTRY",
    "TAG_DEPARTMENT_NAME",
    "TAG_DEPTH",
    "TAG_DISPLAY_NAME",
    "TAG_DISPLAY_NAME_PRINTABLE",
    "TAG_DISPLAY_TYPE",
    "TAG_DISPLAY_TYPE_EX",
    "TAG_EMAIL_ADDRESS",
    "TAG_ENTRY_ID",
    "TAG_GIVEN_NAME",
    "TAG_INSTANCE_KEY",
    "TAG_IS_MASTER",
    "TAG_LOCALITY",
    "TAG_MOBILE_PHONE",
    "TAG_OBJECT_TYPE",
    "TAG_OFFICE_LOCATION",
    "TAG_PARENT_ENTRY_ID",
    "TAG_PRIMARY_PHONE",
    "TAG_PROXY_ADDRESSES",
    "TAG_SMTP_ADDRESS",
    "TAG_SURNAME",
    "TAG_TITLE",
    "TOO_COMPLEX",
    "NspiHandler",
    "install",
]
