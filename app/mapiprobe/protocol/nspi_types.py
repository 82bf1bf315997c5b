"""NSPI building blocks shared by every address book body: STAT, MIds, EntryIDs and constants.

The address book endpoint of MAPI over HTTP (MS-OXCMAPIHTTP 2.2.5) carries the data types of the NSPI
protocol (MS-OXNSPI): the 36-byte ``STAT`` that says where in which container a client stands
(MS-OXNSPI 2.2.8), Minimal Entry IDs (MS-OXNSPI 2.2.9.1) and the two EntryID forms an address book
object can have (MS-OXNSPI 2.2.9.2 ephemeral, 2.2.9.3 permanent). The request and response bodies
themselves live in :mod:`mapiprobe.protocol.nspi`.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .errors import DecodeError, EncodeError
from .wire import Reader, Writer

# -- MS-OXNSPI 2.2.1.x constants ----------------------------------------------------------------------

# Table sort orders, MS-OXNSPI 2.2.1.10 (STAT.SortType).
SORT_TYPE_DISPLAY_NAME = 0x00000000
SORT_TYPE_PHONETIC_DISPLAY_NAME = 0x00000003
SORT_TYPE_DISPLAY_NAME_RO = 0x000003E8
SORT_TYPE_DISPLAY_NAME_W = 0x000003E9

# Positioning Minimal Entry IDs, MS-OXNSPI 2.2.1.8 (STAT.CurrentRec).
MID_BEGINNING_OF_TABLE = 0x00000000
MID_CURRENT = 0x00000001
MID_END_OF_TABLE = 0x00000002

# Ambiguous name resolution results, MS-OXNSPI 2.2.1.9 (ResolveNames MinimalIds).
MID_UNRESOLVED = 0x00000000
MID_AMBIGUOUS = 0x00000001
MID_RESOLVED = 0x00000002

# Code pages, MS-OXNSPI 2.2.1.5. A STAT must never carry CP_WINUNICODE (MS-OXNSPI 3.1.4.1.1).
CP_TELETEX = 0x00004F25
CP_WINUNICODE = 0x000004B0

# Default language, MS-OXNSPI 2.2.1.4.
NSPI_DEFAULT_LOCALE = 0x00000409

# Bind flags, MS-OXNSPI 3.1.4.1.1 (only fAnonymousLogin is honoured).
F_ANONYMOUS_LOGIN = 0x00000020
# Retrieve property flags, MS-OXNSPI 2.2.1.11 (QueryRows, GetProps, GetPropList).
F_SKIP_OBJECTS = 0x00000001
F_EPH_ID = 0x00000002
# GetSpecialTable flags, MS-OXNSPI 2.2.1.12.
NSPI_ADDRESS_CREATION_TEMPLATES = 0x00000002
NSPI_UNICODE_STRINGS = 0x00000004
# QueryColumns flag, MS-OXNSPI 2.2.1.13.
NSPI_UNICODE_PROPTYPES = 0x80000000

# NSPI return values beyond MS-OXCDATA 2.4 (MS-OXNSPI 2.2.1.2). UnbindSuccess is what a successful
# Unbind returns; gromox does so (PROTOCOL.md §10). The numeric values 1 and 2 are marked [U] in
# PROTOCOL.md §6.6; gromox's Unbind success answer confirms 1.
UNBIND_SUCCESS = 0x00000001
UNBIND_FAILURE = 0x00000002
ERRORS_RETURNED = 0x00040380  # a warning: the call succeeded but some values are error codes
AMBIGUOUS_RECIPIENT = 0x80040700

# Minimal Entry IDs below this value are control values, not objects (MS-OXNSPI 2.2.9.1).
MID_FIRST_OBJECT = 0x00000010

GUID_NSPI = uuid.UUID(bytes_le=bytes.fromhex("DCA740C8C042101AB4B908002B2FE182"))
"""ProviderUID of every PermanentEntryID (MS-OXNSPI 2.2.1.7)."""


class DisplayType(IntEnum):
    """PidTagDisplayType values, MS-OXNSPI 2.2.1.3."""

    DT_MAILUSER = 0x00000000
    DT_DISTLIST = 0x00000001
    DT_FORUM = 0x00000002
    DT_AGENT = 0x00000003
    DT_ORGANIZATION = 0x00000004
    DT_PRIVATE_DISTLIST = 0x00000005
    DT_REMOTE_MAILUSER = 0x00000006
    DT_CONTAINER = 0x00000100
    DT_TEMPLATE = 0x00000101
    DT_ADDRESS_TEMPLATE = 0x00000102
    DT_SEARCH = 0x00000200


def display_type_name(value: int) -> str | None:
    """``DT_MAILUSER`` for 0 and so on; None for a value MS-OXNSPI 2.2.1.3 does not name."""
    try:
        return DisplayType(value).name
    except ValueError:
        return None


# -- STAT ---------------------------------------------------------------------------------------------

STAT_SIZE = 36


@dataclass(frozen=True)
class Stat:
    """The STAT structure, MS-OXNSPI 2.2.8: a position in an address book container.

    MS-OXCMAPIHTTP cites it as "[MS-OXNSPI] section 2.3.7" (the MS-NSPI numbering). The defaults are
    what a client sends to Bind (MS-OXNSPI 4: code page 1252, locales 0x409, everything else 0).
    """

    sort_type: int = SORT_TYPE_DISPLAY_NAME
    container_id: int = field(default=0, metadata={"spec": "ContainerID"})
    current_rec: int = MID_BEGINNING_OF_TABLE
    delta: int = 0
    num_pos: int = 0
    total_recs: int = 0
    code_page: int = 1252
    template_locale: int = NSPI_DEFAULT_LOCALE
    sort_locale: int = NSPI_DEFAULT_LOCALE

    def with_(self, **changes: Any) -> Stat:
        """A copy with some fields replaced, e.g. ``stat.with_(current_rec=mid)``."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def read(cls, r: Reader) -> Stat:
        return cls(
            sort_type=r.u32("SortType"),
            container_id=r.u32("ContainerID"),
            current_rec=r.u32("CurrentRec"),
            delta=r.i32("Delta"),
            num_pos=r.u32("NumPos"),
            total_recs=r.u32("TotalRecs"),
            code_page=r.u32("CodePage"),
            template_locale=r.u32("TemplateLocale"),
            sort_locale=r.u32("SortLocale"),
        )

    def write(self, w: Writer) -> None:
        w.u32(self.sort_type).u32(self.container_id).u32(self.current_rec).i32(self.delta)
        w.u32(self.num_pos).u32(self.total_recs).u32(self.code_page)
        w.u32(self.template_locale).u32(self.sort_locale)

    @classmethod
    def decode(cls, data: bytes) -> Stat:
        r = Reader(data)
        stat = cls.read(r)
        r.expect_end("end of the 36-byte STAT")
        return stat

    def encode(self) -> bytes:
        w = Writer()
        self.write(w)
        return w.getvalue()


# -- EntryIDs -----------------------------------------------------------------------------------------

EPHEMERAL_ID_TYPE = 0x87
PERMANENT_ID_TYPE = 0x00
EPHEMERAL_ENTRY_ID_SIZE = 32


def _display_type_json(value: int) -> dict[str, Any]:
    return {"Value": value, "Name": display_type_name(value)}


@dataclass(frozen=True)
class EphemeralEntryId:
    """EphemeralEntryID, MS-OXNSPI 2.2.9.2 (32 bytes): names an object by the server's MId for it.

    Only valid with the server whose Bind returned ``provider_uid`` as its ServerGuid. The reserved
    bytes are kept as read so that a diagnosis can show a server that sets them.
    """

    provider_uid: uuid.UUID
    display_type: int
    mid: int = field(metadata={"spec": "MId"})
    id_type: int = field(default=EPHEMERAL_ID_TYPE, metadata={"spec": "IDType"})
    r1: int = 0
    r2: int = 0
    r3: int = 0
    r4: int = 0x00000001

    @classmethod
    def read(cls, r: Reader) -> EphemeralEntryId:
        id_type = r.u8("ID Type")
        r1, r2, r3 = r.u8("R1"), r.u8("R2"), r.u8("R3")
        provider_uid = r.guid("ProviderUID")
        r4 = r.u32("R4")
        display_type = r.u32("Display Type")
        mid = r.u32("MId")
        return cls(provider_uid, display_type, mid, id_type, r1, r2, r3, r4)

    def write(self, w: Writer) -> None:
        w.u8(self.id_type).u8(self.r1).u8(self.r2).u8(self.r3).guid(self.provider_uid)
        w.u32(self.r4).u32(self.display_type).u32(self.mid)

    def encode(self) -> bytes:
        w = Writer()
        self.write(w)
        return w.getvalue()

    def __json__(self) -> dict[str, Any]:
        return {
            "Form": "EphemeralEntryID",
            "IDType": self.id_type,
            "R1": self.r1,
            "R2": self.r2,
            "R3": self.r3,
            "ProviderUID": self.provider_uid,
            "R4": self.r4,
            "DisplayType": _display_type_json(self.display_type),
            "MId": self.mid,
        }


@dataclass(frozen=True)
class PermanentEntryId:
    """PermanentEntryID, MS-OXNSPI 2.2.9.3: names an object by its distinguished name (DN).

    This is also the address book EntryID of MS-OXCDATA 2.2.5.2 (whose first four bytes it calls
    Flags). ProviderUID is GUID_NSPI (MS-OXNSPI 2.2.1.7); R4 is 0x00000001; the DN is a NUL-terminated
    8-bit string (legacy Exchange DNs are ASCII; decoded as Latin-1 so any byte round-trips).
    """

    display_type: int
    distinguished_name: str = field(metadata={"spec": "DistinguishedName"})
    provider_uid: uuid.UUID = GUID_NSPI
    id_type: int = field(default=PERMANENT_ID_TYPE, metadata={"spec": "IDType"})
    r1: int = 0
    r2: int = 0
    r3: int = 0
    r4: int = 0x00000001

    @classmethod
    def read(cls, r: Reader) -> PermanentEntryId:
        id_type = r.u8("ID Type")
        r1, r2, r3 = r.u8("R1"), r.u8("R2"), r.u8("R3")
        provider_uid = r.guid("ProviderUID")
        r4 = r.u32("R4")
        display_type = r.u32("Display Type String")
        dn = r.asciiz("Distinguished Name", encoding="latin-1")
        return cls(display_type, dn, provider_uid, id_type, r1, r2, r3, r4)

    def write(self, w: Writer) -> None:
        w.u8(self.id_type).u8(self.r1).u8(self.r2).u8(self.r3).guid(self.provider_uid)
        w.u32(self.r4).u32(self.display_type).asciiz(self.distinguished_name, "latin-1")

    def encode(self) -> bytes:
        w = Writer()
        self.write(w)
        return w.getvalue()

    def __json__(self) -> dict[str, Any]:
        return {
            "Form": "PermanentEntryID",
            "IDType": self.id_type,
            "R1": self.r1,
            "R2": self.r2,
            "R3": self.r3,
            "ProviderUID": self.provider_uid,
            "ProviderUIDIsGuidNspi": self.provider_uid == GUID_NSPI,
            "R4": self.r4,
            "DisplayType": _display_type_json(self.display_type),
            "DistinguishedName": self.distinguished_name,
        }


EntryId = EphemeralEntryId | PermanentEntryId


def parse_entry_id(data: bytes) -> EntryId:
    """Decode an address book EntryID (a PidTagEntryId value), choosing the form by its ID Type byte.

    0x87 is an EphemeralEntryID (MS-OXNSPI 2.2.9.2), 0x00 a PermanentEntryID (2.2.9.3). Anything else
    is not an NSPI EntryID.
    """
    r = Reader(data)
    id_type = r.peek_u8("ID Type")
    entry: EntryId
    if id_type == EPHEMERAL_ID_TYPE:
        entry = EphemeralEntryId.read(r)
        r.expect_end("end of the 32-byte EphemeralEntryID")
    elif id_type == PERMANENT_ID_TYPE:
        entry = PermanentEntryId.read(r)
        r.expect_end("end of the PermanentEntryID after its DN")
    else:
        raise DecodeError(
            f"ID Type 0x{id_type:02X} is neither an ephemeral nor a permanent NSPI EntryID",
            offset=0,
            field="ID Type",
            expected="0x87 (EphemeralEntryID) or 0x00 (PermanentEntryID)",
        )
    return entry


def encode_entry_id(entry: EntryId) -> bytes:
    if not isinstance(entry, EphemeralEntryId | PermanentEntryId):
        raise EncodeError(f"not an NSPI EntryID: {entry!r}")
    return entry.encode()


__all__ = [
    "AMBIGUOUS_RECIPIENT",
    "CP_TELETEX",
    "CP_WINUNICODE",
    "EPHEMERAL_ENTRY_ID_SIZE",
    "EPHEMERAL_ID_TYPE",
    "ERRORS_RETURNED",
    "F_ANONYMOUS_LOGIN",
    "F_EPH_ID",
    "F_SKIP_OBJECTS",
    "GUID_NSPI",
    "MID_AMBIGUOUS",
    "MID_BEGINNING_OF_TABLE",
    "MID_CURRENT",
    "MID_END_OF_TABLE",
    "MID_FIRST_OBJECT",
    "MID_RESOLVED",
    "MID_UNRESOLVED",
    "NSPI_ADDRESS_CREATION_TEMPLATES",
    "NSPI_DEFAULT_LOCALE",
    "NSPI_UNICODE_PROPTYPES",
    "NSPI_UNICODE_STRINGS",
    "PERMANENT_ID_TYPE",
    "SORT_TYPE_DISPLAY_NAME",
    "SORT_TYPE_DISPLAY_NAME_RO",
    "SORT_TYPE_DISPLAY_NAME_W",
    "SORT_TYPE_PHONETIC_DISPLAY_NAME",
    "STAT_SIZE",
    "UNBIND_FAILURE",
    "UNBIND_SUCCESS",
    "DisplayType",
    "EntryId",
    "EphemeralEntryId",
    "PermanentEntryId",
    "Stat",
    "display_type_name",
    "encode_entry_id",
    "parse_entry_id",
]
