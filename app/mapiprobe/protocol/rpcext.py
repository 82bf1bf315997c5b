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
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from . import lz77
from .errors import DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData
from .jsonview import spec_name, to_jsonable
from .registry import DecodeContext, decode_kind
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


# ---------------------------------------------------------------------------------------------------------
# AUX_HEADER and the auxiliary block structures (MS-OXCRPC 2.2.2.2)

AUX_VERSION_1 = 0x01
AUX_VERSION_2 = 0x02

AUX_TYPE_NAMES: dict[int, str] = {
    0x01: "AUX_TYPE_PERF_REQUESTID",
    0x02: "AUX_TYPE_PERF_CLIENTINFO",
    0x03: "AUX_TYPE_PERF_SERVERINFO",
    0x04: "AUX_TYPE_PERF_SESSIONINFO",
    0x05: "AUX_TYPE_PERF_DEFMDB_SUCCESS",
    0x06: "AUX_TYPE_PERF_DEFGC_SUCCESS",
    0x07: "AUX_TYPE_PERF_MDB_SUCCESS",
    0x08: "AUX_TYPE_PERF_GC_SUCCESS",
    0x09: "AUX_TYPE_PERF_FAILURE",
    0x0A: "AUX_TYPE_CLIENT_CONTROL",
    0x0B: "AUX_TYPE_PERF_PROCESSINFO",
    0x0C: "AUX_TYPE_PERF_BG_DEFMDB_SUCCESS",
    0x0D: "AUX_TYPE_PERF_BG_DEFGC_SUCCESS",
    0x0E: "AUX_TYPE_PERF_BG_MDB_SUCCESS",
    0x0F: "AUX_TYPE_PERF_BG_GC_SUCCESS",
    0x10: "AUX_TYPE_PERF_BG_FAILURE",
    0x11: "AUX_TYPE_PERF_FG_DEFMDB_SUCCESS",
    0x12: "AUX_TYPE_PERF_FG_DEFGC_SUCCESS",
    0x13: "AUX_TYPE_PERF_FG_MDB_SUCCESS",
    0x14: "AUX_TYPE_PERF_FG_GC_SUCCESS",
    0x15: "AUX_TYPE_PERF_FG_FAILURE",
    0x16: "AUX_TYPE_OSVERSIONINFO",
    0x17: "AUX_TYPE_EXORGINFO",
    0x18: "AUX_TYPE_PERF_ACCOUNTINFO",
    0x46: "AUX_TYPE_SERVER_CAPABILITIES",
    0x48: "AUX_TYPE_ENDPOINT_CAPABILITIES",
    0x49: "AUX_TYPE_EXCEPTION_TRACE",  # [I] named by Microsoft's test suite; layout not published
    0x4A: "AUX_CLIENT_CONNECTION_INFO",
    0x4B: "AUX_SERVER_SESSION_INFO",
    0x4E: "AUX_PROTOCOL_DEVICE_IDENTIFICATION",
}
"""Type names of MS-OXCRPC 2.2.2.2 (the same numbers name the AUX_VERSION_2 blocks)."""


def _spec(name: str, default: Any) -> Any:
    """A dataclass field whose spec name is not the PascalCase of its attribute name."""
    return field(default=default, metadata={"spec": name})


_NIL_GUID = uuid.UUID(int=0)


_Kind = str | int
"""A fixed field: "u8", "u16", "u32", "guid", or a byte count for reserved/opaque bytes."""
_KIND_SIZE = {"u8": 1, "u16": 2, "u32": 4, "guid": 16}
_Names = dict[str, tuple[str, dict[int, str]]]


class AuxBlockData:
    """Base of the auxiliary block structures of MS-OXCRPC 2.2.2.2.x.

    A subclass is a frozen dataclass that declares its wire layout: ``LAYOUT`` lists the fixed fields in
    order — an attribute name, or ``"@off:attr"`` / ``"@len:attr"`` for the u16 offset (from the start of
    the AUX_HEADER) and size of a variable field — and ``VARIABLE`` lists the variable fields in the order
    they are laid out when encoding (``"str"``: NUL-terminated UTF-16LE, ``"bin"``: ``@len`` bytes). A
    variable field is ``None`` when its offset is 0 ("null or empty").
    """

    STRUCT_NAME: ClassVar[str] = ""
    SECTION: ClassVar[str] = ""
    AUX_VERSION: ClassVar[int] = AUX_VERSION_1
    AUX_TYPE: ClassVar[int] = 0
    LAYOUT: ClassVar[tuple[tuple[str, _Kind], ...]] = ()
    VARIABLE: ClassVar[tuple[tuple[str, str], ...]] = ()
    NAMES: ClassVar[_Names] = {}
    """Attribute -> ("flags" | "enum", value names), shown beside the number."""
    OFFSET_FIELDS: ClassVar[dict[str, str]] = {}
    """Spec names of offset fields not called ``<Field>Offset``."""

    @classmethod
    def fixed_size(cls) -> int:
        return sum(k if isinstance(k, int) else _KIND_SIZE[k] for _, k in cls.LAYOUT)

    @classmethod
    def _field_spec(cls, attr: str) -> str:
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name == attr:
                return str(f.metadata.get("spec") or spec_name(attr))
        return spec_name(attr)

    @classmethod
    def _offset_spec(cls, attr: str) -> str:
        return cls.OFFSET_FIELDS.get(attr) or cls._field_spec(attr) + "Offset"

    @classmethod
    def decode_block(cls, block: bytes, base: int) -> Self:
        """Decode from the whole block (AUX_HEADER included); ``base`` is the block's offset for errors."""
        return cls._decode_layout(block, base, cls.LAYOUT)

    @classmethod
    def _decode_layout(cls, block: bytes, base: int, layout: Sequence[tuple[str, _Kind]]) -> Self:
        r = Reader(block[AuxHeader.SIZE :], base=base + AuxHeader.SIZE)
        values: dict[str, Any] = {}
        offsets: dict[str, int] = {}
        sizes: dict[str, int] = {}
        for name, kind in layout:
            if name.startswith("@off:"):
                offsets[name[5:]] = r.u16(cls._offset_spec(name[5:]))
            elif name.startswith("@len:"):
                sizes[name[5:]] = r.u16(cls._field_spec(name[5:]) + "Size")
            else:
                values[name] = _read_kind(r, kind, cls._field_spec(name))
        if not cls.VARIABLE:
            r.expect_end(f"end of {cls.STRUCT_NAME}")
        for attr, vkind in cls.VARIABLE:
            off = offsets[attr]
            spec = cls._field_spec(attr)
            if off == 0:
                values[attr] = None
            elif vkind == "str":
                values[attr] = _utf16_at(block, off, base=base, spec=spec, off_spec=cls._offset_spec(attr))
            else:
                values[attr] = _bytes_at(
                    block, off, sizes.get(attr, 0), base=base, spec=spec, off_spec=cls._offset_spec(attr)
                )
        return cls(**values)

    def encode_body(self) -> bytes:
        """The bytes after the AUX_HEADER: fixed part, then the variable fields in spec order."""
        return self._encode_layout(self.LAYOUT)

    def _encode_layout(self, layout: Sequence[tuple[str, _Kind]]) -> bytes:
        pos = AuxHeader.SIZE + sum(k if isinstance(k, int) else _KIND_SIZE[k] for _, k in layout)
        var = bytearray()
        offsets: dict[str, int] = {}
        sizes: dict[str, int] = {}
        for attr, vkind in self.VARIABLE:
            value = getattr(self, attr)
            if value is None:
                offsets[attr] = 0
                sizes[attr] = 0
                continue
            enc = Writer().utf16z(value).getvalue() if vkind == "str" else bytes(value)
            offsets[attr] = pos
            sizes[attr] = len(enc)
            var += enc
            pos += len(enc)
        w = Writer()
        for name, kind in layout:
            if name.startswith("@off:"):
                w.u16(offsets[name[5:]])
            elif name.startswith("@len:"):
                w.u16(sizes[name[5:]])
            else:
                _write_kind(w, kind, getattr(self, name), name)
        w.raw(var)
        return w.getvalue()

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            key = f.metadata.get("spec") or spec_name(f.name)
            value = getattr(self, f.name)
            out[key] = to_jsonable(value)
            named = self.NAMES.get(f.name)
            if named is not None and isinstance(value, int):
                how, names = named
                if how == "flags":
                    out[key + "Names"] = _flag_names(value, names)
                else:
                    out[key + "Name"] = names.get(value, "unknown")
        return out


def _read_kind(r: Reader, kind: _Kind, spec: str) -> Any:
    if kind == "u8":
        return r.u8(spec)
    if kind == "u16":
        return r.u16(spec)
    if kind == "u32":
        return r.u32(spec)
    if kind == "guid":
        return r.guid(spec)
    assert isinstance(kind, int)
    return r.take(kind, spec)


def _write_kind(w: Writer, kind: _Kind, value: Any, attr: str) -> None:
    if kind == "u8":
        w.u8(value)
    elif kind == "u16":
        w.u16(value)
    elif kind == "u32":
        w.u32(value)
    elif kind == "guid":
        if not isinstance(value, uuid.UUID):
            raise EncodeError(f"{attr} must be a UUID, not {value!r}")
        w.guid(value)
    else:
        assert isinstance(kind, int)
        raw = bytes(value)
        if len(raw) != kind:
            raise EncodeError(f"{attr} must be {kind} bytes, not {len(raw)}")
        w.raw(raw)


def _check_offset(block: bytes, off: int, need: int, *, base: int, spec: str, off_spec: str) -> None:
    if off < AuxHeader.SIZE or off + need > len(block):
        raise DecodeError(
            f"{spec} at offset {off} (+{need} bytes) lies outside the {len(block)}-byte auxiliary block",
            offset=base,
            field=off_spec,
            expected=f"an offset within {AuxHeader.SIZE}..{len(block) - need}",
        )


def _utf16_at(block: bytes, off: int, *, base: int, spec: str, off_spec: str) -> str:
    _check_offset(block, off, 2, base=base, spec=spec, off_spec=off_spec)
    return Reader(block[off:], base=base + off).utf16z(spec)


def _bytes_at(block: bytes, off: int, size: int, *, base: int, spec: str, off_spec: str) -> bytes:
    _check_offset(block, off, size, base=base, spec=spec, off_spec=off_spec)
    return block[off : off + size]


_CLIENT_MODES = {0x00: "CLIENTMODE_UNKNOWN", 0x01: "CLIENTMODE_CLASSIC", 0x02: "CLIENTMODE_CACHED"}
_SERVER_TYPES = {
    0x00: "SERVERTYPE_UNKNOWN",
    0x01: "SERVERTYPE_PRIVATE",
    0x02: "SERVERTYPE_PUBLIC",
    0x03: "SERVERTYPE_DIRECTORY",
    0x04: "SERVERTYPE_REFERRAL",
}


@dataclass(frozen=True)
class AuxPerfRequestId(AuxBlockData):
    """AUX_PERF_REQUESTID (MS-OXCRPC 2.2.2.2.1): the request a session's performance data belongs to."""

    STRUCT_NAME = "AUX_PERF_REQUESTID"
    SECTION = "2.2.2.2.1"
    AUX_TYPE = 0x01
    LAYOUT = (("session_id", "u16"), ("request_id", "u16"))

    session_id: int = _spec("SessionID", 0)
    request_id: int = _spec("RequestID", 0)


@dataclass(frozen=True)
class AuxPerfSessionInfo(AuxBlockData):
    """AUX_PERF_SESSIONINFO (MS-OXCRPC 2.2.2.2.2): the client session to associate performance data with."""

    STRUCT_NAME = "AUX_PERF_SESSIONINFO"
    SECTION = "2.2.2.2.2"
    AUX_TYPE = 0x04
    LAYOUT = (("session_id", "u16"), ("reserved", "u16"), ("session_guid", "guid"))

    session_id: int = _spec("SessionID", 0)
    reserved: int = 0
    session_guid: uuid.UUID = _NIL_GUID


@dataclass(frozen=True)
class AuxPerfSessionInfoV2(AuxBlockData):
    """AUX_PERF_SESSIONINFO_V2 (MS-OXCRPC 2.2.2.2.3): client session details, with the connection ID."""

    STRUCT_NAME = "AUX_PERF_SESSIONINFO_V2"
    SECTION = "2.2.2.2.3"
    AUX_VERSION = AUX_VERSION_2
    AUX_TYPE = 0x04
    LAYOUT = (("session_id", "u16"), ("reserved", "u16"), ("session_guid", "guid"), ("connection_id", "u32"))

    session_id: int = _spec("SessionID", 0)
    reserved: int = 0
    session_guid: uuid.UUID = _NIL_GUID
    connection_id: int = _spec("ConnectionID", 0)


@dataclass(frozen=True)
class AuxPerfClientInfo(AuxBlockData):
    """AUX_PERF_CLIENTINFO (MS-OXCRPC 2.2.2.2.4): the client machine, user and network adapter."""

    STRUCT_NAME = "AUX_PERF_CLIENTINFO"
    SECTION = "2.2.2.2.4"
    AUX_TYPE = 0x02
    LAYOUT = (
        ("adapter_speed", "u32"),
        ("client_id", "u16"),
        ("@off:machine_name", "u16"),
        ("@off:user_name", "u16"),
        ("@len:client_ip", "u16"),
        ("@off:client_ip", "u16"),
        ("@len:client_ip_mask", "u16"),
        ("@off:client_ip_mask", "u16"),
        ("@off:adapter_name", "u16"),
        ("@len:mac_address", "u16"),
        ("@off:mac_address", "u16"),
        ("client_mode", "u16"),
        ("reserved", "u16"),
    )
    VARIABLE = (
        ("machine_name", "str"),
        ("user_name", "str"),
        ("client_ip", "bin"),
        ("client_ip_mask", "bin"),
        ("adapter_name", "str"),
        ("mac_address", "bin"),
    )
    NAMES: ClassVar[_Names] = {"client_mode": ("enum", _CLIENT_MODES)}

    adapter_speed: int = 0
    """Speed of the client's network adapter in kbit/s."""
    client_id: int = _spec("ClientID", 0)
    client_mode: int = 0
    reserved: int = 0
    machine_name: str | None = None
    user_name: str | None = None
    client_ip: bytes | None = _spec("ClientIP", None)
    client_ip_mask: bytes | None = _spec("ClientIPMask", None)
    adapter_name: str | None = None
    mac_address: bytes | None = None


@dataclass(frozen=True)
class AuxPerfServerInfo(AuxBlockData):
    """AUX_PERF_SERVERINFO (MS-OXCRPC 2.2.2.2.5): the server the client talks to."""

    STRUCT_NAME = "AUX_PERF_SERVERINFO"
    SECTION = "2.2.2.2.5"
    AUX_TYPE = 0x03
    LAYOUT = (
        ("server_id", "u16"),
        ("server_type", "u16"),
        ("@off:server_dn", "u16"),
        ("@off:server_name", "u16"),
    )
    VARIABLE = (("server_dn", "str"), ("server_name", "str"))
    NAMES: ClassVar[_Names] = {"server_type": ("enum", _SERVER_TYPES)}

    server_id: int = _spec("ServerID", 0)
    server_type: int = 0
    server_dn: str | None = _spec("ServerDN", None)
    server_name: str | None = None


@dataclass(frozen=True)
class AuxPerfProcessInfo(AuxBlockData):
    """AUX_PERF_PROCESSINFO (MS-OXCRPC 2.2.2.2.6): the client process (version 1 and 2)."""

    STRUCT_NAME = "AUX_PERF_PROCESSINFO"
    SECTION = "2.2.2.2.6"
    AUX_TYPE = 0x0B
    LAYOUT = (
        ("process_id", "u16"),
        ("reserved_1", "u16"),
        ("process_guid", "guid"),
        ("@off:process_name", "u16"),
        ("reserved_2", "u16"),
    )
    VARIABLE = (("process_name", "str"),)

    process_id: int = _spec("ProcessID", 0)
    reserved_1: int = _spec("Reserved_1", 0)
    process_guid: uuid.UUID = _NIL_GUID
    reserved_2: int = _spec("Reserved_2", 0)
    process_name: str | None = None


@dataclass(frozen=True)
class AuxPerfDefMdbSuccess(AuxBlockData):
    """AUX_PERF_DEFMDB_SUCCESS (MS-OXCRPC 2.2.2.2.7): an earlier successful call to the mailbox server."""

    STRUCT_NAME = "AUX_PERF_DEFMDB_SUCCESS"
    SECTION = "2.2.2.2.7"
    AUX_TYPE = 0x05
    LAYOUT = (
        ("time_since_request", "u32"),
        ("time_to_complete_request", "u32"),
        ("request_id", "u16"),
        ("reserved", "u16"),
    )

    time_since_request: int = 0
    time_to_complete_request: int = 0
    request_id: int = _spec("RequestID", 0)
    reserved: int = 0


@dataclass(frozen=True)
class AuxPerfDefGcSuccess(AuxBlockData):
    """AUX_PERF_DEFGC_SUCCESS (MS-OXCRPC 2.2.2.2.8): an earlier successful call to the directory."""

    STRUCT_NAME = "AUX_PERF_DEFGC_SUCCESS"
    SECTION = "2.2.2.2.8"
    AUX_TYPE = 0x06
    LAYOUT = (
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("time_since_request", "u32"),
        ("time_to_complete_request", "u32"),
        ("request_operation", "u8"),
        ("reserved", 3),
    )

    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    time_since_request: int = 0
    time_to_complete_request: int = 0
    request_operation: int = 0
    reserved: bytes = b"\x00\x00\x00"


@dataclass(frozen=True)
class AuxPerfMdbSuccess(AuxBlockData):
    """AUX_PERF_MDB_SUCCESS (MS-OXCRPC 2.2.2.2.9): an earlier successful call to the mailbox server."""

    STRUCT_NAME = "AUX_PERF_MDB_SUCCESS"
    SECTION = "2.2.2.2.9"
    AUX_TYPE = 0x07
    LAYOUT = (
        ("client_id", "u16"),
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("request_id", "u16"),
        ("time_since_request", "u32"),
        ("time_to_complete_request", "u32"),
    )

    client_id: int = _spec("ClientID", 0)
    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    request_id: int = _spec("RequestID", 0)
    time_since_request: int = 0
    time_to_complete_request: int = 0


@dataclass(frozen=True)
class AuxPerfMdbSuccessV2(AuxBlockData):
    """AUX_PERF_MDB_SUCCESS_V2 (MS-OXCRPC 2.2.2.2.10): as AUX_PERF_MDB_SUCCESS, with the process ID."""

    STRUCT_NAME = "AUX_PERF_MDB_SUCCESS_V2"
    SECTION = "2.2.2.2.10"
    AUX_VERSION = AUX_VERSION_2
    AUX_TYPE = 0x07
    LAYOUT = (
        ("process_id", "u16"),
        ("client_id", "u16"),
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("request_id", "u16"),
        ("reserved", "u16"),
        ("time_since_request", "u32"),
        ("time_to_complete_request", "u32"),
    )

    process_id: int = _spec("ProcessID", 0)
    client_id: int = _spec("ClientID", 0)
    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    request_id: int = _spec("RequestID", 0)
    reserved: int = 0
    time_since_request: int = 0
    time_to_complete_request: int = 0


@dataclass(frozen=True)
class AuxPerfGcSuccess(AuxBlockData):
    """AUX_PERF_GC_SUCCESS (MS-OXCRPC 2.2.2.2.11): an earlier successful call to the directory."""

    STRUCT_NAME = "AUX_PERF_GC_SUCCESS"
    SECTION = "2.2.2.2.11"
    AUX_TYPE = 0x08
    LAYOUT = (
        ("client_id", "u16"),
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("reserved_1", "u16"),
        ("time_since_request", "u32"),
        ("time_to_complete_request", "u32"),
        ("request_operation", "u8"),
        ("reserved_2", 3),
    )

    client_id: int = _spec("ClientID", 0)
    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    reserved_1: int = _spec("Reserved_1", 0)
    time_since_request: int = 0
    time_to_complete_request: int = 0
    request_operation: int = 0
    reserved_2: bytes = _spec("Reserved_2", b"\x00\x00\x00")


@dataclass(frozen=True)
class AuxPerfGcSuccessV2(AuxBlockData):
    """AUX_PERF_GC_SUCCESS_V2 (MS-OXCRPC 2.2.2.2.12): as AUX_PERF_GC_SUCCESS, with the process ID."""

    STRUCT_NAME = "AUX_PERF_GC_SUCCESS_V2"
    SECTION = "2.2.2.2.12"
    AUX_VERSION = AUX_VERSION_2
    AUX_TYPE = 0x08
    LAYOUT = (
        ("process_id", "u16"),
        ("client_id", "u16"),
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("time_since_request", "u32"),
        ("time_to_complete_request", "u32"),
        ("request_operation", "u8"),
        ("reserved", 3),
    )

    process_id: int = _spec("ProcessID", 0)
    client_id: int = _spec("ClientID", 0)
    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    time_since_request: int = 0
    time_to_complete_request: int = 0
    request_operation: int = 0
    reserved: bytes = b"\x00\x00\x00"


@dataclass(frozen=True)
class AuxPerfFailure(AuxBlockData):
    """AUX_PERF_FAILURE (MS-OXCRPC 2.2.2.2.13): an earlier failed call to the mailbox server or directory."""

    STRUCT_NAME = "AUX_PERF_FAILURE"
    SECTION = "2.2.2.2.13"
    AUX_TYPE = 0x09
    LAYOUT = (
        ("client_id", "u16"),
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("request_id", "u16"),
        ("time_since_request", "u32"),
        ("time_to_fail_request", "u32"),
        ("result_code", "u32"),
        ("request_operation", "u8"),
        ("reserved", 3),
    )

    client_id: int = _spec("ClientID", 0)
    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    request_id: int = _spec("RequestID", 0)
    time_since_request: int = 0
    time_to_fail_request: int = 0
    result_code: int = 0
    request_operation: int = 0
    reserved: bytes = b"\x00\x00\x00"


@dataclass(frozen=True)
class AuxPerfFailureV2(AuxBlockData):
    """AUX_PERF_FAILURE_V2 (MS-OXCRPC 2.2.2.2.14): as AUX_PERF_FAILURE, with the process ID."""

    STRUCT_NAME = "AUX_PERF_FAILURE_V2"
    SECTION = "2.2.2.2.14"
    AUX_VERSION = AUX_VERSION_2
    AUX_TYPE = 0x09
    LAYOUT = (
        ("process_id", "u16"),
        ("client_id", "u16"),
        ("server_id", "u16"),
        ("session_id", "u16"),
        ("request_id", "u16"),
        ("reserved_1", "u16"),
        ("time_since_request", "u32"),
        ("time_to_fail_request", "u32"),
        ("result_code", "u32"),
        ("request_operation", "u8"),
        ("reserved_2", 3),
    )

    process_id: int = _spec("ProcessID", 0)
    client_id: int = _spec("ClientID", 0)
    server_id: int = _spec("ServerID", 0)
    session_id: int = _spec("SessionID", 0)
    request_id: int = _spec("RequestID", 0)
    reserved_1: int = _spec("Reserved_1", 0)
    time_since_request: int = 0
    time_to_fail_request: int = 0
    result_code: int = 0
    request_operation: int = 0
    reserved_2: bytes = _spec("Reserved_2", b"\x00\x00\x00")


@dataclass(frozen=True)
class AuxClientControl(AuxBlockData):
    """AUX_CLIENT_CONTROL (MS-OXCRPC 2.2.2.2.15): the server asks the client to change its behaviour."""

    STRUCT_NAME = "AUX_CLIENT_CONTROL"
    SECTION = "2.2.2.2.15"
    AUX_TYPE = 0x0A
    LAYOUT = (("enable_flags", "u32"), ("expiry_time", "u32"))
    NAMES: ClassVar[_Names] = {
        "enable_flags": (
            "flags",
            {
                0x01: "ENABLE_PERF_SENDTOSERVER",
                0x02: "ENABLE_PERF_SENDTOMAILBOX",
                0x04: "ENABLE_COMPRESSION",
                0x08: "ENABLE_HTTP_TUNNELING",
                0x10: "ENABLE_PERF_SENDGCDATA",
            },
        )
    }

    enable_flags: int = 0
    expiry_time: int = 0
    """Milliseconds the client keeps unsent performance data."""


@dataclass(frozen=True)
class AuxOsVersionInfo(AuxBlockData):
    """AUX_OSVERSIONINFO (MS-OXCRPC 2.2.2.2.16): the server's operating system version."""

    STRUCT_NAME = "AUX_OSVERSIONINFO"
    SECTION = "2.2.2.2.16"
    AUX_TYPE = 0x16
    LAYOUT = (
        ("os_version_info_size", "u32"),
        ("major_version", "u32"),
        ("minor_version", "u32"),
        ("build_number", "u32"),
        ("reserved1", 132),
        ("service_pack_major", "u16"),
        ("service_pack_minor", "u16"),
        ("reserved2", "u32"),
    )

    os_version_info_size: int = _spec("OSVersionInfoSize", 0)
    major_version: int = 0
    minor_version: int = 0
    build_number: int = 0
    reserved1: bytes = field(default=bytes(132), metadata={"spec": "Reserved1"})
    service_pack_major: int = 0
    service_pack_minor: int = 0
    reserved2: int = 0


@dataclass(frozen=True)
class AuxExOrgInfo(AuxBlockData):
    """AUX_EXORGINFO (MS-OXCRPC 2.2.2.2.17): whether the organization has public folders."""

    STRUCT_NAME = "AUX_EXORGINFO"
    SECTION = "2.2.2.2.17"
    AUX_TYPE = 0x17
    LAYOUT = (("org_flags", "u32"),)
    NAMES: ClassVar[_Names] = {
        "org_flags": (
            "flags",
            {0x01: "PUBLIC_FOLDERS_ENABLED", 0x02: "USE_AUTODISCOVER_FOR_PUBLIC_FOLDER_CONFIGURATION"},
        )
    }

    org_flags: int = 0


@dataclass(frozen=True)
class AuxPerfAccountInfo(AuxBlockData):
    """AUX_PERF_ACCOUNTINFO (MS-OXCRPC 2.2.2.2.18): the client account a ClientID belongs to."""

    STRUCT_NAME = "AUX_PERF_ACCOUNTINFO"
    SECTION = "2.2.2.2.18"
    AUX_TYPE = 0x18
    LAYOUT = (("client_id", "u16"), ("reserved", "u16"), ("account", "guid"))

    client_id: int = _spec("ClientID", 0)
    reserved: int = 0
    account: uuid.UUID = _NIL_GUID


@dataclass(frozen=True)
class AuxServerCapabilities(AuxBlockData):
    """AUX_SERVER_CAPABILITIES (MS-OXCRPC 2.2.2.2.19): packed buffers the server supports."""

    STRUCT_NAME = "AUX_SERVER_CAPABILITIES"
    SECTION = "2.2.2.2.19"
    AUX_TYPE = 0x46
    LAYOUT = (("server_capability_flags", "u32"),)
    NAMES: ClassVar[_Names] = {
        "server_capability_flags": (
            "flags",
            {
                0x01: "PACKED_FAST_TRANSFER_UPLOAD_BUFFERS",
                0x02: "PACKED_WRITE_STREAM_UPLOAD_BUFFERS",
                0x08: "ULTRA_LARGE_PACKED_DOWNLOAD_BUFFERS",
            },
        )
    }

    server_capability_flags: int = 0


@dataclass(frozen=True)
class AuxEndpointCapabilities(AuxBlockData):
    """AUX_ENDPOINT_CAPABILITIES (MS-OXCRPC 2.2.2.2.20): RFRI, NSPI and EMSMDB on one endpoint."""

    STRUCT_NAME = "AUX_ENDPOINT_CAPABILITIES"
    SECTION = "2.2.2.2.20"
    AUX_TYPE = 0x48
    LAYOUT = (("endpoint_capability_flag", "u32"),)
    NAMES: ClassVar[_Names] = {
        "endpoint_capability_flag": ("flags", {0x01: "ENDPOINT_CAPABILITIES_SINGLE_ENDPOINT"})
    }

    endpoint_capability_flag: int = 0


@dataclass(frozen=True)
class AuxClientConnectionInfo(AuxBlockData):
    """AUX_CLIENT_CONNECTION_INFO (MS-OXCRPC 2.2.2.2.21): the client connection, for the server's log.

    ⚠ ConnectionAttempts is 4 bytes in MS-OXCRPC v20150914 and in gromox's parser of Outlook's blocks, but
    2 bytes in the v23 (2018) text and Microsoft's test suite. Both forms are accepted: the 2-byte form is
    recognised when the context-info offset (or, without one, the block size) shows a 26-byte fixed part.
    The 4-byte form is sent: it keeps ConnectionFlags on the 4-byte boundary that the Reserved padding
    exists for.
    """

    STRUCT_NAME = "AUX_CLIENT_CONNECTION_INFO"
    SECTION = "2.2.2.2.21"
    AUX_TYPE = 0x4A
    LAYOUT = (
        ("connection_guid", "guid"),
        ("@off:connection_context_info", "u16"),
        ("reserved", "u16"),
        ("connection_attempts", "u32"),
        ("connection_flags", "u32"),
    )
    LAYOUT_V23: ClassVar[tuple[tuple[str, _Kind], ...]] = (
        ("connection_guid", "guid"),
        ("@off:connection_context_info", "u16"),
        ("reserved", "u16"),
        ("connection_attempts", "u16"),
        ("connection_flags", "u32"),
    )
    VARIABLE = (("connection_context_info", "str"),)
    OFFSET_FIELDS: ClassVar[dict[str, str]] = {"connection_context_info": "OffsetConnectionContextInfo"}
    NAMES: ClassVar[_Names] = {"connection_flags": ("flags", {0x01: "cached mode"})}

    connection_guid: uuid.UUID = field(default=_NIL_GUID, metadata={"spec": "ConnectionGUID"})
    reserved: int = 0
    connection_attempts: int = 0
    connection_flags: int = 0
    connection_context_info: str | None = None

    @classmethod
    def decode_block(cls, block: bytes, base: int) -> Self:
        off = int.from_bytes(block[20:22], "little") if len(block) >= 22 else 0
        short_fixed = AuxHeader.SIZE + 26
        if (off == short_fixed) or (off == 0 and len(block) == short_fixed):
            return cls._decode_layout(block, base, cls.LAYOUT_V23)
        return cls._decode_layout(block, base, cls.LAYOUT)


@dataclass(frozen=True)
class AuxServerSessionInfo(AuxBlockData):
    """AUX_SERVER_SESSION_INFO (MS-OXCRPC 2.2.2.2.22): server session context, for the client's log."""

    STRUCT_NAME = "AUX_SERVER_SESSION_INFO"
    SECTION = "2.2.2.2.22"
    AUX_TYPE = 0x4B
    LAYOUT = (("@off:server_session_context_info", "u16"),)
    VARIABLE = (("server_session_context_info", "str"),)
    OFFSET_FIELDS: ClassVar[dict[str, str]] = {
        "server_session_context_info": "OffsetServerSessionContextInfo"
    }

    server_session_context_info: str | None = None


@dataclass(frozen=True)
class AuxProtocolDeviceIdentification(AuxBlockData):
    """AUX_PROTOCOL_DEVICE_IDENTIFICATION (MS-OXCRPC 2.2.2.2.23): man-in-the-middle equipment."""

    STRUCT_NAME = "AUX_PROTOCOL_DEVICE_IDENTIFICATION"
    SECTION = "2.2.2.2.23"
    AUX_TYPE = 0x4E
    LAYOUT = (
        ("@off:device_manufacturer", "u16"),
        ("@off:device_model", "u16"),
        ("@off:device_serial_number", "u16"),
        ("@off:device_version", "u16"),
        ("@off:device_firmware_version", "u16"),
    )
    VARIABLE = (
        ("device_manufacturer", "str"),
        ("device_model", "str"),
        ("device_serial_number", "str"),
        ("device_version", "str"),
        ("device_firmware_version", "str"),
    )

    device_manufacturer: str | None = None
    device_model: str | None = None
    device_serial_number: str | None = None
    device_version: str | None = None
    device_firmware_version: str | None = None


@dataclass(frozen=True)
class UnknownAuxBlock:
    """A block whose Version/Type pair has no published layout, kept as raw bytes (MS-OXCRPC 3.1.4.1.2)."""

    data: bytes

    STRUCT_NAME: ClassVar[str] = "UnknownBlock"

    def encode_body(self) -> bytes:
        return self.data


_V1: dict[int, type[AuxBlockData]] = {
    0x01: AuxPerfRequestId,
    0x02: AuxPerfClientInfo,
    0x03: AuxPerfServerInfo,
    0x04: AuxPerfSessionInfo,
    0x05: AuxPerfDefMdbSuccess,
    0x06: AuxPerfDefGcSuccess,
    0x07: AuxPerfMdbSuccess,
    0x08: AuxPerfGcSuccess,
    0x09: AuxPerfFailure,
    0x0A: AuxClientControl,
    0x0B: AuxPerfProcessInfo,
    0x0C: AuxPerfDefMdbSuccess,
    0x0D: AuxPerfDefGcSuccess,
    0x0E: AuxPerfMdbSuccess,
    0x0F: AuxPerfGcSuccess,
    0x10: AuxPerfFailure,
    0x11: AuxPerfDefMdbSuccess,
    0x12: AuxPerfDefGcSuccess,
    0x13: AuxPerfMdbSuccess,
    0x14: AuxPerfGcSuccess,
    0x15: AuxPerfFailure,
    0x16: AuxOsVersionInfo,
    0x17: AuxExOrgInfo,
    0x18: AuxPerfAccountInfo,
    0x46: AuxServerCapabilities,
    0x48: AuxEndpointCapabilities,
    0x4A: AuxClientConnectionInfo,
    0x4B: AuxServerSessionInfo,
    0x4E: AuxProtocolDeviceIdentification,
}
_V2: dict[int, type[AuxBlockData]] = {
    0x04: AuxPerfSessionInfoV2,
    0x07: AuxPerfMdbSuccessV2,
    0x08: AuxPerfGcSuccessV2,
    0x09: AuxPerfFailureV2,
    0x0B: AuxPerfProcessInfo,
    0x0E: AuxPerfMdbSuccessV2,
    0x0F: AuxPerfGcSuccessV2,
    0x10: AuxPerfFailureV2,
    0x13: AuxPerfMdbSuccessV2,
    0x14: AuxPerfGcSuccessV2,
    0x15: AuxPerfFailureV2,
}
AUX_BLOCK_TYPES: dict[tuple[int, int], type[AuxBlockData]] = {
    **{(AUX_VERSION_1, t): c for t, c in _V1.items()},
    **{(AUX_VERSION_2, t): c for t, c in _V2.items()},
}
"""(Version, Type) -> block structure, the two tables of MS-OXCRPC 2.2.2.2."""


@dataclass(frozen=True)
class AuxHeader:
    """AUX_HEADER (MS-OXCRPC 2.2.2.2): Size counts the header and the block after it."""

    size: int
    version: int
    type: int

    SIZE: ClassVar[int] = 4

    @property
    def type_name(self) -> str:
        return AUX_TYPE_NAMES.get(self.type, f"unknown type 0x{self.type:02X}")

    def encode(self) -> bytes:
        return Writer().u16(self.size).u8(self.version).u8(self.type).getvalue()

    def __json__(self) -> dict[str, Any]:
        return {"Size": self.size, "Version": self.version, "Type": self.type, "TypeName": self.type_name}


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
