"""Bodies cut short: every example cut at every length decodes what is there and says where it stopped.

For each example and each cut, the decoder of its ``mapiprobe decode`` kind either succeeds (the full body)
or raises a ProtocolError — nothing else escapes — with ``offset``/``field``/``expected`` set, and
``ctx.partial`` keeps every field that lies wholly before the cut (checked field by field for the Execute
response around a RopLogon response: StatusCode, ErrorCode, RPC_HEADER_EXT, the RopLogon fields).
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.emsmdb import ExecuteRequest, ExecuteResponse
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.execute import rop_input
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.properties import FolderId
from mapiprobe.protocol.registry import DecodeContext, kinds
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import (
    RopLogonPrivateMailboxResponse,
    RopLogonRequest,
    RopQueryRowsRequest,
    RopSetColumnsRequest,
    encode_rops,
)
from mapiprobe.protocol.rops.logon import LogonTime, MailboxFolderIds
from mapiprobe.protocol.rpcext import encode_ext_buffers
from mapiprobe.protocol.salvage import CUT_MARK
from tests.hypothesis_profiles import examples

from .ropvectors import vector

LOGON = RopLogonPrivateMailboxResponse(
    output_handle_index=0,
    logon_flags=0x01,
    folder_ids=MailboxFolderIds(*[FolderId.from_parts(1, i + 1) for i in range(13)]),
    response_flags=0x07,
    mailbox_guid=uuid.UUID("11111111-2222-3333-4444-555555555555"),
    repl_id=1,
    repl_guid=uuid.UUID("66666666-7777-8888-9999-AAAAAAAAAAAA"),
    logon_time=LogonTime(seconds=5, minutes=4, hour=3, day_of_week=1, day=2, month=1, year=2024),
    gwart_time=0x01D0000000000000,
    store_state=0,
)


def _execute_response_with_logon() -> bytes:
    payload = RopBuffer(encode_rops([LOGON]), (0x11,)).encode()
    return ExecuteResponse(0, 0, encode_ext_buffers([payload])).encode()


def _execute_request() -> bytes:
    rops = [
        RopLogonRequest(0, 0, 0x01, 0x01000000, 0, "/o=ex/cn=u1"),
        RopSetColumnsRequest(0, 1, 0, (0x3001001F, 0x0E080003)),
        RopQueryRowsRequest(0, 1, 0, 1, 50),
    ]
    return ExecuteRequest(3, rop_input(rops, [0xFFFFFFFF, 0xFFFFFFFF])).encode()


EXECUTE_RESPONSE = _execute_response_with_logon()
EXAMPLES: list[tuple[str, bytes]] = [
    ("execute-response", EXECUTE_RESPONSE),
    ("execute-request", _execute_request()),
    ("rop-request", vector("oxcrops_4_4_roprelease_request")),
    ("rop-response", vector("oxcrops_4_7_ropbackoff_response")),
    ("rop-response", vector("oxcrops_4_6_logon_ropbackoff_response")),
    ("nspi-request", vector("oxcmapihttp_nspi_queryrows_request")),
]
# Framing examples whose ROP bytes are placeholders (MS-OXCRPC 4.2 prints sizes, not ROPs): fuzzed only.
FRAMING_ONLY = [
    ("execute-request", vector("oxcmapihttp_execute_oxcrpc_4_2_request")),
    ("execute-response", vector("oxcmapihttp_execute_oxcrpc_4_2_response")),
]


def _decode(kind: str, data: bytes) -> tuple[DecodeContext, object | None, ProtocolError | None]:
    ctx = DecodeContext(request_type="QueryRows" if kind.startswith("nspi") else None)
    try:
        value = kinds()[kind].func(data, ctx)
    except ProtocolError as exc:
        to_jsonable(ctx.partial)  # what the CLI prints must always render
        return ctx, None, exc
    return ctx, value, None


@pytest.mark.parametrize(("kind", "data"), EXAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)])
def test_every_cut_of_every_example(kind: str, data: bytes) -> None:
    _, value, error = _decode(kind, data)
    assert error is None and value is not None  # the whole example decodes
    failures = 0
    for n in range(len(data)):
        _, value, error = _decode(kind, data[:n])
        if error is None:  # a cut that lands on a boundary can leave a valid, shorter structure
            assert value is not None
            continue
        failures += 1
        assert error.offset is not None and 0 <= error.offset <= n, (n, error)
        assert error.expected or error.field
    assert failures >= len(data) // 2


# Offsets of the fields of EXECUTE_RESPONSE: StatusCode 0, ErrorCode 4, Flags 8, RopBufferSize 12,
# RPC_HEADER_EXT 16..24, RopSize 24, then the RopLogon response at 26: RopId, OutputHandleIndex, ReturnValue
# (27..32), LogonFlags 32, FolderIds 33..137, ResponseFlags 137, MailboxGuid 138..154, ReplId 154.
LOGON_AT = 26
LOGON_FIELDS = [
    ("OutputHandleIndex", 2, 0),
    ("ReturnValue", 6, 0),
    ("LogonFlags", 7, 1),
    ("ResponseFlags", 112, 0x07),
    ("ReplId", 130, 1),
]


def test_execute_response_cut_inside_the_logon_keeps_every_field_before_the_cut() -> None:
    assert EXECUTE_RESPONSE[LOGON_AT] == 0xFE
    cut = LOGON_AT + 120  # inside MailboxGuid
    ctx, _, error = _decode("execute-response", EXECUTE_RESPONSE[:cut])
    assert error is not None
    assert (error.offset, error.field) == (LOGON_AT + 112, "MailboxGuid")
    view = to_jsonable(ctx.partial)
    assert view["ExecuteResponse"]["StatusCode"] == 0 and view["ExecuteResponse"]["ErrorCode"] == 0
    (ext,) = view["RopBuffer"]
    assert ext["RPC_HEADER_EXT"]["Flags"] and ext["RopSize"] == 168
    (logon,) = ext["RopsList"]
    assert logon["RopId"] == "RopLogon"
    assert (logon["OutputHandleIndex"], logon["ReturnValue"], logon["LogonFlags"]) == (0, 0, 1)
    assert len(logon["FolderIds"]) == 13 and logon["ResponseFlags"] == 7
    assert "MailboxGuid" not in logon and CUT_MARK in logon


@settings(max_examples=examples(300), deadline=None)
@given(st.integers(min_value=0, max_value=len(EXECUTE_RESPONSE) - 1))
def test_execute_response_any_cut_keeps_the_fields_before_it(n: int) -> None:
    ctx, _, error = _decode("execute-response", EXECUTE_RESPONSE[:n])
    assert error is not None
    view = to_jsonable(ctx.partial)
    body = view["ExecuteResponse"]
    for name, end in (("StatusCode", 4), ("ErrorCode", 8), ("Flags", 12), ("RopBufferSize", 16)):
        assert (name in body) == (n >= end), (name, n)
    if n >= 24:
        assert view["RopBuffer"][0]["RPC_HEADER_EXT"]["Size"] == len(EXECUTE_RESPONSE) - 24 - 4
    if n > LOGON_AT:
        logon = view["RopBuffer"][0]["RopsList"][0]
        for name, end, value in LOGON_FIELDS:
            if n >= LOGON_AT + end:
                assert logon[name] == value, (name, n)
            else:
                assert name not in logon, (name, n)


@settings(max_examples=examples(500), deadline=None)
@given(st.sampled_from(EXAMPLES + FRAMING_ONLY), st.data())
def test_fuzz_cut_examples_only_raise_protocol_errors(
    example: tuple[str, bytes], data: st.DataObject
) -> None:
    kind, raw = example
    n = data.draw(st.integers(min_value=0, max_value=len(raw)))
    flip = data.draw(st.booleans())
    body = bytearray(raw[:n])
    if flip and body:
        i = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        body[i] ^= data.draw(st.integers(min_value=1, max_value=255))
    _decode(kind, bytes(body))  # only ProtocolError may escape, and the partial view renders
