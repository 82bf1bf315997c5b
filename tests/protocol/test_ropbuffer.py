"""The ROP input/output buffer frame (protocol/ropbuffer.py, MS-OXCROPS 2.2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.errors import DecodeError, EncodeError, ProtocolError, ShortBuffer
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.ropbuffer import HANDLE_UNUSED, RopBuffer
from tests.hypothesis_profiles import examples

from .ropvectors import vector


def test_oxcrops_4_4_frame() -> None:
    raw = vector("oxcrops_4_4_roprelease_request")
    buf = RopBuffer.decode(raw)
    assert buf.rop_size == 8
    assert buf.rops == bytes.fromhex("01 00 00 01 00 01")
    assert buf.server_object_handle_table == (0x6F, 0x6E)
    assert buf.encode() == raw
    assert to_jsonable(buf) == {
        "RopSize": 8,
        "RopsList": "010000010001",
        "ServerObjectHandleTable": [0x6F, 0x6E],
    }


def test_oxcrops_4_6_and_4_7_frames() -> None:
    for name, size, table in (
        ("oxcrops_4_6_logon_ropbackoff_response", 0x12, (0x28,)),
        ("oxcrops_4_7_ropbackoff_response", 0x18, (0x0A, 0x24)),
    ):
        raw = vector(name)
        buf = RopBuffer.decode(raw)
        assert (buf.rop_size, buf.server_object_handle_table) == (size, table)
        assert buf.encode() == raw


def test_empty_rops_list_and_empty_table() -> None:
    # A response to nothing but RopRelease: RopSize 2 and no RopsList (PROTOCOL.md 7.1 step 7).
    assert RopBuffer.decode(b"\x02\x00") == RopBuffer(b"", ())
    assert RopBuffer(b"", (HANDLE_UNUSED,)).encode() == b"\x02\x00\xff\xff\xff\xff"


def test_handle_table_must_be_whole_u32s() -> None:
    with pytest.raises(DecodeError) as info:
        RopBuffer.decode(bytes.fromhex("08 00 01 00 00 01 00 01 6F 00 00 00 6E 00 00"))
    assert info.value.offset == 8
    assert info.value.field == "ServerObjectHandleTable"
    assert "multiple of 4" in (info.value.expected or "")


def test_rop_size_out_of_range() -> None:
    with pytest.raises(DecodeError, match="smaller than the RopSize field"):
        RopBuffer.decode(b"\x01\x00")
    with pytest.raises(ShortBuffer) as info:
        RopBuffer.decode(bytes.fromhex("10 00 01 00 00"))
    assert info.value.field == "RopsList"
    with pytest.raises(ShortBuffer):
        RopBuffer.decode(b"\x08")
    with pytest.raises(EncodeError):
        RopBuffer(b"\x00" * 0xFFFE).encode()


def test_offsets_count_from_the_enclosing_capture() -> None:
    with pytest.raises(DecodeError) as info:
        RopBuffer.decode(bytes.fromhex("02 00 01"), base=0x18)
    assert info.value.offset == 0x18 + 2


@given(st.binary(max_size=300), st.lists(st.integers(0, 0xFFFFFFFF), max_size=20))
def test_round_trip(rops: bytes, handles: list[int]) -> None:
    buf = RopBuffer(rops, tuple(handles))
    raw = buf.encode()
    assert int.from_bytes(raw[:2], "little") == 2 + len(rops)
    assert RopBuffer.decode(raw) == buf


@settings(max_examples=examples(2000))
@given(st.binary(max_size=80))
def test_fuzz_only_protocol_errors(data: bytes) -> None:
    try:
        buf = RopBuffer.decode(data)
    except ProtocolError:
        return
    assert buf.encode() == data
