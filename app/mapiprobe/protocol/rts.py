"""RTS PDUs of RPC over HTTP v2 (MS-RPCH 2.2.3 and 2.2.4).

An RTS PDU is a connection-oriented DCE/RPC PDU of type 20 (``rts``) whose body is ``Flags`` (u16),
``NumberOfCommands`` (u16) and that many commands, each a ``CommandType`` (u32) followed by a body whose
size the type fixes (MS-RPCH 2.2.3.5). The client sees and sends only a handful of them (MS-RPCH 2.2.4):

========================  =========  ==========================================================
PDU                       Flags      commands
========================  =========  ==========================================================
CONN/A1 (2.2.4.2)         0          Version, Cookie (virtual connection), Cookie (OUT channel),
                                     ReceiveWindowSize
CONN/A3 (2.2.4.4)         0          ConnectionTimeout
CONN/B1 (2.2.4.5)         0          Version, Cookie (virtual connection), Cookie (IN channel),
                                     ChannelLifetime, ClientKeepalive, AssociationGroupId
CONN/C2 (2.2.4.9)         0          Version, ReceiveWindowSize, ConnectionTimeout
Keep-Alive (2.2.4.12)     OTHER_CMD  ClientKeepalive
Ping (2.2.4.49)           PING       none
FlowControlAck (2.2.4.50) OTHER_CMD  FlowControlAck
FlowControlAckWith-       OTHER_CMD  Destination, FlowControlAck
Destination (2.2.4.51)
Echo (2.2.4.47/48)        ECHO       none
========================  =========  ==========================================================

:class:`RtsPdu` decodes and encodes any of them; the ``conn_*``/``flow_control_ack``/... functions build the
client's PDUs with the spec's field order, and :meth:`RtsPdu.command` finds a command by type. The common
header is :mod:`mapiprobe.protocol.dcerpc`'s (16 bytes, little-endian data representation).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import dcerpc
from .dcerpc import PFC_FIRST_FRAG, PFC_LAST_FRAG, CommonHeader, split_pdus
from .errors import DecodeError, EncodeError
from .registry import DecodeContext, decode_kind
from .wire import Reader, Writer

PTYPE_RTS = 20
"""DCE/RPC PTYPE of an RTS PDU (MS-RPCH 2.2.3.6.1)."""
RTS_HEADER_SIZE = 20
"""16-byte common header + Flags + NumberOfCommands."""
PROTOCOL_VERSION = 1
"""The Version command's value (MS-RPCH 2.2.3.5.7: 1)."""
DEFAULT_RECEIVE_WINDOW = 0x10000
"""64 KiB: what Windows clients announce; MS-RPCH 3.2.2.4.1 allows 8 KiB to 256 KiB."""
MIN_RECEIVE_WINDOW = 0x2000
MAX_RECEIVE_WINDOW = 0x40000
DEFAULT_CHANNEL_LIFETIME = 0x40000000
"""1 GiB: the channel lifetime Windows announces in CONN/B1 (= the IN channel's Content-Length)."""
DEFAULT_CLIENT_KEEPALIVE = 300_000
"""5 minutes in milliseconds (MS-RPCH 2.2.3.5.6 allows 0 or 60,000 and up)."""


class RtsFlags(enum.IntFlag):
    """Flags of the RTS PDU body (MS-RPCH 2.2.3.6.1)."""

    NONE = 0x0000
    PING = 0x0001
    OTHER_CMD = 0x0002
    RECYCLE_CHANNEL = 0x0004
    IN_CHANNEL = 0x0008
    OUT_CHANNEL = 0x0010
    EOF = 0x0020
    ECHO = 0x0040


class CommandType(enum.IntEnum):
    """CommandType of an RTS command (MS-RPCH 2.2.3.5)."""

    RECEIVE_WINDOW_SIZE = 0
    FLOW_CONTROL_ACK = 1
    CONNECTION_TIMEOUT = 2
    COOKIE = 3
    CHANNEL_LIFETIME = 4
    CLIENT_KEEPALIVE = 5
    VERSION = 6
    EMPTY = 7
    PADDING = 8
    NEGATIVE_ANCE = 9
    ANCE = 10
    CLIENT_ADDRESS = 11
    ASSOCIATION_GROUP_ID = 12
    DESTINATION = 13
    PING_TRAFFIC_SENT_NOTIFY = 14


class ForwardDestination(enum.IntEnum):
    """Destination command values (MS-RPCH 2.2.3.5.13)."""

    FD_CLIENT = 0
    FD_IN_PROXY = 1
    FD_SERVER = 2
    FD_OUT_PROXY = 3


_U32_COMMANDS = {
    CommandType.RECEIVE_WINDOW_SIZE,
    CommandType.CONNECTION_TIMEOUT,
    CommandType.CHANNEL_LIFETIME,
    CommandType.CLIENT_KEEPALIVE,
    CommandType.VERSION,
    CommandType.DESTINATION,
    CommandType.PING_TRAFFIC_SENT_NOTIFY,
}
_COOKIE_COMMANDS = {CommandType.COOKIE, CommandType.ASSOCIATION_GROUP_ID}
_EMPTY_COMMANDS = {CommandType.EMPTY, CommandType.NEGATIVE_ANCE, CommandType.ANCE}


@dataclass(frozen=True)
class FlowControlAck:
    """The FlowControlAck command's body (MS-RPCH 2.2.3.4: BytesReceived, AvailableWindow, ChannelCookie)."""

    bytes_received: int
    available_window: int
    channel_cookie: uuid.UUID

    def __json__(self) -> dict[str, Any]:
        return {
            "BytesReceived": self.bytes_received,
            "AvailableWindow": self.available_window,
            "ChannelCookie": str(self.channel_cookie),
        }


@dataclass(frozen=True)
class ClientAddress:
    """The ClientAddress command's body (MS-RPCH 2.2.3.5.11): IPv4 (type 0) or IPv6 (type 1), 12 pad bytes."""

    address_type: int
    address: bytes

    def __json__(self) -> dict[str, Any]:
        return {"AddressType": self.address_type, "ClientAddress": self.address.hex()}


CommandValue = int | uuid.UUID | FlowControlAck | ClientAddress | bytes | None


@dataclass(frozen=True)
class RtsCommand:
    """One command: its type and its value (u32, cookie GUID, FlowControlAck, padding bytes or None)."""

    type: CommandType
    value: CommandValue = None

    def write(self, w: Writer) -> None:
        w.u32(self.type)
        t, v = self.type, self.value
        if t in _U32_COMMANDS:
            if not isinstance(v, int):
                raise EncodeError(f"RTS command {t.name} needs an integer value", field=t.name)
            w.u32(v)
        elif t in _COOKIE_COMMANDS:
            if not isinstance(v, uuid.UUID):
                raise EncodeError(f"RTS command {t.name} needs a GUID", field=t.name)
            w.guid(v)
        elif t == CommandType.FLOW_CONTROL_ACK:
            if not isinstance(v, FlowControlAck):
                raise EncodeError("RTS FlowControlAck needs a FlowControlAck value", field=t.name)
            w.u32(v.bytes_received).u32(v.available_window).guid(v.channel_cookie)
        elif t == CommandType.PADDING:
            pad = v if isinstance(v, bytes) else b""
            w.u32(len(pad)).raw(pad)
        elif t == CommandType.CLIENT_ADDRESS:
            if not isinstance(v, ClientAddress) or len(v.address) != (4 if v.address_type == 0 else 16):
                raise EncodeError("RTS ClientAddress needs 4 (IPv4) or 16 (IPv6) address bytes", field=t.name)
            w.u32(v.address_type).raw(v.address).raw(bytes(12))

    @classmethod
    def read(cls, r: Reader) -> RtsCommand:
        at = r.offset
        raw_type = r.u32("CommandType")
        try:
            t = CommandType(raw_type)
        except ValueError:
            raise DecodeError(
                f"unknown RTS command type {raw_type}", offset=at, expected="CommandType 0..14"
            ) from None
        value: CommandValue = None
        if t in _U32_COMMANDS:
            value = r.u32(t.name)
        elif t in _COOKIE_COMMANDS:
            value = r.guid(t.name)
        elif t == CommandType.FLOW_CONTROL_ACK:
            value = FlowControlAck(r.u32("BytesReceived"), r.u32("AvailableWindow"), r.guid("ChannelCookie"))
        elif t == CommandType.PADDING:
            value = r.take(r.u32("ConformanceCount"), "Padding")
        elif t == CommandType.CLIENT_ADDRESS:
            kind = r.u32("AddressType")
            if kind not in (0, 1):
                raise DecodeError(
                    f"unknown ClientAddress type {kind}", offset=r.offset - 4, expected="0 or 1"
                )
            value = ClientAddress(kind, r.take(4 if kind == 0 else 16, "ClientAddress"))
            r.take(12, "Padding")
        return cls(t, value)

    def __json__(self) -> dict[str, Any]:
        value: Any = self.value
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, bytes):
            value = value.hex()
        elif self.type == CommandType.DESTINATION and value in ForwardDestination._value2member_map_:
            value = ForwardDestination(value).name
        out: dict[str, Any] = {"CommandType": self.type.name}
        if value is not None:
            out["Value"] = value
        return out


@dataclass(frozen=True)
class RtsPdu:
    """An RTS PDU: flags and commands (the header's call_id is 0 and auth_length 0 by MS-RPCH 2.2.3.6.1)."""

    flags: int
    commands: tuple[RtsCommand, ...] = field(default_factory=tuple)

    def encode(self) -> bytes:
        body = Writer()
        body.u16(self.flags).u16(len(self.commands))
        for c in self.commands:
            c.write(body)
        payload = body.getvalue()
        header = CommonHeader(PTYPE_RTS, PFC_FIRST_FRAG | PFC_LAST_FRAG, 16 + len(payload), 0, 0)
        return header.encode() + payload

    @classmethod
    def decode(cls, data: bytes) -> RtsPdu:
        header = CommonHeader.decode(data)
        if header.ptype != PTYPE_RTS:
            raise DecodeError(f"PDU type {header.ptype} is not RTS", offset=2, expected="PTYPE 20 (rts)")
        if header.frag_length != len(data):
            raise DecodeError(
                f"frag_length {header.frag_length} does not match the {len(data)} bytes given",
                offset=8,
                expected=f"frag_length {len(data)}",
            )
        r = Reader(data[16:], base=16)
        flags = r.u16("Flags")
        n = r.u16("NumberOfCommands")
        commands = tuple(RtsCommand.read(r) for _ in range(n))
        r.expect_end("end of the RTS PDU")
        return cls(flags, commands)

    def command(self, kind: CommandType) -> CommandValue:
        """The value of the first command of type ``kind`` (``DecodeError`` if there is none)."""
        for c in self.commands:
            if c.type == kind:
                return c.value
        raise DecodeError(f"RTS PDU has no {kind.name} command", expected=kind.name)

    def u32(self, kind: CommandType) -> int:
        value = self.command(kind)
        assert isinstance(value, int)
        return value

    def types(self) -> tuple[CommandType, ...]:
        return tuple(c.type for c in self.commands)

    @property
    def name(self) -> str:
        """The MS-RPCH 2.2.4 name of this PDU as a client sees it, or ``RTS`` if it is none of those."""
        for name, (flags, types) in _SHAPES.items():
            if self.flags == flags and self.types() == types:
                return name
        return "RTS"

    def __json__(self) -> dict[str, Any]:
        return {
            "PDU": self.name,
            "Flags": _flag_names(self.flags),
            "NumberOfCommands": len(self.commands),
            "Commands": list(self.commands),
        }


def _flag_names(flags: int) -> list[str] | str:
    if flags == 0:
        return "RTS_FLAG_NONE"
    return [f"RTS_FLAG_{f.name}" for f in RtsFlags if f and flags & f] + (
        [f"0x{flags & ~0x7F:04X}"] if flags & ~0x7F else []
    )


_C = CommandType
_SHAPES: dict[str, tuple[int, tuple[CommandType, ...]]] = {
    "CONN/A1": (0, (_C.VERSION, _C.COOKIE, _C.COOKIE, _C.RECEIVE_WINDOW_SIZE)),
    "CONN/A3": (0, (_C.CONNECTION_TIMEOUT,)),
    "CONN/B1": (
        0,
        (_C.VERSION, _C.COOKIE, _C.COOKIE, _C.CHANNEL_LIFETIME, _C.CLIENT_KEEPALIVE, _C.ASSOCIATION_GROUP_ID),
    ),
    "CONN/C2": (0, (_C.VERSION, _C.RECEIVE_WINDOW_SIZE, _C.CONNECTION_TIMEOUT)),
    "Keep-Alive": (RtsFlags.OTHER_CMD, (_C.CLIENT_KEEPALIVE,)),
    "Ping": (RtsFlags.PING, ()),
    "FlowControlAck": (RtsFlags.OTHER_CMD, (_C.FLOW_CONTROL_ACK,)),
    "FlowControlAckWithDestination": (RtsFlags.OTHER_CMD, (_C.DESTINATION, _C.FLOW_CONTROL_ACK)),
    "Echo": (RtsFlags.ECHO, ()),
}


# -- the client's PDUs --------------------------------------------------------------------------------


def conn_a1(
    virtual_connection: uuid.UUID, out_channel: uuid.UUID, receive_window: int = DEFAULT_RECEIVE_WINDOW
) -> RtsPdu:
    """CONN/A1 (MS-RPCH 2.2.4.2), the first bytes of the OUT channel's request body."""
    _check_window(receive_window)
    return RtsPdu(
        0,
        (
            RtsCommand(_C.VERSION, PROTOCOL_VERSION),
            RtsCommand(_C.COOKIE, virtual_connection),
            RtsCommand(_C.COOKIE, out_channel),
            RtsCommand(_C.RECEIVE_WINDOW_SIZE, receive_window),
        ),
    )


def conn_a3(connection_timeout: int) -> RtsPdu:
    """CONN/A3 (MS-RPCH 2.2.4.4), the OUT proxy's answer to CONN/A1."""
    return RtsPdu(0, (RtsCommand(_C.CONNECTION_TIMEOUT, connection_timeout),))


def conn_b1(
    virtual_connection: uuid.UUID,
    in_channel: uuid.UUID,
    association_group: uuid.UUID,
    *,
    channel_lifetime: int = DEFAULT_CHANNEL_LIFETIME,
    client_keepalive: int = DEFAULT_CLIENT_KEEPALIVE,
) -> RtsPdu:
    """CONN/B1 (MS-RPCH 2.2.4.5), the first bytes of the IN channel's request body."""
    return RtsPdu(
        0,
        (
            RtsCommand(_C.VERSION, PROTOCOL_VERSION),
            RtsCommand(_C.COOKIE, virtual_connection),
            RtsCommand(_C.COOKIE, in_channel),
            RtsCommand(_C.CHANNEL_LIFETIME, channel_lifetime),
            RtsCommand(_C.CLIENT_KEEPALIVE, client_keepalive),
            RtsCommand(_C.ASSOCIATION_GROUP_ID, association_group),
        ),
    )


def conn_c2(receive_window: int, connection_timeout: int) -> RtsPdu:
    """CONN/C2 (MS-RPCH 2.2.4.9): the virtual connection is open; the IN proxy's window and the timeout."""
    return RtsPdu(
        0,
        (
            RtsCommand(_C.VERSION, PROTOCOL_VERSION),
            RtsCommand(_C.RECEIVE_WINDOW_SIZE, receive_window),
            RtsCommand(_C.CONNECTION_TIMEOUT, connection_timeout),
        ),
    )


def keep_alive(interval_ms: int) -> RtsPdu:
    """Keep-Alive (MS-RPCH 2.2.4.12), sent on the IN channel."""
    return RtsPdu(RtsFlags.OTHER_CMD, (RtsCommand(_C.CLIENT_KEEPALIVE, interval_ms),))


def ping() -> RtsPdu:
    """Ping Traffic (MS-RPCH 2.2.4.49), what a proxy sends on an idle OUT channel."""
    return RtsPdu(RtsFlags.PING)


def echo() -> RtsPdu:
    """Echo request/response (MS-RPCH 2.2.4.47/2.2.4.48)."""
    return RtsPdu(RtsFlags.ECHO)


def flow_control_ack(bytes_received: int, available_window: int, channel: uuid.UUID) -> RtsPdu:
    """FlowControlAck (MS-RPCH 2.2.4.50), what a proxy sends the client about the IN channel."""
    ack = FlowControlAck(bytes_received, available_window, channel)
    return RtsPdu(RtsFlags.OTHER_CMD, (RtsCommand(_C.FLOW_CONTROL_ACK, ack),))


def flow_control_ack_with_destination(
    bytes_received: int,
    available_window: int,
    channel: uuid.UUID,
    destination: int = ForwardDestination.FD_OUT_PROXY,
) -> RtsPdu:
    """FlowControlAckWithDestination (MS-RPCH 2.2.4.51): the client acknowledges the OUT channel's data
    on the IN channel, addressed to the OUT proxy."""
    ack = FlowControlAck(bytes_received, available_window, channel)
    return RtsPdu(
        RtsFlags.OTHER_CMD, (RtsCommand(_C.DESTINATION, destination), RtsCommand(_C.FLOW_CONTROL_ACK, ack))
    )


def _check_window(size: int) -> None:
    if not MIN_RECEIVE_WINDOW <= size <= MAX_RECEIVE_WINDOW:
        raise EncodeError(
            f"receive window {size} out of range",
            expected=f"{MIN_RECEIVE_WINDOW}..{MAX_RECEIVE_WINDOW} bytes",
        )


def decode_rts_stream(data: bytes) -> list[RtsPdu]:
    """Every RTS PDU in a captured byte stream, one after the other."""
    return [RtsPdu.decode(pdu) for pdu in split_pdus(data)]


@decode_kind("rts", "RPC over HTTP v2 RTS PDUs (one or more, back to back), MS-RPCH 2.2.3/2.2.4")
def _decode_rts(data: bytes, ctx: DecodeContext) -> list[RtsPdu]:
    out: list[RtsPdu] = []
    for i, pdu in enumerate(split_pdus(data)):
        out.append(RtsPdu.decode(pdu))
        ctx.partial[f"PDU {i}"] = out[-1]
    return out


dcerpc._RTS_DECODER = RtsPdu.decode

__all__ = [
    "CommandType",
    "FlowControlAck",
    "ForwardDestination",
    "RtsCommand",
    "RtsFlags",
    "RtsPdu",
    "conn_a1",
    "conn_a3",
    "conn_b1",
    "conn_c2",
    "decode_rts_stream",
    "echo",
    "flow_control_ack",
    "flow_control_ack_with_destination",
    "keep_alive",
    "ping",
]
