"""The Execute request/response bodies decoded all the way down, and the RopBuffer glue both roles share.

An Execute body (MS-OXCMAPIHTTP 2.2.4.2) carries ``RopBuffer``: a chain of extended buffers, each an
RPC_HEADER_EXT and a payload that may be XOR-obfuscated and LZ77-compressed (MS-OXCRPC 2.2.2.1,
3.1.4.2.1). Each payload, once restored, is a ROP input or output buffer (MS-OXCROPS 2.2.1): RopSize, the
ROP list and the server object handle table. With the property tags of the rows (``--columns``) the ROP
responses decode down to every property value.

:func:`rop_input` / :func:`rop_output_buffers` are what the mailbox session and the simulator use to go
between ROP lists and the ``rop_buffer`` bytes of an Execute body; :func:`decode_execute_request` /
:func:`decode_execute_response` are the ``mapiprobe decode`` views, registered here as the deep decoders
for ``execute-request``, ``execute-response`` and the Execute bodies of ``mapihttp-response``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from .emsmdb import ExecuteRequest, ExecuteResponse
from .errors import ProtocolError
from .registry import DecodeContext, body_decoder, decode_kind
from .ropbuffer import RopBuffer
from .rops import RopRequest, encode_rops
from .rops.base import Rop
from .rops.codec import iter_requests, iter_responses
from .rpcext import encode_ext_buffers, iter_ext_buffers
from .salvage import salvage_ext_buffers, salvage_rop_buffer, salvage_rops
from .wire import Reader

# Offsets of RopBuffer inside the bodies: Flags u32, RopBufferSize u32 (request);
# StatusCode, ErrorCode, Flags, RopBufferSize (response).
_REQUEST_ROPBUFFER_OFFSET = 8
_RESPONSE_ROPBUFFER_OFFSET = 16
_RPC_HEADER_EXT_SIZE = 8


def rop_input(
    rops: Sequence[Rop], handles: Sequence[int], *, compress: bool = False, xor: bool = False
) -> bytes:
    """An Execute request's ``rop_buffer``: one extended buffer holding RopSize, ``rops`` and the table."""
    payload = RopBuffer(encode_rops(rops), tuple(handles)).encode()
    return encode_ext_buffers([payload], compress=compress, xor=xor)


def rop_output_buffers(rop_buffer: bytes) -> list[RopBuffer]:
    """Every ROP output buffer in an Execute response's ``rop_buffer`` (one per extended buffer)."""
    return [RopBuffer.decode(ext.payload) for ext in iter_ext_buffers(rop_buffer)]


def _decode_chain(
    rop_buffer: bytes,
    base: int,
    ctx: DecodeContext,
    *,
    requests: bool,
    columns: Sequence[int] | None,
) -> list[dict[str, Any]]:
    """Decode every extended buffer of ``rop_buffer``; ``base`` is its offset in the body (for errors)."""
    out: list[dict[str, Any]] = []
    ctx.partial["RopBuffer"] = out
    chain = iter_ext_buffers(rop_buffer)
    pos = 0
    while True:
        try:
            ext = next(chain)
        except StopIteration:
            return out
        except ProtocolError as exc:
            raise exc.at(base) from None
        entry: dict[str, Any] = {"RPC_HEADER_EXT": ext.header}
        out.append(entry)
        rop_list: list[Any] = []
        try:
            buf = RopBuffer.decode(ext.payload)
            entry["RopSize"] = buf.rop_size
            entry["RopsList"] = rop_list
            entry["ServerObjectHandleTable"] = list(buf.server_object_handle_table)
            # Appended one by one, so a fault in the fifth ROP still shows the first four.
            rops = (
                iter_requests(Reader(buf.rops, base=2))
                if requests
                else iter_responses(Reader(buf.rops, base=2), None, columns)
            )
            for rop in rops:
                rop_list.append(rop)
        except ProtocolError as exc:
            if "RopsList" in entry:  # add the cut ROP with its fields up to the last complete one
                again = salvage_rops(buf.rops, base=2, requests=requests, columns=columns)
                if again.cut is not None:
                    rop_list.append(again.cut)
            else:  # RopSize disagrees with the payload: read the RopsList as far as it goes
                salvage_rop_buffer(ext.payload, entry, requests=requests, columns=columns)
            if ext.header.compressed:
                raise exc.annotate(
                    f"offset counts in the decompressed payload of extended buffer {len(out)}"
                ) from None
            raise exc.at(base + pos + _RPC_HEADER_EXT_SIZE) from None
        pos += _RPC_HEADER_EXT_SIZE + ext.header.size


def _salvage_body(
    data: bytes,
    progress: dict[str, Any],
    offset: int,
    ctx: DecodeContext,
    exc: ProtocolError,
    *,
    requests: bool,
) -> ProtocolError:
    """After a body failed to decode: read the RopBuffer bytes that are there (a cut capture, a RopBufferSize
    larger than the body) extended buffer by extended buffer and ROP by ROP into ``ctx.partial``. Returns the
    error to report: the deepest one reached, else ``exc``."""
    if "RopBuffer" in progress:  # complete: the fault lies after it (the aux buffer); show it decoded
        with contextlib.suppress(ProtocolError):
            _decode_chain(progress["RopBuffer"], offset, ctx, requests=requests, columns=ctx.columns)
        return exc
    if "RopBufferSize" not in progress:
        return exc
    rop_buffer = data[offset : offset + int(progress["RopBufferSize"])]
    out: list[dict[str, Any]] = []
    ctx.partial["RopBuffer"] = out
    exts, chain_error = salvage_ext_buffers(rop_buffer)
    pos = 0
    for ext in exts:
        entry: dict[str, Any] = {"RPC_HEADER_EXT": ext.header}
        out.append(entry)
        deep = salvage_rop_buffer(ext.payload, entry, requests=requests, columns=ctx.columns)
        if deep is not None:
            if ext.header.compressed:
                return deep.annotate(
                    f"offset counts in the decompressed payload of extended buffer {len(out)}"
                )
            return deep.at(offset + pos + _RPC_HEADER_EXT_SIZE)
        if not ext.complete:
            break
        pos += _RPC_HEADER_EXT_SIZE + ext.header.size
    if chain_error is not None:
        return chain_error.at(offset)
    return exc


def decode_execute_request(data: bytes, ctx: DecodeContext) -> dict[str, Any]:
    """An Execute request body with its RopBuffer decoded into ROP requests."""
    progress: dict[str, Any] = {}
    ctx.partial["ExecuteRequest"] = progress
    try:
        body = ExecuteRequest.decode(data, progress=progress)
    except ProtocolError as exc:
        raise _salvage_body(data, progress, _REQUEST_ROPBUFFER_OFFSET, ctx, exc, requests=True) from None
    ctx.partial["ExecuteRequest"] = body
    result: dict[str, Any] = {"ExecuteRequest": body}
    result["RopBuffer"] = _decode_chain(
        body.rop_buffer, _REQUEST_ROPBUFFER_OFFSET, ctx, requests=True, columns=None
    )
    return result


def decode_execute_response(data: bytes, ctx: DecodeContext) -> dict[str, Any]:
    """An Execute response body with its RopBuffer decoded into ROP responses (rows need ``--columns``)."""
    progress: dict[str, Any] = {}
    ctx.partial["ExecuteResponse"] = progress
    try:
        body = ExecuteResponse.decode(data, progress=progress)
    except ProtocolError as exc:
        raise _salvage_body(data, progress, _RESPONSE_ROPBUFFER_OFFSET, ctx, exc, requests=False) from None
    ctx.partial["ExecuteResponse"] = body
    result: dict[str, Any] = {"ExecuteResponse": body}
    rop_buffer = getattr(body, "rop_buffer", b"")
    if rop_buffer:
        result["RopBuffer"] = _decode_chain(
            rop_buffer, _RESPONSE_ROPBUFFER_OFFSET, ctx, requests=False, columns=ctx.columns
        )
    return result


# These registrations replace the body-only decoders of emsmdb.py (kinds.py imports this module after it).
decode_kind(
    "execute-request",
    "Execute request body, MS-OXCMAPIHTTP 2.2.4.2.1, decoded through RPC_HEADER_EXT into ROP requests",
)(decode_execute_request)
decode_kind(
    "execute-response",
    "Execute response body, MS-OXCMAPIHTTP 2.2.4.2.2, decoded through RPC_HEADER_EXT (decompressed, "
    "un-XORed) into ROP responses; rows need --columns",
    needs_columns=True,
)(decode_execute_response)
body_decoder("Execute", "request")(decode_execute_request)
body_decoder("Execute", "response")(decode_execute_response)


__all__ = [
    "RopRequest",
    "decode_execute_request",
    "decode_execute_response",
    "rop_input",
    "rop_output_buffers",
]
