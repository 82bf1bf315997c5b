"""RPC-level authentication for DCE/RPC over any transport: NTLM and Negotiate through pyspnego.

MS-RPCE 3.3.1.5.2 and 2.2.2.11: the security context is set up in the verifiers of bind / bind_ack and then
either auth3 (NTLM, three legs) or alter_context / alter_context_resp (SPNEGO, four legs). Afterwards every
request and response PDU carries a verifier whose auth_value is the 16-byte NTLM signature:

* ``PKT_INTEGRITY`` (5): the signature covers the whole PDU up to and including the sec_trailer;
* ``PKT_PRIVACY`` (6): the same signature, and the stub with its padding is sealed (RC4), the headers and
  the sec_trailer stay clear;
* ``CONNECT`` (2): authentication at bind only; requests and responses carry no verifier.

The trial this module rests on (pyspnego 0.12): its NTLM context's ``wrap_iov`` with the buffers
``sign_only(head), header, data(stub+pad), sign_only(sec_trailer)`` computes exactly this (the signature
over the concatenation, only ``data`` encrypted, the checksum sealed after the data as MS-NLMP 3.4.3
wants), ``unwrap_iov`` reverses it, and ``sign``/``verify`` give packet integrity; SPNEGO around NTLM gives
the same. So no NTLM sign/seal of our own is needed. :class:`RpcSecurity` serves the client and the
simulator's server side alike.
"""

from __future__ import annotations

import threading
from typing import Any

from mapiprobe.protocol.dcerpc import AuthLevel, AuthType, Pdu, SecTrailer

SIGNATURE_SIZE = 16
AUTH_CONTEXT_ID = 79231
"""auth_context_id the client uses (any value; Windows picks small numbers, impacket 79231)."""


class RpcSecurityError(Exception):
    """The RPC-level security context failed (bad token, bad signature, wrong level)."""


class RpcSecurity:
    """One RPC-level security context and its sign/seal operations.

    ``context`` is a pyspnego context (``spnego.client`` or ``spnego.server``); ``level`` the
    authentication level; ``auth_type`` WINNT (NTLM) or GSS_NEGOTIATE.
    """

    def __init__(
        self, context: Any, *, level: int, auth_type: int = AuthType.WINNT, context_id: int = AUTH_CONTEXT_ID
    ) -> None:
        self.context = context
        self.level = level
        self.auth_type = auth_type
        self.context_id = context_id
        self._lock = threading.Lock()

    @property
    def complete(self) -> bool:
        return bool(self.context.complete)

    @property
    def signs(self) -> bool:
        return self.level >= AuthLevel.PKT_INTEGRITY

    def trailer(self) -> SecTrailer:
        return SecTrailer(self.auth_type, self.level, 0, self.context_id)

    def step(self, token: bytes | None) -> bytes | None:
        try:
            out = self.context.step(token)
        except Exception as exc:  # pyspnego's SpnegoError family, ValueError for bad tokens
            raise RpcSecurityError(
                f"RPC-level {self.mechanism} authentication failed: {_reason(exc)}"
            ) from None
        return out if out else None

    @property
    def mechanism(self) -> str:
        return "NTLM" if self.auth_type == AuthType.WINNT else "Negotiate"

    def protect(self, head: bytes, middle: bytes, tail: bytes) -> tuple[bytes, bytes]:
        """Sign (integrity) or seal (privacy) one PDU; see :func:`mapiprobe.protocol.dcerpc.build_pdu`."""
        from spnego.iov import BufferType

        with self._lock:
            if self.level >= AuthLevel.PKT_PRIVACY:
                res = self.context.wrap_iov(
                    [
                        (BufferType.sign_only, head),
                        BufferType.header,
                        (BufferType.data, middle),
                        (BufferType.sign_only, tail),
                    ]
                )
                return bytes(res.buffers[2].data), bytes(res.buffers[1].data)
            return middle, bytes(self.context.sign(head + middle + tail))

    def unprotect(self, pdu: Pdu) -> Pdu:
        """Verify (and decrypt) a received request or response PDU; raises :class:`RpcSecurityError`."""
        from spnego.iov import BufferType

        if not self.signs:
            return pdu
        if pdu.trailer is None:
            raise RpcSecurityError("the PDU carries no signature although the connection is signed")
        if pdu.trailer.auth_level != self.level:
            raise RpcSecurityError(
                f"the PDU's authentication level {pdu.trailer.auth_level} differs from the bound {self.level}"
            )
        head, middle, tail = pdu.sections()
        with self._lock:
            try:
                if self.level >= AuthLevel.PKT_PRIVACY:
                    res = self.context.unwrap_iov(
                        [
                            (BufferType.sign_only, head),
                            (BufferType.header, pdu.auth_value),
                            (BufferType.data, middle),
                            (BufferType.sign_only, tail),
                        ]
                    )
                    return pdu.with_stub_and_pad(bytes(res.buffers[2].data))
                self.context.verify(head + middle + tail, pdu.auth_value)
            except RpcSecurityError:
                raise
            except Exception as exc:
                raise RpcSecurityError(f"the PDU's signature did not verify: {_reason(exc)}") from None
        return pdu


def client_context(
    user: str | None, password: str | None, *, host: str, protocol: str = "ntlm"
) -> Any:  # pragma: no cover - thin
    """A pyspnego client context for RPC-level authentication (service ``host``, sign and seal requested)."""
    import spnego

    req = (
        spnego.ContextReq.integrity
        | spnego.ContextReq.confidentiality
        | spnego.ContextReq.replay_detect
        | spnego.ContextReq.sequence_detect
    )
    return spnego.client(user, password, hostname=host, service="host", protocol=protocol, context_req=req)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


__all__ = ["AUTH_CONTEXT_ID", "SIGNATURE_SIZE", "RpcSecurity", "RpcSecurityError", "client_context"]
