"""Whole RopsLists in both directions: split a ROP input buffer's RopsList into requests, an output
buffer's RopsList into responses, and join ROPs back into bytes (MS-OXCROPS 2.2.1, 3.2.5.1, 3.2.5.2).

A RopsList has no per-ROP length, so a parser must know the layout of every ROP it meets: an unknown
RopId stops the parse with a :class:`~mapiprobe.protocol.errors.DecodeError` that names it and its
offset. Responses come back in request order, except that RopRelease has no response and the
server-generated RopBufferTooSmall, RopBackoff and RopPending answer no request. Pairing each response
with its request lets :func:`decode_responses` read what the response alone does not say: the row layout
of RopQueryRows (the columns of the last successful RopSetColumns on the same handle index) and of
RopGetPropertiesSpecific (the request's tags), and which RopLogon success layout was sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ..errors import DecodeError
from ..wire import Reader, Writer
from .base import (
    REQUESTS,
    RESPONSES,
    ResponseContext,
    Rop,
    RopFailureResponse,
    RopId,
    RopRequest,
    RopResponse,
    describe_rop_id,
)
from .generic import GenericRopRequest
from .logon import LOGON_FLAG_PRIVATE, RopLogonRequest
from .server import SERVER_GENERATED, RopReleaseRequest
from .table import RopSetColumnsRequest, RopSetColumnsResponse

# Requests whose response rows are laid out by the table's columns (the last RopSetColumns on the handle).
_TABLE_ROWS = frozenset({RopId.RopQueryRows, RopId.RopFindRow, RopId.RopExpandRow})

RESPONSE_ROP_ID: dict[int, int] = {RopId.RopGetMessageStatus: RopId.RopSetMessageStatus}
"""Requests answered under another RopId: RopGetMessageStatus is answered with 0x20 (MS-OXCROPS 2.2.6.9.2)."""


def _output_handle(request: RopRequest) -> int | None:
    """The slot where ``request`` puts a new object (None for a ROP that creates none)."""
    value = getattr(request, "output_handle_index", None)
    return value if isinstance(value, int) else None


def _input_handle(request: RopRequest) -> int | None:
    value = getattr(request, "input_handle_index", None)
    return value if isinstance(value, int) else None


def _unknown(rop_id: int, offset: int, direction: str) -> DecodeError:
    if direction == "response" and rop_id == RopId.RopRelease:
        reason = "RopRelease (0x01) never has a response, so this output buffer is out of step"
    elif rop_id in RopId.__members__.values():
        reason = (
            f"{describe_rop_id(rop_id)} has no {direction} buffer (MS-OXCROPS 2.2); a RopsList has no "
            "per-ROP length, so decoding stops here and keeps the ROPs before it"
        )
    else:
        reason = (
            f"unknown RopId 0x{rop_id:02X} ({describe_rop_id(rop_id)}); a RopsList has no per-ROP length, so "
            "decoding stops here and keeps the ROPs before it"
        )
    return DecodeError(reason, offset=offset, field="RopId", expected=f"the RopId of a ROP {direction}")


def iter_requests(r: Reader, public_logons: frozenset[int] = frozenset()) -> Iterator[RopRequest]:
    """Decode ROP requests until the reader's window is used up.

    Two requests differ by the kind of logon they run on (RopSetMessageReadFlag's ClientData and
    RopWritePerUserInformation's ReplGuid are sent only for one kind): a RopLogon earlier in the buffer
    says which; ``public_logons`` names the LogonIds of public-folder logons made earlier; any other logon is
    taken to be a private mailbox.
    """
    public = set(public_logons)
    while not r.at_end():
        start = r.offset
        rop_id = r.peek_u8("RopId")
        cls = REQUESTS.get(rop_id)
        if cls is None:
            raise _unknown(rop_id, start, "request")
        r.u8("RopId")
        if issubclass(cls, GenericRopRequest):
            logon = r.peek_u8("LogonId")
            request = cls.decode_body(r, private_logon=logon not in public)
        else:
            request = cls.decode_body(r)
        if isinstance(request, RopLogonRequest):
            if request.logon_flags & LOGON_FLAG_PRIVATE:
                public.discard(request.logon_id)
            else:
                public.add(request.logon_id)
        yield request


def decode_requests(rops: bytes, *, base: int = 0) -> list[RopRequest]:
    """Every ROP request of a RopsList (the bytes between RopSize and the handle table).

    ``base`` is the offset of ``rops`` in the enclosing buffer, so errors point at the right byte.
    """
    return list(iter_requests(Reader(rops, base=base)))


class _Pairing:
    """Walks the request list alongside the responses and keeps what later responses need."""

    def __init__(
        self,
        requests: Sequence[RopRequest] | None,
        columns: Sequence[int] | None,
        table_columns: Mapping[int, Sequence[int]] | None = None,
    ) -> None:
        self._pending = [q for q in requests or () if not isinstance(q, RopReleaseRequest)]
        self._known = requests is not None
        self._next = 0
        self._default_columns = tuple(columns) if columns is not None else None
        self._table_columns: dict[int, tuple[int, ...]] = {
            index: tuple(tags) for index, tags in (table_columns or {}).items()
        }

    def context_for(self, rop_id: int, offset: int) -> ResponseContext:
        if rop_id in SERVER_GENERATED or not self._known:
            return ResponseContext(columns=self._default_columns)
        if self._next >= len(self._pending):
            raise DecodeError(
                f"{describe_rop_id(rop_id)} response has no request left to answer "
                f"({len(self._pending)} request(s) expect a response)",
                offset=offset,
                field="RopId",
                expected="no more responses",
            )
        request = self._pending[self._next]
        self._next += 1
        if RESPONSE_ROP_ID.get(request.rop_id, request.rop_id) != rop_id:
            raise DecodeError(
                f"response {describe_rop_id(rop_id)} does not answer request #{self._next} "
                f"{describe_rop_id(request.rop_id)}: the output buffer does not follow the input buffer",
                offset=offset,
                field="RopId",
                expected=f"0x{RESPONSE_ROP_ID.get(request.rop_id, request.rop_id):02X}",
            )
        columns: tuple[int, ...] | None = self._default_columns
        handle = _input_handle(request)
        if request.rop_id in _TABLE_ROWS and handle is not None:
            columns = self._table_columns.get(handle, self._default_columns)
        return ResponseContext(request=request, columns=columns)

    def record(self, response: RopResponse, ctx: ResponseContext) -> None:
        request = ctx.request
        if isinstance(request, RopSetColumnsRequest) and isinstance(response, RopSetColumnsResponse):
            self._table_columns[request.input_handle_index] = tuple(request.property_tags)
        elif request is not None and not isinstance(response, RopFailureResponse):
            slot = _output_handle(request)
            if slot is not None:
                # A new object at this slot: columns set on the old table there no longer apply.
                self._table_columns.pop(slot, None)


def iter_responses(
    r: Reader,
    requests: Sequence[RopRequest] | None = None,
    columns: Sequence[int] | None = None,
    *,
    table_columns: Mapping[int, Sequence[int]] | None = None,
) -> Iterator[RopResponse]:
    """Decode ROP responses until the reader's window is used up (see :func:`decode_responses`)."""
    pairing = _Pairing(requests, columns, table_columns)
    while not r.at_end():
        start = r.offset
        rop_id = r.peek_u8("RopId")
        cls = RESPONSES.get(rop_id)
        if cls is None:
            raise _unknown(rop_id, start, "response")
        ctx = pairing.context_for(rop_id, start)
        r.u8("RopId")
        response = cls.decode_body(r, ctx)
        pairing.record(response, ctx)
        yield response


def decode_responses(
    rops: bytes,
    requests: Sequence[RopRequest] | None = None,
    columns: Sequence[int] | None = None,
    *,
    base: int = 0,
    table_columns: Mapping[int, Sequence[int]] | None = None,
) -> list[RopResponse]:
    """Every ROP response of a RopsList.

    With ``requests`` (the RopsList of the matching input buffer, decoded), responses are paired with the
    requests in order, skipping RopRelease; RopQueryRows rows then use the columns of the last successful
    RopSetColumns on the same handle index earlier in the list, RopGetPropertiesSpecific rows the request's
    tags, and RopLogon the request's Private flag. ``columns`` is the fallback for rows whose columns were
    set in an earlier Execute. ``table_columns`` (InputHandleIndex -> tags) says it per table: the columns
    each handle-table slot's table had before this buffer (a capture reader follows RopSetColumns across
    Executes through the server object handles). A row-bearing response whose columns are unknown is a
    DecodeError that says ``--columns`` is needed.
    """
    return list(iter_responses(Reader(rops, base=base), requests, columns, table_columns=table_columns))


def encode_rops(rops: Sequence[Rop]) -> bytes:
    """The RopsList holding ``rops`` (requests or responses) in order."""
    w = Writer()
    for rop in rops:
        rop.encode(w)
    return w.getvalue()


__all__ = ["decode_requests", "decode_responses", "encode_rops", "iter_requests", "iter_responses"]
