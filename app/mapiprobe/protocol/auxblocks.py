"""AUX_HEADER and the auxiliary block structures (MS-OXCRPC 2.2.2.2.1 to 2.2.2.2.23).

The well-known blocks decode into dataclasses named after the spec; an unknown Version/Type pair is kept
as raw bytes, as a server must skip it (MS-OXCRPC 3.1.4.1.2). Section numbers follow MS-OXCRPC v23 (2018);
the 2015 revision numbered AUX_SERVER_CAPABILITIES out and the blocks after AUX_PERF_ACCOUNTINFO one
lower (⚠).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from .errors import DecodeError, EncodeError
from .extbuffer import _flag_names
from .jsonview import spec_name, to_jsonable
from .wire import Reader, Writer

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
