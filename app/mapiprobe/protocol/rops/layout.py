"""The field kinds of the declarative ROP table and the one reader/writer that walks them.

Every ROP of MS-OXCROPS 2.2 that has no hand-written class here is described as data in
:mod:`.catalog`: a tuple of fields, each a small object of this module that knows how to read itself from a
:class:`~mapiprobe.protocol.wire.Reader` into a dict of values (keyed by the spec's field names) and how to
write itself back from such a dict. Counts and sizes (``MessageIdCount``, ``RestrictionDataSize``...) are
read and kept in the dict, so the decoded view shows them in their place, but on encode they are always
derived from the data they count, so a value dict built by hand needs only the data.

Conditional fields (:class:`If`) test the values read so far in the same structure (for a response, the
header's ``ReturnValue`` too), e.g. RopCreateMessage's MessageId follows only when HasMessageId is non-zero.
A decode that fails part-way keeps the values it had read in ``Scope.values``: :func:`read_fields` hands the
caller that dict before it starts, so a cut buffer still shows every complete field before the cut.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DecodeError, EncodeError
from ..properties import (
    Context,
    FolderId,
    MessageId,
    PropertyName,
    PropertyRow,
    PropertyTag,
    PropertyValue,
    read_tagged_value,
    write_tagged_value,
)
from ..restriction import ROP as ROP_RESTRICTION
from ..restriction import Restriction, SortOrderSet
from ..wire import Reader, Writer

Values = dict[str, Any]


@dataclass
class Scope:
    """What a field may consult while it is read or written: the values of its own structure so far, the
    columns that shape rows (from the paired request or ``--columns``) and whether the logon is private."""

    values: Values
    columns: tuple[int, ...] | None = None
    private_logon: bool = True

    def child(self, values: Values) -> Scope:
        return Scope(values, self.columns, self.private_logon)


class Field:
    """One named field of a layout."""

    name: str = ""

    def read(self, r: Reader, s: Scope) -> None:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def write(self, w: Writer, s: Scope) -> None:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def get(self, s: Scope) -> Any:
        try:
            return s.values[self.name]
        except KeyError:
            raise EncodeError(f"{self.name} is missing", field=self.name) from None


Layout = tuple[Field, ...]


def read_fields(r: Reader, layout: Layout, s: Scope) -> Values:
    for f in layout:
        f.read(r, s)
    return s.values


def write_fields(w: Writer, layout: Layout, s: Scope) -> None:
    for f in layout:
        f.write(w, s)


# -- integers ------------------------------------------------------------------------------------------------


# Dispatched on the reader instance (not Reader.u8 itself), so a RecordingReader (protocol/salvage.py) sees
# every field of a ROP that is cut short.
_INT_READ: dict[str, Callable[[Reader, str | None], int]] = {
    "u8": lambda r, f: r.u8(f),
    "u16": lambda r, f: r.u16(f),
    "u32": lambda r, f: r.u32(f),
    "u64": lambda r, f: r.u64(f),
    "i32": lambda r, f: r.i32(f),
    "i64": lambda r, f: r.i64(f),
}
_INT_WRITE: dict[str, Callable[[Writer, int], Writer]] = {
    "u8": Writer.u8,
    "u16": Writer.u16,
    "u32": Writer.u32,
    "u64": Writer.u64,
    "i32": Writer.i32,
    "i64": Writer.i64,
}


class Int(Field):
    """An integer; ``wrap`` turns it into FolderId, MessageId or PropertyTag for display."""

    def __init__(
        self, name: str, fmt: str, wrap: Callable[[int], Any] | None = None, default: int | None = None
    ):
        self.name, self.fmt, self.wrap, self.default = name, fmt, wrap, default

    def read(self, r: Reader, s: Scope) -> None:
        v = _INT_READ[self.fmt](r, self.name)
        s.values[self.name] = self.wrap(v) if self.wrap is not None else v

    def write(self, w: Writer, s: Scope) -> None:
        v = s.values.get(self.name, self.default)
        if v is None:
            raise EncodeError(f"{self.name} is missing", field=self.name)
        _INT_WRITE[self.fmt](w, int(v))


def U8(name: str, default: int | None = None) -> Int:
    return Int(name, "u8", default=default)


def U16(name: str, default: int | None = None) -> Int:
    return Int(name, "u16", default=default)


def U32(name: str, default: int | None = None) -> Int:
    return Int(name, "u32", default=default)


def U64(name: str) -> Int:
    return Int(name, "u64")


def I32(name: str) -> Int:
    return Int(name, "i32")


def I64(name: str) -> Int:
    return Int(name, "i64")


def Fid(name: str) -> Int:
    return Int(name, "u64", FolderId)


def Mid(name: str) -> Int:
    return Int(name, "u64", MessageId)


def Tag(name: str) -> Int:
    return Int(name, "u32", PropertyTag)


class Count(Field):
    """A count or size that the writer derives: ``len()`` of the field ``of`` (a list, bytes or str)."""

    def __init__(self, name: str, fmt: str, of: str):
        self.name, self.fmt, self.of = name, fmt, of

    def read(self, r: Reader, s: Scope) -> None:
        s.values[self.name] = _INT_READ[self.fmt](r, self.name)

    def write(self, w: Writer, s: Scope) -> None:
        data = s.values.get(self.of)
        n = 0 if data is None else len(data)
        limit = (1 << (8 * {"u8": 1, "u16": 2, "u32": 4, "u64": 8}[self.fmt])) - 1
        if n > limit:
            raise EncodeError(
                f"{self.of} holds {n} entries; {self.name} holds at most {limit}", field=self.name
            )
        _INT_WRITE[self.fmt](w, n)


def _count(s: Scope, name: str) -> int:
    n = s.values.get(name)
    if not isinstance(n, int):
        raise DecodeError(f"layout error: count {name} was not read", field=name)
    return n


# -- fixed and counted bytes ---------------------------------------------------------------------------------


class Raw(Field):
    """``size`` raw bytes (fixed), or the bytes counted by the earlier field ``count``, or (neither) all
    left in the current window."""

    def __init__(self, name: str, size: int | None = None, count: str | None = None):
        self.name, self.size, self.count = name, size, count

    def read(self, r: Reader, s: Scope) -> None:
        if self.size is not None:
            s.values[self.name] = r.take(self.size, self.name)
        elif self.count is not None:
            s.values[self.name] = r.take(_count(s, self.count), self.name)
        else:
            s.values[self.name] = r.rest()

    def write(self, w: Writer, s: Scope) -> None:
        v = self.get(s)
        if not isinstance(v, bytes | bytearray):
            raise EncodeError(f"{self.name} needs bytes, got {type(v).__name__}", field=self.name)
        if self.size is not None and len(v) != self.size:
            raise EncodeError(f"{self.name} is {self.size} bytes, got {len(v)}", field=self.name)
        w.raw(v)


def Blob(size_name: str, name: str, fmt: str = "u16") -> tuple[Field, Field]:
    """``<size_name> <name>``: a size followed by that many bytes."""
    return Count(size_name, fmt, of=name), Raw(name, count=size_name)


class GuidF(Field):
    def __init__(self, name: str):
        self.name = name

    def read(self, r: Reader, s: Scope) -> None:
        s.values[self.name] = r.guid(self.name)

    def write(self, w: Writer, s: Scope) -> None:
        v = self.get(s)
        if not isinstance(v, uuid.UUID):
            raise EncodeError(f"{self.name} needs a uuid.UUID", field=self.name)
        w.guid(v)


# -- strings -------------------------------------------------------------------------------------------------


class Str(Field):
    """A NUL-terminated string: 8-bit (``unicode=False``), UTF-16LE (``True``) or chosen by the Boolean field
    named by ``unicode`` (e.g. RopCreateFolder's UseUnicodeStrings)."""

    def __init__(self, name: str, unicode: bool | str | Callable[[Mapping[str, Any]], bool] = False):
        self.name, self.unicode = name, unicode

    def _wide(self, s: Scope) -> bool:
        if isinstance(self.unicode, str):
            return bool(s.values.get(self.unicode))
        if callable(self.unicode):
            return self.unicode(s.values)
        return self.unicode

    def read(self, r: Reader, s: Scope) -> None:
        s.values[self.name] = r.utf16z(self.name) if self._wide(s) else r.asciiz(self.name)

    def write(self, w: Writer, s: Scope) -> None:
        v = self.get(s)
        if not isinstance(v, str):
            raise EncodeError(f"{self.name} needs a str", field=self.name)
        if self._wide(s):
            w.utf16z(v)
        else:
            w.asciiz(v)


STRING_TYPE_NAMES = {0x00: "None", 0x01: "Empty", 0x02: "String8", 0x03: "ReducedUnicode", 0x04: "Unicode"}


class TypedString(Field):
    """MS-OXCROPS 2.2.6.1.2 TypedString: StringType u8, then (types 0x02–0x04) the string. 0x03 is Unicode
    reduced to 8 bits, so it is read like 0x02. The value is ``{"StringType": n, "String": s}``."""

    def __init__(self, name: str):
        self.name = name

    def read(self, r: Reader, s: Scope) -> None:
        start = r.offset
        kind = r.u8(f"{self.name}.StringType")
        out: Values = {"StringType": kind}
        s.values[self.name] = out
        if kind in (0x02, 0x03):
            out["String"] = r.asciiz(f"{self.name}.String")
        elif kind == 0x04:
            out["String"] = r.utf16z(f"{self.name}.String")
        elif kind not in (0x00, 0x01):
            raise DecodeError(
                f"StringType 0x{kind:02X} is not defined",
                offset=start,
                field=f"{self.name}.StringType",
                expected="0x00..0x04 (MS-OXCROPS 2.2.6.1.2.1)",
            )

    def write(self, w: Writer, s: Scope) -> None:
        v = self.get(s)
        kind = int(v.get("StringType", 0))
        w.u8(kind)
        if kind in (0x02, 0x03):
            w.asciiz(str(v.get("String", "")))
        elif kind == 0x04:
            w.utf16z(str(v.get("String", "")))


# -- arrays --------------------------------------------------------------------------------------------------


def _fitting_count(r: Reader, s: Scope, count: str, min_size: int) -> int:
    """The value of the earlier field ``count``, refused when that many ``min_size``-byte items cannot fit."""
    n = _count(s, count)
    if n * min_size > r.remaining:
        raise DecodeError(
            f"{count} {n} needs at least {n * min_size} byte(s) but only {r.remaining} remain",
            offset=r.offset,
            field=count,
            expected=f"a count that fits the {r.remaining} remaining byte(s)",
        )
    return n


class Items(Field):
    """``count`` (an earlier field) elements read by ``read_one``, written by ``write_one``; ``min_size`` is
    the smallest element, so a hostile count fails before any allocation."""

    def __init__(
        self,
        name: str,
        count: str,
        read_one: Callable[[Reader, Scope], Any],
        write_one: Callable[[Writer, Any, Scope], None],
        min_size: int = 1,
    ):
        self.name, self.count = name, count
        self.read_one, self.write_one, self.min_size = read_one, write_one, min_size

    def read(self, r: Reader, s: Scope) -> None:
        n = self._fitting_count(r, s)
        items: list[Any] = []
        s.values[self.name] = items
        for _ in range(n):
            items.append(self.read_one(r, s))

    def write(self, w: Writer, s: Scope) -> None:
        for item in self.get(s) or ():
            self.write_one(w, item, s)

    def _fitting_count(self, r: Reader, s: Scope) -> int:
        return _fitting_count(r, s, self.count, self.min_size)


def _int_items(fmt: str, wrap: Callable[[int], Any] | None = None) -> tuple[Any, Any, int]:
    reader, writer = _INT_READ[fmt], _INT_WRITE[fmt]
    size = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}[fmt]

    def rd(r: Reader, s: Scope) -> Any:
        v = reader(r, None)
        return wrap(v) if wrap is not None else v

    def wr(w: Writer, v: Any, s: Scope) -> None:
        writer(w, int(v))

    return rd, wr, size


def Ints(
    count_name: str, name: str, count_fmt: str, fmt: str, wrap: Callable[[int], Any] | None = None
) -> Layout:
    rd, wr, size = _int_items(fmt, wrap)
    return Count(count_name, count_fmt, of=name), Items(name, count_name, rd, wr, size)


def Ids(count_name: str, name: str, count_fmt: str = "u16") -> Layout:
    """A counted array of MIDs (RopDeleteMessages MessageIds...)."""
    return Ints(count_name, name, count_fmt, "u64", MessageId)


def Fids(count_name: str, name: str) -> Layout:
    return Ints(count_name, name, "u16", "u64", FolderId)


def Tags(count_name: str, name: str, count_fmt: str = "u16") -> Layout:
    """PropertyTagCount + PropertyTags (MS-OXCDATA 2.9 tags)."""
    return Ints(count_name, name, count_fmt, "u32", PropertyTag)


def _rd_tagged(r: Reader, s: Scope) -> PropertyValue:
    return read_tagged_value(r, Context.ROP)


def _wr_tagged(w: Writer, v: Any, s: Scope) -> None:
    if not isinstance(v, PropertyValue):
        raise EncodeError(f"a TaggedPropertyValue needs a PropertyValue, got {type(v).__name__}")
    write_tagged_value(w, v, Context.ROP)


def TaggedValues(count_name: str, name: str, count_fmt: str = "u16") -> Layout:
    """PropertyValueCount + TaggedPropertyValue array (MS-OXCDATA 2.11.4)."""
    return Count(count_name, count_fmt, of=name), Items(name, count_name, _rd_tagged, _wr_tagged, 5)


def _rd_asciiz(r: Reader, s: Scope) -> str:
    return r.asciiz("String")


def _wr_asciiz(w: Writer, v: Any, s: Scope) -> None:
    w.asciiz(str(v))


def Strings(name: str, count_name: str) -> Items:
    """``count_name`` NUL-terminated 8-bit strings (server names, address types); counted earlier."""
    return Items(name, count_name, _rd_asciiz, _wr_asciiz, 1)


def _rd_propname(r: Reader, s: Scope) -> PropertyName:
    return PropertyName.decode(r)


def _wr_propname(w: Writer, v: Any, s: Scope) -> None:
    if not isinstance(v, PropertyName):
        raise EncodeError("a PropertyName is needed")
    v.encode(w)


def PropNames(name: str, count_name: str) -> Items:
    """``count_name`` PropertyName structures (MS-OXCDATA 2.6.1)."""
    return Items(name, count_name, _rd_propname, _wr_propname, 17)


class Array(Field):
    """``count`` (an earlier field) structures, each laid out by ``layout``; each item is a dict."""

    def __init__(self, name: str, count: str, layout: Layout, min_size: int = 1):
        self.name, self.count, self.layout, self.min_size = name, count, layout, min_size

    def read(self, r: Reader, s: Scope) -> None:
        n = _fitting_count(r, s, self.count, self.min_size)
        items: list[Values] = []
        s.values[self.name] = items
        for _ in range(n):
            item: Values = {}
            items.append(item)
            read_fields(r, self.layout, s.child(item))

    def write(self, w: Writer, s: Scope) -> None:
        for item in self.get(s) or ():
            write_fields(w, self.layout, s.child(dict(item)))


def CountedArray(count_name: str, count_fmt: str, name: str, layout: Layout, min_size: int = 1) -> Layout:
    return Count(count_name, count_fmt, of=name), Array(name, count_name, layout, min_size)


class Struct(Field):
    """One nested structure (a dict) laid out by ``layout`` (e.g. a LongTermID)."""

    def __init__(self, name: str, layout: Layout):
        self.name, self.layout = name, layout

    def read(self, r: Reader, s: Scope) -> None:
        item: Values = {}
        s.values[self.name] = item
        read_fields(r, self.layout, s.child(item))

    def write(self, w: Writer, s: Scope) -> None:
        write_fields(w, self.layout, s.child(dict(self.get(s))))


class Until(Field):
    """Structures laid out by ``layout`` until the current window ends (inside a :class:`Sized`)."""

    def __init__(self, name: str, layout: Layout):
        self.name, self.layout = name, layout

    def read(self, r: Reader, s: Scope) -> None:
        items: list[Values] = []
        s.values[self.name] = items
        while not r.at_end():
            item: Values = {}
            items.append(item)
            read_fields(r, self.layout, s.child(item))

    def write(self, w: Writer, s: Scope) -> None:
        for item in self.get(s) or ():
            write_fields(w, self.layout, s.child(dict(item)))


# -- structure -----------------------------------------------------------------------------------------------


class If(Field):
    """Fields present only when ``test(values so far)`` is true (``why`` names the rule for the docs)."""

    def __init__(self, test: Callable[[Mapping[str, Any]], bool], *layout: Field, why: str = ""):
        self.test, self.layout, self.why = test, tuple(layout), why
        self.name = layout[0].name if layout else ""

    def read(self, r: Reader, s: Scope) -> None:
        if self.test(s.values):
            read_fields(r, self.layout, s)

    def write(self, w: Writer, s: Scope) -> None:
        if self.test(s.values):
            write_fields(w, self.layout, s)


class IfLogon(Field):
    """Fields present only for a public-folders logon (``public=True``) or only for a private one.

    The request does not say which logon it is on; the codec knows when the RopLogon was in the same
    buffer, and otherwise assumes a private mailbox, what Outlook opens first ⚠ [U].
    """

    def __init__(self, public: bool, *layout: Field):
        self.public, self.layout = public, tuple(layout)
        self.name = layout[0].name if layout else ""

    def _present(self, s: Scope) -> bool:
        return (not s.private_logon) == self.public

    def read(self, r: Reader, s: Scope) -> None:
        if self._present(s):
            read_fields(r, self.layout, s)

    def write(self, w: Writer, s: Scope) -> None:
        if self.layout[0].name in s.values:
            write_fields(w, self.layout, s)


class Sized(Field):
    """``size_name`` (``fmt``) counts the bytes of the fields in ``layout`` that follow; they must fill them
    exactly. The fields land in the same dict as the size."""

    def __init__(self, size_name: str, fmt: str, *layout: Field, optional: bool = False):
        self.name, self.fmt, self.layout, self.optional = size_name, fmt, tuple(layout), optional

    def read(self, r: Reader, s: Scope) -> None:
        size = _INT_READ[self.fmt](r, self.name)
        s.values[self.name] = size
        if size == 0 and self.optional:
            return
        with r.restrict_to(size, self.name):
            read_fields(r, self.layout, s)

    def write(self, w: Writer, s: Scope) -> None:
        if self.optional and self.layout and self.layout[0].name not in s.values:
            _INT_WRITE[self.fmt](w, 0)
            return
        inner = Writer()
        write_fields(inner, self.layout, s)
        data = inner.getvalue()
        limit = (1 << (8 * {"u8": 1, "u16": 2, "u32": 4}[self.fmt])) - 1
        if len(data) > limit:
            raise EncodeError(
                f"{self.name} would be {len(data)} bytes; it holds at most {limit}", field=self.name
            )
        _INT_WRITE[self.fmt](w, len(data))
        w.raw(data)


class RestrictionF(Field):
    """A restriction tree (MS-OXCDATA 2.12) filling the current window; an empty window is no restriction
    (RestrictionDataSize 0, ``None``)."""

    def __init__(self, name: str):
        self.name = name

    def read(self, r: Reader, s: Scope) -> None:
        s.values[self.name] = None if r.at_end() else Restriction.decode(r, ROP_RESTRICTION)

    def write(self, w: Writer, s: Scope) -> None:
        v = s.values.get(self.name)
        if v is None:
            return
        if not isinstance(v, Restriction):
            raise EncodeError(f"{self.name} needs a Restriction", field=self.name)
        v.encode(w, ROP_RESTRICTION)


def RestrictionData(size_name: str = "RestrictionDataSize", name: str = "RestrictionData") -> Sized:
    return Sized(size_name, "u16", RestrictionF(name))


class SortOrders(Field):
    """SortOrderCount, CategorizedCount, ExpandedCount, SortOrders (MS-OXCDATA 2.13.2)."""

    def __init__(self, name: str):
        self.name = name

    def read(self, r: Reader, s: Scope) -> None:
        s.values[self.name] = SortOrderSet.decode(r)

    def write(self, w: Writer, s: Scope) -> None:
        v = self.get(s)
        if not isinstance(v, SortOrderSet):
            raise EncodeError(f"{self.name} needs a SortOrderSet", field=self.name)
        v.encode(w)


class UseColumns(Field):
    """Not on the wire: from here on, rows are laid out by the tags of the earlier field ``source``
    (RopOpenMessage's RecipientColumns shape its RecipientRows)."""

    def __init__(self, source: str):
        self.name, self.source = "", source

    def read(self, r: Reader, s: Scope) -> None:
        s.columns = tuple(int(t) for t in s.values.get(self.source) or ())

    def write(self, w: Writer, s: Scope) -> None:
        s.columns = tuple(int(t) for t in s.values.get(self.source) or ())


# -- rows ----------------------------------------------------------------------------------------------------


def _need_columns(r: Reader, s: Scope, what: str) -> tuple[int, ...]:
    if s.columns is None:
        raise DecodeError(
            f"{what} carries row data but the table's columns are unknown: give --columns (the property "
            "tags of the RopSetColumns for this table) or decode it with its request buffer",
            offset=r.offset,
            field="RowData",
            expected="the column list of the preceding RopSetColumns",
        )
    return s.columns


def _rd_row(r: Reader, s: Scope) -> PropertyRow:
    return PropertyRow.decode_many(r, _need_columns(r, s, "this response"), 1, Context.ROP)[0]


def _wr_row(w: Writer, v: Any, s: Scope) -> None:
    if not isinstance(v, PropertyRow):
        raise EncodeError("a PropertyRow is needed")
    cols = s.columns if s.columns is not None else tuple(int(p.tag) for p in v.values)
    v.encode(w, cols, Context.ROP)


class Rows(Items):
    """``count_name`` PropertyRows laid out by the table's columns (RopExpandRow), read as one batch."""

    def __init__(self, name: str, count_name: str):
        super().__init__(name, count_name, _rd_row, _wr_row, 1)

    def read(self, r: Reader, s: Scope) -> None:
        if s.columns is None:  # the first row says that the columns are unknown
            super().read(r, s)
            return
        n = self._fitting_count(r, s)
        rows: list[PropertyRow] = []
        s.values[self.name] = rows
        PropertyRow.decode_many(r, s.columns, n, Context.ROP, into=rows)


class Row(Field):
    """One PropertyRow laid out by the table's columns (RopFindRow)."""

    def __init__(self, name: str):
        self.name = name

    def read(self, r: Reader, s: Scope) -> None:
        s.values[self.name] = _rd_row(r, s)

    def write(self, w: Writer, s: Scope) -> None:
        _wr_row(w, self.get(s), s)


class RecipientProperties(Field):
    """The PropertyRow that ends a RecipientRow (MS-OXCDATA 2.8.3.1): its first ``count`` columns of the
    recipient columns. Where those columns are unknown (RopReadRecipients answers alone) the bytes are kept
    raw: the RecipientRowSize around them says where they end."""

    def __init__(self, name: str, count: str):
        self.name, self.count = name, count

    def read(self, r: Reader, s: Scope) -> None:
        n = _count(s, self.count)
        if s.columns is None or n > len(s.columns):
            s.values[self.name] = r.rest()
        else:
            s.values[self.name] = PropertyRow.decode_many(r, s.columns[:n], 1, Context.ROP)[0]

    def write(self, w: Writer, s: Scope) -> None:
        v = self.get(s)
        if isinstance(v, bytes | bytearray):
            w.raw(v)
            return
        if not isinstance(v, PropertyRow):
            raise EncodeError(f"{self.name} needs a PropertyRow or bytes", field=self.name)
        n = _count(s, self.count)
        cols = s.columns[:n] if s.columns is not None else tuple(int(p.tag) for p in v.values)
        v.encode(w, cols, Context.ROP)


class FixedRows(Field):
    """``count`` PropertyRows laid out by fixed ``columns`` (RopGetReceiveFolderTable)."""

    def __init__(self, name: str, count: str, columns: Sequence[int]):
        self.name, self.count, self.columns = name, count, tuple(columns)

    def read(self, r: Reader, s: Scope) -> None:
        n = _count(s, self.count)
        if n > r.remaining:
            raise DecodeError(
                f"{self.count} {n} exceeds the {r.remaining} byte(s) left", offset=r.offset, field=self.count
            )
        rows: list[PropertyRow] = []
        s.values[self.name] = rows
        PropertyRow.decode_many(r, self.columns, n, Context.ROP, into=rows)

    def write(self, w: Writer, s: Scope) -> None:
        for row in self.get(s) or ():
            row.encode(w, self.columns, Context.ROP)


__all__ = [
    "I32",
    "I64",
    "U8",
    "U16",
    "U32",
    "U64",
    "Array",
    "Blob",
    "Count",
    "CountedArray",
    "Fid",
    "Fids",
    "Field",
    "FixedRows",
    "GuidF",
    "Ids",
    "If",
    "IfLogon",
    "Int",
    "Ints",
    "Items",
    "Layout",
    "Mid",
    "PropNames",
    "Raw",
    "RecipientProperties",
    "RestrictionData",
    "RestrictionF",
    "Row",
    "Rows",
    "Scope",
    "Sized",
    "SortOrders",
    "Str",
    "Strings",
    "Struct",
    "Tag",
    "TaggedValues",
    "Tags",
    "TypedString",
    "Until",
    "UseColumns",
    "Values",
    "read_fields",
    "write_fields",
]
