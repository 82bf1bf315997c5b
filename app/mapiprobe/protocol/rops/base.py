"""Building blocks shared by every ROP codec: the RopId table, the request/response base classes and
the two registries (RopId → request class, RopId → response class).

MS-OXCROPS 2.2.1 frames every ROP the same way: a request starts ``RopId u8, LogonId u8,
InputHandleIndex u8`` (RopLogon has no InputHandleIndex), a response starts ``RopId u8, <handle index>
u8, ReturnValue u32``. A response whose ReturnValue is not zero is only that header — the *failure
response buffer* that every ROP section of MS-OXCROPS defines — so all of them decode to one class,
:class:`RopFailureResponse`, while success responses decode to the ROP's own class.

Each ROP is a small frozen dataclass whose field names are the spec's (``input_handle_index`` ↔
``InputHandleIndex``). Counts and sizes that the wire carries (``PropertyTagCount``, ``EssdnSize``...)
are derived from the data and not stored, so an object can never disagree with itself; they still
appear in the JSON view, in the spec's position, through the ``prefix`` field metadata.
A field whose value is ``None`` is absent from the wire and from the JSON view.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ..errors import DecodeError, EncodeError
from ..jsonview import spec_name
from ..wire import Reader, Writer


class RopId(enum.IntEnum):
    """Every RopId named in MS-OXCROPS 2.2.2 "The Table of RopIds" (values not listed are reserved).

    Only the ROPs needed to browse folders have codecs here; the other names let an error message say
    which ROP it met. 0x52 was RopGetValidAttachments in older spec revisions; the current table lists
    it as reserved.
    """

    RopRelease = 0x01
    RopOpenFolder = 0x02
    RopOpenMessage = 0x03
    RopGetHierarchyTable = 0x04
    RopGetContentsTable = 0x05
    RopCreateMessage = 0x06
    RopGetPropertiesSpecific = 0x07
    RopGetPropertiesAll = 0x08
    RopGetPropertiesList = 0x09
    RopSetProperties = 0x0A
    RopDeleteProperties = 0x0B
    RopSaveChangesMessage = 0x0C
    RopRemoveAllRecipients = 0x0D
    RopModifyRecipients = 0x0E
    RopReadRecipients = 0x0F
    RopReloadCachedInformation = 0x10
    RopSetMessageReadFlag = 0x11
    RopSetColumns = 0x12
    RopSortTable = 0x13
    RopRestrict = 0x14
    RopQueryRows = 0x15
    RopGetStatus = 0x16
    RopQueryPosition = 0x17
    RopSeekRow = 0x18
    RopSeekRowBookmark = 0x19
    RopSeekRowFractional = 0x1A
    RopCreateBookmark = 0x1B
    RopCreateFolder = 0x1C
    RopDeleteFolder = 0x1D
    RopDeleteMessages = 0x1E
    RopGetMessageStatus = 0x1F
    RopSetMessageStatus = 0x20
    RopGetAttachmentTable = 0x21
    RopOpenAttachment = 0x22
    RopCreateAttachment = 0x23
    RopDeleteAttachment = 0x24
    RopSaveChangesAttachment = 0x25
    RopSetReceiveFolder = 0x26
    RopGetReceiveFolder = 0x27
    RopRegisterNotification = 0x29
    RopNotify = 0x2A
    RopOpenStream = 0x2B
    RopReadStream = 0x2C
    RopWriteStream = 0x2D
    RopSeekStream = 0x2E
    RopSetStreamSize = 0x2F
    RopSetSearchCriteria = 0x30
    RopGetSearchCriteria = 0x31
    RopSubmitMessage = 0x32
    RopMoveCopyMessages = 0x33
    RopAbortSubmit = 0x34
    RopMoveFolder = 0x35
    RopCopyFolder = 0x36
    RopQueryColumnsAll = 0x37
    RopAbort = 0x38
    RopCopyTo = 0x39
    RopCopyToStream = 0x3A
    RopCloneStream = 0x3B
    RopGetPermissionsTable = 0x3E
    RopGetRulesTable = 0x3F
    RopModifyPermissions = 0x40
    RopModifyRules = 0x41
    RopGetOwningServers = 0x42
    RopLongTermIdFromId = 0x43
    RopIdFromLongTermId = 0x44
    RopPublicFolderIsGhosted = 0x45
    RopOpenEmbeddedMessage = 0x46
    RopSetSpooler = 0x47
    RopSpoolerLockMessage = 0x48
    RopGetAddressTypes = 0x49
    RopTransportSend = 0x4A
    RopFastTransferSourceCopyMessages = 0x4B
    RopFastTransferSourceCopyFolder = 0x4C
    RopFastTransferSourceCopyTo = 0x4D
    RopFastTransferSourceGetBuffer = 0x4E
    RopFindRow = 0x4F
    RopProgress = 0x50
    RopTransportNewMail = 0x51
    RopFastTransferDestinationConfigure = 0x53
    RopFastTransferDestinationPutBuffer = 0x54
    RopGetNamesFromPropertyIds = 0x55
    RopGetPropertyIdsFromNames = 0x56
    RopUpdateDeferredActionMessages = 0x57
    RopEmptyFolder = 0x58
    RopExpandRow = 0x59
    RopCollapseRow = 0x5A
    RopLockRegionStream = 0x5B
    RopUnlockRegionStream = 0x5C
    RopCommitStream = 0x5D
    RopGetStreamSize = 0x5E
    RopQueryNamedProperties = 0x5F
    RopGetPerUserLongTermIds = 0x60
    RopGetPerUserGuid = 0x61
    RopReadPerUserInformation = 0x63
    RopWritePerUserInformation = 0x64
    RopSetReadFlags = 0x66
    RopCopyProperties = 0x67
    RopGetReceiveFolderTable = 0x68
    RopFastTransferSourceCopyProperties = 0x69
    RopGetCollapseState = 0x6B
    RopSetCollapseState = 0x6C
    RopGetTransportFolder = 0x6D
    RopPending = 0x6E
    RopOptionsData = 0x6F
    RopSynchronizationConfigure = 0x70
    RopSynchronizationImportMessageChange = 0x72
    RopSynchronizationImportHierarchyChange = 0x73
    RopSynchronizationImportDeletes = 0x74
    RopSynchronizationUploadStateStreamBegin = 0x75
    RopSynchronizationUploadStateStreamContinue = 0x76
    RopSynchronizationUploadStateStreamEnd = 0x77
    RopSynchronizationImportMessageMove = 0x78
    RopSetPropertiesNoReplicate = 0x79
    RopDeletePropertiesNoReplicate = 0x7A
    RopGetStoreState = 0x7B
    RopSynchronizationOpenCollector = 0x7E
    RopGetLocalReplicaIds = 0x7F
    RopSynchronizationImportReadStateChanges = 0x80
    RopResetTable = 0x81
    RopSynchronizationGetTransferState = 0x82
    RopTellVersion = 0x86
    RopFreeBookmark = 0x89
    RopWriteAndCommitStream = 0x90
    RopHardDeleteMessages = 0x91
    RopHardDeleteMessagesAndSubfolders = 0x92
    RopSetLocalReplicaMidsetDeleted = 0x93
    RopFastTransferDestinationPutBufferExtended = 0x9D
    RopWriteStreamExtended = 0xA3
    RopBackoff = 0xF9
    RopLogon = 0xFE
    RopBufferTooSmall = 0xFF


def describe_rop_id(value: int) -> str:
    """``RopQueryRows (0x15)``, or ``reserved RopId 0x28`` for a value the spec does not name."""
    try:
        return f"{RopId(value).name} (0x{value:02X})"
    except ValueError:
        return f"reserved RopId 0x{value:02X}"


def rop_id_json(value: int) -> str:
    """The JSON form of a RopId: the spec's ROP name, or ``0xNN`` for a reserved value."""
    try:
        return RopId(value).name
    except ValueError:
        return f"0x{value:02X}"


# -- field metadata ------------------------------------------------------------------------------------


def prefixed(key: str, measure: Callable[[Any], int] = len) -> dict[str, Any]:
    """Metadata for a field preceded on the wire by a count or size the codec derives (``key``)."""
    return {"prefix": (key, measure)}


def asciiz_size(value: str) -> int:
    """Size of an 8-bit NUL-terminated string on the wire, terminator included."""
    return len(value.encode("latin-1", "replace")) + 1


HIDDEN: Mapping[str, Any] = {"json": False}
"""Metadata for a field that only the codec needs (e.g. the columns that shape the rows)."""


def _self_rendered(value: Any) -> Any:
    """Apply ``__json__`` of int subclasses (PropertyTag, FolderId) that ``to_jsonable`` would print as
    plain integers, also inside tuples and lists."""
    if isinstance(value, int) and callable(getattr(value, "__json__", None)):
        return value.__json__()  # type: ignore[attr-defined]
    if isinstance(value, tuple | list):
        return [_self_rendered(v) for v in value]
    return value


def spec_view(obj: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The dataclass fields of ``obj`` keyed by spec name, with the derived counts in place."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.name in skip or f.metadata.get("json") is False:
            continue
        value = getattr(obj, f.name)
        if value is None:
            continue
        prefix = f.metadata.get("prefix")
        if prefix is not None:
            key, measure = prefix
            out[key] = measure(value)
        out[f.metadata.get("spec") or spec_name(f.name)] = _self_rendered(value)
    return out


# -- base classes --------------------------------------------------------------------------------------


class Rop:
    """Common behaviour of ROP requests and responses: ``encode``/``to_bytes`` and the JSON view."""

    ROP_ID: ClassVar[int]

    @property
    def rop_id(self) -> int:
        return self.ROP_ID

    def encode(self, w: Writer) -> None:
        w.u8(self.rop_id)
        self._encode_body(w)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    def _encode_body(self, w: Writer) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __json__(self) -> dict[str, Any]:
        return {"RopId": rop_id_json(self.rop_id), **spec_view(self)}


class RopRequest(Rop):
    """A ROP request buffer (client → server). Subclasses implement ``_decode_body``."""

    @classmethod
    def decode_body(cls, r: Reader) -> RopRequest:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class ResponseContext:
    """What a response decoder may need beyond its own bytes (MS-OXCROPS 2.2.1: responses do not
    describe themselves fully).

    ``request`` is the request this response answers, when the caller knows it; ``columns`` are the
    property tags that shape its rows (RopQueryRows: the table's RopSetColumns; RopGetPropertiesSpecific:
    the request's PropertyTags).
    """

    request: RopRequest | None = None
    columns: tuple[int, ...] | None = None


class RopResponse(Rop):
    """A ROP response buffer (server → client)."""

    @classmethod
    def decode_body(
        cls, r: Reader, ctx: ResponseContext
    ) -> RopResponse:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


class StandardResponse(RopResponse):
    """A response that starts ``RopId, <handle index>, ReturnValue`` (MS-OXCROPS 2.2.1 pattern).

    Subclasses are the *success* response buffers: their first dataclass field is the handle index
    (``HANDLE_FIELD``), ``ReturnValue`` is 0 and not stored. A non-zero ReturnValue decodes to
    :class:`RopFailureResponse`, unless ``decode_special`` claims it (RopLogon's redirect).
    """

    HANDLE_FIELD: ClassVar[str] = "input_handle_index"

    @property
    def return_value(self) -> int:
        return 0

    @property
    def handle_index(self) -> int:
        value: int = getattr(self, self.HANDLE_FIELD)
        return value

    @classmethod
    def decode_body(cls, r: Reader, ctx: ResponseContext) -> RopResponse:
        handle = r.u8(spec_name(cls.HANDLE_FIELD))
        return_value = r.u32("ReturnValue")
        if return_value != 0:
            special = cls.decode_special(r, ctx, handle, return_value)
            if special is not None:
                return special
            return RopFailureResponse(cls.ROP_ID, handle, return_value)
        return cls.decode_success(r, ctx, handle)

    @classmethod
    def decode_special(
        cls, r: Reader, ctx: ResponseContext, handle: int, return_value: int
    ) -> RopResponse | None:
        """Hook for a non-zero ReturnValue that has its own layout; ``None`` means the failure form."""
        return None

    @classmethod
    def decode_success(
        cls, r: Reader, ctx: ResponseContext, handle: int
    ) -> RopResponse:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.handle_index)
        w.u32(0)
        self._encode_success(w)

    def _encode_success(self, w: Writer) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __json__(self) -> dict[str, Any]:
        view = spec_view(self)
        handle_key = spec_name(self.HANDLE_FIELD)
        out: dict[str, Any] = {"RopId": rop_id_json(self.rop_id), handle_key: view.pop(handle_key)}
        out["ReturnValue"] = self.return_value
        out.update(view)
        return out


# Object-creating ROPs answer with OutputHandleIndex; the rest with InputHandleIndex (MS-OXCROPS 2.2.1).
_OUTPUT_HANDLE_ROPS: set[int] = set()
HANDLE_FIELD_NAMES: dict[int, str] = {}
"""RopId → the spec's name of the response's handle field where it is neither Input- nor OutputHandleIndex
(SourceHandleIndex of the copy/move ROPs, ResponseHandleIndex of RopSaveChangesMessage...)."""


@dataclass(frozen=True)
class RopFailureResponse(RopResponse):
    """The failure response buffer of any ROP: RopId, handle index, ReturnValue ≠ 0 and nothing else
    (e.g. MS-OXCROPS 2.2.5.4.3 for RopQueryRows, 2.2.3.1.5 for RopLogon)."""

    failed_rop_id: int
    handle_index: int
    return_value: int

    @property
    def rop_id(self) -> int:
        return self.failed_rop_id

    @property
    def handle_field(self) -> str:
        """``OutputHandleIndex`` for object-creating ROPs, ``InputHandleIndex`` for the rest."""
        named = HANDLE_FIELD_NAMES.get(self.failed_rop_id)
        if named is not None:
            return named
        return "OutputHandleIndex" if self.failed_rop_id in _OUTPUT_HANDLE_ROPS else "InputHandleIndex"

    def _encode_body(self, w: Writer) -> None:
        if self.return_value == 0:
            raise EncodeError("a failure response needs a non-zero ReturnValue", field="ReturnValue")
        w.u8(self.handle_index)
        w.u32(self.return_value)

    def __json__(self) -> dict[str, Any]:
        return {
            "RopId": rop_id_json(self.failed_rop_id),
            self.handle_field: self.handle_index,
            "ReturnValue": self.return_value,
        }


# -- registries ----------------------------------------------------------------------------------------

REQUESTS: dict[int, type[RopRequest]] = {}
"""RopId → request class (the ROPs this package can decode in a ROP input buffer)."""
RESPONSES: dict[int, type[RopResponse]] = {}
"""RopId → response class (the ROPs this package can decode in a ROP output buffer)."""

_Req = TypeVar("_Req", bound=type[RopRequest])
_Resp = TypeVar("_Resp", bound=type[RopResponse])


def request_codec(cls: _Req) -> _Req:
    """Class decorator: register a request class under its ``ROP_ID``."""
    REQUESTS[cls.ROP_ID] = cls
    return cls


def response_codec(cls: _Resp) -> _Resp:
    """Class decorator: register a response class under its ``ROP_ID``."""
    RESPONSES[cls.ROP_ID] = cls
    if issubclass(cls, StandardResponse) and cls.HANDLE_FIELD == "output_handle_index":
        _OUTPUT_HANDLE_ROPS.add(cls.ROP_ID)
    return cls


# -- small wire helpers shared by the ROP modules ------------------------------------------------------


def read_sized_asciiz(r: Reader, size: int, field_name: str) -> str:
    """``size`` bytes holding an 8-bit string and its one NUL terminator (e.g. RopLogon Essdn).

    The spec calls these ASCII; they are decoded as Latin-1 so that any byte survives a round trip.
    """
    start = r.offset
    raw = r.take(size, field_name)
    if not raw or raw[-1] != 0 or b"\x00" in raw[:-1]:
        raise DecodeError(
            f"a {size}-byte string field does not end with its only NUL terminator",
            offset=start,
            field=field_name,
            expected=f"{size - 1} non-NUL byte(s) followed by one NUL",
        )
    return raw[:-1].decode("latin-1")


def write_sized_asciiz(w: Writer, value: str, size_width: int, field_name: str) -> None:
    """Write ``<size><string><NUL>`` with a ``size_width``-byte size that counts the terminator."""
    try:
        raw = value.encode("latin-1") + b"\x00"
    except UnicodeEncodeError as exc:
        raise EncodeError(f"{field_name} {value!r} is not an 8-bit string: {exc}", field=field_name) from None
    if b"\x00" in raw[:-1]:
        raise EncodeError(f"{field_name} {value!r} contains a NUL character", field=field_name)
    w.count(len(raw), size_width)
    w.raw(raw)


__all__ = [
    "HANDLE_FIELD_NAMES",
    "HIDDEN",
    "REQUESTS",
    "RESPONSES",
    "ResponseContext",
    "Rop",
    "RopFailureResponse",
    "RopId",
    "RopRequest",
    "RopResponse",
    "StandardResponse",
    "asciiz_size",
    "describe_rop_id",
    "prefixed",
    "read_sized_asciiz",
    "request_codec",
    "response_codec",
    "rop_id_json",
    "spec_view",
    "write_sized_asciiz",
]
