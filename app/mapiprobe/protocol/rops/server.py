"""RopRelease (0x01, request only) and the ROPs a server generates on its own: RopBufferTooSmall (0xFF),
RopBackoff (0xF9) and RopPending (0x6E) — MS-OXCROPS 2.2.15.3, 2.2.15.1, 2.2.15.2 and 2.2.14.3.

A server never answers RopRelease (MS-OXCROPS 3.2.5.3). The three server-generated ROPs do not answer a
request either; they can appear in any ROP output buffer, so every response parser must know their
lengths even if it ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..wire import Reader, Writer
from .base import (
    ResponseContext,
    RopId,
    RopRequest,
    RopResponse,
    prefixed,
    request_codec,
    response_codec,
)


@request_codec
@dataclass(frozen=True)
class RopReleaseRequest(RopRequest):
    """MS-OXCROPS 2.2.15.3.1: release the Server object at ``input_handle_index``. No response is sent."""

    ROP_ID: ClassVar[int] = RopId.RopRelease

    logon_id: int
    input_handle_index: int

    @classmethod
    def decode_body(cls, r: Reader) -> RopReleaseRequest:
        return cls(r.u8("LogonId"), r.u8("InputHandleIndex"))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index)


@response_codec
@dataclass(frozen=True)
class RopBufferTooSmallResponse(RopResponse):
    """MS-OXCROPS 2.2.15.1.1: the output buffer could not hold every response. It is the last ROP of the
    RopsList; RequestBuffers (the rest of the RopsList) are the ROP requests that were not processed and
    must be sent again with a MaxRopOut of at least SizeNeeded (MS-OXCROPS 3.1.5.1.2)."""

    ROP_ID: ClassVar[int] = RopId.RopBufferTooSmall

    size_needed: int
    request_buffers: bytes = b""

    @classmethod
    def decode_body(cls, r: Reader, ctx: ResponseContext) -> RopBufferTooSmallResponse:
        return cls(r.u16("SizeNeeded"), r.rest())

    def _encode_body(self, w: Writer) -> None:
        w.u16(self.size_needed).raw(self.request_buffers)


@dataclass(frozen=True)
class BackoffRop:
    """MS-OXCROPS 2.2.15.2.1.1: one ROP to hold back and for how many milliseconds."""

    rop_id_backoff: int
    duration: int

    @classmethod
    def decode(cls, r: Reader) -> BackoffRop:
        return cls(r.u8("RopIdBackoff"), r.u32("Duration"))

    def encode(self, w: Writer) -> None:
        w.u8(self.rop_id_backoff).u32(self.duration)


@response_codec
@dataclass(frozen=True)
class RopBackoffResponse(RopResponse):
    """MS-OXCROPS 2.2.15.2.1: the server asks the client to wait ``duration`` ms before sending more ROPs
    for logon ``logon_id`` (BackoffRopCount 0), or only the listed ROPs for their own durations
    (MS-OXCROPS 3.1.5.1.1). BackoffRopCount (u8) and AdditionalDataSize (u16) are derived."""

    ROP_ID: ClassVar[int] = RopId.RopBackoff

    logon_id: int
    duration: int
    backoff_rop_data: tuple[BackoffRop, ...] = field(default=(), metadata=prefixed("BackoffRopCount"))
    additional_data: bytes = field(default=b"", metadata=prefixed("AdditionalDataSize"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "backoff_rop_data", tuple(self.backoff_rop_data))

    @classmethod
    def decode_body(cls, r: Reader, ctx: ResponseContext) -> RopBackoffResponse:
        logon_id, duration = r.u8("LogonId"), r.u32("Duration")
        count = r.count(1, "BackoffRopCount", item_size=5)
        data = tuple(BackoffRop.decode(r) for _ in range(count))
        return cls(logon_id, duration, data, r.counted_bytes(2, "AdditionalData"))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u32(self.duration).count(len(self.backoff_rop_data), 1)
        for item in self.backoff_rop_data:
            item.encode(w)
        w.counted_bytes(self.additional_data, 2)


@response_codec
@dataclass(frozen=True)
class RopPendingResponse(RopResponse):
    """MS-OXCROPS 2.2.14.3.1: the session ``session_index`` has more notifications queued
    (MS-OXCNOTIF 3.2.5.5.3)."""

    ROP_ID: ClassVar[int] = RopId.RopPending

    session_index: int

    @classmethod
    def decode_body(cls, r: Reader, ctx: ResponseContext) -> RopPendingResponse:
        return cls(r.u16("SessionIndex"))

    def _encode_body(self, w: Writer) -> None:
        w.u16(self.session_index)


SERVER_GENERATED = frozenset({RopId.RopBufferTooSmall, RopId.RopBackoff, RopId.RopPending})
"""ROPs that appear in an output buffer without answering a request."""

__all__ = [
    "SERVER_GENERATED",
    "BackoffRop",
    "RopBackoffResponse",
    "RopBufferTooSmallResponse",
    "RopPendingResponse",
    "RopReleaseRequest",
]
