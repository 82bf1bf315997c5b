"""A simulator with a tiny echo MAPI/HTTP endpoint, for the tests of the MAPI/HTTP transport and machinery.

The echo endpoint is mounted at ``/mapi/echo/`` on ``mail.contoso.test`` of a real loopback Simulator (TLS,
Basic authentication: the ``basic-only`` scenario, since these tests are about the MAPI/HTTP machinery and
count requests one by one; real NTLM against ``normal`` is tested in test_auth_e2e.py and the session
tests). Its handler answers Connect/Bind with a greeting, echoes Execute bodies, sleeps for ``Slow``
(body = seconds), fails ``Fail`` with X-ResponseCode 12 after the headers went out, and answers
NotificationWait after ``wait_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from mapiprobe.simulator import Simulator
from mapiprobe.simulator.mapihttp import MapiHttpService, SimResponseCode, SimSessionContext
from mapiprobe.simulator.web import Request
from mapiprobe.transport.auth import BasicAuth
from mapiprobe.transport.client import ConnectionOptions, make_client
from mapiprobe.transport.mapihttp import MapiHttpEndpoint, make_mapihttp_client
from mapiprobe.transport.trace import Trace

HOST = "mail.contoso.test"
PREFIX = "/mapi/echo/"
MAILBOX_ID = "3f2a9c1d-5b7e-4a60-b8c1-d2e3f4a5b6c7@contoso.test"
URL = f"https://{HOST}{PREFIX}?MailboxId={MAILBOX_ID}"
ALICE = ("alice", "Alice-Demo-2024!")
BOB = ("bob", "Bob-Demo-2024!")
REQUEST_TYPES = {"Execute", "Slow", "Fail", "NotificationWait"}


@dataclass
class EchoHandler:
    wait_s: float = 0.3
    seen: list[tuple[str, bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request_type: str, body: bytes, ctx: SimSessionContext, req: Request) -> bytes:
        with self.lock:
            self.seen.append((request_type, body, ctx.id))
        if request_type in ("Connect", "Bind"):
            ctx.state["greeted"] = True
            return b"hello " + ctx.user.user.encode()
        if request_type == "Slow":
            time.sleep(float(body or b"0.5"))
            return b"slow:" + body
        if request_type == "Fail":
            raise SimResponseCode(12, "the echo endpoint refuses this body")
        if request_type == "NotificationWait":
            time.sleep(self.wait_s)
            return b"event"
        if request_type in ("Disconnect", "Unbind"):
            return b"bye"
        return b"echo:" + body


@dataclass
class EchoSim:
    sim: Simulator
    service: MapiHttpService
    handler: EchoHandler

    def options(self, timeout: float = 3.0) -> ConnectionOptions:
        return ConnectionOptions(
            connect_to=tuple(self.sim.connect_to),
            ca_certs=(self.sim.ca_cert_path,),
            connect_timeout=timeout,
            read_timeout=timeout,
        )

    def endpoint(
        self, *, trace: Trace | None = None, user: tuple[str, str] = ALICE, timeout: float = 3.0, **kw: Any
    ) -> MapiHttpEndpoint:
        client = make_mapihttp_client(self.options(timeout), trace=trace)
        return MapiHttpEndpoint(kw.pop("url", URL), client, auth=BasicAuth(*user), **kw)

    def raw_client(self, timeout: float = 3.0) -> httpx.Client:
        """A plain traced-less client that reaches the virtual hosts (for hand-made requests)."""
        return make_client(self.options(timeout))

    def reset(self) -> None:
        svc = self.service
        svc.fault = None
        svc.delay_s = 0.0
        svc.rtt_s = 0.0
        svc.lifetime_s = 900.0
        svc.pending_period_ms = 30000
        svc.expire_all()
        svc.counters.clear()
        self.sim.set_scenario("basic-only")
        self.handler.wait_s = 0.3
        with self.handler.lock:
            self.handler.seen.clear()
        self.sim.clear_requests()

    def received(self, request_type: str | None = None) -> list[Any]:
        """Requests the echo endpoint received (optionally of one X-RequestType), in order."""
        out = [r for r in self.sim.requests if r.path.lower().startswith(PREFIX)]
        if request_type is not None:
            out = [r for r in out if (r.header("X-RequestType") or "").lower() == request_type.lower()]
        return out


def mapi_headers(
    request_type: str, *, request_id: str = "{0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F}:1"
) -> dict[str, str]:
    """The headers of a well-formed request made by hand (no cookies)."""
    return {
        "Content-Type": "application/mapi-http",
        "X-RequestType": request_type,
        "X-RequestId": request_id,
        "X-ClientInfo": "{6F5E4D3C-2B1A-4C0E-9B8A-7F6E5D4C3B2A}:1",
        "X-ClientApplication": "Outlook/16.0.18129.20000",
    }


@contextmanager
def echo_sim() -> Iterator[EchoSim]:
    with Simulator(scenario="basic-only") as sim:
        handler = EchoHandler()
        service = MapiHttpService(
            "echo",
            connect_types={"Connect", "Bind"},
            disconnect_types={"Disconnect", "Unbind"},
            handler=handler,
            server_application=sim.org.server_application,
            request_types=REQUEST_TYPES,
        )
        service.install(sim.https_site, PREFIX, hosts=[HOST])
        sim.endpoints[service.name] = service  # stopped with the simulator
        yield EchoSim(sim, service, handler)
