"""One simulator per test module; each test starts in the ``normal`` scenario with an empty request log."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from mapiprobe.simulator import Simulator


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator(slow_seconds=3.0) as sim:
        yield sim


def wait_for_workers(timeout: float = 10.0) -> None:
    """Let candidate threads of an earlier run finish (a superseded one may still be sending)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t.name.startswith("autodiscover-") and t.is_alive()]:
            return
        time.sleep(0.02)


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.slow_seconds = 3.0
    _module_sim.clear_requests()
    yield _module_sim
    assert not _module_sim.errors, _module_sim.errors


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port
