"""Execute bodies decoded all the way down (protocol/execute.py), built around spec ROP bytes.

The ROPs are the MS-OXORULE 4.2.1 / 4.2.2 example (RopSetColumns + RopQueryRows of a rules table, with the
handle table the spec prints); around them go the framing layers — RopSize (MS-OXCROPS 2.2.1),
RPC_HEADER_EXT with and without compression and XorMagic (MS-OXCRPC 2.2.2.1, 3.1.4.1.1), the Execute body
(MS-OXCMAPIHTTP 2.2.4.2) and the response envelope (MS-OXCMAPIHTTP 2.2.7).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.cli import main
from mapiprobe.protocol.emsmdb import ExecuteRequest, ExecuteResponse
from mapiprobe.protocol.envelope import encode_envelope
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.execute import (
    decode_execute_request,
    decode_execute_response,
    rop_input,
    rop_output_buffers,
)
from mapiprobe.protocol.registry import DecodeContext
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import decode_requests
from mapiprobe.protocol.rpcext import encode_ext_buffers
from tests.hypothesis_profiles import examples

from .ropvectors import vector

RULE_COLUMNS = (0x66740014, 0x66840102, 0x6682001F)  # PidTagRuleId, PidTagRuleProviderData, PidTagRuleName


def _request_rops() -> bytes:
    return vector("oxorule_4_2_1_setcolumns_request") + vector("oxorule_4_2_1_queryrows_request")


def _response_rops() -> bytes:
    return vector("oxorule_4_2_2_setcolumns_response") + vector("oxorule_4_2_2_queryrows_response")


def _handles() -> tuple[int, ...]:
    table = vector("oxorule_4_2_1_handle_table")
    return tuple(int.from_bytes(table[i : i + 4], "little") for i in range(0, len(table), 4))


def _response_body(*, compress: bool = False, xor: bool = False) -> bytes:
    payload = RopBuffer(_response_rops(), (0x223, 0x1234)).encode()
    rop_buffer = encode_ext_buffers([payload], compress=compress, xor=xor)
    return ExecuteResponse(rop_buffer=rop_buffer).encode()


def test_request_built_from_spec_rops_decodes_to_the_spec_fields() -> None:
    requests = decode_requests(_request_rops())
    rop_buffer = rop_input(requests, _handles())
    body = ExecuteRequest(flags=3, rop_buffer=rop_buffer, max_rop_out=0x10008).encode()
    out = decode_execute_request(body, DecodeContext())
    (ext,) = out["RopBuffer"]
    assert ext["RPC_HEADER_EXT"].flags == 0x0004  # Last only: no compression, no XOR
    assert ext["RopSize"] == 2 + len(_request_rops())
    assert ext["ServerObjectHandleTable"] == [0x223, 0xFFFFFFFF]
    set_columns, query_rows = ext["RopsList"]
    assert [int(t) for t in set_columns.property_tags] == list(RULE_COLUMNS)
    assert query_rows.row_count == 50
    # Re-encoding the decoded ROPs gives the spec bytes back.
    assert rop_output_buffers(rop_buffer)[0].rops == _request_rops()


@pytest.mark.parametrize(("compress", "xor"), [(False, False), (True, False), (False, True), (True, True)])
def test_response_decodes_down_to_the_row(compress: bool, xor: bool) -> None:
    body = _response_body(compress=compress, xor=xor)
    out = decode_execute_response(body, DecodeContext(columns=RULE_COLUMNS))
    (ext,) = out["RopBuffer"]
    assert bool(ext["RPC_HEADER_EXT"].flags & 0x1) == compress
    assert bool(ext["RPC_HEADER_EXT"].flags & 0x2) == xor
    _set_columns, query_rows = ext["RopsList"]
    assert query_rows.origin == 2  # BOOKMARK_END, as MS-OXORULE 4.2.2 prints
    (row,) = query_rows.row_data
    assert row.get(0x66740014) == 0x56F83F0100000001
    assert row.get(0x6682001F) == "Project X"
    assert ext["ServerObjectHandleTable"] == [0x223, 0x1234]


def test_rule_values_are_the_spec_values() -> None:
    out = decode_execute_response(_response_body(), DecodeContext(columns=RULE_COLUMNS))
    row = out["RopBuffer"][0]["RopsList"][1].row_data[0]
    # MS-OXORULE 4.2.2: RuleId bytes 01 00 00 00 01 3f f8 56 (PtypInteger64, little-endian) and the
    # 16-byte PidTagRuleProviderData.
    assert row.get(0x66740014) == 0x56F83F0100000001
    assert row.get(0x66840102) == bytes.fromhex("0100000001000000 55555555 d144e340".replace(" ", ""))


def test_mapihttp_response_cli_goes_all_the_way_down(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    framed = encode_envelope(
        _response_body(compress=True), elapsed_time=3, start_time=dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    )
    capture = tmp_path / "execute.bin"
    capture.write_bytes(framed)
    columns = ",".join(f"0x{t:08X}" for t in RULE_COLUMNS)
    code = main(
        [
            "decode",
            "mapihttp-response",
            "--request-type",
            "Execute",
            "--file",
            str(capture),
            "--columns",
            columns,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Project X" in out
    assert "PidTagRuleName" in out


def test_broken_rop_inside_execute_shows_partial_and_offset(capsys: pytest.CaptureFixture[str]) -> None:
    body = bytearray(_response_body())
    body[16 + 8 + 2 + 7] = 0x00  # the RopId of the second ROP (RopQueryRows) becomes reserved 0x00
    code = main(["decode", "execute-response", "--hex", body.hex(), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2
    assert doc["ok"] is False
    assert doc["error"]["offset"] == 16 + 8 + 2 + 7
    # The RopSetColumns response before the fault is in the partial result.
    assert doc["decoded"]["RopBuffer"][0]["RopsList"][0]["RopId"] in (0x12, "RopSetColumns")


@settings(max_examples=examples(2000))
@given(st.data())
def test_fuzz_execute_response(data: st.DataObject) -> None:
    base = bytearray(_response_body(compress=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(base) - 1))
        base[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(base)))
    with contextlib.suppress(ProtocolError):
        decode_execute_response(bytes(base[:cut]), DecodeContext(columns=RULE_COLUMNS))
