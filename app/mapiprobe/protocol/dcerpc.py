"""Connection-oriented DCE/RPC PDUs (C706 chapter 12, with MS-RPCE 2.2.2's extensions).

Every PDU starts with the 16-byte common header (C706 12.6.3.1)::

    rpc_vers u8 (5) | rpc_vers_minor u8 (0) | PTYPE u8 | pfc_flags u8 | packed_drep 4 bytes (10 00 00 00)
    frag_length u16 | auth_length u16 | call_id u32

then the type's fixed fields, the stub data, and when ``auth_length`` is not 0 an authentication verifier
(C706 13.2.6.1, MS-RPCE 2.2.2.11): pad bytes up to a 4-byte boundary, the 8-byte ``sec_trailer``
(auth_type, auth_level, auth_pad_length, auth_reserved, auth_context_id) and ``auth_length`` bytes of
auth_value (a security token during bind, a signature on requests and responses).

Only the little-endian, ASCII, IEEE data representation (``10 00 00 00``) is accepted: it is what Windows,
Exchange and gromox send, and NDR in :mod:`.ndr` reads only that.

:class:`Pdu` splits a PDU into header, body, trailer and auth_value, keeping the raw sections a security
layer needs (:meth:`Pdu.sections`): the signature of an integrity- or privacy-protected PDU covers the
header and fixed fields, the stub and its padding, and the sec_trailer (MS-RPCE 3.3.1.5.2); privacy encrypts
only the stub and its padding. :func:`build_pdu` is the mirror image, with a ``protect`` callback that
receives those three sections and returns the (possibly encrypted) stub and the signature.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import DecodeError, EncodeError, ShortBuffer
from .registry import DecodeContext, decode_kind
from .wire import Reader, Writer

RPC_VERSION = 5
RPC_VERSION_MINOR = 0
DREP_LE = b"\x10\x00\x00\x00"
HEADER_SIZE = 16
SEC_TRAILER_SIZE = 8
MAX_FRAG = 0xFFFF

PFC_FIRST_FRAG = 0x01
PFC_LAST_FRAG = 0x02
PFC_PENDING_CANCEL = 0x04  # PFC_SUPPORT_HEADER_SIGN in bind/alter_context (MS-RPCE 2.2.2.3)
PFC_SUPPORT_HEADER_SIGN = 0x04
PFC_RESERVED_1 = 0x08
PFC_CONC_MPX = 0x10
PFC_DID_NOT_EXECUTE = 0x20
PFC_MAYBE = 0x40
PFC_OBJECT_UUID = 0x80

_PFC_NAMES = {
    PFC_FIRST_FRAG: "PFC_FIRST_FRAG",
    PFC_LAST_FRAG: "PFC_LAST_FRAG",
    PFC_PENDING_CANCEL: "PFC_PENDING_CANCEL/SUPPORT_HEADER_SIGN",
    PFC_RESERVED_1: "PFC_RESERVED_1",
    PFC_CONC_MPX: "PFC_CONC_MPX",
    PFC_DID_NOT_EXECUTE: "PFC_DID_NOT_EXECUTE",
    PFC_MAYBE: "PFC_MAYBE",
    PFC_OBJECT_UUID: "PFC_OBJECT_UUID",
}


class PType(enum.IntEnum):
    """PTYPE of a connection-oriented PDU (C706 12.6.4; 20 is MS-RPCH's RTS)."""

    REQUEST = 0
    RESPONSE = 2
    FAULT = 3
    BIND = 11
    BIND_ACK = 12
    BIND_NAK = 13
    ALTER_CONTEXT = 14
    ALTER_CONTEXT_RESP = 15
    AUTH3 = 16
    SHUTDOWN = 17
    CO_CANCEL = 18
    ORPHANED = 19
    RTS = 20


class AuthType(enum.IntEnum):
    """auth_type of the sec_trailer (MS-RPCE 2.2.1.1.7)."""

    NONE = 0
    GSS_NEGOTIATE = 9  # SPNEGO
    WINNT = 10  # NTLM
    GSS_SCHANNEL = 14
    GSS_KERBEROS = 16
    NETLOGON = 68
    DEFAULT = 255


class AuthLevel(enum.IntEnum):
    """auth_level of the sec_trailer (MS-RPCE 2.2.1.1.8)."""

    DEFAULT = 0
    NONE = 1
    CONNECT = 2
    CALL = 3
    PKT = 4
    PKT_INTEGRITY = 5
    PKT_PRIVACY = 6


class ContextResult(enum.IntEnum):
    """p_cont_def_result_t of a bind_ack result (C706 12.6.3.1; 3 is MS-RPCE 2.2.2.4's negotiate_ack)."""

    ACCEPTANCE = 0
    USER_REJECTION = 1
    PROVIDER_REJECTION = 2
    NEGOTIATE_ACK = 3


class ProviderReason(enum.IntEnum):
    """p_provider_reason_t of a rejected presentation context (C706 12.6.3.1)."""

    REASON_NOT_SPECIFIED = 0
    ABSTRACT_SYNTAX_NOT_SUPPORTED = 1
    PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED = 2
    LOCAL_LIMIT_EXCEEDED = 3


class RejectReason(enum.IntEnum):
    """provider_reject_reason of a bind_nak (C706 12.6.3.1; 8 and 9 are MS-RPCE 2.2.2.5's)."""

    REASON_NOT_SPECIFIED = 0
    TEMPORARY_CONGESTION = 1
    LOCAL_LIMIT_EXCEEDED = 2
    CALLED_PADDR_UNKNOWN = 3
    PROTOCOL_VERSION_NOT_SUPPORTED = 4
    DEFAULT_CONTEXT_NOT_SUPPORTED = 5
    USER_DATA_NOT_READABLE = 6
    NO_PSAP_AVAILABLE = 7
    AUTHENTICATION_TYPE_NOT_RECOGNIZED = 8
    INVALID_CHECKSUM = 9


FAULT_NAMES: dict[int, tuple[str, str]] = {
    # C706 appendix E (nca_s_*) and the Win32 codes Windows servers put in a fault (MS-RPCE 2.2.2.7).
    0x00000005: ("ERROR_ACCESS_DENIED", "access denied (the server refused the caller)"),
    0x000006A6: ("RPC_S_INVALID_BINDING", "the binding handle is invalid"),
    0x000006B5: ("RPC_S_UNKNOWN_IF", "the server does not offer the interface"),
    0x000006BA: ("RPC_S_SERVER_UNAVAILABLE", "the RPC server is unavailable"),
    0x000006BB: ("RPC_S_SERVER_TOO_BUSY", "the RPC server is too busy"),
    0x000006BE: ("RPC_S_CALL_FAILED", "the remote procedure call failed"),
    0x000006BF: ("RPC_S_CALL_FAILED_DNE", "the call failed and did not execute"),
    0x000006C0: ("RPC_S_PROTOCOL_ERROR", "RPC protocol error"),
    0x000006D1: ("RPC_S_PROCNUM_OUT_OF_RANGE", "the procedure number is out of range"),
    0x000006F7: ("RPC_X_BAD_STUB_DATA", "the stub received bad data"),
    0x0000071A: ("RPC_S_CALL_CANCELLED", "the call was cancelled"),
    0x0000071D: ("RPC_S_UNSUPPORTED_AUTHN_LEVEL", "the authentication level is not supported"),
    0x00000721: ("RPC_S_SEC_PKG_ERROR", "a security package error occurred"),
    0x1C000001: ("nca_s_fault_int_div_by_zero", "integer division by zero in the server"),
    0x1C000002: ("nca_s_fault_addr_error", "address error in the server"),
    0x1C000006: ("nca_s_fault_invalid_tag", "invalid union tag"),
    0x1C000007: ("nca_s_fault_invalid_bound", "invalid array bound"),
    0x1C000008: ("nca_s_rpc_version_mismatch", "RPC protocol version mismatch"),
    0x1C000009: ("nca_s_unspec_reject", "the request was rejected"),
    0x1C00000A: ("nca_s_bad_actid", "bad activity id"),
    0x1C00000C: ("nca_s_manager_not_entered", "the server's manager routine was not entered"),
    0x1C00000D: ("nca_s_fault_cancel", "the call was cancelled"),
    0x1C000012: ("nca_s_fault_unspec", "unspecified fault in the server"),
    0x1C000013: ("nca_s_fault_remote_comm_failure", "communication failure behind the server"),
    0x1C00001A: ("nca_s_fault_context_mismatch", "the context handle is not known to the server"),
    0x1C00001B: ("nca_s_fault_remote_no_memory", "the server ran out of memory"),
    0x1C00001C: ("nca_s_invalid_pres_context_id", "invalid presentation context id"),
    0x1C00001D: ("nca_s_unsupported_authn_level", "the authentication level is not supported"),
    0x1C00001F: ("nca_s_invalid_checksum", "invalid checksum (the PDU's signature did not verify)"),
    0x1C000020: ("nca_s_invalid_crc", "invalid CRC"),
    0x1C000021: ("nca_s_fault_user_defined", "user-defined fault"),
    0x1C010002: ("nca_s_op_rng_error", "the operation number is not offered by the interface"),
    0x1C010003: ("nca_s_unk_if", "the server does not offer the interface"),
    0x1C010006: ("nca_s_wrong_boot_time", "the server restarted"),
    0x1C010009: ("nca_s_you_crashed", "the server thinks the client restarted"),
    0x1C01000B: ("nca_s_proto_error", "RPC protocol error"),
    0x1C010013: ("nca_s_out_args_too_big", "the output is too big for the client"),
    0x1C010014: ("nca_s_server_too_busy", "the server is too busy"),
    0x1C010017: ("nca_s_unsupported_type", "unsupported type"),
}


def fault_name(status: int) -> str:
    """``name (meaning)`` of a fault status, or its hex value when unknown."""
    known = FAULT_NAMES.get(status)
    if known is None:
        return f"0x{status:08X}"
    return f"{known[0]} (0x{status:08X}: {known[1]})"


# -- header -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommonHeader:
    """The 16-byte header every connection-oriented PDU starts with (C706 12.6.3.1)."""

    ptype: int
    pfc_flags: int
    frag_length: int
    auth_length: int
    call_id: int
    rpc_vers: int = RPC_VERSION
    rpc_vers_minor: int = RPC_VERSION_MINOR
    drep: bytes = DREP_LE

    def encode(self) -> bytes:
        if self.frag_length > MAX_FRAG:
            raise EncodeError(
                f"PDU of {self.frag_length} bytes", field="frag_length", expected="at most 65535"
            )
        w = Writer()
        w.u8(self.rpc_vers).u8(self.rpc_vers_minor).u8(self.ptype).u8(self.pfc_flags).raw(self.drep)
        w.u16(self.frag_length).u16(self.auth_length).u32(self.call_id)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> CommonHeader:
        r = Reader(data[:HEADER_SIZE])
        vers = r.u8("rpc_vers")
        minor = r.u8("rpc_vers_minor")
        if vers != RPC_VERSION or minor > 1:
            raise DecodeError(
                f"not a connection-oriented DCE/RPC PDU (version {vers}.{minor})",
                offset=0,
                expected="rpc_vers 5, rpc_vers_minor 0 or 1",
            )
        ptype = r.u8("PTYPE")
        flags = r.u8("pfc_flags")
        drep = r.take(4, "packed_drep")
        if drep[0] & 0xF0 != 0x10 or drep[1] != 0:
            raise DecodeError(
                f"data representation {drep.hex()} is not little-endian ASCII IEEE",
                offset=4,
                expected="packed_drep 10 00 00 00",
            )
        frag_length = r.u16("frag_length")
        auth_length = r.u16("auth_length")
        call_id = r.u32("call_id")
        if frag_length < HEADER_SIZE:
            raise DecodeError(f"frag_length {frag_length}", offset=8, expected="at least 16")
        return cls(ptype, flags, frag_length, auth_length, call_id, vers, minor, drep)

    def __json__(self) -> dict[str, Any]:
        try:
            ptype: Any = PType(self.ptype).name.lower()
        except ValueError:
            ptype = self.ptype
        return {
            "rpc_vers": self.rpc_vers,
            "rpc_vers_minor": self.rpc_vers_minor,
            "PTYPE": ptype,
            "pfc_flags": [n for f, n in _PFC_NAMES.items() if self.pfc_flags & f],
            "packed_drep": self.drep.hex(),
            "frag_length": self.frag_length,
            "auth_length": self.auth_length,
            "call_id": self.call_id,
        }


def pdu_length(data: bytes | bytearray | memoryview) -> int | None:
    """The frag_length of the PDU at the start of ``data``, or None when fewer than 16 bytes are there."""
    if len(data) < HEADER_SIZE:
        return None
    return CommonHeader.decode(bytes(data[:HEADER_SIZE])).frag_length


def split_pdus(data: bytes) -> list[bytes]:
    """Cut a captured byte stream into PDUs by their frag_length (a truncated last PDU is an error)."""
    out: list[bytes] = []
    at = 0
    while at < len(data):
        try:
            size = pdu_length(data[at:])
        except DecodeError as exc:
            raise exc.at(at) from None
        if size is None or at + size > len(data):
            raise ShortBuffer(
                "the stream ends inside a PDU", offset=at, expected=f"{size or HEADER_SIZE} bytes of PDU"
            )
        out.append(data[at : at + size])
        at += size
    return out


class PduStream:
    """Reassembles PDUs from bytes arriving in arbitrary pieces (what a channel reads off the socket)."""

    def __init__(self, limit: int = MAX_FRAG) -> None:
        self._buf = bytearray()
        self.limit = limit

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buf += data
        while True:
            size = pdu_length(self._buf)
            if size is None or len(self._buf) < size:
                return
            pdu = bytes(self._buf[:size])
            del self._buf[:size]
            yield pdu

    @property
    def pending(self) -> int:
        return len(self._buf)


# -- syntax identifiers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntaxId:
    """p_syntax_id_t: an interface or transfer syntax UUID and its version (major u16, minor u16)."""

    uuid: uuid.UUID
    major: int
    minor: int = 0

    def write(self, w: Writer) -> None:
        w.guid(self.uuid).u16(self.major).u16(self.minor)

    @classmethod
    def read(cls, r: Reader, what: str = "syntax") -> SyntaxId:
        return cls(
            r.guid(f"{what} uuid"), r.u16(f"{what} if_version major"), r.u16(f"{what} if_version minor")
        )

    def __str__(self) -> str:
        return f"{self.uuid} v{self.major}.{self.minor}"

    def __json__(self) -> str:
        name = KNOWN_SYNTAXES.get(self)
        return f"{self} ({name})" if name else str(self)


NDR = SyntaxId(uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860"), 2, 0)
"""The NDR transfer syntax (C706 14; MS-RPCE 2.2.4.12)."""
NDR64 = SyntaxId(uuid.UUID("71710533-beba-4937-8319-b5dbef9ccc36"), 1, 0)
BIND_TIME_FEATURES = SyntaxId(uuid.UUID("6cb71c2c-9812-4540-0300-000000000000"), 1, 0)
"""Bind time feature negotiation (MS-RPCE 3.3.1.5.3): the last 8 bytes carry the feature bits."""
EMSMDB = SyntaxId(uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da"), 0, 81)
"""The EMSMDB interface (MS-OXCRPC 1.9: version 0.81)."""
ASYNCEMSMDB = SyntaxId(uuid.UUID("5261574a-4572-206e-b268-6b199213b4e4"), 0, 1)
NSPI = SyntaxId(uuid.UUID("f5cc5a18-4264-101a-8c59-08002b2f8426"), 56, 0)
RFR = SyntaxId(uuid.UUID("1544f5e0-613c-11d1-93df-00c04fd7bd09"), 1, 0)

KNOWN_SYNTAXES = {
    NDR: "NDR",
    NDR64: "NDR64",
    EMSMDB: "EMSMDB",
    ASYNCEMSMDB: "AsyncEMSMDB",
    NSPI: "NSPI",
    RFR: "RFR",
}


@dataclass(frozen=True)
class ContextElement:
    """p_cont_elem_t: a presentation context the client proposes."""

    context_id: int
    abstract_syntax: SyntaxId
    transfer_syntaxes: tuple[SyntaxId, ...] = (NDR,)

    def __json__(self) -> dict[str, Any]:
        return {
            "p_cont_id": self.context_id,
            "n_transfer_syn": len(self.transfer_syntaxes),
            "abstract_syntax": self.abstract_syntax,
            "transfer_syntaxes": list(self.transfer_syntaxes),
        }


@dataclass(frozen=True)
class ContextResultEntry:
    """p_result_t: the server's answer for one proposed context."""

    result: int
    reason: int
    transfer_syntax: SyntaxId

    @property
    def accepted(self) -> bool:
        return self.result == ContextResult.ACCEPTANCE

    def __json__(self) -> dict[str, Any]:
        return {
            "result": _enum_name(ContextResult, self.result),
            "reason": _enum_name(ProviderReason, self.reason),
            "transfer_syntax": self.transfer_syntax,
        }


def _enum_name(kind: type[enum.IntEnum], value: int) -> str | int:
    try:
        return kind(value).name.lower()
    except ValueError:
        return value


# -- bodies -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bind:
    """bind (11) and alter_context (14) bodies (C706 12.6.4.3 and 12.6.4.1)."""

    contexts: tuple[ContextElement, ...]
    max_xmit_frag: int = 4280
    max_recv_frag: int = 4280
    assoc_group_id: int = 0

    def encode(self) -> bytes:
        w = Writer()
        w.u16(self.max_xmit_frag).u16(self.max_recv_frag).u32(self.assoc_group_id)
        w.u8(len(self.contexts)).u8(0).u16(0)
        for c in self.contexts:
            w.u16(c.context_id).u8(len(c.transfer_syntaxes)).u8(0)
            c.abstract_syntax.write(w)
            for t in c.transfer_syntaxes:
                t.write(w)
        return w.getvalue()

    @classmethod
    def decode(cls, body: bytes, base: int = HEADER_SIZE) -> Bind:
        r = Reader(body, base=base)
        xmit, recv, group = r.u16("max_xmit_frag"), r.u16("max_recv_frag"), r.u32("assoc_group_id")
        n = r.u8("n_context_elem")
        r.take(3, "reserved")
        contexts = []
        for _ in range(n):
            cid = r.u16("p_cont_id")
            nt = r.u8("n_transfer_syn")
            r.u8("reserved")
            abstract = SyntaxId.read(r, "abstract_syntax")
            transfers = tuple(SyntaxId.read(r, "transfer_syntax") for _ in range(nt))
            contexts.append(ContextElement(cid, abstract, transfers))
        return cls(tuple(contexts), xmit, recv, group)

    def __json__(self) -> dict[str, Any]:
        return {
            "max_xmit_frag": self.max_xmit_frag,
            "max_recv_frag": self.max_recv_frag,
            "assoc_group_id": self.assoc_group_id,
            "n_context_elem": len(self.contexts),
            "p_cont_elem": list(self.contexts),
        }


@dataclass(frozen=True)
class BindAck:
    """bind_ack (12) and alter_context_resp (15) bodies (C706 12.6.4.4 and 12.6.4.2).

    ``sec_addr`` is the secondary address (the server's port as a string, e.g. ``"6001"``; empty in an
    alter_context_resp); the result list starts at the next 4-byte boundary of the PDU.
    """

    results: tuple[ContextResultEntry, ...]
    max_xmit_frag: int = 4280
    max_recv_frag: int = 4280
    assoc_group_id: int = 0
    sec_addr: str = ""

    def encode(self) -> bytes:
        w = Writer()
        w.u16(self.max_xmit_frag).u16(self.max_recv_frag).u32(self.assoc_group_id)
        if self.sec_addr:
            raw = self.sec_addr.encode("ascii") + b"\x00"
            w.u16(len(raw)).raw(raw)
        else:
            w.u16(0)
        w.raw(bytes(-(HEADER_SIZE + len(w)) % 4))
        w.u8(len(self.results)).u8(0).u16(0)
        for res in self.results:
            w.u16(res.result).u16(res.reason)
            res.transfer_syntax.write(w)
        return w.getvalue()

    @classmethod
    def decode(cls, body: bytes, base: int = HEADER_SIZE) -> BindAck:
        r = Reader(body, base=base)
        xmit, recv, group = r.u16("max_xmit_frag"), r.u16("max_recv_frag"), r.u32("assoc_group_id")
        n = r.u16("sec_addr length")
        raw = r.take(n, "port_spec")
        r.take(-r.offset % 4, "pad")
        count = r.u8("n_results")
        r.take(3, "reserved")
        results = tuple(
            ContextResultEntry(r.u16("result"), r.u16("reason"), SyntaxId.read(r, "transfer_syntax"))
            for _ in range(count)
        )
        return cls(results, xmit, recv, group, raw.rstrip(b"\x00").decode("latin-1"))

    def __json__(self) -> dict[str, Any]:
        return {
            "max_xmit_frag": self.max_xmit_frag,
            "max_recv_frag": self.max_recv_frag,
            "assoc_group_id": self.assoc_group_id,
            "sec_addr": self.sec_addr,
            "n_results": len(self.results),
            "p_results": list(self.results),
        }


@dataclass(frozen=True)
class BindNak:
    """bind_nak (13) body (C706 12.6.4.5): the reason and the protocol versions the server supports."""

    reason: int
    versions: tuple[tuple[int, int], ...] = ((5, 0),)

    def encode(self) -> bytes:
        w = Writer().u16(self.reason).u8(len(self.versions))
        for major, minor in self.versions:
            w.u8(major).u8(minor)
        return w.getvalue()

    @classmethod
    def decode(cls, body: bytes, base: int = HEADER_SIZE) -> BindNak:
        r = Reader(body, base=base)
        reason = r.u16("provider_reject_reason")
        if r.at_end():  # some servers stop after the reason
            return cls(reason, ())
        n = r.u8("n_protocols")
        versions = tuple((r.u8("rpc_vers"), r.u8("rpc_vers_minor")) for _ in range(n))
        return cls(reason, versions)

    @property
    def reason_name(self) -> str:
        name = _enum_name(RejectReason, self.reason)
        return name if isinstance(name, str) else f"reason {name}"

    def __json__(self) -> dict[str, Any]:
        return {
            "provider_reject_reason": _enum_name(RejectReason, self.reason),
            "versions": [f"{a}.{b}" for a, b in self.versions],
        }


@dataclass(frozen=True)
class Request:
    """request (0) body (C706 12.6.4.9): alloc_hint, p_cont_id, opnum, [object], stub data."""

    opnum: int
    stub: bytes
    context_id: int = 0
    alloc_hint: int | None = None
    object: uuid.UUID | None = None

    def fixed(self) -> bytes:
        w = Writer()
        w.u32(len(self.stub) if self.alloc_hint is None else self.alloc_hint).u16(self.context_id).u16(
            self.opnum
        )
        if self.object is not None:
            w.guid(self.object)
        return w.getvalue()

    @classmethod
    def decode(cls, body: bytes, flags: int, base: int = HEADER_SIZE) -> Request:
        r = Reader(body, base=base)
        hint, cid, opnum = r.u32("alloc_hint"), r.u16("p_cont_id"), r.u16("opnum")
        obj = r.guid("object") if flags & PFC_OBJECT_UUID else None
        return cls(opnum, r.rest(), cid, hint, obj)

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "alloc_hint": self.alloc_hint,
            "p_cont_id": self.context_id,
            "opnum": self.opnum,
        }
        if self.object is not None:
            out["object"] = str(self.object)
        out["stub_data"] = self.stub
        return out


@dataclass(frozen=True)
class Response:
    """response (2) body (C706 12.6.4.10): alloc_hint, p_cont_id, cancel_count, reserved, stub data."""

    stub: bytes
    context_id: int = 0
    alloc_hint: int | None = None
    cancel_count: int = 0

    def fixed(self) -> bytes:
        hint = len(self.stub) if self.alloc_hint is None else self.alloc_hint
        return Writer().u32(hint).u16(self.context_id).u8(self.cancel_count).u8(0).getvalue()

    @classmethod
    def decode(cls, body: bytes, base: int = HEADER_SIZE) -> Response:
        r = Reader(body, base=base)
        hint, cid, cancels = r.u32("alloc_hint"), r.u16("p_cont_id"), r.u8("cancel_count")
        r.u8("reserved")
        return cls(r.rest(), cid, hint, cancels)

    def __json__(self) -> dict[str, Any]:
        return {
            "alloc_hint": self.alloc_hint,
            "p_cont_id": self.context_id,
            "cancel_count": self.cancel_count,
            "stub_data": self.stub,
        }


@dataclass(frozen=True)
class Fault:
    """fault (3) body (C706 12.6.4.7; MS-RPCE 2.2.2.7): alloc_hint, p_cont_id, cancel_count, reserved,
    status, reserved2 (4 bytes), optional stub data."""

    status: int
    context_id: int = 0
    alloc_hint: int = 0
    cancel_count: int = 0
    stub: bytes = b""

    def fixed(self) -> bytes:
        w = Writer().u32(self.alloc_hint).u16(self.context_id).u8(self.cancel_count).u8(0)
        return w.u32(self.status).u32(0).getvalue()

    @classmethod
    def decode(cls, body: bytes, base: int = HEADER_SIZE) -> Fault:
        r = Reader(body, base=base)
        hint, cid, cancels = r.u32("alloc_hint"), r.u16("p_cont_id"), r.u8("cancel_count")
        r.u8("reserved")
        status = r.u32("status")
        if r.remaining >= 4:
            r.u32("reserved2")
        return cls(status, cid, hint, cancels, r.rest())

    @property
    def name(self) -> str:
        return fault_name(self.status)

    def __json__(self) -> dict[str, Any]:
        return {
            "alloc_hint": self.alloc_hint,
            "p_cont_id": self.context_id,
            "cancel_count": self.cancel_count,
            "status": self.name,
        }


# -- auth verifier and whole PDUs ---------------------------------------------------------------------


@dataclass(frozen=True)
class SecTrailer:
    """sec_trailer (C706 13.2.6.1, MS-RPCE 2.2.2.11)."""

    auth_type: int
    auth_level: int
    pad_length: int = 0
    context_id: int = 0

    def encode(self) -> bytes:
        return (
            Writer()
            .u8(self.auth_type)
            .u8(self.auth_level)
            .u8(self.pad_length)
            .u8(0)
            .u32(self.context_id)
            .getvalue()
        )

    @classmethod
    def decode(cls, data: bytes, base: int) -> SecTrailer:
        r = Reader(data, base=base)
        t, level, pad = r.u8("auth_type"), r.u8("auth_level"), r.u8("auth_pad_length")
        r.u8("auth_reserved")
        return cls(t, level, pad, r.u32("auth_context_id"))

    def __json__(self) -> dict[str, Any]:
        return {
            "auth_type": _enum_name(AuthType, self.auth_type),
            "auth_level": _enum_name(AuthLevel, self.auth_level),
            "auth_pad_length": self.pad_length,
            "auth_context_id": self.context_id,
        }


Body = Bind | BindAck | BindNak | Request | Response | Fault | bytes | Any

_RTS_DECODER: Callable[[bytes], Any] | None = None
"""Set by :mod:`.rts` (which builds on this module) so that :meth:`Pdu.parse` shows RTS PDUs too."""

_FIXED: dict[int, int] = {PType.REQUEST: 8, PType.RESPONSE: 8, PType.FAULT: 16}


def fixed_length(ptype: int, flags: int) -> int:
    """Bytes of fixed fields between the common header and the stub (what a privacy layer leaves clear)."""
    if ptype == PType.REQUEST and flags & PFC_OBJECT_UUID:
        return 24
    return _FIXED.get(ptype, 0)


@dataclass(frozen=True)
class Pdu:
    """A PDU split into its parts: header, body (fixed fields + stub, without auth padding), sec_trailer
    and auth_value. ``raw`` keeps the bytes as received for the security layer (:meth:`sections`)."""

    header: CommonHeader
    body: bytes
    trailer: SecTrailer | None = None
    auth_value: bytes = b""
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def ptype(self) -> int:
        return self.header.ptype

    @property
    def call_id(self) -> int:
        return self.header.call_id

    @property
    def flags(self) -> int:
        return self.header.pfc_flags

    @classmethod
    def decode(cls, data: bytes) -> Pdu:
        header = CommonHeader.decode(data)
        if header.frag_length != len(data):
            raise DecodeError(
                f"frag_length {header.frag_length} does not match the {len(data)} bytes given",
                offset=8,
                expected=f"frag_length {len(data)}",
            )
        if header.auth_length == 0:
            return cls(header, data[HEADER_SIZE:], None, b"", data)
        trailer_at = len(data) - header.auth_length - SEC_TRAILER_SIZE
        if trailer_at < HEADER_SIZE:
            raise DecodeError(
                f"auth_length {header.auth_length} does not fit a {len(data)}-byte PDU",
                offset=10,
                expected=f"auth_length at most {len(data) - HEADER_SIZE - SEC_TRAILER_SIZE}",
            )
        trailer = SecTrailer.decode(data[trailer_at : trailer_at + SEC_TRAILER_SIZE], trailer_at)
        body_end = trailer_at - trailer.pad_length
        if body_end < HEADER_SIZE + fixed_length(header.ptype, header.pfc_flags):
            raise DecodeError(
                f"auth_pad_length {trailer.pad_length} reaches into the PDU's fixed fields",
                offset=trailer_at + 2,
                expected="a pad inside the stub",
            )
        return cls(header, data[HEADER_SIZE:body_end], trailer, data[trailer_at + SEC_TRAILER_SIZE :], data)

    def sections(self) -> tuple[bytes, bytes, bytes]:
        """``(head, stub_and_pad, sec_trailer)`` of the raw PDU: what a signature covers, in order; privacy
        encrypts only the middle part (MS-RPCE 3.3.1.5.2)."""
        if self.trailer is None:
            raise DecodeError("the PDU carries no authentication verifier", field="auth_length")
        head = HEADER_SIZE + fixed_length(self.ptype, self.flags)
        trailer_at = len(self.raw) - self.header.auth_length - SEC_TRAILER_SIZE
        return (
            self.raw[:head],
            self.raw[head:trailer_at],
            self.raw[trailer_at : trailer_at + SEC_TRAILER_SIZE],
        )

    def with_stub_and_pad(self, data: bytes) -> Pdu:
        """This PDU with its stub and pad replaced (after decryption)."""
        assert self.trailer is not None
        head, middle, tail = self.sections()
        if len(data) != len(middle):
            raise DecodeError("decrypted stub has another length", expected=f"{len(middle)} bytes")
        raw = head + data + tail + self.auth_value
        body = raw[HEADER_SIZE : len(head) + len(data) - self.trailer.pad_length]
        return replace(self, body=body, raw=raw)

    def parse(self) -> Body:
        """The typed body of this PDU (raw bytes for types without one here)."""
        b, t = self.body, self.ptype
        if t in (PType.BIND, PType.ALTER_CONTEXT):
            return Bind.decode(b)
        if t in (PType.BIND_ACK, PType.ALTER_CONTEXT_RESP):
            return BindAck.decode(b)
        if t == PType.BIND_NAK:
            return BindNak.decode(b)
        if t == PType.REQUEST:
            return Request.decode(b, self.flags)
        if t == PType.RESPONSE:
            return Response.decode(b)
        if t == PType.FAULT:
            return Fault.decode(b)
        if t == PType.RTS and _RTS_DECODER is not None:
            return _RTS_DECODER(self.raw)
        return b

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {"header": self.header}
        out["body"] = self.parse()
        if self.trailer is not None:
            out["sec_trailer"] = self.trailer
            out["auth_value"] = self.auth_value
        return out


Protect = Callable[[bytes, bytes, bytes], tuple[bytes, bytes]]
"""``protect(head, stub_and_pad, sec_trailer) -> (stub_and_pad (encrypted or not), auth_value)``."""


def build_pdu(
    ptype: int,
    fixed: bytes,
    stub: bytes = b"",
    *,
    call_id: int,
    flags: int = PFC_FIRST_FRAG | PFC_LAST_FRAG,
    trailer: SecTrailer | None = None,
    auth_value: bytes = b"",
    auth_length: int | None = None,
    protect: Protect | None = None,
) -> bytes:
    """Frame one PDU. With a ``trailer`` the stub is padded to 4 bytes and the verifier appended; either
    ``auth_value`` is given (a bind token) or ``protect`` computes it (a signature, ``auth_length`` bytes)."""
    if trailer is None:
        size = HEADER_SIZE + len(fixed) + len(stub)
        return CommonHeader(ptype, flags, size, 0, call_id).encode() + fixed + stub
    pad = -(HEADER_SIZE + len(fixed) + len(stub)) % 4
    length = len(auth_value) if auth_length is None else auth_length
    size = HEADER_SIZE + len(fixed) + len(stub) + pad + SEC_TRAILER_SIZE + length
    head = CommonHeader(ptype, flags, size, length, call_id).encode() + fixed
    middle = stub + bytes(pad)
    tail = replace(trailer, pad_length=pad).encode()
    if protect is not None:
        middle, auth_value = protect(head, middle, tail)
    if len(auth_value) != length:
        raise EncodeError(
            f"auth_value of {len(auth_value)} bytes", field="auth_value", expected=f"{length} bytes"
        )
    return head + middle + tail + auth_value


def fragment_stub(stub: bytes, max_frag: int, overhead: int) -> list[tuple[int, bytes]]:
    """Cut a stub into pieces for PDUs of at most ``max_frag`` bytes, each with ``overhead`` bytes of
    header, fixed fields and verifier (pieces are multiples of 8 except the last, as Windows cuts them).
    Returns ``(pfc_flags, piece)`` pairs."""
    room = (max_frag - overhead) & ~7
    if room <= 0:
        raise EncodeError(
            f"max fragment {max_frag} leaves no room for stub data", expected="a larger max_xmit_frag"
        )
    pieces = [stub[i : i + room] for i in range(0, len(stub), room)] or [b""]
    out = []
    for i, piece in enumerate(pieces):
        flags = (PFC_FIRST_FRAG if i == 0 else 0) | (PFC_LAST_FRAG if i == len(pieces) - 1 else 0)
        out.append((flags, piece))
    return out


def encode_bind(
    ptype: int,
    bind: Bind,
    *,
    call_id: int,
    trailer: SecTrailer | None = None,
    auth_value: bytes = b"",
    flags: int = PFC_FIRST_FRAG | PFC_LAST_FRAG,
) -> bytes:
    return build_pdu(
        ptype, bind.encode(), call_id=call_id, flags=flags, trailer=trailer, auth_value=auth_value
    )


def encode_auth3(call_id: int, trailer: SecTrailer, auth_value: bytes) -> bytes:
    """auth3 (16, MS-RPCE 2.2.2.10): 4 pad bytes, then the verifier with the last security token."""
    return build_pdu(PType.AUTH3, b"\x00" * 4, call_id=call_id, trailer=trailer, auth_value=auth_value)


def decode_pdus(data: bytes) -> list[Pdu]:
    return [Pdu.decode(p) for p in split_pdus(data)]


@decode_kind(
    "dcerpc", "connection-oriented DCE/RPC PDUs back to back (bind, request, response, fault, RTS...)"
)
def _decode_dcerpc(data: bytes, ctx: DecodeContext) -> list[Pdu]:
    out = []
    for i, raw in enumerate(split_pdus(data)):
        out.append(Pdu.decode(raw))
        ctx.partial[f"PDU {i}"] = out[-1]
    return out


def describe_contexts(contexts: Sequence[ContextResultEntry]) -> str:
    return ", ".join(
        "accepted"
        if c.accepted
        else f"{_enum_name(ContextResult, c.result)}: {_enum_name(ProviderReason, c.reason)}"
        for c in contexts
    )


__all__ = [
    "EMSMDB",
    "NDR",
    "AuthLevel",
    "AuthType",
    "Bind",
    "BindAck",
    "BindNak",
    "CommonHeader",
    "ContextElement",
    "ContextResultEntry",
    "Fault",
    "PType",
    "Pdu",
    "PduStream",
    "Request",
    "Response",
    "SecTrailer",
    "SyntaxId",
    "build_pdu",
    "fault_name",
    "fragment_stub",
    "split_pdus",
]
