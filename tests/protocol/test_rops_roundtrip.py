"""Property tests for the ROP codecs: every request and response survives encode → decode unchanged, and
no input — random or a mutated valid buffer — makes a decoder raise anything but ProtocolError."""

from __future__ import annotations

import contextlib
import random
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.properties import ErrorValue, FolderId, PropertyName, PropertyRow, PropType
from mapiprobe.protocol.rops import (
    BackoffRop,
    LogonTime,
    MailboxFolderIds,
    PublicFolderIds,
    Rop,
    RopBackoffResponse,
    RopBufferTooSmallResponse,
    RopFailureResponse,
    RopGetContentsTableRequest,
    RopGetContentsTableResponse,
    RopGetHierarchyTableRequest,
    RopGetHierarchyTableResponse,
    RopGetPropertiesSpecificRequest,
    RopGetPropertiesSpecificResponse,
    RopGetPropertyIdsFromNamesRequest,
    RopGetPropertyIdsFromNamesResponse,
    RopLogonPrivateMailboxResponse,
    RopLogonPublicFoldersResponse,
    RopLogonRedirectResponse,
    RopLogonRequest,
    RopOpenFolderRequest,
    RopOpenFolderResponse,
    RopPendingResponse,
    RopQueryRowsRequest,
    RopQueryRowsResponse,
    RopReleaseRequest,
    RopRequest,
    RopResponse,
    RopSetColumnsRequest,
    RopSetColumnsResponse,
    decode_requests,
    decode_responses,
    encode_rops,
)
from tests.hypothesis_profiles import examples

from .ropvectors import DATA, vector

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
u64 = st.integers(0, 0xFFFFFFFFFFFFFFFF)
nonzero_u32 = st.integers(1, 0xFFFFFFFF)
guids = st.uuids()
fids = u64.map(FolderId)
ascii8 = st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=40)
tags = st.lists(u32, max_size=12).map(tuple)

# -- property rows ------------------------------------------------------------------------------------------

_VALUE_TYPES: dict[int, st.SearchStrategy[Any]] = {
    PropType.INTEGER32: st.integers(-(2**31), 2**31 - 1),
    PropType.INTEGER64: st.integers(-(2**63), 2**63 - 1),
    PropType.BOOLEAN: st.booleans(),
    PropType.STRING: st.text(st.characters(min_codepoint=1, exclude_categories=("Cs",)), max_size=20),
    PropType.BINARY: st.binary(max_size=40),
}


@st.composite
def columns_and_row(draw: st.DrawFn) -> tuple[tuple[int, ...], PropertyRow]:
    """Columns of simple types (ids below 0x6000, so none is a FID/MID column) and a row for them:
    standard if every value is there, flagged if some are absent or errors."""
    ids = draw(st.lists(st.integers(1, 0x5FFF), min_size=1, max_size=6, unique=True))
    columns = tuple((pid << 16) | draw(st.sampled_from(sorted(_VALUE_TYPES))) for pid in ids)
    values: dict[int, Any] = {}
    for tag in columns:
        kind = draw(st.sampled_from(["value", "value", "value", "absent", "error"]))
        if kind == "value":
            values[tag] = draw(_VALUE_TYPES[tag & 0xFFFF])
        elif kind == "error":
            values[tag] = ErrorValue(draw(st.sampled_from([0x8004010F, 0x8007000E])))
    return columns, PropertyRow.build(columns, values)


# -- requests -----------------------------------------------------------------------------------------------

property_names = st.one_of(
    st.builds(PropertyName, st.just(0x00), guids, lid=u32),
    st.builds(
        PropertyName,
        st.just(0x01),
        guids,
        name=st.text(st.characters(min_codepoint=1, exclude_categories=("Cs",)), max_size=40),
    ),
    st.builds(PropertyName, st.just(0xFF), guids),
)

requests: st.SearchStrategy[RopRequest] = st.one_of(
    st.builds(RopLogonRequest, u8, u8, u8, u32, u32, st.none() | ascii8),
    st.builds(RopOpenFolderRequest, u8, u8, u8, fids, u8),
    st.builds(RopGetHierarchyTableRequest, u8, u8, u8, u8),
    st.builds(RopGetContentsTableRequest, u8, u8, u8, u8),
    st.builds(RopSetColumnsRequest, u8, u8, u8, tags),
    st.builds(RopQueryRowsRequest, u8, u8, u8, u8, u16),
    st.builds(RopGetPropertiesSpecificRequest, u8, u8, u16, u16, tags),
    st.builds(RopGetPropertyIdsFromNamesRequest, u8, u8, u8, st.lists(property_names, max_size=4).map(tuple)),
    st.builds(RopReleaseRequest, u8, u8),
)

# -- responses that need no context -------------------------------------------------------------------------

logon_times = st.builds(LogonTime, u8, u8, u8, u8, u8, u8, u16)


@st.composite
def open_folder_responses(draw: st.DrawFn) -> RopOpenFolderResponse:
    handle, has_rules = draw(u8), draw(u8)
    if draw(st.booleans()):
        servers = tuple(draw(st.lists(ascii8, max_size=4)))
        return RopOpenFolderResponse(handle, has_rules, draw(st.integers(1, 0xFF)), draw(u16), servers)
    return RopOpenFolderResponse(handle, has_rules, 0)


plain_responses: st.SearchStrategy[RopResponse] = st.one_of(
    st.builds(
        RopLogonPrivateMailboxResponse,
        u8,
        u8.map(lambda f: f | 0x01),
        st.builds(MailboxFolderIds, *([fids] * 13)),
        u8,
        guids,
        u16,
        guids,
        logon_times,
        u64,
        u32,
    ),
    st.builds(
        RopLogonPublicFoldersResponse,
        u8,
        u8.map(lambda f: f & ~0x01),
        st.builds(PublicFolderIds, *([fids] * 13)),
        u16,
        guids,
        guids,
    ),
    st.builds(
        RopLogonRedirectResponse,
        u8,
        u8,
        st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=254),
    ),
    open_folder_responses(),
    st.builds(RopGetHierarchyTableResponse, u8, u32),
    st.builds(RopGetContentsTableResponse, u8, u32),
    st.builds(RopSetColumnsResponse, u8, u8),
    st.builds(RopGetPropertyIdsFromNamesResponse, u8, st.lists(u16, max_size=10).map(tuple)),
    st.builds(
        RopBackoffResponse,
        u8,
        u32,
        st.lists(st.builds(BackoffRop, u8, u32), max_size=5).map(tuple),
        st.binary(max_size=20),
    ),
    st.builds(RopPendingResponse, u16),
    st.builds(
        RopFailureResponse, st.sampled_from([0x02, 0x04, 0x05, 0x07, 0x12, 0x15, 0x56]), u8, nonzero_u32
    ),
    st.builds(RopFailureResponse, st.just(0xFE), u8, nonzero_u32.filter(lambda v: v != 0x478)),
)


@given(requests)
def test_every_request_round_trips(rop: RopRequest) -> None:
    raw = rop.to_bytes()
    assert decode_requests(raw) == [rop]


@settings(max_examples=examples(50))
@given(st.lists(requests, max_size=4))
def test_request_lists_round_trip(rops: list[RopRequest]) -> None:
    raw = encode_rops(rops)
    assert decode_requests(raw) == rops
    assert encode_rops(decode_requests(raw)) == raw


@given(plain_responses)
def test_every_response_round_trips(rop: RopResponse) -> None:
    raw = rop.to_bytes()
    assert decode_responses(raw) == [rop]


@settings(max_examples=examples(50))
@given(st.lists(plain_responses, max_size=3), u16, st.lists(requests, max_size=3))
def test_buffer_too_small_is_last_and_keeps_the_requests(
    before: list[RopResponse], size: int, unsent: list[RopRequest]
) -> None:
    tail = RopBufferTooSmallResponse(size, encode_rops(unsent))
    raw = encode_rops([*before, tail])
    decoded = decode_responses(raw)
    assert decoded == [*before, tail]
    assert decode_requests(tail.request_buffers) == unsent


@given(u8, st.integers(0, 2), st.lists(columns_and_row(), min_size=1, max_size=4))
def test_queryrows_response_round_trips(handle: int, origin: int, rows: list[Any]) -> None:
    columns = rows[0][0]
    same_shape = [row for cols, row in rows if cols == columns]
    rop = RopQueryRowsResponse(handle, origin, tuple(same_shape), columns)
    raw = rop.to_bytes()
    assert decode_responses(raw, columns=columns) == [rop]
    setcolumns = RopSetColumnsRequest(0, handle, 0, columns)
    queryrows = RopQueryRowsRequest(0, handle, 0, 1, 50)
    pair = [RopSetColumnsResponse(handle), rop]
    assert decode_responses(encode_rops(pair), [setcolumns, queryrows]) == pair


@given(u8, columns_and_row())
def test_getpropertiesspecific_response_round_trips(
    handle: int, shape: tuple[tuple[int, ...], PropertyRow]
) -> None:
    columns, row = shape
    rop = RopGetPropertiesSpecificResponse(handle, row, columns)
    request = RopGetPropertiesSpecificRequest(0, handle, 0, 1, columns)
    assert decode_responses(rop.to_bytes(), [request]) == [rop]


# -- fuzzing: only ProtocolError may escape ------------------------------------------------------------------


def _decode_everything(data: bytes) -> None:
    from mapiprobe.protocol.ropbuffer import RopBuffer

    for attempt in (
        lambda: decode_requests(data),
        lambda: decode_responses(data),
        lambda: decode_responses(data, columns=(0x3001001F, 0x67480014, 0x0FFF0102, 0x0E080003)),
        lambda: decode_responses(data, [RopQueryRowsRequest(0, 0, 0, 1, 1)]),
        lambda: RopBuffer.decode(data),
    ):
        with contextlib.suppress(ProtocolError):
            attempt()


@settings(max_examples=examples(2000))
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    _decode_everything(data)


def _corpus() -> list[bytes]:
    """Valid RopsLists to mutate: the spec vectors and one of every constructed ROP."""
    names = [p.stem for p in DATA.glob("ox*_*.txt") if p.stem.split("_")[0] in _OURS]
    fids13 = [FolderId.from_parts(1, i) for i in range(13)]
    columns = (0x3001001F, 0x67480014, 0x0FFF0102, 0x0E080003)
    row = PropertyRow.build(columns, {0x3001001F: "Inbox", 0x67480014: 5, 0x0E080003: ErrorValue(0x8004010F)})
    built: list[Rop] = [
        RopLogonRequest(0, 0, 1, 0x01000000, 0, "/o=ex/cn=u1"),
        RopLogonPrivateMailboxResponse(
            0,
            1,
            MailboxFolderIds(*fids13),
            1,
            uuid.uuid4(),
            1,
            uuid.uuid4(),
            LogonTime(1, 2, 3, 4, 5, 6, 2024),
            7,
        ),
        RopLogonPublicFoldersResponse(0, 0, PublicFolderIds(*fids13), 1, uuid.uuid4()),
        RopLogonRedirectResponse(0, 1, "/o=ex/cn=srv"),
        RopOpenFolderResponse(1, 0, 1, 1, ("a", "b")),
        RopQueryRowsResponse(0, 2, (row, row), columns),
        RopGetPropertiesSpecificResponse(0, row, columns),
        RopGetPropertyIdsFromNamesRequest(
            0, 0, 2, (PropertyName(1, uuid.uuid4(), name="x"), PropertyName(0, uuid.uuid4(), lid=1))
        ),
        RopBackoffResponse(0, 5, (BackoffRop(0x15, 9),), b"zz"),
        RopBufferTooSmallResponse(99, b"\x15\x00\x00\x00\x01\x32\x00"),
    ]
    return [vector(n) for n in names] + [r.to_bytes() for r in built] + [encode_rops(built[4:])]


_OURS = {"oxcrops", "oxctabl", "oxcfold", "oxcprpt", "oxorule", "oxcstor"}
CORPUS = _corpus()


def mutate(valid: bytes, seed: int) -> bytes:
    """1 to 4 random edits (flip a byte, cut the tail, insert bytes) chosen by ``seed``."""
    rng = random.Random(seed)
    raw = bytearray(valid)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(max(len(raw), 1))
        action = rng.choice(("flip", "cut", "insert"))
        if action == "flip" and raw:
            raw[pos] ^= rng.randint(1, 0xFF)
        elif action == "cut":
            del raw[pos:]
        else:
            raw[pos:pos] = rng.randbytes(rng.randint(1, 4))
    return bytes(raw)


@settings(max_examples=examples(2000))
@given(st.sampled_from(CORPUS), st.integers(0, 2**32))
def test_mutated_buffers_raise_only_protocol_errors(valid: bytes, seed: int) -> None:
    _decode_everything(mutate(valid, seed))


def test_logon_request_uuid_free_strategies_are_deterministic() -> None:
    # Guard against a strategy drifting: a fixed example decodes as built.
    rop = RopLogonRequest(1, 2, 0x01, 0x0100000C, 0, "/o=Org/ou=Exchange/cn=Recipients/cn=user")
    assert decode_requests(rop.to_bytes()) == [rop]
    assert (
        uuid.UUID(int=0)
        == RopLogonPublicFoldersResponse(
            0, 0, PublicFolderIds(*[FolderId(0)] * 13), 1, uuid.UUID(int=1)
        ).per_user_guid
    )
