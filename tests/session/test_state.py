"""The session state table (every allowed pair, every forbidden one) and the KeepAlive PING thread."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from mapiprobe.session.state import (
    TABLE,
    InvalidTransition,
    KeepAlive,
    SessionEvent,
    SessionState,
    SessionStateMachine,
    default_margin,
    describe_table,
)
from mapiprobe.transport.mapihttp import ContextExpired, MapiHttpEndpoint, MapiHttpResult, SessionContext
from tests.transport.mapihttp_support import EchoSim, echo_sim

ALLOWED = sorted(TABLE.items(), key=lambda item: (item[0][0].value, item[0][1].value))
FORBIDDEN = [
    (state, event)
    for state, event in itertools.product(SessionState, SessionEvent)
    if (state, event) not in TABLE
]


# --------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pair", "new"), ALLOWED, ids=[f"{s.value}+{e.value}" for (s, e), _ in ALLOWED])
def test_every_listed_pair(pair: tuple[SessionState, SessionEvent], new: SessionState) -> None:
    state, event = pair
    machine = SessionStateMachine("t", initial=state)
    seen: list[tuple[SessionState, SessionEvent, SessionState]] = []
    machine.add_observer(lambda *args: seen.append(args))
    assert machine.can(event)
    assert machine.fire(event) is new
    assert machine.state is new
    assert seen == [(state, event, new)]
    assert machine.history[-1][1:] == (state, event, new)


@pytest.mark.parametrize(("state", "event"), FORBIDDEN, ids=[f"{s.value}+{e.value}" for s, e in FORBIDDEN])
def test_every_unlisted_pair_raises(state: SessionState, event: SessionEvent) -> None:
    machine = SessionStateMachine("t", initial=state)
    seen: list[object] = []
    machine.add_observer(lambda *args: seen.append(args))
    assert not machine.can(event)
    with pytest.raises(InvalidTransition) as info:
        machine.fire(event)
    assert info.value.state is state and info.value.event is event
    assert event.value in str(info.value) and state.value in str(info.value)
    assert machine.state is state and not seen and not machine.history
    assert machine.try_fire(event) is None


def test_table_shape() -> None:
    assert len(ALLOWED) + len(FORBIDDEN) == len(SessionState) * len(SessionEvent)
    reachable = {SessionState.DISCONNECTED} | set(TABLE.values())
    assert reachable == set(SessionState)  # no state is unreachable
    for state in SessionState:
        assert any(s is state for s, _ in TABLE), f"{state} is a dead end"
    assert len(describe_table().splitlines()) == len(TABLE)


def test_a_whole_life() -> None:
    m = SessionStateMachine("mailbox")
    for event in (
        SessionEvent.CONNECT,
        SessionEvent.CONNECT_OK,
        SessionEvent.PING_DUE,
        SessionEvent.PING_OK,
        SessionEvent.CONTEXT_EXPIRED,
        SessionEvent.RECONNECT,
        SessionEvent.CONNECT_OK,
        SessionEvent.DISCONNECT_OK,
    ):
        m.fire(event)
    assert m.state is SessionState.DISCONNECTED
    assert [h[3] for h in m.history][-3:] == [
        SessionState.RECONNECTING,
        SessionState.CONNECTED,
        SessionState.DISCONNECTED,
    ]


def test_observer_removal_and_thread_safety() -> None:
    m = SessionStateMachine(initial=SessionState.CONNECTED)
    seen: list[object] = []
    remove = m.add_observer(lambda *args: seen.append(args))
    remove()
    remove()
    fired: list[SessionState | None] = []

    def ping_cycle() -> None:
        for _ in range(200):
            if m.try_fire(SessionEvent.PING_DUE) is not None:
                fired.append(m.try_fire(SessionEvent.PING_OK))

    threads = [threading.Thread(target=ping_cycle) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not seen
    assert m.state in (SessionState.CONNECTED, SessionState.IDLE_PINGING)
    pairs = [(h[1], h[2]) for h in m.history]
    for (old, _event), (next_old, _) in itertools.pairwise(pairs):
        assert old is not next_old  # strictly alternating: every transition saw the state it expected


def test_default_margin() -> None:
    assert default_margin(2.0) == pytest.approx(0.4)
    assert default_margin(0.5) == 0.3
    assert default_margin(900) == 60


# --------------------------------------------------------------------------------------------------
# KeepAlive over loopback TLS
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _echo() -> Iterator[EchoSim]:
    with echo_sim() as echo:
        yield echo


@pytest.fixture
def echo(_echo: EchoSim) -> Iterator[EchoSim]:
    _echo.reset()
    yield _echo
    errors = list(_echo.sim.errors)
    _echo.reset()
    assert not errors, errors


@pytest.fixture
def endpoint(echo: EchoSim) -> Iterator[MapiHttpEndpoint]:
    ep = echo.endpoint()
    yield ep
    ep.client.close()


def _connected(endpoint: MapiHttpEndpoint) -> tuple[SessionContext, SessionStateMachine]:
    machine = SessionStateMachine("echo")
    machine.fire(SessionEvent.CONNECT)
    ctx = SessionContext()
    endpoint.request("Connect", b"", context=ctx)
    machine.fire(SessionEvent.CONNECT_OK)
    return ctx, machine


@pytest.mark.network
def test_keepalive_keeps_a_2_second_context_alive_across_5_idle_seconds(
    echo: EchoSim, endpoint: MapiHttpEndpoint
) -> None:
    echo.service.lifetime_s = 2.0
    ctx, machine = _connected(endpoint)
    pings: list[MapiHttpResult] = []
    with KeepAlive(endpoint, ctx, machine=machine, on_ping=pings.append, poll_s=0.2) as keepalive:
        time.sleep(5.0)
    assert not keepalive.running and keepalive.error is None
    assert 2 <= keepalive.pings <= 8 and len(pings) == keepalive.pings
    assert len(echo.received("PING")) == keepalive.pings
    assert endpoint.request("Execute", b"still here", context=ctx).body == b"echo:still here"
    assert machine.state is SessionState.CONNECTED
    events = [h[2] for h in machine.history]
    assert events.count(SessionEvent.PING_DUE) == events.count(SessionEvent.PING_OK) == keepalive.pings
    assert "code-15" not in echo.service.counters and "code-10" not in echo.service.counters


@pytest.mark.network
def test_without_keepalive_the_context_expires(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.lifetime_s = 0.5
    ctx, _ = _connected(endpoint)
    time.sleep(0.8)
    with pytest.raises(ContextExpired):
        endpoint.request("Execute", b"", context=ctx)


@pytest.mark.network
def test_keepalive_waits_while_a_request_runs(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.lifetime_s = 1.0
    echo.service.pending_period_ms = 200
    ctx, machine = _connected(endpoint)
    with KeepAlive(endpoint, ctx, machine=machine, poll_s=0.1) as keepalive:
        assert endpoint.request("Slow", b"1.5", context=ctx).body == b"slow:1.5"
        time.sleep(0.3)
    assert keepalive.error is None
    assert "code-15" not in echo.service.counters  # never a PING beside the running request
    assert endpoint.request("Execute", b"", context=ctx).body == b"echo:"


@pytest.mark.network
def test_keepalive_reports_an_expired_context_and_stops(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.lifetime_s = 1.0
    ctx, machine = _connected(endpoint)
    echo.service.expire_all()  # as if the server had restarted
    errors: list[BaseException] = []
    keepalive = KeepAlive(endpoint, ctx, machine=machine, on_error=errors.append, poll_s=0.1).start()
    deadline = time.monotonic() + 3
    while keepalive.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not keepalive.running
    assert isinstance(keepalive.error, ContextExpired) and errors == [keepalive.error]
    assert machine.state is SessionState.EXPIRED
    assert ctx.expired
    keepalive.stop()


@pytest.mark.network
def test_keepalive_reports_a_transport_failure(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    echo.service.lifetime_s = 1.0
    ctx, machine = _connected(endpoint)
    echo.service.fault = "503"
    keepalive = KeepAlive(endpoint, ctx, machine=machine, poll_s=0.1).start()
    deadline = time.monotonic() + 3
    while keepalive.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert machine.state is SessionState.FAILED
    assert keepalive.error is not None and "503" in str(keepalive.error)


@pytest.mark.network
def test_keepalive_stops_promptly(echo: EchoSim, endpoint: MapiHttpEndpoint) -> None:
    ctx, machine = _connected(endpoint)  # 15-minute lifetime: nothing to do for a long time
    keepalive = KeepAlive(endpoint, ctx, machine=machine).start()
    time.sleep(0.1)
    start = time.monotonic()
    keepalive.stop()
    keepalive.stop()
    assert time.monotonic() - start < 1.5
    assert not keepalive.running and keepalive.pings == 0
    assert machine.state is SessionState.CONNECTED
