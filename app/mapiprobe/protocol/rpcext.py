"""Extended buffers: RPC_HEADER_EXT chains, XorMagic obfuscation and auxiliary (AUX) buffers.

Every RopBuffer, rgbOut and auxiliary buffer of EMSMDB travels as one or more *extended buffers*
(MS-OXCRPC 3.1.4.1.1 and 3.1.4.2.1): an 8-byte ``RPC_HEADER_EXT`` (MS-OXCRPC 2.2.2.1) followed by a payload
of at most 32 KB that may be compressed (LZ77 + DIRECT2, :mod:`mapiprobe.protocol.lz77`) and then
obfuscated by XOR with 0xA5 (MS-OXCRPC 3.1.4.1.1.3). A sender compresses first and XORs second; a
receiver un-XORs first and decompresses second. Only the last header of a chain carries ``Last``
(MS-OXCRPC 3.1.4.2.1.1.2).

An auxiliary buffer (MS-OXCRPC 3.1.4.1.1.1.1 / .2) is a single extended buffer whose payload is a run of
``AUX_HEADER`` blocks (MS-OXCRPC 2.2.2.2): a u16 Size that counts the header, a Version, a Type, and the
block. The well-known blocks (2.2.2.2.1 to 2.2.2.2.23) decode into dataclasses named after the spec; an
unknown Version/Type pair is kept as raw bytes, as a server must skip it (MS-OXCRPC 3.1.4.1.2).

Section numbers follow MS-OXCRPC v23 (2018); the 2015 revision numbered AUX_SERVER_CAPABILITIES out and
the blocks after AUX_PERF_ACCOUNTINFO one lower (⚠).

The code lives in :mod:`.extbuffer` (RPC_HEADER_EXT, XorMagic, chains), :mod:`.auxblocks` (AUX_HEADER and
the blocks) and :mod:`.auxbuffer` (auxiliary buffers); this module re-exports them and registers the
``mapiprobe decode`` kinds ``lz77``, ``rpc-header-ext`` and ``aux-buffer``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import lz77
from .auxblocks import (
    AUX_BLOCK_TYPES,
    AUX_TYPE_NAMES,
    AUX_VERSION_1,
    AUX_VERSION_2,
    AuxBlockData,
    AuxClientConnectionInfo,
    AuxClientControl,
    AuxEndpointCapabilities,
    AuxExOrgInfo,
    AuxHeader,
    AuxOsVersionInfo,
    AuxPerfAccountInfo,
    AuxPerfClientInfo,
    AuxPerfDefGcSuccess,
    AuxPerfDefMdbSuccess,
    AuxPerfFailure,
    AuxPerfFailureV2,
    AuxPerfGcSuccess,
    AuxPerfGcSuccessV2,
    AuxPerfMdbSuccess,
    AuxPerfMdbSuccessV2,
    AuxPerfProcessInfo,
    AuxPerfRequestId,
    AuxPerfServerInfo,
    AuxPerfSessionInfo,
    AuxPerfSessionInfoV2,
    AuxProtocolDeviceIdentification,
    AuxServerCapabilities,
    AuxServerSessionInfo,
    UnknownAuxBlock,
)
from .auxbuffer import AuxBlock, AuxBuffer, decode_aux_blocks, decode_aux_buffer
from .errors import DecodeError, ProtocolError
from .extbuffer import (
    COMPRESSED,
    LAST,
    MAX_CHAINED_PAYLOADS,
    MAX_PAYLOAD,
    XOR_MAGIC,
    XOR_MAGIC_BYTE,
    ExtBuffer,
    RpcHeaderExt,
    RpcHeaderExtFlags,
    decode_ext_buffers,
    encode_ext_buffer,
    encode_ext_buffers,
    iter_ext_buffers,
    join_payloads,
    xor_magic,
)
from .registry import DecodeContext, decode_kind

# ---------------------------------------------------------------------------------------------------------
# decode kinds


@dataclass(frozen=True)
class Lz77Decoded:
    """Result of ``mapiprobe decode lz77``."""

    header: RpcHeaderExt | None = field(metadata={"spec": "RPC_HEADER_EXT"})
    decompressed_size: int
    decompressed: bytes


def _framed_header(data: bytes) -> RpcHeaderExt | None:
    """The input's RPC_HEADER_EXT if it is one whose Size covers exactly the rest of the input."""
    if len(data) < RpcHeaderExt.SIZE:
        return None
    hdr = RpcHeaderExt.decode(data[: RpcHeaderExt.SIZE])
    if hdr.size != len(data) - RpcHeaderExt.SIZE:
        return None
    try:
        hdr.check()
    except DecodeError:
        return None
    return hdr


@decode_kind(
    "lz77",
    "LZ77/DIRECT2 compressed data (MS-OXCRPC 3.1.4.1.1.2). If the input starts with an RPC_HEADER_EXT whose "
    "Size matches the rest, that payload is un-XORed and decompressed to SizeActual; otherwise the whole "
    "input is bare LZ77 data, decompressed up to its end-of-stream bit (at most 256 KiB).",
)
def _decode_lz77(data: bytes, ctx: DecodeContext) -> Lz77Decoded:
    hdr = _framed_header(data)
    if hdr is None:
        out = lz77.decompress_stream(data)
        return Lz77Decoded(None, len(out), out)
    ctx.partial["RPC_HEADER_EXT"] = hdr
    body = data[RpcHeaderExt.SIZE :]
    if hdr.xor_magic:
        body = xor_magic(body)
    if hdr.compressed:
        try:
            body = lz77.decompress(body, hdr.size_actual)
        except ProtocolError as exc:
            raise exc.at(RpcHeaderExt.SIZE) from None
    return Lz77Decoded(hdr, len(body), body)


@decode_kind(
    "rpc-header-ext",
    "A chain of extended buffers as in a RopBuffer or rgbOut (MS-OXCRPC 2.2.2.1, 3.1.4.2.1): each "
    "RPC_HEADER_EXT with its payload un-XORed and decompressed, up to the header that carries Last.",
)
def _decode_rpc_header_ext(data: bytes, ctx: DecodeContext) -> list[ExtBuffer]:
    out: list[ExtBuffer] = []
    for buf in iter_ext_buffers(data):
        ctx.partial[f"ExtBuffer[{len(out)}]"] = buf
        out.append(buf)
    return out


@decode_kind(
    "aux-buffer",
    "An auxiliary buffer (AuxiliaryBuffer of a MAPI/HTTP body, MS-OXCRPC 2.2.2.2): RPC_HEADER_EXT and the "
    "AUX_HEADER blocks after it, known block types decoded. Empty input is an empty buffer.",
)
def _decode_aux_buffer(data: bytes, ctx: DecodeContext) -> AuxBuffer:
    return decode_aux_buffer(data, ctx.partial)


__all__ = [
    "AUX_BLOCK_TYPES",
    "AUX_TYPE_NAMES",
    "AUX_VERSION_1",
    "AUX_VERSION_2",
    "COMPRESSED",
    "LAST",
    "MAX_CHAINED_PAYLOADS",
    "MAX_PAYLOAD",
    "XOR_MAGIC",
    "XOR_MAGIC_BYTE",
    "AuxBlock",
    "AuxBlockData",
    "AuxBuffer",
    "AuxClientConnectionInfo",
    "AuxClientControl",
    "AuxEndpointCapabilities",
    "AuxExOrgInfo",
    "AuxHeader",
    "AuxOsVersionInfo",
    "AuxPerfAccountInfo",
    "AuxPerfClientInfo",
    "AuxPerfDefGcSuccess",
    "AuxPerfDefMdbSuccess",
    "AuxPerfFailure",
    "AuxPerfFailureV2",
    "AuxPerfGcSuccess",
    "AuxPerfGcSuccessV2",
    "AuxPerfMdbSuccess",
    "AuxPerfMdbSuccessV2",
    "AuxPerfProcessInfo",
    "AuxPerfRequestId",
    "AuxPerfServerInfo",
    "AuxPerfSessionInfo",
    "AuxPerfSessionInfoV2",
    "AuxProtocolDeviceIdentification",
    "AuxServerCapabilities",
    "AuxServerSessionInfo",
    "ExtBuffer",
    "Lz77Decoded",
    "RpcHeaderExt",
    "RpcHeaderExtFlags",
    "UnknownAuxBlock",
    "decode_aux_blocks",
    "decode_aux_buffer",
    "decode_ext_buffers",
    "encode_ext_buffer",
    "encode_ext_buffers",
    "iter_ext_buffers",
    "join_payloads",
    "xor_magic",
]
