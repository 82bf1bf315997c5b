"""Every ROP of MS-OXCROPS 2.2 that has no hand-written class, described as data.

Each entry gives the request fields after RopId and the success response fields after ``RopId, <handle>,
ReturnValue``; :mod:`.generic` turns each into a registered request and response class. The field names are
the spec's. Section numbers are those of the MS-OXCROPS revision that lists RopWriteStreamExtended as 2.2.9.4
and RopFastTransferDestinationPutBufferExtended as 2.2.12.3 (older revisions number the later sections of
2.2.9 and 2.2.12 one lower). Cross-checked against gromox's ROP parser (exch/emsmdb/rop_ext.cpp) [I].

Responses whose buffer carries fields even when ReturnValue is not zero declare them in ``errors``:

* the delete/empty ROPs, RopFastTransferDestinationPutBuffer(Extended) and RopFastTransferSourceGetBuffer
  have one response buffer whatever the result;
* the copy/move ROPs answer ReturnValue 0x00000503 (ecDstNullObject) with DestHandleIndex;
* RopGetPropertyIdsFromNames keeps its IDs with the warning 0x00040380 (hand-written, :mod:`.property`).

RopGetMessageStatus (0x1F) is answered by a response whose RopId is 0x20, the RopSetMessageStatus layout
(MS-OXCROPS 2.2.6.9.2); :mod:`.codec` pairs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import RopId
from .generic import RopSpec, build
from .layout import (
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Array,
    Blob,
    Count,
    CountedArray,
    Fid,
    Fids,
    FixedRows,
    GuidF,
    Ids,
    If,
    IfLogon,
    Ints,
    Layout,
    Mid,
    PropNames,
    Raw,
    RecipientProperties,
    RestrictionData,
    Row,
    Rows,
    Sized,
    SortOrders,
    Str,
    Strings,
    Struct,
    Tag,
    TaggedValues,
    Tags,
    TypedString,
    Until,
    UseColumns,
)

EC_DST_NULL_OBJECT = 0x00000503
EC_SERVER_BUSY = 0x00000480

R = RopId

# -- shared pieces -----------------------------------------------------------------------------------------

IN: Layout = (U8("LogonId"), U8("InputHandleIndex"))
OUT: Layout = (*IN, U8("OutputHandleIndex"))
SRC_DEST: Layout = (U8("LogonId"), U8("SourceHandleIndex"), U8("DestHandleIndex"))
RESP_IN: Layout = (U8("LogonId"), U8("ResponseHandleIndex"), U8("InputHandleIndex"))

LONG_TERM_ID: Layout = (GuidF("DatabaseGuid"), Raw("GlobalCounter", 6), U16("Pad", default=0))
"""LongTermID (MS-OXCDATA 2.2.1.3.1): 24 bytes."""


def _lt(name: str) -> Struct:
    """A single LongTermID kept as one nested dict under ``name``."""
    return Struct(name, LONG_TERM_ID)


def _flag(name: str, mask: int = 0xFF) -> Any:
    return lambda v: bool(v.get(name, 0) & mask)


GHOST: Layout = (
    U8("IsGhosted"),
    If(
        _flag("IsGhosted"),
        Count("ServerCount", "u16", of="Servers"),
        U16("CheapServerCount"),
        Strings("Servers", "ServerCount"),
        why="IsGhosted non-zero",
    ),
)
"""The ghosted-folder tail of RopOpenFolder/RopCreateFolder/RopPublicFolderIsGhosted responses."""

PROBLEMS: Layout = CountedArray(
    "PropertyProblemCount",
    "u16",
    "PropertyProblems",
    (U16("Index"), Tag("PropertyTag"), U32("ErrorCode")),
    10,
)
"""PropertyProblem array (MS-OXCDATA 2.7)."""

PARTIAL: Layout = (U8("PartialCompletion"),)


def _rtype(v: Mapping[str, Any]) -> int:
    return int(v.get("RecipientFlags", 0)) & 0x0007


def _unicode_row(v: Mapping[str, Any]) -> bool:
    return bool(int(v.get("RecipientFlags", 0)) & 0x0200)


RECIPIENT_ROW: Layout = (
    U16("RecipientFlags"),
    If(
        lambda v: _rtype(v) == 0x1,
        U8("AddressPrefixUsed"),
        U8("DisplayType"),
        Str("X500DN"),
        why="Type X500DN",
    ),
    If(
        lambda v: _rtype(v) in (0x6, 0x7),
        *Blob("EntryIdSize", "EntryId"),
        *Blob("SearchKeySize", "SearchKey"),
        why="Type PersonalDistributionList1/2",
    ),
    If(lambda v: _rtype(v) == 0 and bool(int(v.get("RecipientFlags", 0)) & 0x8000), Str("AddressType")),
    If(_flag("RecipientFlags", 0x0008), Str("EmailAddress", _unicode_row)),
    If(_flag("RecipientFlags", 0x0010), Str("DisplayName", _unicode_row)),
    If(_flag("RecipientFlags", 0x0400), Str("SimpleDisplayName", _unicode_row)),
    If(_flag("RecipientFlags", 0x0020), Str("TransmittableDisplayName", _unicode_row)),
    U16("RecipientColumnCount"),
    RecipientProperties("RecipientProperties", "RecipientColumnCount"),
)
"""RecipientRow (MS-OXCDATA 2.8.3.1); RecipientFlags bits as gromox reads them [I]."""

OPEN_RECIPIENT_ROW: Layout = (
    U8("RecipientType"),
    U16("CodePageId"),
    U16("Reserved", default=0),
    Sized("RecipientRowSize", "u16", *RECIPIENT_ROW),
)
"""OpenRecipientRow (MS-OXCROPS 2.2.6.1.2.1)."""

MESSAGE_HEADER: Layout = (
    U8("HasNamedProperties"),
    TypedString("SubjectPrefix"),
    TypedString("NormalizedSubject"),
    U16("RecipientCount"),
    *Tags("ColumnCount", "RecipientColumns"),
    UseColumns("RecipientColumns"),
    Count("RowCount", "u8", of="RecipientRows"),
    Array("RecipientRows", "RowCount", OPEN_RECIPIENT_ROW, 8),
)
"""What RopOpenMessage, RopReloadCachedInformation and RopOpenEmbeddedMessage answer about a message."""

FT_STATUS: Layout = (U16("TransferStatus"), U16("InProgressCount"), U16("TotalStepCount"), U8("Reserved", 0))


def _not_busy(v: Mapping[str, Any]) -> bool:
    return bool(v.get("ReturnValue", 0) != EC_SERVER_BUSY)


GET_BUFFER: Layout = (
    If(_not_busy, *FT_STATUS, *Blob("TransferBufferSize", "TransferBuffer")),
    If(lambda v: not _not_busy(v), U32("BackoffTime"), why="ReturnValue 0x00000480 (ecServerBusy)"),
)
"""RopFastTransferSourceGetBuffer response (MS-OXCROPS 2.2.12.4.2): the status fields and the buffer, or
BackoffTime alone when the server is busy."""


def _notify_type(v: Mapping[str, Any]) -> int:
    return int(v.get("NotificationFlags", 0))


def _table_event(*events: int) -> Any:
    return lambda v: _notify_type(v) & 0x0100 and v.get("TableEventType") in events


def _by_message(v: Mapping[str, Any]) -> bool:
    return bool(_notify_type(v) & 0x8000)


_ADDED_MOD = (0x0003, 0x0005)
_ADDED_MOD_DEL = (0x0003, 0x0004, 0x0005)
_MOVED_COPIED = 0x0020 | 0x0040

NOTIFICATION_DATA: Layout = (
    U16("NotificationFlags"),
    If(lambda v: bool(_notify_type(v) & 0x0100), U16("TableEventType")),
    If(_table_event(*_ADDED_MOD_DEL), Fid("TableRowFolderID")),
    If(
        lambda v: _table_event(*_ADDED_MOD_DEL)(v) and _by_message(v),
        Mid("TableRowMessageID"),
        U32("TableRowInstance"),
    ),
    If(_table_event(*_ADDED_MOD), Fid("InsertAfterTableRowFolderID")),
    If(
        lambda v: _table_event(*_ADDED_MOD)(v) and _by_message(v),
        Mid("InsertAfterTableRowID"),
        U32("InsertAfterTableRowInstance"),
    ),
    If(_table_event(*_ADDED_MOD), *Blob("TableRowDataSize", "TableRowData")),
    If(lambda v: not _notify_type(v) & (0x0100 | 0x0400), Fid("FolderId")),
    If(lambda v: _notify_type(v) & (0x0100 | 0x0400 | 0x8000) == 0x8000, Mid("MessageId")),
    If(
        lambda v: (
            bool(_notify_type(v) & (0x0004 | 0x0008 | _MOVED_COPIED))
            and bool(_notify_type(v) & 0x4000) == _by_message(v)
        ),
        Fid("ParentFolderId"),
    ),
    If(lambda v: bool(_notify_type(v) & _MOVED_COPIED), Fid("OldFolderId")),
    If(lambda v: bool(_notify_type(v) & _MOVED_COPIED) and _by_message(v), Mid("OldMessageId")),
    If(lambda v: bool(_notify_type(v) & _MOVED_COPIED) and not _by_message(v), Fid("OldParentFolderId")),
    If(lambda v: bool(_notify_type(v) & (0x0004 | 0x0010)), U16("TagCount")),
    If(
        lambda v: bool(_notify_type(v) & (0x0004 | 0x0010)) and v.get("TagCount") != 0xFFFF,
        *(Tags("TagCount", "Tags")[1:]),
        why="TagCount not 0xFFFF",
    ),
    If(_flag("NotificationFlags", 0x1000), U32("TotalMessageCount")),
    If(_flag("NotificationFlags", 0x2000), U32("UnreadMessageCount")),
    If(
        _flag("NotificationFlags", 0x0002),
        U32("MessageFlags"),
        U8("UnicodeFlag"),
        Str("MessageClass", "UnicodeFlag"),
        why="NewMail",
    ),
)
"""NotificationData (MS-OXCNOTIF 2.2.1.4.1.2); field conditions as gromox writes them [I]."""


# -- the table ----------------------------------------------------------------------------------------------


def S(  # noqa: PLR0917 - one positional argument per column of the table below
    rop: RopId,
    section: str,
    request: Layout | None,
    response: Layout | None,
    handle: str = "InputHandleIndex",
    errors: Mapping[int | None, Layout] | None = None,
    header: bool = True,
) -> RopSpec:
    return RopSpec(int(rop), rop.name, section, request, response, handle, dict(errors or {}), header)


NONE: Layout = ()
OUT_H = "OutputHandleIndex"
SRC = "SourceHandleIndex"
RESP = "ResponseHandleIndex"

SPECS: tuple[RopSpec, ...] = (
    # 2.2.3 Logon ROPs (RopLogon: rops.logon)
    S(
        R.RopGetReceiveFolder,
        "2.2.3.2",
        (*IN, Str("MessageClass")),
        (Fid("FolderId"), Str("ExplicitMessageClass")),
    ),
    S(R.RopSetReceiveFolder, "2.2.3.3", (*IN, Fid("FolderId"), Str("MessageClass")), NONE),
    S(
        R.RopGetReceiveFolderTable,
        "2.2.3.4",
        IN,
        (
            Count("RowCount", "u32", of="Rows"),
            FixedRows("Rows", "RowCount", (0x67480014, 0x001A001E, 0x30080040)),
        ),
    ),
    S(R.RopGetStoreState, "2.2.3.5", IN, (U32("StoreState"),)),
    S(
        R.RopGetOwningServers,
        "2.2.3.6",
        (*IN, Fid("FolderId")),
        (
            Count("OwningServersCount", "u16", of="OwningServers"),
            U16("CheapServersCount"),
            Strings("OwningServers", "OwningServersCount"),
        ),
    ),
    S(R.RopPublicFolderIsGhosted, "2.2.3.7", (*IN, Fid("FolderId")), GHOST),
    S(R.RopLongTermIdFromId, "2.2.3.8", (*IN, U64("ObjectId")), (_lt("LongTermId"),)),
    S(R.RopIdFromLongTermId, "2.2.3.9", (*IN, _lt("LongTermId")), (U64("ObjectId"),)),
    S(
        R.RopGetPerUserLongTermIds,
        "2.2.3.10",
        (*IN, GuidF("DatabaseGuid")),
        CountedArray("LongTermIdCount", "u16", "LongTermIds", LONG_TERM_ID, 24),
    ),
    S(R.RopGetPerUserGuid, "2.2.3.11", (*IN, _lt("LongTermId")), (GuidF("DatabaseGuid"),)),
    S(
        R.RopReadPerUserInformation,
        "2.2.3.12",
        (*IN, _lt("FolderId"), U8("Reserved", 0), U32("DataOffset"), U16("MaxDataSize")),
        (U8("HasFinished"), *Blob("DataSize", "Data")),
    ),
    S(
        R.RopWritePerUserInformation,
        "2.2.3.13",
        (
            *IN,
            _lt("FolderId"),
            U8("HasFinished"),
            U32("DataOffset"),
            *Blob("DataSize", "Data"),
            If(
                lambda v: v.get("DataOffset") == 0,
                IfLogon(False, GuidF("ReplGuid")),
                why="DataOffset 0, private",
            ),
        ),
        NONE,
    ),
    # 2.2.4 Folder ROPs (OpenFolder, GetHierarchyTable, GetContentsTable: rops.folder)
    S(
        R.RopCreateFolder,
        "2.2.4.2",
        (
            *OUT,
            U8("FolderType"),
            U8("UseUnicodeStrings"),
            U8("OpenExisting"),
            U8("Reserved", 0),
            Str("DisplayName", "UseUnicodeStrings"),
            Str("Comment", "UseUnicodeStrings"),
        ),
        (Fid("FolderId"), U8("IsExistingFolder"), If(_flag("IsExistingFolder"), U8("HasRules"), *GHOST)),
        handle=OUT_H,
    ),
    S(
        R.RopDeleteFolder,
        "2.2.4.3",
        (*IN, U8("DeleteFolderFlags"), Fid("FolderId")),
        PARTIAL,
        errors={None: PARTIAL},
    ),
    S(
        R.RopSetSearchCriteria,
        "2.2.4.4",
        (*IN, RestrictionData(), *Fids("FolderIdCount", "FolderIds"), U32("SearchFlags")),
        NONE,
    ),
    S(
        R.RopGetSearchCriteria,
        "2.2.4.5",
        (*IN, U8("UseUnicode"), U8("IncludeRestriction"), U8("IncludeFolders")),
        (RestrictionData(), U8("LogonId"), *Fids("FolderIdCount", "FolderIds"), U32("SearchFlags")),
    ),
    S(
        R.RopMoveCopyMessages,
        "2.2.4.6",
        (*SRC_DEST, *Ids("MessageIdCount", "MessageIds"), U8("WantAsynchronous"), U8("WantCopy")),
        PARTIAL,
        handle=SRC,
        errors={EC_DST_NULL_OBJECT: (U32("DestHandleIndex"), *PARTIAL), None: PARTIAL},
    ),
    S(
        R.RopMoveFolder,
        "2.2.4.7",
        (
            *SRC_DEST,
            U8("WantAsynchronous"),
            U8("UseUnicode"),
            Fid("FolderId"),
            Str("NewFolderName", "UseUnicode"),
        ),
        PARTIAL,
        handle=SRC,
        errors={EC_DST_NULL_OBJECT: (U32("DestHandleIndex"), *PARTIAL), None: PARTIAL},
    ),
    S(
        R.RopCopyFolder,
        "2.2.4.8",
        (
            *SRC_DEST,
            U8("WantAsynchronous"),
            U8("WantRecursive"),
            U8("UseUnicode"),
            Fid("FolderId"),
            Str("NewFolderName", "UseUnicode"),
        ),
        PARTIAL,
        handle=SRC,
        errors={EC_DST_NULL_OBJECT: (U32("DestHandleIndex"), *PARTIAL), None: PARTIAL},
    ),
    S(
        R.RopEmptyFolder,
        "2.2.4.9",
        (*IN, U8("WantAsynchronous"), U8("WantDeleteAssociated")),
        PARTIAL,
        errors={None: PARTIAL},
    ),
    S(
        R.RopHardDeleteMessagesAndSubfolders,
        "2.2.4.10",
        (*IN, U8("WantAsynchronous"), U8("WantDeleteAssociated")),
        PARTIAL,
        errors={None: PARTIAL},
    ),
    S(
        R.RopDeleteMessages,
        "2.2.4.11",
        (*IN, U8("WantAsynchronous"), U8("NotifyNonRead"), *Ids("MessageIdCount", "MessageIds")),
        PARTIAL,
        errors={None: PARTIAL},
    ),
    S(
        R.RopHardDeleteMessages,
        "2.2.4.12",
        (*IN, U8("WantAsynchronous"), U8("NotifyNonRead"), *Ids("MessageIdCount", "MessageIds")),
        PARTIAL,
        errors={None: PARTIAL},
    ),
    # 2.2.5 Table ROPs (SetColumns, QueryRows: rops.table)
    S(
        R.RopSortTable,
        "2.2.5.2",
        (*IN, U8("SortTableFlags"), SortOrders("SortOrderSet")),
        (U8("TableStatus"),),
    ),
    S(R.RopRestrict, "2.2.5.3", (*IN, U8("RestrictFlags"), RestrictionData()), (U8("TableStatus"),)),
    S(R.RopAbort, "2.2.5.5", IN, (U8("TableStatus"),)),
    S(R.RopGetStatus, "2.2.5.6", IN, (U8("TableStatus"),)),
    S(R.RopQueryPosition, "2.2.5.7", IN, (U32("Numerator"), U32("Denominator"))),
    S(
        R.RopSeekRow,
        "2.2.5.8",
        (*IN, U8("Origin"), I32("RowCount"), U8("WantRowMovedCount")),
        (U8("HasSoughtLess"), I32("RowsSought")),
    ),
    S(
        R.RopSeekRowBookmark,
        "2.2.5.9",
        (*IN, *Blob("BookmarkSize", "Bookmark"), I32("RowCount"), U8("WantRowMovedCount")),
        (U8("RowNoLongerVisible"), U8("HasSoughtLess"), U32("RowsSought")),
    ),
    S(R.RopSeekRowFractional, "2.2.5.10", (*IN, U32("Numerator"), U32("Denominator")), NONE),
    S(R.RopCreateBookmark, "2.2.5.11", IN, Blob("BookmarkSize", "Bookmark")),
    S(R.RopQueryColumnsAll, "2.2.5.12", IN, Tags("PropertyTagCount", "PropertyTags")),
    S(
        R.RopFindRow,
        "2.2.5.13",
        (*IN, U8("FindRowFlags"), RestrictionData(), U8("Origin"), *Blob("BookmarkSize", "Bookmark")),
        (U8("RowNoLongerVisible"), U8("HasRowData"), If(_flag("HasRowData"), Row("RowData"))),
    ),
    S(R.RopFreeBookmark, "2.2.5.14", (*IN, *Blob("BookmarkSize", "Bookmark")), NONE),
    S(R.RopResetTable, "2.2.5.15", IN, NONE),
    S(
        R.RopExpandRow,
        "2.2.5.16",
        (*IN, U16("MaxRowCount"), U64("CategoryId")),
        (U32("ExpandedRowCount"), Count("RowCount", "u16", of="RowData"), Rows("RowData", "RowCount")),
    ),
    S(R.RopCollapseRow, "2.2.5.17", (*IN, U64("CategoryId")), (U32("CollapsedRowCount"),)),
    S(
        R.RopGetCollapseState,
        "2.2.5.18",
        (*IN, U64("RowId"), U32("RowInstanceNumber")),
        Blob("CollapseStateSize", "CollapseState"),
    ),
    S(
        R.RopSetCollapseState,
        "2.2.5.19",
        (*IN, *Blob("CollapseStateSize", "CollapseState")),
        Blob("BookmarkSize", "Bookmark"),
    ),
    # 2.2.6 Message ROPs
    S(
        R.RopOpenMessage,
        "2.2.6.1",
        (*OUT, U16("CodePageId"), Fid("FolderId"), U8("OpenModeFlags"), Mid("MessageId")),
        MESSAGE_HEADER,
        handle=OUT_H,
    ),
    S(
        R.RopCreateMessage,
        "2.2.6.2",
        (*OUT, U16("CodePageId"), Fid("FolderId"), U8("AssociatedFlag")),
        (U8("HasMessageId"), If(_flag("HasMessageId"), Mid("MessageId"))),
        handle=OUT_H,
    ),
    S(
        R.RopSaveChangesMessage,
        "2.2.6.3",
        (*RESP_IN, U8("SaveFlags")),
        (U8("InputHandleIndex"), Mid("MessageId")),
        handle=RESP,
    ),
    S(R.RopRemoveAllRecipients, "2.2.6.4", (*IN, U32("Reserved", 0)), NONE),
    S(
        R.RopModifyRecipients,
        "2.2.6.5",
        (
            *IN,
            *Tags("ColumnCount", "RecipientColumns"),
            UseColumns("RecipientColumns"),
            *CountedArray(
                "RowCount",
                "u16",
                "RecipientRows",
                (
                    U32("RowId"),
                    U8("RecipientType"),
                    Sized("RecipientRowSize", "u16", *RECIPIENT_ROW, optional=True),
                ),
                7,
            ),
        ),
        NONE,
    ),
    S(
        R.RopReadRecipients,
        "2.2.6.6",
        (*IN, U32("RowId"), U16("Reserved", 0)),
        CountedArray(
            "RowCount",
            "u8",
            "RecipientRows",
            (
                U32("RowId"),
                U8("RecipientType"),
                U16("CodePageId"),
                U16("Reserved", 0),
                Sized("RecipientRowSize", "u16", *RECIPIENT_ROW),
            ),
            11,
        ),
    ),
    S(R.RopReloadCachedInformation, "2.2.6.7", (*IN, U16("Reserved", 0)), MESSAGE_HEADER),
    S(
        R.RopSetMessageStatus,
        "2.2.6.8",
        (*IN, Mid("MessageId"), U32("MessageStatusFlags"), U32("MessageStatusMask")),
        (U32("MessageStatusFlags"),),
    ),
    S(R.RopGetMessageStatus, "2.2.6.9", (*IN, Mid("MessageId")), None),
    S(
        R.RopSetReadFlags,
        "2.2.6.10",
        (*IN, U8("WantAsynchronous"), U8("ReadFlags"), *Ids("MessageIdCount", "MessageIds")),
        PARTIAL,
        errors={None: PARTIAL},
    ),
    S(
        R.RopSetMessageReadFlag,
        "2.2.6.11",
        (*RESP_IN, U8("ReadFlags"), IfLogon(True, Raw("ClientData", 24))),
        (U8("ReadStatusChanged"), If(_flag("ReadStatusChanged"), U8("LogonId"), Raw("ClientData", 24))),
        handle=RESP,
    ),
    S(
        R.RopOpenAttachment,
        "2.2.6.12",
        (*OUT, U8("OpenAttachmentFlags"), U32("AttachmentID")),
        NONE,
        handle=OUT_H,
    ),
    S(R.RopCreateAttachment, "2.2.6.13", OUT, (U32("AttachmentID"),), handle=OUT_H),
    S(R.RopDeleteAttachment, "2.2.6.14", (*IN, U32("AttachmentID")), NONE),
    S(R.RopSaveChangesAttachment, "2.2.6.15", (*RESP_IN, U8("SaveFlags")), NONE, handle=RESP),
    S(
        R.RopOpenEmbeddedMessage,
        "2.2.6.16",
        (*OUT, U16("CodePageId"), U8("OpenModeFlags")),
        (U8("Reserved", 0), Mid("MessageId"), *MESSAGE_HEADER),
        handle=OUT_H,
    ),
    S(R.RopGetAttachmentTable, "2.2.6.17", (*OUT, U8("TableFlags")), NONE, handle=OUT_H),
    # 2.2.7 Transport ROPs
    S(R.RopSubmitMessage, "2.2.7.1", (*IN, U8("SubmitFlags")), NONE),
    S(R.RopAbortSubmit, "2.2.7.2", (*IN, Fid("FolderId"), Mid("MessageId")), NONE),
    S(
        R.RopGetAddressTypes,
        "2.2.7.3",
        IN,
        (
            Count("AddressTypeCount", "u16", of="AddressTypes"),
            Sized("AddressTypeSize", "u16", Strings("AddressTypes", "AddressTypeCount")),
        ),
    ),
    S(R.RopSetSpooler, "2.2.7.4", IN, NONE),
    S(R.RopSpoolerLockMessage, "2.2.7.5", (*IN, Mid("MessageId"), U8("LockState")), NONE),
    S(
        R.RopTransportSend,
        "2.2.7.6",
        IN,
        (
            U8("NoPropertiesReturned"),
            If(
                lambda v: not v.get("NoPropertiesReturned"),
                *TaggedValues("PropertyValueCount", "PropertyValues"),
            ),
        ),
    ),
    S(
        R.RopTransportNewMail,
        "2.2.7.7",
        (*IN, Mid("MessageId"), Fid("FolderId"), Str("MessageClass"), U32("MessageFlags")),
        NONE,
    ),
    S(R.RopGetTransportFolder, "2.2.7.8", IN, (Fid("FolderId"),)),
    S(
        R.RopOptionsData,
        "2.2.7.9",
        (*IN, Str("AddressType"), U8("WantWin32")),
        (
            U8("Reserved", 0),
            *Blob("OptionsInfoSize", "OptionsInfo"),
            *Blob("HelpFileSize", "HelpFile"),
            If(lambda v: v.get("HelpFileSize", len(v.get("HelpFile") or b"")) != 0, Str("HelpFileName")),
        ),
    ),
    # 2.2.8 Property ROPs (GetPropertyIdsFromNames, GetPropertiesSpecific: rops.property)
    S(
        R.RopGetNamesFromPropertyIds,
        "2.2.8.2",
        (*IN, *Ints("PropertyIdCount", "PropertyIds", "u16", "u16")),
        (
            Count("PropertyNameCount", "u16", of="PropertyNames"),
            PropNames("PropertyNames", "PropertyNameCount"),
        ),
    ),
    S(
        R.RopGetPropertiesAll,
        "2.2.8.4",
        (*IN, U16("PropertySizeLimit"), U16("WantUnicode")),
        TaggedValues("PropertyValueCount", "PropertyValues"),
    ),
    S(R.RopGetPropertiesList, "2.2.8.5", IN, Tags("PropertyTagCount", "PropertyTags")),
    S(
        R.RopSetProperties,
        "2.2.8.6",
        (*IN, Sized("PropertyValueSize", "u16", *TaggedValues("PropertyValueCount", "PropertyValues"))),
        PROBLEMS,
    ),
    S(
        R.RopSetPropertiesNoReplicate,
        "2.2.8.7",
        (*IN, Sized("PropertyValueSize", "u16", *TaggedValues("PropertyValueCount", "PropertyValues"))),
        PROBLEMS,
    ),
    S(R.RopDeleteProperties, "2.2.8.8", (*IN, *Tags("PropertyTagCount", "PropertyTags")), PROBLEMS),
    S(
        R.RopDeletePropertiesNoReplicate,
        "2.2.8.9",
        (*IN, *Tags("PropertyTagCount", "PropertyTags")),
        PROBLEMS,
    ),
    S(
        R.RopQueryNamedProperties,
        "2.2.8.10",
        (*IN, U8("QueryFlags"), U8("HasGuid"), If(_flag("HasGuid"), GuidF("PropertyGuid"))),
        (*Ints("IdCount", "PropertyIds", "u16", "u16"), PropNames("PropertyNames", "IdCount")),
    ),
    S(
        R.RopCopyProperties,
        "2.2.8.11",
        (*SRC_DEST, U8("WantAsynchronous"), U8("CopyFlags"), *Tags("PropertyTagCount", "PropertyTags")),
        PROBLEMS,
        handle=SRC,
        errors={EC_DST_NULL_OBJECT: (U32("DestHandleIndex"),)},
    ),
    S(
        R.RopCopyTo,
        "2.2.8.12",
        (
            *SRC_DEST,
            U8("WantAsynchronous"),
            U8("WantSubObjects"),
            U8("CopyFlags"),
            *Tags("ExcludedTagCount", "ExcludedTags"),
        ),
        PROBLEMS,
        handle=SRC,
        errors={EC_DST_NULL_OBJECT: (U32("DestHandleIndex"),)},
    ),
    S(
        R.RopProgress,
        "2.2.8.13",
        (*IN, U8("WantCancel")),
        (U8("LogonId"), U32("CompletedTaskCount"), U32("TotalTaskCount")),
    ),
    # 2.2.9 Stream ROPs
    S(
        R.RopOpenStream,
        "2.2.9.1",
        (*OUT, Tag("PropertyTag"), U8("OpenModeFlags")),
        (U32("StreamSize"),),
        handle=OUT_H,
    ),
    S(
        R.RopReadStream,
        "2.2.9.2",
        (*IN, U16("ByteCount"), If(lambda v: v.get("ByteCount") == 0xBABE, U32("MaximumByteCount"))),
        Blob("DataSize", "Data"),
        errors={None: Blob("DataSize", "Data")},
    ),
    S(
        R.RopWriteStream,
        "2.2.9.3",
        (*IN, *Blob("DataSize", "Data")),
        (U16("WrittenSize"),),
        errors={None: (U16("WrittenSize"),)},
    ),
    S(
        R.RopWriteStreamExtended,
        "2.2.9.4",
        (*IN, *Blob("DataSize", "Data")),
        (U32("WrittenSize"),),
        errors={None: (U32("WrittenSize"),)},
    ),
    S(R.RopCommitStream, "2.2.9.5", IN, NONE),
    S(R.RopGetStreamSize, "2.2.9.6", IN, (U32("StreamSize"),)),
    S(R.RopSetStreamSize, "2.2.9.7", (*IN, U64("StreamSize")), NONE),
    S(R.RopSeekStream, "2.2.9.8", (*IN, U8("Origin"), I64("Offset")), (U64("NewPosition"),)),
    S(
        R.RopCopyToStream,
        "2.2.9.9",
        (*SRC_DEST, U64("ByteCount")),
        (U64("ReadByteCount"), U64("WrittenByteCount")),
        handle=SRC,
        errors={EC_DST_NULL_OBJECT: (U32("DestHandleIndex"), U64("ReadByteCount"), U64("WrittenByteCount"))},
    ),
    S(
        R.RopLockRegionStream,
        "2.2.9.10",
        (*IN, U64("RegionOffset"), U64("RegionSize"), U32("LockFlags")),
        NONE,
    ),
    S(
        R.RopUnlockRegionStream,
        "2.2.9.11",
        (*IN, U64("RegionOffset"), U64("RegionSize"), U32("LockFlags")),
        NONE,
    ),
    S(
        R.RopWriteAndCommitStream,
        "2.2.9.12",
        (*IN, *Blob("DataSize", "Data")),
        (U16("WrittenSize"),),
        errors={None: (U16("WrittenSize"),)},
    ),
    S(R.RopCloneStream, "2.2.9.13", OUT, NONE, handle=OUT_H),
    # 2.2.10 Permission ROPs
    S(
        R.RopModifyPermissions,
        "2.2.10.1",
        (
            *IN,
            U8("ModifyFlags"),
            *CountedArray(
                "ModifyCount",
                "u16",
                "PermissionsData",
                (U8("PermissionDataFlags"), *TaggedValues("PropertyValueCount", "PropertyValues")),
                3,
            ),
        ),
        NONE,
    ),
    S(R.RopGetPermissionsTable, "2.2.10.2", (*OUT, U8("TableFlags")), NONE, handle=OUT_H),
    # 2.2.11 Rule ROPs
    S(
        R.RopModifyRules,
        "2.2.11.1",
        (
            *IN,
            U8("ModifyRulesFlag"),
            *CountedArray(
                "RulesCount",
                "u16",
                "RulesData",
                (U8("RuleDataFlags"), *TaggedValues("PropertyValueCount", "PropertyValues")),
                3,
            ),
        ),
        NONE,
    ),
    S(R.RopGetRulesTable, "2.2.11.2", (*OUT, U8("TableFlags")), NONE, handle=OUT_H),
    S(
        R.RopUpdateDeferredActionMessages,
        "2.2.11.3",
        (*IN, *Blob("ServerEntryIdSize", "ServerEntryId"), *Blob("ClientEntryIdSize", "ClientEntryId")),
        NONE,
    ),
    # 2.2.12 Fast Transfer ROPs
    S(
        R.RopFastTransferDestinationConfigure,
        "2.2.12.1",
        (*OUT, U8("SourceOperation"), U8("CopyFlags")),
        NONE,
        handle=OUT_H,
    ),
    S(
        R.RopFastTransferDestinationPutBuffer,
        "2.2.12.2",
        (*IN, *Blob("TransferDataSize", "TransferData")),
        (*FT_STATUS, U16("BufferUsedSize")),
        errors={None: (*FT_STATUS, U16("BufferUsedSize"))},
    ),
    S(
        R.RopFastTransferDestinationPutBufferExtended,
        "2.2.12.3",
        (*IN, *Blob("TransferDataSize", "TransferData")),
        (
            U16("TransferStatus"),
            U32("InProgressCount"),
            U32("TotalStepCount"),
            U8("Reserved", 0),
            U16("BufferUsedSize"),
        ),
        errors={
            None: (
                U16("TransferStatus"),
                U32("InProgressCount"),
                U32("TotalStepCount"),
                U8("Reserved", 0),
                U16("BufferUsedSize"),
            )
        },
    ),
    S(
        R.RopFastTransferSourceGetBuffer,
        "2.2.12.4",
        (*IN, U16("BufferSize"), If(lambda v: v.get("BufferSize") == 0xBABE, U16("MaximumBufferSize"))),
        GET_BUFFER,
        errors={None: GET_BUFFER},
    ),
    S(
        R.RopFastTransferSourceCopyFolder,
        "2.2.12.5",
        (*OUT, U8("CopyFlags"), U8("SendOptions")),
        NONE,
        handle=OUT_H,
    ),
    S(
        R.RopFastTransferSourceCopyMessages,
        "2.2.12.6",
        (*OUT, *Ids("MessageIdCount", "MessageIds"), U8("CopyFlags"), U8("SendOptions")),
        NONE,
        handle=OUT_H,
    ),
    S(
        R.RopFastTransferSourceCopyTo,
        "2.2.12.7",
        (*OUT, U8("Level"), U32("CopyFlags"), U8("SendOptions"), *Tags("PropertyTagCount", "PropertyTags")),
        NONE,
        handle=OUT_H,
    ),
    S(
        R.RopFastTransferSourceCopyProperties,
        "2.2.12.8",
        (*OUT, U8("Level"), U8("CopyFlags"), U8("SendOptions"), *Tags("PropertyTagCount", "PropertyTags")),
        NONE,
        handle=OUT_H,
    ),
    S(R.RopTellVersion, "2.2.12.9", (*IN, Raw("Version", 6)), NONE),
    # 2.2.13 Incremental Change Synchronization ROPs
    S(
        R.RopSynchronizationConfigure,
        "2.2.13.1",
        (
            *OUT,
            U8("SynchronizationType"),
            U8("SendOptions"),
            U16("SynchronizationFlags"),
            RestrictionData(),
            U32("SynchronizationExtraFlags"),
            *Tags("PropertyTagCount", "PropertyTags"),
        ),
        NONE,
        handle=OUT_H,
    ),
    S(
        R.RopSynchronizationImportMessageChange,
        "2.2.13.2",
        (*OUT, U8("ImportFlag"), *TaggedValues("PropertyValueCount", "PropertyValues")),
        (Mid("MessageId"),),
        handle=OUT_H,
    ),
    S(
        R.RopSynchronizationImportReadStateChanges,
        "2.2.13.3",
        (
            *IN,
            Sized(
                "MessageReadStatesSize",
                "u16",
                Until("MessageReadStates", (*Blob("MessageIdSize", "MessageId"), U8("MarkAsRead"))),
            ),
        ),
        NONE,
    ),
    S(
        R.RopSynchronizationImportHierarchyChange,
        "2.2.13.4",
        (
            *IN,
            *TaggedValues("HierarchyValueCount", "HierarchyValues"),
            *TaggedValues("PropertyValueCount", "PropertyValues"),
        ),
        (Fid("FolderId"),),
    ),
    S(
        R.RopSynchronizationImportDeletes,
        "2.2.13.5",
        (*IN, U8("ImportDeleteFlags"), *TaggedValues("PropertyValueCount", "PropertyValues")),
        NONE,
    ),
    S(
        R.RopSynchronizationImportMessageMove,
        "2.2.13.6",
        (
            *IN,
            *Blob("SourceFolderIdSize", "SourceFolderId", "u32"),
            *Blob("SourceMessageIdSize", "SourceMessageId", "u32"),
            *Blob("PredecessorChangeListSize", "PredecessorChangeList", "u32"),
            *Blob("DestinationMessageIdSize", "DestinationMessageId", "u32"),
            *Blob("ChangeNumberSize", "ChangeNumber", "u32"),
        ),
        (Mid("MessageId"),),
    ),
    S(R.RopSynchronizationOpenCollector, "2.2.13.7", (*OUT, U8("IsContentsCollector")), NONE, handle=OUT_H),
    S(R.RopSynchronizationGetTransferState, "2.2.13.8", OUT, NONE, handle=OUT_H),
    S(
        R.RopSynchronizationUploadStateStreamBegin,
        "2.2.13.9",
        (*IN, Tag("StateProperty"), U32("TransferBufferSize")),
        NONE,
    ),
    S(
        R.RopSynchronizationUploadStateStreamContinue,
        "2.2.13.10",
        (*IN, *Blob("StreamDataSize", "StreamData", "u32")),
        NONE,
    ),
    S(R.RopSynchronizationUploadStateStreamEnd, "2.2.13.11", IN, NONE),
    S(
        R.RopSetLocalReplicaMidsetDeleted,
        "2.2.13.12",
        (
            *IN,
            Sized(
                "DataSize",
                "u16",
                *CountedArray(
                    "LongTermIdRangeCount",
                    "u32",
                    "LongTermIdRanges",
                    (_lt("MinLongTermId"), _lt("MaxLongTermId")),
                    48,
                ),
            ),
        ),
        NONE,
    ),
    S(
        R.RopGetLocalReplicaIds,
        "2.2.13.13",
        (*IN, U32("IdCount")),
        (GuidF("ReplGuid"), Raw("GlobalCount", 6)),
    ),
    # 2.2.14 Notification ROPs (RopPending: rops.server)
    S(
        R.RopRegisterNotification,
        "2.2.14.1",
        (
            *OUT,
            U8("NotificationTypes"),
            U8("Reserved", 0),
            U8("WantWholeStore"),
            If(lambda v: not v.get("WantWholeStore"), Fid("FolderId"), Mid("MessageId")),
        ),
        NONE,
        handle=OUT_H,
    ),
    S(
        R.RopNotify,
        "2.2.14.2",
        None,
        (U32("NotificationHandle"), U8("LogonId"), *NOTIFICATION_DATA),
        header=False,
    ),
)


CLASSES = {spec.rop_id: build(spec) for spec in SPECS}
"""RopId → (request class, response class) built from :data:`SPECS`."""

BY_ID: dict[int, RopSpec] = {spec.rop_id: spec for spec in SPECS}

__all__ = ["BY_ID", "CLASSES", "EC_DST_NULL_OBJECT", "EC_SERVER_BUSY", "SPECS"]
