"""Pure wire codecs for Autodiscover, MAPI over HTTP, EMSMDB/ROPs and NSPI.

Nothing in this package performs I/O or imports httpx, Qt, keyring or any other mapiprobe layer:
bytes (or XML text) go in, frozen dataclasses come out, and back again. The client and the simulator
share these codecs, each in its own role. Every malformed input raises the
:class:`~mapiprobe.protocol.errors.ProtocolError` family.
"""

from .errors import AutodiscoverError, DecodeError, EncodeError, ProtocolError, ShortBuffer, TrailingData

__all__ = ["AutodiscoverError", "DecodeError", "EncodeError", "ProtocolError", "ShortBuffer", "TrailingData"]
