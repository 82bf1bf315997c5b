"""ROP codecs against the worked examples printed in the Microsoft specs (tests/data/ox*_*.txt).

Every vector is decoded to the fields the spec states and encoded again byte for byte. The examples show
single ROPs (no RopSize or handle table) unless the file says it is a whole buffer.
"""

from __future__ import annotations

import uuid

import pytest

from mapiprobe.protocol.errors import DecodeError, ProtocolError
from mapiprobe.protocol.properties import FolderId, PropertyName, PropertyRow, PropertyValue
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import (
    BackoffRop,
    LogonTime,
    MailboxFolderIds,
    PublicFolderIds,
    RopBackoffResponse,
    RopBufferTooSmallResponse,
    RopFailureResponse,
    RopGetContentsTableRequest,
    RopGetHierarchyTableResponse,
    RopGetPropertiesSpecificRequest,
    RopGetPropertiesSpecificResponse,
    RopGetPropertyIdsFromNamesRequest,
    RopGetPropertyIdsFromNamesResponse,
    RopId,
    RopLogonPrivateMailboxResponse,
    RopLogonPublicFoldersResponse,
    RopLogonRedirectResponse,
    RopLogonRequest,
    RopOpenFolderRequest,
    RopOpenFolderResponse,
    RopPendingResponse,
    RopQueryRowsRequest,
    RopQueryRowsResponse,
    RopReleaseRequest,
    RopSetColumnsRequest,
    RopSetColumnsResponse,
    decode_requests,
    decode_responses,
    encode_rops,
)

from .ropvectors import vector

# -- MS-OXCROPS 4.4, 4.6, 4.7: whole buffers ----------------------------------------------------------------


def test_oxcrops_4_4_two_releases() -> None:
    raw = vector("oxcrops_4_4_roprelease_request")
    buf = RopBuffer.decode(raw)
    assert buf.rop_size == 8
    assert buf.server_object_handle_table == (0x6F, 0x6E)
    rops = decode_requests(buf.rops, base=2)
    assert rops == [RopReleaseRequest(0, 0), RopReleaseRequest(0, 1)]
    assert RopBuffer(encode_rops(rops), buf.server_object_handle_table).encode() == raw


def test_oxcrops_4_4_releases_expect_no_response() -> None:
    requests = decode_requests(RopBuffer.decode(vector("oxcrops_4_4_roprelease_request")).rops)
    assert decode_responses(b"", requests) == []


def test_oxcrops_4_6_setcolumns_and_logon_backoff() -> None:
    raw = vector("oxcrops_4_6_logon_ropbackoff_response")
    buf = RopBuffer.decode(raw)
    assert buf.rop_size == 0x12
    assert buf.server_object_handle_table == (0x28,)
    rops = decode_responses(buf.rops, base=2)
    assert rops == [
        RopSetColumnsResponse(input_handle_index=0, table_status=0),
        RopBackoffResponse(logon_id=0, duration=0x1234, backoff_rop_data=(), additional_data=b""),
    ]
    assert RopBuffer(encode_rops(rops), buf.server_object_handle_table).encode() == raw


def test_oxcrops_4_7_openfolder_and_rop_backoff() -> None:
    raw = vector("oxcrops_4_7_ropbackoff_response")
    buf = RopBuffer.decode(raw)
    assert buf.rop_size == 0x18
    assert buf.server_object_handle_table == (0x0A, 0x24)
    rops = decode_responses(buf.rops)
    assert rops == [
        RopOpenFolderResponse(output_handle_index=1, has_rules=0, is_ghosted=0),
        RopBackoffResponse(
            logon_id=0, duration=0, backoff_rop_data=(BackoffRop(RopId.RopCreateFolder, 0x00044F17),)
        ),
    ]
    assert RopBuffer(encode_rops(rops), buf.server_object_handle_table).encode() == raw


def test_oxcrops_4_7_backoff_answers_no_request() -> None:
    # The request held RopOpenFolder and RopCreateFolder; the backoff stands in for the second one.
    requests = [
        RopOpenFolderRequest(0, 0, 1, FolderId(0x0001)),
    ]
    rops = decode_responses(RopBuffer.decode(vector("oxcrops_4_7_ropbackoff_response")).rops, requests)
    assert isinstance(rops[0], RopOpenFolderResponse)
    assert isinstance(rops[1], RopBackoffResponse)


# -- MS-OXCTABL 4.1.1, 4.2.1, 4.5.3.1 --------------------------------------------------------------------


def test_oxctabl_4_1_1_getcontentstable_request() -> None:
    raw = vector("oxctabl_4_1_1_getcontentstable_request")
    (rop,) = decode_requests(raw)
    assert rop == RopGetContentsTableRequest(
        logon_id=0, input_handle_index=0, output_handle_index=1, table_flags=0
    )
    assert rop.to_bytes() == raw


OXCTABL_4_2_1_COLUMNS = (0x67480014, 0x674A0014, 0x674D0014, 0x674E0003, 0x0037001F, 0x0E060040)


def test_oxctabl_4_2_1_setcolumns_request() -> None:
    raw = vector("oxctabl_4_2_1_setcolumns_request")
    (rop,) = decode_requests(raw)
    assert isinstance(rop, RopSetColumnsRequest)
    assert (rop.logon_id, rop.input_handle_index, rop.set_columns_flags) == (0, 1, 0)
    assert rop.property_tags == OXCTABL_4_2_1_COLUMNS
    assert rop.property_tags[0].name == "PidTagFolderId"
    assert rop.property_tags[4].name == "PidTagSubject"
    assert rop.to_bytes() == raw


def test_oxctabl_4_5_3_1_queryrows_request() -> None:
    raw = vector("oxctabl_4_5_3_1_queryrows_request")
    assert raw == bytes.fromhex("15 00 00 00 01 32 00")
    (rop,) = decode_requests(raw)
    assert rop == RopQueryRowsRequest(
        logon_id=0, input_handle_index=0, query_rows_flags=0x00, forward_read=0x01, row_count=50
    )
    assert encode_rops([rop]) == raw


# -- MS-OXCFOLD 4.7.2 ---------------------------------------------------------------------------------------


def test_oxcfold_4_7_2_gethierarchytable_response() -> None:
    raw = vector("oxcfold_4_7_2_gethierarchytable_response")
    (rop,) = decode_responses(raw)
    assert rop == RopGetHierarchyTableResponse(output_handle_index=2, row_count=21)
    assert rop.return_value == 0
    assert rop.to_bytes() == raw


# -- MS-OXCPRPT 4.1.2, 4.3.1 --------------------------------------------------------------------------------


def test_oxcprpt_4_1_2_getpropertyidsfromnames_response() -> None:
    raw = vector("oxcprpt_4_1_2_getpropertyidsfromnames_response")
    (rop,) = decode_responses(raw)
    assert rop == RopGetPropertyIdsFromNamesResponse(input_handle_index=0, property_ids=(0x863E, 0x863F))
    assert rop.to_bytes() == raw


def test_oxcprpt_4_3_1_getpropertiesspecific_request() -> None:
    raw = vector("oxcprpt_4_3_1_getpropertiesspecific_request")
    (rop,) = decode_requests(raw)
    assert rop == RopGetPropertiesSpecificRequest(
        logon_id=0,
        input_handle_index=0,
        property_size_limit=0,
        want_unicode=1,
        property_tags=(0x863E000B, 0x863F0003, 0x65E20102),
    )
    assert rop.to_bytes() == raw


# -- MS-OXORULE 4.2: a RopSetColumns / RopQueryRows exchange on the rules table ----------------------------

RULE_COLUMNS = (0x66740014, 0x66840102, 0x6682001F)


def _oxorule_requests() -> list[object]:
    return [
        *decode_requests(vector("oxorule_4_2_1_setcolumns_request")),
        *decode_requests(vector("oxorule_4_2_1_queryrows_request")),
    ]


def test_oxorule_4_2_1_requests() -> None:
    setcolumns, queryrows = _oxorule_requests()
    assert setcolumns == RopSetColumnsRequest(0, 1, 0, RULE_COLUMNS)
    assert queryrows == RopQueryRowsRequest(0, 1, 0, 1, 50)
    raw = vector("oxorule_4_2_1_setcolumns_request") + vector("oxorule_4_2_1_queryrows_request")
    assert encode_rops([setcolumns, queryrows]) == raw  # type: ignore[list-item]
    # The spec's handle array: the folder, then the output slot of the rules table.
    table = RopBuffer.decode(b"\x02\x00" + vector("oxorule_4_2_1_handle_table")).server_object_handle_table
    assert table == (0x223, 0xFFFFFFFF)


def test_oxorule_4_2_2_responses_paired_with_requests() -> None:
    requests = _oxorule_requests()
    raw = vector("oxorule_4_2_2_setcolumns_response") + vector("oxorule_4_2_2_queryrows_response")
    setcolumns, queryrows = decode_responses(raw, requests)  # type: ignore[arg-type]
    assert setcolumns == RopSetColumnsResponse(input_handle_index=1, table_status=0)
    assert isinstance(queryrows, RopQueryRowsResponse)
    assert (queryrows.input_handle_index, queryrows.return_value, queryrows.origin) == (1, 0, 0x02)
    assert len(queryrows.row_data) == 1
    row = queryrows.row_data[0]
    assert row.flag == 0x00
    assert row.get(0x66740014) == 0x56F83F0100000001
    assert row.get(0x66840102) == bytes.fromhex("01000000 01000000 55555555 d144e340")
    assert row.get(0x6682001F) == "Project X"
    assert encode_rops([setcolumns, queryrows]) == raw


def test_oxorule_4_2_2_queryrows_with_columns_option() -> None:
    raw = vector("oxorule_4_2_2_queryrows_response")
    (rop,) = decode_responses(raw, columns=RULE_COLUMNS)
    assert isinstance(rop, RopQueryRowsResponse)
    assert rop.row_data[0].get(0x6682) == "Project X"
    assert rop.to_bytes() == raw


def test_oxorule_4_2_2_queryrows_without_columns_says_so() -> None:
    raw = vector("oxorule_4_2_2_queryrows_response")
    with pytest.raises(DecodeError) as info:
        decode_responses(raw)
    assert "--columns" in str(info.value)
    assert info.value.offset == 9
    assert info.value.field == "RowData"


# -- constructed vectors (built from the MS-OXCROPS layouts; not printed in any spec) -----------------------

# PROTOCOL.md 8.2: RopLogon request of the constructed Execute example (private logon, OpenFlags 0x01000000).
CONSTRUCTED_LOGON_REQUEST = bytes.fromhex("FE 00 00 01 00 00 00 01 00 00 00 00 0C 00") + b"/o=ex/cn=u1\x00"


def test_constructed_logon_request() -> None:
    (rop,) = decode_requests(CONSTRUCTED_LOGON_REQUEST)
    assert rop == RopLogonRequest(0, 0, 0x01, 0x01000000, 0, "/o=ex/cn=u1")
    assert rop.to_bytes() == CONSTRUCTED_LOGON_REQUEST
    assert RopLogonRequest(0, 0, 0, 0x02).to_bytes().endswith(b"\x00\x00")  # EssdnSize 0, no Essdn


def _fids(n: int = 13) -> list[FolderId]:
    return [FolderId.from_parts(1, i + 1) for i in range(n)]


def _private_logon_response() -> RopLogonPrivateMailboxResponse:
    return RopLogonPrivateMailboxResponse(
        output_handle_index=0,
        logon_flags=0x01,
        folder_ids=MailboxFolderIds(*_fids()),
        response_flags=0x01 | 0x02 | 0x04,
        mailbox_guid=uuid.UUID("11111111-2222-3333-4444-555555555555"),
        repl_id=1,
        repl_guid=uuid.UUID("66666666-7777-8888-9999-AAAAAAAAAAAA"),
        logon_time=LogonTime(seconds=5, minutes=4, hour=3, day_of_week=1, day=2, month=1, year=2024),
        gwart_time=0x01D0000000000000,
        store_state=0,
    )


def test_constructed_private_logon_response_is_166_bytes() -> None:
    rop = _private_logon_response()
    raw = rop.to_bytes()
    assert len(raw) == 166  # MS-OXCROPS 2.2.3.1.2; PROTOCOL.md 8.2
    assert raw[:7] == bytes.fromhex("FE 00 00 00 00 00 01")
    assert decode_responses(raw) == [rop]
    assert rop.folder_ids.ipm_subtree == FolderId.from_parts(1, 4)
    assert rop.logon_time.to_datetime() is not None


def test_logon_layout_follows_the_request_private_flag() -> None:
    public = RopLogonPublicFoldersResponse(0, 0x00, PublicFolderIds(*_fids()), 5, uuid.uuid4())
    raw = public.to_bytes()
    assert len(raw) == 6 + 1 + 104 + 2 + 16 + 16
    assert decode_responses(raw) == [public]
    request = RopLogonRequest(0, 0, 0x00, 0x02)
    assert decode_responses(raw, [request]) == [public]


def test_logon_redirect_and_failure() -> None:
    redirect = RopLogonRedirectResponse(0, 0x01, "/o=ex/ou=x/cn=Configuration/cn=Servers/cn=mbx2")
    raw = redirect.to_bytes()
    assert raw[2:6] == bytes.fromhex("78 04 00 00")
    assert raw[7] == len(redirect.server_name) + 1
    assert decode_responses(raw) == [redirect]
    failure = bytes.fromhex("FE 00 EB 03 00 00")  # ecUnknownUser, MS-OXCSTOR 3.2.5.1.3
    (rop,) = decode_responses(failure)
    assert rop == RopFailureResponse(RopId.RopLogon, 0, 0x3EB)
    assert rop.to_bytes() == failure
    assert rop.__json__()["OutputHandleIndex"] == 0


def test_every_response_has_its_failure_form() -> None:
    for rop_id in (0x02, 0x04, 0x05, 0x07, 0x12, 0x15, 0x56, 0xFE):
        raw = bytes([rop_id, 3]) + (0x8004010F).to_bytes(4, "little")
        (rop,) = decode_responses(raw)
        assert rop == RopFailureResponse(rop_id, 3, 0x8004010F)
        assert rop.to_bytes() == raw


def test_constructed_ghosted_open_folder() -> None:
    rop = RopOpenFolderResponse(1, 0, 1, cheap_server_count=1, servers=("srv1", "srv2"))
    raw = rop.to_bytes()
    assert raw == bytes.fromhex("02 01 00000000 00 01 0200 0100") + b"srv1\x00srv2\x00"
    assert decode_responses(raw) == [rop]
    assert rop.__json__()["ServerCount"] == 2


def test_constructed_browse_buffer_from_protocol_md() -> None:
    # PROTOCOL.md 8.2: OpenFolder + GetHierarchyTable + SetColumns + QueryRows (61 bytes).
    raw = bytes.fromhex(
        "3100 02000001 0100000000000001 00 0400010200"
        "120002000400 1F000130 14004867 03000236 0B000A36 150002000164 00"
        "44332211 FFFFFFFF FFFFFFFF"
    )
    buf = RopBuffer.decode(raw)
    rops = decode_requests(buf.rops, base=2)
    assert [r.rop_id for r in rops] == [0x02, 0x04, 0x12, 0x15]
    assert isinstance(rops[0], RopOpenFolderRequest)
    assert str(rops[0].folder_id) == "0001-000000000001"
    assert buf.encode() == raw


def test_getpropertiesspecific_response_uses_request_tags() -> None:
    request = decode_requests(vector("oxcprpt_4_3_1_getpropertiesspecific_request"))
    tags = (0x863E000B, 0x863F0003, 0x65E20102)
    row = PropertyRow(
        0, (PropertyValue(tags[0], True), PropertyValue(tags[1], 7), PropertyValue(tags[2], b"ck"))
    )
    rop = RopGetPropertiesSpecificResponse(0, row, tags)
    raw = rop.to_bytes()
    assert raw == bytes.fromhex("07 00 00000000 00 01 07000000 0200 636B")
    assert decode_responses(raw, request) == [rop]
    with pytest.raises(DecodeError, match="PropertyTags"):
        decode_responses(raw)


def test_getpropertyidsfromnames_request_round_trip() -> None:
    names = (
        PropertyName(0x01, uuid.UUID("00020329-0000-0000-C000-000000000046"), name="TestProp1"),
        PropertyName(0x00, uuid.UUID("00062008-0000-0000-C000-000000000046"), lid=0x8501),
    )
    rop = RopGetPropertyIdsFromNamesRequest(0, 0, 0x02, names)
    assert decode_requests(rop.to_bytes()) == [rop]


def test_server_generated_rops() -> None:
    too_small = RopBufferTooSmallResponse(0x1234, bytes.fromhex("15 00 00 00 01 32 00"))
    pending = RopPendingResponse(3)
    raw = encode_rops([pending, too_small])
    assert raw == bytes.fromhex("6E 0300 FF 3412 15000000013200")
    assert decode_responses(raw) == [pending, too_small]
    assert decode_requests(too_small.request_buffers)[0].rop_id == RopId.RopQueryRows


def test_queryrows_columns_follow_the_setcolumns_on_the_same_handle() -> None:
    cols_a, cols_b = (0x3001001F,), (0x36020003,)
    requests = [
        RopSetColumnsRequest(0, 1, 0, cols_a),
        RopSetColumnsRequest(0, 2, 0, cols_b),
        RopQueryRowsRequest(0, 2, 0, 1, 10),
        RopQueryRowsRequest(0, 1, 0, 1, 10),
    ]
    row_b = PropertyRow(0, (PropertyValue(cols_b[0], 42),))
    row_a = PropertyRow(0, (PropertyValue(cols_a[0], "Inbox"),))
    responses = [
        RopSetColumnsResponse(1),
        RopSetColumnsResponse(2),
        RopQueryRowsResponse(2, 2, (row_b,), cols_b),
        RopQueryRowsResponse(1, 2, (row_a,), cols_a),
    ]
    assert decode_responses(encode_rops(responses), requests) == responses


def test_columns_of_a_failed_setcolumns_are_not_used() -> None:
    requests = [RopSetColumnsRequest(0, 1, 0, (0x3001001F,)), RopQueryRowsRequest(0, 1, 0, 1, 10)]
    row = PropertyRow(0, (PropertyValue(0x36020003, 7),))
    raw = (
        RopFailureResponse(0x12, 1, 0x80040102).to_bytes()
        + RopQueryRowsResponse(1, 2, (row,), (0x36020003,)).to_bytes()
    )
    (_, queryrows) = decode_responses(raw, requests, columns=(0x36020003,))
    assert isinstance(queryrows, RopQueryRowsResponse)
    assert queryrows.row_data[0].get(0x36020003) == 7


def test_responses_out_of_step_with_requests() -> None:
    requests = [RopQueryRowsRequest(0, 1, 0, 1, 10)]
    with pytest.raises(DecodeError, match="does not answer request"):
        decode_responses(RopSetColumnsResponse(1).to_bytes(), requests)
    with pytest.raises(DecodeError, match="no request left"):
        decode_responses(RopSetColumnsResponse(1).to_bytes() * 2, [RopSetColumnsRequest(0, 1, 0, (1,))])


def test_unknown_rop_ids_name_the_rop_and_offset() -> None:
    with pytest.raises(DecodeError) as info:
        decode_requests(bytes.fromhex("01 00 00 28 00 00"), base=2)
    assert info.value.offset == 5
    assert "reserved RopId 0x28" in str(info.value)
    with pytest.raises(DecodeError) as info:  # a known ROP cut short names the field it stopped in
        decode_requests(bytes.fromhex("01 00 00 03 00 00"), base=2)
    assert (info.value.offset, info.value.field) == (8, "OutputHandleIndex")
    with pytest.raises(DecodeError, match="reserved RopId 0x28"):
        decode_requests(b"\x28")
    with pytest.raises(DecodeError, match="never has a response"):
        decode_responses(b"\x01\x00\x00")


def test_decode_kinds_keep_the_rops_before_a_fault() -> None:
    from mapiprobe.protocol.registry import DecodeContext, kinds

    table = kinds()
    ctx = DecodeContext()
    raw = bytes.fromhex("0B00 0100 00 0100 01 0300 00 6F000000")  # two releases, then RopOpenMessage
    with pytest.raises(ProtocolError):
        table["rop-request"].func(raw, ctx)
    assert ctx.partial["RopSize"] == 0x0B
    assert ctx.partial["RopsList"][:2] == [RopReleaseRequest(0, 0), RopReleaseRequest(0, 1)]
    cut = ctx.partial["RopsList"][2]  # the cut RopOpenMessage, with the fields read before the cut
    assert (cut["RopId"], cut["LogonId"], cut["InputHandleIndex"]) == ("RopOpenMessage", 0, 0)
    assert "OutputHandleIndex" not in cut
    result = table["rop-response"].func(vector("oxcrops_4_7_ropbackoff_response"), DecodeContext())
    assert result["RopSize"] == 0x18 and len(result["RopsList"]) == 2


def test_json_view_uses_spec_names() -> None:
    from mapiprobe.protocol.jsonview import to_jsonable

    (setcolumns,) = decode_requests(vector("oxctabl_4_2_1_setcolumns_request"))
    view = to_jsonable(setcolumns)
    assert list(view)[:6] == [
        "RopId",
        "LogonId",
        "InputHandleIndex",
        "SetColumnsFlags",
        "PropertyTagCount",
        "PropertyTags",
    ]
    assert view["RopId"] == "RopSetColumns"
    assert view["PropertyTagCount"] == 6
    rop = decode_responses(vector("oxorule_4_2_2_queryrows_response"), columns=RULE_COLUMNS)[0]
    view = to_jsonable(rop)
    assert list(view)[:5] == ["RopId", "InputHandleIndex", "ReturnValue", "Origin", "RowCount"]
    assert "Columns" not in view
    logon = to_jsonable(_private_logon_response())
    assert logon["FolderIds"]["IpmSubtree"] == "0001-000000000004"
    assert logon["ReturnValue"] == 0
