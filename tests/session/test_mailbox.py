"""The mailbox session end to end over loopback HTTPS against the simulator: the folder tree, contents,
properties, keep-alive, expiry and reconnect, a moved mailbox, RopBufferTooSmall, compression, broken answers;
plus the tree builder and a fuzz test of the response handling with a fake endpoint."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.emsmdb import ConnectResponse, ExecuteRequest, ExecuteResponse
from mapiprobe.protocol.properties import FolderId, PropertyRow, PropertyTag, PropertyValue
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import RopFailureResponse, RopReleaseRequest, decode_requests
from mapiprobe.protocol.rpcext import encode_ext_buffer, iter_ext_buffers
from mapiprobe.session import mailbox as mb
from mapiprobe.session.mailbox import (
    Folder,
    MailboxError,
    MailboxMoved,
    MailboxProgress,
    MailboxSession,
)
from mapiprobe.session.state import SessionState
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.mailbox import MailboxHandler, MailboxService
from mapiprobe.simulator.mailstore import Mailbox, StoreFolder
from mapiprobe.simulator.org import SimUser
from mapiprobe.transport.errors import ConnectionLost, HTTPFailure
from mapiprobe.transport.mapihttp import (
    BadMapiHttpResponse,
    MapiHttpResult,
    RequestCancelled,
    SessionContext,
)
from tests.hypothesis_profiles import examples
from tests.protocol.ropvectors import vector
from tests.session.simhelp import connection, real_auth

pytestmark = pytest.mark.network


# -- helpers -------------------------------------------------------------------------------------------


def mailbox_url(sim: Simulator, user: SimUser, host: str = "mail.contoso.test") -> str:
    return f"https://{host}/mapi/emsmdb/?MailboxId={user.mailbox_guid}@{sim.domain}"


def service(sim: Simulator) -> MailboxService:
    svc = sim.endpoints["emsmdb"]
    assert isinstance(svc, MailboxService)
    return svc


def handler(sim: Simulator) -> MailboxHandler:
    return service(sim).mailbox


def store(sim: Simulator, user: SimUser) -> Mailbox:
    return handler(sim).mailbox_for(user)


def session(sim: Simulator, user: SimUser | None = None, **kw: Any) -> MailboxSession:
    user = user or sim.users[0]
    kw.setdefault("connection", connection(sim, timeout=5.0))
    return MailboxSession(
        kw.pop("url", None) or mailbox_url(sim, user),
        user_dn=kw.pop("user_dn", user.legacy_dn),
        user=user.user,
        auth=kw.pop("auth", None) or real_auth(user.user, user.password),
        **kw,
    )


def emsmdb_requests(sim: Simulator) -> list[Any]:
    return [r for r in sim.requests if r.path.lower().startswith("/mapi/emsmdb/")]


@pytest.fixture
def knobs(sim: Simulator) -> Iterator[MailboxService]:
    """The mailbox service with its knobs put back after the test."""
    svc = service(sim)
    saved = (svc.fault, svc.delay_s, svc.rtt_s, svc.lifetime_s, svc.pending_period_ms)
    h = svc.mailbox
    saved_h = (h.redirects_per_user, h.compress_threshold)
    h.reset_moves()
    yield svc
    svc.fault, svc.delay_s, svc.rtt_s, svc.lifetime_s, svc.pending_period_ms = saved
    h.redirects_per_user, h.compress_threshold = saved_h


def _expected_tree(folder: StoreFolder) -> list[tuple[str, int, int, str | None]]:
    return [(f.path, len(f.messages), f.unread_count, f.container_class) for f, _ in folder.descendants()]


# -- the happy path -------------------------------------------------------------------------------------


def test_folder_tree_matches_the_store(sim: Simulator) -> None:
    user = sim.users[0]
    events: list[MailboxProgress] = []
    with session(sim, progress=events.append) as s:
        tree = s.folder_tree()
        assert s.stats.requests == 3  # Connect, Execute(RopLogon), Execute(tree batch)
        assert s.display_name == user.display_name
        assert s.folder_ids is not None and s.folder_ids.ipm_subtree == tree.folder_id
    got = [(f.path, f.content_count, f.unread_count, f.container_class) for f in tree.walk()][1:]
    assert got == _expected_tree(store(sim, user).ipm_subtree)
    inbox = next(f for f in tree.children if f.display_name == "Inbox")
    assert inbox.has_subfolders and [c.display_name for c in inbox.children] == [
        "Projects",
        "Customers",
        "Newsletters",
    ]
    assert inbox.children[0].parent_id == inbox.folder_id
    stages = [e.stage for e in events]
    assert stages[:2] == ["connect", "connect"] and "logon" in stages and stages[-1] == "disconnect"
    assert s.machine.state is SessionState.DISCONNECTED
    assert s.close_error is None


def test_contents_pages_through_the_whole_folder(sim: Simulator) -> None:
    user = sim.users[0]
    inbox = store(sim, user).specials["Inbox"]
    with session(sim, page_size=50) as s:
        pages = list(s.iter_contents("Inbox"))
        assert [len(p.items) for p in pages] == [50, 50, 20]
        assert [p.offset for p in pages] == [0, 50, 100] and pages[-1].last
        items, total = s.contents("inbox", limit=7)
        assert total == 120 and len(items) == 7
    newest_first = sorted(inbox.messages, key=lambda m: m.received, reverse=True)
    flat = [i for p in pages for i in p.items]
    assert [i.mid for i in flat] == [m.mid for m in newest_first]
    first, msg = flat[0], newest_first[0]
    assert (first.subject, first.sender, first.size, first.message_class) == (
        msg.subject,
        msg.sender_name,
        msg.size,
        msg.message_class,
    )
    assert first.received == msg.received and first.read == msg.read
    assert [i.mid for i in items] == [m.mid for m in newest_first[:7]]


def test_properties_of_a_folder_and_an_item(sim: Simulator) -> None:
    user = sim.users[0]
    projects = store(sim, user).find_path("Inbox/Projects")
    assert projects is not None
    with session(sim) as s:
        row = s.folder_properties("Inbox/Projects")
        assert row.get(0x3001001F) == "Projects"
        assert row.get(0x36020003) == 6 and row.get(0x36010003) == 1
        assert len(row.get(0x0FFF0102)) == 46
        msg = projects.messages[2]
        item = s.item_properties("Inbox/Projects", msg.mid, [0x0037001F, 0x0C1F001F, 0x00170003])
        assert item.get(0x0037001F) == msg.subject
        assert item.get(0x0C1F001F) == msg.sender_email
        assert item.get(0x00170003) == msg.importance
        with pytest.raises(MailboxError, match="no folder"):
            s.folder_properties("Inbox/Nowhere")


def test_request_headers_and_cookies_seen_by_the_server(sim: Simulator) -> None:
    """MS-OXCMAPIHTTP 2.2.2.1/2.2.3: every request is a POST with the MAPI/HTTP headers; X-RequestId keeps its
    GUID and counts up; after Connect every request carries the context cookie and the newest sequence
    cookie (the server rotates it on every answer and refuses a stale one with code 15)."""
    svc = service(sim)
    before = dict(svc.counters)
    sim.clear_requests()
    with session(sim) as s:
        s.folder_tree()
        s.contents("Inbox", limit=3)
    sent = emsmdb_requests(sim)
    # Real Negotiate (NTLM inside SPNEGO: ``normal`` offers no Basic on /mapi/): the first request goes out
    # three times (anonymous, NEGOTIATE, AUTHENTICATE), the same request each time; later ones ride the
    # authenticated connection.
    handshake = [r for r in sent if r.header("X-RequestId") == sent[0].header("X-RequestId")]
    assert [(r.header("Authorization") or "").partition(" ")[0] for r in handshake] == [
        "",
        "Negotiate",
        "Negotiate",
    ]
    reqs = [r for i, r in enumerate(sent) if i >= len(handshake) - 1]
    types = [r.header("X-RequestType") for r in reqs]
    assert (
        types[0] == "Connect"
        and types[-1] == "Disconnect"
        and set(types)
        == {
            "Connect",
            "Execute",
            "Disconnect",
        }
    )
    ids = [r.header("X-RequestId") for r in reqs]
    guids = {i.rsplit(":", 1)[0] for i in ids}
    assert len(guids) == 1
    assert [int(i.rsplit(":", 1)[1]) for i in ids] == list(range(1, len(reqs) + 1))
    assert len({r.header("X-ClientInfo") for r in reqs}) == 1
    for r in reqs:
        assert r.method == "POST"
        assert r.header("Content-Type") == "application/mapi-http"
        assert (r.header("X-ClientApplication") or "").startswith("Outlook/")
        assert not (r.header("Authorization") or "").startswith("Basic ")
    assert reqs[0].header("Cookie") is None
    sequences = []
    for r in reqs[1:]:
        cookies = dict(c.strip().split("=", 1) for c in (r.header("Cookie") or "").split(";"))
        assert set(cookies) >= {"MapiContext", "MapiSequence"}
        sequences.append(cookies["MapiSequence"])
    assert len(set(sequences)) == len(sequences)  # a new sequence value every time
    assert svc.counters.get("code-15", 0) == before.get("code-15", 0)
    # The last Execute before Disconnect released the handles still open (RopRelease only).
    last_execute = [r for r in reqs if r.header("X-RequestType") == "Execute"][-1]
    body = ExecuteRequest.decode(last_execute.body)
    assert body.flags == 0x3
    (ext,) = list(iter_ext_buffers(body.rop_buffer))
    assert all(isinstance(q, RopReleaseRequest) for q in decode_requests(RopBuffer.decode(ext.payload).rops))


# -- keep-alive, expiry, reconnect ---------------------------------------------------------------------


def test_ping_keeps_a_short_lived_context_alive(sim: Simulator) -> None:
    """With contexts that expire after 2 s of silence, the keep-alive PINGs before X-ExpirationInfo runs
    out (3.1.5.3), so a 3.5 s idle gap costs no reconnect."""
    sim.set_scenario("mailbox-expired")
    events: list[MailboxProgress] = []
    with session(sim, progress=events.append) as s:
        s.folder_tree()
        time.sleep(3.5)
        items, _ = s.contents("Inbox", limit=2)
        assert len(items) == 2
        assert s.stats.pings >= 1 and s.stats.reconnects == 0
    assert any(e.stage == "ping" for e in events)
    pings = [r for r in emsmdb_requests(sim) if r.header("X-RequestType") == "PING"]
    assert pings and all(not r.body for r in pings)


def test_expired_context_is_recovered(sim: Simulator) -> None:
    """X-ResponseCode 10: a new Connect carrying the old cookies (3.1.5.7, 3.2.5.6), RopLogon again batched
    with the retried operation, and the operation succeeds."""
    events: list[MailboxProgress] = []
    with session(sim, progress=events.append, keepalive=False) as s:
        s.folder_tree()
        old_cookie = [r for r in emsmdb_requests(sim) if r.header("Cookie")][-1].header("Cookie")
        service(sim).expire_all()
        sim.clear_requests()
        items, total = s.contents("Inbox/Projects", limit=3)
        assert total == 6 and len(items) == 3
        assert s.stats.reconnects == 1
    reqs = emsmdb_requests(sim)
    types = [r.header("X-RequestType") for r in reqs]
    assert types[:3] == ["Execute", "Connect", "Execute"]
    reconnect = reqs[1]
    # The old cookies exactly as the failed request carried them, not mixed with new ones.
    assert reconnect.header("Cookie") == reqs[0].header("Cookie")
    assert reqs[0].header("Cookie").split(";")[0] == old_cookie.split(";")[0]  # type: ignore[union-attr]
    relogon = ExecuteRequest.decode(reqs[2].body)
    (ext,) = list(iter_ext_buffers(relogon.rop_buffer))
    assert decode_requests(RopBuffer.decode(ext.payload).rops)[0].rop_id == 0xFE
    messages = [e.message for e in events if e.stage in ("reconnect", "logon")]
    assert any("X-ResponseCode 10" in m for m in messages)
    assert any("again after the reconnect" in m for m in messages)


def test_expiry_by_idle_time_without_keepalive(sim: Simulator) -> None:
    sim.set_scenario("mailbox-expired")
    with session(sim, keepalive=False) as s:
        s.folder_tree()
        time.sleep(2.3)
        assert len(s.contents("Drafts")[0]) == 3
        assert s.stats.reconnects == 1


# -- redirects, buffer sizes, compression ---------------------------------------------------------------


def test_moved_mailbox_is_followed_once(sim: Simulator, knobs: MailboxService) -> None:
    sim.set_scenario("mailbox-moved")
    asked: list[str] = []
    user = sim.users[0]

    def resolve(server_dn: str) -> str:
        asked.append(server_dn)
        return mailbox_url(sim, user, host="mail.fabrikam.test")

    events: list[MailboxProgress] = []
    with session(sim, resolve_mailbox_url=resolve, progress=events.append) as s:
        tree = s.folder_tree()
        assert s.stats.redirects == 1 and s.url.startswith("https://mail.fabrikam.test/")
    assert len(asked) == 1 and asked[0].endswith(f"/cn={user.mailbox_guid}@{sim.domain}")
    assert len(list(tree.walk())) == 27
    assert any(e.stage == "redirect" and "ecWrongServer" in e.message for e in events)
    hosts = [r.host for r in emsmdb_requests(sim)]
    assert hosts[0] == "mail.contoso.test" and hosts[-1] == "mail.fabrikam.test"


def test_moved_again_is_not_followed_twice(sim: Simulator, knobs: MailboxService) -> None:
    sim.set_scenario("mailbox-moved")
    knobs.mailbox.redirects_per_user = 5
    s = session(sim)
    with pytest.raises(MailboxMoved, match="again") as info:
        s.open()
    assert info.value.code == 0x478 and s.stats.redirects == 1


def test_without_resolver_the_same_url_is_used(sim: Simulator, knobs: MailboxService) -> None:
    sim.set_scenario("mailbox-moved")
    with session(sim) as s:
        assert s.folders()
        assert s.stats.redirects == 1 and s.url == mailbox_url(sim, sim.users[0])


def test_buffer_too_small_is_resent_with_a_larger_max_rop_out(sim: Simulator) -> None:
    """MaxRopOut 120 cannot hold the 166-byte RopLogon response: RopBufferTooSmall, resent with SizeNeeded
    (MS-OXCROPS 2.2.15.1); later Executes keep the larger value."""
    with session(sim, max_rop_out=120) as s:
        tree = s.folder_tree()
        assert s.stats.buffer_too_small >= 1 and s.max_rop_out > 120
    assert len(list(tree.walk())) == 27


def test_known_folder_ids_batch_the_logon(sim: Simulator) -> None:
    """With the folder IDs of an earlier logon, RopLogon rides in the tree batch: Connect + 1 Execute."""
    cache: dict[str, Any] = {}
    with session(sim, known_folder_ids=cache) as s:
        first = s.folder_tree()
    assert cache
    with session(sim, known_folder_ids=cache) as s:
        second = s.folder_tree()
        assert s.stats.requests == 2
    assert second == first
    # A stale cache costs one more Execute, no failure.
    key = next(iter(cache))
    cache[key] = type(cache[key])(*([FolderId(0x7777000000000001)] * 13))
    with session(sim, known_folder_ids=cache) as s:
        assert s.folder_tree() == first
        assert s.stats.requests == 3


def test_compression_on_request(sim: Simulator, knobs: MailboxService) -> None:
    knobs.mailbox.compress_threshold = 256
    sim.clear_requests()
    with session(sim, compression=True) as s:
        s.folder_tree()
        s.contents("Inbox")
        assert s.stats.compressed_responses >= 1
    flags = {
        ExecuteRequest.decode(r.body).flags
        for r in emsmdb_requests(sim)
        if r.header("X-RequestType") == "Execute"
    }
    assert flags == {0}
    assert any(st.compressed for st in knobs.mailbox.stats[-5:])
    sim.clear_requests()
    with session(sim) as s:
        s.contents("Inbox")
        assert s.stats.compressed_responses == 0
    assert not any(st.compressed for st in knobs.mailbox.stats[-3:])


def test_slow_server_sends_pending(sim: Simulator, knobs: MailboxService) -> None:
    """A server that takes its time sends PENDING every X-PendingPeriod (2.2.7); each one is reported."""
    knobs.delay_s, knobs.pending_period_ms = 0.35, 100
    events: list[MailboxProgress] = []
    started = time.monotonic()
    with session(sim, progress=events.append) as s:
        s.logon_now()
        assert s.stats.pending >= 4
    assert time.monotonic() - started < 10
    assert any(e.stage == "pending" and e.request is not None for e in events)


def test_scenarios_turn_the_service_knobs(sim: Simulator, knobs: MailboxService) -> None:
    knobs.fault = "truncate"
    for scenario, knob, value in (
        ("mailbox-slow", "delay_s", 1.2),
        ("mailbox-slow", "pending_period_ms", 300),
        ("mailbox-expired", "lifetime_s", 2.0),
        ("mailbox-503", "fault", "503"),
        ("mailbox-html", "fault", "html-200"),
    ):
        sim.set_scenario(scenario)
        assert getattr(knobs, knob) == value
    sim.set_scenario("normal")
    assert knobs.fault == "truncate" and knobs.delay_s == 0.0


# -- failures -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "error", "words"),
    [("mailbox-503", HTTPFailure, "HTTP 503"), ("mailbox-html", BadMapiHttpResponse, "HTML")],
)
def test_front_end_failures_are_clear(
    sim: Simulator, scenario: str, error: type[Exception], words: str
) -> None:
    sim.set_scenario(scenario)
    started = time.monotonic()
    s = session(sim)
    with pytest.raises(error, match=words):
        s.open()
    assert time.monotonic() - started < 5
    assert s.machine.state is SessionState.FAILED


@pytest.mark.parametrize("fault", ["truncate", "drop"])
def test_broken_answers_mid_session_are_clear(sim: Simulator, knobs: MailboxService, fault: str) -> None:
    started = time.monotonic()
    with session(sim) as s:
        s.logon_now()
        knobs.fault = fault  # type: ignore[assignment]
        with pytest.raises(ConnectionLost) as info:
            s.folder_tree()
        knobs.fault = None
    assert time.monotonic() - started < 8
    text = str(info.value)
    assert ("cut off" in text) if fault == "truncate" else ("closed" in text or "without" in text)


def test_connect_for_another_user_is_refused(sim: Simulator) -> None:
    alice, bob = sim.users[0], sim.users[1]
    with pytest.raises(MailboxError, match="LogonFailed") as info:
        session(sim, alice, user_dn=bob.legacy_dn).open()
    assert info.value.code == 0x80040111 and info.value.stage == "connect"
    with pytest.raises(MailboxError, match="UnknownUser"):
        session(sim, alice, user_dn="/o=Nowhere/cn=nobody").open()


def test_cancel_stops_before_the_next_request(sim: Simulator) -> None:
    cancel = threading.Event()
    with session(sim, cancel=cancel) as s:
        s.logon_now()
        cancel.set()
        with pytest.raises(RequestCancelled):
            s.folder_tree()


def test_state_transitions_follow_the_table(sim: Simulator) -> None:
    seen: list[tuple[str, str, str]] = []
    s = session(sim, keepalive=False)
    s.machine.add_observer(lambda old, ev, new: seen.append((old.value, ev.value, new.value)))
    with s:
        s.folder_tree()
        service(sim).expire_all()
        s.folder_tree(refresh=True)
    assert seen == [
        ("disconnected", "connect", "connecting"),
        ("connecting", "connect-ok", "connected"),
        ("connected", "context-expired", "expired"),
        ("expired", "reconnect", "reconnecting"),
        ("reconnecting", "connect-ok", "connected"),
        ("connected", "disconnect-ok", "disconnected"),
    ]


# -- offline: the tree builder and paths ---------------------------------------------------------------


def _row(name: str, fid: int, parent: int | None, depth: int) -> PropertyRow:
    values = [
        PropertyValue(PropertyTag(0x3001001F), name),
        PropertyValue(PropertyTag(0x67480014), FolderId(fid)),
        PropertyValue(PropertyTag(0x30050003), depth),
    ]
    if parent is not None:
        values.append(PropertyValue(PropertyTag(0x67490014), FolderId(parent)))
    return PropertyRow(0, tuple(values))


@pytest.mark.parametrize("base", [0, 1])
def test_tree_from_depth_alone(base: int) -> None:
    """A server without PidTagParentFolderId: the tree comes from PidTagDepth (0- or 1-based)."""
    rows = [
        _row("A", 2, None, base),
        _row("A1", 3, None, base + 1),
        _row("A1x", 4, None, base + 2),
        _row("A2", 5, None, base + 1),
        _row("B/C", 6, None, base),
    ]
    tree = mb._build_tree(FolderId(1), rows)
    assert [f.path for f in tree.walk()] == ["", "A", "A/A1", "A/A1/A1x", "A/A2", "B\\/C"]
    assert mb._split_path("B\\/C") == ["B/C"]
    assert mb._split_path("/Inbox//Projects/") == ["Inbox", "Projects"]
    assert [f.depth for f in tree.walk()] == [-1, 0, 1, 2, 1, 0]


def test_tree_prefers_parent_ids() -> None:
    rows = [_row("A", 2, 1, 5), _row("B", 3, 1, 9), _row("B1", 4, 3, 0)]
    tree = mb._build_tree(FolderId(1), rows)
    assert [f.path for f in tree.walk()] == ["", "A", "B", "B/B1"]
    assert isinstance(tree.children[1].children[0], Folder)


# -- fuzzing the response handling with a fake endpoint -------------------------------------------------


class _FakeEndpoint:
    """Answers Connect properly and every Execute with the bytes under test."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def request(self, request_type: str, body: bytes, *, context: SessionContext, cancel: Any = None) -> Any:
        answer = ConnectResponse(display_name="x").encode() if request_type == "Connect" else self.body
        return MapiHttpResult(
            200, 0, "Success", None, answer, 0, (), (), None, 900000, None, None, None, "", None
        )


def _fuzz_session(body: bytes) -> MailboxSession:
    s = MailboxSession("https://fake.invalid/mapi/emsmdb/?MailboxId=x", user_dn="/o=x/cn=u", keepalive=False)
    s._endpoint = _FakeEndpoint(body)  # type: ignore[assignment]
    s._connect(SessionContext(), mb.SessionEvent.CONNECT)
    return s


_GOOD = ExecuteResponse(
    rop_buffer=encode_ext_buffer(
        RopBuffer(RopFailureResponse(0xFE, 0, 0x3EB).to_bytes(), (0xFFFFFFFF,)).encode()
    )
).encode()


def _mutated(changes: list[tuple[int, int]]) -> bytes:
    data = bytearray(_GOOD)
    for pos, value in changes:
        data[pos % len(data)] = value
    return bytes(data)


@settings(max_examples=examples(2000), suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=120),
        st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=3).map(_mutated),
    )
)
def test_fuzz_execute_answers_only_raise_mailbox_errors(body: bytes) -> None:
    """Whatever an Execute answer holds, the session raises MailboxError (or succeeds), nothing else."""
    s = _fuzz_session(body)
    with contextlib.suppress(MailboxError):
        s.logon_now()


# -- spec buffers through the session's Execute handling ------------------------------------------------


class _ScriptedEndpoint:
    """Connect succeeds; each Execute answers with the next ROP output buffer of a script."""

    def __init__(self, outputs: list[bytes]) -> None:
        self.outputs = outputs
        self.sent: list[ExecuteRequest] = []

    def request(self, request_type: str, body: bytes, *, context: SessionContext, cancel: Any = None) -> Any:
        if request_type == "Connect":
            answer = ConnectResponse(display_name="x").encode()
        else:
            self.sent.append(ExecuteRequest.decode(body))
            answer = ExecuteResponse(rop_buffer=encode_ext_buffer(self.outputs.pop(0))).encode()
        return MapiHttpResult(
            200, 0, "Success", None, answer, 0, (), (), None, 900000, None, None, None, "", None
        )


def _scripted(outputs: list[bytes]) -> tuple[MailboxSession, _ScriptedEndpoint]:
    endpoint = _ScriptedEndpoint(outputs)
    s = MailboxSession("https://fake.invalid/mapi/emsmdb/?MailboxId=x", user_dn="/o=x/cn=u", keepalive=False)
    s._endpoint = endpoint  # type: ignore[assignment]
    s._connect(SessionContext(), mb.SessionEvent.CONNECT)
    s._logon_handle = 0x0A  # as if logged on (slot 0 holds the Logon object)
    return s, endpoint


def test_ropbackoff_in_the_output_is_skipped() -> None:
    """MS-OXCROPS 4.7: RopOpenFolder's response followed by a server-generated RopBackoff; the session takes
    the folder's handle from the table and ignores the RopBackoff. MS-OXCROPS 4.6: the same after a
    RopSetColumns response."""
    s, _ = _scripted(
        [vector("oxcrops_4_7_ropbackoff_response"), vector("oxcrops_4_6_logon_ropbackoff_response")]
    )
    batch = s._batch()
    slot = batch.slot()
    open_req = batch.add(mb.RopOpenFolderRequest(0, 0, slot, FolderId(0x0200000000000001)))
    outcome = s._send(batch)
    assert outcome.table == (0x0A, 0x24)
    assert outcome.of(open_req) is not None and outcome.of(open_req).rop_id == 0x02  # type: ignore[union-attr]
    batch = s._batch()
    batch.table[0] = 0x28
    set_req = batch.add(mb.RopSetColumnsRequest(0, 0, 0, (PropertyTag(0x3001001F),)))
    outcome = s._send(batch)
    assert outcome.of(set_req) is not None and len(outcome.responses) == 1


def test_second_page_request_is_the_spec_queryrows() -> None:
    """The RopQueryRows that asks for the next page of a 50-row-page table in slot 1 is, byte for byte, the
    request of MS-OXORULE 4.2.1 (LogonId 0, InputHandleIndex 1, Advance, forward, 50 rows)."""
    row = PropertyRow.build(
        mb.CONTENTS_COLUMNS,
        {
            0x0037001F: "s",
            0x0C1A001F: "a",
            0x0E060040: 0,
            0x0E080003: 1,
            0x001A001F: "IPM.Note",
            0x674A0014: 7,
            0x0E070003: 1,
        },
    )
    query = mb.RopQueryRowsResponse(2, 0x01, (row,), mb.CONTENTS_COLUMNS).to_bytes()  # BOOKMARK_CURRENT
    opened = bytes.fromhex("02 01 00000000 00 0005 02 00000000 7800000012 02 00000000 00")
    first_page = RopBuffer(opened + query, (0x0A, 0x30, 0x31)).encode()
    second = RopBuffer(bytes.fromhex("15 01 00000000 02 0000"), (0x0A, 0x31)).encode()
    s, endpoint = _scripted([first_page, second])
    pages = list(s.iter_contents(FolderId(0x0200000000000001), page_size=50))
    assert len(pages) == 2 and pages[-1].last
    (ext,) = list(iter_ext_buffers(endpoint.sent[1].rop_buffer))
    buf = RopBuffer.decode(ext.payload)
    assert buf.rops == vector("oxorule_4_2_1_queryrows_request")
    assert buf.server_object_handle_table == (0x0A, 0x31)


def test_xor_and_compressed_answers_are_accepted() -> None:
    """MS-OXCRPC 3.1.4.1.1: a server may obfuscate (XorMagic) and compress its output even when it should
    not; the session un-XORs and decompresses whatever arrives."""
    answer = RopBuffer(bytes.fromhex("12 00 00000000 00") * 40, (0x0A,)).encode()
    s, endpoint = _scripted([])
    endpoint.outputs = []

    def request(request_type: str, body: bytes, *, context: SessionContext, cancel: Any = None) -> Any:
        rop_buffer = encode_ext_buffer(answer, compress=True, xor=True)
        data = ExecuteResponse(rop_buffer=rop_buffer).encode()
        return MapiHttpResult(
            200, 0, "Success", None, data, 0, (), (), None, 900000, None, None, None, "", None
        )

    endpoint.request = request  # type: ignore[method-assign]
    batch = s._batch()
    reqs = [batch.add(mb.RopSetColumnsRequest(0, 0, 0, (PropertyTag(0x3001001F),))) for _ in range(40)]
    outcome = s._send(batch)
    assert all(outcome.of(r) is not None for r in reqs)
    assert s.stats.xor_responses == 1 and s.stats.compressed_responses == 1
