"""NDR stubs of the EMSMDB methods a mailbox client calls over RPC (MS-OXCRPC 3.1.4).

=====================  =====  =====================================  ======================================
method                 opnum  request (``[in]`` parameters)          response (``[out]`` parameters)
=====================  =====  =====================================  ======================================
EcDoDisconnect         1      :class:`DisconnectRpcRequest`          :class:`DisconnectRpcResponse`
EcDoConnectEx          10     :class:`ConnectExRequest`              :class:`ConnectExResponse`
EcDoRpcExt2            11     :class:`RpcExt2Request`                :class:`RpcExt2Response`
=====================  =====  =====================================  ======================================

``rgbIn``/``rgbOut`` of EcDoRpcExt2 are exactly the RopBuffer of MAPI/HTTP's Execute request and response
(RPC_HEADER_EXT + ROP buffer, :mod:`.rpcext` and :mod:`.ropbuffer` read them), and ``rgbAuxIn``/``rgbAuxOut``
the AuxiliaryBuffer of Connect and Execute (:func:`.rpcext.decode_aux_buffer`). The parameters are written
in the IDL's order with NDR's alignment (:mod:`.ndr`); the return value (``long``) ends every response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ndr import NULL_HANDLE, ContextHandle, NdrReader, NdrWriter
from .registry import DecodeContext, decode_kind

OPNUM_DISCONNECT = 1
OPNUM_CONNECT_EX = 10
OPNUM_RPC_EXT2 = 11

MAX_AUX_OUT = 0x1008
"""SMALL_RANGE_ULONG: the largest pcbAuxOut (MS-OXCRPC 3.1.4.1)."""
MAX_ROP_OUT = 0x40000
"""BIG_RANGE_ULONG: the largest pcbOut (MS-OXCRPC 3.1.4.2)."""
CLIENT_VERSION = (0x000F, 0x8000, 0x1208)
"""rgwClientVersion of 15.0.4616 in MS-OXCRPC 3.2.4.1.3's format (major, 0x8000|minor, build)."""


@dataclass(frozen=True)
class ConnectExRequest:
    """EcDoConnectEx's ``[in]`` parameters (MS-OXCRPC 3.1.4.1)."""

    user_dn: str
    flags: int = 0
    con_mod: int = 0
    cb_limit: int = 0
    cpid: int = 1252
    lcid_string: int = 0x0409
    lcid_sort: int = 0x0409
    icxr_link: int = 0xFFFFFFFF
    can_convert_code_pages: int = 1
    client_version: tuple[int, int, int] = CLIENT_VERSION
    timestamp: int = 0
    aux_in: bytes = b""
    cb_aux_out: int = MAX_AUX_OUT

    def encode(self) -> bytes:
        w = NdrWriter().string(self.user_dn)
        for v in (self.flags, self.con_mod, self.cb_limit, self.cpid, self.lcid_string, self.lcid_sort):
            w.u32(v)
        w.u32(self.icxr_link).u16(self.can_convert_code_pages).u16_array(self.client_version)
        w.u32(self.timestamp).conformant_bytes(self.aux_in).u32(len(self.aux_in)).u32(self.cb_aux_out)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> ConnectExRequest:
        r = NdrReader(data, base=base)
        user_dn = r.string("szUserDN")
        flags, con_mod, limit = r.u32("ulFlags"), r.u32("ulConMod"), r.u32("cbLimit")
        cpid, lcid_string, lcid_sort = r.u32("ulCpid"), r.u32("ulLcidString"), r.u32("ulLcidSort")
        icxr = r.u32("ulIcxrLink")
        convert = r.u16("usFCanConvertCodePages")
        version = r.u16_array(3, "rgwClientVersion")
        stamp = r.u32("pulTimeStamp")
        aux = r.conformant_bytes("rgbAuxIn", MAX_AUX_OUT)
        r.u32("cbAuxIn")
        out = r.u32("pcbAuxOut")
        r.expect_end("end of EcDoConnectEx [in]")
        return cls(
            user_dn,
            flags,
            con_mod,
            limit,
            cpid,
            lcid_string,
            lcid_sort,
            icxr,
            convert,
            _three(version),
            stamp,
            aux,
            out,
        )

    def __json__(self) -> dict[str, Any]:
        return {
            "szUserDN": self.user_dn,
            "ulFlags": self.flags,
            "ulConMod": self.con_mod,
            "cbLimit": self.cb_limit,
            "ulCpid": self.cpid,
            "ulLcidString": self.lcid_string,
            "ulLcidSort": self.lcid_sort,
            "ulIcxrLink": self.icxr_link,
            "usFCanConvertCodePages": self.can_convert_code_pages,
            "rgwClientVersion": list(self.client_version),
            "pulTimeStamp": self.timestamp,
            "cbAuxIn": len(self.aux_in),
            "rgbAuxIn": self.aux_in,
            "pcbAuxOut": self.cb_aux_out,
        }


@dataclass(frozen=True)
class ConnectExResponse:
    """EcDoConnectEx's ``[out]`` parameters and return value (MS-OXCRPC 3.1.4.1)."""

    handle: ContextHandle
    polls_max: int
    retry_count: int
    retry_delay: int
    icxr: int
    dn_prefix: str | None
    display_name: str | None
    server_version: tuple[int, int, int]
    best_version: tuple[int, int, int]
    timestamp: int
    aux_out: bytes
    return_value: int

    def encode(self) -> bytes:
        w = NdrWriter().context_handle(self.handle)
        w.u32(self.polls_max).u32(self.retry_count).u32(self.retry_delay).u16(self.icxr)
        w.unique_string(self.dn_prefix, 0x00020000).unique_string(self.display_name, 0x00020004)
        w.u16_array(self.server_version).u16_array(self.best_version).u32(self.timestamp)
        w.varying_bytes(self.aux_out).u32(len(self.aux_out)).u32(self.return_value)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> ConnectExResponse:
        r = NdrReader(data, base=base)
        handle = r.context_handle("pcxh")
        polls, retry, delay = r.u32("pcmsPollsMax"), r.u32("pcRetry"), r.u32("pcmsRetryDelay")
        icxr = r.u16("picxr")
        prefix = r.unique_string("szDNPrefix")
        name = r.unique_string("szDisplayName")
        server = r.u16_array(3, "rgwServerVersion")
        best = r.u16_array(3, "rgwBestVersion")
        stamp = r.u32("pulTimeStamp")
        aux = r.varying_bytes("rgbAuxOut", MAX_AUX_OUT)
        r.u32("pcbAuxOut")
        rv = r.u32("return value")
        r.expect_end("end of EcDoConnectEx [out]")
        return cls(
            handle, polls, retry, delay, icxr, prefix, name, _three(server), _three(best), stamp, aux, rv
        )

    def __json__(self) -> dict[str, Any]:
        return {
            "pcxh": self.handle,
            "pcmsPollsMax": self.polls_max,
            "pcRetry": self.retry_count,
            "pcmsRetryDelay": self.retry_delay,
            "picxr": self.icxr,
            "szDNPrefix": self.dn_prefix,
            "szDisplayName": self.display_name,
            "rgwServerVersion": list(self.server_version),
            "rgwBestVersion": list(self.best_version),
            "pulTimeStamp": self.timestamp,
            "rgbAuxOut": self.aux_out,
            "pcbAuxOut": len(self.aux_out),
            "ReturnValue": self.return_value,
        }


def _three(v: tuple[int, ...]) -> tuple[int, int, int]:
    return (v[0], v[1], v[2])


@dataclass(frozen=True)
class RpcExt2Request:
    """EcDoRpcExt2's ``[in]`` parameters (MS-OXCRPC 3.1.4.2); ``rop_in`` is the Execute RopBuffer."""

    handle: ContextHandle
    rop_in: bytes
    flags: int = 0x3
    cb_out: int = MAX_ROP_OUT
    aux_in: bytes = b""
    cb_aux_out: int = MAX_AUX_OUT

    def encode(self) -> bytes:
        w = NdrWriter().context_handle(self.handle).u32(self.flags)
        w.conformant_bytes(self.rop_in).u32(len(self.rop_in)).u32(self.cb_out)
        w.conformant_bytes(self.aux_in).u32(len(self.aux_in)).u32(self.cb_aux_out)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> RpcExt2Request:
        r = NdrReader(data, base=base)
        handle = r.context_handle("pcxh")
        flags = r.u32("pulFlags")
        rop_in = r.conformant_bytes("rgbIn", MAX_ROP_OUT)
        r.u32("cbIn")
        cb_out = r.u32("pcbOut")
        aux = r.conformant_bytes("rgbAuxIn", MAX_AUX_OUT)
        r.u32("cbAuxIn")
        cb_aux = r.u32("pcbAuxOut")
        r.expect_end("end of EcDoRpcExt2 [in]")
        return cls(handle, rop_in, flags, cb_out, aux, cb_aux)

    def __json__(self) -> dict[str, Any]:
        return {
            "pcxh": self.handle,
            "pulFlags": self.flags,
            "cbIn": len(self.rop_in),
            "rgbIn": self.rop_in,
            "pcbOut": self.cb_out,
            "cbAuxIn": len(self.aux_in),
            "rgbAuxIn": self.aux_in,
            "pcbAuxOut": self.cb_aux_out,
        }


@dataclass(frozen=True)
class RpcExt2Response:
    """EcDoRpcExt2's ``[out]`` parameters and return value (MS-OXCRPC 3.1.4.2)."""

    handle: ContextHandle
    rop_out: bytes
    flags: int = 0
    aux_out: bytes = b""
    trans_time: int = 0
    return_value: int = 0

    def encode(self) -> bytes:
        w = NdrWriter().context_handle(self.handle).u32(self.flags)
        w.varying_bytes(self.rop_out).u32(len(self.rop_out))
        w.varying_bytes(self.aux_out).u32(len(self.aux_out))
        return w.u32(self.trans_time).u32(self.return_value).getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> RpcExt2Response:
        r = NdrReader(data, base=base)
        handle = r.context_handle("pcxh")
        flags = r.u32("pulFlags")
        rop_out = r.varying_bytes("rgbOut", MAX_ROP_OUT)
        r.u32("pcbOut")
        aux = r.varying_bytes("rgbAuxOut", MAX_AUX_OUT)
        r.u32("pcbAuxOut")
        trans = r.u32("pulTransTime")
        rv = r.u32("return value")
        r.expect_end("end of EcDoRpcExt2 [out]")
        return cls(handle, rop_out, flags, aux, trans, rv)

    def __json__(self) -> dict[str, Any]:
        return {
            "pcxh": self.handle,
            "pulFlags": self.flags,
            "rgbOut": self.rop_out,
            "pcbOut": len(self.rop_out),
            "rgbAuxOut": self.aux_out,
            "pcbAuxOut": len(self.aux_out),
            "pulTransTime": self.trans_time,
            "ReturnValue": self.return_value,
        }


@dataclass(frozen=True)
class DisconnectRpcRequest:
    """EcDoDisconnect's ``[in]`` (MS-OXCRPC 3.1.4.3): the session context handle."""

    handle: ContextHandle

    def encode(self) -> bytes:
        return NdrWriter().context_handle(self.handle).getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> DisconnectRpcRequest:
        r = NdrReader(data, base=base)
        handle = r.context_handle("pcxh")
        r.expect_end("end of EcDoDisconnect [in]")
        return cls(handle)

    def __json__(self) -> dict[str, Any]:
        return {"pcxh": self.handle}


@dataclass(frozen=True)
class DisconnectRpcResponse:
    """EcDoDisconnect's ``[out]``: the handle (zeroed on success) and the return value."""

    handle: ContextHandle = NULL_HANDLE
    return_value: int = 0

    def encode(self) -> bytes:
        return NdrWriter().context_handle(self.handle).u32(self.return_value).getvalue()

    @classmethod
    def decode(cls, data: bytes, base: int = 0) -> DisconnectRpcResponse:
        r = NdrReader(data, base=base)
        handle = r.context_handle("pcxh")
        rv = r.u32("return value")
        r.expect_end("end of EcDoDisconnect [out]")
        return cls(handle, rv)

    def __json__(self) -> dict[str, Any]:
        return {"pcxh": self.handle, "ReturnValue": self.return_value}


REQUESTS: dict[int, Any] = {
    OPNUM_DISCONNECT: DisconnectRpcRequest,
    OPNUM_CONNECT_EX: ConnectExRequest,
    OPNUM_RPC_EXT2: RpcExt2Request,
}
RESPONSES: dict[int, Any] = {
    OPNUM_DISCONNECT: DisconnectRpcResponse,
    OPNUM_CONNECT_EX: ConnectExResponse,
    OPNUM_RPC_EXT2: RpcExt2Response,
}


@decode_kind(
    "emsmdb-rpc-request",
    "EMSMDB NDR request stub, MS-OXCRPC 3.1.4; --request-type EcDoConnectEx, EcDoRpcExt2 or EcDoDisconnect",
)
def _decode_request(data: bytes, ctx: DecodeContext) -> Any:
    return _decode_stub(data, ctx, REQUESTS, "request")


@decode_kind(
    "emsmdb-rpc-response",
    "EMSMDB NDR response stub down to the ROPs; --request-type as for emsmdb-rpc-request",
    needs_columns=False,
)
def _decode_response(data: bytes, ctx: DecodeContext) -> Any:
    return _decode_stub(data, ctx, RESPONSES, "response")


_NAMES = {"ecdodisconnect": 1, "ecdoconnectex": 10, "ecdorpcext2": 11}


def _decode_stub(data: bytes, ctx: DecodeContext, table: dict[int, Any], direction: str) -> Any:
    from .errors import DecodeError

    kind = (ctx.request_type or "").strip().lower()
    opnum = _NAMES.get(kind)
    if opnum is None:
        try:
            opnum = int(kind, 0)
        except ValueError:
            opnum = None
    if opnum not in table:
        raise DecodeError(
            f"unknown EMSMDB method {ctx.request_type!r}",
            expected="--request-type 1/EcDoDisconnect, 10/EcDoConnectEx or 11/EcDoRpcExt2",
        )
    decoded = table[opnum].decode(data)
    ctx.partial[table[opnum].__name__] = decoded
    if opnum == OPNUM_RPC_EXT2:
        from .execute import _decode_chain

        buf = decoded.rop_in if direction == "request" else decoded.rop_out
        # rgbIn/rgbOut start after the 20-byte handle, pulFlags and the array's counts (1 or 3 u32).
        base = 28 if direction == "request" else 36
        chain = _decode_chain(buf, base, ctx, requests=direction == "request", columns=ctx.columns)
        return {"stub": decoded, "RopBuffer": chain}
    return decoded


__all__ = [
    "MAX_AUX_OUT",
    "MAX_ROP_OUT",
    "OPNUM_CONNECT_EX",
    "OPNUM_DISCONNECT",
    "OPNUM_RPC_EXT2",
    "ConnectExRequest",
    "ConnectExResponse",
    "DisconnectRpcRequest",
    "DisconnectRpcResponse",
    "RpcExt2Request",
    "RpcExt2Response",
]
