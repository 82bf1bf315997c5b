"""Every ROP of the declarative table (protocol/rops/catalog.py), both directions.

* A value set is generated from each ROP's own field layout (two variants, so that both branches of most
  conditional fields are taken), encoded, decoded and encoded again: the bytes must be identical and every
  byte consumed. That is the byte-exact round trip of every request and every response, success and the
  error forms that carry fields.
* Spec hex (MS-OXCTABL 4.3.2, MS-OXORULE 4.2.2) and constructed vectors (tests/data/
  catalog_oxcrops_constructed.txt, written byte by byte from the field tables of MS-OXCROPS 2.2, not from
  this encoder) pin the layouts to the spec.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from mapiprobe.protocol.errors import DecodeError
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.properties import (
    KIND_LID,
    KIND_NAME,
    FileTime,
    FolderId,
    PropertyName,
    PropertyRow,
    PropertyTag,
    PropertyValue,
)
from mapiprobe.protocol.restriction import Restriction, RestrictType, SortOrder, SortOrderSet
from mapiprobe.protocol.rops import (
    REQUESTS,
    RESPONSES,
    RopFailureResponse,
    RopId,
    decode_requests,
    decode_responses,
    encode_rops,
)
from mapiprobe.protocol.rops import layout as L
from mapiprobe.protocol.rops.catalog import BY_ID, SPECS
from mapiprobe.protocol.rops.generic import GenericRopRequest, GenericRopResponse
from mapiprobe.protocol.wire import Reader

from .ropvectors import DATA, vector

TABLE_COLUMNS = (0x0037001F, 0x0E080003)
GUID = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
TAG_ITEM_NAMES = {"PropertyTags", "RecipientColumns", "ExcludedTags", "Tags"}


def sample_restriction() -> Restriction:
    """One restriction that uses every RestrictType."""
    subject = PropertyTag(0x0037001F)
    size = PropertyTag(0x0E080003)
    T = RestrictType
    return Restriction.and_(
        Restriction.content(0x00010001, subject, "budget"),
        Restriction.not_(Restriction.exist(0x0E1B000B)),
        Restriction.or_(
            Restriction.property(0x04, size, 42),
            Restriction(T.ComparePropertiesRestriction, relop=0x02, tag=size, tag2=PropertyTag(0x0E080014)),
        ),
        Restriction(T.BitMaskRestriction, relop=0x01, tag=PropertyTag(0x0E070003), number=0x00000001),
        Restriction(T.SizeRestriction, relop=0x00, tag=subject, number=100),
        Restriction(T.SubObjectRestriction, number=0x0E12000D, children=(Restriction.exist(0x3001001F),)),
        Restriction(
            T.CommentRestriction,
            values=(PropertyValue(PropertyTag(0x3001001F), "note"),),
            children=(Restriction.exist(0x3003001F),),
        ),
        Restriction(T.CountRestriction, number=3, children=(Restriction.exist(0x0FFF0102),)),
    )


INT_OVERRIDES: list[dict[str, int]] = [
    {
        "RecipientFlags": 0x0001
        | 0x0008
        | 0x0010
        | 0x0200
        | 0x0400,  # X500DN, email, display, unicode, simple
        "NotificationFlags": 0x0100 | 0x8000,  # TableModified, by message
        "TableEventType": 0x0003,  # TableRowAdded
        "ByteCount": 0xBABE,
        "BufferSize": 0xBABE,
        "DataOffset": 0,
        "TagCount": 2,
    },
    {
        "RecipientFlags": 0x0006 | 0x0020,  # PersonalDistributionList1, transmittable name
        "NotificationFlags": 0x0020 | 0x0004 | 0x1000 | 0x2000 | 0x0002,  # moved, created, counts, new mail
        "TableEventType": 0x0001,
        "ByteCount": 0x0100,
        "BufferSize": 0x1000,
        "DataOffset": 16,
        "TagCount": 2,
    },
]


class Gen:
    """Values for a layout, built from the layout itself."""

    def __init__(self, variant: int, columns: tuple[int, ...] | None):
        self.variant = variant
        self.flag = 1 if variant == 0 else 0
        self.columns = columns

    def fields(self, layout: L.Layout, values: dict[str, Any]) -> dict[str, Any]:
        for f in layout:
            self.field(f, values)
        return values

    def field(self, f: L.Field, v: dict[str, Any]) -> None:
        if isinstance(f, L.Count):
            return
        if isinstance(f, L.Int):
            value = INT_OVERRIDES[self.variant].get(f.name)
            if value is None:
                value = (
                    self.flag
                    if f.fmt == "u8"
                    else {"u16": 0x0102, "u32": 0x01020304}.get(f.fmt, 0x0102030405)
                )
                if f.fmt in ("i32", "i64"):
                    value = -5
            v[f.name] = f.wrap(value) if f.wrap is not None else value
        elif isinstance(f, L.Raw):
            v[f.name] = bytes(range(1, (f.size or 3) + 1))
        elif isinstance(f, L.GuidF):
            v[f.name] = GUID
        elif isinstance(f, L.Str):
            v[f.name] = "Inbox Ω" if f._wide(L.Scope(v)) else "Inbox"
        elif isinstance(f, L.TypedString):
            v[f.name] = (
                {"StringType": 4, "String": "RE: "} if self.variant == 0 else {"StringType": 2, "String": "x"}
            )
        elif isinstance(f, L.Items):
            v[f.name] = self.items(f)
        elif isinstance(f, L.Array | L.Until):
            sub = f.layout
            v[f.name] = [self.fields(sub, {}) for _ in range(2)]
        elif isinstance(f, L.Struct):
            v[f.name] = self.fields(f.layout, {})
        elif isinstance(f, L.If):
            if f.test(v):
                self.fields(f.layout, v)
        elif isinstance(f, L.IfLogon):
            if not f.public:
                self.fields(f.layout, v)
        elif isinstance(f, L.Sized):
            self.fields(f.layout, v)
        elif isinstance(f, L.RestrictionF):
            v[f.name] = sample_restriction() if self.variant == 0 else None
        elif isinstance(f, L.SortOrders):
            v[f.name] = SortOrderSet(1, 1, (SortOrder(0x001F, 0x0037, 0), SortOrder(0x0040, 0x0E06, 1)))
        elif isinstance(f, L.UseColumns):
            self.columns = tuple(int(t) for t in v[f.source])
        elif isinstance(f, L.RecipientProperties):
            cols = self.columns or ()
            v["RecipientColumnCount"] = len(cols)
            v[f.name] = PropertyRow.build(cols, {c: self.value_for(c) for c in cols})
        elif isinstance(f, L.Row):
            cols = self.columns or ()
            v[f.name] = PropertyRow.build(cols, {c: self.value_for(c) for c in cols})
        elif isinstance(f, L.FixedRows):
            v[f.name] = [
                PropertyRow.build(
                    f.columns, {0x67480014: FolderId(5), 0x001A001E: "IPM.Note", 0x30080040: FileTime(1)}
                )
            ]
        else:  # pragma: no cover - a new field kind needs a generator
            raise AssertionError(f"no generator for {type(f).__name__}")

    @staticmethod
    def value_for(tag: int) -> Any:
        return {0x001F: "Ann", 0x0003: 7, 0x001E: "x"}.get(tag & 0xFFFF, 1)

    def items(self, f: L.Items) -> list[Any]:
        if f.name in TAG_ITEM_NAMES:
            return [PropertyTag(0x3001001F), PropertyTag(0x0C150003)]
        if f.read_one is L._rd_tagged:
            return [PropertyValue(PropertyTag(0x0037001F), "Hi"), PropertyValue(PropertyTag(0x0E080003), 5)]
        if f.read_one is L._rd_asciiz:
            return ["srv1", "srv2"]
        if f.read_one is L._rd_propname:
            return [PropertyName(KIND_LID, GUID, lid=0x8501), PropertyName(KIND_NAME, GUID, name="Keywords")]
        if f.read_one is L._rd_row:
            cols = self.columns or ()
            return [PropertyRow.build(cols, {c: self.value_for(c) for c in cols}) for _ in range(2)]
        return [1, 2]


def _request(rop_id: int, variant: int) -> GenericRopRequest:
    cls = REQUESTS[rop_id]
    assert issubclass(cls, GenericRopRequest)
    return cls(Gen(variant, None).fields(cls.SPEC.request or (), {}))


def _response(rop_id: int, variant: int, return_value: int = 0) -> GenericRopResponse:
    cls = RESPONSES[rop_id]
    assert issubclass(cls, GenericRopResponse)
    layout = cls.SPEC.response if return_value == 0 else cls.SPEC.error_layout(return_value)
    values = Gen(variant, TABLE_COLUMNS).fields(layout or (), {"ReturnValue": return_value})
    values.pop("ReturnValue")
    return cls(handle_index=3, return_value=return_value, values=values, columns=TABLE_COLUMNS)


REQUEST_IDS = sorted(s.rop_id for s in SPECS if s.request is not None)
RESPONSE_IDS = sorted(s.rop_id for s in SPECS if s.response is not None)
ERROR_CASES = sorted(
    (s.rop_id, rv if rv is not None else 0x80004005)
    for s in SPECS
    for rv in s.errors
    if s.response is not None
)


def _name(rop_id: int) -> str:
    return RopId(rop_id).name


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("rop_id", REQUEST_IDS, ids=_name)
def test_every_request_round_trips_byte_exact(rop_id: int, variant: int) -> None:
    rop = _request(rop_id, variant)
    data = rop.to_bytes()
    (decoded,) = decode_requests(data)
    assert type(decoded) is type(rop)
    assert decoded.to_bytes() == data
    (again,) = decode_requests(decoded.to_bytes())
    assert again == decoded
    assert to_jsonable(decoded)["RopId"] == _name(rop_id)


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("rop_id", RESPONSE_IDS, ids=_name)
def test_every_response_round_trips_byte_exact(rop_id: int, variant: int) -> None:
    rop = _response(rop_id, variant)
    data = rop.to_bytes()
    (decoded,) = decode_responses(data, columns=TABLE_COLUMNS)
    assert type(decoded) is type(rop)
    assert decoded.to_bytes() == data
    (again,) = decode_responses(decoded.to_bytes(), columns=TABLE_COLUMNS)
    assert again == decoded


@pytest.mark.parametrize(("rop_id", "return_value"), ERROR_CASES, ids=lambda v: f"{v}")
def test_error_responses_that_carry_fields_round_trip(rop_id: int, return_value: int) -> None:
    rop = _response(rop_id, 0, return_value)
    data = rop.to_bytes()
    (decoded,) = decode_responses(data, columns=TABLE_COLUMNS)
    assert isinstance(decoded, GenericRopResponse)
    assert decoded.return_value == return_value
    assert decoded.to_bytes() == data


@pytest.mark.parametrize(
    "rop_id", [i for i in RESPONSE_IDS if not BY_ID[i].errors and BY_ID[i].header], ids=_name
)
def test_other_failures_are_the_bare_header(rop_id: int) -> None:
    data = bytes([rop_id, 0x02]) + (0x8004010F).to_bytes(4, "little")
    (decoded,) = decode_responses(data)
    assert isinstance(decoded, RopFailureResponse)
    assert decoded.to_bytes() == data
    assert to_jsonable(decoded)[BY_ID[rop_id].handle] == 2


def test_every_named_rop_has_its_directions() -> None:
    no_request = {RopId.RopNotify, RopId.RopPending, RopId.RopBackoff, RopId.RopBufferTooSmall}
    no_response = {RopId.RopRelease}
    for rop in RopId:
        assert (rop in REQUESTS) == (rop not in no_request), rop.name
        if rop == RopId.RopGetMessageStatus:
            continue  # answered by the RopSetMessageStatus layout under RopId 0x20 (MS-OXCROPS 2.2.6.9.2)
        assert (rop in RESPONSES) == (rop not in no_response), rop.name
    assert len(REQUESTS) >= 125 and len(RESPONSES) >= 125


# -- spec hex ------------------------------------------------------------------------------------------------


def test_oxctabl_4_3_2_sorttable_response() -> None:
    data = vector("oxctabl_4_3_2_sorttable_response")
    (rop,) = decode_responses(data)
    assert isinstance(rop, GenericRopResponse)
    assert (rop.rop_id, rop.handle_index, rop.return_value, rop["TableStatus"]) == (0x13, 1, 0, 0)
    assert rop.to_bytes() == data


def test_oxorule_4_2_2_getrulestable_response() -> None:
    data = vector("oxorule_4_2_2_getrulestable_response")
    (rop,) = decode_responses(data)
    assert isinstance(rop, GenericRopResponse)
    assert (rop.rop_id, rop.handle_index, rop.return_value, rop.values) == (0x3F, 1, 0, {})
    assert to_jsonable(rop) == {"RopId": "RopGetRulesTable", "OutputHandleIndex": 1, "ReturnValue": 0}
    assert rop.to_bytes() == data


# -- constructed vectors -------------------------------------------------------------------------------------


def _constructed() -> list[tuple[str, str, bytes, dict[str, Any]]]:
    """``name direction hex | Field=value ...`` lines of catalog_oxcrops_constructed.txt."""
    out = []
    text = (DATA / "catalog_oxcrops_constructed.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        head, _, checks = line.partition("|")
        name, direction, *hexparts = head.split()
        expected: dict[str, Any] = {}
        for item in checks.split(";"):
            if item.strip():
                key, _, value = item.strip().partition("=")
                expected[key] = value
        out.append((name, direction, bytes.fromhex("".join(hexparts)), expected))
    return out


def _flat(obj: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}{k}."))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(_flat(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = str(obj)
    return out


CONSTRUCTED = _constructed()


@pytest.mark.parametrize(
    ("name", "direction", "data", "expected"), CONSTRUCTED, ids=[c[0] for c in CONSTRUCTED]
)
def test_constructed_vectors(name: str, direction: str, data: bytes, expected: Mapping[str, str]) -> None:
    if direction == "request":
        (rop,) = decode_requests(data)
    else:
        (rop,) = decode_responses(data, columns=TABLE_COLUMNS)
    assert RopId(rop.rop_id).name == name.split("_", maxsplit=1)[0]
    flat = _flat(to_jsonable(rop))
    for key, value in expected.items():
        assert flat.get(key) == value, (key, flat)
    assert rop.to_bytes() == data


def test_constructed_vectors_cover_the_common_outlook_rops() -> None:
    names = {c[0].split("_")[0] for c in CONSTRUCTED}
    for rop in (
        "RopOpenMessage",
        "RopSortTable",
        "RopRestrict",
        "RopNotify",
        "RopFastTransferSourceGetBuffer",
    ):
        assert rop in names


# -- behaviour ---------------------------------------------------------------------------------------------


def test_unknown_rop_id_stops_with_a_note_and_keeps_what_came_before() -> None:
    good = _request(RopId.RopGetStoreState, 0).to_bytes()
    r = Reader(good + b"\x28\x00\x00")
    from mapiprobe.protocol.rops import iter_requests

    seen = []
    with pytest.raises(DecodeError) as err:
        for rop in iter_requests(r):
            seen.append(rop)
    assert len(seen) == 1 and seen[0].rop_id == RopId.RopGetStoreState
    assert err.value.offset == len(good)
    assert "0x28" in str(err.value) and "keeps the ROPs before it" in str(err.value)


def test_get_message_status_is_answered_under_rop_id_0x20() -> None:
    req = _request(RopId.RopGetMessageStatus, 0)
    resp = RESPONSES[RopId.RopSetMessageStatus](  # type: ignore[call-arg]
        handle_index=0, return_value=0, values={"MessageStatusFlags": 0x1000}
    )
    (decoded,) = decode_responses(encode_rops([resp]), requests=[req])
    assert decoded.rop_id == 0x20


def test_find_row_uses_the_columns_of_the_set_columns_before_it() -> None:
    from mapiprobe.protocol.rops import RopSetColumnsRequest, RopSetColumnsResponse

    setcols = RopSetColumnsRequest(0, 1, 0, tuple(PropertyTag(t) for t in TABLE_COLUMNS))
    find = REQUESTS[RopId.RopFindRow](  # type: ignore[call-arg]
        {
            "LogonId": 0,
            "InputHandleIndex": 1,
            "FindRowFlags": 0,
            "RestrictionData": sample_restriction(),
            "Origin": 0,
            "Bookmark": b"",
        }
    )
    row = PropertyRow.build(TABLE_COLUMNS, {0x0037001F: "Budget", 0x0E080003: 99})
    found = RESPONSES[RopId.RopFindRow](  # type: ignore[call-arg]
        handle_index=1,
        return_value=0,
        values={"RowNoLongerVisible": 0, "HasRowData": 1, "RowData": row},
        columns=TABLE_COLUMNS,
    )
    out = encode_rops([RopSetColumnsResponse(1, 0), found])
    decoded = decode_responses(out, requests=[setcols, find])
    assert decoded[1]["RowData"] == row


def test_restriction_tree_json() -> None:
    res = sample_restriction()
    view = to_jsonable(res)
    assert view["RestrictType"] == "AndRestriction" and view["RestrictCount"] == 8
    assert view["Restricts"][0]["RestrictType"] == "ContentRestriction"
    assert view["Restricts"][0]["PropTag"]["Name"] == "PidTagSubject"
    assert view["Restricts"][1]["Restriction"]["RestrictType"] == "ExistRestriction"
    assert Restriction.decode(Reader(res.to_bytes())) == res


def test_hostile_restriction_nesting_is_refused() -> None:
    with pytest.raises(DecodeError, match="deeper"):
        Restriction.decode(Reader(b"\x02" * 500 + b"\x08\x00\x00\x00\x00"))


def test_constructed_file_names_its_source() -> None:
    first = (DATA / "catalog_oxcrops_constructed.txt").read_text(encoding="utf-8").splitlines()[0]
    assert re.match(r"# MS-OXCROPS", first) and "constructed" in first


def test_named_properties_resolved_in_the_session_are_shown_by_set_and_name() -> None:
    from mapiprobe.protocol.properties import KIND_LID, KIND_NAME, PropertyName
    from mapiprobe.protocol.rops import RopGetPropertyIdsFromNamesRequest, RopGetPropertyIdsFromNamesResponse
    from mapiprobe.protocol.tags import PROPERTY_SETS

    names = (
        PropertyName(KIND_LID, PROPERTY_SETS["PSETID_Appointment"], lid=0x820D),
        PropertyName(KIND_NAME, PROPERTY_SETS["PS_PUBLIC_STRINGS"], name="Keywords"),
    )
    request = RopGetPropertyIdsFromNamesRequest(0, 0, 0x02, names)
    raw = RopGetPropertyIdsFromNamesResponse(0, (0x8001, 0x8002)).to_bytes()
    (alone,) = decode_responses(raw)
    assert "Resolved" not in to_jsonable(alone)
    (paired,) = decode_responses(raw, requests=[request])
    resolved = to_jsonable(paired)["Resolved"]
    assert resolved[0]["PropertyId"] == "0x8001"
    assert resolved[0]["PropertySet"] == "PSETID_Appointment" and resolved[0]["LID"] == "0x0000820D"
    assert resolved[0]["CanonicalName"] == "PidLidAppointmentStartWhole"
    assert (resolved[1]["Name"], resolved[1]["CanonicalName"]) == ("Keywords", "PidNameKeywords")
    assert paired.to_bytes() == raw and paired == alone


def test_a_one_form_failure_that_ends_the_buffer_is_the_bare_header() -> None:
    # ⚠ The spec's RopSetReadFlags response carries PartialCompletion whatever the result; gromox sends it
    # only on success. A failure that ends the RopsList right after ReturnValue decodes as the bare form.
    bare = bytes([RopId.RopSetReadFlags, 0x01]) + (0x80040102).to_bytes(4, "little")
    (rop,) = decode_responses(bare)
    assert isinstance(rop, RopFailureResponse) and rop.to_bytes() == bare
    (full,) = decode_responses(bare + b"\x01")
    assert isinstance(full, GenericRopResponse) and full["PartialCompletion"] == 1


def test_get_property_ids_from_names_warning_keeps_the_ids() -> None:
    # Constructed (MS-OXCROPS 2.2.8.1.2 layout, ReturnValue 0x00040380 ecWarnWithErrors): IDs 0x8001, 0x0000.
    raw = bytes.fromhex("56 01 80030400 0200 0180 0000")
    (rop,) = decode_responses(raw)
    assert rop.return_value == 0x00040380  # type: ignore[attr-defined]
    assert rop.property_ids == (0x8001, 0)  # type: ignore[attr-defined]
    view = to_jsonable(rop)
    assert view["ReturnValue"] == 0x00040380 and view["PropertyIdCount"] == 2 and "Warning" not in view
    assert rop.to_bytes() == raw


def test_gromox_capture_of_table_driven_rops() -> None:
    """A real, independent server's answers (gromox 3.10) decode with the table and re-encode byte-exact."""
    lines = dict(
        line.split(" ", 1)
        for line in (DATA / "gromox_catalog_rops_capture.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    raw_requests, raw_responses = bytes.fromhex(lines["REQUEST"]), bytes.fromhex(lines["RESPONSE"])
    requests = decode_requests(raw_requests)
    responses = decode_responses(raw_responses, requests=requests)
    assert encode_rops(requests) == raw_requests and encode_rops(responses) == raw_responses
    names = [RopId(r.rop_id).name for r in responses]
    assert names == [
        "RopGetStoreState",
        "RopGetReceiveFolder",
        "RopLongTermIdFromId",
        "RopGetPerUserLongTermIds",
        "RopGetPropertiesList",
        "RopGetAddressTypes",
        "RopGetTransportFolder",
    ]
    store_state, receive, ltid, per_user, props, types, transport = responses
    assert isinstance(store_state, RopFailureResponse)  # gromox does not implement it
    assert store_state.return_value == 0x80040FFF  # ecNotImplemented (MS-OXCDATA 2.4.1)
    assert receive["ExplicitMessageClass"] == "IPM" and str(receive["FolderId"]) == "0001-00000000000D"
    assert to_jsonable(ltid)["LongTermId"]["GlobalCounter"] == "00000000000D"
    assert per_user["LongTermIds"] == []
    assert props["PropertyTagCount"] == len(props["PropertyTags"]) == 31
    assert types["AddressTypes"] == ["SMTP", "EX"]
    assert str(transport["FolderId"]) == "0001-00000000000C"
