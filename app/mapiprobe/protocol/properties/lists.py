"""Tag arrays, address book value lists and PropertyName (MS-OXCDATA 2.10.1, 2.6.1; MS-OXCMAPIHTTP 2.2.1.3,
2.2.1.8). Part of :mod:`mapiprobe.protocol.properties`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import tags as _tags
from ..errors import DecodeError, EncodeError
from ..wire import Reader, Writer
from .types import (
    Context,
    PropertyTag,
)
from .values import (
    PropertyValue,
    read_tagged_value,
    write_tagged_value,
)

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
            pset = _tags.property_set_name(self.guid)
            if pset is not None:
                out["PropertySet"] = pset
        if self.lid is not None:
            out["LID"] = f"0x{self.lid:08X}"
        if self.name is not None:
            out["Name"] = self.name
        canonical = self.canonical_name
        if canonical is not None:
            out["CanonicalName"] = canonical
        return out

    @property
    def canonical_name(self) -> str | None:
        """The MS-OXPROPS PidLid/PidName name of this named property, when MS-OXPROPS lists it."""
        return _tags.named_property_name(self.guid, self.lid, self.name)
