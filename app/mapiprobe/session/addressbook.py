"""The address book session: browse and search a GAL over the MAPI/HTTP address book endpoint (NSPI).

It speaks MS-OXCMAPIHTTP address book bodies to a transport: MAPI/HTTP by default, or any
:class:`~mapiprobe.session.addressbook_transport.AddressBookTransport` given as ``transport=`` (RPC/HTTP,
where the same bodies become the NSPI methods of MS-OXNSPI 3.1.4.1 after RFR named the NSPI server).

The steps are those of PROTOCOL.md §7.2 and MS-OXCMAPIHTTP 2.2.5, with MS-OXNSPI for the server's rules:

1. **Bind** (2.2.5.1) creates the session's own Session Context (its own cookie jar; the mailbox session has
   another) and returns the server GUID. A :class:`~mapiprobe.session.state.KeepAlive` PINGs the context
   before X-ExpirationInfo runs out (MS-OXCMAPIHTTP 3.1.5.3).
2. **Address lists**: GetSpecialTable (2.2.5.8; MS-OXNSPI 3.1.4.1.3) returns the hierarchy table (GAL,
   All Address Lists and the lists under it); each row names a container by its MId
   (PidTagAddressBookContainerId).
3. **Pages** of a list: QueryRows (2.2.5.12; MS-OXNSPI 3.1.4.1.8), feeding back the returned STAT, whose
   CurrentRec then points after the last row. Rows are asked with fEphID so that each EntryID is an
   EphemeralEntryID carrying the row's MId (MS-OXNSPI 2.2.9.2).
4. **Positioning** without reading what lies before: a row number is reached by absolute positioning with
   Delta (STAT CurrentRec = MID_BEGINNING_OF_TABLE, Delta = n; MS-OXNSPI 3.1.4.5.1), a scroll-bar fraction
   by fractional positioning (CurrentRec = MID_CURRENT, NumPos/TotalRecs; 3.1.4.5.2, through UpdateStat),
   a name by SeekEntries (2.2.5.16; MS-OXNSPI 3.1.4.1.9).
5. **Details**: GetProps (2.2.5.7) of one MId. **Check names**: ResolveNames (2.2.5.14; MS-OXNSPI
   3.1.4.1.17) gives one MId per name, or MID_AMBIGUOUS / MID_UNRESOLVED; the candidates of an ambiguous
   name come from GetMatches (2.2.5.5) with an ANR restriction (PidTagAnr, MS-OXNSPI 3.1.4.7).
6. **Unbind** (2.2.5.2): ErrorCode 1 (UNBIND_SUCCESS) is success.

Transport rules (MS-OXCMAPIHTTP 3.1.5): one request at a time per context; X-ResponseCode 10 means the
server forgot the context, so the session binds again (carrying the old cookies, 3.1.5.7) and repeats the
request once — MIds and STATs stay valid across the new context because they belong to the server, not to
the context. Every request checks X-ResponseCode, then StatusCode, then ErrorCode (PROTOCOL.md §7).

The session reports progress through a callback (called in the thread that does the work: the caller's,
or the keep-alive's for its PINGs), can be cancelled with a :class:`threading.Event`, never prints and keeps
no global state. It holds nothing it was not asked for: paging is lazy
(:meth:`AddressBookSession.iter_pages`), so a GUI can fetch on demand.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx

from mapiprobe.protocol.errorcodes import describe, error_name
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.nspi import (
    BindRequest,
    BindResponse,
    DNToMIdRequest,
    DNToMIdResponse,
    GetAddressBookUrlRequest,
    GetAddressBookUrlResponse,
    GetMailboxUrlRequest,
    GetMailboxUrlResponse,
    GetMatchesRequest,
    GetMatchesResponse,
    GetPropsRequest,
    GetPropsResponse,
    GetSpecialTableRequest,
    GetSpecialTableResponse,
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
    is_success,
)
from mapiprobe.protocol.nspi_layout import AddressBookRequest, AddressBookResponse
from mapiprobe.protocol.nspi_types import (
    F_EPH_ID,
    MID_AMBIGUOUS,
    MID_BEGINNING_OF_TABLE,
    MID_CURRENT,
    MID_END_OF_TABLE,
    MID_FIRST_OBJECT,
    MID_RESOLVED,
    MID_UNRESOLVED,
    NSPI_DEFAULT_LOCALE,
    NSPI_UNICODE_STRINGS,
    PermanentEntryId,
    Stat,
    display_type_name,
    parse_entry_id,
)
from mapiprobe.protocol.properties import PropertyRow, PropertyTag, PropertyValue
from mapiprobe.protocol.wire import Writer
from mapiprobe.transport.auth import Credentials, Secret, make_auth
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.errors import TransportError
from mapiprobe.transport.mapihttp import (
    DEFAULT_CLIENT_APPLICATION,
    ContextExpired,
    MapiHttpEndpoint,
    MapiHttpResult,
    RequestCancelled,
    SessionContext,
    make_mapihttp_client,
)
from mapiprobe.transport.mapihttp import ProgressEvent as TransportProgress
from mapiprobe.transport.trace import Trace

from .addressbook_transport import MAPI_HTTP, AddressBookTransport
from .state import KeepAlive, SessionEvent, SessionState, SessionStateMachine

# -- property tags (PROTOCOL.md §5.6, §7.2) -----------------------------------------------------------------
TAG_DISPLAY_NAME = 0x3001001F
TAG_SMTP_ADDRESS = 0x39FE001F
TAG_ENTRY_ID = 0x0FFF0102
TAG_TITLE = 0x3A17001F
TAG_DISPLAY_TYPE = 0x39000003
TAG_ACCOUNT = 0x3A00001F
TAG_DEPARTMENT_NAME = 0x3A18001F
TAG_OFFICE_LOCATION = 0x3A19001F
TAG_BUSINESS_PHONE = 0x3A08001F
TAG_INSTANCE_KEY = 0x0FF60102
TAG_ANR = 0x360C001F
TAG_CONTAINER_ID = 0xFFFD0003
TAG_CONTAINER_FLAGS = 0x36000003
TAG_DEPTH = 0x30050003
TAG_IS_MASTER = 0xFFFB000B
TAG_PARENT_ENTRY_ID = 0xFFFC0102

ENTRY_COLUMNS: tuple[int, ...] = (
    TAG_DISPLAY_NAME,
    TAG_SMTP_ADDRESS,
    TAG_ENTRY_ID,
    TAG_TITLE,
    TAG_DISPLAY_TYPE,
    TAG_ACCOUNT,
    TAG_DEPARTMENT_NAME,
    TAG_OFFICE_LOCATION,
    TAG_BUSINESS_PHONE,
)
"""The columns of a GAL page (PROTOCOL.md §7.2 step 4): what :class:`AbEntry` holds."""

DEFAULT_PAGE_SIZE = 50
DEFAULT_CANDIDATE_LIMIT = 50
"""Most candidates GetMatches may return for one ambiguous name (its RowCount)."""

# Restriction bytes (MS-OXCDATA 2.12): RestrictType u8, RelOp u8.
_RES_PROPERTY = 0x04
_RELOP_EQ = 0x04
# NSPI return values the session looks at (MS-OXNSPI 2.2.1.2 = MS-OXCDATA 2.4).
TABLE_TOO_BIG = 0x80040403
NOT_FOUND = 0x8004010F

_R = TypeVar("_R", bound=AddressBookResponse)


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AbEntry:
    """One row of an address list: a recipient (user, room, distribution list, contact...)."""

    display_name: str | None
    smtp_address: str | None
    title: str | None
    department: str | None
    office: str | None
    phone: str | None
    display_type: int | None
    mid: int | None
    entry_id: bytes | None = field(default=None, repr=False)
    account: str | None = None

    @property
    def display_type_name(self) -> str | None:
        """``DT_MAILUSER``, ``DT_DISTLIST``... (MS-OXNSPI 2.2.1.3)."""
        return display_type_name(self.display_type) if self.display_type is not None else None

    def to_json(self) -> dict[str, Any]:
        """The row as the CLI prints it (``--json``)."""
        return {
            "display_name": self.display_name,
            "smtp_address": self.smtp_address,
            "title": self.title,
            "department": self.department,
            "office": self.office,
            "phone": self.phone,
            "display_type": self.display_type,
            "display_type_name": self.display_type_name,
            "mid": self.mid,
            "account": self.account,
            "entry_id": self.entry_id.hex().upper() if self.entry_id is not None else None,
        }


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# AbEntry field for each property id of a row (PidTagInstanceKey only feeds the MId).
_FIELDS: dict[int, str] = {
    TAG_DISPLAY_NAME >> 16: "display_name",
    TAG_SMTP_ADDRESS >> 16: "smtp_address",
    TAG_TITLE >> 16: "title",
    TAG_DEPARTMENT_NAME >> 16: "department",
    TAG_OFFICE_LOCATION >> 16: "office",
    TAG_BUSINESS_PHONE >> 16: "phone",
    TAG_DISPLAY_TYPE >> 16: "display_type",
    TAG_ENTRY_ID >> 16: "entry_id",
    TAG_ACCOUNT >> 16: "account",
    TAG_INSTANCE_KEY >> 16: "instance_key",
}
_SHARED = frozenset({"title", "department"})
_EPHEMERAL_SIZE = 32


def _plan(columns: Sequence[int]) -> tuple[tuple[int, str], ...]:
    """(column index, field) for the columns an :class:`AbEntry` uses, in column order."""
    return tuple((i, _FIELDS[int(c) >> 16]) for i, c in enumerate(columns) if int(c) >> 16 in _FIELDS)


def entries_from_rows(
    rows: Sequence[PropertyRow], columns: Sequence[int], strings: dict[str, str] | None = None
) -> tuple[AbEntry, ...]:
    """:class:`AbEntry` objects from the rows of one response whose columns are ``columns`` (the plan of
    which column feeds which field is made once per call, not once per row). ``strings`` de-duplicates
    repeated texts (titles, departments) when many rows are kept."""
    from dataclasses import fields
    from operator import attrgetter, itemgetter

    plan = _plan(columns)
    where = {name: i for i, name in plan}
    width = len(columns)
    if len(where) != len(plan):  # a field fed by two columns: the last one present wins, row by row
        return tuple(_entry(row, plan, None, strings) for row in rows)
    # What _entry does, with the column of each field looked up once for all rows. A field without a column
    # picks the padding value after the row's own values (no value).
    pick = itemgetter(
        *(
            where.get(name, width)
            for name in (
                "display_name",
                "smtp_address",
                "title",
                "department",
                "office",
                "phone",
                "account",
                "display_type",
                "entry_id",
                "instance_key",
            )
        )
    )
    pad = (PropertyValue(PropertyTag(0), None),)
    value_of, flag_of = attrgetter("value"), attrgetter("flag")
    make: Callable[..., AbEntry] = AbEntry
    setters = [getattr(AbEntry, f.name).__set__ for f in fields(AbEntry)]
    if len(setters) == 10 and not hasattr(AbEntry, "__post_init__"):
        # AbEntry(...) without the frozen dataclass __init__ (ten object.__setattr__): through its slots.
        s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 = setters
        new = object.__new__

        def make(  # noqa: PLR0917 - AbEntry's ten fields, in order
            a: Any, b: Any, c: Any, d: Any, e: Any, f: Any, g: Any, h: Any, i: Any, j: Any
        ) -> AbEntry:
            entry = new(AbEntry)
            s0(entry, a)
            s1(entry, b)
            s2(entry, c)
            s3(entry, d)
            s4(entry, e)
            s5(entry, f)
            s6(entry, g)
            s7(entry, h)
            s8(entry, i)
            s9(entry, j)
            return entry

    entries: list[AbEntry] = []
    append = entries.append
    for row in rows:
        values = row.values
        if len(values) != width:  # not a row of these columns: _entry takes the columns it has
            append(_entry(row, plan, None, strings))
            continue
        picked = pick(values + pad)
        if any(map(flag_of, picked)):  # a FlaggedPropertyRow with an absent or error column: no value
            got = [pv.value if pv.flag is None or pv.flag == 0 else None for pv in picked]
        else:
            got = list(map(value_of, picked))
        name, smtp, title, department, office, phone, account, display_type, entry_id, instance_key = got
        if not isinstance(entry_id, bytes):
            entry_id = None
        if strings is not None:
            if isinstance(title, str):
                title = strings.setdefault(title, title)
            if isinstance(department, str):
                department = strings.setdefault(department, department)
        append(
            make(
                name if isinstance(name, str) else None,
                smtp if isinstance(smtp, str) else None,
                title if isinstance(title, str) else None,
                department if isinstance(department, str) else None,
                office if isinstance(office, str) else None,
                phone if isinstance(phone, str) else None,
                display_type
                if isinstance(display_type, int) and not isinstance(display_type, bool)
                else None,
                _mid_of(entry_id, instance_key),
                entry_id,
                account if isinstance(account, str) else None,
            )
        )
    return tuple(entries)


def entry_from_row(
    row: PropertyRow, mid: int | None = None, strings: dict[str, str] | None = None
) -> AbEntry:
    """An :class:`AbEntry` from one AddressBookPropertyRow (any columns; those of :data:`ENTRY_COLUMNS`
    are used). The MId is ``mid``, else the one in an EphemeralEntryID (PidTagEntryId), else
    PidTagInstanceKey (4 bytes)."""
    return _entry(row, _plan([int(pv.tag) for pv in row.values]), mid, strings)


def _entry(
    row: PropertyRow, plan: tuple[tuple[int, str], ...], mid: int | None, strings: dict[str, str] | None
) -> AbEntry:
    values = row.values
    found: dict[str, Any] = {}
    for i, name in plan:
        if i >= len(values):
            break
        pv = values[i]
        if pv.flag is None or pv.flag == 0:
            found[name] = pv.value
    entry_id = found.get("entry_id")
    if not isinstance(entry_id, bytes):
        entry_id = None
    if mid is None:
        mid = _mid_of(entry_id, found.get("instance_key"))
    display_type = found.get("display_type")
    texts: dict[str, str | None] = {}
    for name in ("display_name", "smtp_address", "title", "department", "office", "phone", "account"):
        value = found.get(name)
        if not isinstance(value, str):
            texts[name] = None
        elif strings is not None and name in _SHARED:
            texts[name] = strings.setdefault(value, value)
        else:
            texts[name] = value
    return AbEntry(
        display_name=texts["display_name"],
        smtp_address=texts["smtp_address"],
        title=texts["title"],
        department=texts["department"],
        office=texts["office"],
        phone=texts["phone"],
        display_type=display_type
        if isinstance(display_type, int) and not isinstance(display_type, bool)
        else None,
        mid=mid,
        entry_id=entry_id,
        account=texts["account"],
    )


def _mid_of(entry_id: bytes | None, instance_key: Any) -> int | None:
    """The MId of an EphemeralEntryID (MS-OXNSPI 2.2.9.2: ID Type 0x87, 32 bytes, MId in the last four),
    else of a 4-byte PidTagInstanceKey."""
    if entry_id is not None and len(entry_id) == _EPHEMERAL_SIZE and entry_id[0] == 0x87:
        return int.from_bytes(entry_id[28:32], "little")
    if isinstance(instance_key, bytes) and len(instance_key) == 4:
        return int.from_bytes(instance_key, "little")
    return None


@dataclass(frozen=True)
class AddressList:
    """A row of the address book hierarchy table (MS-OXNSPI 3.1.4.4.3.1): a container a STAT can name."""

    name: str
    container_id: int
    depth: int = 0
    flags: int = 0
    entry_id: bytes | None = field(default=None, repr=False)
    is_master: bool | None = None
    dn: str | None = None

    @property
    def has_recipients(self) -> bool:
        """AB_RECIPIENTS (0x1): the container holds recipients (MS-OXOABK 2.2.2.1)."""
        return bool(self.flags & 0x1)

    @property
    def has_subcontainers(self) -> bool:
        return bool(self.flags & 0x2)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "container_id": self.container_id,
            "depth": self.depth,
            "flags": self.flags,
            "has_recipients": self.has_recipients,
            "has_subcontainers": self.has_subcontainers,
            "dn": self.dn,
        }


@dataclass(frozen=True)
class Page:
    """Rows of one list from ``position`` on, and the STAT after them (feed it back to read on)."""

    entries: tuple[AbEntry, ...]
    position: int  # 0-based row number of the first entry
    total: int  # TotalRecs: rows in the list
    stat: Stat  # as the server returned it: CurrentRec is the next row's MId or MID_END_OF_TABLE

    @property
    def at_end(self) -> bool:
        return self.stat.current_rec == MID_END_OF_TABLE or self.position + len(self.entries) >= self.total

    @property
    def next_position(self) -> int:
        return self.position + len(self.entries)


@dataclass(frozen=True)
class Position:
    """Where a STAT stands in a list: the row number, the row's MId (or MID_END_OF_TABLE), the list size."""

    position: int
    mid: int
    total: int
    stat: Stat


@dataclass(frozen=True)
class EntryDetails:
    """GetProps of one object: its :class:`AbEntry` and every property the server returned."""

    entry: AbEntry
    properties: tuple[PropertyValue, ...]
    error_code: int  # 0, or ErrorsReturned (0x00040380) when some properties came back as errors


RESOLVED = "resolved"
AMBIGUOUS = "ambiguous"
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Resolution:
    """What "check names" found for one name."""

    name: str
    status: str  # RESOLVED, AMBIGUOUS or UNRESOLVED
    entry: AbEntry | None = None  # the one match (RESOLVED)
    candidates: tuple[AbEntry, ...] = ()  # the matches of an AMBIGUOUS name
    candidates_complete: bool = True  # False: more matches than asked for (TableTooBig), or none listed
    note: str | None = None  # something the client noticed about the server's answer

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "entry": self.entry.to_json() if self.entry is not None else None,
            "candidates": [c.to_json() for c in self.candidates],
            "candidates_complete": self.candidates_complete,
            "note": self.note,
        }


@dataclass(frozen=True)
class BindInfo:
    server_guid: uuid.UUID
    server_application: str | None
    expiration_ms: int | None
    elapsed_ms: float


@dataclass(frozen=True)
class ProgressEvent:
    """What the session is doing (``stage``: bind, request, page, resolve, reconnect, unbind, keepalive)."""

    stage: str
    message: str
    request_type: str | None = None
    rows: int = 0


# ---------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------


class AddressBookError(Exception):
    """The address book answered a request with a failure (StatusCode or ErrorCode; MS-OXNSPI 2.2.1.2)."""

    def __init__(
        self, request_type: str, *, status_code: int, error_code: int | None, detail: str = ""
    ) -> None:
        self.request_type = request_type
        self.status_code = status_code
        self.error_code = error_code
        if status_code != 0:
            what = f"StatusCode {describe(status_code)} (failure response body)"
        else:
            what = f"ErrorCode {describe(error_code or 0, nspi=True)}"
        self.message = f"{request_type} failed: {what}{f'; {detail}' if detail else ''}"
        super().__init__(self.message)

    @property
    def error_name(self) -> str | None:
        code = self.error_code if self.status_code == 0 else self.status_code
        return error_name(code, nspi=True) if code is not None else None


class BadAddressBookResponse(Exception):
    """The server's response body does not decode as the spec's layout (MS-OXCMAPIHTTP 2.2.5.x.2).

    ``partial`` holds the fields read before the fault; ``error`` is the codec's ProtocolError (offset,
    field, what was expected).
    """

    def __init__(self, request_type: str, error: ProtocolError, partial: dict[str, Any], body: bytes) -> None:
        self.request_type = request_type
        self.error = error
        self.partial = partial
        self.body = body
        super().__init__(f"the {request_type} response body does not decode ({len(body)} bytes): {error}")


class NotBound(Exception):
    """A request was made before Bind or after Unbind."""


# ---------------------------------------------------------------------------------------------------
# Restriction for ANR
# ---------------------------------------------------------------------------------------------------


def anr_restriction(text: str) -> bytes:
    """A PropertyRestriction (MS-OXCDATA 2.12.5) ``PidTagAnr RELOP_EQ text``: the Filter of "check names".

    RestrictType 0x04, RelOp 0x04 (RELOP_EQ), PropTag PidTagAnr (0x360C001F), then the TaggedValue as a
    TaggedPropertyValue (MS-OXCDATA 2.11.4: PropertyTag + PtypString value). ⚠ gromox also reads a HasValue
    byte before the string in restrictions (PROTOCOL.md §6.4); we send the MS-OXCDATA form.
    """
    w = Writer()
    w.u8(_RES_PROPERTY).u8(_RELOP_EQ).u32(TAG_ANR).u32(TAG_ANR).utf16z(text)
    return w.getvalue()


# ---------------------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------------------


class AddressBookSession:
    """One address book session against one NSPI URL. Use as a context manager or call :meth:`bind` and
    :meth:`close`. Methods block; call them from any thread but a GUI's main thread (one at a time)."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | Secret | None = None,
        connection: ConnectionOptions | None = None,
        client: httpx.Client | None = None,
        auth: httpx.Auth | None = None,
        trace: Trace | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
        cancel: threading.Event | None = None,
        client_application: str = DEFAULT_CLIENT_APPLICATION,
        code_page: int = 1252,
        locale: int = NSPI_DEFAULT_LOCALE,
        keepalive: bool = True,
        reconnect: bool = True,
        timeout: httpx.Timeout | None = None,
        transport: AddressBookTransport | None = None,
    ) -> None:
        self.url = url
        self.trace = trace if trace is not None else Trace()
        self._own_client = client is None
        self.client = (
            client
            if client is not None
            else make_mapihttp_client(connection or ConnectionOptions(), trace=self.trace)
        )
        if auth is None and password is not None:
            # ``password=`` alone means Basic, as before issue 6; callers pass auth=make_auth(...) otherwise.
            auth = make_auth(Credentials(user=user or "", password=password), "basic")
        self._given_transport = transport
        self.protocol = transport.protocol if transport is not None else MAPI_HTTP
        """``MAPI/HTTP`` or ``RPC/HTTP`` (:mod:`mapiprobe.session.addressbook_transport`)."""
        self.endpoint: MapiHttpEndpoint | AddressBookTransport = (
            transport
            if transport is not None
            else MapiHttpEndpoint(
                url,
                self.client,
                trace=self.trace,
                client_application=client_application,
                on_progress=self._on_transport_progress,
                timeout=timeout,
                auth=auth,
            )
        )
        self._progress = progress
        self.cancel = cancel or threading.Event()
        self.base_stat = Stat(code_page=code_page, template_locale=locale, sort_locale=locale)
        self.keepalive_enabled = keepalive
        self.reconnect_enabled = reconnect
        self.machine = SessionStateMachine("address book")
        self.context: SessionContext | None = None
        self.server_guid: uuid.UUID | None = None
        self.bind_info: BindInfo | None = None
        self.last_result: MapiHttpResult | None = None
        self.reconnects = 0
        self.requests = 0
        self._keepalive: KeepAlive | None = None
        self._lock = threading.RLock()
        self._strings: dict[str, str] = {}

    # -- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> AddressBookSession:
        try:
            self.bind()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def state(self) -> SessionState:
        return self.machine.state

    @property
    def bound(self) -> bool:
        return self.machine.state in (SessionState.CONNECTED, SessionState.IDLE_PINGING)

    def bind(self) -> BindInfo:
        """Bind (MS-OXCMAPIHTTP 2.2.5.1): a new Session Context; the STAT is the session's defaults.

        Already bound: the current binding. After a failure or an expiry the old context is forgotten
        (use :meth:`reconnect` to carry its cookies instead)."""
        with self._lock:
            if self.bound and self.bind_info is not None:
                return self.bind_info
            if self.machine.state in (SessionState.FAILED, SessionState.EXPIRED):
                self._stop_keepalive()
                self.machine.fire(SessionEvent.DISCONNECT_OK)
            self.machine.fire(SessionEvent.CONNECT)
            self.context = SessionContext(label="address book")
            return self._bind(SessionEvent.CONNECT_FAILED)

    def _bind(self, failure: SessionEvent) -> BindInfo:
        assert self.context is not None
        self._emit("bind", f"Bind {self.url}", "Bind")
        started = time.monotonic()
        try:
            response, result = self._exchange(BindRequest(state=self.base_stat), BindResponse)
        except RequestCancelled:
            self.machine.try_fire(SessionEvent.CANCELLED)
            raise
        except BaseException:
            self.machine.try_fire(failure)
            raise
        assert response.server_guid is not None
        self.server_guid = response.server_guid
        self.bind_info = BindInfo(
            server_guid=response.server_guid,
            server_application=result.server_application,
            expiration_ms=result.expiration_ms,
            elapsed_ms=(time.monotonic() - started) * 1000,
        )
        self.machine.fire(SessionEvent.CONNECT_OK)
        self._start_keepalive()
        return self.bind_info

    def _start_keepalive(self) -> None:
        self._stop_keepalive()
        if not self.keepalive_enabled or self.context is None:
            return
        self._keepalive = KeepAlive(
            self.endpoint,
            self.context,
            machine=self.machine,
            on_ping=lambda r: self._emit("keepalive", "PING answered", "PING"),
            name="addressbook-keepalive",
        ).start()

    def _stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.stop()
            self._keepalive = None

    def reconnect(self) -> BindInfo:
        """Bind again, carrying the old context's cookies (MS-OXCMAPIHTTP 3.1.5.7, 3.2.5.6)."""
        with self._lock:
            self._stop_keepalive()
            if self.machine.state in (SessionState.CONNECTED, SessionState.IDLE_PINGING):
                self.machine.try_fire(SessionEvent.CONTEXT_EXPIRED)
            why = (
                "an answer was lost (3.1.7.2)"
                if self.machine.state is SessionState.FAILED
                else "the Session Context is gone (X-ResponseCode 10)"
            )
            self.machine.fire(SessionEvent.RECONNECT)
            old = self.context
            self.context = old.reconnect() if old is not None else SessionContext(label="address book")
            self.reconnects += 1
            self._emit("reconnect", f"{why}: binding again")
            return self._bind(SessionEvent.CONNECT_FAILED)

    def unbind(self) -> None:
        """Unbind (2.2.5.2); ErrorCode 1 (UNBIND_SUCCESS) is the normal answer."""
        with self._lock:
            self._stop_keepalive()
            if self.context is None or not self.bound:
                return
            self._emit("unbind", "Unbind", "Unbind")
            try:
                self._exchange(UnbindRequest(), UnbindResponse)
            finally:
                self.machine.try_fire(SessionEvent.DISCONNECT_OK)
                self.context = None

    def close(self) -> None:
        """Unbind if bound (errors ignored: the context dies with its idle timer anyway), stop the keep-alive,
        close the HTTP client if the session made it."""
        try:
            if self.bound:
                self.unbind()
        except (TransportError, AddressBookError, BadAddressBookResponse):
            pass
        finally:
            self._stop_keepalive()
            if self.machine.state in (SessionState.EXPIRED, SessionState.FAILED):
                self.machine.try_fire(SessionEvent.DISCONNECT_OK)
            if self._given_transport is not None:
                self._given_transport.close()
            if self._own_client:
                self.client.close()

    # -- one request ---------------------------------------------------------------------------------

    def _emit(self, stage: str, message: str, request_type: str | None = None, rows: int = 0) -> None:
        if self._progress is not None:
            self._progress(ProgressEvent(stage, message, request_type, rows))

    def _on_transport_progress(self, event: TransportProgress) -> None:
        if event.phase == "pending" and self._progress is not None:
            self._emit(
                "request",
                f"{event.request_type}: server still working ({event.pending_count})",
                event.request_type,
            )

    def _exchange(self, request: AddressBookRequest, response_cls: type[_R]) -> tuple[_R, MapiHttpResult]:
        """Send one body in the current context; decode and check the answer (no retry)."""
        assert self.context is not None
        if self.cancel.is_set():
            raise RequestCancelled(f"{request.REQUEST_TYPE} cancelled before it was sent", url=self.url)
        result = self.endpoint.request(
            request.REQUEST_TYPE, request.encode(), context=self.context, cancel=self.cancel
        )
        self.last_result = result
        self.requests += 1
        partial: dict[str, Any] = {}
        try:
            response = response_cls.decode(result.body, partial)
        except ProtocolError as exc:
            raise BadAddressBookResponse(request.REQUEST_TYPE, exc, partial, result.body) from exc
        if not is_success(response):
            raise AddressBookError(
                request.REQUEST_TYPE, status_code=response.status_code, error_code=response.error_code
            )
        return response, result

    def _call(self, request: AddressBookRequest, response_cls: type[_R]) -> _R:
        """:meth:`_exchange` with the session's rules: bound first, and one Bind-and-retry on code 10."""
        with self._lock:
            if self.machine.state in (SessionState.EXPIRED, SessionState.FAILED) and self.reconnect_enabled:
                # The context expired (code 10), or an answer was lost: a new context (3.1.7.2, 3.2.5.6).
                self.reconnect()
            if self.context is None or not self.bound:
                state = self.state.value
                raise NotBound(
                    f"{request.REQUEST_TYPE}: the address book session is not bound (state {state})"
                )
            self._emit("request", request.REQUEST_TYPE, request.REQUEST_TYPE)
            try:
                return self._exchange(request, response_cls)[0]
            except ContextExpired:
                self.machine.try_fire(SessionEvent.CONTEXT_EXPIRED)
                if not self.reconnect_enabled:
                    raise
                self.reconnect()
                return self._exchange(request, response_cls)[0]
            except RequestCancelled:
                raise
            except TransportError:
                self.machine.try_fire(SessionEvent.TRANSPORT_FAILED)
                raise

    def _stat(self, container_id: int, **changes: Any) -> Stat:
        return replace(self.base_stat, container_id=container_id, **changes)

    # -- hierarchy ------------------------------------------------------------------------------------

    def address_lists(self) -> list[AddressList]:
        """The hierarchy table (GetSpecialTable with NspiUnicodeStrings): GAL, All Address Lists, ..."""
        response = self._call(
            GetSpecialTableRequest(flags=NSPI_UNICODE_STRINGS, state=self._stat(0)), GetSpecialTableResponse
        )
        out: list[AddressList] = []
        for values in response.rows or ():
            by_id = {pv.tag.prop_id: pv.value for pv in values}
            entry_id = by_id.get(TAG_ENTRY_ID >> 16)
            dn = None
            if isinstance(entry_id, bytes):
                try:
                    parsed = parse_entry_id(entry_id)
                except ProtocolError:
                    parsed = None
                dn = parsed.distinguished_name if isinstance(parsed, PermanentEntryId) else None
            name = by_id.get(TAG_DISPLAY_NAME >> 16)
            container = by_id.get(TAG_CONTAINER_ID >> 16)
            is_master = by_id.get(TAG_IS_MASTER >> 16)
            out.append(
                AddressList(
                    name=name if isinstance(name, str) else "",
                    container_id=container if isinstance(container, int) else 0,
                    depth=_int(by_id.get(TAG_DEPTH >> 16)),
                    flags=_int(by_id.get(TAG_CONTAINER_FLAGS >> 16)),
                    entry_id=entry_id if isinstance(entry_id, bytes) else None,
                    is_master=is_master if isinstance(is_master, bool) else None,
                    dn=dn,
                )
            )
        self._emit("page", f"{len(out)} address lists", "GetSpecialTable", len(out))
        return out

    def find_list(self, name: str) -> AddressList | None:
        """The address list called ``name`` (case-insensitive), or None."""
        low = name.casefold()
        return next((a for a in self.address_lists() if a.name.casefold() == low), None)

    # -- pages ----------------------------------------------------------------------------------------

    def query_rows(
        self, stat: Stat, count: int, columns: Sequence[int] = ENTRY_COLUMNS
    ) -> tuple[tuple[PropertyRow, ...], Stat]:
        """One QueryRows from ``stat`` (rows with fEphID, so each carries its MId); the rows and new STAT."""
        rows, out, _ = self._query_rows(stat, count, columns)
        return rows, out

    def _query_rows(
        self, stat: Stat, count: int, columns: Sequence[int]
    ) -> tuple[tuple[PropertyRow, ...], Stat, tuple[int, ...]]:
        wanted = tuple(PropertyTag(c) for c in columns)
        response = self._call(
            QueryRowsRequest(flags=F_EPH_ID, state=stat, row_count=count, columns=wanted), QueryRowsResponse
        )
        # The rows follow the columns the server says it returned (normally the ones asked for).
        got = tuple(int(c) for c in (response.columns if response.columns is not None else wanted))
        return response.row_data, response.state or stat, got

    def _page(self, stat: Stat, count: int, start: int | None) -> Page:
        rows, out, columns = self._query_rows(stat, count, ENTRY_COLUMNS)
        entries = entries_from_rows(rows, columns, self._strings)
        first = out.num_pos - len(entries) if start is None else start
        page = Page(entries=entries, position=max(first, 0), total=out.total_recs, stat=out)
        self._emit(
            "page", f"{len(entries)} rows at {page.position} of {page.total}", "QueryRows", len(entries)
        )
        return page

    def page(self, container_id: int = 0, *, start: int = 0, count: int = DEFAULT_PAGE_SIZE) -> Page:
        """``count`` rows of a list from row ``start`` (0-based), without reading the rows before it:
        absolute positioning from MID_BEGINNING_OF_TABLE with Delta = start (MS-OXNSPI 3.1.4.5.1)."""
        if start < 0 or count <= 0:
            raise ValueError("start must be >= 0 and count > 0")
        stat = self._stat(container_id, current_rec=MID_BEGINNING_OF_TABLE, delta=start)
        return self._page(stat, count, None)

    def next_page(self, previous: Page, count: int = DEFAULT_PAGE_SIZE) -> Page:
        """The rows after ``previous``, from its returned STAT (CurrentRec = the next row's MId)."""
        if previous.stat.current_rec == MID_END_OF_TABLE:
            return Page((), previous.next_position, previous.total, previous.stat)
        return self._page(replace(previous.stat, delta=0), count, previous.next_position)

    def iter_pages(
        self,
        container_id: int = 0,
        *,
        start: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        limit: int | None = None,
    ) -> Iterator[Page]:
        """Pages of a list, fetched one at a time as the caller asks for them (lazy), up to ``limit`` rows."""
        remaining = limit
        page = self.page(
            container_id, start=start, count=page_size if remaining is None else min(page_size, remaining)
        )
        while True:
            if remaining is not None:
                page = Page(page.entries[:remaining], page.position, page.total, page.stat)
                remaining -= len(page.entries)
            if page.entries:
                yield page
            if page.at_end or not page.entries or (remaining is not None and remaining <= 0):
                return
            if self.cancel.is_set():
                raise RequestCancelled("paging cancelled", url=self.url)
            size = page_size if remaining is None else min(page_size, remaining)
            page = self.next_page(page, size)

    def iter_entries(self, container_id: int = 0, **kwargs: Any) -> Iterator[AbEntry]:
        for page in self.iter_pages(container_id, **kwargs):
            yield from page.entries

    # -- positioning ----------------------------------------------------------------------------------

    def update_stat(self, stat: Stat) -> Position:
        """UpdateStat (MS-OXNSPI 3.1.4.1.4): where ``stat`` points, without reading rows."""
        response = self._call(UpdateStatRequest(state=stat, delta_requested=True), UpdateStatResponse)
        out = response.state or stat
        return Position(out.num_pos, out.current_rec, out.total_recs, out)

    def count(self, container_id: int = 0) -> int:
        """TotalRecs of a list (UpdateStat at MID_END_OF_TABLE)."""
        return self.update_stat(self._stat(container_id, current_rec=MID_END_OF_TABLE)).total

    def seek_fraction(self, numerator: int, denominator: int, container_id: int = 0) -> Position:
        """Fractional positioning (MS-OXNSPI 3.1.4.5.2): CurrentRec MID_CURRENT, NumPos/TotalRecs =
        numerator/denominator; the server answers with the row it chose (approximate by definition)."""
        if denominator <= 0 or not 0 <= numerator <= denominator:
            raise ValueError("need 0 <= numerator <= denominator and denominator > 0")
        stat = self._stat(container_id, current_rec=MID_CURRENT, num_pos=numerator, total_recs=denominator)
        return self.update_stat(stat)

    def seek(self, text: str, container_id: int = 0) -> Position:
        """SeekEntries (MS-OXNSPI 3.1.4.1.9): the first row whose display name sorts at or after ``text``.

        Raises AddressBookError (NotFound) when every name sorts before ``text``.
        """
        target = PropertyValue(PropertyTag(TAG_DISPLAY_NAME), text)
        response = self._call(
            SeekEntriesRequest(state=self._stat(container_id), target=target), SeekEntriesResponse
        )
        out = response.state or self._stat(container_id)
        return Position(out.num_pos, out.current_rec, out.total_recs, out)

    def page_at(self, position: Position, count: int = DEFAULT_PAGE_SIZE) -> Page:
        """Rows from a :class:`Position` (of :meth:`seek`, :meth:`seek_fraction` or :meth:`update_stat`)."""
        if position.mid == MID_END_OF_TABLE:
            return Page((), position.total, position.total, position.stat)
        return self._page(replace(position.stat, current_rec=position.mid, delta=0), count, position.position)

    # -- details, names -------------------------------------------------------------------------------

    def details(self, mid: int, tags: Sequence[int] | None = None) -> EntryDetails:
        """GetProps (MS-OXNSPI 3.1.4.1.7) of the object ``mid``: every property (or ``tags``)."""
        response = self._call(
            GetPropsRequest(
                state=self._stat(0, current_rec=mid),
                property_tags=None if tags is None else tuple(PropertyTag(t) for t in tags),
            ),
            GetPropsResponse,
        )
        values = response.property_values or ()
        row = PropertyRow(0, tuple(pv for pv in values if not pv.is_error and pv.tag.prop_type != 0x000A))
        return EntryDetails(entry_from_row(row, mid=mid), tuple(values), response.error_code or 0)

    def resolve(
        self,
        names: Sequence[str],
        *,
        container_id: int = 0,
        candidate_limit: int = DEFAULT_CANDIDATE_LIMIT,
        candidates: bool = True,
    ) -> list[Resolution]:
        """ "Check names": ResolveNames for ``names``, then GetMatches (ANR) for each ambiguous one."""
        if not names:
            return []
        columns = tuple(PropertyTag(c) for c in ENTRY_COLUMNS)
        response = self._call(
            ResolveNamesRequest(state=self._stat(container_id), property_tags=columns, names=tuple(names)),
            ResolveNamesResponse,
        )
        mids = list(response.minimal_ids or ())
        rows = list(response.row_data)
        out: list[Resolution] = []
        resolved_index = 0
        for i, name in enumerate(names):
            mid = mids[i] if i < len(mids) else MID_UNRESOLVED
            if mid == MID_UNRESOLVED:
                out.append(Resolution(name, UNRESOLVED))
                continue
            if mid == MID_AMBIGUOUS:
                if candidates:
                    out.append(self._candidates(name, container_id, candidate_limit))
                else:
                    out.append(Resolution(name, AMBIGUOUS, candidates_complete=False))
                continue
            # One row per resolved name (gromox, and our simulator), or one per name: take the right one.
            if len(rows) == len(names):
                row = rows[i]
            elif resolved_index < len(rows):
                row = rows[resolved_index]
            else:
                row = None
            resolved_index += 1
            note = None
            real_mid: int | None = mid
            if mid == MID_RESOLVED or mid < MID_FIRST_OBJECT:
                note = (
                    f"the server answered MId {mid} (MID_RESOLVED) instead of the object's MId (gromox does)"
                )
                real_mid = None
            entry = (
                entry_from_row(row, mid=real_mid)
                if row is not None
                else AbEntry(None, None, None, None, None, None, None, real_mid)
            )
            out.append(Resolution(name, RESOLVED, entry=entry, note=note))
        self._emit("resolve", f"{len(names)} name(s) checked", "ResolveNames", len(rows))
        return out

    def _candidates(self, name: str, container_id: int, limit: int) -> Resolution:
        """GetMatches (MS-OXNSPI 3.1.4.1.10) with an ANR restriction: the candidates of an ambiguous name."""
        columns = tuple(PropertyTag(c) for c in ENTRY_COLUMNS)
        request = GetMatchesRequest(
            state=self._stat(container_id), filter=anr_restriction(name), row_count=limit, columns=columns
        )
        try:
            response = self._call(request, GetMatchesResponse)
        except AddressBookError as exc:
            if exc.error_code == TABLE_TOO_BIG:
                return Resolution(
                    name, AMBIGUOUS, candidates_complete=False, note=f"more than {limit} entries match"
                )
            return Resolution(
                name, AMBIGUOUS, candidates_complete=False, note=f"no candidates: {exc.message}"
            )
        mids = list(response.minimal_ids or ())
        found = tuple(
            entry_from_row(row, mid=mids[i] if i < len(mids) else None)
            for i, row in enumerate(response.row_data)
        )
        return Resolution(name, AMBIGUOUS, candidates=found)

    def dn_to_mid(self, dns: Sequence[str]) -> list[int]:
        """DNToMId (MS-OXNSPI 3.1.4.1.13): the MId of each legacy DN (0 for an unknown one)."""
        response = self._call(DNToMIdRequest(names=tuple(dns)), DNToMIdResponse)
        return list(response.minimal_ids or ())

    def mailbox_url(self, server_dn: str) -> str | None:
        """GetMailboxUrl (MS-OXCMAPIHTTP 2.2.5.18): the mailbox endpoint URL for a server DN."""
        return self._call(GetMailboxUrlRequest(server_dn=server_dn), GetMailboxUrlResponse).server_url

    def address_book_url(self, user_dn: str) -> str | None:
        """GetAddressBookUrl (MS-OXCMAPIHTTP 2.2.5.19): the address book endpoint URL for a user DN."""
        return self._call(GetAddressBookUrlRequest(user_dn=user_dn), GetAddressBookUrlResponse).server_url


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = [
    "AMBIGUOUS",
    "DEFAULT_CANDIDATE_LIMIT",
    "DEFAULT_PAGE_SIZE",
    "ENTRY_COLUMNS",
    "RESOLVED",
    "UNRESOLVED",
    "AbEntry",
    "AddressBookError",
    "AddressBookSession",
    "AddressList",
    "BadAddressBookResponse",
    "BindInfo",
    "EntryDetails",
    "NotBound",
    "Page",
    "Position",
    "ProgressEvent",
    "Resolution",
    "anr_restriction",
    "entries_from_rows",
    "entry_from_row",
]
