"""RTS PDUs (MS-RPCH), connection-oriented DCE/RPC PDUs (C706 12, MS-RPCE) and EMSMDB NDR (MS-OXCRPC 3.1.4).

MS-RPCH and C706 print layouts, not dumps: the ``*_constructed`` vectors in tests/data are built by hand from
those layouts, byte by byte, and their sizes agree with the sizes MS-RPCH states (CONN/A1 76 bytes, CONN/B1
104, CONN/C2 44, FlowControlAckWithDestination 56). MS-OXCRPC 4.1 lists EcDoConnectEx's parameter values;
the NDR vector serialises them. MS-OXCRPC 4.2's rgbIn header is the one in tests/data already.
"""

from __future__ import annotations

import contextlib
import struct
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol import dcerpc, emsmdb_rpc, rts
from mapiprobe.protocol.dcerpc import (
    EMSMDB,
    NDR,
    AuthLevel,
    AuthType,
    Bind,
    BindAck,
    BindNak,
    ContextElement,
    ContextResultEntry,
    Fault,
    Pdu,
    PduStream,
    PType,
    Request,
    Response,
    SecTrailer,
    build_pdu,
    fragment_stub,
)
from mapiprobe.protocol.errors import DecodeError, EncodeError, ProtocolError
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.ndr import ContextHandle, NdrReader, NdrWriter
from mapiprobe.protocol.registry import DecodeContext, kinds
from tests.hypothesis_profiles import examples

DATA = Path(__file__).resolve().parents[1] / "data"
VC = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
OUT = uuid.UUID("01010101-0202-0303-0404-050505050505")
IN = uuid.UUID("0a0a0a0a-0b0b-0c0c-0d0d-0e0e0e0e0e0e")
GROUP = uuid.UUID("11111111-2222-3333-4444-555555555555")


def load_vector(name: str) -> bytes:
    lines = (DATA / name).read_text(encoding="ascii").splitlines()
    assert lines[0].startswith("#"), "every vector file starts by citing its source"
    return bytes.fromhex("".join(line for line in lines if not line.startswith("#")))


# -- RTS ----------------------------------------------------------------------------------------------


def test_conn_a1_matches_the_layout() -> None:
    data = load_vector("rpch_conn_a1_constructed.txt")
    assert len(data) == 76
    assert rts.conn_a1(VC, OUT, 0x10000).encode() == data
    pdu = rts.RtsPdu.decode(data)
    assert pdu.name == "CONN/A1"
    assert [c.value for c in pdu.commands] == [1, VC, OUT, 0x10000]


def test_conn_b1_matches_the_layout() -> None:
    data = load_vector("rpch_conn_b1_constructed.txt")
    assert len(data) == 104
    assert rts.conn_b1(VC, IN, GROUP, channel_lifetime=0x40000000, client_keepalive=300_000).encode() == data
    pdu = rts.RtsPdu.decode(data)
    assert pdu.name == "CONN/B1"
    assert pdu.u32(rts.CommandType.CLIENT_KEEPALIVE) == 300_000
    assert pdu.command(rts.CommandType.ASSOCIATION_GROUP_ID) == GROUP


def test_conn_c2_and_a3() -> None:
    data = load_vector("rpch_conn_c2_constructed.txt")
    assert len(data) == 44
    pdu = rts.RtsPdu.decode(data)
    assert pdu.name == "CONN/C2"
    assert pdu.u32(rts.CommandType.RECEIVE_WINDOW_SIZE) == 0x10000
    assert pdu.u32(rts.CommandType.CONNECTION_TIMEOUT) == 120_000
    assert rts.conn_c2(0x10000, 120_000).encode() == data
    a3 = rts.conn_a3(120_000).encode()
    assert len(a3) == 28 and rts.RtsPdu.decode(a3).name == "CONN/A3"


def test_flow_control_ack_with_destination() -> None:
    data = load_vector("rpch_flow_control_ack_with_destination_constructed.txt")
    assert len(data) == 56
    assert rts.flow_control_ack_with_destination(0x8000, 0x10000, OUT).encode() == data
    pdu = rts.RtsPdu.decode(data)
    assert pdu.name == "FlowControlAckWithDestination"
    ack = pdu.command(rts.CommandType.FLOW_CONTROL_ACK)
    assert ack == rts.FlowControlAck(0x8000, 0x10000, OUT)


def test_echo_ping_keepalive_are_named() -> None:
    echo = rts.echo().encode()
    assert echo == bytes.fromhex("05001403 10000000 1400 0000 00000000 4000 0000")
    assert rts.RtsPdu.decode(echo).name == "Echo"
    assert rts.RtsPdu.decode(rts.ping().encode()).name == "Ping"
    assert rts.RtsPdu.decode(rts.keep_alive(300_000).encode()).name == "Keep-Alive"
    assert rts.RtsPdu.decode(rts.flow_control_ack(1, 2, IN).encode()).name == "FlowControlAck"


def test_rts_rejects_bad_input_with_offsets() -> None:
    data = bytearray(load_vector("rpch_conn_c2_constructed.txt"))
    data[20] = 0x63  # an unknown CommandType
    with pytest.raises(DecodeError, match="unknown RTS command type 99") as err:
        rts.RtsPdu.decode(bytes(data))
    assert err.value.offset == 20
    with pytest.raises(DecodeError, match="not RTS"):
        rts.RtsPdu.decode(load_vector("dcerpc_fault_constructed.txt"))
    with pytest.raises(DecodeError):
        rts.RtsPdu.decode(load_vector("rpch_conn_c2_constructed.txt")[:40])
    with pytest.raises(EncodeError, match="receive window"):
        rts.conn_a1(VC, OUT, 100)


def test_rts_padding_and_client_address_round_trip() -> None:
    pdu = rts.RtsPdu(
        rts.RtsFlags.NONE,
        (
            rts.RtsCommand(rts.CommandType.PADDING, b"\x00" * 5),
            rts.RtsCommand(rts.CommandType.CLIENT_ADDRESS, rts.ClientAddress(0, bytes([127, 0, 0, 1]))),
            rts.RtsCommand(rts.CommandType.ANCE),
        ),
    )
    assert rts.RtsPdu.decode(pdu.encode()) == pdu


# -- DCE/RPC ------------------------------------------------------------------------------------------


def test_bind_matches_the_layout() -> None:
    data = load_vector("dcerpc_bind_emsmdb_constructed.txt")
    bind = Bind((ContextElement(0, EMSMDB, (NDR,)),))
    assert build_pdu(PType.BIND, bind.encode(), call_id=1) == data
    pdu = Pdu.decode(data)
    assert pdu.ptype == PType.BIND and pdu.call_id == 1
    assert pdu.parse() == bind
    assert EMSMDB.uuid == uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da") and (
        EMSMDB.major,
        EMSMDB.minor,
    ) == (0, 81)


def test_bind_ack_matches_the_layout() -> None:
    data = load_vector("dcerpc_bind_ack_constructed.txt")
    ack = BindAck((ContextResultEntry(0, 0, NDR),), 4280, 4280, 0x12345, "6001")
    assert build_pdu(PType.BIND_ACK, ack.encode(), call_id=1) == data
    parsed = Pdu.decode(data).parse()
    assert parsed == ack
    assert isinstance(parsed, BindAck) and parsed.results[0].accepted


def test_fault_matches_the_layout_and_is_named() -> None:
    data = load_vector("dcerpc_fault_constructed.txt")
    fault = Pdu.decode(data).parse()
    assert isinstance(fault, Fault)
    assert fault.status == 0x1C010002
    assert fault.name.startswith("nca_s_op_rng_error (0x1C010002")
    assert build_pdu(PType.FAULT, Fault(0x1C010002).fixed(), call_id=2) == data
    assert dcerpc.fault_name(0x12345678) == "0x12345678"
    assert "RPC_S_UNSUPPORTED_AUTHN_LEVEL" in dcerpc.fault_name(0x71D)


def test_bind_nak_with_and_without_versions() -> None:
    body = BindNak(dcerpc.RejectReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED).encode()
    assert body == bytes.fromhex("0800 01 0500")
    assert BindNak.decode(body).reason_name == "authentication_type_not_recognized"
    assert BindNak.decode(b"\x04\x00") == BindNak(4, ())


def test_request_response_with_verifier_sections() -> None:
    """The verifier: pad to 4, sec_trailer (auth_pad_length = pad), auth_value; sections() gives what a
    signature covers and what privacy encrypts (MS-RPCE 3.3.1.5.2)."""
    stub = b"\x01\x02\x03\x04\x05"
    req = Request(opnum=11, stub=stub)
    trailer = SecTrailer(AuthType.WINNT, AuthLevel.PKT_PRIVACY, context_id=79231)
    seen: list[tuple[bytes, bytes, bytes]] = []

    def protect(head: bytes, middle: bytes, tail: bytes) -> tuple[bytes, bytes]:
        seen.append((head, middle, tail))
        return bytes(b ^ 0xFF for b in middle), b"S" * 16

    raw = build_pdu(
        PType.REQUEST, req.fixed(), stub, call_id=7, trailer=trailer, auth_length=16, protect=protect
    )
    head, middle, tail = seen[0]
    assert len(head) == 24 and middle == stub + b"\x00\x00\x00" and tail == bytes.fromhex("0a060300 7f350100")
    assert struct.unpack_from("<HH", raw, 8) == (len(raw), 16)
    pdu = Pdu.decode(raw)
    assert pdu.trailer == SecTrailer(AuthType.WINNT, AuthLevel.PKT_PRIVACY, 3, 79231)
    assert pdu.auth_value == b"S" * 16
    h2, m2, t2 = pdu.sections()
    assert (h2, t2) == (head, tail) and m2 == bytes(b ^ 0xFF for b in middle)
    clear = pdu.with_stub_and_pad(middle)
    parsed = clear.parse()
    assert isinstance(parsed, Request) and parsed.stub == stub and parsed.opnum == 11
    resp = Response(b"abc", alloc_hint=3)
    assert Pdu.decode(build_pdu(PType.RESPONSE, resp.fixed(), resp.stub, call_id=7)).parse() == resp


def test_fragmentation_and_stream_reassembly() -> None:
    stub = bytes(range(256)) * 40  # 10240 bytes
    pieces = fragment_stub(stub, 4280, 24)
    assert pieces[0][0] == dcerpc.PFC_FIRST_FRAG and pieces[-1][0] == dcerpc.PFC_LAST_FRAG
    assert all(len(p) % 8 == 0 for _, p in pieces[:-1])
    assert b"".join(p for _, p in pieces) == stub
    stream = b"".join(
        build_pdu(
            PType.REQUEST,
            Request(11, p, alloc_hint=len(stub) - i * len(pieces[0][1])).fixed(),
            p,
            call_id=3,
            flags=f,
        )
        for i, (f, p) in enumerate(pieces)
    )
    assert all(len(x) <= 4280 for x in dcerpc.split_pdus(stream))
    reader = PduStream()
    got = []
    for i in range(0, len(stream), 1000):  # bytes arriving in arbitrary pieces
        got.extend(reader.feed(stream[i : i + 1000]))
    assert reader.pending == 0
    assert b"".join(Request.decode(Pdu.decode(g).body, 0).stub for g in got) == stub
    with pytest.raises(EncodeError):
        fragment_stub(b"x", 20, 24)


def test_bad_headers_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="not a connection-oriented"):
        Pdu.decode(b"\x04" + bytes(15))
    big_endian = bytearray(load_vector("dcerpc_fault_constructed.txt"))
    big_endian[4] = 0x00
    with pytest.raises(DecodeError, match="not little-endian"):
        Pdu.decode(bytes(big_endian))
    with pytest.raises(DecodeError, match="frag_length"):
        Pdu.decode(load_vector("dcerpc_fault_constructed.txt") + b"\x00")
    bad_auth = bytearray(load_vector("dcerpc_fault_constructed.txt"))
    bad_auth[10] = 0xF0
    with pytest.raises(DecodeError, match="auth_length"):
        Pdu.decode(bytes(bad_auth))
    with pytest.raises(ProtocolError, match="stream ends inside a PDU"):
        dcerpc.split_pdus(load_vector("dcerpc_fault_constructed.txt")[:20])


@settings(max_examples=examples(300))
@given(st.binary(max_size=200))
def test_pdu_decoders_raise_only_protocol_errors(data: bytes) -> None:
    for decoder in (Pdu.decode, rts.RtsPdu.decode, lambda d: Pdu.decode(d).parse(), dcerpc.split_pdus):
        with contextlib.suppress(ProtocolError):
            decoder(data)


@settings(max_examples=examples(200))
@given(
    st.binary(max_size=120),
    st.integers(1, 0xFFFF),
    st.sampled_from([AuthLevel.CONNECT, AuthLevel.PKT_INTEGRITY]),
)
def test_verifier_round_trip(stub: bytes, call_id: int, level: AuthLevel) -> None:
    raw = build_pdu(
        PType.RESPONSE,
        Response(stub).fixed(),
        stub,
        call_id=call_id,
        trailer=SecTrailer(AuthType.WINNT, level),
        auth_value=b"\xaa" * 16,
    )
    pdu = Pdu.decode(raw)
    parsed = pdu.parse()
    assert isinstance(parsed, Response) and parsed.stub == stub and pdu.auth_value == b"\xaa" * 16
    assert (16 + 8 + len(stub) + pdu.trailer.pad_length) % 4 == 0 if pdu.trailer else False


# -- NDR and EMSMDB ------------------------------------------------------------------------------------


def test_ecdoconnectex_request_ndr_matches_the_constructed_vector() -> None:
    data = load_vector("oxcrpc_ecdoconnectex_ndr_request_constructed.txt")
    req = emsmdb_rpc.ConnectExRequest(
        user_dn="/o=First Organization/ou=First Administrative Group/CN=recipients/CN=janedow",
        flags=0,
        con_mod=0x2F6B2F45,
        cpid=0x4E4,
        lcid_string=0x409,
        lcid_sort=0x409,
        icxr_link=0xFFFFFFFF,
        can_convert_code_pages=1,
        client_version=(0x000C, 0x183E, 0x03E8),
        timestamp=0,
        aux_in=b"",
        cb_aux_out=0x1008,
    )
    assert req.encode() == data
    assert emsmdb_rpc.ConnectExRequest.decode(data) == req


def test_ecdoconnectex_response_round_trip_and_layout() -> None:
    handle = ContextHandle(0, uuid.UUID("12345678-9abc-def0-1122-334455667788"))
    resp = emsmdb_rpc.ConnectExResponse(
        handle, 60000, 6, 10000, 0x1234, "/o=First Organization/ou=Exchange/cn=Recipients/cn=", "Jane Dow",
        (0x0F, 0x8000, 0x0B3A), (0x0F, 0x8000, 0x0B3A), 0, bytes.fromhex("0000040008000800080001170100"), 0,
    )  # fmt: skip
    data = resp.encode()
    # Independent reading of the first fields: handle (20), three u32, u16, 2 pad, referent id.
    assert data[:4] == b"\x00\x00\x00\x00" and data[4:20] == handle.uuid.bytes_le
    assert struct.unpack_from("<IIIH", data, 20) == (60000, 6, 10000, 0x1234)
    assert struct.unpack_from("<I", data, 36) == (0x00020000,)
    assert data[-4:] == b"\x00\x00\x00\x00"
    assert emsmdb_rpc.ConnectExResponse.decode(data) == resp


def test_ecdorpcext2_carries_the_oxcrpc_4_2_rgbin_unchanged() -> None:
    header = load_vector("oxcrpc_4_2_rgbin_rpc_header_ext.txt")
    rgb_in = header + bytes(0x152)  # the 4.2 example's header and a payload of its Size
    handle = ContextHandle(0, uuid.uuid4())
    req = emsmdb_rpc.RpcExt2Request(handle, rgb_in, flags=3, cb_out=0x40000, aux_in=b"", cb_aux_out=0x1008)
    data = req.encode()
    expected = (
        struct.pack("<I", 0) + handle.uuid.bytes_le + struct.pack("<II", 3, len(rgb_in)) + rgb_in
        + bytes(-len(rgb_in) % 4) + struct.pack("<IIIII", len(rgb_in), 0x40000, 0, 0, 0x1008)
    )  # fmt: skip
    assert len(rgb_in) == 0x15A
    assert data == expected
    assert emsmdb_rpc.RpcExt2Request.decode(data) == req
    out = emsmdb_rpc.RpcExt2Response(handle, rgb_in, 0, b"", 17, 0)
    encoded = out.encode()
    assert struct.unpack_from("<III", encoded, 24) == (0x15A, 0, 0x15A)
    assert emsmdb_rpc.RpcExt2Response.decode(encoded) == out


def test_disconnect_and_ndr_errors() -> None:
    handle = ContextHandle(0, uuid.uuid4())
    assert (
        emsmdb_rpc.DisconnectRpcRequest.decode(emsmdb_rpc.DisconnectRpcRequest(handle).encode()).handle
        == handle
    )
    done = emsmdb_rpc.DisconnectRpcResponse()
    assert done.encode() == bytes(24) and emsmdb_rpc.DisconnectRpcResponse.decode(bytes(24)).handle.is_null
    bad = NdrWriter().u32(4).u32(0).u32(9).raw(b"abcd").getvalue()  # actual_count > max_count
    with pytest.raises(DecodeError, match="actual_count"):
        NdrReader(bad).varying_bytes("rgbOut")
    huge = NdrWriter().u32(0x50000).getvalue()
    with pytest.raises(DecodeError, match="larger than allowed"):
        NdrReader(huge).conformant_bytes("rgbIn", emsmdb_rpc.MAX_ROP_OUT)
    no_nul = NdrWriter().u32(2).u32(0).u32(2).raw(b"ab").getvalue()
    with pytest.raises(DecodeError, match="NUL"):
        NdrReader(no_nul).string("szUserDN")


@settings(max_examples=examples(300))
@given(st.binary(max_size=160))
def test_ndr_decoders_raise_only_protocol_errors(data: bytes) -> None:
    for cls in (
        emsmdb_rpc.ConnectExRequest,
        emsmdb_rpc.ConnectExResponse,
        emsmdb_rpc.RpcExt2Request,
        emsmdb_rpc.RpcExt2Response,
    ):
        with contextlib.suppress(ProtocolError):
            cls.decode(data)


# -- decode kinds -------------------------------------------------------------------------------------


def test_decode_kinds_are_registered_and_show_names() -> None:
    import mapiprobe.protocol.kinds  # noqa: F401

    table = kinds()
    assert {"rts", "dcerpc", "emsmdb-rpc-request", "emsmdb-rpc-response"} <= set(table)
    stream = load_vector("rpch_conn_c2_constructed.txt") + rts.echo().encode()
    shown = to_jsonable(table["rts"].func(stream, DecodeContext()))
    assert [p["PDU"] for p in shown] == ["CONN/C2", "Echo"]
    both = to_jsonable(
        table["dcerpc"].func(load_vector("dcerpc_bind_emsmdb_constructed.txt"), DecodeContext())
    )
    assert "EMSMDB" in both[0]["body"]["p_cont_elem"][0]["abstract_syntax"]
    data = load_vector("oxcrpc_ecdoconnectex_ndr_request_constructed.txt")
    shown_req = to_jsonable(
        table["emsmdb-rpc-request"].func(data, DecodeContext(request_type="EcDoConnectEx"))
    )
    assert shown_req["ulCpid"] == 0x4E4
    with pytest.raises(DecodeError, match="unknown EMSMDB method"):
        table["emsmdb-rpc-request"].func(data, DecodeContext(request_type="Bogus"))


def test_ecdorpcext2_decodes_down_to_the_rops() -> None:
    import mapiprobe.protocol.kinds  # noqa: F401
    from mapiprobe.protocol.execute import rop_input
    from mapiprobe.protocol.rops import RopLogonRequest

    rops = [RopLogonRequest(0, 0, 0x01, 0x01000000, 0, "/o=Contoso/cn=Recipients/cn=alice")]
    handle = ContextHandle(0, uuid.UUID(int=7))
    stub = emsmdb_rpc.RpcExt2Request(handle, rop_input(rops, [0xFFFFFFFF])).encode()
    shown = to_jsonable(kinds()["emsmdb-rpc-request"].func(stub, DecodeContext(request_type="11")))
    assert shown["stub"]["pulFlags"] == 3
    rop = shown["RopBuffer"][0]["RopsList"][0]
    assert rop["RopId"] in ("RopLogon", 0xFE) and rop["Essdn"].endswith("cn=alice")


_VECTORS = [
    "rpch_conn_a1_constructed.txt",
    "rpch_conn_b1_constructed.txt",
    "rpch_conn_c2_constructed.txt",
    "rpch_flow_control_ack_with_destination_constructed.txt",
    "dcerpc_bind_emsmdb_constructed.txt",
    "dcerpc_bind_ack_constructed.txt",
    "dcerpc_fault_constructed.txt",
    "oxcrpc_ecdoconnectex_ndr_request_constructed.txt",
]


@settings(max_examples=examples(500))
@given(
    st.sampled_from(_VECTORS),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
    st.integers(0, 200),
)
def test_mutated_vectors_raise_only_protocol_errors(
    name: str, edits: list[tuple[int, int]], cut: int
) -> None:
    """Valid PDUs and stubs with a few bytes changed and/or cut short: decoded or refused, never a crash."""
    data = bytearray(load_vector(name))
    for at, value in edits:
        if at < len(data):
            data[at] = value
    raw = bytes(data[: max(0, len(data) - cut)] if cut < len(data) else data)
    decoders = (
        Pdu.decode,
        lambda d: Pdu.decode(d).parse(),
        rts.RtsPdu.decode,
        dcerpc.split_pdus,
        emsmdb_rpc.ConnectExRequest.decode,
        emsmdb_rpc.ConnectExResponse.decode,
        emsmdb_rpc.RpcExt2Request.decode,
    )
    for decoder in decoders:
        with contextlib.suppress(ProtocolError):
            decoder(raw)
