"""MS-OXCDATA property values, tags, rows and IDs, in ROP buffers and in MAPI/HTTP address book bodies.

What is here (spec sections in brackets):

* :class:`PropType` — property types and their wire values [MS-OXCDATA 2.11.1];
* :class:`PropertyTag` — a 32-bit tag that knows its ``PidTag`` name [MS-OXCDATA 2.9];
* :func:`read_value` / :func:`write_value` — one PropertyValue [MS-OXCDATA 2.11.2.1] in either
  :class:`Context`: ``ROP`` (PtypBinary COUNT u16, multi-value COUNT u32) or ``ADDRESS_BOOK``
  (AddressBookPropertyValue, MS-OXCMAPIHTTP 2.2.1.1: a HasValue byte before strings, binaries and every
  multi-valued type; u32 COUNTs);
* the value wrappers TypedPropertyValue, TaggedPropertyValue, FlaggedPropertyValue,
  FlaggedPropertyValueWithType, PropertyValue_r [MS-OXCDATA 2.11.3–2.11.6, 2.11.2.2] and their
  AddressBook* equivalents [MS-OXCMAPIHTTP 2.2.1.2–2.2.1.6];
* :class:`PropertyRow` — StandardPropertyRow / FlaggedPropertyRow [MS-OXCDATA 2.8.1] and, with
  ``ctx=Context.ADDRESS_BOOK``, AddressBookPropertyRow [MS-OXCMAPIHTTP 2.2.1.7];
* PropertyTagArray / LargePropertyTagArray [MS-OXCDATA 2.10.1, MS-OXCMAPIHTTP 2.2.1.8] and
  AddressBookPropertyValueList [MS-OXCMAPIHTTP 2.2.1.3];
* :class:`FolderId` / :class:`MessageId` [MS-OXCDATA 2.2.1.1, 2.2.1.2] and :class:`PropertyName`
  [MS-OXCDATA 2.6.1].

Python value types: integers are ``int`` (signed, as MS-OXCDATA defines PtypInteger16/32/64), floats
``float``, PtypBoolean ``bool``, strings ``str``, PtypBinary ``bytes``, PtypGuid ``uuid.UUID``, PtypTime
:class:`FileTime`, PtypCurrency :class:`Currency`, PtypErrorCode :class:`ErrorCode`, PtypServerId
:class:`ServerId`, multi-valued types ``tuple`` of the single-valued type. ``None`` is "no value" (an absent
column in a flagged row, or HasValue 0x00 in the address book).

PtypRestriction and PtypRuleAction values are not decoded inside rows: their length is only known by parsing
MS-OXCDATA 2.12 / MS-OXORULE 2.2.5 structures, so the decoder stops with a DecodeError that says so rather
than guess a length.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import functools
import math
import struct
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

from . import tags as _tags
from .errorcodes import error_name
from .errors import DecodeError, EncodeError, ProtocolError
from .registry import DecodeContext, decode_kind
from .wire import Reader, Writer

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

# ---------------------------------------------------------------------------------------------------------
# PropertyValue (MS-OXCDATA 2.11.2.1; MS-OXCMAPIHTTP 2.2.1.1)
# ---------------------------------------------------------------------------------------------------------

EMBEDDED_VALUE_CODECS: dict[
    int, tuple[Callable[[Reader, Context], Any], Callable[[Writer, Any, Context], None]]
] = {}
"""PtypRestriction and PtypRuleAction values: structures whose length is known only by parsing them.
:mod:`mapiprobe.protocol.restriction` registers their reader and writer here when it is imported."""

_HAS_VALUE_TYPES = frozenset({PropType.STRING8, PropType.STRING, PropType.BINARY})


def _has_value_byte(prop_type: int) -> bool:
    """MS-OXCMAPIHTTP 2.2.1.1: HasValue precedes PtypString, PtypString8, PtypBinary and any multi-value."""
    return prop_type in _HAS_VALUE_TYPES or bool(prop_type & MV_FLAG)


@functools.lru_cache(maxsize=512)
def _field(prop_type: int) -> str:
    return f"PropertyValue ({type_name(prop_type)})"


def _unsupported(r: Reader, prop_type: int) -> DecodeError:
    return DecodeError(
        f"{type_name(prop_type)} values are not supported inside a row or value list: their length is "
        "known only by parsing the embedded structure, which mapiprobe does not decode here",
        offset=r.offset,
        field=_field(prop_type),
        expected="a property type other than PtypRestriction/PtypRuleAction",
    )


def read_value(r: Reader, prop_type: int, ctx: Context = Context.ROP, *, encoding: str = "cp1252") -> Any:
    """Read one PropertyValue of ``prop_type`` (MS-OXCDATA 2.11.2.1).

    In the ADDRESS_BOOK context this is an AddressBookPropertyValue (MS-OXCMAPIHTTP 2.2.1.1): for strings,
    binaries and multi-valued types a HasValue byte comes first (0x00 → ``None``; any non-zero value → the
    value follows; we send 0xFF).
    """
    if prop_type & MVI_FLAG:
        # A MultivalueInstance column (MS-OXCTABL 2.2.2.2.1) carries one value of the base type.
        prop_type &= ~(MVI_FLAG | MV_FLAG)
    if ctx is Context.ADDRESS_BOOK and _has_value_byte(prop_type):
        has_value = r.u8("HasValue")
        if has_value == 0:
            return None
    return _read_bare(r, prop_type, ctx, encoding)


def _read_bare(r: Reader, prop_type: int, ctx: Context, encoding: str) -> Any:
    f = _field(prop_type)
    if prop_type & MV_FLAG:
        return _read_multi(r, prop_type, ctx, encoding)
    reader = _SCALAR_READERS.get(prop_type)
    if reader is not None:
        return reader(r, f)
    if prop_type == PropType.STRING8:
        return r.asciiz(f, encoding=encoding)
    if prop_type == PropType.STRING:
        return r.utf16z(f)
    if prop_type == PropType.BINARY:
        return r.counted_bytes(_binary_count_width(ctx), f)
    if prop_type == PropType.SERVER_ID:
        return ServerId(r.counted_bytes(_binary_count_width(ctx), f))
    if prop_type == PropType.OBJECT:
        if ctx is Context.ADDRESS_BOOK:
            # PtypEmbeddedTable in the address book: a 32-bit value (PROTOCOL.md §5.2, MS-OXNSPI 2.2.2.1
            # PROP_VAL_UNION lReserved). [U] gromox writes no bytes at all here; servers are asked with
            # fSkipObjects so such columns should not appear.
            return r.u32(f)
        # [I] No spec layout for PtypObject inside a ROP row; gromox reads it like PtypBinary (COUNT+bytes).
        return r.counted_bytes(_binary_count_width(ctx), f)
    embedded = EMBEDDED_VALUE_CODECS.get(prop_type)
    if embedded is not None:
        return embedded[0](r, ctx)
    if prop_type in (PropType.RESTRICTION, PropType.RULE_ACTION):
        raise _unsupported(r, prop_type)
    if prop_type == PropType.UNSPECIFIED:
        raise DecodeError(
            "PtypUnspecified has no value encoding; the type must come from a TypedPropertyValue",
            offset=r.offset,
            field=f,
            expected="a concrete property type",
        )
    raise DecodeError(
        f"unknown property type 0x{prop_type:04X}",
        offset=r.offset,
        field=f,
        expected="a property type of MS-OXCDATA 2.11.1",
    )


def _read_time(r: Reader, f: str) -> FileTime:
    return FileTime(r.u64(f))


_SCALAR_READERS: dict[int, Callable[[Reader, str], Any]] = {
    PropType.NULL: lambda r, f: None,
    PropType.INTEGER16: lambda r, f: r.i16(f),
    PropType.INTEGER32: lambda r, f: r.i32(f),
    PropType.FLOATING32: lambda r, f: r.f32(f),
    PropType.FLOATING64: lambda r, f: r.f64(f),
    PropType.CURRENCY: lambda r, f: Currency(r.i64(f)),
    PropType.FLOATING_TIME: lambda r, f: r.f64(f),
    PropType.ERROR_CODE: lambda r, f: ErrorCode(r.u32(f)),
    PropType.BOOLEAN: lambda r, f: r.u8(f) != 0,
    PropType.INTEGER64: lambda r, f: r.i64(f),
    PropType.TIME: _read_time,
    PropType.GUID: lambda r, f: r.guid(f),
}

_MIN_ITEM_SIZE: dict[int, int] = {
    PropType.INTEGER16: 2,
    PropType.INTEGER32: 4,
    PropType.FLOATING32: 4,
    PropType.FLOATING64: 8,
    PropType.CURRENCY: 8,
    PropType.FLOATING_TIME: 8,
    PropType.INTEGER64: 8,
    PropType.TIME: 8,
    PropType.GUID: 16,
    PropType.STRING8: 1,
    PropType.STRING: 2,
    PropType.BINARY: 2,
}


def _read_multi(r: Reader, prop_type: int, ctx: Context, encoding: str) -> tuple[Any, ...]:
    base = prop_type & ~MV_FLAG
    if prop_type not in _KNOWN_TYPES:
        raise DecodeError(
            f"unknown multi-valued property type 0x{prop_type:04X}",
            offset=r.offset,
            field=_field(prop_type),
            expected="a PtypMultiple type of MS-OXCDATA 2.11.1",
        )
    item = _MIN_ITEM_SIZE[base]
    if base == PropType.BINARY:
        item = _binary_count_width(ctx)
    if ctx is Context.ADDRESS_BOOK and base in _HAS_VALUE_TYPES:
        item = 1  # gromox's per-element presence byte 0x00 alone stands for an element
    n = r.count(_MV_COUNT_WIDTH, f"{type_name(prop_type)} count", item_size=item)
    if ctx is Context.ADDRESS_BOOK and base in _HAS_VALUE_TYPES and n:
        return _read_ab_multi_strings(r, base, n, encoding)
    return tuple(_read_bare(r, base, ctx, encoding) for _ in range(n))


def _read_ab_multi_strings(r: Reader, base: int, n: int, encoding: str) -> tuple[Any, ...]:
    """Multi-valued string/binary elements in an address book body.

    ⚠ PROTOCOL.md §6.4: the spec (MS-OXCMAPIHTTP 2.2.1.1) has the elements back to back; gromox writes a
    0xFF/0x00 presence byte before *each* element. Both are accepted: the elements are parsed both ways on
    a look-ahead copy and the form that parses is used. If both parse, the gromox form wins only when every
    presence byte is 0xFF (a spec-form string or binary that starts with 0xFF bytes in every element is far
    less likely than gromox's marker); otherwise the spec form is used. We always send the spec form.
    """
    spec = _try_parse(
        r, lambda s: tuple(_read_bare(s, base, Context.ADDRESS_BOOK, encoding) for _ in range(n))
    )
    markers: list[int] = []

    def gromox(s: Reader) -> tuple[Any, ...]:
        out: list[Any] = []
        for _ in range(n):
            m = s.u8("presence byte")
            markers.append(m)
            if m == 0x00:
                out.append(None)
            elif m == 0xFF:
                out.append(_read_bare(s, base, Context.ADDRESS_BOOK, encoding))
            else:
                raise DecodeError("not a presence byte", offset=s.offset - 1)
        return tuple(out)

    alt = _try_parse(r, gromox)
    if spec is not None and (alt is None or not all(m == 0xFF for m in markers)):
        value, used = spec
    elif alt is not None:
        value, used = alt
    else:
        # Neither form parses: decode the spec form on the real reader so the error points at the fault.
        return tuple(_read_bare(r, base, Context.ADDRESS_BOOK, encoding) for _ in range(n))
    r.take(used, "multi-valued elements")
    return tuple(value)


def _lookahead(r: Reader) -> Reader:
    """A throw-away reader over what is left of ``r``'s window, with the same absolute offsets."""
    # wire.Reader has no public "peek(n)"; this reads its window without moving it.
    return Reader(r._data[r._pos : r._end], base=r.offset)


def _try_parse(r: Reader, parse: Callable[[Reader], Any]) -> tuple[Any, int] | None:
    sub = _lookahead(r)
    start = sub.offset
    try:
        value = parse(sub)
    except ProtocolError:
        return None
    return value, sub.offset - start


# -- writing ----------------------------------------------------------------------------------------------


def write_value(
    w: Writer, prop_type: int, value: Any, ctx: Context = Context.ROP, *, encoding: str = "cp1252"
) -> None:
    """Write one PropertyValue (MS-OXCDATA 2.11.2.1) or AddressBookPropertyValue (MS-OXCMAPIHTTP 2.2.1.1).

    ``None`` is only allowed where the encoding can say "no value": a HasValue type in the address book
    (written as HasValue 0x00) and PtypNull.
    """
    if prop_type & MVI_FLAG:
        prop_type &= ~(MVI_FLAG | MV_FLAG)
    if ctx is Context.ADDRESS_BOOK and _has_value_byte(prop_type):
        if value is None:
            w.u8(0x00)
            return
        w.u8(0xFF)
    _write_bare(w, prop_type, value, ctx, encoding)


def _int_range(value: Any, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EncodeError(f"{what} needs an integer, got {value!r}")
    lo, hi = -(1 << (bits - 1)), (1 << bits) - 1
    if not lo <= value <= hi:
        raise EncodeError(f"{value!r} does not fit in {what}")
    return int(value) & ((1 << bits) - 1)


def _float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EncodeError(f"{what} needs a number, got {value!r}")
    return float(value)


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise EncodeError(f"{what} needs bytes, got {type(value).__name__}")
    return bytes(value)


def _write_bare(w: Writer, prop_type: int, value: Any, ctx: Context, encoding: str) -> None:
    what = type_name(prop_type)
    if prop_type & MV_FLAG:
        if prop_type not in _KNOWN_TYPES:
            raise EncodeError(f"unknown multi-valued property type 0x{prop_type:04X}")
        if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
            raise EncodeError(f"{what} needs a sequence of values, got {type(value).__name__}")
        w.count(len(value), _MV_COUNT_WIDTH)
        for item in value:
            _write_bare(w, prop_type & ~MV_FLAG, item, ctx, encoding)
        return
    if prop_type == PropType.NULL:
        if value is not None:
            raise EncodeError(f"PtypNull carries no value, got {value!r}")
        return
    if value is None:
        raise EncodeError(f"{what} cannot be written without a value in the {ctx.value} context")
    if prop_type == PropType.INTEGER16:
        w.u16(_int_range(value, 16, what))
    elif prop_type in (PropType.INTEGER32, PropType.ERROR_CODE):
        w.u32(_int_range(value, 32, what))
    elif prop_type == PropType.FLOATING32:
        v = _float(value, what)
        if math.isfinite(v) and abs(v) > 3.4028234663852886e38:
            raise EncodeError(f"{value!r} does not fit in a 32-bit float")
        w.f32(v)
    elif prop_type in (PropType.FLOATING64, PropType.FLOATING_TIME):
        w.f64(_float(value, what))
    elif prop_type in (PropType.INTEGER64, PropType.CURRENCY, PropType.TIME):
        if isinstance(value, _dt.datetime) and prop_type == PropType.TIME:
            value = FileTime.from_datetime(value)
        w.u64(_int_range(value, 64, what))
    elif prop_type == PropType.BOOLEAN:
        if isinstance(value, bool):
            w.u8(1 if value else 0)
        else:
            w.u8(_int_range(value, 8, what) & 0xFF)
    elif prop_type == PropType.STRING8:
        if not isinstance(value, str):
            raise EncodeError(f"{what} needs a str, got {type(value).__name__}")
        w.asciiz(value, encoding=encoding)
    elif prop_type == PropType.STRING:
        if not isinstance(value, str):
            raise EncodeError(f"{what} needs a str, got {type(value).__name__}")
        w.utf16z(value)
    elif prop_type == PropType.GUID:
        if not isinstance(value, uuid.UUID):
            raise EncodeError(f"{what} needs a uuid.UUID, got {type(value).__name__}")
        w.guid(value)
    elif prop_type in (PropType.BINARY, PropType.SERVER_ID) or (
        prop_type == PropType.OBJECT and ctx is Context.ROP
    ):
        w.counted_bytes(_bytes(value, what), _binary_count_width(ctx))
    elif prop_type == PropType.OBJECT:
        w.u32(_int_range(value, 32, what))
    elif prop_type in EMBEDDED_VALUE_CODECS:
        EMBEDDED_VALUE_CODECS[prop_type][1](w, value, ctx)
    elif prop_type in (PropType.RESTRICTION, PropType.RULE_ACTION):
        raise EncodeError(f"{what} values are not supported in rows and value lists")
    elif prop_type == PropType.UNSPECIFIED:
        raise EncodeError("PtypUnspecified has no value encoding; give the value's real type")
    else:
        raise EncodeError(f"unknown property type 0x{prop_type:04X}")


# ---------------------------------------------------------------------------------------------------------
# Property value structures (MS-OXCDATA 2.11.2–2.11.6; MS-OXCMAPIHTTP 2.2.1.2–2.2.1.6)
# ---------------------------------------------------------------------------------------------------------

FLAG_PRESENT = 0x00
FLAG_ABSENT = 0x01
FLAG_ERROR = 0x0A


def _json_value(value: Any) -> Any:
    """Let int/bytes subclasses (FolderId, FileTime, ErrorCode, ServerId...) render through ``__json__``.

    jsonview.to_jsonable returns an ``int`` as it is before it looks for ``__json__``, so the value types of
    this module render themselves here.
    """
    method = getattr(value, "__json__", None)
    if callable(method):
        return method()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class PropertyValue:
    """One property of a row or list: its tag, its value and (in a flagged row) the Flag.

    ``flag`` is ``None`` in a StandardPropertyRow and in tagged lists; in a FlaggedPropertyRow it is 0x0
    (present), 0x1 (absent: ``value`` is None) or 0xA (error: ``value`` is an :class:`ErrorValue`).
    Slotted: rows hold one per column, and the batch row decoder fills them through the slot descriptors.
    """

    tag: PropertyTag
    value: Any
    flag: int | None = None

    @property
    def is_error(self) -> bool:
        return self.flag == FLAG_ERROR or isinstance(self.value, ErrorValue)

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "PropertyTag": f"0x{int(self.tag):08X}",
            "Name": self.tag.name,
            "Type": type_name(self.tag.prop_type),
        }
        if self.flag is not None:
            out["Flag"] = {0: "0x0 (value)", 1: "0x1 (absent)", 0xA: "0xA (error)"}.get(
                self.flag, f"0x{self.flag:X}"
            )
        out["Value"] = _json_value(self.value)
        return out


def read_typed_value(r: Reader, ctx: Context = Context.ROP, *, encoding: str = "cp1252") -> tuple[int, Any]:
    """TypedPropertyValue (MS-OXCDATA 2.11.3) / AddressBookTypedPropertyValue (MS-OXCMAPIHTTP 2.2.1.4)."""
    prop_type = r.u16("PropertyType")
    return prop_type, read_value(r, prop_type, ctx, encoding=encoding)


def write_typed_value(
    w: Writer, prop_type: int, value: Any, ctx: Context = Context.ROP, *, encoding: str = "cp1252"
) -> None:
    w.u16(prop_type)
    write_value(w, prop_type, value, ctx, encoding=encoding)


def read_tagged_value(r: Reader, ctx: Context = Context.ROP, *, encoding: str = "cp1252") -> PropertyValue:
    """TaggedPropertyValue (MS-OXCDATA 2.11.4) / AddressBookTaggedPropertyValue (MS-OXCMAPIHTTP 2.2.1.2)."""
    tag = PropertyTag(r.u32("PropertyTag"))
    return PropertyValue(tag, _with_id_type(tag, read_value(r, tag.prop_type, ctx, encoding=encoding)))


def write_tagged_value(
    w: Writer, value: PropertyValue, ctx: Context = Context.ROP, *, encoding: str = "cp1252"
) -> None:
    w.u32(int(value.tag))
    write_value(w, value.tag.prop_type, value.value, ctx, encoding=encoding)


def read_property_value_r(
    r: Reader, ctx: Context = Context.ADDRESS_BOOK, *, encoding: str = "cp1252"
) -> PropertyValue:
    """PropertyValue_r (MS-OXCDATA 2.11.2.2): PropertyTag u32, Reserved u32 (0), PropertyValue.

    It belongs to the address book, so the value is read in the ADDRESS_BOOK context unless told otherwise.
    """
    tag = PropertyTag(r.u32("PropertyTag"))
    r.u32("Reserved")
    return PropertyValue(tag, read_value(r, tag.prop_type, ctx, encoding=encoding))


def write_property_value_r(
    w: Writer, value: PropertyValue, ctx: Context = Context.ADDRESS_BOOK, *, encoding: str = "cp1252"
) -> None:
    w.u32(int(value.tag)).u32(0)
    write_value(w, value.tag.prop_type, value.value, ctx, encoding=encoding)


def read_flagged_value(
    r: Reader, prop_type: int, ctx: Context = Context.ROP, *, encoding: str = "cp1252"
) -> tuple[int, Any]:
    """FlaggedPropertyValue (MS-OXCDATA 2.11.5) / AddressBookFlaggedPropertyValue (MS-OXCMAPIHTTP 2.2.1.5).

    Returns ``(flag, value)``: 0x0 and the value, 0x1 and ``None``, or 0xA and an :class:`ErrorValue`.
    """
    return _read_flagged(r, _compiled_reader(prop_type, ctx, encoding))


def _read_flagged(r: Reader, read: Callable[[Reader], Any]) -> tuple[int, Any]:
    """The Flag byte, then the value (read with ``read``), nothing, or an error code (MS-OXCDATA 2.11.5)."""
    start = r.offset
    flag = r.u8("Flag")
    if flag == FLAG_PRESENT:
        return flag, read(r)
    if flag == FLAG_ABSENT:
        return flag, None
    if flag == FLAG_ERROR:
        return flag, ErrorValue(r.u32("PropertyValue (PtypErrorCode)"))
    raise DecodeError(
        f"FlaggedPropertyValue Flag 0x{flag:02X} is not defined",
        offset=start,
        field="Flag",
        expected="0x0 (value), 0x1 (absent) or 0xA (error code) — MS-OXCDATA 2.11.5",
    )


def write_flagged_value(
    w: Writer, prop_type: int, flag: int, value: Any, ctx: Context = Context.ROP, *, encoding: str = "cp1252"
) -> None:
    w.u8(flag)
    if flag == FLAG_PRESENT:
        write_value(w, prop_type, value, ctx, encoding=encoding)
    elif flag == FLAG_ERROR:
        w.u32(_int_range(value, 32, "PtypErrorCode"))
    elif flag != FLAG_ABSENT:
        raise EncodeError(f"FlaggedPropertyValue Flag 0x{flag:X} is not defined (0x0, 0x1 or 0xA)")


def read_flagged_value_with_type(
    r: Reader, ctx: Context = Context.ROP, *, encoding: str = "cp1252"
) -> tuple[int, int, Any]:
    """FlaggedPropertyValueWithType (MS-OXCDATA 2.11.6) / AddressBook... (MS-OXCMAPIHTTP 2.2.1.6).

    The u16 PropertyType comes *before* the Flag. Returns ``(prop_type, flag, value)``.
    """
    prop_type = r.u16("PropertyType")
    flag, value = read_flagged_value(r, prop_type, ctx, encoding=encoding)
    return prop_type, flag, value


def write_flagged_value_with_type(
    w: Writer,
    prop_type: int,
    flag: int,
    value: Any,
    ctx: Context = Context.ROP,
    *,
    encoding: str = "cp1252",
) -> None:
    w.u16(prop_type)
    write_flagged_value(w, prop_type, flag, value, ctx, encoding=encoding)


# Spec-named aliases so a reader can find each structure by the name MS-OXCDATA gives it.
TypedPropertyValue = read_typed_value
TaggedPropertyValue = read_tagged_value
FlaggedPropertyValue = read_flagged_value
FlaggedPropertyValueWithType = read_flagged_value_with_type
PropertyValue_r = read_property_value_r


# ---------------------------------------------------------------------------------------------------------
# PropertyRow (MS-OXCDATA 2.8.1; AddressBookPropertyRow MS-OXCMAPIHTTP 2.2.1.7)
# ---------------------------------------------------------------------------------------------------------


def _lookup(values: Mapping[int, Any], column: PropertyTag) -> tuple[PropertyTag, Any] | None:
    """Find the value for ``column``: by exact tag, then by a full tag with the same id, then by id alone.

    Returns the tag the value will carry: the column's own tag, except for a PtypUnspecified column, which
    takes the type of the key it was found under.
    """
    if int(column) in values:
        return column, values[int(column)]
    for key, v in values.items():
        if key > 0xFFFF and key >> 16 == column.prop_id:
            return (PropertyTag(key) if column.prop_type == PropType.UNSPECIFIED else column), v
    if column.prop_id in values:
        v = values[column.prop_id]
        if column.prop_type == PropType.UNSPECIFIED and not isinstance(v, ErrorValue):
            raise EncodeError(
                f"column {column!r} is PtypUnspecified: key its value by a full tag with the real type"
            )
        return column, v
    return None


def _with_id_type(tag: PropertyTag, value: Any) -> Any:
    """PidTagFolderId/ParentFolderId/Mid values become :class:`FolderId`/:class:`MessageId` (unsigned)."""
    if tag.prop_type == PropType.INTEGER64 and isinstance(value, int) and not isinstance(value, FolderId):
        cls = _ID_PROPS.get(tag.prop_id)
        if cls is not None:
            return cls(value & 0xFFFFFFFFFFFFFFFF)
    return value


_Column = tuple[PropertyTag, Callable[[Reader], Any] | None, Callable[[int], Any] | None]


@dataclass(frozen=True)
class _Plan:
    columns: tuple[_Column, ...]
    """Per column: its tag, a reader for its value (None for PtypUnspecified), and the id conversion."""
    standard: tuple[tuple[PropertyTag, Callable[[Reader], Any]], ...] | None
    """For a StandardPropertyRow when no column is PtypUnspecified: tag and reader, conversion included."""


def _as_id(cls: type[FolderId]) -> Callable[[Any], Any]:
    """PidTagFolderId/ParentFolderId/Mid values become :class:`FolderId`/:class:`MessageId` (unsigned)."""
    return lambda v: cls(v & 0xFFFFFFFFFFFFFFFF) if isinstance(v, int) else v


def _then(read: Callable[[Reader], Any], convert: Callable[[Any], Any]) -> Callable[[Reader], Any]:
    return lambda r: convert(read(r))


@functools.lru_cache(maxsize=128)
def _row_plan(columns: tuple[int, ...], ctx: Context, encoding: str) -> _Plan:
    """The decoding plan of one column list, made once: rows of a table share their columns, so the type
    dispatch happens here instead of per value."""
    plan: list[_Column] = []
    for column in columns:
        tag = PropertyTag(column & 0xFFFFFFFF)
        prop_type = tag.prop_type
        read = None if prop_type == PropType.UNSPECIFIED else _compiled_reader(prop_type, ctx, encoding)
        id_class = _ID_PROPS.get(tag.prop_id) if prop_type == PropType.INTEGER64 else None
        plan.append((tag, read, _as_id(id_class) if id_class else None))
    standard: list[tuple[PropertyTag, Callable[[Reader], Any]]] | None = []
    for tag, read, convert in plan:
        if read is None or standard is None:
            standard = None
        elif convert is None:
            standard.append((tag, read))
        else:
            standard.append((tag, _then(read, convert)))
    return _Plan(tuple(plan), tuple(standard) if standard is not None else None)


@functools.lru_cache(maxsize=512)
def _compiled_reader(prop_type: int, ctx: Context, encoding: str) -> Callable[[Reader], Any]:
    """A function reading one PropertyValue of ``prop_type``, equivalent to :func:`read_value`."""
    f = _field(prop_type)
    if prop_type & (MV_FLAG | MVI_FLAG):
        return lambda r: read_value(r, prop_type, ctx, encoding=encoding)
    scalar = _SCALAR_READERS.get(prop_type)
    if scalar is not None:  # no HasValue byte in either context
        return lambda r: scalar(r, f)
    if prop_type == PropType.STRING and ctx is Context.ADDRESS_BOOK:
        # The commonest address-book column, read without a second closure call.
        def ab_string(r: Reader) -> str | None:
            return r.utf16z(f) if r.u8("HasValue") else None

        return ab_string
    bare: Callable[[Reader], Any]
    if prop_type == PropType.STRING:
        bare = lambda r: r.utf16z(f)  # noqa: E731 - small closures are the point here
    elif prop_type == PropType.STRING8:
        bare = lambda r: r.asciiz(f, encoding=encoding)  # noqa: E731
    elif prop_type == PropType.BINARY:
        width = _binary_count_width(ctx)
        bare = lambda r: r.counted_bytes(width, f)  # noqa: E731
    else:
        return lambda r: read_value(r, prop_type, ctx, encoding=encoding)
    if ctx is Context.ADDRESS_BOOK:  # MS-OXCMAPIHTTP 2.2.1.1: HasValue byte first (0x00 = no value)
        return lambda r: bare(r) if r.u8("HasValue") else None
    return bare


@dataclass(frozen=True, slots=True)
class PropertyRow:
    """StandardPropertyRow (Flag 0x00) or FlaggedPropertyRow (Flag 0x01), MS-OXCDATA 2.8.1.

    With ``ctx=Context.ADDRESS_BOOK`` the same class reads and writes an AddressBookPropertyRow
    (MS-OXCMAPIHTTP 2.2.1.7). A column of type PtypUnspecified carries its type on the wire
    (TypedPropertyValue, or FlaggedPropertyValueWithType where the u16 type precedes the flag); the decoded
    :class:`PropertyValue` then has the real type in its tag.
    """

    flag: int
    values: tuple[PropertyValue, ...]

    @classmethod
    def decode(
        cls, r: Reader, columns: Sequence[int], ctx: Context = Context.ROP, *, encoding: str = "cp1252"
    ) -> PropertyRow:
        start = r.offset
        flag = r.u8("Flag")
        if flag not in (0x00, 0x01):
            raise DecodeError(
                f"PropertyRow Flag 0x{flag:02X} is not defined",
                offset=start,
                field="Flag",
                expected="0x00 (StandardPropertyRow) or 0x01 (FlaggedPropertyRow) — MS-OXCDATA 2.8.1",
            )
        plan = _row_plan(tuple(columns), ctx, encoding)
        if flag == 0x00 and plan.standard is not None:  # the common case, without per-column branches
            return cls(0x00, tuple([PropertyValue(tag, read(r)) for tag, read in plan.standard]))
        out: list[PropertyValue] = []
        for column_tag, read, convert in plan.columns:
            tag = column_tag
            if read is None:  # PtypUnspecified column: the type comes from the wire
                prop_type = r.u16("PropertyType")
                tag = column_tag.with_type(prop_type)
                if flag == 0x01:
                    f, value = read_flagged_value(r, prop_type, ctx, encoding=encoding)
                    out.append(PropertyValue(tag, _with_id_type(tag, value), f))
                else:
                    out.append(
                        PropertyValue(
                            tag, _with_id_type(tag, read_value(r, prop_type, ctx, encoding=encoding))
                        )
                    )
            elif flag == 0x01:
                f, value = _read_flagged(r, read)
                out.append(PropertyValue(tag, convert(value) if convert and f == FLAG_PRESENT else value, f))
            else:
                value = read(r)
                out.append(PropertyValue(tag, convert(value) if convert else value))
        return cls(flag, tuple(out))

    @classmethod
    def decode_many(
        cls,
        r: Reader,
        columns: Sequence[int],
        count: int,
        ctx: Context = Context.ROP,
        *,
        encoding: str = "cp1252",
        into: list[PropertyRow] | None = None,
    ) -> list[PropertyRow]:
        """``count`` consecutive rows of ``columns``: what ``count`` calls of :meth:`decode` return, and the
        same error at the same offset if a row is wrong. Each row goes into ``into`` (returned) as soon as
        it is read, so a caller that reports partial results keeps the rows before a fault.

        AddressBookPropertyRows whose columns all have a concrete type are read straight from the buffer
        by :func:`_fast_row`; a row it does not take on (or that is wrong) is read again from its first
        byte by :meth:`decode`. Rows of one call share equal values of a column (the same immutable
        :class:`PropertyValue`) where they repeat: a GAL page has few titles, departments or display types.
        """
        rows: list[PropertyRow] = [] if into is None else into
        plan = _fast_plan(tuple(columns), ctx, encoding) if count else None
        if plan is None:
            for _ in range(count):
                rows.append(cls.decode(r, columns, ctx, encoding=encoding))
            return rows
        data, pos, end = r.window()
        if end != len(data):
            data = data[:end]  # so that indexing, unpacking and find() stop at the window's end
        append = rows.append
        shared: dict[tuple[PropertyTag, int | None], PropertyValue] = {}
        batch = (_batch_columns(plan), _batch_columns(plan))  # standard rows, flagged rows
        for i in range(count):
            if i == _MEMO_CHECK:
                batch = (_prune(batch[0]), _prune(batch[1]))
            try:
                row, after = _fast_row(r, data, pos, batch, encoding, shared=shared)
            except Exception:  # anything unusual: the general decoder reads the row and names any fault
                r.move_to(pos)
                row = cls.decode(r, columns, ctx, encoding=encoding)
                after = r.window()[1]
            append(row)
            pos = after
        r.move_to(pos)
        return rows

    def encode(
        self, w: Writer, columns: Sequence[int], ctx: Context = Context.ROP, *, encoding: str = "cp1252"
    ) -> None:
        if len(columns) != len(self.values):
            raise EncodeError(
                f"the row has {len(self.values)} value(s) but there are {len(columns)} column(s)"
            )
        if self.flag not in (0x00, 0x01):
            raise EncodeError(f"PropertyRow Flag 0x{self.flag:X} is not defined (0x00 or 0x01)")
        w.u8(self.flag)
        for column, pv in zip(columns, self.values, strict=True):
            prop_type = column & 0xFFFF
            if prop_type == PropType.UNSPECIFIED:
                prop_type = pv.tag.prop_type
                w.u16(prop_type)
            if self.flag == 0x01:
                f = pv.flag
                if f is None:
                    f = FLAG_ERROR if isinstance(pv.value, ErrorValue) else FLAG_PRESENT
                write_flagged_value(w, prop_type, f, pv.value, ctx, encoding=encoding)
            else:
                if pv.flag not in (None, FLAG_PRESENT) or isinstance(pv.value, ErrorValue):
                    raise EncodeError(
                        f"column {pv.tag!r} is absent or in error: that needs a FlaggedPropertyRow (flag 1)"
                    )
                write_value(w, prop_type, pv.value, ctx, encoding=encoding)

    def to_bytes(
        self, columns: Sequence[int], ctx: Context = Context.ROP, *, encoding: str = "cp1252"
    ) -> bytes:
        w = Writer()
        self.encode(w, columns, ctx, encoding=encoding)
        return w.getvalue()

    def get(self, tag: int) -> Any:
        """A column's value by full tag or by property id; ``None`` if absent, in error or not a column."""
        pv = self.find(tag)
        if pv is None or pv.flag in (FLAG_ABSENT, FLAG_ERROR) or isinstance(pv.value, ErrorValue):
            return None
        return pv.value

    def find(self, tag: int) -> PropertyValue | None:
        """The :class:`PropertyValue` of a column by full tag, else by property id (``tag`` <= 0xFFFF)."""
        for pv in self.values:
            if int(pv.tag) == tag:
                return pv
        pid = tag if tag <= 0xFFFF else tag >> 16
        for pv in self.values:
            if pv.tag.prop_id == pid:
                return pv
        return None

    @classmethod
    def build(cls, columns: Sequence[int], values: Mapping[int, Any]) -> PropertyRow:
        """A row for ``columns`` from ``values`` (keyed by full tag, or by property id).

        The result is a StandardPropertyRow if every column has a value; otherwise a FlaggedPropertyRow in
        which a missing column gets Flag 0x1 and an :class:`ErrorValue` gets Flag 0xA. For a PtypUnspecified
        column, key the value by its full tag (with its real type); a missing one is sent as PtypNull and
        an error as PtypErrorCode.
        """
        found: list[PropertyValue] = []
        complete = True
        for column in columns:
            col = PropertyTag(column & 0xFFFFFFFF)
            hit = _lookup(values, col)
            if hit is None:
                complete = False
                t = col.with_type(PropType.NULL) if col.prop_type == PropType.UNSPECIFIED else col
                found.append(PropertyValue(t, None, FLAG_ABSENT))
                continue
            t, value = hit
            if isinstance(value, ErrorValue):
                complete = False
                if col.prop_type == PropType.UNSPECIFIED:
                    t = col.with_type(PropType.ERROR_CODE)
                found.append(PropertyValue(t, value, FLAG_ERROR))
            else:
                found.append(PropertyValue(t, value, FLAG_PRESENT))
        if complete:
            return cls(0x00, tuple(PropertyValue(pv.tag, pv.value) for pv in found))
        return cls(0x01, tuple(found))

    def __json__(self) -> dict[str, Any]:
        kind = "StandardPropertyRow" if self.flag == 0 else "FlaggedPropertyRow"
        return {"Flag": f"0x{self.flag:02X} ({kind})", "ValueArray": list(self.values)}


AddressBookPropertyRow = PropertyRow
"""MS-OXCMAPIHTTP 2.2.1.7: the same structure; decode/encode it with ``ctx=Context.ADDRESS_BOOK``."""


# -- batch decoding of AddressBookPropertyRows ------------------------------------------------------------
#
# A GAL page is hundreds of rows of the same columns. _fast_row reads one row straight from the bytes with
# local variables (no Reader call per field) and builds the frozen PropertyValue/PropertyRow objects through
# their slot descriptors (no dataclass __init__). It must give exactly what PropertyRow.decode gives
# (tests/protocol/test_properties_fast.py checks this on random and broken rows); on anything else it raises
# and PropertyRow.decode_many reads the row again with PropertyRow.decode, which reports the fault.

_K_STRING, _K_STRING8, _K_BINARY, _K_INT32, _K_BOOLEAN, _K_ERROR_CODE, _K_TIME, _K_READER = range(8)
_FAST_KINDS: dict[int, int] = {
    PropType.STRING: _K_STRING,
    PropType.STRING8: _K_STRING8,
    PropType.BINARY: _K_BINARY,
    PropType.INTEGER32: _K_INT32,
    PropType.BOOLEAN: _K_BOOLEAN,
    PropType.ERROR_CODE: _K_ERROR_CODE,
    PropType.TIME: _K_TIME,
}
"""Column types read in place; any other (multi-valued, 64-bit ids...) uses its compiled Reader function."""

_FastPlan = tuple[tuple[PropertyTag, int, Callable[[Reader], Any]], ...]


@functools.lru_cache(maxsize=128)
def _fast_plan(columns: tuple[int, ...], ctx: Context, encoding: str) -> _FastPlan | None:
    """(tag, kind, compiled reader) per column; None when rows of ``columns`` are not read in place (ROP
    rows, a PtypUnspecified column)."""
    if ctx is not Context.ADDRESS_BOOK:
        return None
    standard = _row_plan(columns, ctx, encoding).standard
    if standard is None:
        return None
    return tuple((tag, _FAST_KINDS.get(tag.prop_type, _K_READER), read) for tag, read in standard)


_Memo = dict[Any, PropertyValue]
_BatchColumns = tuple[tuple[PropertyTag, int, Callable[[Reader], Any], _Memo | None], ...]

_MEMO_CHECK = 64
"""After this many rows of a batch, a column that repeated few values stops being memoised."""
_MEMO_KEEP = 48
"""... that is, one whose memo holds more than this many distinct values."""


def _batch_columns(plan: _FastPlan) -> _BatchColumns:
    """The plan with a fresh memo (raw value -> PropertyValue) for the string and 32-bit integer columns."""
    return tuple((tag, kind, read, {} if kind in (_K_STRING, _K_INT32) else None) for tag, kind, read in plan)


def _prune(columns: _BatchColumns) -> _BatchColumns:
    return tuple(
        (tag, kind, read, memo if memo is not None and len(memo) <= _MEMO_KEEP else None)
        for tag, kind, read, memo in columns
    )


class _NotFast(Exception):
    """_fast_row leaves this row to PropertyRow.decode."""


_new = object.__new__
_pv_slots: Any = PropertyValue.__dict__
_set_tag, _set_value, _set_flag = (_pv_slots[n].__set__ for n in ("tag", "value", "flag"))
_row_slots: Any = PropertyRow.__dict__
_set_row_flag, _set_row_values = (_row_slots[n].__set__ for n in ("flag", "values"))
_unpack_u32 = struct.Struct("<I").unpack_from
_unpack_i32 = struct.Struct("<i").unpack_from
_unpack_u64 = struct.Struct("<Q").unpack_from
_utf16le_decode = codecs.utf_16_le_decode


def _new_value(tag: PropertyTag, value: Any, flag: int | None) -> PropertyValue:
    pv = _new(PropertyValue)
    _set_tag(pv, tag)
    _set_value(pv, value)
    _set_flag(pv, flag)
    return pv


def _fast_row(
    r: Reader,
    data: bytes,
    pos: int,
    columns: tuple[_BatchColumns, _BatchColumns],
    encoding: str,
    *,
    shared: dict[tuple[PropertyTag, int | None], PropertyValue],
) -> tuple[PropertyRow, int]:
    """The AddressBookPropertyRow at ``data[pos]`` (its Flag byte) and the index after it.

    ``data`` ends where ``r``'s window ends, so a short row raises IndexError or struct.error; ``r`` is
    only used (moved to the value) for the columns without an in-place reader. Any exception means "let
    PropertyRow.decode read this row". ``columns`` are the columns with their memos for a standard and
    for a flagged row (their values differ by Flag); ``shared`` holds the PropertyValue of each (column,
    error code or None) met in a flagged row. Both are for the rows of one batch to share.
    """
    row_flag = data[pos]
    pos += 1
    if row_flag > 0x01:
        raise _NotFast
    flag: int | None = None
    values: list[PropertyValue] = []
    append = values.append
    value: Any
    for tag, kind, read, memo in columns[row_flag]:
        if row_flag:  # FlaggedPropertyRow: a Flag before each value (MS-OXCDATA 2.11.5)
            flag = data[pos]
            pos += 1
            if flag:
                if flag == FLAG_ERROR:
                    code: int | None = _unpack_u32(data, pos)[0]
                    pos += 4
                elif flag == FLAG_ABSENT:
                    code = None
                else:
                    raise _NotFast
                # Absent and error columns repeat from row to row: one shared (immutable) value each.
                pv = shared.get((tag, code))
                if pv is None:
                    pv = PropertyValue(tag, None if code is None else ErrorValue(code), flag)
                    shared[tag, code] = pv
                append(pv)
                continue
        if kind == _K_STRING:
            if data[pos]:  # HasValue
                start = pos + 1
                end = data.find(b"\x00\x00", start)
                while end >= 0 and (end - start) & 1:  # a NUL code unit is at an even distance
                    if not data[end + 2]:  # "x\0" then the terminator (what find() from end + 1 gives)
                        end += 1
                        break
                    end = data.find(b"\x00\x00", end + 1)
                if end < 0:
                    raise _NotFast
                raw = data[start:end]
                pos = end + 2
                if memo is not None:
                    pv = memo.get(raw)
                    if pv is None:
                        pv = memo[raw] = _new_value(tag, _utf16le_decode(raw, "strict", True)[0], flag)
                    append(pv)
                    continue
                value = _utf16le_decode(raw, "strict", True)[0]
            else:
                value = None
                pos += 1
        elif kind == _K_BINARY:
            if data[pos]:
                start = pos + 5
                pos = start + _unpack_u32(data, pos + 1)[0]
                if pos > len(data):
                    raise _NotFast
                value = data[start:pos]
            else:
                value = None
                pos += 1
        elif kind == _K_INT32:
            value = _unpack_i32(data, pos)[0]
            pos += 4
            if memo is not None:
                pv = memo.get(value)
                if pv is None:
                    pv = memo[value] = _new_value(tag, value, flag)
                append(pv)
                continue
        elif kind == _K_STRING8:
            if data[pos]:
                start = pos + 1
                end = data.find(b"\x00", start)
                if end < 0:
                    raise _NotFast
                value = data[start:end].decode(encoding)
                pos = end + 1
            else:
                value = None
                pos += 1
        elif kind == _K_BOOLEAN:
            value = data[pos] != 0
            pos += 1
        elif kind == _K_ERROR_CODE:
            value = ErrorCode(_unpack_u32(data, pos)[0])
            pos += 4
        elif kind == _K_TIME:
            value = FileTime(_unpack_u64(data, pos)[0])
            pos += 8
        else:
            r.move_to(pos)
            value = read(r)
            pos = r.window()[1]
        pv = _new(PropertyValue)
        _set_tag(pv, tag)
        _set_value(pv, value)
        _set_flag(pv, flag)
        append(pv)
    row = _new(PropertyRow)
    _set_row_flag(row, row_flag)
    _set_row_values(row, tuple(values))
    return row, pos


# ---------------------------------------------------------------------------------------------------------
# Tag arrays and value lists
# ---------------------------------------------------------------------------------------------------------

LARGE_TAG_ARRAY_LIMIT = 100_000
"""MS-OXCMAPIHTTP 2.2.1.8: a LargePropertyTagArray holds at most 100 000 tags."""


def read_tag_array(r: Reader, width: int) -> tuple[PropertyTag, ...]:
    """PropertyTagArray (width 2, MS-OXCDATA 2.10.1) / LargePropertyTagArray (4, MS-OXCMAPIHTTP 2.2.1.8)."""
    limit = LARGE_TAG_ARRAY_LIMIT if width == 4 else None
    n = r.count(width, "PropertyTagCount", limit=limit, item_size=4)
    return tuple(PropertyTag(r.u32("PropertyTag")) for _ in range(n))


def write_tag_array(w: Writer, tags: Sequence[int], width: int) -> None:
    if width == 4 and len(tags) > LARGE_TAG_ARRAY_LIMIT:
        raise EncodeError(
            f"{len(tags)} tags exceed the LargePropertyTagArray limit of {LARGE_TAG_ARRAY_LIMIT}"
        )
    w.count(len(tags), width)
    for tag in tags:
        w.u32(int(tag))


def read_ab_value_list(r: Reader, *, encoding: str = "cp1252") -> tuple[PropertyValue, ...]:
    """AddressBookPropertyValueList (MS-OXCMAPIHTTP 2.2.1.3): count u32, AddressBookTaggedPropertyValue[]."""
    n = r.count(4, "PropertyValueCount", limit=LARGE_TAG_ARRAY_LIMIT, item_size=4)
    return tuple(read_tagged_value(r, Context.ADDRESS_BOOK, encoding=encoding) for _ in range(n))


def write_ab_value_list(w: Writer, values: Sequence[PropertyValue], *, encoding: str = "cp1252") -> None:
    w.u32(len(values))
    for pv in values:
        write_tagged_value(w, pv, Context.ADDRESS_BOOK, encoding=encoding)


# ---------------------------------------------------------------------------------------------------------
# PropertyName (MS-OXCDATA 2.6.1)
# ---------------------------------------------------------------------------------------------------------

KIND_LID = 0x00
KIND_NAME = 0x01
KIND_NONE = 0xFF


@dataclass(frozen=True)
class PropertyName:
    """A named property (MS-OXCDATA 2.6.1): Kind u8, GUID (16), then LID u32 (Kind 0x00) or NameSize u8 and
    Name (Kind 0x01, UTF-16LE with its 2-byte terminator; NameSize counts the terminator).

    The structure diagram of 2.6.1 marks only LID, NameSize and Name optional, so the GUID is read and
    written for Kind 0xFF ("no associated name") too, as gromox does [I]. MS-OXCPRPT 3.2.5.9's "no other
    return data" for Kind 0xFF is read as "no LID or Name". A missing ``guid`` is written as the null GUID.
    """

    kind: int
    guid: uuid.UUID | None = field(default=None, metadata={"spec": "GUID"})
    lid: int | None = field(default=None, metadata={"spec": "LID"})
    name: str | None = None

    @classmethod
    def decode(cls, r: Reader) -> PropertyName:
        start = r.offset
        kind = r.u8("Kind")
        if kind not in (KIND_LID, KIND_NAME, KIND_NONE):
            raise DecodeError(
                f"PropertyName Kind 0x{kind:02X} is not defined",
                offset=start,
                field="Kind",
                expected="0x00 (LID), 0x01 (Name) or 0xFF (none) — MS-OXCDATA 2.6.1",
            )
        guid = r.guid("GUID")
        if kind == KIND_LID:
            return cls(kind, guid, lid=r.u32("LID"))
        if kind == KIND_NONE:
            return cls(kind, guid)
        size = r.u8("NameSize")
        with r.restrict_to(size, "Name"):
            name = r.utf16z("Name")
        return cls(kind, guid, name=name)

    def encode(self, w: Writer) -> None:
        if self.kind not in (KIND_LID, KIND_NAME, KIND_NONE):
            raise EncodeError(f"PropertyName Kind 0x{self.kind:02X} is not defined")
        w.u8(self.kind)
        w.guid(self.guid if self.guid is not None else uuid.UUID(int=0))
        if self.kind == KIND_LID:
            if self.lid is None:
                raise EncodeError("a PropertyName of Kind 0x00 needs a LID")
            w.u32(self.lid)
        elif self.kind == KIND_NAME:
            if self.name is None:
                raise EncodeError("a PropertyName of Kind 0x01 needs a Name")
            raw = Writer().utf16z(self.name).getvalue()
            if len(raw) > 0xFF:
                raise EncodeError(f"PropertyName Name is {len(raw)} bytes; NameSize holds at most 255")
            w.u8(len(raw)).raw(raw)

    def __json__(self) -> dict[str, Any]:
        kinds = {KIND_LID: "0x00 (LID)", KIND_NAME: "0x01 (Name)", KIND_NONE: "0xFF (none)"}
        out: dict[str, Any] = {"Kind": kinds.get(self.kind, f"0x{self.kind:02X}")}
        if self.guid is not None:
            out["GUID"] = "{" + str(self.guid).upper() + "}"
        if self.lid is not None:
            out["LID"] = f"0x{self.lid:08X}"
        if self.name is not None:
            out["Name"] = self.name
        return out


# ---------------------------------------------------------------------------------------------------------
# mapiprobe decode kinds
# ---------------------------------------------------------------------------------------------------------


def _need_columns(ctx: DecodeContext) -> tuple[int, ...]:
    if ctx.columns is None:
        raise DecodeError(
            "a property row can only be read with its column list",
            offset=0,
            expected="--columns 0xTAG,PidTagName,... (the tags of the SetColumns/request, in order)",
        )
    return ctx.columns


@decode_kind(
    "property-row", "one PropertyRow of a ROP buffer (MS-OXCDATA 2.8.1); needs --columns", needs_columns=True
)
def _decode_property_row(data: bytes, ctx: DecodeContext) -> PropertyRow:
    columns = _need_columns(ctx)
    r = Reader(data)
    row = PropertyRow.decode(r, columns, Context.ROP)
    ctx.partial["PropertyRow"] = row
    r.expect_end("end of the PropertyRow")
    return row


@decode_kind(
    "ab-property-row",
    "one AddressBookPropertyRow of an NSPI body (MS-OXCMAPIHTTP 2.2.1.7); needs --columns",
    needs_columns=True,
)
def _decode_ab_property_row(data: bytes, ctx: DecodeContext) -> PropertyRow:
    columns = _need_columns(ctx)
    r = Reader(data)
    row = PropertyRow.decode(r, columns, Context.ADDRESS_BOOK)
    ctx.partial["AddressBookPropertyRow"] = row
    r.expect_end("end of the AddressBookPropertyRow")
    return row


@decode_kind("folder-id", "an 8-byte Folder ID or Message ID (MS-OXCDATA 2.2.1.1); also RRRR-GGGGGGGGGGGG")
def _decode_folder_id(data: bytes, ctx: DecodeContext) -> FolderIdView:
    fid: FolderId
    if len(data) == 8:
        fid = FolderId.from_bytes8(data)
    else:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if not text.strip():
            raise DecodeError(
                f"a Folder ID is 8 bytes, got {len(data)}",
                offset=0,
                expected="8 bytes, 16 hex digits or RRRR-GGGGGGGGGGGG",
            )
        fid = FolderId.parse(text)
    view = FolderIdView(fid, fid.replica_id, fid.global_counter)
    ctx.partial["FolderId"] = view
    return view


__all__ = [
    "FLAG_ABSENT",
    "FLAG_ERROR",
    "FLAG_PRESENT",
    "KIND_LID",
    "KIND_NAME",
    "KIND_NONE",
    "LARGE_TAG_ARRAY_LIMIT",
    "MVI_FLAG",
    "MV_FLAG",
    "AddressBookPropertyRow",
    "Context",
    "Currency",
    "ErrorCode",
    "ErrorValue",
    "FileTime",
    "FlaggedPropertyValue",
    "FlaggedPropertyValueWithType",
    "FolderId",
    "FolderIdView",
    "MessageId",
    "PropType",
    "PropertyName",
    "PropertyRow",
    "PropertyTag",
    "PropertyValue",
    "PropertyValue_r",
    "ServerId",
    "TaggedPropertyValue",
    "TypedPropertyValue",
    "read_ab_value_list",
    "read_flagged_value",
    "read_flagged_value_with_type",
    "read_property_value_r",
    "read_tag_array",
    "read_tagged_value",
    "read_typed_value",
    "read_value",
    "tag_by_name",
    "tag_name",
    "type_name",
    "write_ab_value_list",
    "write_flagged_value",
    "write_flagged_value_with_type",
    "write_property_value_r",
    "write_tag_array",
    "write_tagged_value",
    "write_typed_value",
    "write_value",
]

# PtypRestriction / PtypRuleAction values register their codecs in EMBEDDED_VALUE_CODECS on import.
from . import restriction as _restriction  # noqa: E402, F401
