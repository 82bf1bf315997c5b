"""LZ77 + DIRECT2 (protocol/lz77.py): MS-XCA 3.1 vectors, the MS-OXCRPC 3.1.4.1.1.2.2.x rules, hostile input.

Spec vectors live in tests/data/xca_*.txt. The MS-OXCRPC compression sections print bit patterns and
field values but no complete compressed streams; tests built from those patterns say "constructed".
"""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.errors import DecodeError, ProtocolError, ShortBuffer
from mapiprobe.protocol.lz77 import MAX_MATCH, compress, decompress, decompress_stream
from tests.hypothesis_profiles import examples

DATA = Path(__file__).resolve().parents[1] / "data"


def load_hex(name: str) -> bytes:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return bytes.fromhex(" ".join(line for line in lines if not line.startswith("#")))


# --- MS-XCA 3.1 (Plain LZ77) examples: decode to the stated text, re-encode byte for byte --------------


def test_xca_3_1_alphabet() -> None:
    vector = load_hex("xca_3_1_plain_lz77_alphabet.txt")
    text = b"abcdefghijklmnopqrstuvwxyz"
    assert struct.unpack_from("<I", vector)[0] == 0x0000003F  # 26 zero bits, then six 1 bits
    assert decompress(vector, len(text)) == text
    assert decompress_stream(vector) == text
    assert compress(text) == vector


def test_xca_3_1_abc_repeated() -> None:
    vector = load_hex("xca_3_1_plain_lz77_abc300.txt")
    text = b"abc" * 100
    # abc[match: distance = 3, length = 297]: metadata 0x0017 = (3 - 1) << 3 | 7, shared nibble 15,
    # byte 255, then the u16 0x0126 = 294 = 297 - 3 (the whole length minus 3, MS-OXCRPC 3.1.4.1.1.2.2.4).
    assert vector[7:9] == b"\x17\x00"
    assert vector[9] & 0x0F == 15
    assert vector[10] == 0xFF
    assert struct.unpack_from("<H", vector, 11)[0] == 297 - 3
    assert decompress(vector, 300) == text
    assert compress(text) == vector


# --- MS-OXCRPC 3.1.4.1.1.2.2.x rules (constructed streams) -----------------------------------------------


def test_metadata_0x0018_is_offset_minus_4() -> None:
    # MS-OXCRPC 3.1.4.1.1.2.2.3: "the metadata 0x0018 is converted into the offset b'000000000011', and the
    # length b'000'. In integers, the offset is '-4'". Constructed stream: four literals, that metadata,
    # then the end bit: bitmask bits 0000 1 1 (+ filler ones) = 0x0FFFFFFF.
    stream = bytes.fromhex("ff ff ff 0f") + b"WXYZ" + bytes.fromhex("18 00")
    assert decompress(stream, 7) == b"WXYZWXY"
    assert compress(b"WXYZWXY") == stream


def test_bitmask_abcabcdef_top_bits_are_0x11() -> None:
    # MS-OXCRPC 3.1.4.1.1.2.2.1 illustrates "ABCABCDEF" with a hypothetical 8-bit bitmask b'00010001'
    # (0x11): 3 literals, a match, 3 literals, the end bit. With the real 32-bit bitmask the same 8 bits
    # lead, the rest are filler ones. (Constructed; the spec shows only the 8-bit illustration.)
    stream = compress(b"ABCABCDEF")
    assert stream == bytes.fromhex("ff ff ff 11") + b"ABC" + bytes.fromhex("10 00") + b"DEF"
    assert stream[3] == 0x11
    assert decompress(stream, 9) == b"ABCABCDEF"


def test_bitmask_0x01000000_example() -> None:
    # MS-OXCRPC 3.1.4.1.1.2.2.1: "a bitmask of 0x01000000 indicates that the first seven bytes are actual
    # data, followed by encoded metadata that starts at the eighth byte. The metadata is followed by 24
    # additional bytes of data." Constructed around that bitmask; a second bitmask carries the end bit.
    tail = bytes(range(0x41, 0x41 + 24))
    stream = (
        bytes.fromhex("00 00 00 01")
        + b"abcdefg"
        + bytes.fromhex("30 00")
        + tail
        + bytes.fromhex("ff ff ff ff")
    )
    assert decompress(stream, 7 + 3 + 24) == b"abcdefg" + b"abc" + tail


def test_end_bit_needs_a_new_bitmask_after_32_elements() -> None:
    # MS-OXCRPC 3.1.4.1.1.2.2.1: "The final end bit is always necessary, even if an additional bitmask has
    # to be allocated." 32 literals fill the first bitmask, so the end bit gets a bitmask of its own.
    data = bytes(range(32))
    stream = compress(data)
    assert stream == b"\x00\x00\x00\x00" + data + b"\xff\xff\xff\xff"
    assert decompress(stream, 32) == data


@pytest.mark.parametrize(
    ("length", "extra"),
    [
        (3, ""),
        (9, ""),
        (10, "00"),
        (24, "0e"),  # b'111' + b'1110': 10 + 14
        (25, "0f 00"),  # b'111' + b'1111' + b'00000000'
        (26, "0f 01"),
        (279, "0f fe"),  # ... + b'11111110'
        (280, "0f ff 15 01"),  # ... + b'11111111' + 0x0115 (277 + 3)
        (281, "0f ff 16 01"),  # ... + 0x0116 (278 + 3)
        (MAX_MATCH, "0f ff ff ff"),
    ],
)
def test_match_length_encodings(length: int, extra: str) -> None:
    # MS-OXCRPC 3.1.4.1.1.2.2.4 "Length representation in metadata" (lengths 24, 25, 26, 279, 280, 281).
    # Constructed stream: a literal 'a', then a match of distance 1 and the given length.
    data = b"a" * (1 + length)
    stream = compress(data)
    meta = (0 << 3) | (length - 3 if length < 10 else 7)
    assert stream[4:5] == b"a"
    assert struct.unpack_from("<H", stream, 5)[0] == meta
    assert stream[7:] == bytes.fromhex(extra)
    assert decompress(stream, len(data)) == data


def test_shared_nibble_serves_two_long_matches() -> None:
    # MS-OXCRPC 3.1.4.1.1.2.2.4: the first long match uses the low nibble of a new shared byte, the next
    # long match the high nibble of the same byte. Constructed: 'a' + match(1, 10), 'b' + match(1, 12).
    data = b"a" * 11 + b"b" * 13
    stream = compress(data)
    assert stream == bytes.fromhex("ff ff ff 5f 61 07 00 20 62 07 00")
    assert decompress(stream, len(data)) == data


def test_xca_u16_zero_reads_a_u32_length() -> None:
    # MS-XCA 2.4.4: a u16 length of 0 is followed by the length as a u32 (length - 3). Constructed.
    length = 70_000
    stream = (
        bytes.fromhex("ff ff ff 7f")  # literal, match, end bit: 0x7FFFFFFF
        + b"a"
        + bytes.fromhex("07 00 0f ff 00 00")
        + struct.pack("<I", length - 3)
    )
    assert decompress_stream(stream) == b"a" * (1 + length)
    assert decompress(stream, 1 + length) == b"a" * (1 + length)


def test_small_u16_length_follows_oxcrpc() -> None:
    # MS-XCA would reject a u16 below 22; MS-OXCRPC 3.1.4.1.1.2.2.4 reads it as the length minus 3.
    stream = bytes.fromhex("ff ff ff 7f") + b"a" + bytes.fromhex("07 00 0f ff 05 00")
    assert decompress(stream, 9) == b"a" * 9


def test_empty_input() -> None:
    assert compress(b"") == b"\xff\xff\xff\xff"
    assert decompress(b"\xff\xff\xff\xff", 0) == b""


# --- hostile input -------------------------------------------------------------------------------------


def test_match_before_start_of_output() -> None:
    stream = bytes.fromhex("00 00 00 80 00 00")  # bitmask 0x80000000: first element is a match
    with pytest.raises(DecodeError) as info:
        decompress(stream, 3)
    assert info.value.offset == 4
    assert "reaches" in str(info.value)


def test_truncated_stream() -> None:
    data = b"hello hello hello hello"
    stream = compress(data)
    for cut in range(len(stream)):
        with pytest.raises(ProtocolError):
            decompress(stream[:cut], len(data))


def test_wrong_size() -> None:
    data = b"0123456789" * 10
    stream = compress(data)
    with pytest.raises(DecodeError) as info:
        decompress(stream, len(data) + 1)
    assert info.value.field == "SizeActual"
    with pytest.raises(DecodeError):
        decompress(stream, len(data) - 1)  # the stream would produce more than announced


def test_output_is_bounded() -> None:
    # A 3-byte literal prefix and a 65538-byte match must not be expanded past the cap.
    stream = bytes.fromhex("ff ff ff 7f") + b"a" + bytes.fromhex("07 00 0f ff ff ff")
    with pytest.raises(DecodeError):
        decompress(stream, 100)
    with pytest.raises(DecodeError):
        decompress_stream(stream, max_output=1000)


def test_missing_end_bit_after_full_output_is_tolerated() -> None:
    # Exactly 32 literals and no second bitmask: complete output is accepted, an incomplete one is not.
    data = bytes(range(32))
    stream = b"\x00\x00\x00\x00" + data
    assert decompress(stream, 32) == data
    with pytest.raises(ShortBuffer):
        decompress(stream, 33)


def test_trailing_bytes_after_end() -> None:
    stream = compress(b"abcdef") + b"\x00"
    with pytest.raises(DecodeError):
        decompress(stream, 6)


# --- round trips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "zeros", "text", "four-letters", "rows"])
def test_round_trip_32k(kind: str) -> None:
    rnd = random.Random(kind)
    size = 32 * 1024
    if kind == "random":
        data = os.urandom(size)
    elif kind == "zeros":
        data = bytes(size)
    elif kind == "text":
        data = (b"The quick brown fox jumps over the lazy dog. " * 800)[:size]
    elif kind == "four-letters":
        data = bytes(rnd.choice(b"abcd") for _ in range(size))
    else:
        row = b"\x1f\x00\x01\x30" + "Inbox".encode("utf-16-le") + b"\x00\x00\x14\x00\x48\x67"
        data = b"".join(row + rnd.randbytes(8) for _ in range(size // (len(row) + 8)))
    packed = compress(data)
    assert decompress(packed, len(data)) == data
    if kind != "random":
        assert len(packed) < len(data)


@given(st.binary(max_size=4096))
def test_round_trip_any_bytes(data: bytes) -> None:
    packed = compress(data)
    assert decompress(packed, len(data)) == data
    assert decompress_stream(packed) == data


@given(
    st.lists(
        st.tuples(st.binary(min_size=1, max_size=40), st.integers(min_value=1, max_value=400)),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=examples(200))
def test_round_trip_repetitive(pieces: list[tuple[bytes, int]]) -> None:
    data = b"".join(chunk * count for chunk, count in pieces)[: 32 * 1024]
    packed = compress(data)
    assert decompress(packed, len(data)) == data


@given(st.integers(min_value=280, max_value=32 * 1024), st.binary(min_size=1, max_size=3))
@settings(max_examples=examples(50))
def test_round_trip_long_matches(length: int, unit: bytes) -> None:
    data = (unit * (length // len(unit) + 2))[: length + 3]
    packed = compress(data)
    assert decompress(packed, len(data)) == data
    assert len(packed) < 32


# --- fuzz: only ProtocolError may escape ---------------------------------------------------------------


@given(st.binary(max_size=512), st.integers(min_value=0, max_value=70_000))
@settings(max_examples=examples(2000))
def test_fuzz_random_streams(data: bytes, size: int) -> None:
    try:
        out = decompress(data, size)
    except ProtocolError:
        return
    assert len(out) == size


@given(st.binary(max_size=512))
@settings(max_examples=examples(2000))
def test_fuzz_random_streams_unbounded(data: bytes) -> None:
    try:
        out = decompress_stream(data, max_output=4096)
    except ProtocolError:
        return
    assert len(out) <= 4096


@st.composite
def mutated_streams(draw: st.DrawFn) -> tuple[bytes, int]:
    """A valid stream with a few bytes flipped, set, inserted, deleted or cut off (seeded, so cheap)."""
    original = draw(st.binary(max_size=120)) * draw(st.integers(min_value=1, max_value=4))
    rnd = random.Random(draw(st.integers(min_value=0, max_value=2**32)))
    stream = bytearray(compress(original))
    for _ in range(rnd.randint(1, 4)):
        op = rnd.choice(["flip", "set", "insert", "delete", "truncate"])
        pos = rnd.randrange(len(stream))
        if op == "flip":
            stream[pos] ^= 1 << rnd.randrange(8)
        elif op == "set":
            stream[pos] = rnd.randrange(256)
        elif op == "insert":
            stream.insert(pos, rnd.randrange(256))
        elif op == "delete":
            del stream[pos]
        else:
            del stream[pos:]
        if not stream:
            break
    size = len(original) + rnd.choice([0, 0, 0, 1, -1, 100])
    return bytes(stream), max(0, size)


@given(mutated_streams())
@settings(max_examples=examples(2000))
def test_fuzz_mutated_streams(case: tuple[bytes, int]) -> None:
    stream, size = case
    try:
        out = decompress(stream, size)
    except ProtocolError:
        return
    assert len(out) == size
