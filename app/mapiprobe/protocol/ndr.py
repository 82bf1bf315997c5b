"""The parts of NDR (C706 chapter 14, little-endian) that the EMSMDB and NSPI methods use.

Primitive values are aligned to their size counted from the start of the stub data (C706 14.2.2). The
constructed types used here:

* a conformant byte array (``[size_is(n)] unsigned char a[]``): max_count u32, then the bytes;
* a conformant varying byte array (``[size_is(m), length_is(n)]``): max_count u32, offset u32 (0),
  actual_count u32, then the bytes;
* a conformant varying string (``[string] unsigned char *``): the same three counts (counting the NUL),
  then the characters and the NUL;
* a unique pointer: a referent id u32 (0 for NULL); its referent follows the top-level parameter
  that holds it;
* a context handle (C706 14.3.11 / MS-RPCE 2.2.5.1): attributes u32 and a UUID, 20 bytes.

:class:`NdrReader` and :class:`NdrWriter` wrap :class:`~mapiprobe.protocol.wire.Reader`/``Writer`` and add
alignment and these constructed types; every error is a ``DecodeError`` with the stub offset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .errors import DecodeError, EncodeError
from .wire import Reader, Writer

CONTEXT_HANDLE_SIZE = 20
_NIL = uuid.UUID(int=0)


@dataclass(frozen=True)
class ContextHandle:
    """An RPC context handle on the wire (MS-RPCE 2.2.5.1): attributes and a UUID; all zero means none."""

    attributes: int = 0
    uuid: uuid.UUID = _NIL

    @property
    def is_null(self) -> bool:
        return self.attributes == 0 and self.uuid.int == 0

    def __json__(self) -> dict[str, Any]:
        return {"context_handle_attributes": self.attributes, "context_handle_uuid": str(self.uuid)}


NULL_HANDLE = ContextHandle()


class NdrWriter:
    """Builds NDR stub data."""

    def __init__(self) -> None:
        self._w = Writer()

    def getvalue(self) -> bytes:
        return self._w.getvalue()

    def align(self, n: int) -> NdrWriter:
        self._w.raw(bytes(-len(self._w) % n))
        return self

    def u8(self, v: int) -> NdrWriter:
        self._w.u8(v)
        return self

    def u16(self, v: int) -> NdrWriter:
        self.align(2)._w.u16(v)
        return self

    def u32(self, v: int) -> NdrWriter:
        self.align(4)._w.u32(v)
        return self

    def raw(self, b: bytes) -> NdrWriter:
        self._w.raw(b)
        return self

    def conformant_bytes(self, data: bytes) -> NdrWriter:
        return self.u32(len(data)).raw(data)

    def varying_bytes(self, data: bytes, max_count: int | None = None) -> NdrWriter:
        size = len(data) if max_count is None else max_count
        if size < len(data):
            raise EncodeError(
                f"{len(data)} bytes exceed max_count {size}", expected="actual_count <= max_count"
            )
        return self.u32(size).u32(0).u32(len(data)).raw(data)

    def string(self, text: str, encoding: str = "cp1252") -> NdrWriter:
        try:
            raw = text.encode(encoding) + b"\x00"
        except UnicodeEncodeError as exc:
            raise EncodeError(f"string not representable in {encoding}: {exc.reason}") from None
        return self.u32(len(raw)).u32(0).u32(len(raw)).raw(raw)

    def unique_string(
        self, text: str | None, referent: int = 0x00020000, encoding: str = "cp1252"
    ) -> NdrWriter:
        if text is None:
            return self.u32(0)
        return self.u32(referent).string(text, encoding)

    def context_handle(self, handle: ContextHandle) -> NdrWriter:
        return self.u32(handle.attributes).raw(handle.uuid.bytes_le)

    def u16_array(self, values: tuple[int, ...]) -> NdrWriter:
        for v in values:
            self.u16(v)
        return self


class NdrReader:
    """Reads NDR stub data; offsets in errors count from the stub's first byte plus ``base``."""

    def __init__(self, data: bytes, *, base: int = 0) -> None:
        self._r = Reader(data, base=base)
        self._base = base

    @property
    def offset(self) -> int:
        return self._r.offset

    def align(self, n: int) -> NdrReader:
        pad = -(self._r.offset - self._base) % n
        if pad:
            self._r.take(pad, "NDR alignment")
        return self

    def u8(self, name: str) -> int:
        return self._r.u8(name)

    def u16(self, name: str) -> int:
        return self.align(2)._r.u16(name)

    def u32(self, name: str) -> int:
        return self.align(4)._r.u32(name)

    def raw(self, n: int, name: str) -> bytes:
        return self._r.take(n, name)

    def _bounded(self, value: int, limit: int | None, name: str, at: int) -> int:
        if limit is not None and value > limit:
            raise DecodeError(
                f"{name} {value} is larger than allowed", offset=at, expected=f"at most {limit}"
            )
        return value

    def conformant_bytes(self, name: str, limit: int | None = None) -> bytes:
        at = self.align(4).offset
        size = self._bounded(self.u32(f"{name} max_count"), limit, f"{name} max_count", at)
        return self._r.take(size, name)

    def varying_bytes(self, name: str, limit: int | None = None) -> bytes:
        at = self.align(4).offset
        max_count = self._bounded(self.u32(f"{name} max_count"), limit, f"{name} max_count", at)
        offset = self.u32(f"{name} offset")
        actual = self.u32(f"{name} actual_count")
        if offset != 0 or actual > max_count:
            raise DecodeError(
                f"{name}: offset {offset}, actual_count {actual}, max_count {max_count}",
                offset=at,
                expected="offset 0 and actual_count <= max_count",
            )
        return self._r.take(actual, name)

    def string(self, name: str, encoding: str = "cp1252", limit: int = 0x10000) -> str:
        at = self.align(4).offset
        raw = self.varying_bytes(name, limit)
        if not raw or raw[-1] != 0:
            raise DecodeError(
                f"{name} is not NUL-terminated", offset=at, expected="a [string] ending in 0x00"
            )
        try:
            return raw[:-1].decode(encoding)
        except UnicodeDecodeError:
            return raw[:-1].decode("latin-1")

    def unique_string(self, name: str, encoding: str = "cp1252") -> str | None:
        referent = self.u32(f"{name} referent id")
        if referent == 0:
            return None
        return self.string(name, encoding)

    def context_handle(self, name: str = "context handle") -> ContextHandle:
        attributes = self.u32(f"{name} attributes")
        return ContextHandle(attributes, uuid.UUID(bytes_le=self._r.take(16, f"{name} uuid")))

    def u16_array(self, n: int, name: str) -> tuple[int, ...]:
        return tuple(self.u16(f"{name}[{i}]") for i in range(n))

    def expect_end(self, what: str) -> None:
        self._r.expect_end(what)


__all__ = ["NULL_HANDLE", "ContextHandle", "NdrReader", "NdrWriter"]
