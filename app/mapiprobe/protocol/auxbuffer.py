"""Auxiliary buffers (MS-OXCRPC 3.1.4.1.1.1.1 / .2): one extended buffer whose payload is a run of
``AUX_HEADER`` blocks (MS-OXCRPC 2.2.2.2): a u16 Size that counts the header, a Version, a Type, and the
block (:mod:`mapiprobe.protocol.auxblocks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .auxblocks import AUX_BLOCK_TYPES, AUX_VERSION_1, AuxBlockData, AuxHeader, UnknownAuxBlock
from .errors import DecodeError, EncodeError, ShortBuffer
from .extbuffer import RpcHeaderExt, decode_ext_buffers, encode_ext_buffer
from .jsonview import to_jsonable
from .wire import Reader


@dataclass(frozen=True)
class AuxBlock:
    """One AUX_HEADER and its block; ``body`` keeps the exact bytes after the header for re-encoding."""

    header: AuxHeader = field(metadata={"spec": "AUX_HEADER"})
    block: AuxBlockData | UnknownAuxBlock
    body: bytes = field(default=b"", repr=False, metadata={"json": False})

    @classmethod
    def build(
        cls,
        block: AuxBlockData | UnknownAuxBlock,
        *,
        aux_version: int | None = None,
        aux_type: int | None = None,
    ) -> AuxBlock:
        """Lay out ``block`` and put an AUX_HEADER in front (the block's own Version/Type by default)."""
        if isinstance(block, UnknownAuxBlock) and (aux_version is None or aux_type is None):
            raise EncodeError("an unknown auxiliary block needs an explicit Version and Type")
        body = block.encode_body()
        size = AuxHeader.SIZE + len(body)
        if size > 0xFFFF:
            raise EncodeError(f"a {size}-byte auxiliary block does not fit the u16 AUX_HEADER.Size")
        v = aux_version if aux_version is not None else getattr(block, "AUX_VERSION", AUX_VERSION_1)
        t = aux_type if aux_type is not None else getattr(block, "AUX_TYPE", 0)
        return cls(AuxHeader(size, v, t), block, body)

    def encode(self) -> bytes:
        return self.header.encode() + (self.body or self.block.encode_body())

    def __json__(self) -> dict[str, Any]:
        return {"AUX_HEADER": self.header.__json__(), self.block.STRUCT_NAME: to_jsonable(self.block)}


@dataclass(frozen=True)
class AuxBuffer:
    """An auxiliary buffer (rgbAuxIn / rgbAuxOut, MS-OXCRPC 3.1.4.1.1.1): one extended buffer of AUX blocks.

    ``header`` is ``None`` for an empty buffer (AuxiliaryBufferSize 0).
    """

    header: RpcHeaderExt | None = field(metadata={"spec": "RPC_HEADER_EXT"})
    blocks: tuple[AuxBlock, ...] = ()

    @classmethod
    def build(
        cls, blocks: Sequence[AuxBlock | AuxBlockData], *, compress: bool = False, xor: bool = False
    ) -> AuxBuffer:
        items = tuple(b if isinstance(b, AuxBlock) else AuxBlock.build(b) for b in blocks)
        payload = b"".join(b.encode() for b in items)
        wire = encode_ext_buffer(payload, compress=compress, xor=xor)
        return cls(RpcHeaderExt.decode(wire[: RpcHeaderExt.SIZE]), items)

    def encode(self) -> bytes:
        """The wire bytes; the Compressed/XorMagic choices of ``header`` are applied again."""
        if self.header is None and not self.blocks:
            return b""
        payload = b"".join(b.encode() for b in self.blocks)
        compress = self.header.compressed if self.header else False
        xor = self.header.xor_magic if self.header else False
        return encode_ext_buffer(payload, compress=compress, xor=xor)


def decode_aux_blocks(
    payload: bytes, base: int = 0, partial: dict[str, Any] | None = None
) -> tuple[AuxBlock, ...]:
    """Split an auxiliary payload into AUX_HEADER blocks (MS-OXCRPC 2.2.2.2)."""
    blocks: list[AuxBlock] = []
    pos = 0
    n = len(payload)
    while pos < n:
        at = base + pos
        r = Reader(payload[pos:], base=at)
        size = r.u16("AUX_HEADER.Size")
        version = r.u8("AUX_HEADER.Version")
        type_ = r.u8("AUX_HEADER.Type")
        if size < AuxHeader.SIZE:
            raise DecodeError(
                f"AUX_HEADER.Size {size} is smaller than the header itself",
                offset=at,
                field="AUX_HEADER.Size",
                expected=f">= {AuxHeader.SIZE}",
            )
        if size > n - pos:
            raise ShortBuffer(
                f"a {size}-byte auxiliary block does not fit in the {n - pos} byte(s) left",
                offset=at,
                field="AUX_HEADER.Size",
                expected=f"<= {n - pos}",
            )
        raw = payload[pos : pos + size]
        header = AuxHeader(size, version, type_)
        cls = AUX_BLOCK_TYPES.get((version, type_))
        data: AuxBlockData | UnknownAuxBlock
        data = UnknownAuxBlock(raw[AuxHeader.SIZE :]) if cls is None else cls.decode_block(raw, at)
        block = AuxBlock(header, data, raw[AuxHeader.SIZE :])
        blocks.append(block)
        if partial is not None:
            partial[f"AuxBlock[{len(blocks) - 1}]"] = block
        pos += size
    return tuple(blocks)


def decode_aux_buffer(data: bytes, partial: dict[str, Any] | None = None) -> AuxBuffer:
    """An auxiliary buffer: RPC_HEADER_EXT (which MUST carry Last) and AUX blocks; empty input is empty.

    Offsets in errors count from the start of ``data``; inside a compressed payload they count from the
    payload's start in its decompressed form.
    """
    data = bytes(data)
    if not data:
        return AuxBuffer(None, ())
    if len(data) >= RpcHeaderExt.SIZE:
        first = RpcHeaderExt.decode(data[: RpcHeaderExt.SIZE])
        if not first.last:
            raise DecodeError(
                "the RPC_HEADER_EXT of an auxiliary buffer does not carry Last",
                offset=2,
                field="Flags",
                expected="Last (0x0004) set (MS-OXCRPC 3.1.4.1.1.1.1)",
            )
    (buf,) = decode_ext_buffers(data)
    if partial is not None:
        partial["RPC_HEADER_EXT"] = buf.header
    blocks = decode_aux_blocks(buf.payload, RpcHeaderExt.SIZE, partial)
    return AuxBuffer(buf.header, blocks)
