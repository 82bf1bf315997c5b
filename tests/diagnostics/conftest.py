"""One simulator per test module for the diagnosis tests; each test starts in ``normal`` with an empty log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mapiprobe.simulator import Simulator
from tests.session.conftest import wait_for_workers


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator(slow_seconds=3.0) as sim:
        sim.initial_offers = (dict(sim.auth.offers), list(sim.https_site.offers))  # type: ignore[attr-defined]
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.slow_seconds = 3.0
    offers, site_offers = _module_sim.initial_offers  # type: ignore[attr-defined]
    _module_sim.auth.offers = dict(offers)  # what the scenario offers by default, whatever a test changed
    _module_sim.https_site.offers = list(site_offers)
    _module_sim.clear_requests()
    yield _module_sim
    assert not _module_sim.errors, _module_sim.errors
