"""RPC_HEADER_EXT chains, XorMagic and auxiliary buffers (protocol/rpcext.py).

Spec vectors: tests/data/oxcrpc_4_*.txt (MS-OXCRPC 4.1, 4.2, 4.3 print field tables, not hex dumps; the
files serialise those field values). Everything else here is constructed and says so.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol import lz77
from mapiprobe.protocol.errors import DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.registry import DecodeContext, kinds
from mapiprobe.protocol.rpcext import (
    AUX_BLOCK_TYPES,
    COMPRESSED,
    LAST,
    XOR_MAGIC,
    AuxBlock,
    AuxBlockData,
    AuxBuffer,
    AuxClientConnectionInfo,
    AuxClientControl,
    AuxEndpointCapabilities,
    AuxExOrgInfo,
    AuxHeader,
    AuxPerfClientInfo,
    AuxPerfServerInfo,
    AuxProtocolDeviceIdentification,
    AuxServerSessionInfo,
    ExtBuffer,
    RpcHeaderExt,
    RpcHeaderExtFlags,
    UnknownAuxBlock,
    decode_aux_buffer,
    decode_ext_buffers,
    encode_ext_buffer,
    encode_ext_buffers,
    join_payloads,
    xor_magic,
)
from tests.hypothesis_profiles import examples

DATA = Path(__file__).resolve().parents[1] / "data"


def load_lines(name: str) -> list[bytes]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [bytes.fromhex(line) for line in lines if line.strip() and not line.startswith("#")]


def load_hex(name: str) -> bytes:
    return b"".join(load_lines(name))


# --- spec vectors --------------------------------------------------------------------------------------


def test_oxcrpc_4_1_rgbauxout() -> None:
    wire = load_hex("oxcrpc_4_1_rgbauxout_exorginfo.txt")
    assert len(wire) == 0x10  # pcbAuxOut
    aux = decode_aux_buffer(wire)
    assert aux.header == RpcHeaderExt(version=0x0000, flags=0x0004, size=0x0008, size_actual=0x0008)
    (block,) = aux.blocks
    assert block.header == AuxHeader(size=0x0008, version=0x01, type=0x17)
    assert block.header.type_name == "AUX_TYPE_EXORGINFO"
    assert block.block == AuxExOrgInfo(org_flags=0x00000001)
    assert aux.encode() == wire
    assert AuxBuffer.build([AuxExOrgInfo(org_flags=1)]).encode() == wire
    shown = to_jsonable(aux)
    assert shown["Blocks"][0]["AUX_EXORGINFO"]["OrgFlagsNames"] == ["PUBLIC_FOLDERS_ENABLED"]


def test_oxcrpc_4_2_rgbin_header() -> None:
    wire = load_hex("oxcrpc_4_2_rgbin_rpc_header_ext.txt")
    hdr = RpcHeaderExt.decode(wire)
    assert hdr == RpcHeaderExt(version=0, flags=LAST, size=0x0152, size_actual=0x0152)
    assert hdr.encode() == wire
    # The payload is not printed; a constructed one of the stated size (RopSize 0x0142 = 2 + 320 bytes of
    # ROPs, then a 16-byte handle table) gives the stated cbIn of 0x15A.
    payload = b"\x42\x01" + bytes(320) + bytes(16)
    chain = encode_ext_buffers([payload])
    assert chain[:8] == wire
    assert len(chain) == 0x15A
    assert decode_ext_buffers(chain) == [ExtBuffer(hdr, payload)]


def test_oxcrpc_4_3_packed_chain() -> None:
    first_hdr, last_hdr = load_lines("oxcrpc_4_3_rgbout_chain_headers.txt")
    h1, h2 = RpcHeaderExt.decode(first_hdr), RpcHeaderExt.decode(last_hdr)
    assert (h1.flags, h1.size, h2.flags, h2.size) == (0x0000, 0x7FFE, 0x0004, 0x2008)
    assert not h1.last and h2.last
    # Constructed payloads of the stated sizes (RopSize 0x7FEE / 0x1FF8 + 16-byte handle tables).
    p1 = b"\xee\x7f" + bytes(0x7FEE - 2) + bytes(16)
    p2 = b"\xf8\x1f" + bytes(0x1FF8 - 2) + bytes(16)
    chain = encode_ext_buffers([p1, p2])
    assert len(chain) == 0xA016  # pcbOut
    assert chain[:8] == first_hdr
    assert chain[8 + len(p1) : 16 + len(p1)] == last_hdr
    buffers = decode_ext_buffers(chain)
    assert [b.header for b in buffers] == [h1, h2]
    assert join_payloads(buffers) == p1 + p2


def test_gromox_compressed_header_observation() -> None:
    # PROTOCOL.md §10 (observed on gromox, not a spec vector): flags 0x0005, Size 601, SizeActual 1530.
    hdr = RpcHeaderExt(0, COMPRESSED | LAST, 601, 1530)
    hdr.check()
    assert to_jsonable(hdr)["FlagNames"] == ["Compressed", "Last"]
    assert RpcHeaderExtFlags(hdr.flags) == RpcHeaderExtFlags.Compressed | RpcHeaderExtFlags.Last


# --- XorMagic (MS-OXCRPC 3.1.4.1.1.3) ------------------------------------------------------------------


def test_xor_magic_values() -> None:
    assert xor_magic(b"\x00\xa5\xff\x5a") == b"\xa5\x00\x5a\xff"


@given(st.binary(max_size=2048))
def test_xor_magic_is_an_involution(data: bytes) -> None:
    assert xor_magic(xor_magic(data)) == data
    assert len(xor_magic(data)) == len(data)


# --- chain rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 5, 96])
def test_last_only_on_the_final_header(count: int) -> None:
    payloads = [bytes([i]) * (i + 1) for i in range(count)]
    buffers = decode_ext_buffers(encode_ext_buffers(payloads))
    assert [b.header.last for b in buffers] == [False] * (count - 1) + [True]
    assert [b.payload for b in buffers] == payloads


def test_sending_order_compress_then_xor() -> None:
    payload = b"PidTagDisplayName " * 40
    wire = encode_ext_buffer(payload, compress=True, xor=True)
    hdr = RpcHeaderExt.decode(wire[:8])
    assert hdr.flags == COMPRESSED | XOR_MAGIC | LAST
    assert hdr.size_actual == len(payload)
    assert wire[8:] == xor_magic(lz77.compress(payload))
    assert decode_ext_buffers(wire) == [ExtBuffer(hdr, payload)]


def test_incompressible_payload_goes_out_plain() -> None:
    payload = random.Random(7).randbytes(1000)
    hdr = RpcHeaderExt.decode(encode_ext_buffer(payload, compress=True)[:8])
    assert hdr.flags == LAST
    assert hdr.size == hdr.size_actual == 1000


def test_encode_limits() -> None:
    with pytest.raises(EncodeError):
        encode_ext_buffers([])
    with pytest.raises(EncodeError):
        encode_ext_buffers([bytes(32 * 1024 + 1)])
    with pytest.raises(EncodeError):
        encode_ext_buffers([b"x"] * 97)
    assert len(encode_ext_buffers([bytes(32 * 1024)])) == 8 + 32 * 1024


def _hdr(version: int = 0, flags: int = LAST, size: int = 2, size_actual: int = 2) -> bytes:
    return RpcHeaderExt(version, flags, size, size_actual).encode()


def test_trailing_bytes_after_last() -> None:
    with pytest.raises(TrailingData) as info:
        decode_ext_buffers(_hdr() + b"ab" + b"z")
    assert info.value.offset == 10


def test_missing_last() -> None:
    with pytest.raises(DecodeError) as info:
        decode_ext_buffers(_hdr(flags=0) + b"ab")
    assert info.value.field == "Flags"
    assert info.value.offset == 10


def test_version_must_be_zero() -> None:
    with pytest.raises(DecodeError) as info:
        decode_ext_buffers(_hdr(version=1) + b"ab")
    assert info.value.field == "Version"


def test_size_rules() -> None:
    with pytest.raises(DecodeError) as info:
        decode_ext_buffers(_hdr(size=2, size_actual=3) + b"ab")
    assert info.value.field == "SizeActual"
    with pytest.raises(DecodeError) as info:
        decode_ext_buffers(_hdr(flags=LAST | COMPRESSED, size=4, size_actual=4) + b"\xff\xff\xff\xff")
    assert info.value.field == "Size"
    with pytest.raises(ShortBuffer):
        decode_ext_buffers(_hdr(size=5, size_actual=5) + b"ab")
    with pytest.raises(DecodeError):
        decode_ext_buffers(_hdr(flags=LAST | 0x10) + b"ab")
    with pytest.raises(ShortBuffer):
        decode_ext_buffers(b"")
    with pytest.raises(ShortBuffer):
        decode_ext_buffers(b"\x00\x00\x04")


def test_compressed_payload_error_offset_points_into_the_buffer() -> None:
    bad = b"\x00\x00\x00\x80\x00\x00"  # a match before the start of the output, at offset 4
    wire = _hdr(flags=0) + b"ab" + RpcHeaderExt(0, COMPRESSED | LAST, len(bad), 10).encode() + bad
    with pytest.raises(DecodeError) as info:
        decode_ext_buffers(wire)
    assert info.value.offset == 10 + 8 + 4


@st.composite
def chains(draw: st.DrawFn) -> tuple[list[bytes], bool, bool]:
    payloads = draw(
        st.lists(
            st.one_of(st.binary(max_size=600), st.binary(min_size=1, max_size=8).map(lambda b: b * 100)),
            min_size=1,
            max_size=4,
        )
    )
    return payloads, draw(st.booleans()), draw(st.booleans())


@given(chains())
@settings(max_examples=examples(200))
def test_chain_round_trip(case: tuple[list[bytes], bool, bool]) -> None:
    payloads, compress, xor = case
    wire = encode_ext_buffers(payloads, compress=compress, xor=xor)
    buffers = decode_ext_buffers(wire)
    assert [b.payload for b in buffers] == payloads
    assert all(b.header.xor_magic == xor for b in buffers)
    assert join_payloads(buffers) == b"".join(payloads)


@given(st.binary(max_size=300))
@settings(max_examples=examples(2000))
def test_fuzz_ext_buffers_random(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_ext_buffers(data)


_SEEDS = st.integers(min_value=0, max_value=2**32)


def _mutate(wire: bytearray, rnd: random.Random) -> bytes:
    """Flip, set, insert or delete a few bytes, or cut the buffer short."""
    for _ in range(rnd.randint(1, 3)):
        if not wire:
            break
        pos = rnd.randrange(len(wire))
        op = rnd.choice(["flip", "set", "insert", "delete", "truncate"])
        if op == "flip":
            wire[pos] ^= 1 << rnd.randrange(8)
        elif op == "set":
            wire[pos] = rnd.randrange(256)
        elif op == "insert":
            wire.insert(pos, rnd.randrange(256))
        elif op == "delete":
            del wire[pos]
        else:
            del wire[pos:]
    return bytes(wire)


@st.composite
def mutated_chains(draw: st.DrawFn) -> bytes:
    """A valid chain (1-3 payloads, maybe compressed and XORed), then mutated; few draws, so it is cheap."""
    data = draw(st.binary(max_size=120))
    rnd = random.Random(draw(_SEEDS))
    cuts = sorted(rnd.randrange(len(data) + 1) for _ in range(rnd.randint(0, 2)))
    payloads = [data[a:b] * rnd.randint(1, 3) for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    wire = encode_ext_buffers(payloads, compress=rnd.random() < 0.5, xor=rnd.random() < 0.5)
    return _mutate(bytearray(wire), rnd)


@given(mutated_chains())
@settings(max_examples=examples(2000))
def test_fuzz_ext_buffers_mutated(wire: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_ext_buffers(wire)


# --- auxiliary buffers ---------------------------------------------------------------------------------


def test_empty_aux_buffer() -> None:
    aux = decode_aux_buffer(b"")
    assert aux == AuxBuffer(None, ())
    assert aux.encode() == b""


def test_gromox_style_connect_aux_is_36_bytes() -> None:
    # PROTOCOL.md §10 saw a 36-byte auxiliary buffer on Connect; gromox sends EXORGINFO, CLIENT_CONTROL
    # and ENDPOINT_CAPABILITIES [I]. Constructed from those block layouts (MS-OXCRPC 2.2.2.2.15/17/20).
    aux = AuxBuffer.build(
        [
            AuxExOrgInfo(3),
            AuxClientControl(enable_flags=0x0C, expiry_time=604800000),
            AuxEndpointCapabilities(1),
        ]
    )
    wire = aux.encode()
    assert len(wire) == 36
    again = decode_aux_buffer(wire)
    assert again == aux
    shown = to_jsonable(again)
    assert shown["Blocks"][1]["AUX_CLIENT_CONTROL"]["EnableFlagsNames"] == [
        "ENABLE_COMPRESSION",
        "ENABLE_HTTP_TUNNELING",
    ]


def test_variable_fields_use_offsets_from_the_aux_header() -> None:
    info = AuxPerfServerInfo(server_id=1, server_type=1, server_dn="/o=ex/cn=srv", server_name=None)
    block = AuxBlock.build(info)
    raw = block.encode()
    # Fixed part: ServerID, ServerType, ServerDNOffset, ServerNameOffset (4 + 8 bytes before the string).
    assert raw[8:10] == (12).to_bytes(2, "little")
    assert raw[10:12] == b"\x00\x00"
    assert raw[12:] == "/o=ex/cn=srv".encode("utf-16-le") + b"\x00\x00"
    assert decode_aux_buffer(AuxBuffer.build([block]).encode()).blocks[0].block == info


def test_unknown_block_is_kept_raw() -> None:
    raw_block = bytes.fromhex("0a 00 01 49 de ad be ef 01 02")  # AUX_TYPE_EXCEPTION_TRACE, no layout
    payload = raw_block
    wire = RpcHeaderExt(0, LAST, len(payload), len(payload)).encode() + payload
    aux = decode_aux_buffer(wire)
    (block,) = aux.blocks
    assert isinstance(block.block, UnknownAuxBlock)
    assert block.block.data == bytes.fromhex("de ad be ef 01 02")
    assert block.header.type_name == "AUX_TYPE_EXCEPTION_TRACE"
    assert aux.encode() == wire
    with pytest.raises(EncodeError):
        AuxBlock.build(UnknownAuxBlock(b""))


def test_client_connection_info_both_widths() -> None:
    # ⚠ ConnectionAttempts: 4 bytes (MS-OXCRPC v20150914, gromox) or 2 bytes (v23 text). Constructed.
    guid = uuid.UUID("12345678-1234-5678-9abc-def012345678")
    four = AuxBlock.build(AuxClientConnectionInfo(guid, 0, 3, 1, "ctx")).encode()
    assert four[20:22] == (32).to_bytes(2, "little")  # the string follows a 28-byte fixed part
    two = (
        (4 + 26 + 8).to_bytes(2, "little")
        + b"\x01\x4a"
        + guid.bytes_le
        + (30).to_bytes(2, "little")
        + b"\x00\x00"
        + (3).to_bytes(2, "little")
        + (1).to_bytes(4, "little")
        + "ctx".encode("utf-16-le")
        + b"\x00\x00"
    )
    for raw in (four, two):
        wire = RpcHeaderExt(0, LAST, len(raw), len(raw)).encode() + raw
        (block,) = decode_aux_buffer(wire).blocks
        assert block.block == AuxClientConnectionInfo(guid, 0, 3, 1, "ctx")
        assert AuxBuffer(decode_aux_buffer(wire).header, (block,)).encode() == wire


def _aux_wire(payload: bytes) -> bytes:
    return RpcHeaderExt(0, LAST, len(payload), len(payload)).encode() + payload


def test_aux_errors() -> None:
    with pytest.raises(DecodeError) as info:
        decode_aux_buffer(_aux_wire(bytes.fromhex("02 00 01 17")))  # Size smaller than the header
    assert info.value.field == "AUX_HEADER.Size"
    with pytest.raises(ShortBuffer):
        decode_aux_buffer(_aux_wire(bytes.fromhex("10 00 01 17 01 00 00 00")))  # Size beyond the payload
    with pytest.raises(TrailingData):
        decode_aux_buffer(_aux_wire(bytes.fromhex("0a 00 01 17 01 00 00 00 00 00")))  # fixed block too long
    with pytest.raises(ShortBuffer):
        decode_aux_buffer(_aux_wire(bytes.fromhex("06 00 01 17 01 00")))  # fixed block too short
    with pytest.raises(DecodeError) as info:
        decode_aux_buffer(_aux_wire(bytes.fromhex("06 00 01 4b 40 00")))  # string offset outside the block
    assert info.value.field == "OffsetServerSessionContextInfo"
    with pytest.raises(DecodeError) as info:
        decode_aux_buffer(RpcHeaderExt(0, 0, 8, 8).encode() + bytes.fromhex("08 00 01 17 01 00 00 00"))
    assert info.value.field == "Flags"


_text = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_u16 = st.integers(min_value=0, max_value=0xFFFF)
_u32 = st.integers(min_value=0, max_value=0xFFFFFFFF)


def _strategy_for(cls: type[AuxBlockData]) -> st.SearchStrategy[AuxBlockData]:
    kinds_by_attr = dict(cls.LAYOUT)
    variable = dict(cls.VARIABLE)
    args: dict[str, st.SearchStrategy[Any]] = {}
    for f in cls.__dataclass_fields__.values():  # type: ignore[attr-defined]
        kind = kinds_by_attr.get(f.name)
        if f.name in variable:
            base = _text if variable[f.name] == "str" else st.binary(max_size=16)
            args[f.name] = st.none() | base
        elif kind == "u8":
            args[f.name] = st.integers(min_value=0, max_value=0xFF)
        elif kind == "u16":
            args[f.name] = _u16
        elif kind == "u32":
            args[f.name] = _u32
        elif kind == "guid":
            args[f.name] = st.uuids()
        elif isinstance(kind, int):
            args[f.name] = st.binary(min_size=kind, max_size=kind)
    return st.builds(cls, **args)


_BLOCK_CLASSES = sorted(set(AUX_BLOCK_TYPES.values()), key=lambda c: c.STRUCT_NAME)
_BLOCK_STRATEGIES = {cls: _strategy_for(cls) for cls in _BLOCK_CLASSES}
_ANY_BLOCK = st.one_of(list(_BLOCK_STRATEGIES.values()))
_BLOCK_LISTS = st.lists(_ANY_BLOCK, min_size=1, max_size=3)


@pytest.mark.parametrize("cls", _BLOCK_CLASSES, ids=lambda c: c.STRUCT_NAME)
def test_every_block_round_trips(cls: type[AuxBlockData]) -> None:
    @given(_BLOCK_STRATEGIES[cls])
    @settings(max_examples=examples(40))
    def check(block: AuxBlockData) -> None:
        aux = AuxBuffer.build([block])
        wire = aux.encode()
        again = decode_aux_buffer(wire)
        assert again == aux
        assert again.blocks[0].block == block
        assert again.encode() == wire
        to_jsonable(again)

    check()


@given(
    st.lists(st.sampled_from(_BLOCK_CLASSES).flatmap(_strategy_for), max_size=5), st.booleans(), st.booleans()
)
@settings(max_examples=examples(100))
def test_aux_buffer_round_trip(blocks: list[AuxBlockData], compress: bool, xor: bool) -> None:
    aux = AuxBuffer.build(blocks, compress=compress, xor=xor)
    assert decode_aux_buffer(aux.encode()) == aux


@given(st.binary(max_size=300))
@settings(max_examples=examples(2000))
def test_fuzz_aux_random(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_aux_buffer(data)


def _random_block(rnd: random.Random, cls: type[AuxBlockData]) -> AuxBlockData:
    kinds_by_attr = dict(cls.LAYOUT)
    variable = dict(cls.VARIABLE)
    args: dict[str, Any] = {}
    for name in cls.__dataclass_fields__:  # type: ignore[attr-defined]
        kind = kinds_by_attr.get(name)
        if name in variable:
            text = "".join(rnd.choice("abcXYZ/=é") for _ in range(rnd.randrange(8)))
            value: Any = text if variable[name] == "str" else text.encode()
            args[name] = None if rnd.random() < 0.3 else value
        elif kind == "guid":
            args[name] = uuid.UUID(int=rnd.getrandbits(128))
        elif isinstance(kind, int):
            args[name] = rnd.randbytes(kind)
        elif kind is not None:
            args[name] = rnd.getrandbits({"u8": 8, "u16": 16, "u32": 32}[kind])
    return cls(**args)


def _aux_pool() -> list[bytes]:
    rnd = random.Random(2024)
    pool = []
    for _ in range(64):
        blocks = [_random_block(rnd, rnd.choice(_BLOCK_CLASSES)) for _ in range(rnd.randint(1, 3))]
        pool.append(AuxBuffer.build(blocks, compress=rnd.random() < 0.3).encode())
    return pool


_AUX_POOL = _aux_pool()


@st.composite
def mutated_aux(draw: st.DrawFn) -> bytes:
    """One of 64 valid auxiliary buffers of random blocks, then mutated; few draws, so it is cheap."""
    wire = _AUX_POOL[draw(st.integers(min_value=0, max_value=len(_AUX_POOL) - 1))]
    return _mutate(bytearray(wire), random.Random(draw(_SEEDS)))


@given(mutated_aux())
@settings(max_examples=examples(2000))
def test_fuzz_aux_mutated(wire: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_aux_buffer(wire)


# --- decode kinds --------------------------------------------------------------------------------------


def test_decode_kinds_are_registered() -> None:
    table = kinds()
    for name in ("lz77", "rpc-header-ext", "aux-buffer"):
        assert name in table


def test_lz77_kind_framed_and_bare() -> None:
    func = kinds()["lz77"].func
    bare = (DATA / "xca_3_1_plain_lz77_abc300.txt").read_text(encoding="utf-8")
    stream = bytes.fromhex(" ".join(x for x in bare.splitlines() if not x.startswith("#")))
    result = func(stream, DecodeContext())
    assert result.header is None
    assert result.decompressed == b"abc" * 100
    framed = RpcHeaderExt(0, COMPRESSED | XOR_MAGIC | LAST, len(stream), 300).encode() + xor_magic(stream)
    result = func(framed, DecodeContext())
    assert result.header.size_actual == 300
    assert result.decompressed == b"abc" * 100


def test_rpc_header_ext_kind_keeps_partial_results() -> None:
    func = kinds()["rpc-header-ext"].func
    ctx = DecodeContext()
    with pytest.raises(DecodeError):
        func(_hdr(flags=0) + b"ab" + _hdr(version=1) + b"cd", ctx)
    assert ctx.partial["ExtBuffer[0]"].payload == b"ab"


def test_aux_buffer_kind_keeps_partial_results() -> None:
    func = kinds()["aux-buffer"].func
    ctx = DecodeContext()
    payload = bytes.fromhex("08 00 01 17 01 00 00 00") + bytes.fromhex("02 00 01 17")
    with pytest.raises(DecodeError):
        func(_aux_wire(payload), ctx)
    assert ctx.partial["RPC_HEADER_EXT"].size == len(payload)
    assert ctx.partial["AuxBlock[0]"].block == AuxExOrgInfo(1)
    assert func(b"", DecodeContext()) == AuxBuffer(None, ())


def test_json_of_unknown_and_variable_blocks() -> None:
    aux = AuxBuffer.build(
        [
            AuxPerfClientInfo(
                adapter_speed=1000, client_id=1, client_mode=2, machine_name="PC", client_ip=b"\n\0\0\1"
            ),
            AuxServerSessionInfo("session"),
            AuxProtocolDeviceIdentification(device_model="box"),
            AuxBlock.build(UnknownAuxBlock(b"\x01"), aux_version=3, aux_type=0x99),
        ]
    )
    shown = to_jsonable(decode_aux_buffer(aux.encode()))
    client = shown["Blocks"][0]["AUX_PERF_CLIENTINFO"]
    assert client["ClientModeName"] == "CLIENTMODE_CACHED"
    assert client["ClientIP"] == "0A000001"
    assert client["MachineName"] == "PC"
    assert shown["Blocks"][3]["UnknownBlock"] == {"Data": "01"}
    assert shown["Blocks"][3]["AUX_HEADER"]["TypeName"] == "unknown type 0x99"
