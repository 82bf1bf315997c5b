"""LZ77 compression with the DIRECT2 encoding, as used for RPC_HEADER_EXT payloads.

MS-OXCRPC 3.1.4.1.1.2 ("Compression Algorithm") compresses the payload of an extended buffer with LZ77
(3.1.4.1.1.2.1) and serialises the result with the DIRECT2 encoding (3.1.4.1.1.2.2):

* a 32-bit little-endian **bitmask** precedes each group of up to 32 elements; its bits are read from the
  most significant down, 0 = a literal byte, 1 = match metadata (3.1.4.1.1.2.2.1);
* one more 1 bit after the last element marks the end of the stream, even when that needs a whole new
  bitmask (3.1.4.1.1.2.2.1);
* match **metadata** is a u16 whose high 13 bits hold the distance minus one ("0x0018 is offset -4") and
  whose low 3 bits hold the length minus 3 (3.1.4.1.1.2.2.3);
* a length field of 7 continues in a nibble of a **shared byte** (low nibble first, the high nibble is kept
  for the next long match), then in a full byte when the nibble is 15, then in a u16 holding the whole
  length minus 3 when that byte is 255 (3.1.4.1.1.2.2.4: lengths 24, 25, 279, 280 = ``0x0115``, 281).

This is the same wire format as MS-XCA 2.3/2.4 "Plain LZ77" (checked against the MS-XCA 3.1 examples, which
decode and re-encode byte for byte here). The two texts differ only for encodings no compressor emits for
payloads of at most 64 KiB: MS-XCA reads a u32 length after a u16 of 0 and rejects u16 values below 22,
while MS-OXCRPC gives every u16 the meaning "length minus 3". The decoder follows MS-XCA for 0 (the form a
Windows Xpress compressor writes for lengths above 65538) and MS-OXCRPC for 1..21; the encoder never emits
either (it caps matches at 65538 bytes).

The decoder is written for hostile input: it never produces more than the announced size, and a match that
reaches before the start of the output, a truncated stream or a result of the wrong size is a
:class:`~mapiprobe.protocol.errors.DecodeError` whose offset points into the compressed bytes.
"""

from __future__ import annotations

import struct

from .errors import DecodeError, ShortBuffer

MIN_MATCH = 3
"""Shortest match worth encoding (MS-OXCRPC 3.1.4.1.1.2.1.4)."""
MAX_DISTANCE = 8192
"""The 13 offset bits reach back at most 8192 bytes (MS-OXCRPC 3.1.4.1.1.2.2.3, MS-XCA 2.3.4)."""
MAX_MATCH = 0xFFFF + MIN_MATCH
"""Longest match the u16 length form can carry (MS-OXCRPC 3.1.4.1.1.2.2.4)."""
BARE_OUTPUT_LIMIT = 256 * 1024
"""Output cap of :func:`decompress_stream` when the caller does not know the decompressed size."""

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

# Compressor tuning: how many earlier positions with the same 3-byte prefix are tried, and a match length
# after which the search stops looking for a longer one.
_CHAIN_DEPTH = 24
_GOOD_ENOUGH = 1024


# ---------------------------------------------------------------------------------------------------------
# decompression


def decompress(data: bytes, size_actual: int) -> bytes:
    """Decode a DIRECT2 stream that must expand to exactly ``size_actual`` bytes (RPC_HEADER_EXT.SizeActual).

    Raises :class:`DecodeError` (offsets relative to ``data``) if the stream is truncated, refers to bytes
    before the start of the output, would expand beyond ``size_actual``, or ends short of it.
    """
    if size_actual < 0:
        raise DecodeError(f"negative decompressed size {size_actual}", field="SizeActual")
    out = _decode(bytes(data), size_actual, exact=True)
    if len(out) != size_actual:
        raise DecodeError(
            f"compressed stream ends after {len(out)} of {size_actual} decompressed byte(s)",
            offset=len(data),
            expected=f"{size_actual} bytes of output (SizeActual)",
            field="SizeActual",
        )
    return out


def decompress_stream(data: bytes, max_output: int = BARE_OUTPUT_LIMIT) -> bytes:
    """Decode a DIRECT2 stream of unknown decompressed size, up to its end-of-stream bit.

    For bare LZ77 data pasted without its RPC_HEADER_EXT. Output beyond ``max_output`` bytes is a
    :class:`DecodeError`, so a hostile stream cannot make the decoder allocate without bound.
    """
    return _decode(bytes(data), max_output, exact=False)


def _decode(data: bytes, limit: int, *, exact: bool) -> bytes:
    """The MS-XCA 2.4.4 decoding loop, bounded by ``limit`` output bytes and by the input.

    ``exact`` says that ``limit`` is the announced size rather than a safety cap.
    """
    out = bytearray()
    n = len(data)
    pos = 0
    flags = 0
    flag_count = 0
    half_byte_pos = -1  # position of the shared byte whose high nibble is still unused
    while True:
        if flag_count == 0:
            if pos == n:
                # No room for the bitmask that would carry the end-of-stream bit. The spec requires that bit
                # (MS-OXCRPC 3.1.4.1.1.2.2.1), but samba-derived decoders (gromox) stop at the end of the
                # input, so a stream that already produced all of its output is accepted (and bare data of
                # unknown size ends here); we always send the bit.
                if len(out) == limit or not exact:
                    return bytes(out)
                raise ShortBuffer(
                    f"compressed stream ends after {len(out)} decompressed byte(s) "
                    "without its end-of-stream bit",
                    offset=pos,
                    expected="a 32-bit bitmask",
                    field="Bitmask",
                )
            if n - pos < 4:
                raise ShortBuffer(
                    f"input ends after {n - pos} of 4 bitmask bytes",
                    offset=pos,
                    expected="a 32-bit bitmask",
                    field="Bitmask",
                )
            flags = _U32.unpack_from(data, pos)[0]
            pos += 4
            flag_count = 32
        flag_count -= 1
        if not (flags >> flag_count) & 1:
            # literal byte
            if pos >= n:
                raise ShortBuffer(
                    "input ends where the bitmask announces a literal byte",
                    offset=pos,
                    expected="1 literal byte",
                    field="Literal",
                )
            if len(out) >= limit:
                raise DecodeError(
                    f"stream produces more than {limit} byte(s)",
                    offset=pos,
                    expected=f"at most {limit} decompressed bytes",
                    field="Literal",
                )
            out.append(data[pos])
            pos += 1
            continue
        if pos == n:
            return bytes(out)  # the end-of-stream bit (MS-OXCRPC 3.1.4.1.1.2.2.1)
        start = pos
        if n - pos < 2:
            raise ShortBuffer(
                "input ends inside match metadata", offset=pos, expected="2 bytes (u16)", field="Metadata"
            )
        meta = _U16.unpack_from(data, pos)[0]
        pos += 2
        distance = (meta >> 3) + 1
        length = meta & 7
        if length == 7:
            if half_byte_pos < 0:
                if pos >= n:
                    raise ShortBuffer(
                        "input ends before the shared length byte",
                        offset=pos,
                        expected="1 byte (shared length nibbles)",
                        field="MatchLength",
                    )
                half_byte_pos = pos
                length = data[pos] & 0x0F
                pos += 1
            else:
                length = data[half_byte_pos] >> 4
                half_byte_pos = -1
            if length == 15:
                if pos >= n:
                    raise ShortBuffer(
                        "input ends before the extra length byte",
                        offset=pos,
                        expected="1 byte (length)",
                        field="MatchLength",
                    )
                length = data[pos]
                pos += 1
                if length == 255:
                    if n - pos < 2:
                        raise ShortBuffer(
                            "input ends inside the 16-bit match length",
                            offset=pos,
                            expected="2 bytes (u16)",
                            field="MatchLength",
                        )
                    length = _U16.unpack_from(data, pos)[0]
                    pos += 2
                    if length == 0:
                        # MS-XCA 2.4.4: a u16 of 0 is followed by the length as a u32.
                        if n - pos < 4:
                            raise ShortBuffer(
                                "input ends inside the 32-bit match length",
                                offset=pos,
                                expected="4 bytes (u32)",
                                field="MatchLength",
                            )
                        length = _U32.unpack_from(data, pos)[0]
                        pos += 4
                    # MS-OXCRPC 3.1.4.1.1.2.2.4: the u16 holds the whole length minus 3, not added to the
                    # bits before it. (MS-XCA rejects values below 22; those are merely non-minimal here.)
                    length += MIN_MATCH
                else:
                    length += 15 + 7 + MIN_MATCH
            else:
                length += 7 + MIN_MATCH
        else:
            length += MIN_MATCH
        have = len(out)
        if distance > have:
            raise DecodeError(
                f"match reaches {distance} byte(s) back but only {have} byte(s) were decompressed",
                offset=start,
                expected=f"a distance of at most {have}",
                field="Metadata",
            )
        if length > limit - have:
            raise DecodeError(
                f"a {length}-byte match would make the output longer than {limit} byte(s)",
                offset=start,
                expected=f"at most {limit - have} more byte(s)",
                field="MatchLength",
            )
        src = have - distance
        if distance >= length:
            out += out[src : src + length]
        else:
            # Overlapping copy: the match repeats the last ``distance`` bytes (MS-XCA 2.4.4).
            pattern = bytes(out[src:])
            reps, rest = divmod(length, distance)
            out += pattern * reps + pattern[:rest]


# ---------------------------------------------------------------------------------------------------------
# compression


def compress(data: bytes) -> bytes:
    """Compress ``data`` into a DIRECT2 stream (MS-XCA 2.3.4 / MS-OXCRPC 3.1.4.1.1.2).

    Greedy LZ77 over an 8192-byte window, matches found through chains of earlier positions that share a
    3-byte prefix (bounded depth, so the cost stays linear in the input). The stream always ends with the
    end-of-stream bit, in a new bitmask if the last one is full. An empty input encodes as ``FF FF FF FF``.
    """
    src = bytes(data)
    n = len(src)
    out = bytearray(4)
    flag_pos = 0
    flags = 0
    flag_count = 0
    half_byte_pos = -1
    head: dict[bytes, int] = {}
    prev = [-1] * n
    pos = 0

    def insert(p: int) -> None:
        key = src[p : p + 3]
        prev[p] = head.get(key, -1)
        head[key] = p

    while pos < n:
        best_len = 0
        best_dist = 0
        if pos + MIN_MATCH <= n:
            key = src[pos : pos + 3]
            cand = head.get(key, -1)
            limit = min(MAX_MATCH, n - pos)
            depth = _CHAIN_DEPTH
            while cand >= 0 and depth > 0 and pos - cand <= MAX_DISTANCE:
                # A candidate can only beat the best so far if it also matches at index best_len.
                if best_len and src[cand + best_len] != src[pos + best_len]:
                    cand = prev[cand]
                    depth -= 1
                    continue
                length = _common_length(src, cand, pos, limit)
                if length > best_len:
                    best_len = length
                    best_dist = pos - cand
                    if length >= limit or length >= _GOOD_ENOUGH:
                        break
                cand = prev[cand]
                depth -= 1
        if best_len >= MIN_MATCH:
            m = best_len - MIN_MATCH
            off_bits = (best_dist - 1) << 3
            if m < 7:
                out += _U16.pack(off_bits | m)
            else:
                out += _U16.pack(off_bits | 7)
                m -= 7
                nibble = min(m, 15)
                if half_byte_pos < 0:
                    half_byte_pos = len(out)
                    out.append(nibble)
                else:
                    out[half_byte_pos] |= nibble << 4
                    half_byte_pos = -1
                if m >= 15:
                    m -= 15
                    if m < 255:
                        out.append(m)
                    else:
                        out.append(255)
                        out += _U16.pack(best_len - MIN_MATCH)
            flags = (flags << 1) | 1
            for p in range(pos, min(pos + best_len, n - 2)):
                insert(p)
            pos += best_len
        else:
            out.append(src[pos])
            flags <<= 1
            if pos + 3 <= n:
                insert(pos)
            pos += 1
        flag_count += 1
        if flag_count == 32:
            _U32.pack_into(out, flag_pos, flags & 0xFFFFFFFF)
            flags = 0
            flag_count = 0
            flag_pos = len(out)
            out += b"\x00\x00\x00\x00"
    # End of stream: a 1 in the bit after the last element; the remaining bits are set too (MS-XCA 2.3.4).
    flags = ((flags << (32 - flag_count)) | ((1 << (32 - flag_count)) - 1)) & 0xFFFFFFFF
    _U32.pack_into(out, flag_pos, flags)
    return bytes(out)


def _common_length(src: bytes, a: int, b: int, limit: int) -> int:
    """Length of the common prefix of ``src[a:]`` and ``src[b:]`` (a < b), at most ``limit``.

    Slice comparisons run in C; doubling then bisecting keeps long matches (32 KiB of zeros) cheap.
    """
    if src[a : a + MIN_MATCH] != src[b : b + MIN_MATCH]:
        return 0
    lo = MIN_MATCH  # known equal
    step = 16
    while lo < limit:
        hi = min(limit, lo + step)
        if src[a + lo : a + hi] != src[b + lo : b + hi]:
            break
        lo = hi
        step *= 2
    else:
        return lo
    hi = min(limit, lo + step)  # first window that differs is within [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if src[a + lo : a + mid] == src[b + lo : b + mid]:
            lo = mid
        else:
            hi = mid
    return lo  # bytes [0, lo) are equal and byte lo differs


__all__ = [
    "BARE_OUTPUT_LIMIT",
    "MAX_DISTANCE",
    "MAX_MATCH",
    "MIN_MATCH",
    "compress",
    "decompress",
    "decompress_stream",
]
