"""Fixtures for the simulator tests: one simulator for the session, a client that trusts its CA.

Requests go to 127.0.0.1 on the simulator's ports with the virtual host in the Host header and in the TLS
SNI (httpx's ``sni_hostname`` extension), so certificate checks run against the real host names.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mapiprobe.protocol.autodiscover import build_request
from mapiprobe.simulator import Simulator


@pytest.fixture(scope="session")
def session_sim() -> Iterator[Simulator]:
    with Simulator(slow_seconds=0.3) as sim:
        yield sim


@pytest.fixture
def sim(session_sim: Simulator) -> Iterator[Simulator]:
    """The shared simulator, back in the ``normal`` scenario after each test and with no handler errors."""
    session_sim.set_scenario("normal")
    session_sim.slow_seconds = 0.3
    yield session_sim
    errors = list(session_sim.errors)
    session_sim.set_scenario("normal")
    assert not errors, errors


@dataclass
class SimClient:
    sim: Simulator
    http: httpx.Client

    def https(self, method: str, host: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Host": host, **kwargs.pop("headers", {})}
        return self.http.request(
            method,
            f"https://127.0.0.1:{self.sim.port}{path}",
            headers=headers,
            extensions={"sni_hostname": host},
            **kwargs,
        )

    def autodiscover(
        self,
        host: str = "autodiscover.contoso.test",
        email: str = "alice@contoso.test",
        *,
        auth: tuple[str, str] | None = ("alice", "Alice-Demo-2024!"),
        mapi: bool = True,
        body: bytes | None = None,
        path: str = "/autodiscover/autodiscover.xml",
    ) -> httpx.Response:
        headers = {"Content-Type": "text/xml"}
        if mapi:
            headers["X-MapiHttpCapability"] = "1"
            headers["X-AnchorMailbox"] = email
        return self.https(
            "POST",
            host,
            path,
            headers=headers,
            content=build_request(email) if body is None else body,
            auth=auth,
        )

    def plain(self, method: str, host: str, path: str) -> httpx.Response:
        return self.http.request(
            method, f"http://127.0.0.1:{self.sim.http_port}{path}", headers={"Host": host}
        )


@pytest.fixture
def client(sim: Simulator) -> Iterator[SimClient]:
    ctx = ssl.create_default_context(cafile=str(sim.ca_cert_path))
    with httpx.Client(verify=ctx, timeout=10) as http:
        yield SimClient(sim, http)
