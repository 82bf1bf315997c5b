"""The mailbox session: browse a mailbox over MAPI/HTTP the way Outlook does (MS-OXCMAPIHTTP, MS-OXCROPS).

One :class:`MailboxSession` holds one Session Context on the mailbox endpoint (EMSMDB) and walks the happy
path of PROTOCOL.md §7.1. It speaks MS-OXCMAPIHTTP mailbox bodies to a transport: MAPI/HTTP by default, or
any :class:`~mapiprobe.session.mailbox_transport.MailboxTransport` given as ``transport=`` (RPC/HTTP, where
the same bodies become EcDoConnectEx/EcDoRpcExt2/EcDoDisconnect and the ROPs are unchanged):

1. **Connect** with the user's legacy DN (Autodiscover's ``User/LegacyDN``; MS-OXCMAPIHTTP 2.2.4.1).
2. **RopLogon** to the private mailbox: LogonFlags 0x01 (Private), OpenFlags 0x01000000
   (USE_PER_MDB_REPLID_MAPPING, which MS-OXCSTOR 2.2.1.1.1 says a private logon SHOULD set; ruler sends
   0x0100000C and gromox accepts 0x01000004 [I] — the spec's form is sent), Essdn = the legacy DN. The 13
   special folder IDs of the response are kept (MS-OXCSTOR 2.2.1.1.3).
3. **The folder tree**: RopOpenFolder (IPM subtree) + RopGetHierarchyTable (Depth) + RopSetColumns +
   RopQueryRows in one Execute, then more RopQueryRows until the table is done (MS-OXCTABL 3.2.5.5).
4. **Contents** of one folder, a page at a time: RopOpenFolder + RopGetContentsTable + RopSetColumns +
   RopQueryRows in one Execute, then RopQueryRows.
5. **Properties** of one folder (RopOpenFolder + RopGetPropertiesSpecific) or one item (its row of the
   folder's contents table with the wanted columns: the ROP codecs have no RopOpenMessage).
6. **RopRelease** of every handle (released handles ride along with the next Execute; the rest go out
   before) and **Disconnect**.

How few requests: ROP handles chain inside one Execute (MS-OXCROPS 3.2.5.1), so RopLogon's output slot
feeds RopOpenFolder in the same buffer — but RopOpenFolder also needs the IPM subtree's *FolderId*, a literal
in the request that only RopLogon's response tells. So a cold start costs Connect + Execute(RopLogon) +
Execute(tree) = 3 dependent round trips; with the folder IDs of an earlier logon of the same mailbox
(``known_folder_ids``, as Outlook keeps them in its profile) RopLogon is batched with the tree: 2. A wrong
cached ID costs one more Execute (the batched RopLogon still answers with the right ones).

Robustness (each said in the progress callback and visible in the trace):

* the Session Context is kept alive by :class:`~mapiprobe.session.state.KeepAlive` (PING before
  X-ExpirationInfo runs out; 3.1.5.3);
* X-ResponseCode 10 (expired): reconnect as 3.1.5.7 / 3.2.5.6 say — a new Connect that carries the old
  cookies — then log on again (batched with the retried operation) and retry it once;
* RopLogon ecWrongServer (0x478, MS-OXCSTOR 3.2.5.1.3): followed once. The new mailbox URL comes from
  ``resolve_mailbox_url(server_dn)`` when the caller gives one (the CLI runs Autodiscover again); without
  it the session reconnects to the same URL, which is how Exchange 2013 and later route a moved mailbox
  (the URL names the mailbox, not a server). GetMailboxUrl, the NSPI way, belongs to the address book.
* RopBufferTooSmall: the unprocessed ROPs are sent again with MaxRopOut >= SizeNeeded (MS-OXCROPS
  2.2.15.1); RopBackoff / RopPending in an output buffer are skipped;
* compressed and XOR-obfuscated responses are accepted always; ``compression=True`` asks for them
  (Execute Flags 0, MS-OXCRPC 3.1.4.2), the default asks for neither (Flags 0x3).

State changes go through the transition table of :mod:`mapiprobe.session.state`. The session reports
progress through a callback (in the calling thread; ``ping`` events come from the keep-alive thread), can
be cancelled with a :class:`threading.Event`, never prints and keeps no global state.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from mapiprobe.protocol.emsmdb import (
    DEFAULT_EXECUTE_FLAGS,
    DEFAULT_MAX_ROP_OUT,
    ConnectRequest,
    ConnectResponse,
    DisconnectRequest,
    DisconnectResponse,
    ExecuteRequest,
    ExecuteResponse,
    FailureResponse,
)
from mapiprobe.protocol.errorcodes import describe
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.execute import rop_input
from mapiprobe.protocol.properties import FileTime, FolderId, MessageId, PropertyRow, PropertyTag
from mapiprobe.protocol.ropbuffer import HANDLE_UNUSED, RopBuffer
from mapiprobe.protocol.rops import (
    SERVER_GENERATED,
    MailboxFolderIds,
    RopBufferTooSmallResponse,
    RopFailureResponse,
    RopGetContentsTableRequest,
    RopGetContentsTableResponse,
    RopGetHierarchyTableRequest,
    RopGetHierarchyTableResponse,
    RopGetPropertiesSpecificRequest,
    RopGetPropertiesSpecificResponse,
    RopLogonPrivateMailboxResponse,
    RopLogonRedirectResponse,
    RopLogonRequest,
    RopOpenFolderRequest,
    RopQueryRowsRequest,
    RopQueryRowsResponse,
    RopReleaseRequest,
    RopRequest,
    RopResponse,
    RopSetColumnsRequest,
    decode_requests,
    decode_responses,
)
from mapiprobe.protocol.rops.folder import TABLE_FLAG_DEPTH
from mapiprobe.protocol.rops.logon import LOGON_FLAG_PRIVATE, OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING
from mapiprobe.protocol.rops.table import BOOKMARK_END, QUERY_ROWS_ADVANCE
from mapiprobe.protocol.rpcext import COMPRESSED, XOR_MAGIC, iter_ext_buffers
from mapiprobe.session.mailbox_transport import MAPI_HTTP, MailboxTransport
from mapiprobe.session.state import KeepAlive, SessionEvent, SessionState, SessionStateMachine
from mapiprobe.transport.auth import Credentials, Secret, make_auth
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.errors import TransportError
from mapiprobe.transport.mapihttp import (
    ContextExpired,
    MapiHttpEndpoint,
    MapiHttpResult,
    ProgressEvent,
    RequestCancelled,
    SessionContext,
    make_mapihttp_client,
)
from mapiprobe.transport.trace import Trace

U = HANDLE_UNUSED
LOGON_ID = 0
LOGON_OPEN_FLAGS = OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING
"""OpenFlags of RopLogon: the spec's SHOULD for a private logon (PROTOCOL.md §4.3)."""
MAX_ROP_OUT_CEILING = 0x40000
"""The largest MaxRopOut allowed without ULTRA_LARGE_PACKED_DOWNLOAD_BUFFERS (MS-OXCRPC 3.1.4.2)."""
MAX_TOO_SMALL_ROUNDS = 16

# Columns (PROTOCOL.md §5.6, §7.1).
TAG_DISPLAY_NAME = 0x3001001F
TAG_FOLDER_ID = 0x67480014
TAG_PARENT_FOLDER_ID = 0x67490014
TAG_CONTENT_COUNT = 0x36020003
TAG_CONTENT_UNREAD_COUNT = 0x36030003
TAG_SUBFOLDERS = 0x360A000B
TAG_CONTAINER_CLASS = 0x3613001F
TAG_DEPTH = 0x30050003
TAG_SUBJECT = 0x0037001F
TAG_SENDER_NAME = 0x0C1A001F
TAG_DELIVERY_TIME = 0x0E060040
TAG_MESSAGE_SIZE = 0x0E080003
TAG_MESSAGE_CLASS = 0x001A001F
TAG_MID = 0x674A0014
TAG_MESSAGE_FLAGS = 0x0E070003

TREE_COLUMNS: tuple[int, ...] = (
    TAG_DISPLAY_NAME,
    TAG_FOLDER_ID,
    TAG_PARENT_FOLDER_ID,
    TAG_CONTENT_COUNT,
    TAG_CONTENT_UNREAD_COUNT,
    TAG_SUBFOLDERS,
    TAG_CONTAINER_CLASS,
    TAG_DEPTH,
)
CONTENTS_COLUMNS: tuple[int, ...] = (
    TAG_SUBJECT,
    TAG_SENDER_NAME,
    TAG_DELIVERY_TIME,
    TAG_MESSAGE_SIZE,
    TAG_MESSAGE_CLASS,
    TAG_MID,
    TAG_MESSAGE_FLAGS,
)
FOLDER_PROPERTY_TAGS: tuple[int, ...] = (
    TAG_DISPLAY_NAME,
    TAG_FOLDER_ID,
    TAG_PARENT_FOLDER_ID,
    TAG_CONTENT_COUNT,
    TAG_CONTENT_UNREAD_COUNT,
    TAG_SUBFOLDERS,
    TAG_CONTAINER_CLASS,
    0x36010003,  # PidTagFolderType
    0x0E080014,  # PidTagMessageSizeExtended
    0x0FFF0102,  # PidTagEntryId
)
MSGFLAG_READ = 0x00000001


# ---------------------------------------------------------------------------------------------------
# Results, progress, errors
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    """One folder of the tree (a row of the hierarchy table). ``path`` is ``Inbox/Projects``: display names
    from the IPM subtree down, ``/`` inside a name written as ``\\/``."""

    path: str
    folder_id: FolderId
    display_name: str
    content_count: int | None
    unread_count: int | None
    has_subfolders: bool
    container_class: str | None
    children: tuple[Folder, ...] = ()
    parent_id: FolderId | None = None
    depth: int = 0

    def walk(self) -> Iterator[Folder]:
        """This folder and every folder below it, depth-first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "folder_id": str(self.folder_id),
            "display_name": self.display_name,
            "content_count": self.content_count,
            "unread_count": self.unread_count,
            "container_class": self.container_class,
            "children": [c.to_json() for c in self.children],
        }


@dataclass(frozen=True)
class MessageSummary:
    """One row of a contents table."""

    mid: MessageId | None
    subject: str | None
    sender: str | None
    received: _dt.datetime | None
    size: int | None
    message_class: str | None
    read: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "mid": str(self.mid) if self.mid is not None else None,
            "subject": self.subject,
            "sender": self.sender,
            "received": self.received.isoformat().replace("+00:00", "Z") if self.received else None,
            "size": self.size,
            "message_class": self.message_class,
            "read": self.read,
        }


@dataclass(frozen=True)
class ContentsPage:
    """One RopQueryRows worth of a folder's contents. ``total`` is the table's RowCount."""

    folder_id: FolderId
    items: tuple[MessageSummary, ...]
    total: int
    offset: int
    last: bool


@dataclass(frozen=True)
class MailboxProgress:
    """What the session is doing (``request`` set for the transport's per-request events)."""

    stage: str  # connect, logon, folders, contents, properties, pending, ping, reconnect, redirect, ...
    message: str
    request: ProgressEvent | None = None


@dataclass
class MailboxStats:
    """Counters of one session (the benchmark and the tests read them)."""

    requests: int = 0  # HTTP requests, PINGs of the keep-alive included
    executes: int = 0
    pings: int = 0
    compressed_responses: int = 0
    xor_responses: int = 0
    buffer_too_small: int = 0
    reconnects: int = 0
    redirects: int = 0
    pending: int = 0  # PENDING keep-alives seen in answers


class MailboxError(Exception):
    """The mailbox server refused something: ``stage`` (connect, logon, execute, rop...) and ``code``."""

    def __init__(self, message: str, *, stage: str, code: int | None = None) -> None:
        self.message = message
        self.stage = stage
        self.code = code
        super().__init__(message)


class MailboxMoved(MailboxError):
    """RopLogon answered ecWrongServer and the redirect could not be followed (again, or nowhere to go)."""

    def __init__(self, message: str, *, server_dn: str) -> None:
        self.server_dn = server_dn
        super().__init__(message, stage="logon", code=0x478)


class _Redirect(Exception):
    def __init__(self, server_dn: str) -> None:
        super().__init__(server_dn)
        self.server_dn = server_dn


ProgressCallback = Callable[[MailboxProgress], None]
UrlResolver = Callable[[str], str]
_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------------
# One Execute's worth of ROPs
# ---------------------------------------------------------------------------------------------------


class _Batch:
    """ROP requests and their handle table. Slot 0 is always the Logon object: when the session is not
    logged on yet, RopLogon goes first with its output in slot 0, and the rest use it (MS-OXCROPS 3.2.5.1).
    Handles waiting to be released ride along first, each in a slot of its own."""

    def __init__(self, logon_handle: int | None, logon: RopLogonRequest, releases: Sequence[int]) -> None:
        self.rops: list[RopRequest] = []
        self.table: list[int] = [U if logon_handle is None else logon_handle]
        self.logs_on = logon_handle is None
        self.columns: tuple[int, ...] | None = None
        for handle in releases:
            self.rops.append(RopReleaseRequest(LOGON_ID, self.slot(handle)))
        if self.logs_on:
            self.rops.append(logon)

    def slot(self, handle: int = U) -> int:
        self.table.append(handle)
        return len(self.table) - 1

    def add(self, rop: RopRequest) -> RopRequest:
        self.rops.append(rop)
        return rop


@dataclass
class _Outcome:
    responses: dict[int, RopResponse]  # id(request) -> its response
    table: tuple[int, ...]

    def of(self, request: RopRequest) -> RopResponse | None:
        return self.responses.get(id(request))


# ---------------------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------------------


class MailboxSession:
    """One connection to a mailbox endpoint. Use as a context manager, or call :meth:`open` / :meth:`close`.

    ``known_folder_ids`` maps a legacy DN (lower case) to the special folder IDs of an earlier logon; the
    session reads it to batch RopLogon with the first operation and writes the IDs it learns into it.
    """

    def __init__(
        self,
        mailbox_url: str,
        *,
        user_dn: str,
        user: str | None = None,
        password: str | Secret | None = None,
        auth: httpx.Auth | None = None,
        connection: ConnectionOptions | None = None,
        client: httpx.Client | None = None,
        compression: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        trace: Trace | None = None,
        resolve_mailbox_url: UrlResolver | None = None,
        keepalive: bool = True,
        page_size: int = 100,
        max_rop_out: int = DEFAULT_MAX_ROP_OUT,
        known_folder_ids: MutableMapping[str, MailboxFolderIds] | None = None,
        transport: MailboxTransport | None = None,
    ) -> None:
        self.url = mailbox_url
        self._given_transport = transport
        self.protocol = transport.protocol if transport is not None else MAPI_HTTP
        """``MAPI/HTTP`` or ``RPC/HTTP`` (:mod:`mapiprobe.session.mailbox_transport`)."""
        self.user_dn = user_dn
        self.compression = compression
        self.execute_flags = 0 if compression else DEFAULT_EXECUTE_FLAGS
        self.page_size = max(1, min(page_size, 0xFFFF))
        self.max_rop_out = max(8, min(max_rop_out, MAX_ROP_OUT_CEILING))
        self.cancel = cancel or threading.Event()
        # The endpoint watches a cancel event with a helper thread per request; only pay for it when the
        # caller can actually cancel (a CLI run is interrupted by KeyboardInterrupt instead).
        self._request_cancel = cancel
        self.trace = trace if trace is not None else Trace()
        self._progress_cb = progress
        self._resolve = resolve_mailbox_url
        self._keepalive_wanted = keepalive
        self._known = known_folder_ids
        if auth is None and password is not None:
            # ``password=`` alone means Basic, as before issue 6; callers pass auth=make_auth(...) otherwise.
            auth = make_auth(Credentials(user=user or user_dn, password=password), "basic")
        self._auth = auth
        self._connection = connection or ConnectionOptions()
        self._own_client = client is None
        self._client = client
        self._endpoint: MapiHttpEndpoint | MailboxTransport | None = None
        self._context: SessionContext | None = None
        self._keepalive: KeepAlive | None = None
        self.machine = SessionStateMachine("mailbox")
        self.stats = MailboxStats()
        self.display_name: str | None = None
        self.server_application: str | None = None
        self.folder_ids: MailboxFolderIds | None = None
        self.logon: RopLogonPrivateMailboxResponse | None = None
        self._logon_handle: int | None = None
        self._releases: list[int] = []
        self._redirected = False
        self._relogon_note: str | None = None
        self._lock = threading.RLock()
        self.close_error: BaseException | None = None
        self._tree: Folder | None = None

    # -- plumbing ---------------------------------------------------------------------------------

    def _emit(self, stage: str, message: str, request: ProgressEvent | None = None) -> None:
        if self._progress_cb is not None:
            self._progress_cb(MailboxProgress(stage, message, request))

    def _on_request_progress(self, event: ProgressEvent) -> None:
        if event.phase == "pending":
            self.stats.pending += 1
            self._emit(
                "pending",
                f"{event.request_type}: the server is still working (PENDING #{event.pending_count})",
                event,
            )

    def _make_endpoint(self, url: str) -> MapiHttpEndpoint | MailboxTransport:
        if self._given_transport is not None:
            return self._given_transport  # RPC/HTTP (or a caller's own): one transport for the session
        if self._client is None:
            self._client = make_mapihttp_client(self._connection, trace=self.trace)
        return MapiHttpEndpoint(
            url,
            self._client,
            trace=self.trace,
            on_progress=self._on_request_progress,
            auth=self._auth,
        )

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise RequestCancelled("cancelled by the user", url=self.url)

    def _request(self, request_type: str, body: bytes) -> MapiHttpResult:
        assert self._endpoint is not None and self._context is not None
        self._check_cancel()
        self.stats.requests += 1
        result = self._endpoint.request(
            request_type, body, context=self._context, cancel=self._request_cancel
        )
        if result.server_application:
            self.server_application = result.server_application
        return result

    # -- Connect / Disconnect -----------------------------------------------------------------------

    def open(self) -> MailboxSession:
        """Connect, and log on unless the folder IDs are known (then RopLogon rides with the first
        operation)."""
        with self._lock:
            if self._context is not None:
                return self
            try:
                self._endpoint = self._make_endpoint(self.url)
                self._connect(SessionContext(label="mailbox"), SessionEvent.CONNECT)
                known = self._known.get(self.user_dn.lower()) if self._known is not None else None
                if known is None:
                    self.logon_now()
                else:
                    self.folder_ids = known
            except BaseException:
                self.close()
                raise
            return self

    def _connect(self, context: SessionContext, event: SessionEvent) -> None:
        self.machine.fire(event)
        self._context = context
        self._emit("connect", f"Connect to {self.url} as {self.user_dn}")
        try:
            result = self._request("Connect", ConnectRequest(self.user_dn).encode())
            response = _decode(ConnectResponse.decode, result.body, "Connect")
        except BaseException:
            self.machine.try_fire(
                SessionEvent.CANCELLED if self.cancel.is_set() else SessionEvent.CONNECT_FAILED
            )
            raise
        if isinstance(response, FailureResponse):
            self.machine.fire(SessionEvent.CONNECT_FAILED)
            raise MailboxError(
                f"Connect failed: StatusCode {describe(response.status_code)}",
                stage="connect",
                code=response.status_code,
            )
        if response.error_code != 0:
            self.machine.fire(SessionEvent.CONNECT_FAILED)
            raise MailboxError(
                f"Connect refused: {describe(response.error_code)} for UserDn {self.user_dn!r} "
                "(MS-OXCRPC 3.1.4.1; ecUnknownUser = no such user, ecLoginFailure = the credentials are "
                "another user's)",
                stage="connect",
                code=response.error_code,
            )
        self.display_name = response.display_name or None
        self.machine.fire(SessionEvent.CONNECT_OK)
        self._emit(
            "connect",
            f"connected: {response.display_name or '-'}; the server keeps the context "
            f"{_seconds(result.expiration_ms)} without a request",
        )
        self._start_keepalive()

    def _start_keepalive(self) -> None:
        self._stop_keepalive()
        if not self._keepalive_wanted or self._endpoint is None or self._context is None:
            return
        self._keepalive = KeepAlive(
            _CountingPinger(self),
            self._context,
            machine=self.machine,
            on_ping=lambda r: self._emit("ping", f"PING: context kept alive ({_seconds(r.expiration_ms)})"),
            name="mailbox-keepalive",
            poll_s=0.2,
        ).start()

    def _stop_keepalive(self) -> None:
        keepalive, self._keepalive = self._keepalive, None
        if keepalive is not None:
            keepalive.stop()

    def close(self) -> None:
        """Release every handle, Disconnect, and close the HTTP client. Errors are kept in
        :attr:`close_error` (the data already fetched stays valid)."""
        with self._lock:
            self._stop_keepalive()
            context = self._context
            try:
                if (
                    context is not None
                    and not context.closed
                    and self.machine.state is SessionState.CONNECTED
                ):
                    self._release_all()
                    self._emit("disconnect", "Disconnect")
                    result = self._request("Disconnect", DisconnectRequest().encode())
                    response = _decode(DisconnectResponse.decode, result.body, "Disconnect")
                    if isinstance(response, DisconnectResponse):
                        self.machine.fire(SessionEvent.DISCONNECT_OK)
            except (TransportError, MailboxError, ProtocolError) as exc:
                self.close_error = exc
            finally:
                self._context = None
                if self._given_transport is not None:
                    self._given_transport.close()
                if self._own_client and self._client is not None:
                    self._client.close()
                    self._client = None

    def __enter__(self) -> MailboxSession:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _release_all(self) -> None:
        handles = list(self._releases)
        if self._logon_handle is not None:
            handles.append(self._logon_handle)  # releasing the Logon object ends the logon (3.2.5.3)
        if not handles:
            return
        self._emit("release", f"RopRelease of {len(handles)} handle(s)")
        batch = _Batch(0 if self._logon_handle is None else self._logon_handle, self._logon_request(), [])
        for handle in handles:
            batch.add(RopReleaseRequest(LOGON_ID, batch.slot(handle)))
        self._releases.clear()
        self._logon_handle = None
        self._send(batch)

    # -- Execute ------------------------------------------------------------------------------------

    def _logon_request(self) -> RopLogonRequest:
        return RopLogonRequest(LOGON_ID, 0, LOGON_FLAG_PRIVATE, LOGON_OPEN_FLAGS, 0, self.user_dn)

    def _batch(self) -> _Batch:
        releases, self._releases = self._releases, []
        batch = _Batch(self._logon_handle, self._logon_request(), releases)
        if batch.logs_on and self._relogon_note:
            self._emit("logon", self._relogon_note)
            self._relogon_note = None
        return batch

    def _send(self, batch: _Batch) -> _Outcome:
        """Run a batch, resending what RopBufferTooSmall hands back; RopLogon's answer is taken in."""
        pending: list[RopRequest] = [r for r in batch.rops if not isinstance(r, RopReleaseRequest)]
        answers: dict[int, RopResponse] = {}
        rops: Sequence[RopRequest] = batch.rops
        table: tuple[int, ...] = tuple(batch.table)
        max_rop_out = self.max_rop_out
        for _ in range(MAX_TOO_SMALL_ROUNDS):
            responses, table = self._execute(rops, table, max_rop_out, batch.columns)
            too_small: RopBufferTooSmallResponse | None = None
            for response in responses:
                if isinstance(response, RopBufferTooSmallResponse):
                    too_small = response
                elif response.rop_id not in SERVER_GENERATED and pending:
                    answers[id(pending.pop(0))] = response
            if too_small is None:
                break
            self.stats.buffer_too_small += 1
            max_rop_out = min(MAX_ROP_OUT_CEILING, max(max_rop_out, too_small.size_needed))
            self.max_rop_out = max(self.max_rop_out, max_rop_out)  # and keep it for later Executes
            self._emit(
                "execute",
                f"RopBufferTooSmall: resending {len(pending)} ROP(s) with MaxRopOut {max_rop_out} "
                "(MS-OXCROPS 2.2.15.1)",
            )
            try:
                rops = decode_requests(too_small.request_buffers)
            except ProtocolError as exc:
                raise MailboxError(
                    f"RopBufferTooSmall handed back ROP requests that do not decode: {exc}", stage="execute"
                ) from None
        else:
            raise MailboxError("RopBufferTooSmall again and again: giving up", stage="execute")
        outcome = _Outcome(answers, table)
        if batch.logs_on:
            self._take_logon(batch, outcome)
        return outcome

    def _execute(
        self,
        rops: Sequence[RopRequest],
        table: Sequence[int],
        max_rop_out: int,
        columns: tuple[int, ...] | None,
    ) -> tuple[list[RopResponse], tuple[int, ...]]:
        body = ExecuteRequest(
            flags=self.execute_flags, rop_buffer=rop_input(rops, table), max_rop_out=max_rop_out
        ).encode()
        self.stats.executes += 1
        result = self._request("Execute", body)
        response = _decode(ExecuteResponse.decode, result.body, "Execute")
        if isinstance(response, FailureResponse):
            raise MailboxError(
                f"Execute failed: StatusCode {describe(response.status_code)}",
                stage="execute",
                code=response.status_code,
            )
        if response.error_code != 0:
            hint = (
                " (the server could not parse the ROP input, MS-OXCROPS 3.2.5.1)"
                if response.error_code == 0x4B6
                else ""
            )
            raise MailboxError(
                f"Execute failed: ErrorCode {describe(response.error_code)}{hint}",
                stage="execute",
                code=response.error_code,
            )
        out: list[RopResponse] = []
        out_table: tuple[int, ...] = tuple(table)
        try:
            for ext in iter_ext_buffers(response.rop_buffer):
                if ext.header.flags & COMPRESSED:
                    self.stats.compressed_responses += 1
                if ext.header.flags & XOR_MAGIC:
                    self.stats.xor_responses += 1
                buf = RopBuffer.decode(ext.payload)
                out += decode_responses(buf.rops, rops, columns)
                if buf.server_object_handle_table:
                    out_table = buf.server_object_handle_table
        except ProtocolError as exc:
            raise MailboxError(f"the Execute response does not decode: {exc}", stage="execute") from None
        if len(out_table) < len(table):  # the table may come back shorter (MS-OXCROPS 3.2.5.2)
            out_table = (*out_table, *table[len(out_table) :])
        return out, out_table

    def _take_logon(self, batch: _Batch, outcome: _Outcome) -> None:
        logon_req = next(r for r in batch.rops if isinstance(r, RopLogonRequest))
        response = outcome.of(logon_req)
        if isinstance(response, RopLogonRedirectResponse):
            raise _Redirect(response.server_name)
        if isinstance(response, RopFailureResponse):
            raise MailboxError(
                f"RopLogon failed: {describe(response.return_value)} for {self.user_dn!r} "
                "(MS-OXCSTOR 3.2.5.1)",
                stage="logon",
                code=response.return_value,
            )
        if not isinstance(response, RopLogonPrivateMailboxResponse):
            raise MailboxError("RopLogon answered with a public-folders logon", stage="logon")
        self.logon = response
        self._logon_handle = outcome.table[0]
        if self.folder_ids is not None and self.folder_ids != response.folder_ids:
            self._emit("logon", "the cached special folder IDs were stale; using the new ones")
        self.folder_ids = response.folder_ids
        if self._known is not None:
            self._known[self.user_dn.lower()] = response.folder_ids
        when = response.logon_time.to_datetime()
        self._emit(
            "logon",
            f"logged on to mailbox {response.mailbox_guid} (IPM subtree {response.folder_ids.ipm_subtree}"
            f"{', server time ' + when.isoformat() if when else ''})",
        )

    def logon_now(self) -> MailboxFolderIds:
        """RopLogon in an Execute of its own (when the folder IDs are not known yet)."""
        return self._run("logon", self._logon_only)

    def _logon_only(self) -> MailboxFolderIds:
        if self._logon_handle is None:
            self._emit("logon", f"RopLogon to the private mailbox of {self.user_dn}")
            self._send(self._batch())
        assert self.folder_ids is not None
        return self.folder_ids

    # -- recovery -----------------------------------------------------------------------------------

    def _run(self, what: str, op: Callable[[], _T]) -> _T:
        """Run ``op``, recovering once from an expired context and once from a moved mailbox."""
        with self._lock:
            if self._context is None:
                raise MailboxError("the session is not open", stage=what)
            recovered = False
            while True:
                try:
                    return op()
                except ContextExpired:
                    if recovered:
                        raise
                    recovered = True
                    self._reconnect_expired()
                except _Redirect as redirect:
                    self._follow_redirect(redirect.server_dn)

    def _forget_handles(self) -> None:
        self._logon_handle = None
        self._releases.clear()

    def _reconnect_expired(self) -> None:
        assert self._context is not None
        self._stop_keepalive()
        self.machine.try_fire(SessionEvent.CONTEXT_EXPIRED)
        self.stats.reconnects += 1
        self._emit(
            "reconnect",
            "the Session Context expired (X-ResponseCode 10): reconnecting with the old cookies, then "
            "logging on again (MS-OXCMAPIHTTP 3.1.5.7, 3.2.5.6)",
        )
        self._forget_handles()
        self._relogon_note = "RopLogon again after the reconnect (every handle died with the old context)"
        self._connect(self._context.reconnect(), SessionEvent.RECONNECT)

    def _follow_redirect(self, server_dn: str) -> None:
        if self._redirected:
            raise MailboxMoved(
                f"RopLogon answered ecWrongServer (0x478) again after following one redirect; the mailbox "
                f"is said to be on {server_dn}",
                server_dn=server_dn,
            )
        self._redirected = True
        self.stats.redirects += 1
        self._stop_keepalive()
        new_url = self.url
        how = "reconnecting to the same URL (Exchange 2013+ routes a moved mailbox by its MailboxId)"
        if self._given_transport is not None:
            how = f"connecting again over {self.protocol} (the RPC server routes a moved mailbox)"
        elif self._resolve is not None:
            try:
                new_url = self._resolve(server_dn)
            except (TransportError, MailboxError) as exc:
                raise MailboxMoved(
                    f"RopLogon answered ecWrongServer (0x478, server {server_dn}) and finding the new "
                    f"mailbox URL failed: {exc}",
                    server_dn=server_dn,
                ) from exc
            how = f"reconnecting to {new_url}"
        self._emit(
            "redirect", f"the mailbox has moved (ecWrongServer, MS-OXCSTOR 2.2.1.1.2) to {server_dn}: {how}"
        )
        # The old context is of no use any more: end it, best effort.
        with _suppress_transport():
            self._request("Disconnect", DisconnectRequest().encode())
        self._forget_handles()
        self.url = new_url
        self._endpoint = self._make_endpoint(new_url)
        self._connect(SessionContext(label="mailbox"), SessionEvent.RECONNECT)
        self._relogon_note = f"RopLogon on the new server for {self.user_dn}"

    # -- the folder tree ----------------------------------------------------------------------------

    @property
    def context_expiration_ms(self) -> int | None:
        """How long the server said it keeps the Session Context without a request (X-ExpirationInfo)."""
        context = self._context
        return context.expiration_ms if context is not None else None

    @property
    def context_idle_s(self) -> float | None:
        """Seconds since the server last answered on the Session Context (None: no answer yet)."""
        context = self._context
        last = context.last_response_at if context is not None else None
        return None if last is None else time.monotonic() - last

    def ping_now(self) -> MapiHttpResult:
        """One PING on the session's context now (MS-OXCMAPIHTTP 2.2.6); ContextExpired if forgotten."""
        with self._lock:
            if self._endpoint is None or self._context is None:
                raise MailboxError("the mailbox session is not connected", stage="ping")
            self._check_cancel()
            return _CountingPinger(self).ping(self._context, cancel=self._request_cancel)

    def folder_tree(self, *, refresh: bool = False) -> Folder:
        """The IPM subtree and every folder below it (one hierarchy table with Depth), read once per session
        unless ``refresh``."""
        if self._tree is None or refresh:
            self._tree = self._run("folders", self._folder_tree)
        return self._tree

    def folders(self) -> list[Folder]:
        """Every folder below the IPM subtree, depth-first (the tree flattened)."""
        return list(self.folder_tree().walk())[1:]

    def _ipm_subtree(self) -> FolderId:
        if self.folder_ids is None:
            self._logon_only()
        assert self.folder_ids is not None
        return self.folder_ids.ipm_subtree

    def _folder_tree(self) -> Folder:
        root_id = self._ipm_subtree()
        self._emit("folders", "reading the folder tree (hierarchy table with Depth)")
        rows, _total = self._read_table(
            lambda batch, slot: batch.add(RopOpenFolderRequest(LOGON_ID, 0, slot, root_id)),
            lambda slot_in, slot_out: RopGetHierarchyTableRequest(
                LOGON_ID, slot_in, slot_out, TABLE_FLAG_DEPTH
            ),
            TREE_COLUMNS,
            limit=None,
            page_size=self.page_size,
            retry_fid=lambda: self.folder_ids.ipm_subtree if self.folder_ids else root_id,
        )
        # After a stale cached ID the batched RopLogon told the real one.
        return _build_tree(self.folder_ids.ipm_subtree if self.folder_ids else root_id, rows)

    # -- contents -----------------------------------------------------------------------------------

    def find_folder(self, path: str) -> Folder:
        """A folder by path (``Inbox/Projects``, case-insensitive); MailboxError if there is none."""
        wanted = _split_path(path)
        tree = self.folder_tree()
        for folder in tree.walk():
            if [p.lower() for p in _split_path(folder.path)] == [p.lower() for p in wanted]:
                return folder
        raise MailboxError(f"no folder {path!r} in this mailbox", stage="folders")

    def contents(
        self, folder: Folder | FolderId | str, *, limit: int | None = None, page_size: int | None = None
    ) -> tuple[list[MessageSummary], int]:
        """The items of one folder (newest first as the server sorts them) and the folder's item count."""
        items: list[MessageSummary] = []
        total = 0
        for page in self.iter_contents(folder, limit=limit, page_size=page_size):
            items.extend(page.items)
            total = page.total
        return items, total

    def iter_contents(
        self, folder: Folder | FolderId | str, *, limit: int | None = None, page_size: int | None = None
    ) -> Iterator[ContentsPage]:
        """The contents table of one folder, one page (one RopQueryRows) each. The pages are read before the
        first is handed out, so that a reconnect in the middle restarts the read cleanly."""
        fid = self._resolve_folder(folder)
        size = max(1, min(page_size or self.page_size, 0xFFFF))
        pages: list[ContentsPage] = []

        def on_page(rows: Sequence[PropertyRow], total: int, offset: int, last: bool) -> None:
            items = tuple(_summary(r) for r in rows)
            pages.append(ContentsPage(fid, items, total, offset, last))

        def op() -> None:
            pages.clear()
            self._emit("contents", f"reading the contents of folder {fid}")
            self._read_table(
                lambda batch, slot: batch.add(RopOpenFolderRequest(LOGON_ID, 0, slot, fid)),
                lambda slot_in, slot_out: RopGetContentsTableRequest(LOGON_ID, slot_in, slot_out, 0),
                CONTENTS_COLUMNS,
                limit=limit,
                page_size=size,
                on_page=on_page,
            )

        self._run("contents", op)
        yield from pages

    def _resolve_folder(self, folder: Folder | FolderId | str) -> FolderId:
        if isinstance(folder, Folder):
            return folder.folder_id
        if isinstance(folder, FolderId):
            return folder
        return self.find_folder(folder).folder_id

    def _read_table(
        self,
        open_folder: Callable[[_Batch, int], RopRequest],
        get_table: Callable[[int, int], RopRequest],
        columns: tuple[int, ...],
        *,
        limit: int | None,
        page_size: int,
        on_page: Callable[[Sequence[PropertyRow], int, int, bool], None] | None = None,
        retry_fid: Callable[[], FolderId] | None = None,
    ) -> tuple[list[PropertyRow], int]:
        """Open a folder, get a table from it, set its columns and read it to the end (or ``limit`` rows):
        the first page in the same Execute as the rest (handles chain, MS-OXCROPS 3.2.5.1)."""
        rows: list[PropertyRow] = []
        batch = self._batch()
        folder_slot = batch.slot()
        table_slot = batch.slot()
        open_req = open_folder(batch, folder_slot)
        table_req = batch.add(get_table(folder_slot, table_slot))
        batch.add(RopSetColumnsRequest(LOGON_ID, table_slot, 0, tuple(PropertyTag(c) for c in columns)))
        first = _page(limit, 0, page_size)
        query = batch.add(RopQueryRowsRequest(LOGON_ID, table_slot, QUERY_ROWS_ADVANCE, 1, first))
        batch.columns = columns
        outcome = self._send(batch)
        opened = outcome.of(open_req)
        if isinstance(opened, RopFailureResponse) and batch.logs_on and retry_fid is not None:
            # A cached folder ID that no longer names the folder: the batched RopLogon told the real one.
            self._emit("folders", f"RopOpenFolder failed ({describe(opened.return_value)}); retrying")
            return self._read_table(
                lambda b, slot: b.add(RopOpenFolderRequest(LOGON_ID, 0, slot, retry_fid())),
                get_table,
                columns,
                limit=limit,
                page_size=page_size,
                on_page=on_page,
            )
        folder_handle, table_handle = outcome.table[folder_slot], outcome.table[table_slot]
        for request, stage in (
            (open_req, "RopOpenFolder"),
            (table_req, "the table ROP"),
            (query, "RopQueryRows"),
        ):
            response = outcome.of(request)
            if isinstance(response, RopFailureResponse) or response is None:
                self._releases += [h for h in (table_handle, folder_handle) if h != U]
                code = response.return_value if response is not None else None
                raise MailboxError(
                    f"{stage} failed: {describe(code) if code is not None else 'no response'}",
                    stage="rop",
                    code=code,
                )
        total_resp = outcome.of(table_req)
        total = (
            total_resp.row_count
            if isinstance(total_resp, RopGetHierarchyTableResponse | RopGetContentsTableResponse)
            else 0
        )
        response = outcome.of(query)
        assert isinstance(response, RopQueryRowsResponse)
        try:
            while True:
                page = list(response.row_data)
                offset = len(rows)
                rows.extend(page)
                done = (
                    response.origin == BOOKMARK_END or not page or (limit is not None and len(rows) >= limit)
                )
                if on_page is not None:
                    on_page(page, total, offset, done)
                if done:
                    break
                self._check_cancel()
                batch = self._batch()
                slot = batch.slot(table_handle)
                query = batch.add(
                    RopQueryRowsRequest(
                        LOGON_ID, slot, QUERY_ROWS_ADVANCE, 1, _page(limit, len(rows), page_size)
                    )
                )
                batch.columns = columns
                response_any = self._send(batch).of(query)
                if not isinstance(response_any, RopQueryRowsResponse):
                    code = response_any.return_value if isinstance(response_any, RopFailureResponse) else None
                    raise MailboxError(
                        f"RopQueryRows failed: {describe(code) if code is not None else 'no response'}",
                        stage="rop",
                        code=code,
                    )
                response = response_any
        finally:
            # Released with the next Execute, or before Disconnect.
            self._releases += [table_handle, folder_handle]
        return rows, total

    # -- properties ---------------------------------------------------------------------------------

    def folder_properties(
        self, folder: Folder | FolderId | str, tags: Sequence[int] = FOLDER_PROPERTY_TAGS
    ) -> PropertyRow:
        """RopOpenFolder + RopGetPropertiesSpecific (MS-OXCPRPT 2.2.2) on one folder."""
        fid = self._resolve_folder(folder)
        wanted = tuple(PropertyTag(t) for t in tags)

        def op() -> PropertyRow:
            self._emit("properties", f"reading {len(wanted)} properties of folder {fid}")
            batch = self._batch()
            slot = batch.slot()
            open_req = batch.add(RopOpenFolderRequest(LOGON_ID, 0, slot, fid))
            get = batch.add(RopGetPropertiesSpecificRequest(LOGON_ID, slot, 0, 1, wanted))
            outcome = self._send(batch)
            handle = outcome.table[slot]
            if handle != U and not isinstance(outcome.of(open_req), RopFailureResponse):
                self._releases.append(handle)
            response = outcome.of(get)
            if not isinstance(response, RopGetPropertiesSpecificResponse):
                failed = outcome.of(open_req)
                if not isinstance(failed, RopFailureResponse):
                    failed = response
                code = failed.return_value if isinstance(failed, RopFailureResponse) else None
                raise MailboxError(
                    f"reading the folder's properties failed: {describe(code) if code is not None else '?'}",
                    stage="rop",
                    code=code,
                )
            return response.row_data

        return self._run("properties", op)

    def item_properties(self, folder: Folder | FolderId | str, mid: int, tags: Sequence[int]) -> PropertyRow:
        """The properties of one item: its row of the folder's contents table with ``tags`` as columns
        (values longer than 510 bytes come back cut, MS-OXCTABL 2.2.2.5.2)."""
        columns = tuple(dict.fromkeys((TAG_MID, *(int(t) for t in tags))))
        fid = self._resolve_folder(folder)
        found: list[PropertyRow] = []

        def on_page(rows: Sequence[PropertyRow], total: int, offset: int, last: bool) -> None:
            found.extend(r for r in rows if r.get(TAG_MID) == mid)

        def op() -> None:
            found.clear()
            self._read_table(
                lambda batch, slot: batch.add(RopOpenFolderRequest(LOGON_ID, 0, slot, fid)),
                lambda slot_in, slot_out: RopGetContentsTableRequest(LOGON_ID, slot_in, slot_out, 0),
                columns,
                limit=None,
                page_size=self.page_size,
                on_page=on_page,
            )

        self._run("properties", op)
        if not found:
            raise MailboxError(f"no item {MessageId(mid)} in folder {fid}", stage="properties")
        return found[0]


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


class _CountingPinger:
    """The endpoint as KeepAlive sees it, counting PINGs in the session's statistics."""

    def __init__(self, session: MailboxSession) -> None:
        self._session = session

    def ping(self, context: SessionContext, *, cancel: threading.Event | None = None) -> MapiHttpResult:
        session = self._session
        endpoint = session._endpoint
        assert endpoint is not None
        session.stats.pings += 1
        session.stats.requests += 1
        return endpoint.ping(context, cancel=cancel)


class _suppress_transport:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        return exc_type is not None and issubclass(exc_type, TransportError | MailboxError | ProtocolError)


def _decode(decoder: Callable[[bytes], Any], body: bytes, what: str) -> Any:
    try:
        return decoder(body)
    except ProtocolError as exc:
        raise MailboxError(f"the {what} response body does not decode: {exc}", stage=what.lower()) from None


def _page(limit: int | None, have: int, page_size: int) -> int:
    if limit is None:
        return page_size
    return max(1, min(page_size, limit - have))


def _seconds(ms: int | None) -> str:
    if ms is None:
        return "an unknown time"
    return f"{ms / 1000:g} s"


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace("/", "\\/")


def _split_path(path: str) -> list[str]:
    """``Inbox/Projects`` -> ["Inbox", "Projects"]; ``\\/`` is a slash inside a name."""
    parts: list[str] = []
    cur = ""
    i = 0
    text = path.strip()
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur += text[i + 1]
            i += 2
            continue
        if ch == "/":
            if cur:
                parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if cur:
        parts.append(cur)
    return parts


@dataclass
class _Node:
    fid: FolderId
    row: PropertyRow | None
    depth: int
    children: list[_Node] = field(default_factory=list)


def _build_tree(root_id: FolderId, rows: Sequence[PropertyRow]) -> Folder:
    """Folders from hierarchy rows: by PidTagParentFolderId, or by PidTagDepth when a row has no parent."""
    root = _Node(root_id, None, -1)
    nodes: dict[int, _Node] = {int(root_id): root}
    stack: list[_Node] = [root]
    base_depth: int | None = None
    for row in rows:
        fid_value = row.get(TAG_FOLDER_ID)
        if fid_value is None:
            continue
        depth_value = row.get(TAG_DEPTH)
        depth = depth_value if isinstance(depth_value, int) else 0
        if base_depth is None:
            base_depth = depth  # servers differ on whether direct children are 0 or 1
        node = _Node(FolderId(int(fid_value)), row, depth - base_depth)
        parent_value = row.get(TAG_PARENT_FOLDER_ID)
        parent = nodes.get(int(parent_value)) if parent_value is not None else None
        if parent is None:
            while len(stack) > 1 and stack[-1].depth >= node.depth:
                stack.pop()
            parent = stack[-1]
        parent.children.append(node)
        nodes[int(node.fid)] = node
        while len(stack) > 1 and stack[-1] is not parent:
            stack.pop()
        stack.append(node)
    return _freeze(root, "", None, -1)


def _freeze(node: _Node, path: str, parent: FolderId | None, depth: int) -> Folder:
    row = node.row
    name = str(row.get(TAG_DISPLAY_NAME) or "") if row is not None else ""
    children = tuple(_freeze(c, _join(path, c), node.fid, depth + 1) for c in node.children)
    if row is None:
        return Folder("", node.fid, "", None, None, bool(children), None, children, None, -1)
    count = row.get(TAG_CONTENT_COUNT)
    unread = row.get(TAG_CONTENT_UNREAD_COUNT)
    sub = row.get(TAG_SUBFOLDERS)
    cls = row.get(TAG_CONTAINER_CLASS)
    return Folder(
        path=path,
        folder_id=node.fid,
        display_name=name,
        content_count=count if isinstance(count, int) else None,
        unread_count=unread if isinstance(unread, int) else None,
        has_subfolders=bool(sub) if sub is not None else bool(children),
        container_class=cls if isinstance(cls, str) else None,
        children=children,
        parent_id=parent,
        depth=depth,
    )


def _join(path: str, node: _Node) -> str:
    name = str(node.row.get(TAG_DISPLAY_NAME) or "") if node.row is not None else ""
    return f"{path}/{_escape(name)}" if path else _escape(name)


def _summary(row: PropertyRow) -> MessageSummary:
    received = row.get(TAG_DELIVERY_TIME)
    flags = row.get(TAG_MESSAGE_FLAGS)
    mid = row.get(TAG_MID)
    size = row.get(TAG_MESSAGE_SIZE)
    subject = row.get(TAG_SUBJECT)
    sender = row.get(TAG_SENDER_NAME)
    cls = row.get(TAG_MESSAGE_CLASS)
    return MessageSummary(
        mid=MessageId(int(mid)) if isinstance(mid, int) else None,
        subject=subject if isinstance(subject, str) else None,
        sender=sender if isinstance(sender, str) else None,
        received=FileTime(received).to_datetime() if isinstance(received, int) and received else None,
        size=size if isinstance(size, int) else None,
        message_class=cls if isinstance(cls, str) else None,
        read=bool(flags & MSGFLAG_READ) if isinstance(flags, int) else None,
    )


__all__ = [
    "CONTENTS_COLUMNS",
    "FOLDER_PROPERTY_TAGS",
    "TREE_COLUMNS",
    "ContentsPage",
    "Folder",
    "MailboxError",
    "MailboxMoved",
    "MailboxProgress",
    "MailboxSession",
    "MailboxStats",
    "MessageSummary",
]
