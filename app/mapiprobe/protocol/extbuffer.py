"""Extended buffers (MS-OXCRPC 3.1.4.1.1 and 3.1.4.2.1): RPC_HEADER_EXT (2.2.2.1), XorMagic obfuscation
(3.1.4.1.1.3) and chains of headers and payloads.

A sender compresses first (LZ77 + DIRECT2, :mod:`mapiprobe.protocol.lz77`) and XORs second; a receiver
un-XORs first and decompresses second. Only the last header of a chain carries ``Last`` (3.1.4.2.1.1.2).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import lz77
from .errors import DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData
from .wire import Reader, Writer

# ---------------------------------------------------------------------------------------------------------
# RPC_HEADER_EXT (MS-OXCRPC 2.2.2.1)

COMPRESSED = 0x0001
"""The payload is LZ77/DIRECT2 compressed; SizeActual is its decompressed size."""
XOR_MAGIC = 0x0002
"""The payload is obfuscated by XOR with 0xA5 (MS-OXCRPC 3.1.4.1.1.3)."""
LAST = 0x0004
"""No other RPC_HEADER_EXT follows this payload."""

MAX_PAYLOAD = 32 * 1024
"""A single payload MUST NOT exceed 32 KB (MS-OXCRPC 3.1.4.1.1, 3.1.4.2.1)."""
MAX_CHAINED_PAYLOADS = 96
"""A server MUST NOT place more than 96 payloads into one rgbOut (MS-OXCRPC 3.1.4.2.1.2)."""
XOR_MAGIC_BYTE = 0xA5


class RpcHeaderExtFlags(enum.IntFlag):
    """Flags of RPC_HEADER_EXT (MS-OXCRPC 2.2.2.1), under the spec's names."""

    Compressed = COMPRESSED
    XorMagic = XOR_MAGIC
    Last = LAST


_KNOWN_FLAGS = COMPRESSED | XOR_MAGIC | LAST


def _flag_names(value: int, names: Mapping[int, str]) -> list[str]:
    out = [name for bit, name in names.items() if bit and value & bit == bit]
    unknown = value & ~sum(names)
    if unknown:
        out.append(f"0x{unknown:X}")
    return out


@dataclass(frozen=True)
class RpcHeaderExt:
    """The 8-byte header before every extended-buffer payload (MS-OXCRPC 2.2.2.1)."""

    version: int
    """MUST be 0x0000."""
    flags: int
    """Compressed 0x0001, XorMagic 0x0002, Last 0x0004."""
    size: int
    """Payload bytes on the wire after this header (after compression)."""
    size_actual: int
    """Payload size after decompression; equal to Size when not compressed, greater when compressed."""

    SIZE: ClassVar[int] = 8

    @property
    def compressed(self) -> bool:
        return bool(self.flags & COMPRESSED)

    @property
    def xor_magic(self) -> bool:
        return bool(self.flags & XOR_MAGIC)

    @property
    def last(self) -> bool:
        return bool(self.flags & LAST)

    @classmethod
    def read(cls, r: Reader) -> RpcHeaderExt:
        return cls(
            version=r.u16("Version"),
            flags=r.u16("Flags"),
            size=r.u16("Size"),
            size_actual=r.u16("SizeActual"),
        )

    @classmethod
    def decode(cls, data: bytes) -> RpcHeaderExt:
        """Exactly 8 bytes; the values are not checked (see :meth:`check`)."""
        r = Reader(data)
        hdr = cls.read(r)
        r.expect_end("end of RPC_HEADER_EXT")
        return hdr

    def encode(self) -> bytes:
        return Writer().u16(self.version).u16(self.flags).u16(self.size).u16(self.size_actual).getvalue()

    def check(self, offset: int = 0) -> None:
        """Apply the MUST rules of MS-OXCRPC 2.2.2.1; ``offset`` is where the header starts."""
        if self.version != 0:
            raise DecodeError(
                f"RPC_HEADER_EXT version {self.version:#06x}",
                offset=offset,
                field="Version",
                expected="0x0000",
            )
        if self.flags & ~_KNOWN_FLAGS:
            raise DecodeError(
                f"unknown RPC_HEADER_EXT flag bits {self.flags & ~_KNOWN_FLAGS:#06x}",
                offset=offset + 2,
                field="Flags",
                expected="only Compressed 0x0001, XorMagic 0x0002, Last 0x0004",
            )
        if self.compressed:
            if self.size >= self.size_actual:
                raise DecodeError(
                    f"Compressed is set but Size {self.size} is not less than SizeActual {self.size_actual}",
                    offset=offset + 4,
                    field="Size",
                    expected="Size < SizeActual when Compressed is set",
                )
        elif self.size != self.size_actual:
            raise DecodeError(
                f"Size {self.size} differs from SizeActual {self.size_actual} although Compressed is not set",
                offset=offset + 6,
                field="SizeActual",
                expected=f"{self.size} (equal to Size)",
            )

    def __json__(self) -> dict[str, Any]:
        return {
            "Version": self.version,
            "Flags": self.flags,
            "FlagNames": _flag_names(
                self.flags, {COMPRESSED: "Compressed", XOR_MAGIC: "XorMagic", LAST: "Last"}
            ),
            "Size": self.size,
            "SizeActual": self.size_actual,
        }


# ---------------------------------------------------------------------------------------------------------
# XorMagic (MS-OXCRPC 3.1.4.1.1.3)

_XOR_TABLE = bytes(b ^ XOR_MAGIC_BYTE for b in range(256))


def xor_magic(data: bytes) -> bytes:
    """XOR every byte with 0xA5 (MS-OXCRPC 3.1.4.1.1.3). Applying it twice gives the input back."""
    return bytes(data).translate(_XOR_TABLE)


# ---------------------------------------------------------------------------------------------------------
# extended buffer chains (MS-OXCRPC 3.1.4.2.1)


@dataclass(frozen=True)
class ExtBuffer:
    """One extended buffer: its header and its payload, un-XORed and decompressed."""

    header: RpcHeaderExt = field(metadata={"spec": "RPC_HEADER_EXT"})
    payload: bytes


def iter_ext_buffers(data: bytes) -> Iterator[ExtBuffer]:
    """Walk a chain of extended buffers, yielding each as soon as it is decoded.

    Receiving order per payload: un-XOR, then decompress (MS-OXCRPC 3.1.4.2.1.1.2). The chain ends at the
    header with ``Last``; bytes after it are :class:`TrailingData`, and input that ends before a ``Last``
    header is a :class:`DecodeError`. Offsets in errors are offsets into ``data``; an error inside a
    compressed payload is reported at the payload's start plus the offset in the compressed bytes.
    """
    data = bytes(data)
    r = Reader(data)
    if r.at_end():
        raise ShortBuffer(
            "no RPC_HEADER_EXT: the buffer is empty",
            offset=0,
            expected="an 8-byte RPC_HEADER_EXT",
            field="RPC_HEADER_EXT",
        )
    index = 0
    while True:
        start = r.offset
        hdr = RpcHeaderExt.read(r)
        hdr.check(start)
        body_start = r.offset
        body = r.take(hdr.size, "Payload")
        if hdr.xor_magic:
            body = xor_magic(body)
        if hdr.compressed:
            try:
                body = lz77.decompress(body, hdr.size_actual)
            except ProtocolError as exc:
                raise exc.at(body_start) from None
        # A payload above 32 KB breaks a sender's MUST (MS-OXCRPC 3.1.4.2.1); it still decodes, so a
        # diagnosis can show it rather than stop here.
        yield ExtBuffer(hdr, body)
        index += 1
        if hdr.last:
            if not r.at_end():
                raise TrailingData(
                    f"{r.remaining} byte(s) follow the RPC_HEADER_EXT that carries Last",
                    offset=r.offset,
                    expected="end of the buffer after the Last extended buffer",
                )
            return
        if r.at_end():
            raise DecodeError(
                f"the chain ends after {index} extended buffer(s) without one that carries Last",
                offset=r.offset,
                field="Flags",
                expected="an RPC_HEADER_EXT with Last (0x0004) on the final buffer",
            )


def decode_ext_buffers(data: bytes) -> list[ExtBuffer]:
    """All extended buffers of a RopBuffer / rgbOut chain (see :func:`iter_ext_buffers`)."""
    return list(iter_ext_buffers(data))


def encode_ext_buffer(
    payload: bytes, *, last: bool = True, compress: bool = False, xor: bool = False
) -> bytes:
    """One RPC_HEADER_EXT and its payload, sending order: compress, then XOR (MS-OXCRPC 3.1.4.2.1.1.1).

    Compression is used only when it makes the payload smaller, because a compressed payload MUST have
    Size < SizeActual (MS-OXCRPC 2.2.2.1); otherwise the payload goes out uncompressed.
    """
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise EncodeError(f"a {len(payload)}-byte payload exceeds the 32 KB limit of MS-OXCRPC 3.1.4.2.1")
    flags = LAST if last else 0
    body = payload
    if compress:
        packed = lz77.compress(payload)
        if len(packed) < len(payload):
            body = packed
            flags |= COMPRESSED
    if xor:
        body = xor_magic(body)
        flags |= XOR_MAGIC
    return RpcHeaderExt(0, flags, len(body), len(payload)).encode() + body


def encode_ext_buffers(payloads: Sequence[bytes], *, compress: bool = False, xor: bool = False) -> bytes:
    """A chain of extended buffers, ``Last`` set only on the final header."""
    if not payloads:
        raise EncodeError("an extended buffer chain needs at least one payload")
    if len(payloads) > MAX_CHAINED_PAYLOADS:
        raise EncodeError(f"{len(payloads)} payloads exceed the limit of 96 (MS-OXCRPC 3.1.4.2.1.2)")
    last = len(payloads) - 1
    return b"".join(
        encode_ext_buffer(p, last=i == last, compress=compress, xor=xor) for i, p in enumerate(payloads)
    )


def join_payloads(buffers: Sequence[ExtBuffer]) -> bytes:
    """The payloads of a chain, concatenated."""
    return b"".join(b.payload for b in buffers)
