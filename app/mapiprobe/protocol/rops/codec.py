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
from .folder import RopGetContentsTableRequest, RopGetHierarchyTableRequest, RopOpenFolderRequest
from .logon import RopLogonRequest
from .server import SERVER_GENERATED, RopReleaseRequest
from .table import RopQueryRowsRequest, RopSetColumnsRequest, RopSetColumnsResponse

# Requests that put a new object at their OutputHandleIndex: a table created there has no known columns.
_CREATES_OBJECT = (
    RopLogonRequest,
    RopOpenFolderRequest,
    RopGetHierarchyTableRequest,
    RopGetContentsTableRequest,
)


def _unknown(rop_id: int, offset: int, direction: str) -> DecodeError:
    supported = ", ".join(RopId(i).name for i in sorted(REQUESTS if direction == "request" else RESPONSES))
    if direction == "response" and rop_id == RopId.RopRelease:
        reason = "RopRelease (0x01) never has a response, so this output buffer is out of step"
    else:
        reason = (
            f"{describe_rop_id(rop_id)} cannot be decoded as a ROP {direction}; a RopsList has no per-ROP "
            "length, so decoding stops here"
        )
    return DecodeError(reason, offset=offset, field="RopId", expected=f"one of {supported}")


def iter_requests(r: Reader) -> Iterator[RopRequest]:
    """Decode ROP requests until the reader's window is used up."""
    while not r.at_end():
        start = r.offset
        rop_id = r.peek_u8("RopId")
        cls = REQUESTS.get(rop_id)
        if cls is None:
            raise _unknown(rop_id, start, "request")
        r.u8("RopId")
        yield cls.decode_body(r)


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
        if request.rop_id != rop_id:
            raise DecodeError(
                f"response {describe_rop_id(rop_id)} does not answer request #{self._next} "
                f"{describe_rop_id(request.rop_id)}: the output buffer does not follow the input buffer",
                offset=offset,
                field="RopId",
                expected=f"0x{request.rop_id:02X}",
            )
        columns: tuple[int, ...] | None = self._default_columns
        if isinstance(request, RopQueryRowsRequest):
            columns = self._table_columns.get(request.input_handle_index, self._default_columns)
        return ResponseContext(request=request, columns=columns)

    def record(self, response: RopResponse, ctx: ResponseContext) -> None:
        request = ctx.request
        if isinstance(request, RopSetColumnsRequest) and isinstance(response, RopSetColumnsResponse):
            self._table_columns[request.input_handle_index] = tuple(request.property_tags)
        elif isinstance(request, _CREATES_OBJECT) and not isinstance(response, RopFailureResponse):
            # A new object at this slot: columns set on the old table there no longer apply.
            self._table_columns.pop(request.output_handle_index, None)


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
