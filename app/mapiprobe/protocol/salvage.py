"""What can still be read from a body that is cut short (or broken) part-way.

``mapiprobe decode`` shows ``decoded`` — every stage completed before a fault — beside the error
(``reason``, ``offset``, ``expected``, ``field``). The codecs fill ``DecodeContext.partial`` stage by stage;
this module goes one level deeper for the nested ROP buffers, where a cut usually lands:

* :class:`RecordingReader` is a :class:`~mapiprobe.protocol.wire.Reader` that remembers every field it
  reads, by the name the codec gives it. Re-reading a ROP that failed with one gives the fields of that
  ROP up to the last complete one, for hand-written and table-driven ROPs alike;
* :func:`salvage_rops` decodes a RopsList ROP by ROP and, at the fault, adds the cut ROP as such a dict;
* :func:`salvage_ext_buffers` reads a chain of extended buffers (RPC_HEADER_EXT + payload) whose last
  payload is shorter than its header says, and hands back what is there.

Salvage never raises anything but :class:`~mapiprobe.protocol.errors.ProtocolError`; the caller re-raises
the error of the deepest point it reached.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import lz77
from .errors import DecodeError, ProtocolError
from .extbuffer import RpcHeaderExt, xor_magic
from .rops.base import REQUESTS, RESPONSES, ResponseContext, describe_rop_id, rop_id_json
from .rops.codec import iter_requests, iter_responses
from .wire import Reader

CUT_MARK = "…"
"""Key under which a salvaged ROP says where it stopped."""


class RecordingReader(Reader):
    """A Reader that keeps ``(field, value)`` for every named field it completes, in order."""

    __slots__ = ("record",)

    def __init__(self, data: bytes | bytearray | memoryview, *, base: int = 0) -> None:
        super().__init__(data, base=base)
        self.record: list[tuple[str, Any]] = []

    def _keep(self, name: str | None, value: Any) -> Any:
        if name:
            self.record.append((name, value))
        return value

    def u8(self, field: str | None = None) -> int:
        return int(self._keep(field, super().u8(field)))

    def u16(self, field: str | None = None) -> int:
        return int(self._keep(field, super().u16(field)))

    def u32(self, field: str | None = None) -> int:
        return int(self._keep(field, super().u32(field)))

    def u64(self, field: str | None = None) -> int:
        return int(self._keep(field, super().u64(field)))

    def i32(self, field: str | None = None) -> int:
        return int(self._keep(field, super().i32(field)))

    def i16(self, field: str | None = None) -> int:
        return int(self._keep(field, super().i16(field)))

    def i64(self, field: str | None = None) -> int:
        return int(self._keep(field, super().i64(field)))

    def f32(self, field: str | None = None) -> float:
        return float(self._keep(field, super().f32(field)))

    def f64(self, field: str | None = None) -> float:
        return float(self._keep(field, super().f64(field)))

    def guid(self, field: str | None = None) -> uuid.UUID:
        value = super().guid(field)
        self._keep(field, value)
        return value

    def take(self, n: int, field: str | None = None) -> bytes:
        return bytes(self._keep(field, super().take(n, field)))

    def asciiz(self, field: str | None = None, encoding: str = "latin-1") -> str:
        return str(self._keep(field, super().asciiz(field, encoding)))

    def utf16z(self, field: str | None = None) -> str:
        return str(self._keep(field, super().utf16z(field)))

    def counted_bytes(self, width: int = 2, field: str | None = None, limit: int | None = None) -> bytes:
        return bytes(self._keep(field, super().counted_bytes(width, field, limit)))

    def count(
        self, width: int, field: str | None = None, *, limit: int | None = None, item_size: int = 1
    ) -> int:
        return int(self._keep(field, super().count(width, field, limit=limit, item_size=item_size)))

    def fields(self) -> dict[str, Any]:
        """The recorded fields; a name read more than once (array items) keeps every value in a list."""
        out: dict[str, Any] = {}
        for name, value in self.record:
            if name in out:
                previous = out[name]
                if isinstance(previous, _Repeated):
                    previous.append(value)
                else:
                    out[name] = _Repeated([previous, value])
            else:
                out[name] = value
        return {k: list(v) if isinstance(v, _Repeated) else v for k, v in out.items()}


class _Repeated(list[Any]):
    """Marks values collected under one repeated field name."""


def partial_rop(
    rop_bytes: bytes, base: int, decode: Callable[[Reader], Any], error: ProtocolError
) -> dict[str, Any]:
    """The fields of one ROP up to the last complete one, re-read from ``rop_bytes`` (which starts at its
    RopId) with a :class:`RecordingReader`."""
    r = RecordingReader(rop_bytes, base=base)
    rop_id = rop_bytes[0] if rop_bytes else None
    out: dict[str, Any] = {"RopId": rop_id_json(rop_id) if rop_id is not None else None}
    try:
        r.u8("RopId")
        r.record.clear()
        decode(r)
    except ProtocolError:
        pass
    except (ValueError, IndexError, KeyError, TypeError):  # pragma: no cover - a codec bug, not the input
        pass
    out.update(r.fields())
    # The offset is the caller's to report (it counts in the enclosing body); here only what stopped it.
    out[CUT_MARK] = (
        "decoding stops here: " + error.message + (f" (field {error.field})" if error.field else "")
    )
    return out


@dataclass
class Salvage:
    """What :func:`salvage_rops` recovered: the complete ROPs, the cut one (fields so far) and the error."""

    rops: list[Any] = field(default_factory=list)
    cut: dict[str, Any] | None = None
    error: ProtocolError | None = None


def salvage_rops(
    rops: bytes,
    *,
    base: int = 0,
    requests: bool,
    request_list: Sequence[Any] | None = None,
    columns: Sequence[int] | None = None,
    into: list[Any] | None = None,
) -> Salvage:
    """Decode a RopsList as far as it goes. ``into`` receives each ROP as it completes (and the cut one)."""
    out = Salvage(rops=into if into is not None else [])
    r = Reader(rops, base=base)
    it: Iterator[Any] = iter_requests(r) if requests else iter_responses(r, request_list, columns)
    start = r.offset
    try:
        for rop in it:
            out.rops.append(rop)
            start = r.offset
    except ProtocolError as exc:
        out.error = exc
        rop_bytes = rops[start - base :]
        if rop_bytes and exc.field != "RopId":
            out.cut = partial_rop(rop_bytes, start, _one_rop_decoder(requests, columns), exc)
            out.rops.append(out.cut)
    return out


def _one_rop_decoder(requests: bool, columns: Sequence[int] | None) -> Callable[[Reader], Any]:
    """Decode the ROP at the reader (RopId already read): the class is found from the RopId byte."""

    def decode(r: Reader) -> Any:
        data, index, _end = r.window()
        rop_id = data[index - 1]
        if requests:
            req_cls = REQUESTS.get(rop_id)
            if req_cls is None:
                raise DecodeError(f"{describe_rop_id(rop_id)} has no request layout", offset=r.offset)
            return req_cls.decode_body(r)
        resp_cls = RESPONSES.get(rop_id)
        if resp_cls is None:
            raise DecodeError(f"{describe_rop_id(rop_id)} has no response layout", offset=r.offset)
        return resp_cls.decode_body(
            r, ResponseContext(columns=tuple(columns) if columns is not None else None)
        )

    return decode


def salvage_rop_buffer(
    payload: bytes,
    into: dict[str, Any],
    *,
    requests: bool,
    columns: Sequence[int] | None = None,
) -> ProtocolError | None:
    """A ROP input/output buffer (MS-OXCROPS 2.2.1) read as far as it goes into ``into``: RopSize, the
    RopsList ROP by ROP (the cut ROP with its fields so far) and, when complete, the handle table. Returns
    the error of the deepest point reached (offsets count in ``payload``), or None when nothing was cut
    inside it."""
    if len(payload) < 2:
        return None
    rop_size = int.from_bytes(payload[:2], "little")
    into["RopSize"] = rop_size
    rop_list: list[Any] = []
    into["RopsList"] = rop_list
    end = min(max(rop_size, 2), len(payload))
    got = salvage_rops(payload[2:end], base=2, requests=requests, columns=columns, into=rop_list)
    if got.error is not None:
        return got.error
    if rop_size <= len(payload):
        table = payload[rop_size:]
        into["ServerObjectHandleTable"] = [
            int.from_bytes(table[i : i + 4], "little") for i in range(0, len(table) - len(table) % 4, 4)
        ]
    return None


@dataclass
class SalvagedExt:
    """One extended buffer of a chain read as far as the bytes go."""

    header: RpcHeaderExt
    payload: bytes
    complete: bool


def salvage_ext_buffers(data: bytes) -> tuple[list[SalvagedExt], ProtocolError | None]:
    """The extended buffers of a (possibly cut) chain: complete ones, then the cut one with the payload bytes
    that are there (un-XORed; a cut compressed payload cannot be restored and is left out)."""
    out: list[SalvagedExt] = []
    r = Reader(data)
    while not r.at_end():
        try:
            hdr = RpcHeaderExt.read(r)
        except ProtocolError as exc:
            return out, exc
        available = min(hdr.size, r.remaining)
        body = r.take(available, "Payload")
        complete = available == hdr.size
        if hdr.xor_magic:
            body = xor_magic(body)
        if hdr.compressed:
            if not complete:
                return out, DecodeError(
                    f"the compressed payload is cut after {available} of {hdr.size} byte(s); it cannot be "
                    "decompressed",
                    offset=r.offset,
                    field="Payload",
                    expected=f"{hdr.size} bytes",
                )
            try:
                body = lz77.decompress(body, hdr.size_actual)
            except ProtocolError as exc:
                return out, exc
        out.append(SalvagedExt(hdr, body, complete))
        if not complete or hdr.last:
            break
    return out, None


__all__ = [
    "CUT_MARK",
    "RecordingReader",
    "Salvage",
    "SalvagedExt",
    "partial_rop",
    "salvage_ext_buffers",
    "salvage_rop_buffer",
    "salvage_rops",
]
