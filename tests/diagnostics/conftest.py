"""One simulator per test module for the diagnosis tests; each test starts in ``normal`` with an empty log."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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


NO_KDC_LOOKUPS = "[libdefaults]\n\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n\trdns = false\n"


@pytest.fixture(autouse=True)
def no_kdc_lookups(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negotiate with a password first asks Kerberos for a ticket, and libkrb5 looks for the KDC of
    CONTOSO.TEST in DNS: through this machine's unreachable resolver that costs 5 s now and then (a run
    took 0.1 s or 5.1 s). The simulated realm has no KDC: say so, as tests/kerberos does for its own."""
    if "KRB5_CONFIG" in os.environ:
        return
    conf = tmp_path_factory.getbasetemp() / "krb5-no-dns.conf"
    if not conf.exists():
        conf.write_text(NO_KDC_LOOKUPS, encoding="utf-8")
    monkeypatch.setenv("KRB5_CONFIG", str(Path(conf)))
