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

PtypRestriction and PtypRuleAction values are parsed as the structures they are (MS-OXCDATA 2.12,
MS-OXORULE 2.2.5): :mod:`mapiprobe.protocol.restriction` registers their codecs in ``EMBEDDED_VALUE_CODECS``.

The package is split along its seams — :mod:`.types` (types, tags, IDs), :mod:`.values` (one value and its
wrappers), :mod:`.rows` (PropertyRow and the batch decoder), :mod:`.lists` (tag arrays, value lists,
PropertyName), :mod:`.kinds` (decode kinds) — and this module re-exports every public name, so
``from mapiprobe.protocol.properties import PropertyRow`` keeps working.
"""

from __future__ import annotations

from .. import restriction as _restriction  # noqa: F401 - registers PtypRestriction/PtypRuleAction codecs
from . import kinds as _kinds  # noqa: F401 - registers the decode kinds
from .lists import (
    KIND_LID,
    KIND_NAME,
    KIND_NONE,
    LARGE_TAG_ARRAY_LIMIT,
    PropertyName,
    read_ab_value_list,
    read_tag_array,
    write_ab_value_list,
    write_tag_array,
)
from .rows import (
    AddressBookPropertyRow,
    PropertyRow,
    _batch_columns,
    _fast_plan,
    _fast_row,
    _NotFast,
)
from .types import (
    MV_FLAG,
    MVI_FLAG,
    Context,
    Currency,
    ErrorCode,
    ErrorValue,
    FileTime,
    FolderId,
    FolderIdView,
    MessageId,
    PropertyTag,
    PropType,
    ServerId,
    tag_by_name,
    tag_name,
    type_name,
)
from .values import (
    EMBEDDED_VALUE_CODECS,
    FLAG_ABSENT,
    FLAG_ERROR,
    FLAG_PRESENT,
    FlaggedPropertyValue,
    FlaggedPropertyValueWithType,
    PropertyValue,
    PropertyValue_r,
    TaggedPropertyValue,
    TypedPropertyValue,
    _read_ab_multi_strings,
    read_flagged_value,
    read_flagged_value_with_type,
    read_property_value_r,
    read_tagged_value,
    read_typed_value,
    read_value,
    write_flagged_value,
    write_flagged_value_with_type,
    write_property_value_r,
    write_tagged_value,
    write_typed_value,
    write_value,
)

__all__ = [  # noqa: RUF022 - the spec names first, then the internals the batch-decoder tests reach
    "EMBEDDED_VALUE_CODECS",
    "_NotFast",
    "_batch_columns",
    "_fast_plan",
    "_fast_row",
    "_read_ab_multi_strings",
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
