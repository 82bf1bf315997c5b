"""The simulator's ROP processor: runs the ROPs of an Execute against the sample mailbox
(:mod:`mapiprobe.simulator.mailstore`), one :class:`RopEngine` per Session Context of
:class:`~mapiprobe.simulator.mailbox.MailboxHandler`:

* the Server object handle table as MS-OXCROPS 3.2.5.1/3.2.5.2 describe it: ROPs run in order, a created
  object's handle goes to its output slot and later ROPs of the same buffer may use it, the response carries
  every entry of the request's table (as gromox does, PROTOCOL.md §10); a bad index fails the ROP with
  ecNullObject (0x4B9), a released handle with ecInvalidObject, another logon's object with ecAccessDenied;
* RopLogon (private mailboxes; the redirect form in the ``mailbox-moved`` scenario), RopOpenFolder,
  RopGetHierarchyTable (Depth: all descendants, depth-first), RopGetContentsTable, RopSetColumns,
  RopQueryRows (cursor, Advance/NoAdvance, both directions, Origin per MS-OXCTABL 3.2.5.5, only whole rows
  that fit), RopGetPropertiesSpecific, RopGetPropertyIdsFromNames and RopRelease;
* output limits: a RopBuffer payload holds at most min(MaxRopOut − 8, 32 KB) bytes (MS-OXCRPC 3.1.4.2.1);
  when the next response does not fit, RopBufferTooSmall ends the output with the unprocessed requests
  (MS-OXCROPS 2.2.15.1) and nothing of them has been done;
* compression above :data:`COMPRESS_THRESHOLD` bytes when the client did not set NoCompression (as gromox,
  PROTOCOL.md §10); XorMagic is never applied to output, which the spec allows (MS-OXCRPC 3.1.4.1.1).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mapiprobe.protocol.emsmdb import (
    ExecuteFlags,
    ExecuteRequest,
    ExecuteResponse,
)
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.properties import (
    FLAG_ERROR,
    FLAG_PRESENT,
    ErrorValue,
    PropertyRow,
    PropertyTag,
    PropertyValue,
    PropType,
)
from mapiprobe.protocol.ropbuffer import HANDLE_UNUSED, RopBuffer
from mapiprobe.protocol.rops import (
    RopBufferTooSmallResponse,
    RopFailureResponse,
    RopGetContentsTableRequest,
    RopGetContentsTableResponse,
    RopGetHierarchyTableRequest,
    RopGetHierarchyTableResponse,
    RopGetPropertiesSpecificRequest,
    RopGetPropertiesSpecificResponse,
    RopGetPropertyIdsFromNamesRequest,
    RopGetPropertyIdsFromNamesResponse,
    RopLogonPrivateMailboxResponse,
    RopLogonRedirectResponse,
    RopLogonRequest,
    RopOpenFolderRequest,
    RopOpenFolderResponse,
    RopQueryRowsRequest,
    RopQueryRowsResponse,
    RopReleaseRequest,
    RopRequest,
    RopResponse,
    RopSetColumnsRequest,
    RopSetColumnsResponse,
    iter_requests,
)
from mapiprobe.protocol.rops.folder import TABLE_FLAG_ASSOCIATED, TABLE_FLAG_DEPTH
from mapiprobe.protocol.rops.generic import GenericRopRequest
from mapiprobe.protocol.rops.logon import (
    LOGON_FLAG_PRIVATE,
    OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING,
    LogonTime,
)
from mapiprobe.protocol.rops.table import (
    BOOKMARK_BEGINNING,
    BOOKMARK_CURRENT,
    BOOKMARK_END,
    QUERY_ROWS_NO_ADVANCE,
)
from mapiprobe.protocol.rpcext import MAX_PAYLOAD, encode_ext_buffer, iter_ext_buffers
from mapiprobe.protocol.wire import Reader

from .mailstore import TAG_DEPTH, Mailbox, StoreFolder, StoreMessage, value_for
from .org import Organisation, SimUser

# -- return values (MS-OXCDATA 2.4; PROTOCOL.md §4.1, §5.7) ---------------------------------------------
EC_NONE = 0x00000000
EC_UNKNOWN_USER = 0x000003EB
EC_BUFFER_TOO_SMALL = 0x0000047D
EC_WRONG_SERVER = 0x00000478
EC_RPC_FORMAT = 0x000004B6
EC_NULL_OBJECT = 0x000004B9
EC_NOT_SUPPORTED = 0x80040102
EC_INVALID_OBJECT = 0x80040108
EC_NOT_FOUND = 0x8004010F
EC_LOGIN_FAILURE = 0x80040111
EC_NOT_ENOUGH_MEMORY = 0x8007000E
EC_ACCESS_DENIED = 0x80070005
EC_INVALID_PARAMETER = 0x80070057

COMPRESS_THRESHOLD = 1024
"""Output payloads at least this large are LZ77-compressed when the client allows it."""
MAX_ROW_VALUE = 510
"""Largest property value in a table row; longer strings and binaries are cut (MS-OXCTABL 2.2.2.5.2)."""
NOTIFICATION_WAIT_S = 0.5
"""How long NotificationWait waits before answering "no event" (the spec allows up to 5 minutes)."""

_ROW_HEADER = 9  # RopQueryRows response: RopId, InputHandleIndex, ReturnValue, Origin, RowCount
_CREATING = (RopLogonRequest, RopOpenFolderRequest, RopGetHierarchyTableRequest, RopGetContentsTableRequest)


class RopError(Exception):
    """A ROP fails with ``code`` (its response becomes the failure response buffer)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"0x{code:08X}")
        self.code = code


# -- Server objects -----------------------------------------------------------------------------------


@dataclass(eq=False)
class LogonObject:
    logon_id: int
    mailbox: Mailbox


@dataclass(eq=False)
class FolderObject:
    logon_id: int
    folder: StoreFolder


@dataclass(eq=False)
class TableObject:
    """A hierarchy or contents table: a snapshot of its rows, the columns and the cursor."""

    logon_id: int
    kind: str  # "hierarchy" or "contents"
    folder: StoreFolder
    flags: int
    rows: list[tuple[StoreFolder | StoreMessage, int]]
    columns: tuple[int, ...] | None = None
    position: int = 0


ServerObject = LogonObject | FolderObject | TableObject


@dataclass
class EngineOptions:
    """Behaviour switches of one endpoint (set by scenarios and tests)."""

    redirect_logon_to: str | None = None
    """ServerName (an ESSDN) for a RopLogon that must answer ecWrongServer, or None."""
    compress_threshold: int = COMPRESS_THRESHOLD


@dataclass
class ExecuteStats:
    """What the engine did with one Execute (tests and the trace look at it)."""

    rops: int = 0
    compressed: bool = False
    buffer_too_small: bool = False
    output_size: int = 0


# -- the ROP engine -------------------------------------------------------------------------------------


class RopEngine:
    """Runs ROP input buffers for one Session Context of one user (MS-OXCROPS 3.2.5)."""

    def __init__(
        self,
        user: SimUser,
        org: Organisation,
        mailbox: Callable[[], Mailbox],
        options: EngineOptions | None = None,
    ) -> None:
        self.user = user
        self.org = org
        self._mailbox = mailbox
        self.options = options or EngineOptions()
        self.logons: dict[int, int] = {}  # LogonId -> handle of its Logon object
        self.objects: dict[int, ServerObject] = {}
        self._next_handle = 0
        self.last = ExecuteStats()

    # -- handles ----------------------------------------------------------------------------------

    def _new_handle(self, obj: ServerObject) -> int:
        handle = self._next_handle
        self._next_handle += 1
        if self._next_handle >= HANDLE_UNUSED:  # never hand out 0xFFFFFFFF (MS-OXCROPS 3.2.5.2)
            self._next_handle = 0
        self.objects[handle] = obj
        return handle

    def _lookup(self, req: RopRequest, index: int, table: list[int]) -> ServerObject:
        if index >= len(table) or table[index] == HANDLE_UNUSED:
            raise RopError(EC_NULL_OBJECT)
        obj = self.objects.get(table[index])
        if obj is None:
            raise RopError(EC_INVALID_OBJECT if table[index] < self._next_handle else EC_NULL_OBJECT)
        if obj.logon_id != req.logon_id:  # type: ignore[attr-defined]
            raise RopError(EC_ACCESS_DENIED)
        return obj

    def _check_logon(self, req: RopRequest) -> None:
        if req.logon_id not in self.logons:  # type: ignore[attr-defined]
            raise RopError(EC_NULL_OBJECT)

    @staticmethod
    def _output_slot(index: int, table: list[int]) -> None:
        if index >= len(table):
            raise RopError(EC_NULL_OBJECT)

    def release_all(self) -> None:
        self.objects.clear()
        self.logons.clear()

    def _release(self, handle: int) -> None:
        obj = self.objects.pop(handle, None)
        if isinstance(obj, LogonObject):
            # Releasing a Logon object ends the logon and every object opened through it (MS-OXCROPS 3.2.5.3).
            self.logons.pop(obj.logon_id, None)
            for h in [h for h, o in self.objects.items() if o.logon_id == obj.logon_id]:
                del self.objects[h]

    # -- Execute ----------------------------------------------------------------------------------

    def execute(self, request: ExecuteRequest) -> ExecuteResponse:
        """One Execute body in, one out. A ROP input buffer that does not parse fails the call with
        0x000004B6 (MS-OXCROPS 3.2.5.1)."""
        self.last = ExecuteStats()
        try:
            buffers = [RopBuffer.decode(ext.payload) for ext in iter_ext_buffers(request.rop_buffer)]
            parsed = [_split_requests(b.rops) for b in buffers]
        except ProtocolError:
            return ExecuteResponse(error_code=EC_RPC_FORMAT)
        if len(buffers) != 1:
            # Packed input buffers need AUX_SERVER_CAPABILITIES, which this server does not advertise
            # (MS-OXCRPC 3.1.4.2.1.1.1).
            return ExecuteResponse(error_code=EC_RPC_FORMAT)
        limit = max(0, min(request.max_rop_out - 8, MAX_PAYLOAD))
        out = self.process(parsed[0], list(buffers[0].server_object_handle_table), limit)
        payload = out.encode()
        compress = not request.flags & ExecuteFlags.NO_COMPRESSION
        compress = compress and len(payload) >= self.options.compress_threshold
        rop_buffer = encode_ext_buffer(payload, compress=compress)
        self.last.compressed = bool(rop_buffer[2] & 0x01)
        self.last.output_size = len(rop_buffer)
        return ExecuteResponse(rop_buffer=rop_buffer)

    def process(
        self, requests: Sequence[tuple[RopRequest, bytes]], table: list[int], limit: int = MAX_PAYLOAD
    ) -> RopBuffer:
        """Run ``requests`` (each with its own bytes) against ``table``; the ROP output buffer.

        ``limit`` is the largest output payload (RopSize + RopsList + handle table) allowed.
        """
        responses: list[bytes] = []
        used = 2 + 4 * len(table)
        for i, (req, _raw) in enumerate(requests):
            self.last.rops += 1
            room = limit - used
            try:
                resp, commit = self._dispatch(req, table, room)
            except _TooSmall as exc:
                resp, commit = None, None
                needed = exc.size_needed
            else:
                needed = 0
                encoded = resp.to_bytes() if resp is not None else b""
                if len(encoded) > room:
                    needed = len(encoded)
            if needed:
                # Not done: answer RopBufferTooSmall with every unprocessed request (MS-OXCROPS 2.2.15.1).
                # SizeNeeded: what a resend of the unprocessed requests needs at least (RPC_HEADER_EXT,
                # RopSize, the handle table and this response).
                size_needed = min(0xFFFF, 8 + 2 + 4 * len(table) + needed)
                rest = b"".join(raw for _, raw in requests[i:])
                responses.append(RopBufferTooSmallResponse(size_needed, rest).to_bytes())
                self.last.buffer_too_small = True
                break
            if commit is not None:
                commit()
            if resp is not None:
                responses.append(encoded)
                used += len(encoded)
        return RopBuffer(b"".join(responses), tuple(table))

    def _dispatch(
        self, req: RopRequest, table: list[int], room: int
    ) -> tuple[RopResponse | None, Callable[[], None] | None]:
        handler = _HANDLERS.get(type(req))
        try:
            if handler is None:
                # Every ROP of MS-OXCROPS 2.2 decodes (rops/catalog.py); the simulated server implements the
                # ones mapiprobe sends and answers the others with ecNotSupported.
                raise RopError(EC_NOT_SUPPORTED)
            return handler(self, req, table, room)
        except RopError as exc:
            if isinstance(req, RopReleaseRequest):
                return None, None  # errors of RopRelease are swallowed (MS-OXCROPS 3.2.5.3)
            if isinstance(req, GenericRopRequest):  # the response names the handle field the request names
                index = int(req.values.get(req.SPEC.handle, 0))
            else:
                index = req.output_handle_index if isinstance(req, _CREATING) else req.input_handle_index  # type: ignore[attr-defined]
            return RopFailureResponse(req.rop_id, index, exc.code), None

    # -- ROPs -------------------------------------------------------------------------------------

    def _logon(
        self, req: RopLogonRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None]]:
        """RopLogon (MS-OXCROPS 2.2.3.1; MS-OXCSTOR 3.2.5.1): private mailboxes of the connected user only."""
        self._output_slot(req.output_handle_index, table)
        if not req.logon_flags & LOGON_FLAG_PRIVATE:
            raise RopError(EC_NOT_SUPPORTED)  # no public folders in the simulator
        if not req.open_flags & OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING:
            raise RopError(EC_INVALID_PARAMETER)  # MS-OXCSTOR 3.2.5.1.3: the flag is required
        essdn = (req.essdn or "").strip().lower()
        if essdn != self.user.legacy_dn.lower():
            # An unknown ESSDN is ecUnknownUser; somebody else's mailbox, without rights, ecAccessDenied
            # (MS-OXCSTOR 3.2.5.1.1, 3.2.5.1.3).
            other = self.org.find_by_legacy_dn(essdn)
            raise RopError(EC_ACCESS_DENIED if other is not None else EC_UNKNOWN_USER)
        target = self.options.redirect_logon_to
        if target is not None:
            return RopLogonRedirectResponse(req.output_handle_index, req.logon_flags, target), _nothing
        mailbox = self._mailbox()
        now = _dt.datetime.now(_dt.UTC)
        response = RopLogonPrivateMailboxResponse(
            output_handle_index=req.output_handle_index,
            logon_flags=req.logon_flags & 0x07,
            folder_ids=mailbox.special_folder_ids(),
            response_flags=0x01 | 0x02 | 0x04,  # Reserved, OwnerRight, SendAsRight
            mailbox_guid=mailbox.mailbox_guid,
            repl_id=mailbox.repl_id,
            repl_guid=mailbox.repl_guid,
            logon_time=LogonTime.from_datetime(now),
            gwart_time=int(now.timestamp()) * 10_000_000 + 116_444_736_000_000_000,
            store_state=0,
        )

        def commit() -> None:
            old = self.logons.get(req.logon_id)
            if old is not None:  # reusing an active LogonId releases the old logon (MS-OXCROPS 3.1.4.2)
                self._release(old)
            handle = self._new_handle(LogonObject(req.logon_id, mailbox))
            self.logons[req.logon_id] = handle
            table[req.output_handle_index] = handle

        return response, commit

    def _open_folder(
        self, req: RopOpenFolderRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None]]:
        """RopOpenFolder (MS-OXCROPS 2.2.4.1; MS-OXCFOLD 3.2.5.1)."""
        self._check_logon(req)
        self._output_slot(req.output_handle_index, table)
        parent = self._lookup(req, req.input_handle_index, table)
        if not isinstance(parent, LogonObject | FolderObject):
            raise RopError(EC_NOT_SUPPORTED)
        mailbox = self._logon_mailbox(req.logon_id)
        folder = mailbox.folder(req.folder_id)
        if folder is None:
            raise RopError(EC_NOT_FOUND)
        obj = FolderObject(req.logon_id, folder)
        return RopOpenFolderResponse(req.output_handle_index), self._creates(
            obj, req.output_handle_index, table
        )

    def _hierarchy_table(
        self, req: RopGetHierarchyTableRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None]]:
        """RopGetHierarchyTable (MS-OXCROPS 2.2.4.13; MS-OXCFOLD 2.2.1.13): Depth lists every descendant in
        depth-first order, as gromox and Exchange do (PROTOCOL.md §10); PidTagDepth 0 is a direct child."""
        self._check_logon(req)
        self._output_slot(req.output_handle_index, table)
        parent = self._lookup(req, req.input_handle_index, table)
        if not isinstance(parent, FolderObject):
            raise RopError(EC_NOT_SUPPORTED)
        folder = parent.folder
        rows: list[tuple[StoreFolder | StoreMessage, int]]
        if req.table_flags & TABLE_FLAG_DEPTH:
            rows = list(folder.descendants())
        else:
            rows = [(c, 0) for c in folder.children]
        obj = TableObject(req.logon_id, "hierarchy", folder, req.table_flags, rows)
        response = RopGetHierarchyTableResponse(req.output_handle_index, len(rows))
        return response, self._creates(obj, req.output_handle_index, table)

    def _contents_table(
        self, req: RopGetContentsTableRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None]]:
        """RopGetContentsTable (MS-OXCROPS 2.2.4.14; MS-OXCFOLD 2.2.1.14): newest first; the simulated
        folders hold no folder associated information, so an Associated table is empty."""
        self._check_logon(req)
        self._output_slot(req.output_handle_index, table)
        parent = self._lookup(req, req.input_handle_index, table)
        if not isinstance(parent, FolderObject):
            raise RopError(EC_NOT_SUPPORTED)
        rows: list[tuple[StoreFolder | StoreMessage, int]] = []
        if not req.table_flags & TABLE_FLAG_ASSOCIATED:
            messages = sorted(parent.folder.messages, key=lambda m: m.received, reverse=True)
            rows = [(m, 0) for m in messages]
        obj = TableObject(req.logon_id, "contents", parent.folder, req.table_flags, rows)
        response = RopGetContentsTableResponse(req.output_handle_index, len(rows))
        return response, self._creates(obj, req.output_handle_index, table)

    def _set_columns(
        self, req: RopSetColumnsRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None]]:
        """RopSetColumns (MS-OXCROPS 2.2.5.1; MS-OXCTABL 3.2.5.1)."""
        self._check_logon(req)
        obj = self._lookup(req, req.input_handle_index, table)
        if not isinstance(obj, TableObject):
            raise RopError(EC_NOT_SUPPORTED)
        if not req.property_tags:
            raise RopError(EC_INVALID_PARAMETER)
        columns = tuple(int(t) for t in req.property_tags)

        def commit() -> None:
            obj.columns = columns

        return RopSetColumnsResponse(req.input_handle_index, 0), commit

    def _query_rows(
        self, req: RopQueryRowsRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None]]:
        """RopQueryRows (MS-OXCROPS 2.2.5.4; MS-OXCTABL 3.2.5.5): whole rows only, as many as fit."""
        self._check_logon(req)
        obj = self._lookup(req, req.input_handle_index, table)
        if not isinstance(obj, TableObject):
            raise RopError(EC_NOT_SUPPORTED)
        if obj.columns is None:
            raise RopError(EC_NULL_OBJECT)  # RopSetColumns must come first (MS-OXCTABL 3.1.5)
        columns = obj.columns
        forward = bool(req.forward_read)
        if forward:
            candidates = obj.rows[obj.position : obj.position + req.row_count]
        else:
            candidates = obj.rows[max(0, obj.position - req.row_count) : obj.position]
            candidates.reverse()  # read backwards from the cursor, nearest row first
        rows: list[PropertyRow] = []
        size = _ROW_HEADER
        for item, depth in candidates:
            row = self._row(item, depth, columns)
            row_size = len(row.to_bytes(columns))
            if size + row_size > room:
                if rows:
                    break
                if _ROW_HEADER + row_size > MAX_PAYLOAD - 2 - 4 * len(table):
                    raise RopError(EC_BUFFER_TOO_SMALL)  # no buffer holds even one row (MS-OXCTABL 3.2.5.5)
                raise _TooSmall(_ROW_HEADER + row_size)
            rows.append(row)
            size += row_size
        count = len(rows)
        if forward:
            new_position = obj.position + count
            origin = BOOKMARK_END if new_position >= len(obj.rows) else BOOKMARK_CURRENT
        else:
            new_position = obj.position - count
            origin = BOOKMARK_BEGINNING if new_position <= 0 else BOOKMARK_CURRENT
        response = RopQueryRowsResponse(req.input_handle_index, origin, tuple(rows), columns)

        def commit() -> None:
            if not req.query_rows_flags & QUERY_ROWS_NO_ADVANCE:
                obj.position = new_position

        return response, commit

    def _get_properties(
        self, req: RopGetPropertiesSpecificRequest, table: list[int], room: int
    ) -> tuple[RopResponse, None]:
        """RopGetPropertiesSpecific (MS-OXCROPS 2.2.8.3; MS-OXCPRPT 3.2.5.1) on a Logon or Folder object."""
        self._check_logon(req)
        obj = self._lookup(req, req.input_handle_index, table)
        if isinstance(obj, LogonObject):
            props = obj.mailbox.store_properties()
        elif isinstance(obj, FolderObject):
            props = obj.folder.properties()
        else:
            raise RopError(EC_NOT_SUPPORTED)
        tags = tuple(int(t) for t in req.property_tags)
        row = build_row(props, tags, limit=req.property_size_limit or None, unicode=bool(req.want_unicode))
        return RopGetPropertiesSpecificResponse(req.input_handle_index, row, tags), None

    def _property_ids(
        self, req: RopGetPropertyIdsFromNamesRequest, table: list[int], room: int
    ) -> tuple[RopResponse, Callable[[], None] | None]:
        """RopGetPropertyIdsFromNames (MS-OXCROPS 2.2.8.1; MS-OXCPRPT 3.2.5.9): 0 for an unknown name unless
        Create (0x02) is set; Kind 0xFF names get 0."""
        self._check_logon(req)
        self._lookup(req, req.input_handle_index, table)
        mailbox = self._logon_mailbox(req.logon_id)
        if not req.property_names:
            ids = tuple(sorted(mailbox.named_properties.values()))
            return RopGetPropertyIdsFromNamesResponse(req.input_handle_index, ids), None
        create = bool(req.flags & 0x02)
        out: list[int] = []
        for name in req.property_names:
            if name.kind == 0x00 and name.guid is not None and name.lid is not None:
                out.append(mailbox.property_id_for(0, name.guid, name.lid, create=create))
            elif name.kind == 0x01 and name.guid is not None and name.name is not None:
                out.append(mailbox.property_id_for(1, name.guid, name.name, create=create))
            else:
                out.append(0)
        return RopGetPropertyIdsFromNamesResponse(req.input_handle_index, tuple(out)), None

    def _release_rop(
        self, req: RopReleaseRequest, table: list[int], room: int
    ) -> tuple[None, Callable[[], None]]:
        """RopRelease (MS-OXCROPS 2.2.15.3): no response, errors swallowed."""
        if req.input_handle_index >= len(table):
            return None, _nothing
        handle = table[req.input_handle_index]

        def commit() -> None:
            obj = self.objects.get(handle)
            if obj is not None and obj.logon_id == req.logon_id:
                self._release(handle)

        return None, commit

    # -- helpers ----------------------------------------------------------------------------------

    def _logon_mailbox(self, logon_id: int) -> Mailbox:
        obj = self.objects.get(self.logons[logon_id])
        assert isinstance(obj, LogonObject)
        return obj.mailbox

    def _creates(self, obj: ServerObject, slot: int, table: list[int]) -> Callable[[], None]:
        def commit() -> None:
            table[slot] = self._new_handle(obj)

        return commit

    def _row(self, item: StoreFolder | StoreMessage, depth: int, columns: tuple[int, ...]) -> PropertyRow:
        props = item.properties()
        props[TAG_DEPTH] = depth
        return build_row(props, columns, truncate=MAX_ROW_VALUE)


class _TooSmall(Exception):
    """The response does not fit what is left of the output buffer (``size_needed`` bytes)."""

    def __init__(self, size_needed: int) -> None:
        super().__init__(size_needed)
        self.size_needed = size_needed


def _nothing() -> None:
    return None


_HANDLERS: dict[type, Callable[..., tuple[Any, Any]]] = {
    RopLogonRequest: RopEngine._logon,
    RopOpenFolderRequest: RopEngine._open_folder,
    RopGetHierarchyTableRequest: RopEngine._hierarchy_table,
    RopGetContentsTableRequest: RopEngine._contents_table,
    RopSetColumnsRequest: RopEngine._set_columns,
    RopQueryRowsRequest: RopEngine._query_rows,
    RopGetPropertiesSpecificRequest: RopEngine._get_properties,
    RopGetPropertyIdsFromNamesRequest: RopEngine._property_ids,
    RopReleaseRequest: RopEngine._release_rop,
}


def _split_requests(rops: bytes) -> list[tuple[RopRequest, bytes]]:
    """Every request of a RopsList with its own bytes (RequestBuffers of RopBufferTooSmall needs them)."""
    r = Reader(rops)
    out: list[tuple[RopRequest, bytes]] = []
    start = 0
    for req in iter_requests(r):
        end = r.offset
        out.append((req, rops[start:end]))
        start = end
    return out


_FIXED_SIZES: dict[int, int] = {
    PropType.INTEGER16: 2,
    PropType.INTEGER32: 4,
    PropType.FLOATING32: 4,
    PropType.ERROR_CODE: 4,
    PropType.BOOLEAN: 1,
    PropType.GUID: 16,
}


def _value_size(prop_type: int, value: Any) -> int:
    """Bytes of a value as PropertySizeLimit counts them (MS-OXCPRPT 2.2.2.1)."""
    if prop_type == PropType.STRING and isinstance(value, str):
        return 2 * len(value) + 2
    if prop_type == PropType.STRING8 and isinstance(value, str):
        return len(value) + 1
    if isinstance(value, bytes | bytearray):
        return len(value)
    return _FIXED_SIZES.get(prop_type, 8)


def _truncate(prop_type: int, value: Any, limit: int) -> Any:
    if prop_type == PropType.STRING and isinstance(value, str) and 2 * len(value) > limit:
        return value[: limit // 2 - 1]
    if prop_type == PropType.STRING8 and isinstance(value, str) and len(value) > limit:
        return value[: limit - 1]
    if isinstance(value, bytes) and len(value) > limit:
        return value[:limit]
    return value


def build_row(
    props: dict[int, Any],
    columns: Sequence[int],
    *,
    limit: int | None = None,
    unicode: bool = True,
    truncate: int | None = None,
) -> PropertyRow:
    """The PropertyRow of ``columns`` (MS-OXCDATA 2.8.1): a StandardPropertyRow when every value is there,
    else a FlaggedPropertyRow. A missing property is NotFound (flag 0xA), a value above ``limit`` bytes
    NotEnoughMemory (MS-OXCPRPT 3.2.5.1); a PtypUnspecified column carries the value's own type, strings as
    PtypString when ``unicode`` is set and PtypString8 otherwise."""
    values: list[PropertyValue] = []
    for column in columns:
        tag = PropertyTag(column & 0xFFFFFFFF)
        unspecified = tag.prop_type == PropType.UNSPECIFIED
        hit = value_for(props, column)
        if hit is None:
            values.append(_error_value(tag, EC_NOT_FOUND, unspecified))
            continue
        prop_type, value = hit
        if unspecified and prop_type == PropType.STRING and not unicode:
            prop_type = PropType.STRING8
        if prop_type == PropType.STRING8 and isinstance(value, str):
            value = value.encode("cp1252", "replace").decode("cp1252")
        if truncate is not None:
            value = _truncate(prop_type, value, truncate)
        if limit is not None and _value_size(prop_type, value) > limit:
            values.append(_error_value(tag, EC_NOT_ENOUGH_MEMORY, unspecified))
            continue
        values.append(PropertyValue(tag.with_type(prop_type) if unspecified else tag, value, FLAG_PRESENT))
    if all(v.flag == FLAG_PRESENT for v in values):
        return PropertyRow(0x00, tuple(PropertyValue(v.tag, v.value) for v in values))
    return PropertyRow(0x01, tuple(values))


def _error_value(tag: PropertyTag, code: int, unspecified: bool) -> PropertyValue:
    return PropertyValue(
        tag.with_type(PropType.ERROR_CODE) if unspecified else tag, ErrorValue(code), FLAG_ERROR
    )
