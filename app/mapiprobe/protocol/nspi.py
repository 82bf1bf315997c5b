"""Request and response bodies of the MAPI/HTTP address book endpoint (NSPI), both directions.

One frozen dataclass per body of MS-OXCMAPIHTTP 2.2.5 (``BindRequest``, ``BindResponse``,
``QueryRowsRequest`` ...), each with ``encode()`` and ``classmethod decode(data)``. A client encodes
requests and decodes responses; the simulator does the opposite with the same classes.

Each class declares its wire layout as data (``_LAYOUT``); the reader and writer that walk it live in
:mod:`mapiprobe.protocol.nspi_layout`, the STAT/EntryID types in :mod:`mapiprobe.protocol.nspi_types`.
Conventions (PROTOCOL.md §6.1):

* Every body ends with ``AuxiliaryBufferSize u32`` + ``AuxiliaryBuffer`` (kept as raw bytes).
* Every response starts with ``StatusCode u32``. When it is non-zero the body is the *failure form*:
  StatusCode and the auxiliary buffer only, and every other field is ``None``. ⚠ The spreadsheet text
  of MS-OXCMAPIHTTP says even failure bodies carry StatusCode 0; we follow PROTOCOL.md §6.1 [U].
* ``Has*`` bytes say whether an optional field follows. Decoders accept any non-zero value (TS sends
  0x01, gromox 0xFF). Encoders send ``HAS_TRUE`` = 0x01, the value of Microsoft's own test client and of
  the constructed vectors in PROTOCOL.md §8.2; ``encode(has_true=0xFF)`` imitates gromox.
* Explicit tables, tag arrays and row sets hold at most 100,000 entries (MS-OXCMAPIHTTP 2.2.1.8).

Row data is an AddressBookPropertyRow (MS-OXCMAPIHTTP 2.2.1.7 = ``PropertyRow`` in
``Context.ADDRESS_BOOK``) and property lists are AddressBookPropertyValueLists (2.2.1.3), both from
:mod:`mapiprobe.protocol.properties`.

All nineteen request types of MS-OXCMAPIHTTP 2.2.5.1–2.2.5.19 are here, both directions. A GetMatches
Filter is a :class:`~mapiprobe.protocol.restriction.Restriction` tree (raw bytes are still accepted when
encoding).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import DecodeError
from .nspi_layout import (
    FILTER_MS_OXCDATA,
    HAS_TRUE,
    MAX_COUNT,
    TARGET_PROPERTY_VALUE_R,
    TARGET_TAGGED,
    AddressBookBody,
    AddressBookRequest,
    AddressBookResponse,
    Layout,
    aux_field,
)
from .nspi_types import ERRORS_RETURNED, UNBIND_SUCCESS, EntryId, Stat, parse_entry_id
from .properties import PropertyRow, PropertyTag, PropertyValue
from .registry import DecodeContext, body_decoder, decode_kind
from .restriction import Restriction

INITIAL_STAT = Stat()
"""The STAT requests carry by default: GAL, start of table, code page 1252, locales 0x409 (MS-OXNSPI 4)."""


def is_success(response: AddressBookResponse) -> bool:
    """True when the body reports success: StatusCode 0 and an ErrorCode that is not a failure.

    Success is ErrorCode 0; for Unbind also UNBIND_SUCCESS (1), which MS-OXNSPI 2.2.1.2 defines as
    Unbind's success value and gromox returns (PROTOCOL.md §10); and the warning ErrorsReturned
    (0x00040380), with which GetProps/QueryRows deliver rows whose failed columns hold error codes.
    """
    if response.status_code != 0 or response.error_code is None:
        return False
    if response.error_code in (0, ERRORS_RETURNED):
        return True
    return isinstance(response, UnbindResponse) and response.error_code == UNBIND_SUCCESS


# -- Bind / Unbind ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BindRequest(AddressBookRequest):
    """Bind request body, MS-OXCMAPIHTTP 2.2.5.1.1 (NspiBind, MS-OXNSPI 3.1.4.1.1)."""

    REQUEST_TYPE: ClassVar[str] = "Bind"
    _LAYOUT: ClassVar[Layout] = (("u32", "flags"), ("stat?", "state"))
    flags: int = 0
    state: Stat | None = INITIAL_STAT
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class BindResponse(AddressBookResponse):
    """Bind response body, MS-OXCMAPIHTTP 2.2.5.1.2 (success) / 2.2.5.1.3 (failure)."""

    REQUEST_TYPE: ClassVar[str] = "Bind"
    _LAYOUT: ClassVar[Layout] = (("guid", "server_guid"),)
    status_code: int = 0
    error_code: int | None = 0
    server_guid: uuid.UUID | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class UnbindRequest(AddressBookRequest):
    """Unbind request body, MS-OXCMAPIHTTP 2.2.5.2.1 (NspiUnbind, MS-OXNSPI 3.1.4.1.2)."""

    REQUEST_TYPE: ClassVar[str] = "Unbind"
    _LAYOUT: ClassVar[Layout] = (("u32", "reserved"),)
    reserved: int = 0
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class UnbindResponse(AddressBookResponse):
    """Unbind response body, MS-OXCMAPIHTTP 2.2.5.2.2. ErrorCode 1 (UNBIND_SUCCESS) is success."""

    REQUEST_TYPE: ClassVar[str] = "Unbind"
    _LAYOUT: ClassVar[Layout] = ()
    status_code: int = 0
    error_code: int | None = UNBIND_SUCCESS
    auxiliary_buffer: bytes = aux_field()


# -- CompareMIds / DNToMId ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareMIdsRequest(AddressBookRequest):
    """CompareMIds request body, MS-OXCMAPIHTTP 2.2.5.3.1 (NspiCompareMIds, MS-OXNSPI 3.1.4.1.12)."""

    REQUEST_TYPE: ClassVar[str] = "CompareMIds"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "reserved"),
        ("stat?", "state"),
        ("u32", "minimal_id1"),
        ("u32", "minimal_id2"),
    )
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    minimal_id1: int = 0
    minimal_id2: int = 0
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class CompareMIdsResponse(AddressBookResponse):
    """CompareMIds response body, MS-OXCMAPIHTTP 2.2.5.3.2: StatusCode, ErrorCode, Result i32, aux.

    ⚠ This is the spec's order (and TS's). gromox writes StatusCode, Result, ErrorCode (PROTOCOL.md §6.5,
    §9 item 11), so from gromox the two u32s after StatusCode arrive swapped; they cannot be told apart
    by their bytes, so we decode the spec's order only and say so here.
    """

    REQUEST_TYPE: ClassVar[str] = "CompareMIds"
    _LAYOUT: ClassVar[Layout] = (("i32", "result"),)
    status_code: int = 0
    error_code: int | None = 0
    result: int | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class DNToMIdRequest(AddressBookRequest):
    """DNToMId request body, MS-OXCMAPIHTTP 2.2.5.4.1 (NspiDNToMId, MS-OXNSPI 3.1.4.1.13).

    Names is a StringsArray_r (MS-OXNSPI 2.2.7.1): Count u32 + NUL-terminated 8-bit DNs.
    """

    REQUEST_TYPE: ClassVar[str] = "DNToMId"
    _LAYOUT: ClassVar[Layout] = (("u32", "reserved"), ("str8s?", "names"))
    reserved: int = 0
    names: tuple[str, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class DNToMIdResponse(AddressBookResponse):
    """DNToMId response body, MS-OXCMAPIHTTP 2.2.5.4.2. An unknown DN maps to MId 0."""

    REQUEST_TYPE: ClassVar[str] = "DNToMId"
    _LAYOUT: ClassVar[Layout] = (("mids?", "minimal_ids"),)
    status_code: int = 0
    error_code: int | None = 0
    minimal_ids: tuple[int, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


# -- GetMatches ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GetMatchesRequest(AddressBookRequest):
    """GetMatches request body, MS-OXCMAPIHTTP 2.2.5.5.1 (NspiGetMatches, MS-OXNSPI 3.1.4.1.10).

    ``filter`` is a restriction tree (MS-OXCDATA 2.12); raw bytes are written as given. ⚠ Its exact form in
    MAPI/HTTP is not drawn: ``filter_form`` says which was read (see nspi_layout: MS-OXCDATA form, gromox's
    HasValue form, 16-bit counts); encoding uses it, the MS-OXCDATA form by default.
    """

    REQUEST_TYPE: ClassVar[str] = "GetMatches"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "reserved"),
        ("stat?", "state"),
        ("mids?", "minimal_ids"),
        ("u32", "interface_option_flags"),
        ("filter?", "filter", "filter_form"),
        ("propname?", "property_name_guid", "property_name_id"),
        ("u32", "row_count"),
        ("tags?", "columns"),
    )
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    minimal_ids: tuple[int, ...] | None = None
    interface_option_flags: int = 0
    filter: Restriction | bytes | None = None
    filter_form: str = field(default=FILTER_MS_OXCDATA, metadata={"json": False})
    property_name_guid: uuid.UUID | None = None
    property_name_id: int | None = None
    row_count: int = 0
    columns: tuple[PropertyTag, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetMatchesResponse(AddressBookResponse):
    """GetMatches response body, MS-OXCMAPIHTTP 2.2.5.5.2."""

    REQUEST_TYPE: ClassVar[str] = "GetMatches"
    _LAYOUT: ClassVar[Layout] = (
        ("stat?", "state"),
        ("mids?", "minimal_ids"),
        ("colrows?", "columns", "row_data"),
    )
    status_code: int = 0
    error_code: int | None = 0
    state: Stat | None = None
    minimal_ids: tuple[int, ...] | None = None
    columns: tuple[PropertyTag, ...] | None = None
    row_data: tuple[PropertyRow, ...] = ()
    auxiliary_buffer: bytes = aux_field()


# -- GetPropList / GetProps / GetSpecialTable ---------------------------------------------------------


@dataclass(frozen=True)
class GetPropListRequest(AddressBookRequest):
    """GetPropList request body, MS-OXCMAPIHTTP 2.2.5.6.1 (NspiGetPropList, MS-OXNSPI 3.1.4.1.6)."""

    REQUEST_TYPE: ClassVar[str] = "GetPropList"
    _LAYOUT: ClassVar[Layout] = (("u32", "flags"), ("u32", "minimal_id"), ("u32", "code_page"))
    flags: int = 0
    minimal_id: int = 0
    code_page: int = 1252
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetPropListResponse(AddressBookResponse):
    """GetPropList response body, MS-OXCMAPIHTTP 2.2.5.6.2."""

    REQUEST_TYPE: ClassVar[str] = "GetPropList"
    _LAYOUT: ClassVar[Layout] = (("tags?", "property_tags"),)
    status_code: int = 0
    error_code: int | None = 0
    property_tags: tuple[PropertyTag, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetPropsRequest(AddressBookRequest):
    """GetProps request body, MS-OXCMAPIHTTP 2.2.5.7.1 (NspiGetProps, MS-OXNSPI 3.1.4.1.7).

    The object read is the one whose MId is in ``state.current_rec``.
    """

    REQUEST_TYPE: ClassVar[str] = "GetProps"
    _LAYOUT: ClassVar[Layout] = (("u32", "flags"), ("stat?", "state"), ("tags?", "property_tags"))
    flags: int = 0
    state: Stat | None = INITIAL_STAT
    property_tags: tuple[PropertyTag, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetPropsResponse(AddressBookResponse):
    """GetProps response body, MS-OXCMAPIHTTP 2.2.5.7.2: an AddressBookPropertyValueList."""

    REQUEST_TYPE: ClassVar[str] = "GetProps"
    _LAYOUT: ClassVar[Layout] = (("u32", "code_page"), ("values?", "property_values"))
    status_code: int = 0
    error_code: int | None = 0
    code_page: int | None = None
    property_values: tuple[PropertyValue, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetSpecialTableRequest(AddressBookRequest):
    """GetSpecialTable request body, MS-OXCMAPIHTTP 2.2.5.8.1 (MS-OXNSPI 3.1.4.1.3)."""

    REQUEST_TYPE: ClassVar[str] = "GetSpecialTable"
    _LAYOUT: ClassVar[Layout] = (("u32", "flags"), ("stat?", "state"), ("u32?", "version"))
    flags: int = 0
    state: Stat | None = INITIAL_STAT
    version: int | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetSpecialTableResponse(AddressBookResponse):
    """GetSpecialTable response body, MS-OXCMAPIHTTP 2.2.5.8.2: one AddressBookPropertyValueList a row."""

    REQUEST_TYPE: ClassVar[str] = "GetSpecialTable"
    _LAYOUT: ClassVar[Layout] = (("u32", "code_page"), ("u32?", "version"), ("rowsets?", "rows"))
    status_code: int = 0
    error_code: int | None = 0
    code_page: int | None = None
    version: int | None = None
    rows: tuple[tuple[PropertyValue, ...], ...] | None = None
    auxiliary_buffer: bytes = aux_field()


# -- GetTemplateInfo / ModLinkAtt / ModProps ---------------------------------------------------------


@dataclass(frozen=True)
class GetTemplateInfoRequest(AddressBookRequest):
    """GetTemplateInfo request body, MS-OXCMAPIHTTP 2.2.5.9.1 (NspiGetTemplateInfo, MS-OXNSPI 3.1.4.1.18):
    Flags (TI_TEMPLATE 0x01, TI_SCRIPT 0x04, TI_EMT 0x10...), DisplayType, HasTemplateDn + TemplateDn
    (8-bit, NUL-terminated), CodePage, LocaleId."""

    REQUEST_TYPE: ClassVar[str] = "GetTemplateInfo"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "flags"),
        ("u32", "display_type"),
        ("str8?", "template_dn"),
        ("u32", "code_page"),
        ("u32", "locale_id"),
    )
    flags: int = 0
    display_type: int = 0
    template_dn: str | None = None
    code_page: int = 1252
    locale_id: int = 0x409
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetTemplateInfoResponse(AddressBookResponse):
    """GetTemplateInfo response body, MS-OXCMAPIHTTP 2.2.5.9.2: CodePage, HasRow + Row (an
    AddressBookPropertyValueList, e.g. PidTagTemplateData)."""

    REQUEST_TYPE: ClassVar[str] = "GetTemplateInfo"
    _LAYOUT: ClassVar[Layout] = (("u32", "code_page"), ("values?", "row"))
    status_code: int = 0
    error_code: int | None = 0
    code_page: int | None = None
    row: tuple[PropertyValue, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ModLinkAttRequest(AddressBookRequest):
    """ModLinkAtt request body, MS-OXCMAPIHTTP 2.2.5.10.1 (NspiModLinkAtt, MS-OXNSPI 3.1.4.1.15): Flags
    (fDelete 0x01), PropertyTag, MinimalId, HasEntryIds + EntryIds (count u32, each a u32 size and bytes)."""

    REQUEST_TYPE: ClassVar[str] = "ModLinkAtt"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "flags"),
        ("u32", "property_tag"),
        ("u32", "minimal_id"),
        ("bins?", "entry_ids"),
    )
    flags: int = 0
    property_tag: int = 0
    minimal_id: int = 0
    entry_ids: tuple[bytes, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ModLinkAttResponse(AddressBookResponse):
    """ModLinkAtt response body, MS-OXCMAPIHTTP 2.2.5.10.2: StatusCode, ErrorCode and the aux buffer."""

    REQUEST_TYPE: ClassVar[str] = "ModLinkAtt"
    _LAYOUT: ClassVar[Layout] = ()
    status_code: int = 0
    error_code: int | None = 0
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ModPropsRequest(AddressBookRequest):
    """ModProps request body, MS-OXCMAPIHTTP 2.2.5.11.1 (NspiModProps, MS-OXNSPI 3.1.4.1.14): Reserved,
    HasState + State, HasPropertyTagsToRemove + PropertyTagsToRemove, HasPropertyValues + PropertyValues."""

    REQUEST_TYPE: ClassVar[str] = "ModProps"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "reserved"),
        ("stat?", "state"),
        ("tags?", "property_tags_to_remove"),
        ("values?", "property_values"),
    )
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    property_tags_to_remove: tuple[PropertyTag, ...] | None = None
    property_values: tuple[PropertyValue, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ModPropsResponse(AddressBookResponse):
    """ModProps response body, MS-OXCMAPIHTTP 2.2.5.11.2: StatusCode, ErrorCode and the aux buffer."""

    REQUEST_TYPE: ClassVar[str] = "ModProps"
    _LAYOUT: ClassVar[Layout] = ()
    status_code: int = 0
    error_code: int | None = 0
    auxiliary_buffer: bytes = aux_field()


# -- QueryRows / QueryColumns / ResolveNames ----------------------------------------------------------


@dataclass(frozen=True)
class QueryRowsRequest(AddressBookRequest):
    """QueryRows request body, MS-OXCMAPIHTTP 2.2.5.12.1 (NspiQueryRows, MS-OXNSPI 3.1.4.1.8).

    With an empty ``explicit_table`` the rows come from the container in ``state``, starting at its
    CurrentRec; the returned State points after the last row (feed it back to page on).
    """

    REQUEST_TYPE: ClassVar[str] = "QueryRows"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "flags"),
        ("stat?", "state"),
        ("mids", "explicit_table"),
        ("u32", "row_count"),
        ("tags?", "columns"),
    )
    flags: int = 0
    state: Stat | None = INITIAL_STAT
    explicit_table: tuple[int, ...] = ()
    row_count: int = 0
    columns: tuple[PropertyTag, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class QueryRowsResponse(AddressBookResponse):
    """QueryRows response body, MS-OXCMAPIHTTP 2.2.5.12.2."""

    REQUEST_TYPE: ClassVar[str] = "QueryRows"
    _LAYOUT: ClassVar[Layout] = (("stat?", "state"), ("colrows?", "columns", "row_data"))
    status_code: int = 0
    error_code: int | None = 0
    state: Stat | None = None
    columns: tuple[PropertyTag, ...] | None = None
    row_data: tuple[PropertyRow, ...] = ()
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class QueryColumnsRequest(AddressBookRequest):
    """QueryColumns request body, MS-OXCMAPIHTTP 2.2.5.13.1 (NspiQueryColumns, MS-OXNSPI 3.1.4.1.5)."""

    REQUEST_TYPE: ClassVar[str] = "QueryColumns"
    _LAYOUT: ClassVar[Layout] = (("u32", "reserved"), ("u32", "mapi_flags"))
    reserved: int = 0
    mapi_flags: int = 0
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class QueryColumnsResponse(AddressBookResponse):
    """QueryColumns response body, MS-OXCMAPIHTTP 2.2.5.13.2."""

    REQUEST_TYPE: ClassVar[str] = "QueryColumns"
    _LAYOUT: ClassVar[Layout] = (("tags?", "columns"),)
    status_code: int = 0
    error_code: int | None = 0
    columns: tuple[PropertyTag, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ResolveNamesRequest(AddressBookRequest):
    """ResolveNames request body, MS-OXCMAPIHTTP 2.2.5.14.1 (NspiResolveNamesW, MS-OXNSPI 3.1.4.1.17).

    Names is a WStringsArray_r (MS-OXNSPI 2.2.7.2): NameCount u32 + UTF-16LE strings.
    """

    REQUEST_TYPE: ClassVar[str] = "ResolveNames"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "reserved"),
        ("stat?", "state"),
        ("tags?", "property_tags"),
        ("wstrs?", "names"),
    )
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    property_tags: tuple[PropertyTag, ...] | None = None
    names: tuple[str, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ResolveNamesResponse(AddressBookResponse):
    """ResolveNames response body, MS-OXCMAPIHTTP 2.2.5.14.2.

    One MinimalIds entry per name: an MId, or MID_UNRESOLVED (0) / MID_AMBIGUOUS (1). gromox answers
    MID_RESOLVED (2) for a resolved name and 1 for an unknown one (PROTOCOL.md §10).
    """

    REQUEST_TYPE: ClassVar[str] = "ResolveNames"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "code_page"),
        ("mids?", "minimal_ids"),
        ("colrows?", "property_tags", "row_data"),
    )
    status_code: int = 0
    error_code: int | None = 0
    code_page: int | None = None
    minimal_ids: tuple[int, ...] | None = None
    property_tags: tuple[PropertyTag, ...] | None = None
    row_data: tuple[PropertyRow, ...] = ()
    auxiliary_buffer: bytes = aux_field()


# -- SeekEntries / UpdateStat -------------------------------------------------------------------------


@dataclass(frozen=True)
class ResortRestrictionRequest(AddressBookRequest):
    """ResortRestriction request body, MS-OXCMAPIHTTP 2.2.5.15.1 (NspiResortRestriction, MS-OXNSPI
    3.1.4.1.11): Reserved, HasState + State (its SortType says the new order), HasMinimalIds + MinimalIds."""

    REQUEST_TYPE: ClassVar[str] = "ResortRestriction"
    _LAYOUT: ClassVar[Layout] = (("u32", "reserved"), ("stat?", "state"), ("mids?", "minimal_ids"))
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    minimal_ids: tuple[int, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class ResortRestrictionResponse(AddressBookResponse):
    """ResortRestriction response body, MS-OXCMAPIHTTP 2.2.5.15.2: HasState + State, HasMinimalIds +
    MinimalIds (the same MIds in the new order)."""

    REQUEST_TYPE: ClassVar[str] = "ResortRestriction"
    _LAYOUT: ClassVar[Layout] = (("stat?", "state"), ("mids?", "minimal_ids"))
    status_code: int = 0
    error_code: int | None = 0
    state: Stat | None = None
    minimal_ids: tuple[int, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class SeekEntriesRequest(AddressBookRequest):
    """SeekEntries request body, MS-OXCMAPIHTTP 2.2.5.16.1 (NspiSeekEntries, MS-OXNSPI 3.1.4.1.9).

    ``target_form`` records how Target was (or is to be) written: ``"PropertyValue_r"`` (the spec:
    PropertyTag, Reserved u32 0, value; the default) or ``"AddressBookTaggedPropertyValue"`` (TS and
    gromox: PropertyTag, value). ⚠ See PROTOCOL.md §6.5.
    """

    REQUEST_TYPE: ClassVar[str] = "SeekEntries"
    _LAYOUT: ClassVar[Layout] = (
        ("u32", "reserved"),
        ("stat?", "state"),
        ("target?", "target", "target_form"),
        ("mids?", "explicit_table"),
        ("tags?", "columns"),
    )
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    target: PropertyValue | None = None
    target_form: str = TARGET_PROPERTY_VALUE_R
    explicit_table: tuple[int, ...] | None = None
    columns: tuple[PropertyTag, ...] | None = None
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class SeekEntriesResponse(AddressBookResponse):
    """SeekEntries response body, MS-OXCMAPIHTTP 2.2.5.16.2."""

    REQUEST_TYPE: ClassVar[str] = "SeekEntries"
    _LAYOUT: ClassVar[Layout] = (("stat?", "state"), ("colrows?", "columns", "row_data"))
    status_code: int = 0
    error_code: int | None = 0
    state: Stat | None = None
    columns: tuple[PropertyTag, ...] | None = None
    row_data: tuple[PropertyRow, ...] = ()
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class UpdateStatRequest(AddressBookRequest):
    """UpdateStat request body, MS-OXCMAPIHTTP 2.2.5.17.1 (NspiUpdateStat, MS-OXNSPI 3.1.4.1.4)."""

    REQUEST_TYPE: ClassVar[str] = "UpdateStat"
    _LAYOUT: ClassVar[Layout] = (("u32", "reserved"), ("stat?", "state"), ("bool8", "delta_requested"))
    reserved: int = 0
    state: Stat | None = INITIAL_STAT
    delta_requested: bool = False
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class UpdateStatResponse(AddressBookResponse):
    """UpdateStat response body, MS-OXCMAPIHTTP 2.2.5.17.2."""

    REQUEST_TYPE: ClassVar[str] = "UpdateStat"
    _LAYOUT: ClassVar[Layout] = (("stat?", "state"), ("i32?", "delta"))
    status_code: int = 0
    error_code: int | None = 0
    state: Stat | None = None
    delta: int | None = None
    auxiliary_buffer: bytes = aux_field()


# -- GetMailboxUrl / GetAddressBookUrl ----------------------------------------------------------------
#
# ⚠ TS ends the DN with two UTF-16 NULs (PROTOCOL.md §6.5). Decoders accept the extra terminator and
# record it in ``doubled_nul``; encoders send one unless ``doubled_nul`` is set (to reproduce a capture).


@dataclass(frozen=True)
class GetMailboxUrlRequest(AddressBookRequest):
    """GetMailboxUrl request body, MS-OXCMAPIHTTP 2.2.5.18.1: Flags u32 (0), ServerDn utf16z, aux."""

    REQUEST_TYPE: ClassVar[str] = "GetMailboxUrl"
    _LAYOUT: ClassVar[Layout] = (("u32", "flags"), ("wstr", "server_dn", "doubled_nul"))
    flags: int = 0
    server_dn: str = ""
    doubled_nul: bool = field(default=False, metadata={"spec": "DoubledNul (non-standard)"})
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetMailboxUrlResponse(AddressBookResponse):
    """GetMailboxUrl response body, MS-OXCMAPIHTTP 2.2.5.18.2: ServerUrl (the EMSMDB URL)."""

    REQUEST_TYPE: ClassVar[str] = "GetMailboxUrl"
    _LAYOUT: ClassVar[Layout] = (("wstr", "server_url", "doubled_nul"),)
    status_code: int = 0
    error_code: int | None = 0
    server_url: str | None = None
    doubled_nul: bool = field(default=False, metadata={"spec": "DoubledNul (non-standard)"})
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetAddressBookUrlRequest(AddressBookRequest):
    """GetAddressBookUrl request body, MS-OXCMAPIHTTP 2.2.5.19.1: Flags u32 (0), UserDn utf16z, aux."""

    REQUEST_TYPE: ClassVar[str] = "GetAddressBookUrl"
    _LAYOUT: ClassVar[Layout] = (("u32", "flags"), ("wstr", "user_dn", "doubled_nul"))
    flags: int = 0
    user_dn: str = ""
    doubled_nul: bool = field(default=False, metadata={"spec": "DoubledNul (non-standard)"})
    auxiliary_buffer: bytes = aux_field()


@dataclass(frozen=True)
class GetAddressBookUrlResponse(AddressBookResponse):
    """GetAddressBookUrl response body, MS-OXCMAPIHTTP 2.2.5.19.2: ServerUrl (the NSPI URL)."""

    REQUEST_TYPE: ClassVar[str] = "GetAddressBookUrl"
    _LAYOUT: ClassVar[Layout] = (("wstr", "server_url", "doubled_nul"),)
    status_code: int = 0
    error_code: int | None = 0
    server_url: str | None = None
    doubled_nul: bool = field(default=False, metadata={"spec": "DoubledNul (non-standard)"})
    auxiliary_buffer: bytes = aux_field()


# -- lookup by X-RequestType --------------------------------------------------------------------------

NspiRequest = (
    BindRequest
    | UnbindRequest
    | CompareMIdsRequest
    | DNToMIdRequest
    | GetMatchesRequest
    | GetPropListRequest
    | GetPropsRequest
    | GetSpecialTableRequest
    | QueryRowsRequest
    | QueryColumnsRequest
    | ResolveNamesRequest
    | SeekEntriesRequest
    | UpdateStatRequest
    | GetMailboxUrlRequest
    | GetAddressBookUrlRequest
)
NspiResponse = (
    BindResponse
    | UnbindResponse
    | CompareMIdsResponse
    | DNToMIdResponse
    | GetMatchesResponse
    | GetPropListResponse
    | GetPropsResponse
    | GetSpecialTableResponse
    | QueryRowsResponse
    | QueryColumnsResponse
    | ResolveNamesResponse
    | SeekEntriesResponse
    | UpdateStatResponse
    | GetMailboxUrlResponse
    | GetAddressBookUrlResponse
)

REQUEST_CLASSES: Mapping[str, type[AddressBookRequest]] = {
    c.REQUEST_TYPE: c
    for c in (
        BindRequest,
        UnbindRequest,
        CompareMIdsRequest,
        DNToMIdRequest,
        GetMatchesRequest,
        GetPropListRequest,
        GetPropsRequest,
        GetSpecialTableRequest,
        GetTemplateInfoRequest,
        ModLinkAttRequest,
        ModPropsRequest,
        QueryRowsRequest,
        QueryColumnsRequest,
        ResolveNamesRequest,
        ResortRestrictionRequest,
        SeekEntriesRequest,
        UpdateStatRequest,
        GetMailboxUrlRequest,
        GetAddressBookUrlRequest,
    )
}
"""Request body class by X-RequestType, spelled as on the wire (MS-OXCMAPIHTTP 2.2.3.3.1)."""

RESPONSE_CLASSES: Mapping[str, type[AddressBookResponse]] = {
    c.REQUEST_TYPE: c
    for c in (
        BindResponse,
        UnbindResponse,
        CompareMIdsResponse,
        DNToMIdResponse,
        GetMatchesResponse,
        GetPropListResponse,
        GetPropsResponse,
        GetSpecialTableResponse,
        GetTemplateInfoResponse,
        ModLinkAttResponse,
        ModPropsResponse,
        QueryRowsResponse,
        QueryColumnsResponse,
        ResolveNamesResponse,
        ResortRestrictionResponse,
        SeekEntriesResponse,
        UpdateStatResponse,
        GetMailboxUrlResponse,
        GetAddressBookUrlResponse,
    )
}
"""Response body class by X-RequestType."""

_BY_LOWER = {name.lower(): name for name in REQUEST_CLASSES}


def request_types() -> list[str]:
    """The address book X-RequestTypes these codecs handle."""
    return list(REQUEST_CLASSES)


def canonical_request_type(request_type: str | None) -> str:
    """``bind`` → ``Bind`` (servers echo X-RequestType in any case); DecodeError naming the valid ones."""
    name = _BY_LOWER.get((request_type or "").lower())
    if name is None:
        given = (
            f"{request_type!r} is not an address book request type"
            if request_type
            else ("--request-type is required")
        )
        raise DecodeError(
            f"{given}; valid: {', '.join(REQUEST_CLASSES)}",
            field="X-RequestType",
            expected="one of " + ", ".join(REQUEST_CLASSES),
        )
    return name


def decode_request(
    request_type: str, data: bytes, partial: dict[str, Any] | None = None
) -> AddressBookRequest:
    """Decode the request body of the given X-RequestType (case-insensitive)."""
    return REQUEST_CLASSES[canonical_request_type(request_type)].decode(data, partial)


def decode_response(
    request_type: str, data: bytes, partial: dict[str, Any] | None = None
) -> AddressBookResponse:
    """Decode the response body of the given X-RequestType (case-insensitive)."""
    return RESPONSE_CLASSES[canonical_request_type(request_type)].decode(data, partial)


# -- registration with `mapiprobe decode` -------------------------------------------------------------


def _decode_staged(cls: type[AddressBookBody], direction: str, data: bytes, ctx: DecodeContext) -> Any:
    """Decode into ``ctx.partial["<X-RequestType> <direction> body"]``: fields land there as they are read
    (so a fault still shows them), then the whole body replaces them."""
    stage = f"{cls.REQUEST_TYPE} {direction} body"
    progress: dict[str, Any] = {}
    ctx.partial[stage] = progress
    body = cls.decode(data, progress)
    ctx.partial[stage] = body
    return body


def _body_func(cls: type[AddressBookBody], direction: str) -> Callable[[bytes, DecodeContext], Any]:
    def decode_body(data: bytes, ctx: DecodeContext) -> Any:
        return _decode_staged(cls, direction, data, ctx)

    decode_body.__name__ = f"decode_{cls.__name__}"
    decode_body.__doc__ = f"Decode a MAPI/HTTP {cls.REQUEST_TYPE} {direction} body (MS-OXCMAPIHTTP 2.2.5)."
    return decode_body


for _name, _req in REQUEST_CLASSES.items():
    body_decoder(_name, "request")(_body_func(_req, "request"))
for _name, _resp in RESPONSE_CLASSES.items():
    body_decoder(_name, "response")(_body_func(_resp, "response"))


@decode_kind("nspi-request", "address book (NSPI) request body; needs --request-type (Bind, QueryRows...)")
def _decode_nspi_request(data: bytes, ctx: DecodeContext) -> Any:
    cls = REQUEST_CLASSES[canonical_request_type(ctx.request_type)]
    return _decode_staged(cls, "request", data, ctx)


@decode_kind("nspi-response", "address book (NSPI) response body; needs --request-type (Bind, QueryRows...)")
def _decode_nspi_response(data: bytes, ctx: DecodeContext) -> Any:
    cls = RESPONSE_CLASSES[canonical_request_type(ctx.request_type)]
    return _decode_staged(cls, "response", data, ctx)


@decode_kind("stat", "NSPI STAT structure (36 bytes, MS-OXNSPI 2.2.8)")
def _decode_stat(data: bytes, ctx: DecodeContext) -> Any:
    stat = Stat.decode(data)
    ctx.partial["STAT"] = stat
    return stat


@decode_kind("entryid", "address book EntryID: ephemeral (0x87) or permanent (0x00), MS-OXNSPI 2.2.9")
def _decode_entryid(data: bytes, ctx: DecodeContext) -> EntryId:
    entry = parse_entry_id(data)
    ctx.partial["EntryID"] = entry
    return entry


__all__ = [
    "HAS_TRUE",
    "INITIAL_STAT",
    "MAX_COUNT",
    "REQUEST_CLASSES",
    "RESPONSE_CLASSES",
    "TARGET_PROPERTY_VALUE_R",
    "TARGET_TAGGED",
    "AddressBookBody",
    "AddressBookRequest",
    "AddressBookResponse",
    "BindRequest",
    "BindResponse",
    "CompareMIdsRequest",
    "CompareMIdsResponse",
    "DNToMIdRequest",
    "DNToMIdResponse",
    "GetAddressBookUrlRequest",
    "GetAddressBookUrlResponse",
    "GetMailboxUrlRequest",
    "GetMailboxUrlResponse",
    "GetMatchesRequest",
    "GetMatchesResponse",
    "GetPropListRequest",
    "GetPropListResponse",
    "GetPropsRequest",
    "GetPropsResponse",
    "GetSpecialTableRequest",
    "GetSpecialTableResponse",
    "GetTemplateInfoRequest",
    "GetTemplateInfoResponse",
    "ModLinkAttRequest",
    "ModLinkAttResponse",
    "ModPropsRequest",
    "ModPropsResponse",
    "NspiRequest",
    "NspiResponse",
    "QueryColumnsRequest",
    "QueryColumnsResponse",
    "QueryRowsRequest",
    "QueryRowsResponse",
    "ResolveNamesRequest",
    "ResolveNamesResponse",
    "ResortRestrictionRequest",
    "ResortRestrictionResponse",
    "SeekEntriesRequest",
    "SeekEntriesResponse",
    "UnbindRequest",
    "UnbindResponse",
    "UpdateStatRequest",
    "UpdateStatResponse",
    "canonical_request_type",
    "decode_request",
    "decode_response",
    "is_success",
    "request_types",
]
