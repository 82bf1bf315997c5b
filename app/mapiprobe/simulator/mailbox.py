"""The simulator's mailbox endpoint: Connect, Execute (a real ROP processor), Disconnect, NotificationWait.

:class:`MailboxHandler` is the :class:`~mapiprobe.simulator.mapihttp.MapiHttpHandler` of the endpoint
``/mapi/emsmdb/?MailboxId=<guid>@<domain>``; the generic MAPI/HTTP machinery (headers, cookies, Session
Contexts, PING, the PROCESSING/PENDING/DONE envelope) is :mod:`mapiprobe.simulator.mapihttp`'s. This module
answers the bodies (MS-OXCMAPIHTTP 2.2.4) and runs the ROPs of Execute against the sample mailbox
(:mod:`mapiprobe.simulator.mailstore`) with :class:`~mapiprobe.simulator.ropengine.RopEngine`, one per
Session Context (:mod:`mapiprobe.simulator.ropengine`, re-exported here):

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

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapiprobe.protocol.emsmdb import (
    ConnectRequest,
    ConnectResponse,
    DisconnectRequest,
    DisconnectResponse,
    ExecuteRequest,
    NotificationWaitRequest,
    NotificationWaitResponse,
)
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import (
    RopLogonRequest,
)
from mapiprobe.protocol.rpcext import iter_ext_buffers

from .mailstore import Mailbox, load_mailbox
from .mapihttp import MapiHttpService, SimResponseCode, SimSessionContext, mailbox_id
from .org import Organisation, SimUser
from .ropengine import (
    COMPRESS_THRESHOLD,
    EC_ACCESS_DENIED,
    EC_BUFFER_TOO_SMALL,
    EC_INVALID_OBJECT,
    EC_INVALID_PARAMETER,
    EC_LOGIN_FAILURE,
    EC_NONE,
    EC_NOT_ENOUGH_MEMORY,
    EC_NOT_FOUND,
    EC_NOT_SUPPORTED,
    EC_NULL_OBJECT,
    EC_RPC_FORMAT,
    EC_UNKNOWN_USER,
    EC_WRONG_SERVER,
    MAX_ROW_VALUE,
    NOTIFICATION_WAIT_S,
    EngineOptions,
    ExecuteStats,
    FolderObject,
    LogonObject,
    RopEngine,
    RopError,
    ServerObject,
    TableObject,
    _split_requests,
    build_row,
)
from .web import Request

if TYPE_CHECKING:
    from .core import Simulator

# -- the MAPI/HTTP handler ------------------------------------------------------------------------------


def moved_server_dn(org: Organisation, user: SimUser) -> str:
    """The ESSDN a ``mailbox-moved`` RopLogon redirect names: a server object of the administrative group
    whose common name is ``<mailbox guid>@<domain>``, as Exchange 2013 and later name mailbox servers."""
    return f"{org.administrative_group}/cn=Configuration/cn=Servers/cn={user.mailbox_guid}@{org.domain}"


@dataclass
class _Context:
    """What the handler keeps in a Session Context's ``state``."""

    engine: RopEngine
    user_dn: str


class MailboxHandler:
    """Answers the request bodies of the mailbox endpoint (MS-OXCMAPIHTTP 2.2.4) for the generic service.

    ``scenario`` returns the simulator's current scenario; ``mailbox-moved`` makes the first RopLogon of
    each user answer ecWrongServer (MS-OXCSTOR 3.2.5.1.3) and later ones succeed, as when a mailbox has
    moved to another database and the client reconnects once.
    """

    def __init__(
        self,
        org: Organisation,
        scenario: Callable[[], str] = lambda: "normal",
        *,
        stopping: threading.Event | None = None,
        mailbox_file: Path | None = None,
    ) -> None:
        self.org = org
        self.scenario = scenario
        self.stopping = stopping or threading.Event()
        self.mailbox_file = mailbox_file
        self.notification_wait_s = NOTIFICATION_WAIT_S
        self.compress_threshold = COMPRESS_THRESHOLD
        self.redirects_per_user = 1
        """How many logons of a user answer ecWrongServer in ``mailbox-moved`` (tests raise it for loops)."""
        self.stats: list[ExecuteStats] = []
        """One entry per Execute answered (newest last; the list keeps the last 1,000)."""
        self._mailboxes: dict[str, Mailbox] = {}
        self._redirected: dict[str, int] = {}
        self._scenario_seen: str | None = None
        self._lock = threading.Lock()

    # -- state ------------------------------------------------------------------------------------

    def mailbox_for(self, user: SimUser) -> Mailbox:
        """The user's store (built once per simulator, so FIDs and MIDs stay the same across contexts)."""
        with self._lock:
            mailbox = self._mailboxes.get(user.email)
            if mailbox is None:
                mailbox = load_mailbox(user.mailbox_guid, user.display_name, path=self.mailbox_file)
                self._mailboxes[user.email] = mailbox
            return mailbox

    def reset_moves(self) -> None:
        """Forget which users were already redirected in ``mailbox-moved`` (tests call it between runs)."""
        with self._lock:
            self._redirected.clear()

    def _redirect_target(self, user: SimUser) -> str | None:
        scenario = self.scenario()
        with self._lock:
            if scenario != self._scenario_seen:  # a new scenario starts with nobody redirected yet
                self._scenario_seen = scenario
                self._redirected.clear()
            if scenario != "mailbox-moved":
                return None
            count = self._redirected.get(user.email, 0)
            if count >= self.redirects_per_user:
                return None
            self._redirected[user.email] = count + 1
        return moved_server_dn(self.org, user)

    # -- bodies -----------------------------------------------------------------------------------

    def handle(self, request_type: str, body: bytes, ctx: SimSessionContext, req: Request) -> bytes:
        """One request body in, the response body out (``ctx`` is the Session Context)."""
        kind = request_type.lower()
        if kind == "connect":
            return self.connect(body, ctx, req)
        if kind == "execute":
            return self.execute(body, ctx)
        if kind == "disconnect":
            return self.disconnect(body, ctx)
        if kind == "notificationwait":
            return self.notification_wait(body, ctx)
        raise SimResponseCode(5, f"X-RequestType {request_type} is not served by the mailbox endpoint")

    def connect(self, body: bytes, ctx: SimSessionContext, req: Request) -> bytes:
        """Connect (MS-OXCMAPIHTTP 2.2.4.1): UserDn must name the authenticated user (EcDoConnectEx,
        MS-OXCRPC 3.1.4.1: ecUnknownUser for an unknown DN, ecLoginFailure for somebody else's)."""
        try:
            request = ConnectRequest.decode(body)
        except ProtocolError as exc:
            raise SimResponseCode(12, f"Connect request body does not decode: {exc}") from None
        user = ctx.user
        named = self.org.find_by_legacy_dn(request.user_dn)
        error = EC_NONE
        if named is None:
            error = EC_UNKNOWN_USER
        elif named.email != user.email:
            error = EC_LOGIN_FAILURE
        else:
            named_id = mailbox_id(req)
            if named_id is not None and named_id.partition("@")[0].lower() != user.mailbox_guid.lower():
                error = EC_LOGIN_FAILURE
        if error:
            ctx.discard()  # a failed Connect leaves no Session Context behind
            return ConnectResponse(error_code=error).encode()
        engine = RopEngine(user, self.org, lambda: self.mailbox_for(user))
        engine.options.compress_threshold = self.compress_threshold
        ctx.state["mailbox"] = _Context(engine, request.user_dn)
        return ConnectResponse(display_name=user.display_name).encode()

    def _engine(self, ctx: SimSessionContext) -> RopEngine:
        state = ctx.state.get("mailbox")
        if not isinstance(state, _Context):
            raise SimResponseCode(10, "this Session Context has no mailbox connection: send Connect first")
        return state.engine

    def execute(self, body: bytes, ctx: SimSessionContext) -> bytes:
        """Execute (MS-OXCMAPIHTTP 2.2.4.2): the ROPs run by the context's :class:`RopEngine`."""
        try:
            request = ExecuteRequest.decode(body)
        except ProtocolError as exc:
            raise SimResponseCode(12, f"Execute request body does not decode: {exc}") from None
        engine = self._engine(ctx)
        engine.options.redirect_logon_to = self._redirect_target(engine.user) if _has_logon(request) else None
        response = engine.execute(request)
        with self._lock:
            self.stats.append(engine.last)
            del self.stats[:-1000]
        return response.encode()

    def disconnect(self, body: bytes, ctx: SimSessionContext) -> bytes:
        """Disconnect (MS-OXCMAPIHTTP 2.2.4.3): every Server object of the context is released."""
        try:
            DisconnectRequest.decode(body)
        except ProtocolError as exc:
            raise SimResponseCode(12, f"Disconnect request body does not decode: {exc}") from None
        state = ctx.state.pop("mailbox", None)
        if isinstance(state, _Context):
            state.engine.release_all()
        return DisconnectResponse().encode()

    def notification_wait(self, body: bytes, ctx: SimSessionContext) -> bytes:
        """NotificationWait (MS-OXCMAPIHTTP 2.2.4.4): nothing ever happens in the simulated store, so it
        answers EventPending 0 after :attr:`notification_wait_s` (or at once when the simulator stops)."""
        try:
            NotificationWaitRequest.decode(body)
        except ProtocolError as exc:
            raise SimResponseCode(12, f"NotificationWait request body does not decode: {exc}") from None
        self._engine(ctx)
        self.stopping.wait(self.notification_wait_s)
        return NotificationWaitResponse(event_pending=0).encode()


def _has_logon(request: ExecuteRequest) -> bool:
    try:
        for ext in iter_ext_buffers(request.rop_buffer):
            buf = RopBuffer.decode(ext.payload)
            if any(isinstance(q, RopLogonRequest) for q, _ in _split_requests(buf.rops)):
                return True
    except ProtocolError:
        return False
    return False


# -- the endpoint ---------------------------------------------------------------------------------------

EMSMDB_PATH = "/mapi/emsmdb/"
MAILBOX_REQUEST_TYPES = frozenset({"Execute", "NotificationWait"})

SCENARIO_KNOBS: dict[str, dict[str, Any]] = {
    "mailbox-expired": {"lifetime_s": 2.0},
    "mailbox-slow": {"delay_s": 1.2, "pending_period_ms": 300},
    "mailbox-503": {"fault": "503"},
    "mailbox-html": {"fault": "html-200"},
    "context-expires-early": {"forget_after_s": 1.0},
    "lb-cut": {"delay_s": 1.5, "pending_period_ms": 200, "cut_after_s": 0.8},
}
"""Service knobs each mailbox scenario sets (``mailbox-moved`` is the handler's own behaviour)."""


class _Knob:
    """A knob of :class:`MailboxService`: the scenario's value while its scenario runs, else the value set."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: MailboxService | None, owner: type) -> Any:
        if obj is None:
            return self
        forced = SCENARIO_KNOBS.get(obj.scenario(), {})
        if self.name in forced:
            return forced[self.name]
        return obj.__dict__[f"_knob_{self.name}"]

    def __set__(self, obj: MailboxService, value: Any) -> None:
        obj.__dict__[f"_knob_{self.name}"] = value


class MailboxService(MapiHttpService):
    """The mailbox endpoint's :class:`MapiHttpService`; its knobs follow the scenario
    (:data:`SCENARIO_KNOBS`), and outside those scenarios they keep whatever a test set."""

    lifetime_s = _Knob()
    pending_period_ms = _Knob()
    delay_s = _Knob()
    fault = _Knob()
    forget_after_s = _Knob()
    cut_after_s = _Knob()

    def __init__(self, handler: MailboxHandler, scenario: Callable[[], str], **kwargs: Any) -> None:
        self.scenario = scenario
        self.mailbox = handler
        super().__init__(
            "emsmdb",
            connect_types={"Connect"},
            disconnect_types={"Disconnect"},
            handler=handler,
            request_types=MAILBOX_REQUEST_TYPES,
            **kwargs,
        )

    def stop(self) -> None:
        self.mailbox.stopping.set()
        super().stop()


def install(sim: Simulator) -> MailboxService:
    """Mount the mailbox endpoint at ``/mapi/emsmdb/`` of the simulator's HTTPS site (every host)."""
    org = sim.org
    handler = MailboxHandler(org, lambda: sim.scenario)
    service = MailboxService(handler, lambda: sim.scenario, server_application=org.server_application)
    service.install(sim.https_site, EMSMDB_PATH)
    return service


__all__ = [
    "COMPRESS_THRESHOLD",
    "EC_ACCESS_DENIED",
    "EC_BUFFER_TOO_SMALL",
    "EC_INVALID_OBJECT",
    "EC_INVALID_PARAMETER",
    "EC_LOGIN_FAILURE",
    "EC_NONE",
    "EC_NOT_ENOUGH_MEMORY",
    "EC_NOT_FOUND",
    "EC_NOT_SUPPORTED",
    "EC_NULL_OBJECT",
    "EC_RPC_FORMAT",
    "EC_UNKNOWN_USER",
    "EC_WRONG_SERVER",
    "EMSMDB_PATH",
    "MAX_ROW_VALUE",
    "NOTIFICATION_WAIT_S",
    "SCENARIO_KNOBS",
    "EngineOptions",
    "ExecuteStats",
    "FolderObject",
    "LogonObject",
    "MailboxHandler",
    "MailboxService",
    "RopEngine",
    "RopError",
    "ServerObject",
    "TableObject",
    "build_row",
    "install",
    "moved_server_dn",
]
