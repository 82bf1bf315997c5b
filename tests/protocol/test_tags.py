"""The PidTag table (protocol/tags.py): names and numbers from MS-OXPROPS, lookups both ways."""

from __future__ import annotations

import re

import pytest

from mapiprobe.protocol.properties import PropType
from mapiprobe.protocol.tags import (
    CHECKED_TAGS,
    PID_TAGS,
    PROPERTY_SETS,
    named_property_name,
    property_id_name,
    property_set_name,
    tag_by_name,
    tag_name,
)

# PROTOCOL.md §5.6 (tag values confirmed there against gromox mapitags.hpp; names are MS-OXPROPS names).
SECTION_5_6 = {
    "PidTagDisplayName": 0x3001001F,
    "PidTagFolderId": 0x67480014,
    "PidTagParentFolderId": 0x67490014,
    "PidTagContentCount": 0x36020003,
    "PidTagContentUnreadCount": 0x36030003,
    "PidTagSubfolders": 0x360A000B,
    "PidTagContainerClass": 0x3613001F,
    "PidTagFolderType": 0x36010003,
    "PidTagDepth": 0x30050003,
    "PidTagMessageSize": 0x0E080003,
    "PidTagMessageSizeExtended": 0x0E080014,
    "PidTagEntryId": 0x0FFF0102,
    "PidTagAttributeHidden": 0x10F4000B,
    "PidTagSubject": 0x0037001F,
    "PidTagMessageClass": 0x001A001F,
    "PidTagMessageDeliveryTime": 0x0E060040,
    "PidTagSenderName": 0x0C1A001F,
    "PidTagMessageFlags": 0x0E070003,
    "PidTagMid": 0x674A0014,
    "PidTagLastModificationTime": 0x30080040,
    "PidTagSmtpAddress": 0x39FE001F,
    "PidTagEmailAddress": 0x3003001F,
    "PidTagAddressType": 0x3002001F,
    "PidTagAccount": 0x3A00001F,
    "PidTagDisplayType": 0x39000003,
    "PidTagDisplayTypeEx": 0x39050003,
    "PidTagObjectType": 0x0FFE0003,
    "PidTagTitle": 0x3A17001F,
    "PidTagDepartmentName": 0x3A18001F,
    "PidTagOfficeLocation": 0x3A19001F,
    "PidTagBusinessTelephoneNumber": 0x3A08001F,
    "PidTagAddressBookContainerId": 0xFFFD0003,
    "PidTagInstanceKey": 0x0FF60102,
    "PidTagRecordKey": 0x0FF90102,
    "PidTagContainerFlags": 0x36000003,
    "PidTagAddressBookIsMaster": 0xFFFB000B,
    "PidTagAddressBookParentEntryId": 0xFFFC0102,
}

# Tags the spec examples name with their numbers (MS-OXORULE 4.2.1, MS-OXCTABL 4.2.1, MS-OXCPRPT 4.3.1).
FROM_SPEC_EXAMPLES = {
    "PidTagRuleId": 0x66740014,
    "PidTagRuleProviderData": 0x66840102,
    "PidTagRuleName": 0x6682001F,
    "PidTagInstID": 0x674D0014,
    "PidTagInstanceNum": 0x674E0003,
    "PidTagChangeKey": 0x65E20102,
}

ALSO_REQUIRED = [
    "PidTagComment",
    "PidTagNormalizedSubject",
    "PidTagSenderEmailAddress",
    "PidTagSentRepresentingName",
    "PidTagClientSubmitTime",
    "PidTagCreationTime",
    "PidTagImportance",
    "PidTagHasAttachments",
    "PidTagRowType",
    "PidTagRuleSequence",
    "PidTagRuleState",
    "PidTagRuleProvider",
    "PidTagRuleCondition",
    "PidTagRuleActions",
    "PidTagRuleUserFlags",
    "PidTagRuleLevel",
]


@pytest.mark.parametrize(("name", "tag"), sorted({**SECTION_5_6, **FROM_SPEC_EXAMPLES}.items()))
def test_known_tags(name: str, tag: int) -> None:
    assert PID_TAGS[name] == tag
    assert tag_by_name(name) == tag
    assert tag_name(tag) == name or (tag >> 16 == 0x0E08)  # MessageSize and ...Extended share an id


def test_required_names_present() -> None:
    missing = [n for n in ALSO_REQUIRED if n not in PID_TAGS]
    assert not missing


def test_every_entry_is_well_formed() -> None:
    known_types = {int(t) for t in PropType}
    for name, tag in PID_TAGS.items():
        assert re.fullmatch(r"PidTag[A-Z][A-Za-z0-9]+", name), name
        assert 0 <= tag <= 0xFFFFFFFF
        assert tag & 0xFFFF in known_types, name
    assert len(set(CHECKED_TAGS.values())) == len(CHECKED_TAGS)
    # MS-OXPROPS itself gives a few tags two canonical names (one id used in two areas, e.g. 0x68410003
    # PidTagScheduleInfoResourceType / PidTagSearchFolderTemplateId); no more than those six.
    assert len(PID_TAGS) - len(set(PID_TAGS.values())) == 6


def test_rule_types() -> None:
    assert PID_TAGS["PidTagRuleCondition"] & 0xFFFF == PropType.RESTRICTION
    assert PID_TAGS["PidTagRuleActions"] & 0xFFFF == PropType.RULE_ACTION


def test_lookup_by_id_names_other_types() -> None:
    # PROTOCOL.md §10: a missing property can come back with its type switched to PtypErrorCode.
    assert tag_name(0x3A17000A) == "PidTagTitle"
    assert tag_name(0x3001001E) == "PidTagDisplayName"
    assert tag_name(0x0E080003) == "PidTagMessageSize"
    assert tag_name(0x0E080014) == "PidTagMessageSizeExtended"
    assert tag_name(0x12340003) is None
    assert property_id_name(0x3001) == "PidTagDisplayName"
    assert property_id_name(0x1234) is None


def test_lookup_by_name_is_forgiving() -> None:
    assert tag_by_name("pidtagsubject") == 0x0037001F
    assert tag_by_name("  PidTagSubject ") == 0x0037001F
    assert tag_by_name("Subject") == 0x0037001F
    assert tag_by_name("PidTagNoSuchThing") is None
    assert tag_by_name("") is None


def test_generated_table_covers_ms_oxprops_and_agrees_with_the_checked_one() -> None:
    assert len(PID_TAGS) > 600
    # Spot checks of the generated part against MS-OXPROPS section 2 entries.
    assert PID_TAGS["PidTagAttachDataBinary"] == 0x37010102
    assert PID_TAGS["PidTagAttachDataObject"] == 0x3701000D
    assert PID_TAGS["PidTagBody"] == 0x1000001F
    assert PID_TAGS["PidTagInternetCodepage"] == 0x3FDE0003
    assert tag_name(0x0E1F000B) == "PidTagRtfInSync"
    # Where both name a property id, the checked table's type and name stand.
    for name, tag in CHECKED_TAGS.items():
        assert PID_TAGS[name] == tag
    assert tag_name(0x39FF001F) == "PidTagAddressBookDisplayNamePrintable"


def test_named_properties_by_property_set() -> None:
    appointment = PROPERTY_SETS["PSETID_Appointment"]
    assert property_set_name(appointment) == "PSETID_Appointment"
    assert named_property_name(appointment, lid=0x820D) == "PidLidAppointmentStartWhole"
    assert named_property_name(PROPERTY_SETS["PSETID_Common"], lid=0x8503) == "PidLidReminderSet"
    assert named_property_name(PROPERTY_SETS["PS_PUBLIC_STRINGS"], name="keywords") == "PidNameKeywords"
    assert named_property_name(appointment, lid=0x7FFF) is None
    assert property_set_name(None) is None
