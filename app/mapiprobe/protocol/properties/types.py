"""Property types, the Python value types, property tags and Folder/Message IDs (MS-OXCDATA 2.11.1, 2.9,
2.2.1.1–2.2.1.2). Part of :mod:`mapiprobe.protocol.properties`, which re-exports every name."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

from .. import tags as _tags
from ..errorcodes import error_name
from ..errors import DecodeError, EncodeError
from ..wire import Reader

# ---------------------------------------------------------------------------------------------------------
# Property types (MS-OXCDATA 2.11.1)
# ---------------------------------------------------------------------------------------------------------

MV_FLAG = 0x1000
"""PtypMultiple...: the base type OR 0x1000 (MS-OXCDATA 2.11.1)."""
MVI_FLAG = 0x2000
"""MultivalueInstance: only in column tags of a table (MS-OXCTABL 2.2.2.2.1); the row then carries one
single value of the base type per row."""


class PropType(IntEnum):
    """Property types and their wire values (MS-OXCDATA 2.11.1)."""

    UNSPECIFIED = 0x0000
    NULL = 0x0001
    INTEGER16 = 0x0002
    INTEGER32 = 0x0003
    FLOATING32 = 0x0004
    FLOATING64 = 0x0005
    CURRENCY = 0x0006
    FLOATING_TIME = 0x0007
    ERROR_CODE = 0x000A
    BOOLEAN = 0x000B
    OBJECT = 0x000D
    INTEGER64 = 0x0014
    STRING8 = 0x001E
    STRING = 0x001F
    TIME = 0x0040
    GUID = 0x0048
    SERVER_ID = 0x00FB
    RESTRICTION = 0x00FD
    RULE_ACTION = 0x00FE
    BINARY = 0x0102
    MV_INTEGER16 = 0x1002
    MV_INTEGER32 = 0x1003
    MV_FLOATING32 = 0x1004
    MV_FLOATING64 = 0x1005
    MV_CURRENCY = 0x1006
    MV_FLOATING_TIME = 0x1007
    MV_INTEGER64 = 0x1014
    MV_STRING8 = 0x101E
    MV_STRING = 0x101F
    MV_TIME = 0x1040
    MV_GUID = 0x1048
    MV_BINARY = 0x1102

    @property
    def spec_name(self) -> str:
        """The spec's name, e.g. ``PtypMultipleString``."""
        return _SPEC_TYPE_NAMES[self]


_SPEC_TYPE_NAMES: dict[PropType, str] = {
    PropType.UNSPECIFIED: "PtypUnspecified",
    PropType.NULL: "PtypNull",
    PropType.INTEGER16: "PtypInteger16",
    PropType.INTEGER32: "PtypInteger32",
    PropType.FLOATING32: "PtypFloating32",
    PropType.FLOATING64: "PtypFloating64",
    PropType.CURRENCY: "PtypCurrency",
    PropType.FLOATING_TIME: "PtypFloatingTime",
    PropType.ERROR_CODE: "PtypErrorCode",
    PropType.BOOLEAN: "PtypBoolean",
    PropType.OBJECT: "PtypObject",
    PropType.INTEGER64: "PtypInteger64",
    PropType.STRING8: "PtypString8",
    PropType.STRING: "PtypString",
    PropType.TIME: "PtypTime",
    PropType.GUID: "PtypGuid",
    PropType.SERVER_ID: "PtypServerId",
    PropType.RESTRICTION: "PtypRestriction",
    PropType.RULE_ACTION: "PtypRuleAction",
    PropType.BINARY: "PtypBinary",
    PropType.MV_INTEGER16: "PtypMultipleInteger16",
    PropType.MV_INTEGER32: "PtypMultipleInteger32",
    PropType.MV_FLOATING32: "PtypMultipleFloating32",
    PropType.MV_FLOATING64: "PtypMultipleFloating64",
    PropType.MV_CURRENCY: "PtypMultipleCurrency",
    PropType.MV_FLOATING_TIME: "PtypMultipleFloatingTime",
    PropType.MV_INTEGER64: "PtypMultipleInteger64",
    PropType.MV_STRING8: "PtypMultipleString8",
    PropType.MV_STRING: "PtypMultipleString",
    PropType.MV_TIME: "PtypMultipleTime",
    PropType.MV_GUID: "PtypMultipleGuid",
    PropType.MV_BINARY: "PtypMultipleBinary",
}

_KNOWN_TYPES = frozenset(int(t) for t in PropType)


def type_name(prop_type: int) -> str:
    """``PtypString`` for 0x001F; ``0xNNNN`` for a type the spec does not define."""
    try:
        return PropType(prop_type).spec_name
    except ValueError:
        return f"0x{prop_type:04X}"


class Context(Enum):
    """Which encoding of PropertyValue applies (COUNT widths, HasValue bytes)."""

    ROP = "rop"
    """ROP buffers: PtypBinary COUNT u16, multi-value COUNT u32 (MS-OXCDATA 2.11.1, 2.11.1.1)."""
    ADDRESS_BOOK = "address-book"
    """MAPI/HTTP address book bodies: u32 COUNTs and HasValue bytes (MS-OXCMAPIHTTP 2.2.1.1)."""


def _binary_count_width(ctx: Context) -> int:
    return 2 if ctx is Context.ROP else 4


# Multi-valued COUNT in ROP buffers. ⚠ PROTOCOL.md §5.2: the current MS-OXCDATA 2.11.1 text and gromox use a
# 32-bit COUNT for every PtypMultiple value; an older MS-OXCDATA 2.11.2.1 sentence says 16-bit. A tolerant
# reader is impossible (a u16 count followed by data is indistinguishable from part of a u32), so we read
# and send u32, the current spec's form.
_MV_COUNT_WIDTH = 4

# ---------------------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------------------

_FILETIME_EPOCH = _dt.datetime(1601, 1, 1, tzinfo=_dt.UTC)


class FileTime(int):
    """PtypTime: 100-nanosecond ticks since 1601-01-01 00:00 UTC (MS-OXCDATA 2.11.1, FILETIME)."""

    def to_datetime(self) -> _dt.datetime:
        """The time as an aware UTC datetime (microsecond precision; out-of-range values clamp)."""
        micro = int(self) // 10
        try:
            return _FILETIME_EPOCH + _dt.timedelta(microseconds=micro)
        except OverflowError:
            return _dt.datetime.max.replace(tzinfo=_dt.UTC)

    @classmethod
    def from_datetime(cls, when: _dt.datetime) -> FileTime:
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.UTC)
        delta = when - _FILETIME_EPOCH
        return cls((delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10)

    def __repr__(self) -> str:
        return f"FileTime({int(self)})"

    def __json__(self) -> str:
        if self == 0:
            return "0 (no time)"
        if int(self) >= 0x7FFFFFFFFFFFFFFF:
            return f"0x{int(self):016X} (never)"
        return self.to_datetime().isoformat().replace("+00:00", "Z")


class Currency(int):
    """PtypCurrency: a signed 64-bit integer scaled by 10 000 (MS-OXCDATA 2.11.1)."""

    def __repr__(self) -> str:
        return f"Currency({int(self)})"

    def __json__(self) -> str:
        sign = "-" if self < 0 else ""
        whole, frac = divmod(abs(int(self)), 10_000)
        return f"{sign}{whole}.{frac:04d}"


class ErrorCode(int):
    """A 32-bit status code (PtypErrorCode, MS-OXCDATA 2.4) that renders with its name."""

    @property
    def name(self) -> str | None:
        return error_name(int(self))

    def __repr__(self) -> str:
        return f"ErrorCode(0x{int(self):08X})"

    def __json__(self) -> str:
        name = self.name
        return f"0x{int(self):08X} ({name})" if name else f"0x{int(self):08X}"


class ErrorValue(ErrorCode):
    """The value of a column *in error*: a FlaggedPropertyValue with Flag 0xA (MS-OXCDATA 2.11.5).

    Distinct from :class:`ErrorCode` so that a PtypErrorCode column whose value happens to be an error code
    is not confused with a column that could not be returned. Pass one to :meth:`PropertyRow.build` to get
    Flag 0xA.
    """

    def __repr__(self) -> str:
        return f"ErrorValue(0x{int(self):08X})"


class ServerId(bytes):
    """PtypServerId payload (MS-OXCDATA 2.11.1.4), kept as the raw bytes that follow its COUNT.

    When the first byte (Ours) is 0x01 the rest is FolderId (8), MessageId (8) and Instance (u32); otherwise
    it is opaque client data.
    """

    @property
    def ours(self) -> bool:
        return len(self) >= 1 and self[0] == 0x01

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Ours": self.ours}
        if self.ours and len(self) == 21:
            r = Reader(self[1:])
            out["FolderId"] = str(FolderId(r.u64()))
            out["MessageId"] = str(MessageId(r.u64()))
            out["Instance"] = r.u32()
        else:
            out["ClientData"] = bytes(self[1:]).hex().upper()
        return out


# ---------------------------------------------------------------------------------------------------------
# Property tags (MS-OXCDATA 2.9)
# ---------------------------------------------------------------------------------------------------------


class PropertyTag(int):
    """A property tag: PropertyId in the upper 16 bits, PropertyType in the lower (MS-OXCDATA 2.9)."""

    def __new__(cls, value: int) -> PropertyTag:
        if not 0 <= value <= 0xFFFFFFFF:
            raise EncodeError(f"property tag {value!r} does not fit in 32 bits")
        return super().__new__(cls, value)

    @classmethod
    def of(cls, prop_id: int, prop_type: int) -> PropertyTag:
        return cls(((prop_id & 0xFFFF) << 16) | (prop_type & 0xFFFF))

    @property
    def prop_id(self) -> int:
        return int(self) >> 16

    @property
    def prop_type(self) -> int:
        return int(self) & 0xFFFF

    @property
    def name(self) -> str | None:
        """The canonical ``PidTag...`` name of the property id, whatever the type (see tags.tag_name)."""
        return _tags.tag_name(int(self))

    def with_type(self, prop_type: int) -> PropertyTag:
        return PropertyTag.of(self.prop_id, prop_type)

    def __repr__(self) -> str:
        name = self.name
        return f"PropertyTag(0x{int(self):08X}{' ' + name if name else ''})"

    def __str__(self) -> str:
        return f"0x{int(self):08X}"

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {"PropertyTag": f"0x{int(self):08X}", "Name": self.name}
        known = _tags.PID_TAGS.get(self.name) if self.name else None
        if known is not None and known != int(self):
            # e.g. 0x3A17000A: PidTagTitle reported with type PtypErrorCode.
            out["Type"] = type_name(self.prop_type)
        return out


def tag_by_name(name: str) -> int | None:
    """Tag of a canonical ``PidTag...`` name (case-insensitive)."""
    return _tags.tag_by_name(name)


def tag_name(tag: int) -> str | None:
    """Canonical name of ``tag``, also for a known property id carried with another type."""
    return _tags.tag_name(tag)


# ---------------------------------------------------------------------------------------------------------
# Folder and message IDs (MS-OXCDATA 2.2.1.1, 2.2.1.2)
# ---------------------------------------------------------------------------------------------------------


class FolderId(int):
    """A Folder ID: ReplicaId (u16) then GlobalCounter (6 bytes), read as one little-endian u64.

    On the wire (and as the PtypInteger64 value of PidTagFolderId) the 8 bytes are ReplicaId u16 LE followed
    by the 6 GlobalCounter bytes; PROTOCOL.md §5.5 notes the GlobalCounter bytes are stored most
    significant first (MS-OXCFXICS 3.1.5.3; MS-OXCDATA itself only says "unsigned integer"), so
    :attr:`global_counter` reads them big-endian. ``str()`` gives ``RRRR-GGGGGGGGGGGG`` in hex.
    """

    def __new__(cls, value: int) -> FolderId:
        if not 0 <= value <= 0xFFFFFFFFFFFFFFFF:
            raise EncodeError(f"{cls.__name__} {value!r} does not fit in 64 bits")
        return super().__new__(cls, value)

    @classmethod
    def from_parts(cls, replica_id: int, global_counter: int) -> FolderId:
        if not 0 <= replica_id <= 0xFFFF:
            raise EncodeError(f"ReplicaId {replica_id!r} does not fit in 16 bits")
        if not 0 <= global_counter <= 0xFFFFFFFFFFFF:
            raise EncodeError(f"GlobalCounter {global_counter!r} does not fit in 48 bits")
        gc_le = int.from_bytes(global_counter.to_bytes(6, "big"), "little")
        return cls(replica_id | (gc_le << 16))

    @classmethod
    def from_bytes8(cls, raw: bytes) -> FolderId:
        if len(raw) != 8:
            raise DecodeError(f"a {cls.__name__} is 8 bytes, got {len(raw)}", expected="8 bytes")
        return cls(int.from_bytes(raw, "little"))

    @classmethod
    def parse(cls, text: str) -> FolderId:
        """``0001-000000000001`` (ReplicaId-GlobalCounter, hex) or 16 hex digits of the wire bytes."""
        s = text.strip().replace(" ", "")
        for sep in ("-", ":"):
            if sep in s:
                rid, _, gc = s.partition(sep)
                try:
                    return cls.from_parts(int(rid, 16), int(gc, 16))
                except ValueError:
                    break
        try:
            raw = bytes.fromhex(s)
        except ValueError:
            raw = b""
        if len(raw) != 8:
            raise DecodeError(
                f"not a {cls.__name__}: {text!r}",
                expected="RRRR-GGGGGGGGGGGG or 16 hex digits (the 8 wire bytes)",
            )
        return cls.from_bytes8(raw)

    @property
    def replica_id(self) -> int:
        return int(self) & 0xFFFF

    @property
    def global_counter(self) -> int:
        return int.from_bytes((int(self) >> 16).to_bytes(6, "little"), "big")

    def to_bytes8(self) -> bytes:
        return int(self).to_bytes(8, "little")

    def __str__(self) -> str:
        return f"{self.replica_id:04X}-{self.global_counter:012X}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"

    def __json__(self) -> str:
        return str(self)


class MessageId(FolderId):
    """A Message ID: the same 8-byte shape as a Folder ID (MS-OXCDATA 2.2.1.2)."""


@dataclass(frozen=True)
class FolderIdView:
    """What ``mapiprobe decode folder-id`` shows: the ID and its two fields."""

    folder_id: FolderId = field(metadata={"spec": "FolderId"})
    replica_id: int
    global_counter: int = field(metadata={"spec": "GlobalCounter"})

    def __json__(self) -> dict[str, Any]:
        return {
            "FolderId": str(self.folder_id),
            "ReplicaId": f"0x{self.replica_id:04X}",
            "GlobalCounter": f"0x{self.global_counter:012X}",
            "AsInteger64": f"0x{int(self.folder_id):016X}",
        }


# Tags whose PtypInteger64 value is a FID or MID: rows show them as FolderId/MessageId.
_ID_PROPS: dict[int, type[FolderId]] = {0x6748: FolderId, 0x6749: FolderId, 0x674A: MessageId}
