"""The NDR forms of the NSPI data types (MS-OXNSPI 2.2.2 - 2.2.8), as NspiXxx calls over RPC carry them.

MS-OXCMAPIHTTP's address book bodies carry the same data in a flat byte layout; over RPC each structure is
NDR (C706 chapter 14): a structure's pointers are written as referent ids where they stand and their
referents *after* the whole structure (for an array of structures: after the whole array), so every type
here has a *header* part and a *content* part. The writers below return the content part as a closure to
call once the enclosing structure's headers are out; the readers do the same in reverse.

Types:

* ``STAT`` (2.2.8): nine u32s, the same 36 bytes as MAPI/HTTP's (:class:`~.nspi_types.Stat`).
* ``PropertyValue_r`` (2.2.2.3): ulPropTag u32, ulReserved u32, then the ``PROP_VAL_UNION`` (2.2.2.1), a
  non-encapsulated union switched on the tag's type: the discriminant u32 is written again before the arm
  (C706 14.3.8). Arms: i (u16), l (u32), b (u16), lpszA / lpszW / lpguid (unique pointers), bin
  (Binary_r: cb, pointer), ft (FILETIME), err (u32), MVi/MVl/MVszA/MVbin/MVguid/MVszW/MVft (count, pointer),
  lReserved (u32, for PtypNull and PtypEmbeddedTable). There is no arm for floating or 64-bit types.
* ``PropertyRow_r`` (2.2.2.4): ulAdrEntryPad, cValues, pointer to the PropertyValue_r array.
* ``PropertyRowSet_r`` (2.2.2.5): a conformant structure: max_count first, then cRows and the rows.
* ``PropertyTagArray_r`` / ``SPropTagArray`` (2.2.2.2 / 2.2.2.8 of MS-OXNSPI's IDL): max_count = cValues+1,
  cValues, offset 0, actual_count = cValues, then the tags.
* ``StringsArray_r`` / ``WStringsArray_r`` (2.2.2.11/2.2.2.12): a conformant structure of string pointers.
* ``Restriction_r`` (2.2.2.9): rt u32, then the RestrictionUnion_r switched on it (again with its
  discriminant), as far as GetMatches needs: And, Or, Not, Content, Property, PropCompare, BitMask, Size,
  Exist, SubRestriction.

⚠ PtypBoolean's arm is ``unsigned short`` in MS-OXNSPI 2.2.2.1; gromox writes one byte and pads to four.
We send the spec's u16 and read the first byte, which is the value in both forms.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import DecodeError, EncodeError
from .ndr import NdrReader, NdrWriter
from .nspi_types import Stat
from .properties import ErrorCode, FileTime, PropertyTag, PropertyValue

MAX_COUNT = 100_000
"""The largest array MS-OXNSPI's IDL allows (``range(0, 100000)``)."""
MAX_BINARY = 2 * 1024 * 1024
MAX_STRING = 0x10000

Deferred = Callable[[], None]
Pending = Callable[[], Any]

PT_I2, PT_LONG, PT_BOOLEAN, PT_STRING8, PT_UNICODE = 0x0002, 0x0003, 0x000B, 0x001E, 0x001F
PT_BINARY, PT_CLSID, PT_SYSTIME, PT_ERROR, PT_NULL, PT_OBJECT = 0x0102, 0x0048, 0x0040, 0x000A, 0x0001, 0x000D
PT_MV_I2, PT_MV_LONG, PT_MV_STRING8, PT_MV_UNICODE = 0x1002, 0x1003, 0x101E, 0x101F
PT_MV_BINARY, PT_MV_CLSID, PT_MV_SYSTIME = 0x1102, 0x1048, 0x1040

NDR_TYPES = frozenset(
    {PT_I2, PT_LONG, PT_BOOLEAN, PT_STRING8, PT_UNICODE, PT_BINARY, PT_CLSID, PT_SYSTIME, PT_ERROR, PT_NULL}
    | {
        PT_OBJECT,
        PT_MV_I2,
        PT_MV_LONG,
        PT_MV_STRING8,
        PT_MV_UNICODE,
        PT_MV_BINARY,
        PT_MV_CLSID,
        PT_MV_SYSTIME,
    }
)
"""The property types PROP_VAL_UNION has an arm for (MS-OXNSPI 2.2.2.1)."""


class Out:
    """An :class:`NdrWriter` that also hands out referent ids (0x00020000, 0x00020004, ... as MIDL does)."""

    def __init__(self) -> None:
        self.w = NdrWriter()
        self._refs = itertools.count(0x00020000, 4)

    def ref(self) -> int:
        return next(self._refs)

    def ptr(self, present: bool) -> bool:
        self.w.u32(self.ref() if present else 0)
        return present

    def getvalue(self) -> bytes:
        return self.w.getvalue()


def _nothing() -> None:
    return None


# -- strings ------------------------------------------------------------------------------------------


def put_string8(o: Out, text: str, encoding: str = "cp1252") -> None:
    o.w.string(text, encoding)


def put_wstring(o: Out, text: str) -> None:
    raw = text.encode("utf-16-le") + b"\x00\x00"
    n = len(raw) // 2
    o.w.u32(n).u32(0).u32(n).raw(raw)


def get_string8(r: NdrReader, name: str, encoding: str = "cp1252") -> str:
    return r.string(name, encoding, MAX_STRING)


def get_wstring(r: NdrReader, name: str) -> str:
    at = r.align(4).offset
    max_count, offset, actual = (
        r.u32(f"{name} max_count"),
        r.u32(f"{name} offset"),
        r.u32(f"{name} actual_count"),
    )
    if offset != 0 or actual > max_count or actual > MAX_STRING:
        raise DecodeError(
            f"{name}: offset {offset}, actual_count {actual}, max_count {max_count}",
            offset=at,
            expected="offset 0 and actual_count <= max_count",
        )
    raw = r.raw(actual * 2, name)  # no trailing alignment: whatever follows aligns itself (the stub may end)
    if actual == 0 or raw[-2:] != b"\x00\x00":
        raise DecodeError(
            f"{name} is not NUL-terminated", offset=at, expected="a [string] wchar_t ending in 0"
        )
    return raw[:-2].decode("utf-16-le", errors="replace")


def _count(r: NdrReader, name: str, limit: int = MAX_COUNT) -> int:
    at = r.align(4).offset
    n = r.u32(name)
    if n > limit:
        raise DecodeError(f"{name} {n} is larger than allowed", offset=at, expected=f"at most {limit}")
    return n


def _conformance(r: NdrReader, name: str, expected: int) -> None:
    at = r.align(4).offset
    size = r.u32(f"{name} max_count")
    if size != expected:
        raise DecodeError(
            f"{name}: max_count {size} but {expected} elements", offset=at, expected=f"max_count {expected}"
        )


# -- STAT -----------------------------------------------------------------------------------------------


def put_stat(o: Out, stat: Stat) -> None:
    o.w.align(4).raw(stat.encode())


def get_stat(r: NdrReader) -> Stat:
    return Stat.decode(r.align(4).raw(36, "STAT"))


# -- PropertyTagArray_r / SPropTagArray ------------------------------------------------------------------


def put_tag_array(o: Out, tags: tuple[int, ...]) -> None:
    """PropertyTagArray_r: max_count cValues+1, cValues, offset 0, actual_count cValues, the values."""
    if len(tags) > MAX_COUNT:
        raise EncodeError(f"{len(tags)} values exceed {MAX_COUNT}")
    o.w.u32(len(tags) + 1).u32(len(tags)).u32(0).u32(len(tags))
    for t in tags:
        o.w.u32(t)


def get_tag_array(r: NdrReader, name: str = "PropertyTagArray_r") -> tuple[int, ...]:
    at = r.align(4).offset
    size = r.u32(f"{name} max_count")
    n = _count(r, f"{name} cValues")
    offset, actual = r.u32(f"{name} offset"), r.u32(f"{name} actual_count")
    # The IDL says size_is(cValues+1); be tolerant of a server that sends max_count = cValues.
    if offset != 0 or actual != n or size < n:
        raise DecodeError(
            f"{name}: max_count {size}, cValues {n}, offset {offset}, actual_count {actual}",
            offset=at,
            expected="max_count cValues+1, offset 0, actual_count cValues",
        )
    return tuple(r.u32(f"{name}[{i}]") for i in range(n))


def put_unique_tags(o: Out, tags: tuple[int, ...] | None) -> None:
    if o.ptr(tags is not None):
        assert tags is not None
        put_tag_array(o, tags)


def get_unique_tags(r: NdrReader, name: str) -> tuple[int, ...] | None:
    return get_tag_array(r, name) if r.u32(f"{name} referent") else None


def put_mid_list(o: Out, mids: tuple[int, ...]) -> None:
    """A conformant DWORD array (``[size_is(n)] DWORD*``): max_count, the values."""
    o.w.u32(len(mids))
    for m in mids:
        o.w.u32(m)


def get_mid_list(r: NdrReader, n: int, name: str) -> tuple[int, ...]:
    _conformance(r, name, n)
    return tuple(r.u32(f"{name}[{i}]") for i in range(n))


# -- StringsArray_r / WStringsArray_r --------------------------------------------------------------------


def put_strings_array(o: Out, strings: tuple[str, ...], *, wide: bool, encoding: str = "cp1252") -> None:
    """A conformant structure: max_count, Count, a pointer per string, then the strings."""
    if len(strings) > MAX_COUNT:
        raise EncodeError(f"{len(strings)} strings exceed {MAX_COUNT}")
    o.w.u32(len(strings)).u32(len(strings))
    for _ in strings:
        o.ptr(True)
    for s in strings:
        put_wstring(o, s) if wide else put_string8(o, s, encoding)


def get_strings_array(
    r: NdrReader, name: str, *, wide: bool, encoding: str = "cp1252"
) -> tuple[str | None, ...]:
    size = r.u32(f"{name} max_count")
    n = _count(r, f"{name} Count")
    if size != n:
        raise DecodeError(
            f"{name}: max_count {size}, Count {n}", offset=r.offset, expected="max_count = Count"
        )
    present = [r.u32(f"{name}[{i}] referent") != 0 for i in range(n)]
    out: list[str | None] = []
    for i, p in enumerate(present):
        if not p:
            out.append(None)
        else:
            out.append(get_wstring(r, f"{name}[{i}]") if wide else get_string8(r, f"{name}[{i}]", encoding))
    return tuple(out)


# -- PropertyValue_r ------------------------------------------------------------------------------------


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise EncodeError(f"{what} needs bytes, not {type(value).__name__}")


def _seq(value: Any, what: str) -> tuple[Any, ...]:
    if isinstance(value, list | tuple):
        return tuple(value)
    raise EncodeError(f"{what} needs a sequence, not {type(value).__name__}")


def _guid_bytes(value: Any) -> bytes:
    if isinstance(value, uuid.UUID):
        return value.bytes_le
    raw = _bytes(value, "PtypGuid")
    if len(raw) != 16:
        raise EncodeError(f"a FlatUID_r is 16 bytes, not {len(raw)}")
    return raw


def _put_conformant(o: Out, raw: bytes) -> None:
    o.w.conformant_bytes(raw)


def _put_raw(o: Out, raw: bytes) -> None:
    o.w.raw(raw)


def _put_filetime(o: Out, value: Any) -> None:
    v = int(value)
    o.w.u32(v & 0xFFFFFFFF).u32((v >> 32) & 0xFFFFFFFF)


def put_union_header(o: Out, prop_type: int, value: Any, encoding: str = "cp1252") -> Deferred:
    """The discriminant and arm of PROP_VAL_UNION; returns the writer of its referents."""
    w = o.w
    w.u32(prop_type)
    if prop_type == PT_I2:
        w.u16(int(value) & 0xFFFF)
    elif prop_type in (PT_LONG, PT_ERROR):
        w.u32(int(value) & 0xFFFFFFFF)
    elif prop_type == PT_BOOLEAN:
        w.u16(1 if value else 0)
    elif prop_type in (PT_NULL, PT_OBJECT):
        w.u32(0 if value is None else int(value) & 0xFFFFFFFF)
    elif prop_type == PT_SYSTIME:
        _put_filetime(o, value)
    elif prop_type in (PT_STRING8, PT_UNICODE):
        if not o.ptr(value is not None):
            return _nothing
        text = str(value)
        if prop_type == PT_STRING8:
            return lambda: put_string8(o, text, encoding)
        return lambda: put_wstring(o, text)
    elif prop_type == PT_BINARY:
        raw = _bytes(value, "PtypBinary")
        w.u32(len(raw))
        o.ptr(True)
        return lambda: _put_conformant(o, raw)
    elif prop_type == PT_CLSID:
        if not o.ptr(value is not None):
            return _nothing
        g = _guid_bytes(value)
        return lambda: _put_raw(o, g)
    elif prop_type & 0x1000 and prop_type in NDR_TYPES:
        items = _seq(value, f"type 0x{prop_type:04X}")
        w.u32(len(items))
        o.ptr(True)
        return lambda: _put_multi(o, prop_type, items, encoding)
    else:
        raise EncodeError(
            f"property type 0x{prop_type:04X} has no arm in PROP_VAL_UNION (MS-OXNSPI 2.2.2.1)",
            expected="PtypInteger16/32, Boolean, String8, String, Binary, Guid, Time, ErrorCode, Null, MV",
        )
    return _nothing


def _put_multi(o: Out, prop_type: int, items: tuple[Any, ...], encoding: str) -> None:
    w = o.w
    w.u32(len(items))  # max_count of the conformant array
    if prop_type == PT_MV_I2:
        for v in items:
            w.u16(int(v) & 0xFFFF)
    elif prop_type == PT_MV_LONG:
        for v in items:
            w.u32(int(v) & 0xFFFFFFFF)
    elif prop_type == PT_MV_SYSTIME:
        for v in items:
            _put_filetime(o, v)
    elif prop_type in (PT_MV_STRING8, PT_MV_UNICODE):
        for _ in items:
            o.ptr(True)
        for v in items:
            put_string8(o, str(v), encoding) if prop_type == PT_MV_STRING8 else put_wstring(o, str(v))
    elif prop_type == PT_MV_BINARY:
        raws = [_bytes(v, "PtypMultipleBinary") for v in items]
        for raw in raws:
            w.u32(len(raw))
            o.ptr(True)
        for raw in raws:
            w.conformant_bytes(raw)
    elif prop_type == PT_MV_CLSID:
        guids = [_guid_bytes(v) for v in items]
        for _ in guids:
            o.ptr(True)
        for g in guids:
            w.align(4).raw(g)


def put_value_header(o: Out, pv: PropertyValue, encoding: str = "cp1252") -> Deferred:
    tag = int(pv.tag)
    o.w.u32(tag).u32(0)
    return put_union_header(o, tag & 0xFFFF, pv.value, encoding)


def put_value(o: Out, pv: PropertyValue, encoding: str = "cp1252") -> None:
    put_value_header(o, pv, encoding)()


def put_values(o: Out, values: tuple[PropertyValue, ...], encoding: str = "cp1252") -> None:
    """The referent of PropertyRow_r.lpProps: max_count, the headers, the contents."""
    o.w.u32(len(values))
    later = [put_value_header(o, pv, encoding) for pv in values]
    for f in later:
        f()


def _get_filetime(r: NdrReader, name: str) -> FileTime:
    low, high = r.u32(f"{name} dwLowDateTime"), r.u32(f"{name} dwHighDateTime")
    return FileTime((high << 32) | low)


def get_union_header(r: NdrReader, prop_type: int, name: str, encoding: str = "cp1252") -> Pending:
    """Reads the discriminant (it must equal ``prop_type``) and the arm; returns the referents' reader."""
    at = r.align(4).offset
    disc = r.u32(f"{name} union discriminant")
    if disc != prop_type:
        raise DecodeError(
            f"{name}: union discriminant 0x{disc:04X} but property type 0x{prop_type:04X}",
            offset=at,
            expected="the discriminant equal to ulPropTag's type (MS-OXNSPI 2.2.2.1)",
        )
    if prop_type == PT_I2:
        v16 = r.u16(name)
        return lambda: v16 - 0x10000 if v16 & 0x8000 else v16
    if prop_type == PT_LONG:
        v32 = r.u32(name)
        return lambda: v32
    if prop_type == PT_ERROR:
        e = ErrorCode(r.u32(name))
        return lambda: e
    if prop_type == PT_BOOLEAN:
        b = r.u8(name) != 0  # u16 per the spec, u8 + padding from gromox: the first byte decides
        return lambda: b
    if prop_type in (PT_NULL, PT_OBJECT):
        reserved = r.u32(f"{name} lReserved")
        return lambda: reserved
    if prop_type == PT_SYSTIME:
        ft = _get_filetime(r, name)
        return lambda: ft
    if prop_type in (PT_STRING8, PT_UNICODE):
        if not r.u32(f"{name} referent"):
            return lambda: None
        if prop_type == PT_STRING8:
            return lambda: get_string8(r, name, encoding)
        return lambda: get_wstring(r, name)
    if prop_type == PT_BINARY:
        cb = _count(r, f"{name} cb", MAX_BINARY)
        present = r.u32(f"{name} referent") != 0

        def binary() -> bytes:
            if not present:
                return b""
            _conformance(r, name, cb)
            return r.raw(cb, name)

        return binary
    if prop_type == PT_CLSID:
        if not r.u32(f"{name} referent"):
            return lambda: None
        return lambda: uuid.UUID(bytes_le=r.align(4).raw(16, name))
    if prop_type & 0x1000 and prop_type in NDR_TYPES:
        n = _count(r, f"{name} cValues")
        present = r.u32(f"{name} referent") != 0
        return lambda: _get_multi(r, prop_type, n, name, encoding) if present else ()
    raise DecodeError(
        f"{name}: property type 0x{prop_type:04X} has no arm in PROP_VAL_UNION",
        offset=at,
        expected="a type of MS-OXNSPI 2.2.2.1",
    )


def _get_multi(r: NdrReader, prop_type: int, n: int, name: str, encoding: str) -> tuple[Any, ...]:
    _conformance(r, name, n)
    if prop_type == PT_MV_I2:
        return tuple(r.u16(f"{name}[{i}]") for i in range(n))
    if prop_type == PT_MV_LONG:
        return tuple(r.u32(f"{name}[{i}]") for i in range(n))
    if prop_type == PT_MV_SYSTIME:
        return tuple(_get_filetime(r, f"{name}[{i}]") for i in range(n))
    if prop_type in (PT_MV_STRING8, PT_MV_UNICODE):
        present = [r.u32(f"{name}[{i}] referent") != 0 for i in range(n)]
        out: list[Any] = []
        for i, p in enumerate(present):
            item = f"{name}[{i}]"
            if not p:
                out.append(None)
            else:
                out.append(
                    get_string8(r, item, encoding) if prop_type == PT_MV_STRING8 else get_wstring(r, item)
                )
        return tuple(out)
    if prop_type == PT_MV_BINARY:
        heads = [(_count(r, f"{name}[{i}] cb", MAX_BINARY), r.u32(f"{name}[{i}] referent")) for i in range(n)]
        values: list[bytes] = []
        for i, (cb, ref) in enumerate(heads):
            if ref:
                _conformance(r, f"{name}[{i}]", cb)
                values.append(r.raw(cb, f"{name}[{i}]"))
            else:
                values.append(b"")
        return tuple(values)
    # PT_MV_CLSID: pointers, then the 16-byte FlatUIDs.
    refs = [r.u32(f"{name}[{i}] referent") for i in range(n)]
    return tuple(
        uuid.UUID(bytes_le=r.align(4).raw(16, f"{name}[{i}]")) if ref else None for i, ref in enumerate(refs)
    )


def get_value_header(
    r: NdrReader, name: str = "PropertyValue_r", encoding: str = "cp1252"
) -> Callable[[], PropertyValue]:
    tag = PropertyTag(r.u32(f"{name} ulPropTag"))
    r.u32(f"{name} ulReserved")
    pending = get_union_header(r, tag.prop_type, name, encoding)
    return lambda: PropertyValue(tag, pending())


def get_value(r: NdrReader, name: str = "PropertyValue_r", encoding: str = "cp1252") -> PropertyValue:
    return get_value_header(r, name, encoding)()


def get_values(r: NdrReader, n: int, name: str, encoding: str = "cp1252") -> tuple[PropertyValue, ...]:
    _conformance(r, name, n)
    pending = [get_value_header(r, f"{name}[{i}]", encoding) for i in range(n)]
    return tuple(p() for p in pending)


# -- PropertyRow_r / PropertyRowSet_r -------------------------------------------------------------------

Row = tuple[PropertyValue, ...]


def put_row_header(o: Out, row: Row, encoding: str = "cp1252") -> Deferred:
    o.w.u32(0).u32(len(row))
    o.ptr(True)
    return lambda: put_values(o, row, encoding)


def put_row(o: Out, row: Row, encoding: str = "cp1252") -> None:
    put_row_header(o, row, encoding)()


def get_row_header(r: NdrReader, name: str, encoding: str = "cp1252") -> Callable[[], Row]:
    r.u32(f"{name} ulAdrEntryPad")
    n = _count(r, f"{name} cValues")
    present = r.u32(f"{name} lpProps referent") != 0
    return lambda: get_values(r, n, f"{name}.lpProps", encoding) if present else ()


def get_row(r: NdrReader, name: str = "PropertyRow_r", encoding: str = "cp1252") -> Row:
    return get_row_header(r, name, encoding)()


def put_rowset(o: Out, rows: tuple[Row, ...], encoding: str = "cp1252") -> None:
    if len(rows) > MAX_COUNT:
        raise EncodeError(f"{len(rows)} rows exceed {MAX_COUNT}")
    o.w.u32(len(rows)).u32(len(rows))
    later = [put_row_header(o, row, encoding) for row in rows]
    for f in later:
        f()


def get_rowset(r: NdrReader, name: str = "PropertyRowSet_r", encoding: str = "cp1252") -> tuple[Row, ...]:
    size = r.u32(f"{name} max_count")
    n = _count(r, f"{name} cRows")
    if size != n:
        raise DecodeError(
            f"{name}: max_count {size}, cRows {n}", offset=r.offset, expected="max_count = cRows"
        )
    pending = [get_row_header(r, f"{name}.aRow[{i}]", encoding) for i in range(n)]
    return tuple(p() for p in pending)


def put_unique_rowset(o: Out, rows: tuple[Row, ...] | None, encoding: str = "cp1252") -> None:
    if o.ptr(rows is not None):
        assert rows is not None
        put_rowset(o, rows, encoding)


def get_unique_rowset(r: NdrReader, name: str, encoding: str = "cp1252") -> tuple[Row, ...] | None:
    return get_rowset(r, name, encoding) if r.u32(f"{name} referent") else None


# -- Restriction_r --------------------------------------------------------------------------------------

RES_AND, RES_OR, RES_NOT, RES_CONTENT, RES_PROPERTY = 0x00, 0x01, 0x02, 0x03, 0x04
RES_PROPCOMPARE, RES_BITMASK, RES_SIZE, RES_EXIST, RES_SUBRESTRICTION = 0x05, 0x06, 0x07, 0x08, 0x09
RELOP_EQ = 0x04


@dataclass(frozen=True)
class Restriction:
    """A Restriction_r (MS-OXNSPI 2.2.2.9) in one shape for every kind.

    ``rt`` is the kind; the fields used: And/Or ``children``; Not and SubRestriction ``children[0]`` (and
    ``sub_object`` for the latter); Content ``fuzzy_level``, ``tag``, ``value``; Property ``relop``, ``tag``,
    ``value``; PropCompare ``relop``, ``tag``, ``tag2``; BitMask ``relop`` (relMBR), ``tag``, ``mask``; Size
    ``relop``, ``tag``, ``size``; Exist ``tag``.
    """

    rt: int
    children: tuple[Restriction, ...] = ()
    tag: int = 0
    value: PropertyValue | None = None
    relop: int = 0
    fuzzy_level: int = 0
    tag2: int = 0
    mask: int = 0
    size: int = 0
    sub_object: int = 0

    @classmethod
    def property(cls, tag: int, value: Any, relop: int = RELOP_EQ) -> Restriction:
        return cls(RES_PROPERTY, tag=tag, relop=relop, value=PropertyValue(PropertyTag(tag), value))

    def __json__(self) -> dict[str, Any]:
        names = ["And", "Or", "Not", "Content", "Property", "PropCompare", "BitMask", "Size", "Exist", "Sub"]
        out: dict[str, Any] = {"rt": names[self.rt] if self.rt < len(names) else self.rt}
        if self.children:
            out["children"] = list(self.children)
        if self.rt in (RES_CONTENT, RES_PROPERTY, RES_PROPCOMPARE, RES_BITMASK, RES_SIZE, RES_EXIST):
            out["ulPropTag"] = f"0x{self.tag:08X}"
        if self.value is not None:
            out["lpProp"] = self.value
        return out


def put_restriction_header(o: Out, res: Restriction, encoding: str = "cp1252") -> Deferred:
    w = o.w
    w.u32(res.rt).u32(res.rt)  # rt, then the union's discriminant
    rt = res.rt
    if rt in (RES_AND, RES_OR):
        w.u32(len(res.children))
        o.ptr(True)

        def children() -> None:
            w.u32(len(res.children))
            later = [put_restriction_header(o, c, encoding) for c in res.children]
            for f in later:
                f()

        return children
    if rt in (RES_NOT, RES_SUBRESTRICTION):
        if rt == RES_SUBRESTRICTION:
            w.u32(res.sub_object)
        if not res.children:
            raise EncodeError("a Not/SubRestriction needs one child restriction")
        o.ptr(True)
        return lambda: put_restriction(o, res.children[0], encoding)
    if rt in (RES_CONTENT, RES_PROPERTY):
        w.u32(res.fuzzy_level if rt == RES_CONTENT else res.relop).u32(res.tag)
        value = res.value
        if not o.ptr(value is not None):
            return _nothing
        assert value is not None
        return lambda: put_value(o, value, encoding)
    if rt == RES_PROPCOMPARE:
        w.u32(res.relop).u32(res.tag).u32(res.tag2)
    elif rt == RES_BITMASK:
        w.u32(res.relop).u32(res.tag).u32(res.mask)
    elif rt == RES_SIZE:
        w.u32(res.relop).u32(res.tag).u32(res.size)
    elif rt == RES_EXIST:
        w.u32(0).u32(res.tag).u32(0)
    else:
        raise EncodeError(f"restriction type {rt} is not defined (MS-OXNSPI 2.2.2.9)")
    return _nothing


def put_restriction(o: Out, res: Restriction, encoding: str = "cp1252") -> None:
    put_restriction_header(o, res, encoding)()


_Fix = Callable[[], Restriction]


def get_restriction_header(
    r: NdrReader, name: str = "Restriction_r", encoding: str = "cp1252", depth: int = 0
) -> _Fix:
    at = r.align(4).offset
    if depth > 32:
        raise DecodeError(
            "restrictions nested more than 32 deep", offset=at, expected="a shallower restriction"
        )
    rt = r.u32(f"{name} rt")
    disc = r.u32(f"{name} union discriminant")
    if disc != rt:
        raise DecodeError(
            f"{name}: rt {rt} but discriminant {disc}", offset=at, expected="the same value twice"
        )
    if rt in (RES_AND, RES_OR):
        n = _count(r, f"{name} cRes")
        present = r.u32(f"{name} lpRes referent") != 0

        def children() -> Restriction:
            if not present:
                return Restriction(rt)
            _conformance(r, f"{name}.lpRes", n)
            pending = [get_restriction_header(r, f"{name}.lpRes[{i}]", encoding, depth + 1) for i in range(n)]
            return Restriction(rt, tuple(p() for p in pending))

        return children
    if rt in (RES_NOT, RES_SUBRESTRICTION):
        sub = r.u32(f"{name} ulSubObject") if rt == RES_SUBRESTRICTION else 0
        present = r.u32(f"{name} lpRes referent") != 0

        def child() -> Restriction:
            kids = (get_restriction_header(r, f"{name}.lpRes", encoding, depth + 1)(),) if present else ()
            return Restriction(rt, kids, sub_object=sub)

        return child
    if rt in (RES_CONTENT, RES_PROPERTY):
        first, tag = r.u32(f"{name} relop/fuzzy"), r.u32(f"{name} ulPropTag")
        present = r.u32(f"{name} lpProp referent") != 0

        def valued() -> Restriction:
            value = get_value(r, f"{name}.lpProp", encoding) if present else None
            if rt == RES_CONTENT:
                return Restriction(rt, tag=tag, value=value, fuzzy_level=first)
            return Restriction(rt, tag=tag, value=value, relop=first)

        return valued
    if rt in (RES_PROPCOMPARE, RES_BITMASK, RES_SIZE, RES_EXIST):
        a, b, c = r.u32(f"{name} [0]"), r.u32(f"{name} [1]"), r.u32(f"{name} [2]")
        fixed = {
            RES_PROPCOMPARE: Restriction(rt, relop=a, tag=b, tag2=c),
            RES_BITMASK: Restriction(rt, relop=a, tag=b, mask=c),
            RES_SIZE: Restriction(rt, relop=a, tag=b, size=c),
            RES_EXIST: Restriction(rt, tag=b),
        }[rt]
        return lambda: fixed
    raise DecodeError(
        f"{name}: restriction type {rt} is not defined", offset=at, expected="0..9 (MS-OXNSPI 2.2.2.9)"
    )


def get_restriction(r: NdrReader, name: str = "Restriction_r", encoding: str = "cp1252") -> Restriction:
    return get_restriction_header(r, name, encoding)()


__all__ = [
    "MAX_COUNT",
    "NDR_TYPES",
    "RELOP_EQ",
    "RES_AND",
    "RES_CONTENT",
    "RES_EXIST",
    "RES_NOT",
    "RES_OR",
    "RES_PROPERTY",
    "Out",
    "Restriction",
    "Row",
    "get_mid_list",
    "get_restriction",
    "get_row",
    "get_rowset",
    "get_stat",
    "get_strings_array",
    "get_tag_array",
    "get_unique_rowset",
    "get_unique_tags",
    "get_value",
    "get_wstring",
    "put_mid_list",
    "put_restriction",
    "put_row",
    "put_rowset",
    "put_stat",
    "put_strings_array",
    "put_tag_array",
    "put_unique_rowset",
    "put_unique_tags",
    "put_value",
    "put_wstring",
]
