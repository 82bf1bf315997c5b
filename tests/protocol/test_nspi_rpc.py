"""NSPI over RPC (MS-OXNSPI 3.1.4.1) and RFR (MS-OXABREF 3.1.4) NDR stubs.

MS-OXNSPI section 4 prints the *values* of NspiBind and NspiGetSpecialTable (no hex); MS-OXABREF prints no
example. The byte vectors here are therefore built by hand from the NDR layouts (C706 14) and named
``*_constructed``; the NspiBind one carries section 4's values.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol import nspi_rpc as n
from mapiprobe.protocol.errors import DecodeError, EncodeError
from mapiprobe.protocol.ndr import ContextHandle, NdrReader
from mapiprobe.protocol.nspi_ndr import (
    RES_AND,
    RES_CONTENT,
    RES_EXIST,
    RES_NOT,
    RES_OR,
    Out,
    Restriction,
    get_restriction,
    get_rowset,
    put_restriction,
    put_rowset,
)
from mapiprobe.protocol.nspi_types import Stat
from mapiprobe.protocol.properties import ErrorCode, FileTime, PropertyTag, PropertyValue
from mapiprobe.protocol.registry import DecodeContext, kinds
from tests.hypothesis_profiles import examples

H = ContextHandle(0, uuid.UUID("12345678-1234-5678-9abc-def012345678"))
H_WIRE = bytes(4) + H.uuid.bytes_le
STAT_SECTION4 = Stat(code_page=0x4E4, template_locale=0x409, sort_locale=0x409)
STAT_WIRE = bytes(24) + bytes.fromhex("e4040000 09040000 09040000")


def pv(tag: int, value: object) -> PropertyValue:
    return PropertyValue(PropertyTag(tag), value)


def test_bind_request_section4_values_constructed() -> None:
    # MS-OXNSPI 4: dwFlags 0, STAT {0,...,CodePage 0x4E4, locales 0x409}, pServerGuid -> 16 bytes.
    wire = bytes(4) + STAT_WIRE + bytes.fromhex("00000200") + bytes(16)
    req = n.NspiBindRequest(0, STAT_SECTION4)
    assert req.encode() == wire
    assert n.NspiBindRequest.decode(wire) == req


def test_bind_response_constructed() -> None:
    guid = uuid.UUID("d3d0bc4e-0c47-4e1b-9c2e-8a7cbeefcafe")
    wire = bytes.fromhex("00000200") + guid.bytes_le + H_WIRE + bytes(4)
    resp = n.NspiBindResponse.decode(wire)
    assert resp == n.NspiBindResponse(guid, H, 0)
    assert resp.encode() == wire
    # A failed bind: NULL guid pointer, null handle, an error code.
    failed = bytes(4) + bytes(20) + bytes.fromhex("05000780")
    assert n.NspiBindResponse.decode(failed).return_value == 0x80070005


def test_unbind_and_update_stat_constructed() -> None:
    assert n.NspiUnbindRequest(H).encode() == H_WIRE + bytes(4)
    assert n.NspiUnbindResponse.decode(bytes(20) + b"\x01\x00\x00\x00").return_value == 1
    req = n.NspiUpdateStatRequest(H, STAT_SECTION4, delta_requested=True)
    assert req.encode() == H_WIRE + bytes(4) + STAT_WIRE + bytes.fromhex("00000200 00000000")
    resp_wire = STAT_WIRE + bytes.fromhex("00000200 fdffffff 00000000")
    assert n.NspiUpdateStatResponse.decode(resp_wire) == n.NspiUpdateStatResponse(STAT_SECTION4, -3, 0)


def test_query_rows_request_constructed() -> None:
    cols = (0x3001001F, 0x0FFF0102)
    wire = (
        H_WIRE
        + bytes.fromhex("02000000")  # dwFlags fEphID
        + STAT_WIRE
        + bytes.fromhex("00000000 00000000")  # dwETableCount 0, lpETable NULL
        + bytes.fromhex("32000000")  # Count 50
        + bytes.fromhex("00000200")  # pPropTags referent
        + bytes.fromhex("03000000 02000000 00000000 02000000")  # cValues+1, cValues, offset, actual
        + bytes.fromhex("1f000130 0201ff0f")
    )
    req = n.NspiQueryRowsRequest(H, STAT_SECTION4, 50, cols, flags=2)
    assert req.encode() == wire
    assert n.NspiQueryRowsRequest.decode(wire) == req
    with_table = n.NspiQueryRowsRequest(H, STAT_SECTION4, 2, None, explicit_table=(0x10, 0x11))
    assert n.NspiQueryRowsRequest.decode(with_table.encode()) == with_table
    assert with_table.encode()[60:80] == bytes.fromhex("02000000 00000200 02000000 10000000 11000000")


ROWSET_CONSTRUCTED = bytes.fromhex(
    "01000000 01000000"  # max_count, cRows
    "00000000 03000000 00000200"  # aRow[0]: ulAdrEntryPad, cValues 3, lpProps referent
    "03000000"  # lpProps max_count
    "03000039 00000000 03000000 00000000"  # PidTagDisplayType, reserved, discriminant, l = 0
    "1f000130 00000000 1f000000 04000200"  # PidTagDisplayName W, discriminant, lpszW referent
    "0201ff0f 00000000 02010000 03000000 08000200"  # PidTagEntryId, discriminant, Binary_r {cb 3, lpb}
    "03000000 00000000 03000000 41006c000000 0000"  # "Al" (3 wchar with NUL), padding to 4
    "03000000 aabbcc"  # the 3 binary bytes (conformant array)
)


def test_rowset_constructed_both_ways() -> None:
    row = (pv(0x39000003, 0), pv(0x3001001F, "Al"), pv(0x0FFF0102, b"\xaa\xbb\xcc"))
    o = Out()
    put_rowset(o, (row,))
    assert o.getvalue() == ROWSET_CONSTRUCTED
    assert get_rowset(NdrReader(ROWSET_CONSTRUCTED)) == (row,)


def test_query_rows_response_round_trip_and_null_rows() -> None:
    row = (pv(0x39000003, 0), pv(0x3001001F, "Al"), pv(0x0FFF0102, b"\xaa\xbb\xcc"))
    resp = n.NspiQueryRowsResponse(STAT_SECTION4, (row, row), 0)
    assert n.NspiQueryRowsResponse.decode(resp.encode()) == resp
    failed = STAT_WIRE + bytes(4) + bytes.fromhex("0f010480")
    assert n.NspiQueryRowsResponse.decode(failed) == n.NspiQueryRowsResponse(STAT_SECTION4, None, 0x8004010F)


def test_property_value_arms_round_trip() -> None:
    values = (
        pv(0x00010002, -2),
        pv(0x3A000003 & 0xFFFF0000 | 0x0003, 7),
        pv(0x0001000B, True),
        pv(0x3001001E, "eight-bit"),
        pv(0x3001001F, "Ünïcode ✓"),
        pv(0x00010048, uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")),
        pv(0x30070040, FileTime(0x01D0_0000_1234_5678)),
        pv(0x3001000A, ErrorCode(0x8004010F)),
        pv(0x00010001, 0),
        pv(0x10021002, (1, -1 & 0xFFFF)),
        pv(0x80081003, (1, 2, 3)),
        pv(0x8009101E, ("a", "bc")),
        pv(0x800A101F, ("x", "yz", "")),
        pv(0x800B1102, (b"", b"\x01\x02\x03")),
        pv(0x800C1048, (uuid.UUID(int=1), uuid.UUID(int=2))),
        pv(0x800D1040, (FileTime(1), FileTime(2**40))),
    )
    o = Out()
    put_rowset(o, (values,))
    back = get_rowset(NdrReader(o.getvalue()))[0]
    assert back[0].value == -2
    assert [v.value for v in back[1:]] == [v.value for v in values[1:]]


def test_boolean_in_gromox_one_byte_form() -> None:
    # gromox writes PtypBoolean as one byte and pads to 4 (the spec says unsigned short): both read True.
    spec = bytes.fromhex("0b000b00 00000000 0b000000 01000000")
    gromox = bytes.fromhex("0b000b00 00000000 0b000000 01000000")
    from mapiprobe.protocol.nspi_ndr import get_value

    assert get_value(NdrReader(spec)).value is True
    assert get_value(NdrReader(gromox[:12] + b"\x01\xaa\x00\x00")).value is True


def test_float_has_no_arm() -> None:
    o = Out()
    with pytest.raises(EncodeError, match="no arm"):
        put_rowset(o, ((pv(0x00010005, 1.5),),))


def test_discriminant_mismatch_is_an_error() -> None:
    bad = bytes.fromhex("03000039 00000000 1f000000 00000000")
    from mapiprobe.protocol.nspi_ndr import get_value

    with pytest.raises(DecodeError, match="discriminant"):
        get_value(NdrReader(bad))


ANR_CONSTRUCTED = bytes.fromhex(
    "04000000 04000000"  # rt RES_PROPERTY, union discriminant
    "04000000 1f000c36 00000200"  # relop RELOP_EQ, PidTagAnr, lpProp referent
    "1f000c36 00000000 1f000000 04000200"  # PropertyValue_r, lpszW referent
    "04000000 00000000 04000000 61006c0069000000"  # "ali" (nothing follows: no padding)
)


def test_anr_restriction_constructed() -> None:
    res = Restriction.property(0x360C001F, "ali")
    o = Out()
    put_restriction(o, res)
    assert o.getvalue() == ANR_CONSTRUCTED
    assert get_restriction(NdrReader(ANR_CONSTRUCTED)) == res


def test_nested_restrictions_round_trip() -> None:
    res = Restriction(
        RES_AND,
        (
            Restriction(
                RES_OR, (Restriction.property(0x3001001F, "x"), Restriction(RES_EXIST, tag=0x39FE001F))
            ),
            Restriction(
                RES_NOT, (Restriction(RES_CONTENT, tag=0x3001001F, value=pv(0x3001001F, "y"), fuzzy_level=1),)
            ),
        ),
    )
    o = Out()
    put_restriction(o, res)
    assert get_restriction(NdrReader(o.getvalue())) == res


def test_get_matches_request_round_trip() -> None:
    req = n.NspiGetMatchesRequest(
        H, STAT_SECTION4, Restriction.property(0x360C001F, "ali"), 50, (0x3001001F,), (uuid.UUID(int=5), 7)
    )
    wire = req.encode()
    assert wire[:20] == H_WIRE and wire[24:60] == STAT_WIRE
    assert n.NspiGetMatchesRequest.decode(wire) == req
    resp = n.NspiGetMatchesResponse(
        STAT_SECTION4, (0x10, 0x11), ((pv(0x3001001F, "a"),), (pv(0x3001001F, "b"),))
    )
    assert n.NspiGetMatchesResponse.decode(resp.encode()) == resp


def test_other_methods_round_trip() -> None:
    stubs = [
        n.NspiSeekEntriesRequest(H, STAT_SECTION4, pv(0x3001001F, "b"), (0x3001001F,), (0x10, 0x12)),
        n.NspiSeekEntriesResponse(STAT_SECTION4, ((pv(0x3001001F, "bob"),),)),
        n.NspiDNToMIdRequest(H, ("/o=Org/ou=x/cn=Recipients/cn=a", "/o=Org/cn=b")),
        n.NspiDNToMIdResponse((0x10, 0)),
        n.NspiGetPropListRequest(H, 0x10),
        n.NspiGetPropListResponse((0x3001001E, 0x39FE001E)),
        n.NspiGetPropsRequest(H, STAT_SECTION4, (0x3001001F,), flags=2),
        n.NspiGetPropsResponse((pv(0x3001001F, "x"), pv(0x39FE000A, ErrorCode(0x8004010F))), 0x00040380),
        n.NspiGetPropsResponse(None, 0x8004010F),
        n.NspiGetSpecialTableRequest(H, STAT_SECTION4, flags=4),
        n.NspiGetSpecialTableResponse(3, ((pv(0x3001001F, "Global Address List"), pv(0xFFFD0003, 0)),)),
        n.NspiQueryColumnsRequest(H, flags=0x80000000),
        n.NspiQueryColumnsResponse((0x3001001F,)),
        n.NspiResolveNamesWRequest(H, STAT_SECTION4, ("alice", "böb"), (0x3001001F,)),
        n.NspiResolveNamesWRequest(H, STAT_SECTION4, ("alice", "zz-nobody-zz"), None),  # ends unaligned
        n.NspiResolveNamesWRequest(H, STAT_SECTION4, ("alice",), None, wide=False),
        n.NspiResolveNamesResponse(
            (2, 0), ((pv(0x3001001F, "Alice"),), (pv(0x3001000A, ErrorCode(0x8004010F)),))
        ),
        n.NspiResolveNamesResponse(None, None, 0x80040700),
    ]
    for stub in stubs:
        if isinstance(stub, n.NspiResolveNamesWRequest):
            assert n.NspiResolveNamesWRequest.decode(stub.encode(), wide=stub.wide) == stub
        else:
            assert type(stub).decode(stub.encode()) == stub, stub


def test_dn_to_mid_request_constructed() -> None:
    wire = H_WIRE + bytes.fromhex(
        "00000000"  # Reserved
        "01000000 01000000 00000200"  # max_count, Count, Strings[0] referent
        "05000000 00000000 05000000 2f6f3d4f00"  # "/o=O" + NUL (the stub ends: no padding)
    )
    req = n.NspiDNToMIdRequest(H, ("/o=O",))
    assert req.encode() == wire
    assert n.NspiDNToMIdRequest.decode(wire) == req


def test_rfr_get_new_dsa_constructed() -> None:
    wire = bytes.fromhex(
        "00000000"  # ulFlags
        "07000000 00000000 07000000 2f6f3d4f72670000"  # pUserDN "/o=Org" + NUL + 1 byte padding
        "00000000"  # ppszUnused NULL
        "00000200 00000000"  # ppszServer -> NULL string
    )
    req = n.RfrGetNewDSARequest("/o=Org")
    assert req.encode() == wire
    assert n.RfrGetNewDSARequest.decode(wire) == req
    resp_wire = bytes.fromhex(
        "00000000"  # ppszUnused NULL
        "00000200 04000200 0b000000 00000000 0b000000 6578636833312e6f726700 00"  # "exch31.org" + pad
        "00000000"
    )
    resp = n.RfrGetNewDSAResponse.decode(resp_wire)
    assert resp == n.RfrGetNewDSAResponse("exch31.org", 0)
    assert resp.encode() == resp_wire


def test_rfr_get_fqdn_constructed() -> None:
    dn = "/o=Org/ou=G/cn=Configuration/cn=Servers/cn=EX1"
    raw = dn.encode() + b"\x00"
    wire = bytes(4) + len(raw).to_bytes(4, "little") * 2 + bytes(4) + len(raw).to_bytes(4, "little") + raw
    req = n.RfrGetFQDNFromServerDNRequest(dn)
    assert req.encode() == wire
    assert n.RfrGetFQDNFromServerDNRequest.decode(wire) == req
    resp = n.RfrGetFQDNFromServerDNResponse("ex1.org.test")
    assert n.RfrGetFQDNFromServerDNResponse.decode(resp.encode()) == resp
    with pytest.raises(DecodeError, match="cbMailboxServerDN"):
        n.RfrGetFQDNFromServerDNRequest.decode(bytes(4) + (5).to_bytes(4, "little") + wire[8:])


def test_decode_kinds() -> None:
    data = n.NspiBindRequest(0, STAT_SECTION4).encode()
    out = kinds()["nspi-rpc-request"].func(data, DecodeContext(request_type="NspiBind"))
    assert out == n.NspiBindRequest(0, STAT_SECTION4)
    out = kinds()["rfr-response"].func(n.RfrGetNewDSAResponse("x").encode(), DecodeContext(request_type="0"))
    assert out.server == "x"
    with pytest.raises(DecodeError, match="unknown NSPI"):
        kinds()["nspi-rpc-response"].func(b"", DecodeContext(request_type="NspiNope"))


@settings(max_examples=examples(200))
@given(st.binary(max_size=200), st.sampled_from(sorted(n.NSPI_RESPONSES)))
def test_garbage_never_escapes_as_another_exception(data: bytes, opnum: int) -> None:
    for table in (n.NSPI_REQUESTS, n.NSPI_RESPONSES):
        if opnum in table:
            with contextlib.suppress(DecodeError):
                table[opnum].decode(data)


def test_bridge_rows_flagged_both_ways() -> None:
    from mapiprobe.protocol.nspi_bridge import row_from_ndr, row_to_ndr
    from mapiprobe.protocol.properties import ErrorValue

    cols = (0x3001001F, 0x3A17001F)
    ndr = (pv(0x3001001F, "Bob"), pv(0x3A17000A, ErrorCode(0x8004010F)))
    row = row_from_ndr(ndr, cols)
    assert row.flag == 0x01
    assert [(int(v.tag), v.flag) for v in row.values] == [(0x3001001F, 0x0), (0x3A17001F, 0xA)]
    assert isinstance(row.values[1].value, ErrorValue) and int(row.values[1].value) == 0x8004010F
    assert row_to_ndr(row) == ndr
    plain = row_from_ndr((pv(0x3001001F, "Bob"), pv(0x3A17001F, "CEO")), cols)
    assert plain.flag == 0x00 and row_to_ndr(plain) == (pv(0x3001001F, "Bob"), pv(0x3A17001F, "CEO"))


def test_bridge_restrictions_oxcdata_round_trip() -> None:
    from mapiprobe.protocol.nspi_bridge import restriction_from_oxcdata, restriction_to_oxcdata

    res = Restriction(
        RES_OR,
        (
            Restriction.property(0x360C001F, "smith"),
            Restriction(RES_NOT, (Restriction(RES_EXIST, tag=0x39FE001F),)),
            Restriction(RES_CONTENT, tag=0x3001001F, value=pv(0x3001001F, "sm"), fuzzy_level=0x10001),
        ),
    )
    data = restriction_to_oxcdata(res)
    assert data[:3] == bytes.fromhex("010300")  # RES_OR, RestrictCount 3 (2 bytes)
    assert restriction_from_oxcdata(data) == res
    with pytest.raises(DecodeError, match="not carried"):
        restriction_from_oxcdata(b"\x06" + bytes(12))


def test_bridge_maps_every_request_type_and_back() -> None:
    from mapiprobe.protocol import nspi as mh
    from mapiprobe.protocol.nspi_bridge import mapihttp_request, rpc_request

    requests = [
        mh.BindRequest(flags=0, state=STAT_SECTION4),
        mh.UnbindRequest(),
        mh.GetSpecialTableRequest(flags=4, state=STAT_SECTION4, version=0),
        mh.QueryRowsRequest(
            flags=2, state=STAT_SECTION4, explicit_table=(), row_count=5, columns=(PropertyTag(0x3001001F),)
        ),
        mh.SeekEntriesRequest(
            state=STAT_SECTION4, target=pv(0x3001001F, "m"), columns=(PropertyTag(0x3001001F),)
        ),
        mh.GetPropsRequest(flags=2, state=STAT_SECTION4, property_tags=(PropertyTag(0x3001001F),)),
        mh.GetPropListRequest(flags=0, minimal_id=0x10, code_page=1252),
        mh.QueryColumnsRequest(mapi_flags=0x80000000),
        mh.ResolveNamesRequest(state=STAT_SECTION4, property_tags=None, names=("a", "b")),
        mh.DNToMIdRequest(names=("/o=x",)),
        mh.UpdateStatRequest(state=STAT_SECTION4, delta_requested=True),
    ]
    for req in requests:
        stub = rpc_request(req, H)
        back = mapihttp_request(
            type(stub).decode(stub.encode()) if not isinstance(stub, n.NspiResolveNamesWRequest) else stub
        )
        assert back == req, (req, back)
