"""The address book session end to end over loopback HTTPS against the simulator: Bind, hierarchy, paging to
the end, positioning without reading what lies before, details, check names (three outcomes), keep-alive,
expiry and reconnect, bad bodies and faults from the server, cancelling; plus the pure helpers."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol import nspi as N
from mapiprobe.protocol.nspi_types import (
    MID_END_OF_TABLE,
    MID_RESOLVED,
    EphemeralEntryId,
    PermanentEntryId,
)
from mapiprobe.protocol.properties import PropertyRow, PropertyTag
from mapiprobe.session.addressbook import (
    AMBIGUOUS,
    ENTRY_COLUMNS,
    RESOLVED,
    UNRESOLVED,
    AbEntry,
    AddressBookError,
    AddressBookSession,
    BadAddressBookResponse,
    NotBound,
    ProgressEvent,
    anr_restriction,
    entry_from_row,
)
from mapiprobe.session.state import SessionState
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.mapihttp import MapiHttpService
from mapiprobe.simulator.nspi import NspiHandler
from mapiprobe.transport.errors import AuthenticationFailed, TransportError
from mapiprobe.transport.mapihttp import BadMapiHttpResponse, ContextExpired, RequestCancelled
from tests.hypothesis_profiles import examples
from tests.session.simhelp import connection, real_auth

ANR = 0x360C001F
DATA = Path(__file__).resolve().parents[1] / "data"


def nspi_url(sim: Simulator, user: int = 0) -> str:
    return f"https://mail.contoso.test/mapi/nspi/?MailboxId={sim.users[user].mailbox_guid}@contoso.test"


@pytest.fixture
def service(sim: Simulator) -> Iterator[MapiHttpService]:
    svc = sim.endpoints["nspi"]
    yield svc
    svc.fault = None
    svc.lifetime_s = 900.0
    svc.delay_s = 0.0
    handler = svc.handler
    assert isinstance(handler, NspiHandler)
    handler.mangle = None


@pytest.fixture
def handler(service: MapiHttpService) -> NspiHandler:
    h = service.handler
    assert isinstance(h, NspiHandler)
    return h


def open_session(sim: Simulator, **kwargs: object) -> AddressBookSession:
    user = sim.users[0]
    kwargs.setdefault("keepalive", False)
    return AddressBookSession(
        nspi_url(sim),
        user=user.user,
        auth=real_auth(user.user, user.password),
        connection=connection(sim, timeout=5.0),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def ab(sim: Simulator, service: MapiHttpService) -> Iterator[AddressBookSession]:
    session = open_session(sim)
    session.bind()
    yield session
    session.close()


# -- Bind, hierarchy, Unbind ---------------------------------------------------------------------------


def test_bind_hierarchy_unbind(sim: Simulator, service: MapiHttpService) -> None:
    events: list[ProgressEvent] = []
    states: list[SessionState] = []
    session = open_session(sim, progress=events.append)
    session.machine.add_observer(lambda old, event, new: states.append(new))
    with session:
        info = session.bind_info
        assert info is not None and info.expiration_ms == 900_000
        assert info.server_application == sim.org.server_application
        assert session.server_guid == service.handler.server_guid  # type: ignore[attr-defined]
        assert session.context is not None
        assert {n.lower() for n in session.context.cookie_names()} == {"mapicontext", "mapisequence"}
        lists = session.address_lists()
        assert [a.name for a in lists] == [
            "Global Address List",
            "All Address Lists",
            "All Contacts",
            "All Distribution Lists",
            "All Rooms",
            "All Users",
        ]
        assert lists[0].container_id == 0 and lists[0].has_recipients
        assert not lists[1].has_recipients and lists[1].has_subcontainers
        assert lists[5].depth == 1 and lists[5].dn is not None and lists[5].dn.endswith("cn=All Users")
        found = session.find_list("all rooms")
        assert found is not None and found.container_id == 0x103
        assert session.find_list("No Such List") is None
    assert states == [SessionState.CONNECTING, SessionState.CONNECTED, SessionState.DISCONNECTED]
    assert session.state is SessionState.DISCONNECTED
    assert [e.stage for e in events][:1] == ["bind"] and events[-1].stage == "unbind"
    types = [r.header("X-RequestType") for r in sim.requests if "/mapi/nspi/" in r.path]
    assert types[0] == "Bind" and types[-1] == "Unbind"


def test_not_bound(sim: Simulator, service: MapiHttpService) -> None:
    session = open_session(sim)
    with pytest.raises(NotBound):
        session.address_lists()
    info = session.bind()
    assert session.bind() is info  # already bound: the same binding
    session.close()


def test_wrong_password(sim: Simulator, service: MapiHttpService) -> None:
    session = AddressBookSession(
        nspi_url(sim), user="alice", auth=real_auth("alice", "wrong"), connection=connection(sim)
    )
    with pytest.raises(AuthenticationFailed):
        session.bind()
    assert session.state is SessionState.FAILED
    session.endpoint.auth = None  # (no credentials at all now: still a failure, from the FAILED state)
    with pytest.raises(TransportError):
        session.bind()
    session.close()
    assert session.state is SessionState.DISCONNECTED


# -- pages ---------------------------------------------------------------------------------------------


def test_paging_to_the_end_total_agrees(ab: AddressBookSession, handler: NspiHandler) -> None:
    directory = handler.directory
    entries: list[AbEntry] = []
    positions: list[int] = []
    totals: set[int] = set()
    for page in ab.iter_pages(page_size=300):
        positions.append(page.position)
        totals.add(page.total)
        entries.extend(page.entries)
    assert totals == {len(directory)} == {ab.count()}
    assert positions == list(range(0, len(directory), 300))
    assert [e.display_name for e in entries] == [e.display_name for e in directory.gal.entries]
    assert [e.mid for e in entries] == [e.mid for e in directory.gal.entries]
    first = entries[0]
    gal_first = directory.gal.entries[0]
    assert first.smtp_address == gal_first.smtp_address and first.title == gal_first.title
    assert first.department == gal_first.department and first.office == gal_first.office
    assert first.phone == gal_first.phone and first.account == gal_first.alias
    assert isinstance(first.entry_id, bytes) and first.entry_id[0] == 0x87  # ephemeral (fEphID)


def test_paging_is_lazy(ab: AddressBookSession, service: MapiHttpService) -> None:
    before = service.counters.get("QueryRows", 0)
    pages = ab.iter_pages(page_size=10)
    assert service.counters.get("QueryRows", 0) == before  # nothing fetched before it is asked for
    first = next(pages)
    second = next(pages)
    assert service.counters["QueryRows"] - before == 2
    assert second.position == first.next_position == 10
    limited = list(ab.iter_pages(0x103, page_size=4, limit=10))
    assert [len(p.entries) for p in limited] == [4, 4, 2]
    assert all(e.display_name and e.display_name.startswith("Conf Room") for p in limited for e in p.entries)


def test_page_in_the_middle_reads_only_that_page(
    ab: AddressBookSession, service: MapiHttpService, handler: NspiHandler
) -> None:
    gal = handler.directory.gal.entries
    before = service.counters.get("QueryRows", 0)
    page = ab.page(start=1000, count=5)
    assert service.counters["QueryRows"] - before == 1
    assert page.position == 1000 and [e.mid for e in page.entries] == [e.mid for e in gal[1000:1005]]
    assert page.stat.current_rec == gal[1005].mid and page.total == len(gal)
    after = ab.next_page(page, 3)
    assert after.position == 1005 and [e.mid for e in after.entries] == [e.mid for e in gal[1005:1008]]
    last = ab.page(start=len(gal) - 2, count=10)
    assert len(last.entries) == 2 and last.at_end and last.stat.current_rec == MID_END_OF_TABLE
    beyond = ab.next_page(last)
    assert beyond.entries == () and beyond.at_end
    with pytest.raises(ValueError):
        ab.page(start=-1)


def test_fractional_and_name_seek(ab: AddressBookSession, handler: NspiHandler) -> None:
    gal = handler.directory.gal
    middle = ab.seek_fraction(1, 2)
    assert middle.position == len(gal) // 2 and middle.total == len(gal)
    assert middle.mid == gal.entries[middle.position].mid
    rows = ab.page_at(middle, 3)
    assert rows.position == middle.position and [e.mid for e in rows.entries] == [
        e.mid for e in gal.entries[middle.position : middle.position + 3]
    ]
    end = ab.seek_fraction(1, 1)
    assert end.mid == MID_END_OF_TABLE and ab.page_at(end).entries == ()
    found = ab.seek("M")
    assert found.position == gal.seek("M")
    assert ab.page_at(found, 1).entries[0].display_name == gal.entries[found.position].display_name
    with pytest.raises(AddressBookError) as info:
        ab.seek("\uffff")
    assert info.value.error_name == "NotFound"
    with pytest.raises(ValueError):
        ab.seek_fraction(3, 2)


def test_rooms_list(ab: AddressBookSession, handler: NspiHandler) -> None:
    rooms = handler.directory.container(0x103)
    assert rooms is not None
    got = list(ab.iter_entries(0x103, page_size=50))
    assert len(got) == len(rooms) == ab.count(0x103)
    assert {e.display_type for e in got} == {0}


# -- details, names ------------------------------------------------------------------------------------


def test_details(ab: AddressBookSession, handler: NspiHandler) -> None:
    wilber = handler.directory.find_smtp("alex.wilber2@contoso.test")
    assert wilber is not None
    details = ab.details(wilber.mid)
    assert details.entry.display_name == "Alex Wilber" and details.entry.mid == wilber.mid
    assert details.entry.smtp_address == "alex.wilber2@contoso.test" and details.entry.title == wilber.title
    assert details.error_code == 0
    tags = {int(pv.tag) for pv in details.properties}
    assert 0x3003001F in tags and 0x800F101F in tags  # EmailAddress (legacy DN), proxy addresses
    entry_id = details.entry.entry_id
    assert entry_id is not None
    from mapiprobe.protocol.nspi_types import parse_entry_id

    permanent = parse_entry_id(entry_id)
    assert isinstance(permanent, PermanentEntryId) and permanent.distinguished_name == wilber.legacy_dn
    some = ab.details(wilber.mid, [0x3A1C001F, 0x7FFF001F])
    assert some.error_code == 0x00040380 and all(pv.tag.prop_type == 0x000A for pv in some.properties[1:])
    with pytest.raises(AddressBookError):
        ab.details(0x0FFFFFFF)


def test_resolve_three_outcomes(ab: AddressBookSession) -> None:
    results = ab.resolve(["alice@contoso.test", "Alex Wilber", "nobody-at-all", "Bob Bergstrom"])
    assert [r.status for r in results] == [RESOLVED, AMBIGUOUS, UNRESOLVED, RESOLVED]
    alice, wilber, nobody, bob = results
    assert alice.entry is not None and alice.entry.display_name == "Alice Anders" and alice.entry.mid
    assert bob.entry is not None and bob.entry.smtp_address == "bob@contoso.test"
    assert sorted(c.smtp_address or "" for c in wilber.candidates) == [
        "alex.wilber2@contoso.test",
        "alex.wilber@contoso.test",
    ]
    assert wilber.candidates_complete and all(c.mid for c in wilber.candidates)
    assert nobody.entry is None and nobody.candidates == ()
    assert ab.resolve([]) == []
    json_view = wilber.to_json()
    assert json_view["status"] == "ambiguous" and len(json_view["candidates"]) == 2


def test_resolve_with_too_many_candidates(ab: AddressBookSession) -> None:
    (smith,) = ab.resolve(["Smith"], candidate_limit=2)
    assert smith.status == AMBIGUOUS and not smith.candidates_complete and smith.candidates == ()
    assert smith.note is not None and "more than 2" in smith.note
    (quick,) = ab.resolve(["Smith"], candidates=False)
    assert quick.status == AMBIGUOUS and not quick.candidates_complete


def test_resolve_gromox_mid_resolved(ab: AddressBookSession, handler: NspiHandler) -> None:
    """gromox answers MID_RESOLVED (2) instead of the MId (PROTOCOL.md §10): resolved, with a note."""
    columns = tuple(PropertyTag(c) for c in ENTRY_COLUMNS)
    row = PropertyRow.build(columns, {0x3001001F: "Bob", 0x39FE001F: "bob@contoso.test"} | _errors(columns))
    crafted = N.ResolveNamesResponse(
        code_page=1200, minimal_ids=(MID_RESOLVED,), property_tags=columns, row_data=(row,)
    ).encode(has_true=0xFF)
    handler.mangle = lambda request_type, body: crafted if request_type == "ResolveNames" else body
    (bob,) = ab.resolve(["bob"])
    assert bob.status == RESOLVED and bob.entry is not None
    assert (
        bob.entry.mid is None and bob.entry.display_name == "Bob" and bob.note and "MID_RESOLVED" in bob.note
    )


def _errors(columns: tuple[PropertyTag, ...]) -> dict[int, object]:
    from mapiprobe.protocol.properties import ErrorValue

    return {int(c): ErrorValue(0x8004010F) for c in columns if int(c) not in (0x3001001F, 0x39FE001F)}


def test_urls_and_dn_to_mid(ab: AddressBookSession, sim: Simulator, handler: NspiHandler) -> None:
    user = sim.users[0]
    assert ab.mailbox_url("/o=Contoso/cn=Servers/cn=x") == (
        f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={user.mailbox_guid}@contoso.test"
    )
    assert ab.address_book_url(user.legacy_dn) == nspi_url(sim)
    bob = handler.directory.find_dn(sim.users[1].legacy_dn)
    assert bob is not None
    assert ab.dn_to_mid([sim.users[1].legacy_dn, "/o=none"]) == [bob.mid, 0]


# -- keep-alive, expiry, reconnect ---------------------------------------------------------------------


def test_keepalive_pings_before_expiry(sim: Simulator, service: MapiHttpService) -> None:
    service.lifetime_s = 1.5
    events: list[ProgressEvent] = []
    with open_session(sim, keepalive=True, progress=events.append) as session:
        time.sleep(3.2)  # twice the lifetime: without PINGs the context would be gone
        assert service.counters.get("PING", 0) >= 1
        assert any(e.stage == "keepalive" for e in events)
        assert session.address_lists()
        assert session.reconnects == 0


def test_expiry_and_reconnect(ab: AddressBookSession, sim: Simulator, service: MapiHttpService) -> None:
    page = ab.page(start=100, count=5)
    old_binds = service.counters.get("Bind", 0)
    service.expire_all()  # as if the idle timer ran out (3.2.6)
    sim.clear_requests()
    again = ab.next_page(page, 5)  # X-ResponseCode 10 -> Bind (old cookies) -> the same QueryRows again
    assert again.position == 105 and len(again.entries) == 5
    assert ab.reconnects == 1 and ab.state is SessionState.CONNECTED
    assert service.counters["Bind"] == old_binds + 1
    types = [r.header("X-RequestType") for r in sim.requests]
    assert types == ["QueryRows", "Bind", "QueryRows"]
    rebind = sim.requests[1]
    assert "MapiContext=" in (rebind.header("Cookie") or "")  # the reconnect carries the old cookies
    after = sim.requests[2].header("Cookie") or ""
    assert after and after != rebind.header("Cookie")  # and then only the new ones


def test_keepalive_finds_the_context_gone(sim: Simulator, service: MapiHttpService) -> None:
    service.lifetime_s = 1.0
    with open_session(sim, keepalive=True) as session:
        service.expire_all()  # the PING that comes next gets X-ResponseCode 10
        deadline = time.monotonic() + 5
        while session.state is not SessionState.EXPIRED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.state is SessionState.EXPIRED
        assert session.address_lists()  # the next request binds again first
        assert session.reconnects == 1 and session.state is SessionState.CONNECTED


def test_expiry_without_reconnect(sim: Simulator, service: MapiHttpService) -> None:
    with open_session(sim, reconnect=False) as session:
        service.expire_all()
        with pytest.raises(ContextExpired):
            session.address_lists()
        assert session.state is SessionState.EXPIRED
        with pytest.raises(NotBound):
            session.address_lists()
        session.reconnect()
        assert session.address_lists() and session.state is SessionState.CONNECTED


# -- bad answers and faults ----------------------------------------------------------------------------


def test_truncated_body_from_the_server(ab: AddressBookSession, handler: NspiHandler) -> None:
    handler.mangle = lambda request_type, body: body[:-20] if request_type == "QueryRows" else body
    with pytest.raises(BadAddressBookResponse) as info:
        ab.page(count=5)
    exc = info.value
    assert exc.request_type == "QueryRows" and exc.error.offset is not None
    assert exc.partial.get("StatusCode") == 0 and "Columns" in exc.partial
    handler.mangle = None
    assert ab.page(count=1).entries  # the session is still usable


def test_trailing_bytes_and_failure_bodies(ab: AddressBookSession, handler: NspiHandler) -> None:
    handler.mangle = lambda request_type, body: body + b"\x00" if request_type == "GetSpecialTable" else body
    with pytest.raises(BadAddressBookResponse):
        ab.address_lists()
    failure = struct.pack("<II", 0x80004005, 0)  # StatusCode != 0: the failure form (PROTOCOL.md §6.1)
    handler.mangle = lambda request_type, body: failure if request_type == "GetSpecialTable" else body
    with pytest.raises(AddressBookError) as info:
        ab.address_lists()
    assert info.value.status_code == 0x80004005 and "StatusCode" in str(info.value)


def test_proxy_page_instead_of_an_answer(ab: AddressBookSession, service: MapiHttpService) -> None:
    service.fault = "html-200"
    with pytest.raises(BadMapiHttpResponse):
        ab.address_lists()
    assert ab.state is SessionState.FAILED
    service.fault = None
    assert ab.address_lists()  # the next request reconnects (3.1.7.2) and goes on
    assert ab.state is SessionState.CONNECTED and ab.reconnects == 1


def test_server_error_page(ab: AddressBookSession, service: MapiHttpService) -> None:
    service.fault = "503"
    with pytest.raises(TransportError) as info:
        ab.page(count=1)
    assert "503" in str(info.value)


def test_cancel(sim: Simulator, service: MapiHttpService) -> None:
    cancel = threading.Event()
    with open_session(sim, cancel=cancel) as session:
        cancel.set()
        with pytest.raises(RequestCancelled):
            session.address_lists()
        cancel.clear()


def test_cancel_while_the_server_works(sim: Simulator, service: MapiHttpService) -> None:
    cancel = threading.Event()
    with open_session(sim, cancel=cancel) as session:
        service.delay_s = 3.0
        timer = threading.Timer(0.3, cancel.set)
        timer.start()
        started = time.monotonic()
        with pytest.raises(RequestCancelled):
            session.page(count=1)
        assert time.monotonic() - started < 2.5
        timer.join()
        service.delay_s = 0.0


# -- pure helpers --------------------------------------------------------------------------------------


def vector(name: str) -> bytes:
    """The hex of a tests/data file; '#' lines are the citation and are skipped."""
    text = (DATA / name).read_text(encoding="ascii")
    return bytes.fromhex("".join(line for line in text.splitlines() if not line.startswith("#")))


def test_anr_restriction_layout() -> None:
    # CONSTRUCTED from MS-OXCDATA 2.12.5.1: no spec page prints an ANR restriction in hex.
    assert anr_restriction("Smith") == vector("addressbook_anr_restriction_constructed.txt")
    from mapiprobe.simulator.nspi import _read_anr_restriction

    assert _read_anr_restriction(vector("addressbook_anr_restriction_constructed.txt"), 0, False) == (
        "Smith",
        22,
    )


@settings(max_examples=examples(300))
@given(st.text(max_size=40).filter(lambda s: "\x00" not in s))
def test_anr_restriction_round_trip_through_the_simulator(text: str) -> None:
    from mapiprobe.simulator.nspi import _read_anr_restriction

    data = anr_restriction(text)
    decoded, end = _read_anr_restriction(data, 0, False)
    assert decoded == text and end == len(data)


_VALUES = st.fixed_dictionaries(
    {},
    optional={
        0x3001001F: st.text(max_size=20),
        0x39FE001F: st.text(max_size=20),
        0x3A17001F: st.text(max_size=20),
        0x39000003: st.integers(-(2**31), 2**31 - 1),
        0x0FFF0102: st.binary(max_size=40),
        0x3A18001F: st.text(max_size=20),
        0x3A08001F: st.text(max_size=20),
    },
)


@settings(max_examples=examples(300))
@given(_VALUES, st.integers(0, 2**32 - 1))
def test_entry_from_any_row(values: dict[int, object], mid: int) -> None:
    columns = tuple(PropertyTag(c) for c in ENTRY_COLUMNS)
    row = PropertyRow.build(columns, values)
    entry = entry_from_row(row)
    assert entry.display_name == values.get(0x3001001F)
    assert entry.title == values.get(0x3A17001F) and entry.phone == values.get(0x3A08001F)
    assert entry.entry_id == values.get(0x0FFF0102)
    eph = EphemeralEntryId(PermanentEntryId(0, "x").provider_uid, 0, mid).encode()
    assert entry_from_row(PropertyRow.build(columns, {**values, 0x0FFF0102: eph})).mid == mid
    assert entry_from_row(row, mid=7).mid == 7
