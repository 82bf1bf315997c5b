"""Fixtures the CLI tests share: one simulator a test module (``_module_sim``), and ``sim``, that simulator
in the ``normal`` scenario with its request log cleared, checked afterwards for credentials sent in the
clear and for server-side errors. A module that needs more set up or checked defines its own ``sim``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mapiprobe.simulator import Simulator
from tests.session.simhelp import assert_no_credentials_in_clear


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    yield _module_sim
    _module_sim.set_scenario("normal")
    assert_no_credentials_in_clear(_module_sim)
    assert not _module_sim.errors
