"""The life of a MAPI/HTTP session as a table, and the keep-alive that stops it from expiring.

Both sessions (mailbox and address book) hold one Session Context each and move through the same states.
As in h11's ``_state.py`` and h2's state machine, the rules are data: :data:`TABLE` maps (state, event) to
the next state, and a pair that is not in it raises :class:`InvalidTransition` (a bug in the caller, not a
server fault). The documentation can draw the table (:func:`describe_table`).

States and the spec behind them (MS-OXCMAPIHTTP):

* DISCONNECTED: no Session Context. CONNECTING: Connect/Bind sent (3.1.5.1). CONNECTED: the context is live.
* IDLE_PINGING: a PING is on its way because the idle deadline from X-ExpirationInfo is near (3.1.5.3).
* EXPIRED: the server answered X-ResponseCode 10, or the deadline passed; the client SHOULD reconnect
  (3.2.5.6). RECONNECTING: a new Connect/Bind carrying the old cookies is on its way (3.1.5.7).
* FAILED: a transport failure, or Connect/Bind failed; a RECONNECT may follow. A transport failure while
  reading an answer is a reason to reconnect with a new context (3.1.7.2).

:class:`KeepAlive` is a background thread that PINGs a context before the server's idle timer runs out,
leaving a margin for latency (3.1.5.3, 3.1.6), and stops cleanly.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from typing import Protocol

from mapiprobe.transport.errors import TransportError
from mapiprobe.transport.mapihttp import ContextExpired, MapiHttpResult, SessionContext


class SessionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    IDLE_PINGING = "idle-pinging"
    EXPIRED = "expired"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


class SessionEvent(enum.Enum):
    CONNECT = "connect"  # Connect/Bind sent
    CONNECT_OK = "connect-ok"  # ... answered with success
    CONNECT_FAILED = "connect-failed"  # ... failed (transport, X-ResponseCode or the body's error code)
    CANCELLED = "cancelled"  # the caller gave up while connecting
    PING_DUE = "ping-due"  # the idle deadline is near: a PING goes out
    PING_OK = "ping-ok"  # ... and was answered (the idle timer was reset)
    CONTEXT_EXPIRED = "context-expired"  # X-ResponseCode 10, or the deadline passed
    TRANSPORT_FAILED = "transport-failed"  # a request failed below MAPI/HTTP
    RECONNECT = "reconnect"  # a new Connect/Bind carrying the old cookies
    DISCONNECT_OK = "disconnect-ok"  # Disconnect/Unbind answered with success, or a dead context forgotten


S = SessionState
E = SessionEvent

TABLE: dict[tuple[SessionState, SessionEvent], SessionState] = {
    (S.DISCONNECTED, E.CONNECT): S.CONNECTING,
    (S.CONNECTING, E.CONNECT_OK): S.CONNECTED,
    (S.CONNECTING, E.CONNECT_FAILED): S.FAILED,
    (S.CONNECTING, E.CANCELLED): S.DISCONNECTED,
    (S.CONNECTED, E.PING_DUE): S.IDLE_PINGING,
    (S.CONNECTED, E.CONTEXT_EXPIRED): S.EXPIRED,
    (S.CONNECTED, E.TRANSPORT_FAILED): S.FAILED,
    (S.CONNECTED, E.RECONNECT): S.RECONNECTING,
    (S.CONNECTED, E.DISCONNECT_OK): S.DISCONNECTED,
    (S.IDLE_PINGING, E.PING_OK): S.CONNECTED,
    (S.IDLE_PINGING, E.CONTEXT_EXPIRED): S.EXPIRED,
    (S.IDLE_PINGING, E.TRANSPORT_FAILED): S.FAILED,
    (S.EXPIRED, E.RECONNECT): S.RECONNECTING,
    (S.EXPIRED, E.DISCONNECT_OK): S.DISCONNECTED,
    (S.FAILED, E.RECONNECT): S.RECONNECTING,
    (S.FAILED, E.DISCONNECT_OK): S.DISCONNECTED,
    (S.RECONNECTING, E.CONNECT_OK): S.CONNECTED,
    (S.RECONNECTING, E.CONNECT_FAILED): S.FAILED,
    (S.RECONNECTING, E.CANCELLED): S.FAILED,
}
"""Every allowed transition; anything else raises :class:`InvalidTransition`."""

del S, E


class InvalidTransition(Exception):
    """An event that the current state does not allow (see :data:`TABLE`)."""

    def __init__(self, state: SessionState, event: SessionEvent) -> None:
        self.state = state
        self.event = event
        allowed = sorted(e.value for (s, e) in TABLE if s is state)
        super().__init__(
            f"event {event.value!r} is not allowed in state {state.value!r} (allowed: {', '.join(allowed)})"
        )


Observer = Callable[[SessionState, SessionEvent, SessionState], None]


class SessionStateMachine:
    """The state of one session, changed only through :data:`TABLE`. Thread-safe.

    Observers are called as ``observer(old, event, new)`` after each transition, in the thread that fired
    the event, outside the lock (an observer may look at the machine but should not fire events itself).
    """

    def __init__(self, name: str = "", initial: SessionState = SessionState.DISCONNECTED) -> None:
        self.name = name
        self._state = initial
        self._lock = threading.Lock()
        self._observers: list[Observer] = []
        self.history: list[tuple[float, SessionState, SessionEvent, SessionState]] = []
        """(time.monotonic(), old, event, new) for every transition, oldest first (bounded)."""

    @property
    def state(self) -> SessionState:
        with self._lock:
            return self._state

    def can(self, event: SessionEvent) -> bool:
        with self._lock:
            return (self._state, event) in TABLE

    def fire(self, event: SessionEvent) -> SessionState:
        """Apply ``event``; returns the new state. Raises :class:`InvalidTransition` if not allowed."""
        with self._lock:
            old = self._state
            new = TABLE.get((old, event))
            if new is None:
                raise InvalidTransition(old, event)
            self._state = new
            self.history.append((time.monotonic(), old, event, new))
            del self.history[:-200]
            observers = list(self._observers)
        for observer in observers:
            observer(old, event, new)
        return new

    def try_fire(self, event: SessionEvent) -> SessionState | None:
        """Like :meth:`fire`, but None instead of an exception when the current state does not allow it."""
        try:
            return self.fire(event)
        except InvalidTransition:
            return None

    def add_observer(self, observer: Observer) -> Callable[[], None]:
        """Register ``observer``; returns a function that removes it."""
        with self._lock:
            self._observers.append(observer)

        def remove() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return remove

    def __repr__(self) -> str:
        return f"SessionStateMachine({self.name!r}, state={self.state.value})"


def describe_table() -> str:
    """The transition table as text, one ``state --event--> state`` line each (for docs and --help)."""
    return "\n".join(f"{s.value} --{e.value}--> {n.value}" for (s, e), n in TABLE.items())


# ---------------------------------------------------------------------------------------------------
# Keep-alive
# ---------------------------------------------------------------------------------------------------


class Pinger(Protocol):
    """What :class:`KeepAlive` needs of an endpoint (a MapiHttpEndpoint has it)."""

    def ping(self, context: SessionContext, *, cancel: threading.Event | None = None) -> MapiHttpResult: ...


def default_margin(lifetime_s: float) -> float:
    """How long before the deadline to PING: a fifth of the lifetime, at least 0.3 s and at most 60 s."""
    return min(60.0, max(0.3, lifetime_s * 0.2))


class KeepAlive:
    """A background thread that PINGs ``context`` before the idle deadline of X-ExpirationInfo runs out.

    It reads the deadline from the context (every answer of every request moves it), waits until
    ``margin(lifetime)`` seconds before it, and PINGs unless a request is running (that request resets the
    server's timer itself). With a ``machine`` it fires PING_DUE / PING_OK, CONTEXT_EXPIRED on
    X-ResponseCode 10 and TRANSPORT_FAILED on other failures, and pings only in CONNECTED. It stops after
    a failure (calling ``on_error``), when :meth:`stop` is called, or when the context is closed.
    """

    def __init__(
        self,
        endpoint: Pinger,
        context: SessionContext,
        *,
        machine: SessionStateMachine | None = None,
        margin: Callable[[float], float] = default_margin,
        on_ping: Callable[[MapiHttpResult], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        name: str = "mapihttp-keepalive",
        poll_s: float = 1.0,
    ) -> None:
        self.endpoint = endpoint
        self.context = context
        self.machine = machine
        self.margin = margin
        self.on_ping = on_ping
        self.on_error = on_error
        self.poll_s = poll_s
        self.pings = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> KeepAlive:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the thread; a PING in flight is cancelled. Safe to call more than once."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> KeepAlive:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------------------------

    def _next_wait(self) -> float | None:
        """Seconds to wait before the next PING (<= 0: now); None when no deadline is known yet."""
        ctx = self.context
        remaining = ctx.remaining_s()
        if remaining is None or ctx.expiration_ms is None:
            return None
        return remaining - self.margin(ctx.expiration_ms / 1000)

    def _run(self) -> None:
        while not self._stop.is_set():
            ctx = self.context
            if ctx.closed or ctx.expired:
                return
            wait = self._next_wait()
            if wait is None or wait > 0:
                self._stop.wait(self.poll_s if wait is None else min(wait, self.poll_s))
                continue
            if ctx.busy:  # the running request resets the server's timer; look again shortly
                self._stop.wait(0.05)
                continue
            if self.machine is not None and self.machine.try_fire(SessionEvent.PING_DUE) is None:
                self._stop.wait(min(self.poll_s, 0.1))
                continue
            if not self._ping():
                return

    def _ping(self) -> bool:
        try:
            result = self.endpoint.ping(self.context, cancel=self._stop)
        except ContextExpired as exc:
            self._fail(exc, SessionEvent.CONTEXT_EXPIRED)
            return False
        except TransportError as exc:
            if self._stop.is_set():  # cancelled by stop(): not a failure; the context is as it was
                if self.machine is not None:
                    self.machine.try_fire(SessionEvent.PING_OK)
                return False
            self._fail(exc, SessionEvent.TRANSPORT_FAILED)
            return False
        self.pings += 1
        if self.machine is not None:
            self.machine.try_fire(SessionEvent.PING_OK)
        if self.on_ping is not None:
            self.on_ping(result)
        return True

    def _fail(self, exc: BaseException, event: SessionEvent) -> None:
        self.error = exc
        if self.machine is not None:
            self.machine.try_fire(event)
        if self.on_error is not None:
            self.on_error(exc)


__all__ = [
    "TABLE",
    "InvalidTransition",
    "KeepAlive",
    "Observer",
    "Pinger",
    "SessionEvent",
    "SessionState",
    "SessionStateMachine",
    "default_margin",
    "describe_table",
]
