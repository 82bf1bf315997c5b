"""Session context by hand: columns follow the table's server object handle across Executes, are forgotten
when the handle is released or a new object takes it, and two sessions (X-RequestId GUIDs) never mix."""

from __future__ import annotations

from typing import Any

from mapiprobe.protocol.capture import CapturedExchange
from mapiprobe.protocol.capture_decode import CaptureDecoder, DecodedExchange
from mapiprobe.protocol.emsmdb import ExecuteRequest, ExecuteResponse
from mapiprobe.protocol.envelope import encode_envelope
from mapiprobe.protocol.execute import rop_input
from mapiprobe.protocol.properties import PropertyRow, PropertyTag, PropertyValue
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import (
    RopQueryRowsResponse,
    RopReleaseRequest,
    RopSetColumnsRequest,
    RopSetColumnsResponse,
    encode_rops,
)
from mapiprobe.protocol.rops.folder import (
    RopGetContentsTableRequest,
    RopGetContentsTableResponse,
    RopGetHierarchyTableRequest,
    RopGetHierarchyTableResponse,
)
from mapiprobe.protocol.rops.table import RopQueryRowsRequest
from mapiprobe.protocol.rpcext import encode_ext_buffers

URL = "https://mail.contoso.test/mapi/emsmdb/?MailboxId=x@contoso.test"
SUBJECT, SIZE = 0x0037001F, 0x0E080003
FOLDER, TABLE = 0x0000_0100, 0x0000_0200  # server object handles
U = 0xFFFFFFFF


def execute(
    index: int, guid: str, requests: list[Any], handles: list[int], responses: list[Any], *out: int
) -> CapturedExchange:
    body = ExecuteRequest(flags=0, rop_buffer=rop_input(requests, handles), max_rop_out=0x10008).encode()
    payload = RopBuffer(encode_rops(responses), out).encode()
    answer = ExecuteResponse(rop_buffer=encode_ext_buffers([payload])).encode()
    return CapturedExchange(
        index, "POST", URL,
        request_headers=(("Content-Type", "application/mapi-http"), ("X-RequestType", "Execute"),
                         ("X-RequestId", f"{{{guid}}}:{index}")),
        request_body=body, status=200, reason="OK",
        response_headers=(("Content-Type", "application/mapi-http"), ("X-ResponseCode", "0")),
        response_body=encode_envelope(answer),
    )  # fmt: skip


def rows(columns: tuple[int, ...], *values: tuple[object, ...]) -> tuple[PropertyRow, ...]:
    return tuple(
        PropertyRow(0, tuple(PropertyValue(PropertyTag(t), v) for t, v in zip(columns, row, strict=True)))
        for row in values
    )


def query(
    handle_index: int, columns: tuple[int, ...], *values: tuple[object, ...]
) -> tuple[RopQueryRowsRequest, RopQueryRowsResponse]:
    return (
        RopQueryRowsRequest(0, handle_index, 0, 1, 10),
        RopQueryRowsResponse(handle_index, 2, rows(columns, *values), columns),
    )


def row_values(d: DecodedExchange) -> list[list[object]]:
    assert d.response_error is None, d.response_error
    out = []
    for entry in d.response["Body"]["RopBuffer"]:
        for rop in entry["RopsList"]:
            if isinstance(rop, RopQueryRowsResponse):
                out += [[v.value for v in r.values] for r in rop.row_data]
    return out


A = "0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F"
B = "11111111-2222-4333-8444-555555555555"


def test_columns_follow_handles_and_are_forgotten_when_released_or_replaced() -> None:
    contents = (SUBJECT, SIZE)
    hierarchy = (0x3001001F,)
    q1, r1 = query(1, contents, ("first", 10))
    q2, r2 = query(0, contents, ("second", 20))
    _, r3 = query(1, hierarchy, ("Inbox",))
    exchanges = [
        # 1: a contents table at slot 1 (handle TABLE), its columns set, the first page.
        execute(1, A, [RopGetContentsTableRequest(0, 0, 1), RopSetColumnsRequest(0, 1, 0, contents), q1],
                [FOLDER, U], [RopGetContentsTableResponse(1, 2), RopSetColumnsResponse(1), r1],
                FOLDER, TABLE),
        # 2: the next page in an Execute of its own, the table in slot 0 this time.
        execute(2, A, [q2], [TABLE], [r2], TABLE),
        # 3: the same page asked in session B, which never set columns on its handle TABLE.
        execute(3, B, [q2], [TABLE], [r2], TABLE),
        # 4: session A releases the table; a hierarchy table gets the same handle value, with its columns.
        execute(4, A, [RopReleaseRequest(0, 0), RopGetHierarchyTableRequest(0, 1, 2),
                       RopSetColumnsRequest(0, 2, 0, hierarchy)],
                [TABLE, FOLDER, U], [RopGetHierarchyTableResponse(2, 1), RopSetColumnsResponse(2)],
                TABLE, FOLDER, TABLE),
        execute(5, A, [RopQueryRowsRequest(0, 1, 0, 1, 10)], [FOLDER, TABLE], [r3], FOLDER, TABLE),
        # 6: released again, replaced by a new contents table whose columns the capture does not hold.
        execute(6, A, [RopReleaseRequest(0, 1), RopGetContentsTableRequest(0, 0, 1)], [FOLDER, TABLE],
                [RopGetContentsTableResponse(1, 1)], FOLDER, TABLE),
        execute(7, A, [q2], [TABLE], [r2], TABLE),
    ]  # fmt: skip
    d = (
        [CaptureDecoder().decode(ex) for ex in exchanges]
        if False
        else list(CaptureDecoder().decode_all(exchanges))
    )
    assert row_values(d[0]) == [["first", 10]]
    assert row_values(d[1]) == [["second", 20]]  # columns from Execute 1, by handle
    assert d[2].response_error is not None  # another session: nothing known
    assert "does not hold the RopSetColumns" in d[2].response_error["reason"]
    assert row_values(d[4]) == [["Inbox"]]  # the new table's columns, not the released one's
    assert d[6].response_error is not None and "columns are unknown" in d[6].response_error["reason"]
    assert d[6].failures and "does not decode" in d[6].failures[0]
    assert d[0].session == d[1].session != d[2].session


def test_a_connect_starts_the_session_afresh() -> None:
    contents = (SUBJECT, SIZE)
    q1, r1 = query(1, contents, ("x", 1))
    q2, r2 = query(0, contents, ("y", 2))
    first = execute(1, A, [RopGetContentsTableRequest(0, 0, 1), RopSetColumnsRequest(0, 1, 0, contents), q1],
                    [FOLDER, U], [RopGetContentsTableResponse(1, 1), RopSetColumnsResponse(1), r1],
                    FOLDER, TABLE)  # fmt: skip
    connect = CapturedExchange(
        2, "POST", URL,
        request_headers=(("Content-Type", "application/mapi-http"), ("X-RequestType", "Connect"),
                         ("X-RequestId", f"{{{A}}}:2")),
        request_body=None, status=None,
    )  # fmt: skip
    decoded = list(CaptureDecoder().decode_all([first, connect, execute(3, A, [q2], [TABLE], [r2], TABLE)]))
    assert row_values(decoded[0]) == [["x", 1]]
    assert decoded[1].failures == ["no response in the capture"]
    assert decoded[2].response_error is not None  # the new context knows no table


def test_failed_rops_and_response_codes_are_listed() -> None:
    from mapiprobe.protocol.rops import RopFailureResponse
    from mapiprobe.protocol.rops.folder import RopOpenFolderRequest

    failed = execute(1, A, [RopOpenFolderRequest(0, 0, 1, 0x1234)], [FOLDER, U],
                     [RopFailureResponse(0x02, 1, 0x8004010F)], FOLDER, U)  # fmt: skip
    d = CaptureDecoder().decode(failed)
    assert d.failures == ["RopOpenFolder (0x02) failed: 0x8004010F (NotFound)"]
    assert d.response_error is None and not d.ok
    expired = CapturedExchange(
        2, "POST", URL,
        request_headers=(("Content-Type", "application/mapi-http"), ("X-RequestType", "Execute")),
        request_body=failed.request_body, status=200, reason="OK",
        response_headers=(("Content-Type", "text/html"), ("X-ResponseCode", "10")),
        response_body=b"<html>Context not found</html>",
    )  # fmt: skip
    d = CaptureDecoder().decode(expired)
    assert d.response_code == 10 and d.failures[0].startswith("X-ResponseCode 10 Context Not Found")
    assert d.to_json()["response"]["Text"] == "<html>Context not found</html>"
    late = CapturedExchange(
        3, "POST", URL,
        request_headers=(("Content-Type", "application/mapi-http"), ("X-RequestType", "Execute")),
        request_body=failed.request_body, status=200, reason="OK",
        response_headers=(("Content-Type", "application/mapi-http"), ("X-ResponseCode", "0")),
        response_body=encode_envelope(b"server busy", response_code=12),
    )  # fmt: skip
    d = CaptureDecoder().decode(late)
    assert d.response_code == 12 and "late, in the envelope" in d.failures[0]
