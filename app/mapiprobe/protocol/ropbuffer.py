"""The ROP input/output buffer of MS-OXCROPS 2.2.1: RopSize (u16), RopsList, ServerObjectHandleTable.

RopSize counts itself and the RopsList (so it is ``2 + len(RopsList)``); everything after the RopsList is
the Server object handle table, one u32 handle per entry, so its length must be a multiple of 4. The same
frame carries requests (client → server) and responses (server → client); this module only splits and
joins it — :mod:`mapiprobe.protocol.rops` decodes the RopsList.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import DecodeError, EncodeError
from .wire import Reader, Writer

HANDLE_UNUSED = 0xFFFFFFFF
"""Handle-table value for a slot used only for output (MS-OXCROPS 3.1.4.1); a server never assigns it."""


@dataclass(frozen=True)
class RopBuffer:
    """One ROP input or output buffer: the raw RopsList and the handle table."""

    rops: bytes
    server_object_handle_table: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "server_object_handle_table", tuple(self.server_object_handle_table))

    @property
    def rop_size(self) -> int:
        """RopSize: the size of the RopSize field itself plus the RopsList."""
        return 2 + len(self.rops)

    @classmethod
    def decode(cls, data: bytes, *, base: int = 0) -> RopBuffer:
        """Split a whole buffer; ``base`` is its offset in an enclosing capture (for error offsets)."""
        r = Reader(data, base=base)
        return cls.decode_from(r)

    @classmethod
    def decode_from(cls, r: Reader) -> RopBuffer:
        """Split the buffer that fills the rest of ``r``'s window."""
        start = r.offset
        rop_size = r.u16("RopSize")
        if rop_size < 2:
            raise DecodeError(
                f"RopSize {rop_size} is smaller than the RopSize field itself",
                offset=start,
                field="RopSize",
                expected="2 + the size of RopsList (at least 2)",
            )
        rops = r.take(rop_size - 2, "RopsList")
        table_start = r.offset
        tail = r.rest()
        if len(tail) % 4:
            raise DecodeError(
                f"the {len(tail)} byte(s) after the RopsList are not a whole number of 4-byte handles",
                offset=table_start,
                field="ServerObjectHandleTable",
                expected="a multiple of 4 bytes (one u32 per Server object handle)",
            )
        handles = tuple(int.from_bytes(tail[i : i + 4], "little") for i in range(0, len(tail), 4))
        return cls(rops, handles)

    def encode(self) -> bytes:
        w = Writer()
        self.encode_to(w)
        return w.getvalue()

    def encode_to(self, w: Writer) -> None:
        if self.rop_size > 0xFFFF:
            raise EncodeError(
                f"a RopsList of {len(self.rops)} bytes does not fit a u16 RopSize", field="RopSize"
            )
        w.u16(self.rop_size).raw(self.rops)
        for handle in self.server_object_handle_table:
            w.u32(handle)

    @classmethod
    def build(cls, rops: bytes, handles: Sequence[int]) -> RopBuffer:
        return cls(bytes(rops), tuple(handles))

    def __json__(self) -> dict[str, Any]:
        return {
            "RopSize": self.rop_size,
            "RopsList": self.rops,
            "ServerObjectHandleTable": list(self.server_object_handle_table),
        }


__all__ = ["HANDLE_UNUSED", "RopBuffer"]
