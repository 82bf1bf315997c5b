"""The PidTag table: canonical MS-OXPROPS names and property tags of the properties mapiprobe uses.

A property tag is ``(PropertyId << 16) | PropertyType`` (MS-OXCDATA 2.9). Names are the canonical
``PidTag...`` names of MS-OXPROPS section 2 (its section numbers shift between versions, so look a
property up by name). Numbers were checked against MS-OXPROPS where the reference search could reach the
page, and otherwise against the defining protocol spec cited in the comment beside the group.

:func:`tag_name` names any tag whose *property id* is known, whatever its type: a server that reports a
missing property by switching its type to PtypErrorCode (``0x3A17000A``) still gets ``PidTagTitle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_TAGS: dict[str, int] = {
    # --- Common object properties (MS-OXCPRPT, MS-OXCMSG, MS-OXCFOLD) ----------------------------------
    "PidTagEntryId": 0x0FFF0102,
    "PidTagObjectType": 0x0FFE0003,
    "PidTagRecordKey": 0x0FF90102,
    "PidTagMappingSignature": 0x0FF80102,
    "PidTagAccessLevel": 0x0FF70003,
    "PidTagInstanceKey": 0x0FF60102,
    "PidTagRowType": 0x0FF50003,
    "PidTagAccess": 0x0FF40003,
    "PidTagDisplayName": 0x3001001F,
    "PidTagAddressType": 0x3002001F,
    "PidTagEmailAddress": 0x3003001F,
    "PidTagComment": 0x3004001F,
    "PidTagDepth": 0x30050003,
    "PidTagCreationTime": 0x30070040,
    "PidTagLastModificationTime": 0x30080040,
    "PidTagSearchKey": 0x300B0102,
    "PidTagLastModifierName": 0x3FFA001F,
    "PidTagMessageCodepage": 0x3FFD0003,
    "PidTagMessageLocaleId": 0x3FF10003,
    "PidTagInternetCodepage": 0x3FDE0003,
    "PidTagSourceKey": 0x65E00102,
    "PidTagParentSourceKey": 0x65E10102,
    "PidTagChangeKey": 0x65E20102,
    "PidTagPredecessorChangeList": 0x65E30102,
    # --- Messages (MS-OXCMSG, MS-OXOMSG) ----------------------------------------------------------------
    "PidTagImportance": 0x00170003,
    "PidTagMessageClass": 0x001A001F,
    "PidTagSensitivity": 0x00360003,
    "PidTagSubject": 0x0037001F,
    "PidTagClientSubmitTime": 0x00390040,
    "PidTagSubjectPrefix": 0x003D001F,
    "PidTagReceivedByName": 0x0040001F,
    "PidTagSentRepresentingName": 0x0042001F,
    "PidTagOriginalSubject": 0x0049001F,
    "PidTagSentRepresentingAddressType": 0x0064001F,
    "PidTagSentRepresentingEmailAddress": 0x0065001F,
    "PidTagConversationTopic": 0x0070001F,
    "PidTagConversationIndex": 0x00710102,
    "PidTagReceivedByEmailAddress": 0x0076001F,
    "PidTagRecipientType": 0x0C150003,
    "PidTagSenderName": 0x0C1A001F,
    "PidTagSenderAddressType": 0x0C1E001F,
    "PidTagSenderEmailAddress": 0x0C1F001F,
    "PidTagDisplayBcc": 0x0E02001F,
    "PidTagDisplayCc": 0x0E03001F,
    "PidTagDisplayTo": 0x0E04001F,
    "PidTagMessageDeliveryTime": 0x0E060040,
    "PidTagMessageFlags": 0x0E070003,
    "PidTagMessageSize": 0x0E080003,
    "PidTagMessageSizeExtended": 0x0E080014,
    "PidTagMessageRecipients": 0x0E12000D,
    "PidTagMessageAttachments": 0x0E13000D,
    "PidTagMessageStatus": 0x0E170003,
    "PidTagHasAttachments": 0x0E1B000B,
    "PidTagNormalizedSubject": 0x0E1D001F,
    "PidTagAttachSize": 0x0E200003,
    "PidTagAttachNumber": 0x0E210003,
    "PidTagBody": 0x1000001F,
    "PidTagInternetMessageId": 0x1035001F,
    "PidTagIconIndex": 0x10800003,
    "PidTagAttributeHidden": 0x10F4000B,
    "PidTagAttachMethod": 0x37050003,
    "PidTagAttachLongFilename": 0x3707001F,
    # --- Folders (MS-OXCFOLD 2.2.2.2) ---------------------------------------------------------------------
    "PidTagContainerFlags": 0x36000003,
    "PidTagFolderType": 0x36010003,
    "PidTagContentCount": 0x36020003,
    "PidTagContentUnreadCount": 0x36030003,
    "PidTagSubfolders": 0x360A000B,
    "PidTagContainerHierarchy": 0x360E000D,
    "PidTagContainerContents": 0x360F000D,
    "PidTagContainerClass": 0x3613001F,
    "PidTagExtendedFolderFlags": 0x36DA0102,
    "PidTagFolderChildCount": 0x66380003,
    "PidTagRights": 0x66390003,
    "PidTagHasRules": 0x663A000B,
    "PidTagHierarchyChangeNumber": 0x663E0003,
    "PidTagFolderFlags": 0x66A80003,
    "PidTagLocalCommitTimeMax": 0x670A0040,
    "PidTagDeletedCountTotal": 0x670B0003,
    # --- IDs (MS-OXCFOLD, MS-OXCTABL 2.2.1.1) ------------------------------------------------------------
    "PidTagFolderId": 0x67480014,
    "PidTagParentFolderId": 0x67490014,
    "PidTagMid": 0x674A0014,
    "PidTagInstID": 0x674D0014,
    "PidTagInstanceNum": 0x674E0003,
    # --- Store (MS-OXCSTOR) -------------------------------------------------------------------------------
    "PidTagStoreSupportMask": 0x340D0003,
    "PidTagStoreState": 0x340E0003,
    # --- Address book (MS-OXOABK 2.2) --------------------------------------------------------------------
    "PidTagDisplayType": 0x39000003,
    "PidTagTemplateid": 0x39020102,
    "PidTagDisplayTypeEx": 0x39050003,
    "PidTagSmtpAddress": 0x39FE001F,
    "PidTagAddressBookDisplayNamePrintable": 0x39FF001F,
    "PidTagAccount": 0x3A00001F,
    "PidTagGivenName": 0x3A06001F,
    "PidTagBusinessTelephoneNumber": 0x3A08001F,
    "PidTagInitials": 0x3A0A001F,
    "PidTagSurname": 0x3A11001F,
    "PidTagCompanyName": 0x3A16001F,
    "PidTagTitle": 0x3A17001F,
    "PidTagDepartmentName": 0x3A18001F,
    "PidTagOfficeLocation": 0x3A19001F,
    "PidTagMobileTelephoneNumber": 0x3A1C001F,
    "PidTagTransmittableDisplayName": 0x3A20001F,
    "PidTagCountry": 0x3A26001F,
    "PidTagLocality": 0x3A27001F,
    "PidTagStateOrProvince": 0x3A28001F,
    "PidTagStreetAddress": 0x3A29001F,
    "PidTagPostalCode": 0x3A2A001F,
    "PidTagDisplayNamePrefix": 0x3A45001F,
    "PidTagAddressBookProxyAddresses": 0x800F101F,
    "PidTagAddressBookIsMaster": 0xFFFB000B,
    "PidTagAddressBookParentEntryId": 0xFFFC0102,
    "PidTagAddressBookContainerId": 0xFFFD0003,
    # --- Server-side rules (MS-OXORULE 2.2.1.3.1) --------------------------------------------------------
    "PidTagRuleId": 0x66740014,
    "PidTagRuleIds": 0x66750102,
    "PidTagRuleSequence": 0x66760003,
    "PidTagRuleState": 0x66770003,
    "PidTagRuleUserFlags": 0x66780003,
    "PidTagRuleCondition": 0x667900FD,
    "PidTagRuleActions": 0x668000FE,
    "PidTagRuleProvider": 0x6681001F,
    "PidTagRuleName": 0x6682001F,
    "PidTagRuleLevel": 0x66830003,
    "PidTagRuleProviderData": 0x66840102,
}

PID_TAGS: Mapping[str, int] = MappingProxyType(_TAGS)
"""Canonical name -> property tag (with the type MS-OXPROPS gives the property)."""

_BY_TAG: dict[int, str] = {tag: name for name, tag in _TAGS.items()}
_BY_ID: dict[int, str] = {}
for _name, _tag in _TAGS.items():
    # Two tags can share an id (PidTagMessageSize / ...Extended): the first one listed names the id.
    _BY_ID.setdefault(_tag >> 16, _name)
_BY_LOWER: dict[str, int] = {name.lower(): tag for name, tag in _TAGS.items()}


def tag_by_name(name: str) -> int | None:
    """The tag of a canonical ``PidTag...`` name (case-insensitive; the ``PidTag`` prefix may be left out)."""
    key = name.strip().lower()
    found = _BY_LOWER.get(key)
    if found is None and not key.startswith("pidtag"):
        found = _BY_LOWER.get("pidtag" + key)
    return found


def tag_name(tag: int) -> str | None:
    """The canonical name of ``tag``: an exact match first, then any known tag with the same property id."""
    exact = _BY_TAG.get(tag & 0xFFFFFFFF)
    if exact is not None:
        return exact
    return _BY_ID.get((tag >> 16) & 0xFFFF)


def property_id_name(prop_id: int) -> str | None:
    """The canonical name of a property id (the upper 16 bits of a tag)."""
    return _BY_ID.get(prop_id & 0xFFFF)


__all__ = ["PID_TAGS", "property_id_name", "tag_by_name", "tag_name"]
