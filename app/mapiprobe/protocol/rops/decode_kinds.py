"""``mapiprobe decode rop-request`` and ``rop-response``: a whole ROP input or output buffer (MS-OXCROPS
2.2.1 — RopSize, RopsList, ServerObjectHandleTable), decoded ROP by ROP.

Each stage goes into ``ctx.partial`` as soon as it is complete (RopSize, the handle table, then every ROP
in the RopsList as it decodes), so a buffer that breaks in its fifth ROP still shows the first four.
"""

from __future__ import annotations

from typing import Any

from ..errors import ProtocolError
from ..registry import DecodeContext, decode_kind
from ..ropbuffer import RopBuffer
from ..salvage import salvage_rop_buffer
from ..wire import Reader
from .base import Rop
from .codec import iter_requests, iter_responses


def _frame(data: bytes, ctx: DecodeContext) -> tuple[RopBuffer, list[Rop]]:
    if len(data) >= 2:
        ctx.partial["RopSize"] = int.from_bytes(data[:2], "little")
    buf = RopBuffer.decode(data)
    rops: list[Rop] = []
    ctx.partial["RopsList"] = rops
    ctx.partial["ServerObjectHandleTable"] = list(buf.server_object_handle_table)
    return buf, rops


def _result(buf: RopBuffer, rops: list[Rop]) -> dict[str, Any]:
    return {
        "RopSize": buf.rop_size,
        "RopsList": rops,
        "ServerObjectHandleTable": list(buf.server_object_handle_table),
    }


@decode_kind(
    "rop-request",
    "ROP input buffer: RopSize, ROP requests, Server object handle table (MS-OXCROPS 2.2.1)",
)
def decode_rop_request(data: bytes, ctx: DecodeContext) -> dict[str, Any]:
    return _decode(data, ctx, requests=True)


@decode_kind(
    "rop-response",
    "ROP output buffer: RopSize, ROP responses, Server object handle table (MS-OXCROPS 2.2.1); "
    "RopQueryRows rows need --columns",
    needs_columns=True,
)
def decode_rop_response(data: bytes, ctx: DecodeContext) -> dict[str, Any]:
    return _decode(data, ctx, requests=False)


def _decode(data: bytes, ctx: DecodeContext, *, requests: bool) -> dict[str, Any]:
    """Decode the whole buffer; on a fault, read it again as far as it goes (the cut ROP with its fields so
    far) into ``ctx.partial`` and report the deepest error."""
    try:
        buf, rops = _frame(data, ctx)
        it = (
            iter_requests(Reader(buf.rops, base=2))
            if requests
            else iter_responses(Reader(buf.rops, base=2), None, ctx.columns)
        )
        for rop in it:
            rops.append(rop)
    except ProtocolError as exc:
        ctx.partial.clear()
        deep = salvage_rop_buffer(data, ctx.partial, requests=requests, columns=ctx.columns)
        raise (deep or exc) from None
    return _result(buf, rops)


__all__ = ["decode_rop_request", "decode_rop_response"]
