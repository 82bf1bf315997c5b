"""NSPI and RFR over the simulator's RPC proxy: the address book of ``/mapi/nspi/`` as Outlook Anywhere.

:func:`attach` adds two interfaces to :class:`~mapiprobe.simulator.rpcproxy.RpcProxyService` (which serves
EMSMDB): NSPI (MS-OXNSPI, interface F5CC5A18-... v56) and RFR (MS-OXABREF, 1544F5E0-... v1), on any of the
proxy's ports (6001 shared, 6002 RFR, 6004 NSPI, as Exchange and gromox have them).

* NSPI calls are answered by the MAPI/HTTP endpoint's own :class:`~mapiprobe.simulator.nspi.NspiHandler`
  (the same directory, the same positioning rules): each NDR request becomes the MAPI/HTTP request body it
  stands for and the handler's answer becomes the NDR response (:mod:`mapiprobe.protocol.nspi_bridge`). An
  NspiBind creates a Session Context for the handler's state and returns its id as the context handle.
* RfrGetNewDSA answers the simulator's mail host (the NSPI server a client should use);
  RfrGetFQDNFromServerDN answers the same host for any DN of the organisation's servers, MAPI_E_NOT_FOUND
  (as ecNotFound) otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from mapiprobe.protocol import nspi_rpc as rpc
from mapiprobe.protocol.dcerpc import NSPI, RFR
from mapiprobe.protocol.ndr import ContextHandle
from mapiprobe.protocol.nspi import RESPONSE_CLASSES
from mapiprobe.protocol.nspi_bridge import mapihttp_request, rpc_response

from .mapihttp import SimResponseCode, SimSessionContext

NOT_FOUND = 0x8004010F
nca_s_fault_context_mismatch = 0x1C00001A
RPC_X_BAD_STUB_DATA = 0x000006F7


class NspiRpcServer:
    """The NSPI and RFR method handlers for one RPC proxy; counters for tests."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.calls: dict[str, int] = {}
        """Calls answered per method name (``NspiBind``, ``RfrGetNewDSA``...)."""
        self.contexts: dict[uuid.UUID, SimSessionContext] = {}

    @property
    def handler(self) -> Any:
        return self.sim.endpoints["nspi"].handler

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    # -- NSPI ------------------------------------------------------------------------------------------

    def nspi(self, vc: Any, opnum: int, stub: bytes) -> bytes | None:
        cls = rpc.NSPI_REQUESTS.get(opnum)
        if opnum == rpc.OPNUM_RESOLVE_NAMES:
            req: Any = rpc.NspiResolveNamesWRequest.decode(stub, wide=False)
        elif cls is None:
            return None
        else:
            req = cls.decode(stub)
        self._count(type(req).NAME if opnum != rpc.OPNUM_RESOLVE_NAMES else "NspiResolveNames")
        body = mapihttp_request(req)
        if isinstance(req, rpc.NspiBindRequest):
            handle = ContextHandle(0, uuid.uuid4())
            ctx = SimSessionContext(str(handle.uuid), vc.user, "nspi")
        else:
            handle = req.handle
            found = self.contexts.get(handle.uuid)
            if found is None:
                raise _ContextFault(nca_s_fault_context_mismatch)
            ctx = found
        try:
            answer = self.handler.handle(body.REQUEST_TYPE, body.encode(), ctx, vc.http_request)
        except SimResponseCode as exc:
            raise _ContextFault(
                nca_s_fault_context_mismatch if exc.code == 10 else RPC_X_BAD_STUB_DATA
            ) from None
        response = RESPONSE_CLASSES[body.REQUEST_TYPE].decode(answer)
        out = rpc_response(req, response, handle)
        if isinstance(req, rpc.NspiBindRequest) and out.return_value == 0:
            self.contexts[handle.uuid] = ctx
        elif isinstance(req, rpc.NspiUnbindRequest):
            self.contexts.pop(handle.uuid, None)
        data: bytes = out.encode()
        return data

    # -- RFR -------------------------------------------------------------------------------------------

    def rfr(self, vc: Any, opnum: int, stub: bytes) -> bytes | None:
        org = self.sim.org
        if opnum == rpc.OPNUM_RFR_GET_NEW_DSA:
            rpc.RfrGetNewDSARequest.decode(stub)
            self._count("RfrGetNewDSA")
            return rpc.RfrGetNewDSAResponse(str(org.mail_host), 0).encode()
        if opnum == rpc.OPNUM_RFR_GET_FQDN:
            req = rpc.RfrGetFQDNFromServerDNRequest.decode(stub)
            self._count("RfrGetFQDNFromServerDN")
            if "/cn=servers/" in req.server_dn.lower() or "/cn=configuration/" in req.server_dn.lower():
                return rpc.RfrGetFQDNFromServerDNResponse(str(org.mail_host), 0).encode()
            return rpc.RfrGetFQDNFromServerDNResponse(None, NOT_FOUND).encode()
        return None


class _ContextFault(Exception):
    """A call the RPC runtime answers with a fault: an unknown context handle (nca_s_fault_context_mismatch)
    or a body the MAPI/HTTP handler refused (RPC_X_BAD_STUB_DATA). The proxy reads ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(f"fault 0x{status:08X}")
        self.status = status


def attach(service: Any, sim: Any) -> NspiRpcServer:
    """Serve NSPI and RFR on ``service`` (the RPC proxy); returns the handlers (``service.nspi_rpc``)."""
    server = NspiRpcServer(sim)
    interfaces: dict[Any, Callable[[Any, int, bytes], bytes | None]] = service.interfaces
    interfaces[NSPI] = server.nspi
    interfaces[RFR] = server.rfr
    return server


__all__ = ["NspiRpcServer", "attach"]
