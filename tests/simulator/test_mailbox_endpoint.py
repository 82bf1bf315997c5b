"""The simulator's mailbox endpoint: the ROP engine in-process (spec request vectors in, exact responses out),
handle-table rules, paging, RopBufferTooSmall, compression, fuzzing; then the endpoint over loopback HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.emsmdb import (
    ConnectRequest,
    ConnectResponse,
    DisconnectRequest,
    DisconnectResponse,
    ExecuteRequest,
    ExecuteResponse,
    NotificationWaitRequest,
    NotificationWaitResponse,
)
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.execute import rop_input, rop_output_buffers
from mapiprobe.protocol.properties import ErrorValue, PropertyName, PropertyTag
from mapiprobe.protocol.ropbuffer import HANDLE_UNUSED, RopBuffer
from mapiprobe.protocol.rops import (
    RopBufferTooSmallResponse,
    RopFailureResponse,
    RopGetContentsTableRequest,
    RopGetHierarchyTableRequest,
    RopGetPropertiesSpecificRequest,
    RopGetPropertiesSpecificResponse,
    RopGetPropertyIdsFromNamesRequest,
    RopGetPropertyIdsFromNamesResponse,
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
    encode_rops,
)
from mapiprobe.protocol.rops.table import BOOKMARK_BEGINNING, BOOKMARK_CURRENT, BOOKMARK_END
from mapiprobe.protocol.rpcext import encode_ext_buffer, iter_ext_buffers
from mapiprobe.simulator.mailbox import (
    EC_ACCESS_DENIED,
    EC_INVALID_OBJECT,
    EC_NOT_FOUND,
    EC_NULL_OBJECT,
    EC_RPC_FORMAT,
    EC_UNKNOWN_USER,
    MailboxHandler,
    MailboxService,
    RopEngine,
)
from mapiprobe.simulator.mailstore import Mailbox
from mapiprobe.simulator.org import Organisation, SimUser, load_organisation
from mapiprobe.transport.auth import NTLMAuth
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.mapihttp import MapiHttpEndpoint, SessionContext, make_mapihttp_client
from tests.hypothesis_profiles import examples
from tests.protocol.ropvectors import vector

U = HANDLE_UNUSED
TREE_COLUMNS = (
    0x3001001F,
    0x67480014,
    0x36020003,
    0x36030003,
    0x360A000B,
    0x3613001F,
    0x67490014,
    0x30050003,
)
CONTENTS_COLUMNS = (0x0037001F, 0x001A001F, 0x0E060040, 0x0C1A001F, 0x0E080003, 0x674A0014)


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def org() -> Organisation:
    return load_organisation()


@pytest.fixture(scope="module")
def alice(org: Organisation) -> SimUser:
    return org.users[0]


@pytest.fixture(scope="module")
def handler(org: Organisation) -> MailboxHandler:
    return MailboxHandler(org)


@pytest.fixture
def engine(org: Organisation, alice: SimUser, handler: MailboxHandler) -> RopEngine:
    return RopEngine(alice, org, lambda: handler.mailbox_for(alice))


@pytest.fixture
def mailbox(handler: MailboxHandler, alice: SimUser) -> Mailbox:
    return handler.mailbox_for(alice)


def run(
    engine: RopEngine,
    rops: Sequence[RopRequest],
    handles: Sequence[int],
    *,
    max_rop_out: int = 0x10008,
    flags: int = 3,
    columns: Sequence[int] = CONTENTS_COLUMNS,
) -> tuple[list[RopResponse], tuple[int, ...], ExecuteResponse]:
    body = ExecuteRequest(flags=flags, rop_buffer=rop_input(rops, handles), max_rop_out=max_rop_out)
    request = ExecuteRequest.decode(body.encode())
    response = ExecuteResponse.decode(engine.execute(request).encode())
    assert isinstance(response, ExecuteResponse)
    if not response.rop_buffer:
        return [], (), response
    (buf,) = rop_output_buffers(response.rop_buffer)
    return decode_responses(buf.rops, rops, columns), buf.server_object_handle_table, response


def logon(engine: RopEngine, user: SimUser) -> tuple[int, RopLogonPrivateMailboxResponse]:
    responses, table, _ = run(engine, [RopLogonRequest(0, 0, 0x01, 0x01000000, 0, user.legacy_dn)], [U])
    assert isinstance(responses[0], RopLogonPrivateMailboxResponse)
    return table[0], responses[0]


def open_folder(engine: RopEngine, logon_handle: int, fid: int) -> int:
    responses, table, _ = run(engine, [RopOpenFolderRequest(0, 0, 1, fid)], [logon_handle, U])
    assert not isinstance(responses[0], RopFailureResponse), responses
    return table[1]


def raw_process(engine: RopEngine, rops: bytes, handles: Sequence[int], limit: int = 0x8000) -> RopBuffer:
    """Feed spec request bytes straight to the engine (no RPC_HEADER_EXT)."""
    requests = decode_requests(rops)
    out: list[tuple[RopRequest, bytes]] = []
    pos = 0
    for req in requests:
        size = len(req.to_bytes())
        out.append((req, rops[pos : pos + size]))
        pos += size
    return engine.process(out, list(handles), limit)


# -- spec request vectors into the engine ------------------------------------------------------------


def test_roprelease_spec_buffer_has_no_response(engine: RopEngine) -> None:
    """MS-OXCROPS 4.4: two RopRelease requests; a server never answers RopRelease (3.2.5.3), even for
    handles it does not know, and the handle table comes back as it was."""
    whole = RopBuffer.decode(vector("oxcrops_4_4_roprelease_request"))
    out = raw_process(engine, whole.rops, whole.server_object_handle_table)
    assert out.rops == b""
    assert out.server_object_handle_table == (0x6F, 0x6E)
    assert out.encode() == bytes.fromhex("0200 6f000000 6e000000")


def test_getcontentstable_spec_request(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    """MS-OXCTABL 4.1.1: RopGetContentsTable on the folder at index 0, the table to index 1."""
    handle, _ = logon(engine, alice)
    inbox = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    out = raw_process(engine, vector("oxctabl_4_1_1_getcontentstable_request"), [inbox, U])
    assert out.rops == bytes.fromhex("05 01 00000000") + (120).to_bytes(4, "little")
    assert out.server_object_handle_table[0] == inbox
    assert out.server_object_handle_table[1] not in (U, inbox)


def test_setcolumns_spec_request_answers_like_the_spec_response(
    engine: RopEngine, alice: SimUser, mailbox: Mailbox
) -> None:
    """MS-OXCTABL 4.2.1 (RopSetColumns on index 1, six columns) is answered with exactly the bytes of the
    RopSetColumns response printed in MS-OXORULE 4.2.2 (InputHandleIndex 1, success, TBLSTAT_COMPLETE)."""
    handle, _ = logon(engine, alice)
    inbox = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    _, table, _ = run(engine, [RopGetContentsTableRequest(0, 0, 1, 0)], [inbox, U])
    out = raw_process(engine, vector("oxctabl_4_2_1_setcolumns_request"), list(table))
    assert out.rops == vector("oxorule_4_2_2_setcolumns_response")
    # Then MS-OXORULE 4.2.1's RopQueryRows (index 1, Advance, forward, 50 rows) reads the first 50 rows with
    # those columns: FolderId, Mid, InstID, InstanceNum, Subject, MessageDeliveryTime.
    out = raw_process(engine, vector("oxorule_4_2_1_queryrows_request"), list(table))
    setcols = decode_requests(vector("oxctabl_4_2_1_setcolumns_request"))
    (resp,) = decode_responses(out.rops, None, setcols[0].property_tags)  # type: ignore[attr-defined]
    assert isinstance(resp, RopQueryRowsResponse)
    assert resp.origin == BOOKMARK_CURRENT and len(resp.row_data) == 50
    first = resp.row_data[0]
    newest = max(mailbox.specials["Inbox"].messages, key=lambda m: m.received)
    assert first.get(0x67480014) == mailbox.specials["Inbox"].fid
    assert first.get(0x674A0014) == newest.mid == first.get(0x674D0014)
    assert first.get(0x674E0003) == 0
    assert first.get(0x0037001F) == newest.subject


def test_queryrows_spec_request_pages_to_the_end(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    """MS-OXCTABL 4.5.3.1 (index 0, Advance, forward, 50 rows) three times over the 120-row Inbox: 50, 50,
    20 rows, Origin CURRENT, CURRENT, END (MS-OXCTABL 3.2.5.5), then 0 rows at END."""
    handle, _ = logon(engine, alice)
    inbox = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    _, table, _ = run(
        engine,
        [RopGetContentsTableRequest(0, 0, 1, 0), RopSetColumnsRequest(0, 1, 0, CONTENTS_COLUMNS)],
        [inbox, U],
    )
    seen = []
    for expected_rows, expected_origin in (
        (50, BOOKMARK_CURRENT),
        (50, BOOKMARK_CURRENT),
        (20, BOOKMARK_END),
    ):
        out = raw_process(engine, vector("oxctabl_4_5_3_1_queryrows_request"), [table[1]])
        (resp,) = decode_responses(out.rops, None, CONTENTS_COLUMNS)
        assert isinstance(resp, RopQueryRowsResponse)
        assert (len(resp.row_data), resp.origin) == (expected_rows, expected_origin)
        seen += [row.get(0x674A0014) for row in resp.row_data]
    assert len(set(seen)) == 120
    out = raw_process(engine, vector("oxctabl_4_5_3_1_queryrows_request"), [table[1]])
    assert out.rops == bytes.fromhex("15 00 00000000 02 0000")


def test_getpropertiesspecific_spec_request(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    """MS-OXCPRPT 4.3.1 asks a folder for two named test properties and PidTagChangeKey, which the simulated
    folder does not have: a FlaggedPropertyRow with NotFound (flag 0x0A) in each column."""
    handle, _ = logon(engine, alice)
    inbox = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    out = raw_process(engine, vector("oxcprpt_4_3_1_getpropertiesspecific_request"), [inbox])
    request = decode_requests(vector("oxcprpt_4_3_1_getpropertiesspecific_request"))
    (resp,) = decode_responses(out.rops, request)
    assert isinstance(resp, RopGetPropertiesSpecificResponse)
    assert resp.row_data.flag == 1
    assert [(v.flag, v.value) for v in resp.row_data.values] == [(0x0A, ErrorValue(EC_NOT_FOUND))] * 3
    assert out.rops == bytes.fromhex("07 00 00000000 01" + "0a0f010480" * 3)


# -- RopLogon ------------------------------------------------------------------------------------------


def test_logon_answers_the_166_byte_private_form(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    body = ExecuteRequest(
        rop_buffer=rop_input([RopLogonRequest(0, 0, 1, 0x01000000, 0, alice.legacy_dn)], [U])
    )
    (buf,) = rop_output_buffers(engine.execute(body).rop_buffer)
    assert len(buf.rops) == 166
    (resp,) = decode_responses(buf.rops)
    assert isinstance(resp, RopLogonPrivateMailboxResponse)
    assert resp.folder_ids == mailbox.special_folder_ids()
    assert resp.folder_ids.ipm_subtree == mailbox.ipm_subtree.fid
    assert resp.mailbox_guid == uuid.UUID(alice.mailbox_guid)
    assert resp.logon_flags == 1 and resp.response_flags & 0x01


@pytest.mark.parametrize(
    ("essdn", "code"),
    [
        ("/o=Nowhere/cn=Recipients/cn=nobody", EC_UNKNOWN_USER),
        ("BOB", EC_ACCESS_DENIED),
        (None, EC_UNKNOWN_USER),
    ],
)
def test_logon_of_another_mailbox_fails(
    engine: RopEngine, org: Organisation, essdn: str | None, code: int
) -> None:
    dn = org.users[1].legacy_dn if essdn == "BOB" else essdn
    responses, table, _ = run(engine, [RopLogonRequest(0, 0, 1, 0x01000000, 0, dn)], [U])
    assert responses == [RopFailureResponse(0xFE, 0, code)]
    assert table == (U,)


def test_logon_without_per_mdb_replid_mapping(engine: RopEngine, alice: SimUser) -> None:
    """MS-OXCSTOR 3.2.5.1.3: ecInvalidParameter when USE_PER_MDB_REPLID_MAPPING is not set."""
    responses, _, _ = run(engine, [RopLogonRequest(0, 0, 1, 0x0000000C, 0, alice.legacy_dn)], [U])
    assert responses == [RopFailureResponse(0xFE, 0, 0x80070057)]


def test_logon_redirect_form(engine: RopEngine, alice: SimUser) -> None:
    engine.options.redirect_logon_to = "/o=Contoso/cn=Servers/cn=other"
    responses, _, _ = run(engine, [RopLogonRequest(0, 0, 1, 0x01000000, 0, alice.legacy_dn)], [U])
    assert responses == [RopLogonRedirectResponse(0, 1, "/o=Contoso/cn=Servers/cn=other")]


def test_logon_feeds_the_next_rops_of_the_same_buffer(
    engine: RopEngine, alice: SimUser, mailbox: Mailbox
) -> None:
    """MS-OXCROPS 3.2.5.1: a created object's handle lands in its slot and later ROPs of the same buffer use
    it (here with the FID known beforehand, as a client with cached folder IDs can)."""
    rops: list[RopRequest] = [
        RopLogonRequest(0, 0, 1, 0x01000000, 0, alice.legacy_dn),
        RopOpenFolderRequest(0, 0, 1, mailbox.ipm_subtree.fid),
        RopGetHierarchyTableRequest(0, 1, 2, 0x04),
        RopSetColumnsRequest(0, 2, 0, TREE_COLUMNS),
        RopQueryRowsRequest(0, 2, 0, 1, 100),
    ]
    responses, table, _ = run(engine, rops, [U, U, U])
    assert len(set(table)) == 3 and U not in table
    rows = responses[-1]
    assert isinstance(rows, RopQueryRowsResponse) and rows.origin == BOOKMARK_END
    names = [row.get(0x3001001F) for row in rows.row_data]
    expected = [f.display_name for f, _ in mailbox.ipm_subtree.descendants()]
    assert names == expected  # depth-first tree order (PROTOCOL.md §10)
    depths = [row.get(0x30050003) for row in rows.row_data]
    assert depths == [d for _, d in mailbox.ipm_subtree.descendants()]
    parents = {row.get(0x67480014): row.get(0x67490014) for row in rows.row_data}
    assert parents[mailbox.specials["Inbox"].fid] == mailbox.ipm_subtree.fid


# -- handle table rules (MS-OXCROPS 3.2.5.1) ------------------------------------------------------------


def test_bad_indexes_and_released_handles(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    handle, _ = logon(engine, alice)
    fid = mailbox.specials["Inbox"].fid
    # An index beyond the table, and a slot holding 0xFFFFFFFF: ecNullObject.
    responses, _, _ = run(engine, [RopOpenFolderRequest(0, 3, 1, fid)], [handle, U])
    assert responses == [RopFailureResponse(0x02, 1, EC_NULL_OBJECT)]
    responses, _, _ = run(engine, [RopOpenFolderRequest(0, 1, 0, fid)], [handle, U])
    assert responses == [RopFailureResponse(0x02, 0, EC_NULL_OBJECT)]
    # A released folder: ecInvalidObject.
    folder = open_folder(engine, handle, fid)
    run(engine, [RopReleaseRequest(0, 0)], [folder])
    responses, _, _ = run(engine, [RopGetContentsTableRequest(0, 0, 1, 0)], [folder, U])
    assert responses == [RopFailureResponse(0x05, 1, EC_INVALID_OBJECT)]
    # Another logon's object: ecAccessDenied.
    run(engine, [RopLogonRequest(7, 0, 1, 0x01000000, 0, alice.legacy_dn)], [U])
    folder = open_folder(engine, handle, fid)
    responses, _, _ = run(engine, [RopGetContentsTableRequest(7, 0, 1, 0)], [folder, U])
    assert responses == [RopFailureResponse(0x05, 1, EC_ACCESS_DENIED)]
    # An unknown FID: NotFound; the output slot keeps its value.
    responses, table, _ = run(engine, [RopOpenFolderRequest(0, 0, 1, 0x7777000000000001)], [handle, U])
    assert responses == [RopFailureResponse(0x02, 1, EC_NOT_FOUND)]
    assert table == (handle, U)


def test_queryrows_before_setcolumns_fails(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    handle, _ = logon(engine, alice)
    inbox = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    responses, _, _ = run(
        engine, [RopGetContentsTableRequest(0, 0, 1, 0), RopQueryRowsRequest(0, 1, 0, 1, 10)], [inbox, U]
    )
    assert responses[1] == RopFailureResponse(0x15, 1, EC_NULL_OBJECT)


def test_releasing_the_logon_releases_everything(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    handle, _ = logon(engine, alice)
    folder = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    assert len(engine.objects) == 2
    run(engine, [RopReleaseRequest(0, 0)], [handle])
    assert engine.objects == {} and engine.logons == {}
    responses, _, _ = run(engine, [RopGetContentsTableRequest(0, 0, 1, 0)], [folder, U])
    assert isinstance(responses[0], RopFailureResponse)


def test_unparsable_rop_input_fails_the_call(engine: RopEngine) -> None:
    """MS-OXCROPS 3.2.5.1: a ROP input buffer that does not parse fails the RPC with 0x000004B6."""
    rop_buffer = encode_ext_buffer(RopBuffer(bytes.fromhex("28 00 00"), (U,)).encode())
    response = engine.execute(ExecuteRequest(rop_buffer=rop_buffer))
    assert response.error_code == EC_RPC_FORMAT and response.rop_buffer == b""


# -- tables ---------------------------------------------------------------------------------------------


def _contents(engine: RopEngine, alice: SimUser, mailbox: Mailbox, folder: str = "Inbox") -> int:
    handle, _ = logon(engine, alice)
    found = mailbox.find_path(folder)
    assert found is not None
    inbox = open_folder(engine, handle, found.fid)
    _, table, _ = run(
        engine,
        [RopGetContentsTableRequest(0, 0, 1, 0), RopSetColumnsRequest(0, 1, 0, CONTENTS_COLUMNS)],
        [inbox, U],
    )
    return table[1]


def test_queryrows_backwards_and_no_advance(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    table = _contents(engine, alice, mailbox)
    peek, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0x01, 1, 5)], [table])
    again, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0x00, 1, 5)], [table])
    assert isinstance(peek[0], RopQueryRowsResponse) and isinstance(again[0], RopQueryRowsResponse)
    assert peek[0].row_data == again[0].row_data  # NoAdvance did not move the cursor
    back, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0x00, 0, 3)], [table])
    assert isinstance(back[0], RopQueryRowsResponse)
    assert back[0].origin == BOOKMARK_CURRENT
    assert [r.get(0x674A0014) for r in back[0].row_data] == [r.get(0x674A0014) for r in again[0].row_data][
        4:1:-1
    ]
    back, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0x00, 0, 10)], [table])
    assert isinstance(back[0], RopQueryRowsResponse)
    assert (len(back[0].row_data), back[0].origin) == (2, BOOKMARK_BEGINNING)


def test_unicode_and_8bit_and_unspecified_columns(
    engine: RopEngine, alice: SimUser, mailbox: Mailbox
) -> None:
    table = _contents(engine, alice, mailbox)
    columns = (0x0037001E, 0x0E080000, 0x00370000, 0x0E080014, 0x12340003)
    _, _, _ = run(engine, [RopSetColumnsRequest(0, 0, 0, columns)], [table])
    body = ExecuteRequest(rop_buffer=rop_input([RopQueryRowsRequest(0, 0, 0, 1, 1)], [table]))
    (buf,) = rop_output_buffers(engine.execute(body).rop_buffer)
    (resp,) = decode_responses(buf.rops, None, columns)
    assert isinstance(resp, RopQueryRowsResponse)
    row = resp.row_data[0]
    newest = max(mailbox.specials["Inbox"].messages, key=lambda m: m.received)
    assert row.flag == 1  # the unknown 0x1234 column is in error
    assert [v.value for v in row.values[:4]] == [newest.subject, newest.size, newest.subject, newest.size]
    assert [int(v.tag) for v in row.values[:4]] == [0x0037001E, 0x0E080003, 0x0037001F, 0x0E080014]
    assert row.values[4].value == ErrorValue(EC_NOT_FOUND)


# -- output limits -------------------------------------------------------------------------------------


def test_buffer_too_small_returns_the_unprocessed_requests(
    engine: RopEngine, alice: SimUser, mailbox: Mailbox
) -> None:
    """MS-OXCROPS 2.2.15.1: with a small MaxRopOut the RopLogon response (166 bytes) does not fit, so the
    output is RopBufferTooSmall carrying every request, none of them done; resending the unprocessed
    requests with MaxRopOut >= SizeNeeded makes progress until all are done."""
    rops: list[RopRequest] = [
        RopLogonRequest(0, 0, 1, 0x01000000, 0, alice.legacy_dn),
        RopOpenFolderRequest(0, 0, 1, mailbox.ipm_subtree.fid),
    ]
    responses, table, _ = run(engine, rops, [U, U], max_rop_out=100)
    (too_small,) = responses
    assert isinstance(too_small, RopBufferTooSmallResponse)
    assert too_small.request_buffers == encode_rops(rops)
    assert table == (U, U) and engine.objects == {}
    assert too_small.size_needed >= 8 + 2 + 8 + 166
    responses, table, _ = run(engine, rops, [U, U], max_rop_out=too_small.size_needed)
    # SizeNeeded is what the first unprocessed ROP needs: the logon fits now, the folder does not yet.
    assert isinstance(responses[0], RopLogonPrivateMailboxResponse)
    assert isinstance(responses[1], RopBufferTooSmallResponse)
    assert responses[1].request_buffers == rops[1].to_bytes()
    assert table[0] != U and table[1] == U
    rest = decode_requests(responses[1].request_buffers)
    responses, table, _ = run(engine, rest, table, max_rop_out=0x10008)
    assert not isinstance(responses[0], RopFailureResponse) and U not in table


def test_queryrows_fits_whole_rows_only(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    """MS-OXCTABL 3.2.5.5: as many whole rows as fit; with room for none, RopBufferTooSmall."""
    table = _contents(engine, alice, mailbox)
    responses, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0, 1, 100)], [table], max_rop_out=600)
    assert isinstance(responses[0], RopQueryRowsResponse)
    fitted = len(responses[0].row_data)
    assert 0 < fitted < 100
    assert len(responses[0].to_bytes()) + 2 + 4 <= 600 - 8
    responses, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0, 1, 100)], [table], max_rop_out=30)
    assert isinstance(responses[0], RopBufferTooSmallResponse)
    responses, _, _ = run(engine, [RopQueryRowsRequest(0, 0, 0, 1, 1)], [table])
    assert isinstance(responses[0], RopQueryRowsResponse)
    assert responses[0].row_data[0].get(0x674A0014) not in (None,)


def test_compression_only_when_allowed_and_worth_it(
    engine: RopEngine, alice: SimUser, mailbox: Mailbox
) -> None:
    table = _contents(engine, alice, mailbox)
    rops = [RopQueryRowsRequest(0, 0, 0x01, 1, 60)]
    _, _, plain = run(engine, rops, [table], flags=0x3)
    assert not engine.last.compressed
    _, _, packed = run(engine, rops, [table], flags=0x0)
    assert engine.last.compressed
    header = next(iter_ext_buffers(packed.rop_buffer)).header
    assert header.flags == 0x0005 and header.size < header.size_actual  # Compressed|Last, never XorMagic
    assert rop_output_buffers(plain.rop_buffer) == rop_output_buffers(packed.rop_buffer)
    _, _, small = run(engine, [RopQueryRowsRequest(0, 0, 0x01, 1, 1)], [table], flags=0x0)
    assert not engine.last.compressed and small.rop_buffer[2] == 0x04


# -- named properties and store properties ------------------------------------------------------------


def test_property_ids_from_names(engine: RopEngine, alice: SimUser) -> None:
    handle, _ = logon(engine, alice)
    ps_public = uuid.UUID("00020329-0000-0000-C000-000000000046")
    names = (PropertyName(0x01, ps_public, name="Keywords"), PropertyName(0x00, ps_public, lid=0x8501))
    responses, _, _ = run(engine, [RopGetPropertyIdsFromNamesRequest(0, 0, 0x00, names)], [handle])
    assert responses == [RopGetPropertyIdsFromNamesResponse(0, (0, 0))]
    responses, _, _ = run(engine, [RopGetPropertyIdsFromNamesRequest(0, 0, 0x02, names)], [handle])
    assert isinstance(responses[0], RopGetPropertyIdsFromNamesResponse)
    ids = responses[0].property_ids
    assert all(0x8000 <= i <= 0xFFFE for i in ids) and len(set(ids)) == 2
    again = (PropertyName(0x01, ps_public, name="KEYWORDS"),)
    responses, _, _ = run(engine, [RopGetPropertyIdsFromNamesRequest(0, 0, 0x00, again)], [handle])
    assert responses == [RopGetPropertyIdsFromNamesResponse(0, (ids[0],))]


def test_store_and_folder_properties(engine: RopEngine, alice: SimUser, mailbox: Mailbox) -> None:
    handle, _ = logon(engine, alice)
    tags = (PropertyTag(0x3001001F), PropertyTag(0x0E080014))
    responses, _, _ = run(engine, [RopGetPropertiesSpecificRequest(0, 0, 0, 1, tags)], [handle])
    resp = responses[0]
    assert isinstance(resp, RopGetPropertiesSpecificResponse)
    assert resp.row_data.get(0x3001001F) == f"Mailbox - {alice.display_name}"
    inbox = open_folder(engine, handle, mailbox.specials["Inbox"].fid)
    tags = (
        PropertyTag(0x36020003),
        PropertyTag(0x3613001F),
        PropertyTag(0x0FFF0102),
        PropertyTag(0x3001001F),
    )
    responses, _, _ = run(engine, [RopGetPropertiesSpecificRequest(0, 0, 4, 1, tags)], [inbox])
    resp = responses[0]
    assert isinstance(resp, RopGetPropertiesSpecificResponse)
    # PropertySizeLimit 4: the 46-byte EntryID and the name are too big (NotEnoughMemory).
    assert [v.value for v in resp.row_data.values] == [120] + [ErrorValue(0x8007000E)] * 3
    responses, _, _ = run(engine, [RopGetPropertiesSpecificRequest(0, 0, 0, 1, tags)], [inbox])
    resp = responses[0]
    assert isinstance(resp, RopGetPropertiesSpecificResponse)
    assert resp.row_data.get(0x3613001F) == "IPF.Note"
    assert len(resp.row_data.get(0x0FFF0102)) == 46  # folder EntryID, MS-OXCDATA 2.2.4.1


# -- fuzzing ---------------------------------------------------------------------------------------------

_FUZZ_USER = load_organisation().users[0]
_FUZZ_HANDLER = MailboxHandler(load_organisation())


def _fuzz_engine() -> RopEngine:
    return RopEngine(_FUZZ_USER, _FUZZ_HANDLER.org, lambda: _FUZZ_HANDLER.mailbox_for(_FUZZ_USER))


_SEED_ROPS: list[RopRequest] = [
    RopLogonRequest(0, 0, 1, 0x01000000, 0, _FUZZ_USER.legacy_dn),
    RopOpenFolderRequest(0, 0, 1, 0x0001000000000003),
    RopGetContentsTableRequest(0, 1, 2, 0),
    RopSetColumnsRequest(0, 2, 0, CONTENTS_COLUMNS),
    RopQueryRowsRequest(0, 2, 0, 1, 5),
    RopGetHierarchyTableRequest(0, 1, 2, 4),
    RopReleaseRequest(0, 1),
]
_SEED = rop_input(_SEED_ROPS, [U, U, U])


@settings(max_examples=examples(2000), suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200), st.integers(0, 0x20000), st.integers(0, 7))
def test_fuzz_random_rop_buffers(data: bytes, max_rop_out: int, flags: int) -> None:
    response = _fuzz_engine().execute(ExecuteRequest(flags=flags, rop_buffer=data, max_rop_out=max_rop_out))
    assert isinstance(response, ExecuteResponse)


def _request_handle_count(rop_buffer: bytes) -> int | None:
    """How many handles the (possibly mutated) request carries, read as the server reads it; None where the
    buffer does not split."""
    try:
        (ext,) = list(iter_ext_buffers(rop_buffer))
        return len(RopBuffer.decode(ext.payload).server_object_handle_table)
    except (ProtocolError, ValueError):
        return None


@settings(max_examples=examples(2000), suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_SEED) - 1), st.integers(0, 255)), min_size=1, max_size=4))
# Found by a random CI run: RopSize's low byte (just after the 8-byte RPC_HEADER_EXT) made 0xC4, so the
# RopsList is read longer and the handle table after it differs. The server's output table mirrors the
# input table as parsed (MS-OXCROPS 2.2.1), so its length follows the mutated RopSize, not the seed's 3.
@example([(8, 196)])
# Found when every ROP of MS-OXCROPS 2.2 became decodable: a mutated RopId turned a request into a ROP the
# simulator does not implement; it must answer that ROP with ecNotSupported, not fail the Execute.
@example([(209, 9)])
def test_fuzz_mutated_rop_buffers(mutations: list[tuple[int, int]]) -> None:
    data = bytearray(_SEED)
    for pos, value in mutations:
        data[pos] = value
    engine = _fuzz_engine()
    response = engine.execute(ExecuteRequest(flags=3, rop_buffer=bytes(data)))
    assert isinstance(response, ExecuteResponse)
    if response.rop_buffer:
        (buf,) = rop_output_buffers(response.rop_buffer)
        assert len(buf.server_object_handle_table) == _request_handle_count(bytes(data))


# -- the endpoint over loopback HTTPS -------------------------------------------------------------------


def _endpoint(sim: Any, user: SimUser, mailbox_user: SimUser | None = None) -> MapiHttpEndpoint:
    """A client of the emsmdb endpoint with real NTLM (``normal`` offers no Basic on /mapi/)."""
    target = mailbox_user or user
    url = f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={target.mailbox_guid}@contoso.test"
    options = ConnectionOptions(connect_to=tuple(sim.connect_to), ca_certs=(sim.ca_cert_path,))
    return MapiHttpEndpoint(url, make_mapihttp_client(options), auth=NTLMAuth(user.user, user.password))


@pytest.mark.network
def test_endpoint_connect_execute_wait_disconnect(sim: Any, client: Any) -> None:
    service = sim.endpoints["emsmdb"]
    assert isinstance(service, MailboxService)
    service.mailbox.notification_wait_s = 0.1
    # The bare path is no endpoint (PROTOCOL.md §10).
    assert client.https("POST", "mail.contoso.test", "/mapi/emsmdb/").status_code == 404
    alice = sim.users[0]
    endpoint = _endpoint(sim, alice)
    ctx = SessionContext()
    connect = ConnectResponse.decode(
        endpoint.request("Connect", ConnectRequest(alice.legacy_dn).encode(), context=ctx).body
    )
    assert isinstance(connect, ConnectResponse)
    assert connect.error_code == 0 and connect.display_name == alice.display_name
    body = ExecuteRequest(
        rop_buffer=rop_input([RopLogonRequest(0, 0, 1, 0x01000000, 0, alice.legacy_dn)], [U])
    )
    answer = ExecuteResponse.decode(endpoint.request("Execute", body.encode(), context=ctx).body)
    assert isinstance(answer, ExecuteResponse)
    (buf,) = rop_output_buffers(answer.rop_buffer)
    assert isinstance(decode_responses(buf.rops)[0], RopLogonPrivateMailboxResponse)
    waited = endpoint.request("NotificationWait", NotificationWaitRequest().encode(), context=ctx)
    nw = NotificationWaitResponse.decode(waited.body)
    assert isinstance(nw, NotificationWaitResponse) and nw.event_pending == 0
    bye = DisconnectResponse.decode(
        endpoint.request("Disconnect", DisconnectRequest().encode(), context=ctx).body
    )
    assert isinstance(bye, DisconnectResponse) and bye.error_code == 0
    assert not [c for c in service.contexts if c.user == alice]
    endpoint.client.close()


@pytest.mark.network
def test_endpoint_connect_for_someone_else_is_refused(sim: Any) -> None:
    """UserDn of another user, or another user's MailboxId: ecLoginFailure in the Connect body, and no
    Session Context is left behind."""
    alice, bob = sim.users[0], sim.users[1]
    for endpoint, dn in (
        (_endpoint(sim, alice), bob.legacy_dn),
        (_endpoint(sim, alice, bob), alice.legacy_dn),
    ):
        result = endpoint.request("Connect", ConnectRequest(dn).encode(), context=SessionContext())
        answer = ConnectResponse.decode(result.body)
        assert isinstance(answer, ConnectResponse) and answer.error_code == 0x80040111
        endpoint.client.close()
    assert not [c for c in sim.endpoints["emsmdb"].contexts if c.user == alice]
