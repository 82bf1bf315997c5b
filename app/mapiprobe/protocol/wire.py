"""Bounds-checked little-endian reader and writer shared by every binary codec.

``Reader`` never lets an ``IndexError``, ``struct.error`` or ``UnicodeError`` escape: every failure is a
:class:`~mapiprobe.protocol.errors.DecodeError` that names the field, the offset and what was expected.
``restrict_to(size)`` opens a window of exactly ``size`` bytes and fails with ``TrailingData`` if the
structure inside does not consume all of it (the habit of dnspython's wire parser).

``Writer`` is the mirror image: ``put_*`` methods that append, and range checks that raise
:class:`~mapiprobe.protocol.errors.EncodeError` instead of silently truncating.

Byte order and GUID layout follow MS-OXCDATA 2.5.1 (GUIDs are Data1 u32 LE, Data2 u16 LE, Data3 u16 LE,
Data4 8 bytes as-is — Python's ``uuid.UUID(bytes_le=...)``).
"""

from __future__ import annotations

import codecs
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import DecodeError, EncodeError, ShortBuffer, TrailingData

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_utf16le_decode = codecs.utf_16_le_decode


class Reader:
    """Sequential reader over an immutable buffer.

    ``offset`` is absolute within the original buffer, so errors point at the byte a user would find
    in a hex dump of the whole capture. ``base`` lets a caller decoding a slice report offsets of
    the enclosing buffer.
    """

    __slots__ = ("_data", "_end", "_pos", "base")

    def __init__(self, data: bytes | bytearray | memoryview, *, base: int = 0) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._end = len(self._data)
        self.base = base

    # -- position ---------------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Absolute offset of the next byte to read."""
        return self.base + self._pos

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def window(self) -> tuple[bytes, int, int]:
        """``(buffer, index, end)``: the whole buffer, the index of the next byte and the end of the current
        window, for a batch decoder that parses in place (offsets are ``base + index``). Give the index it
        reached back with :meth:`move_to`."""
        return self._data, self._pos, self._end

    def move_to(self, index: int) -> None:
        """Continue reading at buffer ``index`` (see :meth:`window`); it must lie inside the window."""
        if not 0 <= index <= self._end:
            raise ValueError(f"index {index} is outside the window 0..{self._end}")
        self._pos = index

    def expect_end(self, what: str = "end of structure") -> None:
        """Fail with ``TrailingData`` unless every byte of the current window was consumed."""
        if self._pos != self._end:
            raise TrailingData(
                f"{self._end - self._pos} unexpected trailing byte(s)",
                offset=self.offset,
                expected=what,
            )

    @contextmanager
    def restrict_to(self, size: int, field: str | None = None) -> Iterator[Reader]:
        """Limit reading to the next ``size`` bytes; the body must consume them exactly."""
        if size < 0 or size > self.remaining:
            raise ShortBuffer(
                f"a {size}-byte sub-structure does not fit in the {self.remaining} byte(s) left",
                offset=self.offset,
                expected=f"{size} bytes",
                field=field,
            )
        saved_end = self._end
        self._end = self._pos + size
        try:
            yield self
            self.expect_end(f"end of the {size}-byte {field or 'sub-structure'}")
        finally:
            self._end = saved_end

    # -- primitives -------------------------------------------------------------------------------
    def _take(self, n: int, field: str | None, what: str) -> bytes:
        if n < 0:
            raise DecodeError(f"negative length {n}", offset=self.offset, field=field, expected=what)
        if n > self.remaining:
            raise ShortBuffer(
                f"input ends after {self.remaining} of {n} byte(s)",
                offset=self.offset,
                expected=what,
                field=field,
            )
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def take(self, n: int, field: str | None = None) -> bytes:
        """Exactly ``n`` raw bytes."""
        return self._take(n, field, f"{n} bytes")

    def rest(self) -> bytes:
        """Everything left in the current window."""
        return self._take(self.remaining, None, "the rest")

    def peek_u8(self, field: str | None = None) -> int:
        if self.remaining < 1:
            raise ShortBuffer("input ends", offset=self.offset, expected="1 byte (u8)", field=field)
        return self._data[self._pos]

    def _short(self, n: int, field: str | None, what: str) -> ShortBuffer:
        return ShortBuffer(
            f"input ends after {self.remaining} of {n} byte(s)",
            offset=self.offset,
            expected=what,
            field=field,
        )

    # Fixed-size reads unpack in place (no slice): these are the hot path of row decoding.
    def u8(self, field: str | None = None) -> int:
        pos = self._pos
        if pos >= self._end:
            raise self._short(1, field, "1 byte (u8)")
        self._pos = pos + 1
        return self._data[pos]

    def u16(self, field: str | None = None) -> int:
        pos = self._pos
        if pos + 2 > self._end:
            raise self._short(2, field, "2 bytes (u16)")
        self._pos = pos + 2
        return int(_U16.unpack_from(self._data, pos)[0])

    def u32(self, field: str | None = None) -> int:
        pos = self._pos
        if pos + 4 > self._end:
            raise self._short(4, field, "4 bytes (u32)")
        self._pos = pos + 4
        return int(_U32.unpack_from(self._data, pos)[0])

    def u64(self, field: str | None = None) -> int:
        pos = self._pos
        if pos + 8 > self._end:
            raise self._short(8, field, "8 bytes (u64)")
        self._pos = pos + 8
        return int(_U64.unpack_from(self._data, pos)[0])

    def i16(self, field: str | None = None) -> int:
        return int(_I16.unpack(self._take(2, field, "2 bytes (i16)"))[0])

    def i32(self, field: str | None = None) -> int:
        pos = self._pos
        if pos + 4 > self._end:
            raise self._short(4, field, "4 bytes (i32)")
        self._pos = pos + 4
        return int(_I32.unpack_from(self._data, pos)[0])

    def i64(self, field: str | None = None) -> int:
        return int(_I64.unpack(self._take(8, field, "8 bytes (i64)"))[0])

    def f32(self, field: str | None = None) -> float:
        return float(_F32.unpack(self._take(4, field, "4 bytes (float)"))[0])

    def f64(self, field: str | None = None) -> float:
        return float(_F64.unpack(self._take(8, field, "8 bytes (double)"))[0])

    def bool8(self, field: str | None = None) -> bool:
        return self.u8(field) != 0

    def guid(self, field: str | None = None) -> uuid.UUID:
        """A GUID in Windows (FlatUID) byte order, MS-OXCDATA 2.5.1."""
        return uuid.UUID(bytes_le=self._take(16, field, "16 bytes (GUID)"))

    def counted_bytes(self, width: int = 2, field: str | None = None, limit: int | None = None) -> bytes:
        """A COUNT of ``width`` bytes (1, 2 or 4) followed by that many bytes."""
        start = self.offset
        n = self._count(width, field)
        if limit is not None and n > limit:
            raise DecodeError(
                f"count {n} exceeds the limit of {limit}", offset=start, field=field, expected=f"<= {limit}"
            )
        return self._take(n, field, f"{n} bytes")

    def _count(self, width: int, field: str | None) -> int:
        if width == 1:
            return self.u8(field)
        if width == 2:
            return self.u16(field)
        if width == 4:
            return self.u32(field)
        raise EncodeError(f"unsupported count width {width}")

    def count(
        self, width: int, field: str | None = None, *, limit: int | None = None, item_size: int = 1
    ) -> int:
        """Read an element count and check it is plausible for what is left of the buffer.

        ``item_size`` is the smallest number of bytes one element can take, so a hostile count of
        0xFFFFFFFF fails at once instead of making the caller loop or allocate for billions of items.
        """
        start = self.offset
        n = self._count(width, field)
        if limit is not None and n > limit:
            raise DecodeError(
                f"count {n} exceeds the limit of {limit}", offset=start, field=field, expected=f"<= {limit}"
            )
        if item_size > 0 and n * item_size > self.remaining:
            raise ShortBuffer(
                f"count {n} needs at least {n * item_size} byte(s) but only {self.remaining} remain",
                offset=start,
                field=field,
                expected=f"a count that fits the {self.remaining} remaining byte(s)",
            )
        return n

    def asciiz(self, field: str | None = None, encoding: str = "latin-1") -> str:
        """An 8-bit string terminated by one NUL byte (MS-OXCDATA PtypString8)."""
        end = self._data.find(b"\x00", self._pos, self._end)
        if end < 0:
            raise ShortBuffer(
                "no NUL terminator before the end of input",
                offset=self.offset,
                expected="a NUL-terminated 8-bit string",
                field=field,
            )
        raw = self._take(end - self._pos, field, "string bytes")
        self._pos += 1
        return _decode(raw, encoding, self.offset - len(raw) - 1, field)

    def utf16z(self, field: str | None = None) -> str:
        """A UTF-16LE string terminated by a 2-byte NUL (MS-OXCDATA PtypString)."""
        start = self._pos
        data, end = self._data, self._end
        pos = start
        while True:
            # The terminator is a NUL code unit: two zero bytes at an even distance from the start.
            pos = data.find(b"\x00\x00", pos, end)
            if pos < 0:
                raise ShortBuffer(
                    "no UTF-16 NUL terminator before the end of input",
                    offset=self.base + start,
                    expected="a NUL-terminated UTF-16LE string",
                    field=field,
                )
            if (pos - start) % 2 == 0:
                break
            pos += 1
        self._pos = pos + 2
        try:
            # The codec function itself: bytes.decode("utf-16-le") would look the codec up on every call.
            return _utf16le_decode(data[start:pos], "strict", True)[0]
        except UnicodeDecodeError:
            return _decode(data[start:pos], "utf-16-le", self.base + start, field)

    def fixed_string(self, n: int, encoding: str, field: str | None = None) -> str:
        start = self.offset
        return _decode(self._take(n, field, f"{n} string bytes"), encoding, start, field)


def _decode(raw: bytes, encoding: str, offset: int, field: str | None) -> str:
    try:
        return raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DecodeError(
            f"string is not valid {encoding}: {exc}", offset=offset, field=field, expected=f"{encoding} text"
        ) from None


class Writer:
    """Append-only little-endian writer whose range checks raise ``EncodeError``."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def __len__(self) -> int:
        return len(self._buf)

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def _pack(self, st: struct.Struct, value: int | float, what: str) -> Writer:
        try:
            self._buf += st.pack(value)
        except struct.error as exc:
            raise EncodeError(f"{value!r} does not fit in {what}: {exc}") from None
        return self

    def u8(self, v: int) -> Writer:
        return self._pack(_U8, v, "u8")

    def u16(self, v: int) -> Writer:
        return self._pack(_U16, v, "u16")

    def u32(self, v: int) -> Writer:
        return self._pack(_U32, v, "u32")

    def u64(self, v: int) -> Writer:
        return self._pack(_U64, v, "u64")

    def i16(self, v: int) -> Writer:
        return self._pack(_I16, v, "i16")

    def i32(self, v: int) -> Writer:
        return self._pack(_I32, v, "i32")

    def i64(self, v: int) -> Writer:
        return self._pack(_I64, v, "i64")

    def f32(self, v: float) -> Writer:
        return self._pack(_F32, v, "float")

    def f64(self, v: float) -> Writer:
        return self._pack(_F64, v, "double")

    def bool8(self, v: bool) -> Writer:
        return self.u8(1 if v else 0)

    def raw(self, b: bytes | bytearray | memoryview) -> Writer:
        self._buf += b
        return self

    def guid(self, g: uuid.UUID) -> Writer:
        self._buf += g.bytes_le
        return self

    def counted_bytes(self, b: bytes, width: int = 2) -> Writer:
        self.count(len(b), width)
        self._buf += b
        return self

    def count(self, n: int, width: int) -> Writer:
        if width == 1:
            return self.u8(n)
        if width == 2:
            return self.u16(n)
        if width == 4:
            return self.u32(n)
        raise EncodeError(f"unsupported count width {width}")

    def asciiz(self, s: str, encoding: str = "latin-1") -> Writer:
        try:
            raw = s.encode(encoding)
        except (UnicodeEncodeError, LookupError) as exc:
            raise EncodeError(f"cannot encode {s!r} as {encoding}: {exc}") from None
        if b"\x00" in raw:
            raise EncodeError(f"string {s!r} contains a NUL character")
        self._buf += raw + b"\x00"
        return self

    def utf16z(self, s: str) -> Writer:
        if "\x00" in s:
            raise EncodeError(f"string {s!r} contains a NUL character")
        try:
            self._buf += s.encode("utf-16-le") + b"\x00\x00"
        except UnicodeEncodeError as exc:
            raise EncodeError(f"cannot encode {s!r} as UTF-16: {exc}") from None
        return self

    def patch_u16(self, at: int, v: int) -> None:
        """Overwrite a u16 written earlier (e.g. a size known only at the end)."""
        try:
            _U16.pack_into(self._buf, at, v)
        except struct.error as exc:
            raise EncodeError(f"{v!r} does not fit in u16: {exc}") from None

    def patch_u32(self, at: int, v: int) -> None:
        try:
            _U32.pack_into(self._buf, at, v)
        except struct.error as exc:
            raise EncodeError(f"{v!r} does not fit in u32: {exc}") from None


__all__ = ["Reader", "Writer"]
