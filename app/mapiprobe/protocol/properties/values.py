"""One property value in either context, and the structures that wrap it: Typed-, Tagged-, Flagged-
PropertyValue and PropertyValue_r (MS-OXCDATA 2.11.2–2.11.6; MS-OXCMAPIHTTP 2.2.1.1–2.2.1.6). Part of
:mod:`mapiprobe.protocol.properties`."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DecodeError, EncodeError, ProtocolError
from ..wire import Reader, Writer
from .types import (
    _ID_PROPS,
    _KNOWN_TYPES,
    _MV_COUNT_WIDTH,
    MV_FLAG,
    MVI_FLAG,
    Context,
    Currency,
    ErrorCode,
    ErrorValue,
    FileTime,
    FolderId,
    PropertyTag,
    PropType,
    ServerId,
    _binary_count_width,
    type_name,
)

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


def _with_id_type(tag: PropertyTag, value: Any) -> Any:
    """PidTagFolderId/ParentFolderId/Mid values become :class:`FolderId`/:class:`MessageId` (unsigned)."""
    if tag.prop_type == PropType.INTEGER64 and isinstance(value, int) and not isinstance(value, FolderId):
        cls = _ID_PROPS.get(tag.prop_id)
        if cls is not None:
            return cls(value & 0xFFFFFFFFFFFFFFFF)
    return value


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
