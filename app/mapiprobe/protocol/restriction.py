"""Restrictions and sort orders as trees (MS-OXCDATA 2.12 and 2.13), both directions.

A restriction is a filter: a tree whose inner nodes are And/Or/Not/SubObject/Comment/Count and whose leaves
compare a property (Content, Property, CompareProperties, BitMask, Size, Exist). Every node starts with
``RestrictType u8`` (MS-OXCDATA 2.12):

====  ===========================  =====================================================================
0x00  AndRestriction               RestrictCount, Restricts
0x01  OrRestriction                RestrictCount, Restricts
0x02  NotRestriction               Restriction
0x03  ContentRestriction           FuzzyLevelLow u16, FuzzyLevelHigh u16, PropertyTag, TaggedValue
0x04  PropertyRestriction          RelOp u8, PropTag, TaggedValue
0x05  ComparePropertiesRestriction RelOp u8, PropTag1, PropTag2
0x06  BitMaskRestriction           BitmapRelOp u8, PropTag, Mask u32
0x07  SizeRestriction              RelOp u8, PropTag, Size u32
0x08  ExistRestriction             PropTag
0x09  SubObjectRestriction         SubObject u32, Restriction
0x0A  CommentRestriction           TaggedValuesCount u8, TaggedValues, RestrictionPresent u8, [Restriction]
0x0B  CountRestriction             Count u32, SubRestriction
====  ===========================  =====================================================================

``RestrictCount`` is 16 bits wide in ROP buffers and 32 bits in extended rules and in the MAPI/HTTP address
book (MS-OXCDATA 2.12.1; the address book width is what gromox reads for GetMatches filters [I]). In the
address book a Content or Property restriction's value is preceded by a HasValue byte (0xFF) and written
as an AddressBookTaggedPropertyValue ⚠ [I gromox; MS-OXCMAPIHTTP does not draw the restriction]; both are
switched on by ``Restrictions.ADDRESS_BOOK``.

A sort order set (MS-OXCDATA 2.13.2): SortOrderCount u16, CategorizedCount u16, ExpandedCount u16, then
SortOrderCount SortOrder structures (PropertyType u16, PropertyId u16, Order u8).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import DecodeError, EncodeError

# The submodules, not the package: the package imports this module to register the value codecs.
from .properties.types import Context, PropertyTag, PropType
from .properties.values import (
    EMBEDDED_VALUE_CODECS,
    PropertyValue,
    read_tagged_value,
    write_tagged_value,
)
from .wire import Reader, Writer

MAX_DEPTH = 64
"""Deepest nesting accepted: a hostile buffer of 0x02 bytes (Not of Not of ...) cannot exhaust the stack."""


class RestrictType(enum.IntEnum):
    AndRestriction = 0x00
    OrRestriction = 0x01
    NotRestriction = 0x02
    ContentRestriction = 0x03
    PropertyRestriction = 0x04
    ComparePropertiesRestriction = 0x05
    BitMaskRestriction = 0x06
    SizeRestriction = 0x07
    ExistRestriction = 0x08
    SubObjectRestriction = 0x09
    CommentRestriction = 0x0A
    CountRestriction = 0x0B


RELOP_NAMES = {
    0x00: "RELOP_LT",
    0x01: "RELOP_LE",
    0x02: "RELOP_GT",
    0x03: "RELOP_GE",
    0x04: "RELOP_EQ",
    0x05: "RELOP_NE",
    0x06: "RELOP_RE",
    0x64: "RELOP_MEMBER_OF_DL",
}
"""RelOp values (MS-OXCDATA 2.12.5.1)."""

BMR_NAMES = {0x00: "BMR_EQZ", 0x01: "BMR_NEZ"}
"""BitmapRelOp values (MS-OXCDATA 2.12.7.1)."""


@dataclass(frozen=True)
class Dialect:
    """How restrictions are laid out where they appear: the RestrictCount width and the value encoding."""

    count_width: int
    value_context: Context
    has_value_byte: bool


ROP = Dialect(2, Context.ROP, False)
"""Restrictions in ROP buffers (RopRestrict, RopFindRow, RopSetSearchCriteria, and ICS configuration)."""
EXTENDED_RULE = Dialect(4, Context.ROP, False)
"""Restrictions in extended rules (MS-OXCDATA 2.12.1: 32-bit RestrictCount)."""
ADDRESS_BOOK = Dialect(4, Context.ADDRESS_BOOK, True)
"""Restrictions in MAPI/HTTP address book bodies (GetMatches Filter) ⚠ [I gromox]."""


def _relop(value: int) -> str:
    return RELOP_NAMES.get(value, f"0x{value:02X}")


@dataclass(frozen=True)
class Restriction:
    """One node of a restriction tree. ``restrict_type`` says which of the other fields apply:

    * And/Or: ``children``;  Not, SubObject, Count: ``children`` holds the one sub-restriction;
    * Comment: ``values`` and ``children`` (empty when RestrictionPresent is 0);
    * Content: ``fuzzy_level`` (FuzzyLevelLow | FuzzyLevelHigh << 16), ``tag``, ``value``;
    * Property: ``relop``, ``tag``, ``value``;  CompareProperties: ``relop``, ``tag``, ``tag2``;
    * BitMask: ``relop`` (BitmapRelOp), ``tag``, ``number`` (Mask);  Size: ``relop``, ``tag``, ``number``;
    * Exist: ``tag``;  SubObject: ``number`` (SubObject tag);  Count: ``number`` (Count).
    """

    restrict_type: int
    children: tuple[Restriction, ...] = ()
    tag: PropertyTag | None = None
    tag2: PropertyTag | None = None
    relop: int | None = None
    fuzzy_level: int | None = None
    number: int | None = None
    value: PropertyValue | None = None
    values: tuple[PropertyValue, ...] = field(default=())

    # -- convenience constructors ---------------------------------------------------------------------
    @classmethod
    def and_(cls, *children: Restriction) -> Restriction:
        return cls(RestrictType.AndRestriction, children=tuple(children))

    @classmethod
    def or_(cls, *children: Restriction) -> Restriction:
        return cls(RestrictType.OrRestriction, children=tuple(children))

    @classmethod
    def not_(cls, child: Restriction) -> Restriction:
        return cls(RestrictType.NotRestriction, children=(child,))

    @classmethod
    def content(cls, fuzzy_level: int, tag: int, value: Any) -> Restriction:
        t = PropertyTag(tag)
        return cls(
            RestrictType.ContentRestriction, tag=t, fuzzy_level=fuzzy_level, value=PropertyValue(t, value)
        )

    @classmethod
    def property(cls, relop: int, tag: int, value: Any) -> Restriction:
        t = PropertyTag(tag)
        return cls(RestrictType.PropertyRestriction, tag=t, relop=relop, value=PropertyValue(t, value))

    @classmethod
    def exist(cls, tag: int) -> Restriction:
        return cls(RestrictType.ExistRestriction, tag=PropertyTag(tag))

    # -- codec ----------------------------------------------------------------------------------------
    @classmethod
    def decode(cls, r: Reader, dialect: Dialect = ROP, depth: int = 0) -> Restriction:
        start = r.offset
        if depth > MAX_DEPTH:
            raise DecodeError(
                f"restriction nested deeper than {MAX_DEPTH} levels",
                offset=start,
                field="RestrictType",
                expected=f"at most {MAX_DEPTH} levels",
            )
        rt = r.u8("RestrictType")
        T = RestrictType
        if rt in (T.AndRestriction, T.OrRestriction):
            n = r.count(dialect.count_width, "RestrictCount", item_size=1)
            return cls(rt, children=tuple(cls.decode(r, dialect, depth + 1) for _ in range(n)))
        if rt == T.NotRestriction:
            return cls(rt, children=(cls.decode(r, dialect, depth + 1),))
        if rt == T.ContentRestriction:
            fuzzy = r.u32("FuzzyLevel")
            tag = PropertyTag(r.u32("PropertyTag"))
            return cls(rt, tag=tag, fuzzy_level=fuzzy, value=_read_value(r, dialect))
        if rt == T.PropertyRestriction:
            relop = r.u8("RelOp")
            tag = PropertyTag(r.u32("PropTag"))
            return cls(rt, tag=tag, relop=relop, value=_read_value(r, dialect))
        if rt == T.ComparePropertiesRestriction:
            relop = r.u8("RelOp")
            return cls(
                rt, relop=relop, tag=PropertyTag(r.u32("PropTag1")), tag2=PropertyTag(r.u32("PropTag2"))
            )
        if rt in (T.BitMaskRestriction, T.SizeRestriction):
            relop = r.u8("BitmapRelOp" if rt == T.BitMaskRestriction else "RelOp")
            tag = PropertyTag(r.u32("PropTag"))
            return cls(
                rt, relop=relop, tag=tag, number=r.u32("Mask" if rt == T.BitMaskRestriction else "Size")
            )
        if rt == T.ExistRestriction:
            return cls(rt, tag=PropertyTag(r.u32("PropTag")))
        if rt == T.SubObjectRestriction:
            sub = r.u32("SubObject")
            return cls(rt, number=sub, children=(cls.decode(r, dialect, depth + 1),))
        if rt == T.CommentRestriction:
            n = r.count(1, "TaggedValuesCount", item_size=4)
            values = tuple(read_tagged_value(r, dialect.value_context) for _ in range(n))
            present = r.u8("RestrictionPresent")
            children = (cls.decode(r, dialect, depth + 1),) if present else ()
            return cls(rt, values=values, children=children)
        if rt == T.CountRestriction:
            count = r.u32("Count")
            return cls(rt, number=count, children=(cls.decode(r, dialect, depth + 1),))
        raise DecodeError(
            f"RestrictType 0x{rt:02X} is not defined",
            offset=start,
            field="RestrictType",
            expected="0x00..0x0B (MS-OXCDATA 2.12)",
        )

    def encode(self, w: Writer, dialect: Dialect = ROP) -> None:
        T = RestrictType
        rt = self.restrict_type
        w.u8(rt)
        if rt in (T.AndRestriction, T.OrRestriction):
            w.count(len(self.children), dialect.count_width)
            for child in self.children:
                child.encode(w, dialect)
        elif rt in (T.NotRestriction, T.SubObjectRestriction, T.CountRestriction):
            if len(self.children) != 1:
                raise EncodeError(f"{T(rt).name} needs exactly one sub-restriction", field="Restriction")
            if rt != T.NotRestriction:
                w.u32(self._need(self.number, "SubObject" if rt == T.SubObjectRestriction else "Count"))
            self.children[0].encode(w, dialect)
        elif rt == T.ContentRestriction:
            w.u32(self._need(self.fuzzy_level, "FuzzyLevel")).u32(int(self._need(self.tag, "PropertyTag")))
            _write_value(w, self._need(self.value, "TaggedValue"), dialect)
        elif rt == T.PropertyRestriction:
            w.u8(self._need(self.relop, "RelOp")).u32(int(self._need(self.tag, "PropTag")))
            _write_value(w, self._need(self.value, "TaggedValue"), dialect)
        elif rt == T.ComparePropertiesRestriction:
            w.u8(self._need(self.relop, "RelOp")).u32(int(self._need(self.tag, "PropTag1")))
            w.u32(int(self._need(self.tag2, "PropTag2")))
        elif rt in (T.BitMaskRestriction, T.SizeRestriction):
            w.u8(self._need(self.relop, "RelOp")).u32(int(self._need(self.tag, "PropTag")))
            w.u32(self._need(self.number, "Mask/Size"))
        elif rt == T.ExistRestriction:
            w.u32(int(self._need(self.tag, "PropTag")))
        elif rt == T.CommentRestriction:
            if len(self.values) > 0xFF or len(self.children) > 1:
                raise EncodeError("a CommentRestriction holds at most 255 values and one restriction")
            w.u8(len(self.values))
            for v in self.values:
                write_tagged_value(w, v, dialect.value_context)
            w.u8(1 if self.children else 0)
            if self.children:
                self.children[0].encode(w, dialect)
        else:
            raise EncodeError(f"RestrictType 0x{rt:02X} is not defined", field="RestrictType")

    def to_bytes(self, dialect: Dialect = ROP) -> bytes:
        w = Writer()
        self.encode(w, dialect)
        return w.getvalue()

    @staticmethod
    def _need(value: Any, name: str) -> Any:
        if value is None:
            raise EncodeError(f"restriction field {name} is missing", field=name)
        return value

    def __json__(self) -> dict[str, Any]:
        T = RestrictType
        rt = self.restrict_type
        try:
            out: dict[str, Any] = {"RestrictType": T(rt).name}
        except ValueError:
            out = {"RestrictType": f"0x{rt:02X}"}
        if rt in (T.AndRestriction, T.OrRestriction):
            out["RestrictCount"] = len(self.children)
            out["Restricts"] = list(self.children)
            return out
        if rt == T.ContentRestriction and self.fuzzy_level is not None:
            out["FuzzyLevelLow"] = f"0x{self.fuzzy_level & 0xFFFF:04X}"
            out["FuzzyLevelHigh"] = f"0x{self.fuzzy_level >> 16:04X}"
        if self.relop is not None:
            if rt == T.BitMaskRestriction:
                out["BitmapRelOp"] = BMR_NAMES.get(self.relop, f"0x{self.relop:02X}")
            else:
                out["RelOp"] = _relop(self.relop)
        if self.tag is not None:
            out["PropTag1" if rt == T.ComparePropertiesRestriction else "PropTag"] = self.tag
        if self.tag2 is not None:
            out["PropTag2"] = self.tag2
        if self.number is not None:
            key = {
                T.BitMaskRestriction: "Mask",
                T.SizeRestriction: "Size",
                T.SubObjectRestriction: "SubObject",
            }
            out[key.get(T(rt), "Count")] = (
                f"0x{self.number:08X}"
                if rt in (T.BitMaskRestriction, T.SubObjectRestriction)
                else self.number
            )
        if self.value is not None:
            out["TaggedValue"] = self.value
        if rt == T.CommentRestriction:
            out["TaggedValuesCount"] = len(self.values)
            out["TaggedValues"] = list(self.values)
            out["RestrictionPresent"] = 1 if self.children else 0
        if (self.children and rt != T.CommentRestriction) or (rt == T.CommentRestriction and self.children):
            out["Restriction"] = self.children[0]
        return out


def _read_value(r: Reader, dialect: Dialect) -> PropertyValue | None:
    if dialect.has_value_byte:
        present = r.u8("HasValue")
        if present == 0:
            return None
    return read_tagged_value(r, dialect.value_context)


def _write_value(w: Writer, value: PropertyValue | None, dialect: Dialect) -> None:
    if dialect.has_value_byte:
        if value is None:
            w.u8(0)
            return
        w.u8(0xFF)
    elif value is None:
        raise EncodeError("a restriction value is missing", field="TaggedValue")
    write_tagged_value(w, value, dialect.value_context)


# -- sort orders ----------------------------------------------------------------------------------------

ORDER_NAMES = {0x00: "Ascending", 0x01: "Descending", 0x04: "MaximumCategory"}
"""SortOrder Order values (MS-OXCDATA 2.13.1)."""


@dataclass(frozen=True)
class SortOrder:
    """MS-OXCDATA 2.13.1: PropertyType u16, PropertyId u16, Order u8."""

    property_type: int
    property_id: int
    order: int

    @property
    def tag(self) -> PropertyTag:
        return PropertyTag.of(self.property_id, self.property_type)

    def __json__(self) -> dict[str, Any]:
        return {
            "PropertyType": f"0x{self.property_type:04X}",
            "PropertyId": f"0x{self.property_id:04X}",
            "Name": self.tag.name,
            "Order": ORDER_NAMES.get(self.order, f"0x{self.order:02X}"),
        }


@dataclass(frozen=True)
class SortOrderSet:
    """MS-OXCDATA 2.13.2. The counts of categories and expanded categories are stored as sent; the number of
    sort orders is derived from ``sort_orders``."""

    categorized_count: int
    expanded_count: int
    sort_orders: tuple[SortOrder, ...]

    @classmethod
    def decode(cls, r: Reader) -> SortOrderSet:
        n = r.count(2, "SortOrderCount", item_size=5)
        categorized = r.u16("CategorizedCount")
        expanded = r.u16("ExpandedCount")
        orders = []
        for _ in range(n):
            ptype = r.u16("PropertyType")
            pid = r.u16("PropertyId")
            orders.append(SortOrder(ptype, pid, r.u8("Order")))
        return cls(categorized, expanded, tuple(orders))

    def encode(self, w: Writer) -> None:
        w.count(len(self.sort_orders), 2).u16(self.categorized_count).u16(self.expanded_count)
        for s in self.sort_orders:
            w.u16(s.property_type).u16(s.property_id).u8(s.order)

    def __json__(self) -> dict[str, Any]:
        return {
            "SortOrderCount": len(self.sort_orders),
            "CategorizedCount": self.categorized_count,
            "ExpandedCount": self.expanded_count,
            "SortOrders": list(self.sort_orders),
        }


# -- rule actions (PtypRuleAction in ROP buffers: MS-OXORULE 2.2.5) --------------------------------------

ACTION_TYPE_NAMES = {
    0x01: "OP_MOVE",
    0x02: "OP_COPY",
    0x03: "OP_REPLY",
    0x04: "OP_OOF_REPLY",
    0x05: "OP_DEFER_ACTION",
    0x06: "OP_BOUNCE",
    0x07: "OP_FORWARD",
    0x08: "OP_DELEGATE",
    0x09: "OP_TAG",
    0x0A: "OP_DELETE",
    0x0B: "OP_MARK_AS_READ",
}


@dataclass(frozen=True)
class ActionBlock:
    """One ActionBlock of a RuleAction (MS-OXORULE 2.2.5.1): ActionLength u16 (ROP form), ActionType u8,
    ActionFlavor u32, ActionFlags u32, ActionData (kept as bytes: its layout depends on ActionType)."""

    action_type: int
    action_flavor: int
    action_flags: int
    action_data: bytes

    def __json__(self) -> dict[str, Any]:
        return {
            "ActionLength": 9 + len(self.action_data),
            "ActionType": ACTION_TYPE_NAMES.get(self.action_type, f"0x{self.action_type:02X}"),
            "ActionFlavor": f"0x{self.action_flavor:08X}",
            "ActionFlags": f"0x{self.action_flags:08X}",
            "ActionData": self.action_data.hex().upper(),
        }


@dataclass(frozen=True)
class RuleAction:
    """A PtypRuleAction value in a ROP buffer: NoOfActions u16, then the ActionBlocks."""

    blocks: tuple[ActionBlock, ...]

    @classmethod
    def decode(cls, r: Reader) -> RuleAction:
        n = r.count(2, "NoOfActions", item_size=11)
        blocks = []
        for _ in range(n):
            length = r.u16("ActionLength")
            with r.restrict_to(length, "ActionBlock"):
                kind = r.u8("ActionType")
                flavor = r.u32("ActionFlavor")
                flags = r.u32("ActionFlags")
                blocks.append(ActionBlock(kind, flavor, flags, r.rest()))
        return cls(tuple(blocks))

    def encode(self, w: Writer) -> None:
        w.count(len(self.blocks), 2)
        for b in self.blocks:
            w.u16(9 + len(b.action_data)).u8(b.action_type).u32(b.action_flavor).u32(b.action_flags)
            w.raw(b.action_data)

    def __json__(self) -> dict[str, Any]:
        return {"NoOfActions": len(self.blocks), "ActionBlocks": list(self.blocks)}


# -- PtypRestriction / PtypRuleAction as property values ---------------------------------------------------


def _read_restriction_value(r: Reader, ctx: Context) -> Restriction:
    return Restriction.decode(r, ADDRESS_BOOK if ctx is Context.ADDRESS_BOOK else ROP)


def _write_restriction_value(w: Writer, value: Any, ctx: Context) -> None:
    if not isinstance(value, Restriction):
        raise EncodeError(f"PtypRestriction needs a Restriction, got {type(value).__name__}")
    value.encode(w, ADDRESS_BOOK if ctx is Context.ADDRESS_BOOK else ROP)


def _read_rule_action_value(r: Reader, ctx: Context) -> RuleAction:
    return RuleAction.decode(r)


def _write_rule_action_value(w: Writer, value: Any, ctx: Context) -> None:
    if not isinstance(value, RuleAction):
        raise EncodeError(f"PtypRuleAction needs a RuleAction, got {type(value).__name__}")
    value.encode(w)


EMBEDDED_VALUE_CODECS[PropType.RESTRICTION] = (_read_restriction_value, _write_restriction_value)
EMBEDDED_VALUE_CODECS[PropType.RULE_ACTION] = (_read_rule_action_value, _write_rule_action_value)


def decode_restriction(data: bytes, dialect: Dialect = ROP, *, base: int = 0) -> Restriction:
    """A whole restriction; every byte must belong to it."""
    r = Reader(data, base=base)
    res = Restriction.decode(r, dialect)
    r.expect_end("end of the restriction")
    return res


def sort_orders(pairs: Sequence[tuple[int, int]], categorized: int = 0, expanded: int = 0) -> SortOrderSet:
    """``[(tag, order), ...]`` → a SortOrderSet."""
    return SortOrderSet(
        categorized, expanded, tuple(SortOrder(t & 0xFFFF, (t >> 16) & 0xFFFF, o) for t, o in pairs)
    )


__all__ = [
    "ADDRESS_BOOK",
    "EXTENDED_RULE",
    "ROP",
    "ActionBlock",
    "Dialect",
    "RestrictType",
    "Restriction",
    "RuleAction",
    "SortOrder",
    "SortOrderSet",
    "decode_restriction",
    "sort_orders",
]
