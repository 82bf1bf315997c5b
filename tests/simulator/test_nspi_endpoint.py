"""The simulator's address book: the generated directory, the NSPI handler in-process (STAT rules of
MS-OXNSPI 3.1.4.5, every request type, errors, fuzzing of its own GetMatches filter reader), then the
endpoint over loopback HTTPS (path, authentication, cookies).

The specs print no NSPI bodies as hex (MS-OXNSPI 4 gives field values only; see tests/protocol/test_nspi.py),
so the bodies here are built with the codec and the values checked field by field.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol import nspi as N
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
    parse_entry_id,
)
from mapiprobe.protocol.properties import ErrorValue, PropertyTag, PropertyValue
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.directory import (
    AB_RECIPIENTS,
    AB_SUBCONTAINERS,
    FIRST_ENTRY_MID,
    KIND_CONTACT,
    KIND_DL,
    KIND_ROOM,
    KIND_USER,
    Directory,
    LazyDirectory,
    ascii_alias,
    generate_directory,
)
from mapiprobe.simulator.mapihttp import SimResponseCode, SimSessionContext
from mapiprobe.simulator.nspi import (
    INVALID_BOOKMARK,
    INVALID_PARAMETER,
    NOT_FOUND,
    NOT_SUPPORTED,
    TABLE_TOO_BIG,
    TOO_COMPLEX,
    NspiHandler,
)
from mapiprobe.simulator.org import Organisation, load_organisation
from mapiprobe.transport.auth import NTLMAuth
from tests.hypothesis_profiles import examples
from tests.simulator.conftest import SimClient

DISPLAY_NAME = 0x3001001F
DISPLAY_NAME_8 = 0x3001001E
SMTP = 0x39FE001F
ENTRY_ID = 0x0FFF0102
TITLE = 0x3A17001F
DISPLAY_TYPE = 0x39000003
MOBILE = 0x3A1C001F
COLUMNS = tuple(PropertyTag(t) for t in (DISPLAY_NAME, SMTP, ENTRY_ID, TITLE, DISPLAY_TYPE))
ANR = 0x360C001F


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def org() -> Organisation:
    return load_organisation()


@pytest.fixture(scope="module")
def directory(org: Organisation) -> Directory:
    return generate_directory(2000, org=org)


@pytest.fixture
def handler(org: Organisation, directory: Directory) -> NspiHandler:
    return NspiHandler(org, directory)


@pytest.fixture
def ctx(org: Organisation) -> SimSessionContext:
    return SimSessionContext("c" * 24, org.users[0], "nspi")


class Caller:
    """Encode a request, let the handler answer, decode the response with the codec."""

    def __init__(self, handler: NspiHandler, ctx: SimSessionContext) -> None:
        self.handler = handler
        self.ctx = ctx

    def __call__(self, request: N.AddressBookRequest) -> N.AddressBookResponse:
        body = self.handler.handle(request.REQUEST_TYPE, request.encode(), self.ctx, None)  # type: ignore[arg-type]
        return N.decode_response(request.REQUEST_TYPE, body)

    def raw(self, request_type: str, body: bytes) -> bytes:
        return self.handler.handle(request_type, body, self.ctx, None)  # type: ignore[arg-type]


@pytest.fixture
def call(handler: NspiHandler, ctx: SimSessionContext) -> Caller:
    caller = Caller(handler, ctx)
    response = caller(N.BindRequest())
    assert isinstance(response, N.BindResponse) and response.error_code == 0
    return caller


def names(rows: tuple[object, ...]) -> list[str]:
    return [row.get(DISPLAY_NAME) for row in rows]  # type: ignore[attr-defined]


# -- the directory -------------------------------------------------------------------------------------


def test_same_seed_same_directory(org: Organisation, directory: Directory) -> None:
    again = generate_directory(2000, org=org)
    assert [(e.mid, e.display_name, e.smtp_address, e.legacy_dn) for e in again.entries] == [
        (e.mid, e.display_name, e.smtp_address, e.legacy_dn) for e in directory.entries
    ]
    other = generate_directory(2000, org=org, seed=7)
    assert [e.display_name for e in other.entries] != [e.display_name for e in directory.entries]


def test_size_kinds_and_stable_mids(org: Organisation, directory: Directory) -> None:
    assert len(directory) == len(directory.gal) == 2000
    kinds = {e.kind for e in directory.entries}
    assert kinds == {KIND_USER, KIND_ROOM, KIND_DL, KIND_CONTACT}
    assert [e.mid for e in directory.entries] == list(range(FIRST_ENTRY_MID, FIRST_ENTRY_MID + 2000))
    small = generate_directory(50, org=org)
    # The demo users and fixed entries come first: the same MIds whatever the size.
    for e in small.entries[:10]:
        assert directory.entry(e.mid) == e


def test_demo_users_are_in_the_gal(org: Organisation, directory: Directory) -> None:
    for user in org.users:
        entry = directory.find_dn(user.legacy_dn)
        assert entry is not None
        assert entry.display_name == user.display_name
        assert entry.smtp_address == user.email
        assert directory.find_smtp(user.email) is entry


def test_address_lists_are_sorted_and_partition_the_gal(directory: Directory) -> None:
    gal = directory.gal
    keys = [e.sort_key for e in gal.entries]
    assert keys == sorted(keys)
    by_kind = {a.name: a for a in directory.lists}
    assert by_kind["All Address Lists"].flags == AB_SUBCONTAINERS | 0x8
    assert not by_kind["All Address Lists"].entries
    total = 0
    for name, kind in (
        ("All Users", KIND_USER),
        ("All Rooms", KIND_ROOM),
        ("All Distribution Lists", KIND_DL),
        ("All Contacts", KIND_CONTACT),
    ):
        alist = by_kind[name]
        assert alist.flags & AB_RECIPIENTS and alist.depth == 1 and alist.parent_id == 0x100
        assert all(e.kind == kind for e in alist.entries)
        assert [e.sort_key for e in alist.entries] == sorted(e.sort_key for e in alist.entries)
        total += len(alist)
    assert total == len(gal)


def test_smtp_addresses_unique_and_names_fit_code_page_1252(directory: Directory) -> None:
    addresses = [e.smtp_address.casefold() for e in directory.entries]
    assert len(set(addresses)) == len(addresses)
    for e in directory.entries:
        for text in (e.display_name, e.title, e.department, e.office, e.phone):
            if text is not None:
                text.encode("cp1252")
        assert e.alias.isascii()


def test_ambiguous_on_purpose(directory: Directory) -> None:
    entry, candidates = directory.resolve("Alex Wilber")
    assert entry is None and len(candidates) == 2
    assert {c.smtp_address for c in candidates} == {"alex.wilber@contoso.test", "alex.wilber2@contoso.test"}
    entry, smiths = directory.resolve("Smith")
    assert entry is None and len(smiths) >= 3
    assert all((e.surname or "").startswith("Smith") or e.display_name.startswith("Smith") for e in smiths)
    assert directory.resolve("alice@contoso.test")[0] is not None
    assert directory.resolve("=alice")[0] is not None
    assert directory.resolve("SMTP:bob@contoso.test")[0] is not None
    assert directory.resolve("qqqq-nobody") == (None, [])
    assert directory.resolve("   ") == (None, [])


def test_anr_first_last_either_order(directory: Directory) -> None:
    forward = directory.anr("Alex Wil")
    backward = directory.anr("Wilber Alex")
    assert {e.mid for e in forward} == {e.mid for e in backward} and len(forward) == 2


_FRAGMENTS = st.sampled_from(
    [
        "alex",
        "Alex Wil",
        "wilber alex",
        "smith",
        "SMITH j",
        "=alice",
        "SMTP:bob@contoso.test",
        "bob@contoso.test",
        "conf",
        "all",
        "a",
        "zz",
        "de jong",
        "jo",
        "müller",
        "project",
        "=Alex Wilber",
        "alice anders",
    ]
)


@settings(max_examples=examples(200))
@given(st.one_of(_FRAGMENTS, st.text(alphabet="abcdejlmnorsStw .@=:", max_size=8)))
def test_indexed_anr_agrees_with_a_scan(text: str) -> None:
    assert _DIRECTORY.anr(text) == _DIRECTORY.anr_scan(text)
    rooms = _DIRECTORY.container(0x103)
    assert rooms is not None
    assert _DIRECTORY.anr(text, rooms.entries) == _DIRECTORY.anr_scan(text, rooms.entries)


def test_seek_and_position(directory: Directory) -> None:
    gal = directory.gal
    pos = gal.seek("M")
    assert gal.entries[pos].sort_key[0] >= "m"
    assert pos == 0 or gal.entries[pos - 1].sort_key[0] < "m"
    e = gal.entries[123]
    assert gal.position_of(e.mid, e) == 123
    assert gal.position_of(1, None) is None
    rooms = directory.container(0x103)
    assert rooms is not None and rooms.position_of(e.mid, e) is None
    assert gal.seek("\uffff") == len(gal)


def test_ascii_alias() -> None:
    assert ascii_alias("José Müller") == "jose.muller"
    assert ascii_alias("Łukasz O'Brien") == "lukasz.obrien"
    assert ascii_alias("de Jong") == "de.jong"


def test_bad_sizes(org: Organisation) -> None:
    with pytest.raises(ValueError):
        generate_directory(-1, org=org)
    with pytest.raises(ValueError):
        LazyDirectory(10_000_000)
    lazy = LazyDirectory(10, org=org)
    assert not lazy.ready
    assert len(lazy.get()) >= 10 and lazy.ready
    assert generate_directory(0, org=org).entries  # the fixed part is always there


# -- Bind, Unbind, hierarchy ---------------------------------------------------------------------------


def test_bind_and_unbind(handler: NspiHandler, ctx: SimSessionContext, call: Caller) -> None:
    assert "nspi" in ctx.state
    unbind = call(N.UnbindRequest())
    assert isinstance(unbind, N.UnbindResponse) and unbind.error_code == UNBIND_SUCCESS
    assert "nspi" not in ctx.state
    with pytest.raises(SimResponseCode) as info:
        call(N.QueryRowsRequest(row_count=1))
    assert info.value.code == 10


def test_bind_in_cp_winunicode_fails(handler: NspiHandler, ctx: SimSessionContext) -> None:
    caller = Caller(handler, ctx)
    response = caller(N.BindRequest(state=Stat(code_page=CP_WINUNICODE)))
    assert response.error_code == NOT_SUPPORTED
    assert "nspi" not in ctx.state


def test_undecodable_body_is_code_12(handler: NspiHandler, ctx: SimSessionContext, call: Caller) -> None:
    for request_type in ("Bind", "QueryRows", "GetMatches", "ResolveNames", "SeekEntries"):
        with pytest.raises(SimResponseCode) as info:
            call.raw(request_type, b"\x00\x01")
        assert info.value.code == 12, request_type
    with pytest.raises(SimResponseCode) as info:
        call.raw("Execute", b"")
    assert info.value.code == 5


def test_hierarchy_table(call: Caller, handler: NspiHandler) -> None:
    response = call(N.GetSpecialTableRequest(flags=NSPI_UNICODE_STRINGS, version=0))
    assert isinstance(response, N.GetSpecialTableResponse)
    assert response.version == 1 and response.code_page == 1252
    assert response.rows is not None
    rows = [{int(pv.tag): pv.value for pv in row} for row in response.rows]
    assert [r[DISPLAY_NAME] for r in rows] == [
        "Global Address List",
        "All Address Lists",
        "All Contacts",
        "All Distribution Lists",
        "All Rooms",
        "All Users",
    ]
    assert [r[0xFFFD0003] for r in rows] == [0, 0x100, 0x101, 0x102, 0x103, 0x104]
    assert [r[0x30050003] for r in rows] == [0, 0, 1, 1, 1, 1]
    gal_id = parse_entry_id(rows[0][ENTRY_ID])
    assert isinstance(gal_id, PermanentEntryId) and gal_id.display_type == DisplayType.DT_CONTAINER
    parent = parse_entry_id(rows[2][0xFFFC0102])
    assert isinstance(parent, PermanentEntryId) and parent.distinguished_name.endswith("All Address Lists")
    eight_bit = call(N.GetSpecialTableRequest(flags=0))
    assert isinstance(eight_bit, N.GetSpecialTableResponse) and eight_bit.rows is not None
    assert int(eight_bit.rows[0][4].tag) == DISPLAY_NAME_8 and eight_bit.version is None
    templates = call(N.GetSpecialTableRequest(flags=NSPI_ADDRESS_CREATION_TEMPLATES))
    assert isinstance(templates, N.GetSpecialTableResponse) and templates.rows == ()


# -- QueryRows and the STAT (MS-OXNSPI 3.1.4.5) ---------------------------------------------------------


def test_paging_to_the_end(call: Caller, directory: Directory) -> None:
    stat = Stat()
    seen: list[str] = []
    while True:
        response = call(N.QueryRowsRequest(state=stat, row_count=300, columns=COLUMNS))
        assert isinstance(response, N.QueryRowsResponse) and response.state is not None
        seen += names(response.row_data)
        stat = response.state
        assert stat.delta == 0 and stat.total_recs == 2000 and stat.num_pos == len(seen)
        if stat.current_rec == MID_END_OF_TABLE:
            break
        assert stat.current_rec == directory.gal.entries[len(seen)].mid
    assert seen == [e.display_name for e in directory.gal.entries]
    after = call(N.QueryRowsRequest(state=stat, row_count=10, columns=COLUMNS))
    assert isinstance(after, N.QueryRowsResponse) and after.row_data == ()


def test_absolute_position_with_delta(call: Caller, directory: Directory) -> None:
    gal = directory.gal.entries
    response = call(N.QueryRowsRequest(state=Stat(delta=1000), row_count=3, columns=COLUMNS))
    assert isinstance(response, N.QueryRowsResponse) and response.state is not None
    assert names(response.row_data) == [e.display_name for e in gal[1000:1003]]
    assert response.state.num_pos == 1003 and response.state.current_rec == gal[1003].mid
    # From an object's MId, backwards with a negative Delta.
    back = call(
        N.QueryRowsRequest(state=Stat(current_rec=gal[10].mid, delta=-4), row_count=2, columns=COLUMNS)
    )
    assert isinstance(back, N.QueryRowsResponse)
    assert names(back.row_data) == [e.display_name for e in gal[6:8]]
    clamp = call(N.QueryRowsRequest(state=Stat(delta=-50), row_count=1, columns=COLUMNS))
    assert isinstance(clamp, N.QueryRowsResponse) and names(clamp.row_data) == [gal[0].display_name]
    end = call(
        N.QueryRowsRequest(state=Stat(current_rec=MID_END_OF_TABLE, delta=-2), row_count=5, columns=COLUMNS)
    )
    assert isinstance(end, N.QueryRowsResponse) and names(end.row_data) == [e.display_name for e in gal[-2:]]


def test_fractional_position(call: Caller, directory: Directory) -> None:
    gal = directory.gal.entries
    stat = Stat(current_rec=MID_CURRENT, num_pos=1, total_recs=2)
    response = call(N.QueryRowsRequest(state=stat, row_count=1, columns=COLUMNS))
    assert isinstance(response, N.QueryRowsResponse)
    assert names(response.row_data) == [gal[1000].display_name]
    # TotalRecs as the client believes it need not be right: 2000 * 30 / 100 = 600.
    scaled = call(N.UpdateStatRequest(state=Stat(current_rec=MID_CURRENT, num_pos=30, total_recs=100)))
    assert isinstance(scaled, N.UpdateStatResponse) and scaled.state is not None
    assert scaled.state.num_pos == 600 and scaled.state.current_rec == gal[600].mid
    beyond = call(N.UpdateStatRequest(state=Stat(current_rec=MID_CURRENT, num_pos=5, total_recs=4)))
    assert isinstance(beyond, N.UpdateStatResponse) and beyond.state is not None
    assert beyond.state.current_rec == MID_END_OF_TABLE and beyond.state.num_pos == 2000
    zero = call(N.UpdateStatRequest(state=Stat(current_rec=MID_CURRENT, num_pos=5, total_recs=0)))
    assert isinstance(zero, N.UpdateStatResponse) and zero.state is not None and zero.state.num_pos == 0


def test_update_stat_delta(call: Caller, directory: Directory) -> None:
    gal = directory.gal.entries
    response = call(N.UpdateStatRequest(state=Stat(current_rec=gal[50].mid, delta=-7), delta_requested=True))
    assert isinstance(response, N.UpdateStatResponse) and response.state is not None
    assert response.delta == -7 and response.state.num_pos == 43 and response.state.current_rec == gal[43].mid
    no_delta = call(N.UpdateStatRequest(state=Stat(current_rec=MID_END_OF_TABLE)))
    assert isinstance(no_delta, N.UpdateStatResponse) and no_delta.delta is None
    assert no_delta.state is not None and no_delta.state.total_recs == 2000


def test_query_rows_errors(call: Caller) -> None:
    cases = [
        (N.QueryRowsRequest(row_count=0, columns=COLUMNS), INVALID_PARAMETER),
        (N.QueryRowsRequest(state=Stat(container_id=0x999), row_count=1), INVALID_BOOKMARK),
        (N.QueryRowsRequest(state=Stat(current_rec=0x0FFFFFFF), row_count=1), NOT_FOUND),
        (N.QueryRowsRequest(state=Stat(code_page=CP_WINUNICODE), row_count=1), NOT_SUPPORTED),
        (
            N.QueryRowsRequest(row_count=1, columns=tuple(PropertyTag(DISPLAY_NAME) for _ in range(101))),
            TABLE_TOO_BIG,
        ),
        (N.UpdateStatRequest(state=Stat(container_id=0x999)), INVALID_BOOKMARK),
        (N.UpdateStatRequest(state=Stat(current_rec=0x0FFFFFFF)), NOT_FOUND),
    ]
    for request, code in cases:
        response = call(request)
        assert response.error_code == code, request


def test_default_columns_are_8_bit(call: Caller) -> None:
    response = call(N.QueryRowsRequest(row_count=2))
    assert isinstance(response, N.QueryRowsResponse) and response.columns is not None
    assert int(response.columns[3]) == DISPLAY_NAME_8
    assert isinstance(response.row_data[0].get(DISPLAY_NAME_8), str)


def test_explicit_table_and_ephemeral_ids(call: Caller, handler: NspiHandler, directory: Directory) -> None:
    mids = (directory.gal.entries[5].mid, 0x0FFFFFFF, directory.gal.entries[1].mid)
    response = call(N.QueryRowsRequest(flags=F_EPH_ID, explicit_table=mids, row_count=0, columns=COLUMNS))
    assert isinstance(response, N.QueryRowsResponse)
    assert len(response.row_data) == 3
    first = parse_entry_id(response.row_data[0].get(ENTRY_ID))
    assert isinstance(first, EphemeralEntryId) and first.mid == mids[0]
    assert first.provider_uid == handler.server_guid
    missing = response.row_data[1]
    assert missing.flag == 1 and all(isinstance(pv.value, ErrorValue) for pv in missing.values)


def test_unknown_and_mistyped_columns_come_back_as_errors(call: Caller) -> None:
    columns = (
        PropertyTag(DISPLAY_NAME),
        PropertyTag(0x7FFF001F),
        PropertyTag(0x3001000B),
        PropertyTag(0x30010000),
    )
    response = call(N.QueryRowsRequest(state=Stat(delta=3), row_count=1, columns=columns))
    assert isinstance(response, N.QueryRowsResponse)
    row = response.row_data[0]
    assert row.flag == 1
    assert isinstance(row.values[1].value, ErrorValue) and int(row.values[1].value) == NOT_FOUND
    assert isinstance(row.values[2].value, ErrorValue)
    assert row.values[3].tag.prop_type == 0x001F and isinstance(row.values[3].value, str)


def test_row_cache_serves_repeated_rows(call: Caller, handler: NspiHandler) -> None:
    first = call(N.QueryRowsRequest(row_count=20, columns=COLUMNS))
    before = handler.stats.get("rows-cached", 0)
    second = call(N.QueryRowsRequest(row_count=20, columns=COLUMNS))
    assert handler.stats["rows-cached"] - before == 20
    assert isinstance(first, N.QueryRowsResponse) and isinstance(second, N.QueryRowsResponse)
    assert first.row_data == second.row_data


# -- SeekEntries, CompareMIds, GetProps, DNToMId, QueryColumns ----------------------------------------


def test_seek_entries(call: Caller, directory: Directory) -> None:
    gal = directory.gal
    response = call(N.SeekEntriesRequest(target=PropertyValue(PropertyTag(DISPLAY_NAME), "m")))
    assert isinstance(response, N.SeekEntriesResponse) and response.state is not None
    pos = gal.seek("m")
    assert response.state.num_pos == pos and response.state.current_rec == gal.entries[pos].mid
    assert response.row_data == ()
    with_row = call(
        N.SeekEntriesRequest(target=PropertyValue(PropertyTag(DISPLAY_NAME), "m"), columns=COLUMNS)
    )
    assert isinstance(with_row, N.SeekEntriesResponse) and names(with_row.row_data) == [
        gal.entries[pos].display_name
    ]
    eight = call(N.SeekEntriesRequest(target=PropertyValue(PropertyTag(DISPLAY_NAME_8), "M")))
    assert isinstance(eight, N.SeekEntriesResponse) and eight.state is not None and eight.state.num_pos == pos
    assert (
        call(N.SeekEntriesRequest(target=PropertyValue(PropertyTag(DISPLAY_NAME), "\uffff"))).error_code
        == NOT_FOUND
    )
    assert (
        call(N.SeekEntriesRequest(target=PropertyValue(PropertyTag(TITLE), "x"))).error_code == NOT_SUPPORTED
    )
    explicit = (gal.entries[3].mid, gal.entries[900].mid, gal.entries[1500].mid)
    restricted = call(
        N.SeekEntriesRequest(
            target=PropertyValue(PropertyTag(DISPLAY_NAME), gal.entries[900].display_name),
            explicit_table=explicit,
            columns=COLUMNS,
        )
    )
    assert isinstance(restricted, N.SeekEntriesResponse) and restricted.state is not None
    assert restricted.state.current_rec == explicit[1] and restricted.state.num_pos == 1
    assert len(restricted.row_data) == 2


def test_seek_entries_accepts_the_ts_target_form(call: Caller, directory: Directory) -> None:
    request = N.SeekEntriesRequest(
        target=PropertyValue(PropertyTag(DISPLAY_NAME), "m"), target_form=N.TARGET_TAGGED
    )
    response = call(request)
    assert isinstance(response, N.SeekEntriesResponse) and response.state is not None
    assert response.state.num_pos == directory.gal.seek("m")


def test_compare_mids(call: Caller, directory: Directory) -> None:
    a, b = directory.gal.entries[10].mid, directory.gal.entries[20].mid
    assert call(N.CompareMIdsRequest(minimal_id1=a, minimal_id2=b)).result == -1  # type: ignore[attr-defined]
    assert call(N.CompareMIdsRequest(minimal_id1=b, minimal_id2=a)).result == 1  # type: ignore[attr-defined]
    assert call(N.CompareMIdsRequest(minimal_id1=a, minimal_id2=a)).result == 0  # type: ignore[attr-defined]
    assert call(N.CompareMIdsRequest(minimal_id1=a, minimal_id2=5)).error_code != 0


def test_get_props(call: Caller, directory: Directory, org: Organisation) -> None:
    wilber = directory.find_smtp("alex.wilber@contoso.test")
    assert wilber is not None
    tags = (PropertyTag(DISPLAY_NAME), PropertyTag(TITLE), PropertyTag(MOBILE), PropertyTag(0x7FFF001F))
    response = call(N.GetPropsRequest(state=Stat(current_rec=wilber.mid), property_tags=tags))
    assert isinstance(response, N.GetPropsResponse) and response.property_values is not None
    values = {int(pv.tag): pv.value for pv in response.property_values}
    assert values[DISPLAY_NAME] == "Alex Wilber" and values[TITLE] == "Marketing Manager"
    assert response.error_code in (0, ERRORS_RETURNED)
    assert response.error_code == ERRORS_RETURNED  # 0x7FFF is nobody's property
    assert values[0x7FFF000A] == NOT_FOUND
    everything = call(N.GetPropsRequest(state=Stat(current_rec=wilber.mid)))
    assert isinstance(everything, N.GetPropsResponse) and everything.error_code == 0
    assert len(everything.property_values or ()) > 15
    me = call(N.GetPropsRequest(state=Stat(current_rec=MID_BEGINNING_OF_TABLE), property_tags=tags[:1]))
    assert isinstance(me, N.GetPropsResponse) and me.property_values is not None
    assert me.property_values[0].value == org.users[0].display_name
    container = call(N.GetPropsRequest(state=Stat(current_rec=0x103), property_tags=tags[:1]))
    assert isinstance(container, N.GetPropsResponse) and container.property_values is not None
    assert container.property_values[0].value == "All Rooms"
    assert call(N.GetPropsRequest(state=Stat(current_rec=0x0FFFFFFF))).error_code == NOT_FOUND


def test_dn_to_mid_prop_list_and_columns(call: Caller, directory: Directory, org: Organisation) -> None:
    bob = directory.find_dn(org.users[1].legacy_dn)
    assert bob is not None
    response = call(
        N.DNToMIdRequest(names=(org.users[1].legacy_dn.upper(), "/o=Nowhere/cn=x", directory.lists[4].dn))
    )
    assert isinstance(response, N.DNToMIdResponse) and response.minimal_ids == (bob.mid, 0, 0x103)
    props = call(N.GetPropListRequest(minimal_id=bob.mid))
    assert isinstance(props, N.GetPropListResponse) and PropertyTag(SMTP) in (props.property_tags or ())
    assert call(N.GetPropListRequest(minimal_id=3)).error_code == NOT_FOUND
    unicode = call(N.QueryColumnsRequest(mapi_flags=NSPI_UNICODE_PROPTYPES))
    eight = call(N.QueryColumnsRequest())
    assert isinstance(unicode, N.QueryColumnsResponse) and isinstance(eight, N.QueryColumnsResponse)
    assert PropertyTag(DISPLAY_NAME) in (unicode.columns or ())
    assert PropertyTag(DISPLAY_NAME_8) in (eight.columns or ())


def test_mailbox_and_address_book_urls(call: Caller, org: Organisation) -> None:
    user = org.users[0]
    mailbox = call(N.GetMailboxUrlRequest(server_dn="/o=Contoso/cn=Servers/cn=x"))
    assert isinstance(mailbox, N.GetMailboxUrlResponse)
    assert (
        mailbox.server_url
        == f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={user.mailbox_guid}@contoso.test"
    )
    book = call(N.GetAddressBookUrlRequest(user_dn=user.legacy_dn))
    assert isinstance(book, N.GetAddressBookUrlResponse) and book.server_url is not None
    assert "/mapi/nspi/?MailboxId=" in book.server_url
    assert call(N.GetAddressBookUrlRequest(user_dn="/o=x")).error_code == NOT_FOUND
    assert call(N.GetMailboxUrlRequest(server_dn="")).error_code == NOT_FOUND


# -- ResolveNames and GetMatches -----------------------------------------------------------------------


def test_resolve_names_three_outcomes(call: Caller, directory: Directory) -> None:
    request = N.ResolveNamesRequest(
        names=("alice@contoso.test", "Alex Wilber", "zz-nobody", "bob"), property_tags=COLUMNS
    )
    response = call(request)
    assert isinstance(response, N.ResolveNamesResponse)
    alice = directory.find_smtp("alice@contoso.test")
    bob = directory.find_smtp("bob@contoso.test")
    assert alice is not None and bob is not None
    assert response.minimal_ids == (alice.mid, MID_AMBIGUOUS, MID_UNRESOLVED, bob.mid)
    assert names(response.row_data) == ["Alice Anders", "Bob Bergstrom"]  # one row per resolved name
    assert response.code_page == 1252


def anr_filter(text: str, *, has_value: bool = False) -> bytes:
    """A PropertyRestriction (MS-OXCDATA 2.12.5) on PidTagAnr, CONSTRUCTED from the layout."""
    value = (b"\xff" if has_value else b"") + text.encode("utf-16-le") + b"\x00\x00"
    return bytes([0x04, 0x04]) + struct.pack("<II", ANR, ANR) + value


@pytest.mark.parametrize("has_value", [False, True], ids=["MS-OXCDATA form", "gromox HasValue form"])
def test_get_matches_with_anr(call: Caller, has_value: bool) -> None:
    request = N.GetMatchesRequest(
        filter=anr_filter("Alex Wilber", has_value=has_value), row_count=10, columns=COLUMNS
    )
    response = call(request)
    assert isinstance(response, N.GetMatchesResponse), response
    assert response.error_code == 0 and response.state is not None
    assert len(response.minimal_ids or ()) == 2 and response.state.total_recs == 2
    assert sorted(row.get(SMTP) for row in response.row_data) == [
        "alex.wilber2@contoso.test",
        "alex.wilber@contoso.test",
    ]
    no_columns = call(N.GetMatchesRequest(filter=anr_filter("Alex Wilber"), row_count=10))
    assert isinstance(no_columns, N.GetMatchesResponse) and no_columns.columns is None


def test_get_matches_limits_and_unsupported(call: Caller) -> None:
    assert call(N.GetMatchesRequest(filter=anr_filter("a"), row_count=3)).error_code == TABLE_TOO_BIG
    assert call(N.GetMatchesRequest(row_count=3)).error_code == NOT_SUPPORTED
    prop_name = N.GetMatchesRequest(
        filter=anr_filter("x"), property_name_guid=uuid.uuid4(), property_name_id=1, row_count=3
    )
    assert call(prop_name).error_code == TOO_COMPLEX
    rooms = call(N.GetMatchesRequest(state=Stat(container_id=0x103), filter=anr_filter("Alex"), row_count=5))
    assert isinstance(rooms, N.GetMatchesResponse) and rooms.minimal_ids == ()
    bad = N.GetMatchesRequest(filter=bytes([0x03, 0x00]), row_count=3).encode()
    with pytest.raises(SimResponseCode) as info:
        call.raw("GetMatches", bad)
    assert info.value.code == 12


@settings(max_examples=examples(2000))
@given(st.binary(max_size=120))
def test_fuzz_get_matches_reader(data: bytes) -> None:
    """The simulator's own GetMatches/filter reader: only SimResponseCode (code 12) may escape."""
    try:
        _FUZZ_HANDLER._decode_getmatches(data)
    except SimResponseCode as exc:
        assert exc.code == 12


@settings(max_examples=examples(2000))
@given(st.data())
def test_fuzz_get_matches_mutated(data: st.DataObject) -> None:
    body = bytearray(N.GetMatchesRequest(filter=anr_filter("Smith"), row_count=5, columns=COLUMNS).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(body)))
    try:
        _FUZZ_HANDLER._decode_getmatches(bytes(body[:cut]))
    except SimResponseCode as exc:
        assert exc.code == 12


@settings(max_examples=examples(300))
@given(st.text(min_size=0, max_size=40).filter(lambda s: "\x00" not in s))
def test_anr_filter_round_trip(text: str) -> None:
    for has_value in (False, True):
        request, anr = _FUZZ_HANDLER._decode_getmatches(
            N.GetMatchesRequest(filter=anr_filter(text, has_value=has_value), row_count=5).encode()
        )
        assert anr == text and request.filter == anr_filter(text, has_value=has_value)


@settings(max_examples=examples(2000), deadline=None)
@given(st.sampled_from(sorted(N.REQUEST_CLASSES)), st.binary(max_size=80))
def test_fuzz_handler_bodies(request_type: str, data: bytes) -> None:
    """Any body to any request type: the handler answers, or raises SimResponseCode; nothing else."""
    ctx = SimSessionContext("f" * 24, _ORG.users[0], "nspi")
    _FUZZ_HANDLER.handle("Bind", N.BindRequest().encode(), ctx, None)  # type: ignore[arg-type]
    try:
        _FUZZ_HANDLER.handle(request_type, data, ctx, None)  # type: ignore[arg-type]
    except SimResponseCode as exc:
        assert exc.code in (10, 12)


_ORG = load_organisation()
_DIRECTORY = generate_directory(2000, org=_ORG)
_FUZZ_HANDLER = NspiHandler(_ORG, generate_directory(0, org=_ORG))


# -- over loopback HTTPS -------------------------------------------------------------------------------


ALICE_PASSWORD = "Alice-Demo-2024!"


def nspi_url(sim: Simulator) -> str:
    return f"/mapi/nspi/?MailboxId={sim.users[0].mailbox_guid}@contoso.test"


def post(client: SimClient, path: str, request_type: str, body: bytes, cookies: str | None = None) -> object:
    headers = {
        "Content-Type": "application/mapi-http",
        "X-RequestType": request_type,
        "X-RequestId": f"{{{uuid.uuid4()}}}:1",
        "X-ClientInfo": f"{{{uuid.uuid4()}}}:1",
    }
    if cookies:
        headers["Cookie"] = cookies
    return client.https(
        "POST",
        "mail.contoso.test",
        path,
        headers=headers,
        content=body,
        auth=NTLMAuth("alice", ALICE_PASSWORD),
    )


def test_bare_path_is_404_and_anonymous_is_401(client: SimClient) -> None:
    bare = client.https("POST", "mail.contoso.test", "/mapi/nspi/", content=b"")
    assert bare.status_code == 404 and "WWW-Authenticate" not in bare.headers
    anonymous = client.https("POST", "mail.contoso.test", nspi_url(client.sim), content=b"")
    assert anonymous.status_code == 401
    # Exchange 2019's /mapi/ defaults: Windows authentication and OAuth, Basic off.
    offered = [v.split()[0] for v in anonymous.headers.get_list("WWW-Authenticate")]
    assert offered == ["Negotiate", "NTLM", "Bearer"]


def test_bind_query_unbind_over_https(client: SimClient) -> None:
    path = nspi_url(client.sim)
    bind = post(client, path, "Bind", N.BindRequest().encode())
    assert bind.status_code == 200 and bind.headers["X-ResponseCode"] == "0"  # type: ignore[attr-defined]
    cookies = "; ".join(
        c.split(";")[0]
        for c in bind.headers.get_list("Set-Cookie")  # type: ignore[attr-defined]
    )
    body = bind.content  # type: ignore[attr-defined]
    assert body.startswith(b"PROCESSING\r\n") and b"DONE\r\n" in body
    query = post(
        client, path, "QueryRows", N.QueryRowsRequest(row_count=2, columns=COLUMNS).encode(), cookies
    )
    assert query.headers["X-ResponseCode"] == "0"  # type: ignore[attr-defined]
    raw = query.content.split(b"\r\n\r\n", 1)[1]  # type: ignore[attr-defined]
    decoded = N.QueryRowsResponse.decode(raw)
    assert len(decoded.row_data) == 2 and decoded.state is not None and decoded.state.total_recs == 2000
    cookies = "; ".join(
        c.split(";")[0]
        for c in query.headers.get_list("Set-Cookie")  # type: ignore[attr-defined]
    )
    unbind = post(client, path, "Unbind", N.UnbindRequest().encode(), cookies)
    raw = unbind.content.split(b"\r\n\r\n", 1)[1]  # type: ignore[attr-defined]
    assert N.UnbindResponse.decode(raw).error_code == UNBIND_SUCCESS
    assert client.sim.endpoints["nspi"].counters.get("QueryRows") >= 1


@pytest.fixture
def tiny_sim() -> Iterator[Simulator]:
    with Simulator(gal_size=30) as sim:
        yield sim


def test_gal_size_knob(tiny_sim: Simulator) -> None:
    handler = tiny_sim.endpoints["nspi"].handler
    assert isinstance(handler, NspiHandler)
    assert len(handler.warm()) == 30
