"""Request and response bodies of the MAPI/HTTP mailbox endpoint (MS-OXCMAPIHTTP 2.2.4).

One frozen dataclass per body, each with ``encode() -> bytes`` and a ``decode(data)`` classmethod; the
client encodes requests and decodes responses, the simulator does the reverse:

=====================  ============================  ==========================================
X-RequestType          request                       response (success / failure)
=====================  ============================  ==========================================
Connect (2.2.4.1)      :class:`ConnectRequest`       :class:`ConnectResponse` / :class:`FailureResponse`
Execute (2.2.4.2)      :class:`ExecuteRequest`       :class:`ExecuteResponse` / :class:`FailureResponse`
Disconnect (2.2.4.3)   :class:`DisconnectRequest`    :class:`DisconnectResponse` / :class:`FailureResponse`
NotificationWait       :class:`NotificationWait-     :class:`NotificationWaitResponse` /
(2.2.4.4)              Request`                      :class:`FailureResponse`
PING (2.2.6)           no body                       no body
=====================  ============================  ==========================================

A response's ``decode`` reads StatusCode first and returns the success form when it is 0, otherwise
the failure form shared by every request type (StatusCode, AuxiliaryBufferSize, AuxiliaryBuffer).

Sizes that follow from the data (RopBufferSize, AuxiliaryBufferSize) are not stored: ``encode`` writes
them and the JSON view (``__json__``) shows them under the spec's names, in wire order. The
AuxiliaryBuffer stays raw bytes; :attr:`auxiliary` decodes it lazily with ``rpcext.decode_aux_buffer``
(MS-OXCRPC 3.1.4.1.2), and the JSON view adds that decoding as ``AuxiliaryBufferDecoded`` (not a wire
field) after the raw bytes. The RopBuffer of Execute stays raw bytes too (``ropbuffer`` and ``rops`` read it).

Every ``decode`` accepts ``progress``, a dict into which it writes each field (under the spec's name) as
soon as it is read, so that a fault later in the body still shows what came before it.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from .errors import DecodeError, EncodeError, ProtocolError
from .jsonview import spec_name
from .registry import DecodeContext, body_decoder, decode_kind
from .rpcext import AuxBuffer, decode_aux_buffer
from .wire import Reader, Writer

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------------
# Flag values
# ---------------------------------------------------------------------------------------------------


class ConnectFlags(enum.IntFlag):
    """ulFlags of EcDoConnectEx, carried in the Connect request's Flags field (MS-OXCRPC 3.1.4.1)."""

    NONE = 0x00000000
    """A normal user connection (what ruler and Outlook send)."""
    USE_ADMIN_PRIVILEGE = 0x00000001
    """Administrator behaviour."""
    IGNORE_NO_PUBLIC_FOLDERS = 0x00008000
    """Do not fail if there are no public folders (old clients)."""


class ExecuteFlags(enum.IntFlag):
    """pulFlags of EcDoRpcExt2, carried in the Execute request's Flags field (MS-OXCRPC 3.1.4.2)."""

    NONE = 0x00000000
    NO_COMPRESSION = 0x00000001
    """The server MUST NOT compress the ROP response or the auxiliary output."""
    NO_XOR_MAGIC = 0x00000002
    """The server MUST NOT obfuscate (XOR 0xA5) the ROP response or the auxiliary output."""
    CHAIN = 0x00000004
    """The client accepts chained (packed) response buffers."""


DEFAULT_EXECUTE_FLAGS = int(ExecuteFlags.NO_COMPRESSION | ExecuteFlags.NO_XOR_MAGIC)
"""0x3, what Microsoft's test suite, ruler and the MS-OXCRPC 4.2 example send."""

DEFAULT_MAX_ROP_OUT = 0x10008
"""MaxRopOut of Microsoft's test suite; MS-OXCRPC 4.2 shows 0x18008, the spec's ceiling is 0x40000."""


# ---------------------------------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------------------------------

_SIZE_NAMES = {"auxiliary_buffer": "AuxiliaryBufferSize", "rop_buffer": "RopBufferSize"}


def _put(progress: dict[str, Any], name: str, value: _T) -> _T:
    progress[name] = value
    return value


class _Body:
    """Behaviour shared by every body: JSON with derived sizes, lazy aux decoding."""

    _success_response: ClassVar[bool] = False
    auxiliary_buffer: bytes

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._success_response:
            out["StatusCode"] = 0
        assert dataclasses.is_dataclass(self)
        for f in dataclasses.fields(self):
            if f.metadata.get("json") is False:
                continue
            value = getattr(self, f.name)
            if f.name in _SIZE_NAMES:
                out[_SIZE_NAMES[f.name]] = len(value)
            out[f.metadata.get("spec") or spec_name(f.name)] = value
            if f.name == "auxiliary_buffer" and value:
                # Not a wire field: the same bytes decoded, for the reader (e.g. gromox's 36-byte
                # Connect aux); a fault there does not hide the rest of the body.
                try:
                    out["AuxiliaryBufferDecoded"] = self.auxiliary
                except ProtocolError as exc:
                    out["AuxiliaryBufferError"] = str(exc)
        return out

    @functools.cached_property
    def auxiliary(self) -> AuxBuffer | None:
        """The AuxiliaryBuffer decoded (RPC_HEADER_EXT + AUX blocks, MS-OXCRPC 3.1.4.1.2); None if empty.

        Decoded on first use by ``rpcext.decode_aux_buffer``. Raises :class:`ProtocolError` if the
        buffer does not decode; the raw bytes stay available in ``auxiliary_buffer`` either way.
        """
        if not self.auxiliary_buffer:
            return None
        return decode_aux_buffer(self.auxiliary_buffer)


def _read_aux(r: Reader, progress: dict[str, Any]) -> bytes:
    start = r.offset
    size = _put(progress, "AuxiliaryBufferSize", r.u32("AuxiliaryBufferSize"))
    if size > r.remaining:
        raise DecodeError(
            f"AuxiliaryBufferSize {size} is larger than the {r.remaining} byte(s) left in the body",
            offset=start,
            field="AuxiliaryBufferSize",
            expected=f"at most {r.remaining}",
        )
    return _put(progress, "AuxiliaryBuffer", r.take(size, "AuxiliaryBuffer"))


def _write_aux(w: Writer, aux: bytes) -> None:
    w.u32(len(aux))
    w.raw(aux)


def _finish(r: Reader, what: str) -> None:
    r.expect_end(f"the end of the {what} body")


def _check_status(status: int, success: bool) -> None:
    if success and status != 0:
        raise EncodeError(f"a success response body has StatusCode 0, not {status}")
    if not success and status == 0:
        raise EncodeError("a failure response body MUST NOT have StatusCode 0 (MS-OXCMAPIHTTP 2.2.4.x.3)")


# ---------------------------------------------------------------------------------------------------
# Failure response (the same layout for every mailbox request type)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureResponse(_Body):
    """Failure response body of Connect, Execute, Disconnect and NotificationWait.

    MS-OXCMAPIHTTP 2.2.4.1.3, 2.2.4.2.3, 2.2.4.3.3, 2.2.4.4.3: StatusCode (MUST NOT be 0),
    AuxiliaryBufferSize, AuxiliaryBuffer.
    """

    status_code: int
    auxiliary_buffer: bytes = b""

    def encode(self) -> bytes:
        _check_status(self.status_code, success=False)
        w = Writer().u32(self.status_code)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, *, progress: dict[str, Any] | None = None) -> FailureResponse:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        status = _put(p, "StatusCode", r.u32("StatusCode"))
        if status == 0:
            raise DecodeError(
                "StatusCode 0 in a failure response body",
                offset=0,
                field="StatusCode",
                expected="a nonzero StatusCode",
            )
        return cls._rest(r, status, p)

    @classmethod
    def _rest(cls, r: Reader, status: int, p: dict[str, Any]) -> FailureResponse:
        aux = _read_aux(r, p)
        _finish(r, "failure response")
        return cls(status, aux)


# ---------------------------------------------------------------------------------------------------
# Connect (MS-OXCMAPIHTTP 2.2.4.1)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectRequest(_Body):
    """Connect request body, MS-OXCMAPIHTTP 2.2.4.1.1 (EcDoConnectEx [in] parameters, MS-OXCRPC 3.1.4.1).

    ⚠ Field order: the spec's table (and Microsoft's test suite) put LcidSort before LcidString, and
    that is the order written and read here. gromox (server) and ruler (client) use the other order
    (EcDoConnectEx's parameter order), so the two cannot be told apart on the wire: send the same
    LCID in both, and a server must not depend on which is which (PROTOCOL.md §3.1, §9 item 1).
    """

    user_dn: str
    """The user's legacy DN (Autodiscover ``User/LegacyDN``); an ASCII string on the wire."""
    flags: int = 0
    """ulFlags, see :class:`ConnectFlags`; 0 for a normal user."""
    default_code_page: int = 1252
    lcid_sort: int = 0x0409
    lcid_string: int = 0x0409
    auxiliary_buffer: bytes = b""

    def encode(self) -> bytes:
        # Bytes 0x80-0xFF are written as latin-1 so that a decoded capture re-encodes byte-exact.
        w = Writer().asciiz(self.user_dn, "latin-1")
        w.u32(self.flags).u32(self.default_code_page)
        w.u32(self.lcid_sort)  # ⚠ spec order; gromox/ruler write LcidString here (see class docstring)
        w.u32(self.lcid_string)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, *, progress: dict[str, Any] | None = None) -> ConnectRequest:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        user_dn = _put(p, "UserDn", r.asciiz("UserDn", "latin-1"))
        flags = _put(p, "Flags", r.u32("Flags"))
        code_page = _put(p, "DefaultCodePage", r.u32("DefaultCodePage"))
        # ⚠ Read in the spec's order; a gromox/ruler peer sends LcidString first. Both orders decode
        # to the same structure, which is why the JSON view notes when the two values differ.
        lcid_sort = _put(p, "LcidSort", r.u32("LcidSort"))
        lcid_string = _put(p, "LcidString", r.u32("LcidString"))
        aux = _read_aux(r, p)
        _finish(r, "Connect request")
        return cls(user_dn, flags, code_page, lcid_sort, lcid_string, aux)

    def __json__(self) -> dict[str, Any]:
        out = super().__json__()
        if self.lcid_sort != self.lcid_string:
            out["Note"] = (
                "LcidSort and LcidString differ: some implementations (gromox, ruler) send them in the "
                "opposite order to the spec, so which is which is uncertain"
            )
        return out


@dataclass(frozen=True)
class ConnectResponse(_Body):
    """Connect success response body, MS-OXCMAPIHTTP 2.2.4.1.2 (EcDoConnectEx [out], MS-OXCRPC 3.1.4.1).

    StatusCode is 0 by definition and so is not stored; ErrorCode is EcDoConnectEx's return value.
    """

    _success_response: ClassVar[bool] = True

    error_code: int = 0
    polls_max: int = 60000
    """Maximum polling interval in ms (pcmsPollsMax)."""
    retry_count: int = 6
    """Times to retry a failed request (pcRetry)."""
    retry_delay: int = 10000
    """ms to wait before retrying (pcmsRetryDelay)."""
    dn_prefix: str = ""
    """szDNPrefix; an ASCII string on the wire."""
    display_name: str = ""
    """The user's display name (UTF-16LE on the wire)."""
    auxiliary_buffer: bytes = b""

    status_code: ClassVar[int] = 0

    def encode(self) -> bytes:
        w = Writer().u32(0).u32(self.error_code)
        w.u32(self.polls_max).u32(self.retry_count).u32(self.retry_delay)
        w.asciiz(self.dn_prefix, "latin-1").utf16z(self.display_name)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(
        cls, data: bytes, *, progress: dict[str, Any] | None = None
    ) -> ConnectResponse | FailureResponse:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        status = _put(p, "StatusCode", r.u32("StatusCode"))
        if status != 0:
            return FailureResponse._rest(r, status, p)
        error_code = _put(p, "ErrorCode", r.u32("ErrorCode"))
        polls_max = _put(p, "PollsMax", r.u32("PollsMax"))
        retry_count = _put(p, "RetryCount", r.u32("RetryCount"))
        retry_delay = _put(p, "RetryDelay", r.u32("RetryDelay"))
        dn_prefix = _put(p, "DnPrefix", r.asciiz("DnPrefix", "latin-1"))
        display_name = _put(p, "DisplayName", r.utf16z("DisplayName"))
        aux = _read_aux(r, p)
        _finish(r, "Connect response")
        return cls(error_code, polls_max, retry_count, retry_delay, dn_prefix, display_name, aux)


# ---------------------------------------------------------------------------------------------------
# Execute (MS-OXCMAPIHTTP 2.2.4.2)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecuteRequest(_Body):
    """Execute request body, MS-OXCMAPIHTTP 2.2.4.2.1 (EcDoRpcExt2 [in], MS-OXCRPC 3.1.4.2).

    ``rop_buffer`` is rgbIn: one or more RPC_HEADER_EXT + payload extended buffers (MS-OXCRPC 2.2.2.1).
    """

    flags: int = DEFAULT_EXECUTE_FLAGS
    rop_buffer: bytes = b""
    max_rop_out: int = DEFAULT_MAX_ROP_OUT
    """pcbOut: the largest RopBuffer the server may return."""
    auxiliary_buffer: bytes = b""

    def encode(self) -> bytes:
        w = Writer().u32(self.flags).u32(len(self.rop_buffer)).raw(self.rop_buffer)
        w.u32(self.max_rop_out)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, *, progress: dict[str, Any] | None = None) -> ExecuteRequest:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        flags = _put(p, "Flags", r.u32("Flags"))
        rop_buffer = _read_rop_buffer(r, p)
        max_rop_out = _put(p, "MaxRopOut", r.u32("MaxRopOut"))
        aux = _read_aux(r, p)
        _finish(r, "Execute request")
        return cls(flags, rop_buffer, max_rop_out, aux)


def _read_rop_buffer(r: Reader, p: dict[str, Any]) -> bytes:
    start = r.offset
    size = _put(p, "RopBufferSize", r.u32("RopBufferSize"))
    if size > r.remaining:
        raise DecodeError(
            f"RopBufferSize {size} is larger than the {r.remaining} byte(s) left in the body",
            offset=start,
            field="RopBufferSize",
            expected=f"at most {r.remaining}",
        )
    return _put(p, "RopBuffer", r.take(size, "RopBuffer"))


@dataclass(frozen=True)
class ExecuteResponse(_Body):
    """Execute success response body, MS-OXCMAPIHTTP 2.2.4.2.2 (EcDoRpcExt2 [out], MS-OXCRPC 3.1.4.2).

    ``flags`` is reserved: the server sends 0 and the client ignores it. ``rop_buffer`` is rgbOut.
    """

    _success_response: ClassVar[bool] = True

    error_code: int = 0
    flags: int = 0
    rop_buffer: bytes = b""
    auxiliary_buffer: bytes = b""

    status_code: ClassVar[int] = 0

    def encode(self) -> bytes:
        w = Writer().u32(0).u32(self.error_code).u32(self.flags)
        w.u32(len(self.rop_buffer)).raw(self.rop_buffer)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(
        cls, data: bytes, *, progress: dict[str, Any] | None = None
    ) -> ExecuteResponse | FailureResponse:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        status = _put(p, "StatusCode", r.u32("StatusCode"))
        if status != 0:
            return FailureResponse._rest(r, status, p)
        error_code = _put(p, "ErrorCode", r.u32("ErrorCode"))
        flags = _put(p, "Flags", r.u32("Flags"))
        rop_buffer = _read_rop_buffer(r, p)
        aux = _read_aux(r, p)
        _finish(r, "Execute response")
        return cls(error_code, flags, rop_buffer, aux)


# ---------------------------------------------------------------------------------------------------
# Disconnect (MS-OXCMAPIHTTP 2.2.4.3)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisconnectRequest(_Body):
    """Disconnect request body, MS-OXCMAPIHTTP 2.2.4.3.1: AuxiliaryBufferSize, AuxiliaryBuffer.

    [U] 3.1.5.4 describes Disconnect as having no request body while 2.2.4.3.1 gives it the aux fields.
    ``decode`` accepts both (an empty body sets ``body_absent``); ``encode`` sends the table's form
    (``00 00 00 00`` for no aux) unless ``body_absent`` is set, so a decoded capture re-encodes exactly.
    """

    auxiliary_buffer: bytes = b""
    body_absent: bool = dataclasses.field(default=False, metadata={"json": False})

    def encode(self) -> bytes:
        if self.body_absent:
            if self.auxiliary_buffer:
                raise EncodeError("a Disconnect request without a body cannot carry an auxiliary buffer")
            return b""
        w = Writer()
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, *, progress: dict[str, Any] | None = None) -> DisconnectRequest:
        p: dict[str, Any] = {} if progress is None else progress
        if not data:
            # [U] "no request body" (3.1.5.4) - accepted alongside the table's form.
            p["BodyAbsent"] = True
            return cls(b"", body_absent=True)
        r = Reader(data)
        aux = _read_aux(r, p)
        _finish(r, "Disconnect request")
        return cls(aux)

    def __json__(self) -> dict[str, Any]:
        if self.body_absent:
            return {"BodyAbsent": True}
        return super().__json__()


@dataclass(frozen=True)
class DisconnectResponse(_Body):
    """Disconnect success response body, MS-OXCMAPIHTTP 2.2.4.3.2: StatusCode 0, ErrorCode, aux."""

    _success_response: ClassVar[bool] = True

    error_code: int = 0
    auxiliary_buffer: bytes = b""

    status_code: ClassVar[int] = 0

    def encode(self) -> bytes:
        w = Writer().u32(0).u32(self.error_code)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(
        cls, data: bytes, *, progress: dict[str, Any] | None = None
    ) -> DisconnectResponse | FailureResponse:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        status = _put(p, "StatusCode", r.u32("StatusCode"))
        if status != 0:
            return FailureResponse._rest(r, status, p)
        error_code = _put(p, "ErrorCode", r.u32("ErrorCode"))
        aux = _read_aux(r, p)
        _finish(r, "Disconnect response")
        return cls(error_code, aux)


# ---------------------------------------------------------------------------------------------------
# NotificationWait (MS-OXCMAPIHTTP 2.2.4.4)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationWaitRequest(_Body):
    """NotificationWait request body, MS-OXCMAPIHTTP 2.2.4.4.1 (EcDoAsyncWaitEx, MS-OXCRPC 3.3.4.1).

    Flags is reserved and is 0.
    """

    flags: int = 0
    auxiliary_buffer: bytes = b""

    def encode(self) -> bytes:
        w = Writer().u32(self.flags)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, *, progress: dict[str, Any] | None = None) -> NotificationWaitRequest:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        flags = _put(p, "Flags", r.u32("Flags"))
        aux = _read_aux(r, p)
        _finish(r, "NotificationWait request")
        return cls(flags, aux)


@dataclass(frozen=True)
class NotificationWaitResponse(_Body):
    """NotificationWait success response body, MS-OXCMAPIHTTP 2.2.4.4.2.

    EventPending is 1 when an event is pending: the client then sends an Execute (with an empty ROP
    list if it has nothing else to send) and the event details come back in its response.
    """

    _success_response: ClassVar[bool] = True

    error_code: int = 0
    event_pending: int = 0
    auxiliary_buffer: bytes = b""

    status_code: ClassVar[int] = 0

    @property
    def is_event_pending(self) -> bool:
        return self.event_pending != 0

    def encode(self) -> bytes:
        w = Writer().u32(0).u32(self.error_code).u32(self.event_pending)
        _write_aux(w, self.auxiliary_buffer)
        return w.getvalue()

    @classmethod
    def decode(
        cls, data: bytes, *, progress: dict[str, Any] | None = None
    ) -> NotificationWaitResponse | FailureResponse:
        p: dict[str, Any] = {} if progress is None else progress
        r = Reader(data)
        status = _put(p, "StatusCode", r.u32("StatusCode"))
        if status != 0:
            return FailureResponse._rest(r, status, p)
        error_code = _put(p, "ErrorCode", r.u32("ErrorCode"))
        event_pending = _put(p, "EventPending", r.u32("EventPending"))
        aux = _read_aux(r, p)
        _finish(r, "NotificationWait response")
        return cls(error_code, event_pending, aux)


# ---------------------------------------------------------------------------------------------------
# PING (MS-OXCMAPIHTTP 2.2.6): no request body, no response body
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoBody:
    """The (absent) body of a PING request or response, MS-OXCMAPIHTTP 2.2.6."""

    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, data: bytes, *, progress: dict[str, Any] | None = None) -> NoBody:
        if data:
            raise DecodeError(
                f"a PING body must be empty but has {len(data)} byte(s)",
                offset=0,
                expected="no body (MS-OXCMAPIHTTP 2.2.6)",
            )
        return cls()

    def __json__(self) -> dict[str, Any]:
        return {}


# ---------------------------------------------------------------------------------------------------
# Registration: body decoders by X-RequestType and ``mapiprobe decode`` kinds
# ---------------------------------------------------------------------------------------------------

BODIES: dict[tuple[str, str], Any] = {
    ("Connect", "request"): ConnectRequest,
    ("Connect", "response"): ConnectResponse,
    ("Execute", "request"): ExecuteRequest,
    ("Execute", "response"): ExecuteResponse,
    ("Disconnect", "request"): DisconnectRequest,
    ("Disconnect", "response"): DisconnectResponse,
    ("NotificationWait", "request"): NotificationWaitRequest,
    ("NotificationWait", "response"): NotificationWaitResponse,
    ("PING", "request"): NoBody,
    ("PING", "response"): NoBody,
}
"""The body class of each (X-RequestType, direction) of the mailbox endpoint."""

_SECTIONS = {
    "Connect": "2.2.4.1",
    "Execute": "2.2.4.2",
    "Disconnect": "2.2.4.3",
    "NotificationWait": "2.2.4.4",
}


def _make_decoder(request_type: str, direction: str, cls: Any) -> Callable[[bytes, DecodeContext], Any]:
    stage = f"{request_type} {direction} body"

    def decode(data: bytes, ctx: DecodeContext) -> Any:
        progress: dict[str, Any] = {}
        ctx.partial[stage] = progress  # fields land here as they are read
        result = cls.decode(data, progress=progress)
        ctx.partial[stage] = result
        return result

    decode.__name__ = f"decode_{request_type.lower()}_{direction}"
    decode.__doc__ = f"Decode a MAPI/HTTP {stage}."
    return decode


for (_rt, _dir), _cls in BODIES.items():
    _func = _make_decoder(_rt, _dir, _cls)
    body_decoder(_rt, _dir)(_func)
    if _rt in _SECTIONS:
        _form = "request body" if _dir == "request" else "response body (success or failure form)"
        decode_kind(f"{_rt.lower()}-{_dir}", f"{_rt} {_form}, MS-OXCMAPIHTTP {_SECTIONS[_rt]}")(_func)


__all__ = [
    "BODIES",
    "DEFAULT_EXECUTE_FLAGS",
    "DEFAULT_MAX_ROP_OUT",
    "ConnectFlags",
    "ConnectRequest",
    "ConnectResponse",
    "DisconnectRequest",
    "DisconnectResponse",
    "ExecuteFlags",
    "ExecuteRequest",
    "ExecuteResponse",
    "FailureResponse",
    "NoBody",
    "NotificationWaitRequest",
    "NotificationWaitResponse",
]
