"""The one error family every codec in :mod:`mapiprobe.protocol` raises.

Error tree (only these escape a decoder or an encoder)::

    ProtocolError                  anything wrong with bytes or XML on the wire
    ├── DecodeError                the peer sent something we cannot accept (remote fault)
    │   ├── ShortBuffer            input ended before a field was complete
    │   ├── TrailingData           bytes were left over after a structure that must fill its frame
    │   └── AutodiscoverError      an Autodiscover body that is not a usable answer
    └── EncodeError                we were asked to build something the spec does not allow (local fault)

Every error carries ``offset`` (byte offset into the buffer being decoded, or ``None`` where it
does not apply), ``expected`` (what the decoder wanted to find there) and ``field`` (the spec's
name of the field being read, when known).  ``str(error)`` puts all three into one sentence that a
helpdesk user can paste into a ticket.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every wire-format error in mapiprobe."""

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        expected: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.offset = offset
        self.expected = expected
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        if self.field:
            parts.append(f"field {self.field}")
        if self.offset is not None:
            parts.append(f"at offset {self.offset} (0x{self.offset:X})")
        if self.expected:
            parts.append(f"expected {self.expected}")
        return "; ".join(parts)

    def annotate(self, note: str) -> ProtocolError:
        """Append ``note`` to the message (e.g. which nested buffer the offset counts in)."""
        self.message = f"{self.message} ({note})"
        self.args = (self._render(),)
        return self

    def at(self, base: int) -> ProtocolError:
        """Shift the offset by ``base`` (used when a sub-buffer was decoded on its own)."""
        if self.offset is not None:
            self.offset += base
        else:
            self.offset = base
        self.args = (self._render(),)
        return self


class DecodeError(ProtocolError):
    """The bytes we received do not follow the spec (the peer's fault, or a broken capture)."""


class ShortBuffer(DecodeError):
    """The input ended in the middle of a field."""


class TrailingData(DecodeError):
    """A structure that must fill its frame exactly left bytes unread."""


class AutodiscoverError(DecodeError):
    """An Autodiscover response body that is not XML we can trust, or not an Autodiscover answer."""


class EncodeError(ProtocolError):
    """We were asked to encode a value the wire format cannot carry."""


__all__ = [
    "AutodiscoverError",
    "DecodeError",
    "EncodeError",
    "ProtocolError",
    "ShortBuffer",
    "TrailingData",
]
