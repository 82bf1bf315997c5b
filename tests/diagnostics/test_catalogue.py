"""The scenario catalogue: every simulator scenario is diagnosed with the cause the catalogue names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mapiprobe.diagnostics.catalogue import CATALOGUE, HEALTHY
from mapiprobe.diagnostics.pipeline import DiagnosisOptions, diagnose
from mapiprobe.diagnostics.steps import STEP_IDS, Status, StepEvent
from mapiprobe.simulator import SCENARIOS, Simulator
from mapiprobe.transport.auth import Credentials, Secret
from tests.session.simhelp import connection

EXCHANGE_2019_OFFERS = ("Negotiate", "NTLM")


def _run(sim: Simulator, **options: object) -> tuple[object, list[StepEvent]]:
    user = sim.users[0]
    # Generous limits (a loaded 2-core machine is slow); the scenarios about time set their own.
    conn = connection(sim, timeout=float(options.pop("timeout", 5.0)))  # type: ignore[arg-type]
    options.setdefault("slow_request_s", 30.0)
    if options.pop("proxy", False):
        conn = replace(conn, proxy=sim.proxy_url)
    events: list[StepEvent] = []
    result = diagnose(
        user.email,
        DiagnosisOptions(
            connection=conn,
            credentials=Credentials(user=user.email, password=Secret(user.password)),
            **options,  # type: ignore[arg-type]
        ),
        on_event=events.append,
    )
    return result, events


def test_every_simulator_scenario_is_catalogued() -> None:
    assert set(SCENARIOS) - set(CATALOGUE) == set()


def test_the_healthy_organisation_passes_every_step(sim: Simulator) -> None:
    sim.set_scenario(HEALTHY)
    # What Exchange 2019 offers by default (the hardening work makes ``normal`` do this itself).
    sim.auth.offer("*", EXCHANGE_2019_OFFERS)
    result, events = _run(sim)
    statuses = {(s.id, s.target): s.status for s in result.steps}
    assert all(status == Status.PASS for status in statuses.values()), [
        (s.id, s.target, s.status, s.summary) for s in result.steps if s.status != Status.PASS
    ]
    assert result.result == "pass"
    assert {s.id for s in result.steps} == set(STEP_IDS) - {"rpc-http"}  # rpc-http: without MAPI/HTTP only
    assert len(statuses) == len(result.steps)  # (id, target) is unique
    order = [STEP_IDS.index(s.id) for s in result.steps if s.id not in ("dns", "tcp", "tls", "proxy")]
    assert order == sorted(order)
    # Live progress: a "started" before each "finished", and the finished steps are the result's.
    assert [e.step.key for e in events if e.kind == "finished"] == [s.key for s in result.steps]
    started = [e.step.key for e in events if e.kind == "started"]
    assert set(started) == {s.key for s in result.steps if s.status != Status.SKIPPED}
    assert result.facts["mailbox_auth"].startswith(("NTLM", "Negotiate"))


@pytest.mark.parametrize("scenario", [name for name, exp in CATALOGUE.items() if exp is not None])
def test_scenario_is_diagnosed(sim: Simulator, scenario: str) -> None:
    expected = CATALOGUE[scenario]
    assert expected is not None
    if scenario not in SCENARIOS:
        pytest.skip(f"the simulator on this branch has no {scenario!r} scenario yet")
    sim.set_scenario(scenario)
    if expected.slow_seconds is not None:
        sim.slow_seconds = expected.slow_seconds
    result, _events = _run(sim, **dict(expected.options))
    want = expected.target_contains
    steps = sorted(
        (s for s in result.steps if s.id == expected.step_id and (want is None or want in s.target)),
        key=lambda s: (s.target != want, s.target.find(want or "")),
    )
    assert steps, [(s.id, s.target) for s in result.steps]
    step = steps[0]
    summary = [
        (s.id, s.target, s.status, s.cause_code, s.summary) for s in result.steps if s.status != "pass"
    ]
    assert step.status == expected.status, summary
    assert step.cause_code == expected.cause_code, summary
    assert step.cause and step.remedy
    for word in expected.words:
        assert word.lower() in step.cause.lower(), (word, step.cause)
    assert result.result == ("fail" if expected.status == Status.FAIL else result.result)
    if expected.status == Status.FAIL:
        assert result.first_failure is not None and result.first_failure.status == Status.FAIL


@pytest.mark.parametrize("scenario", [n for n, e in CATALOGUE.items() if e is None and n != HEALTHY])
def test_other_healthy_scenarios_pass(sim: Simulator, scenario: str) -> None:
    if scenario not in SCENARIOS:
        pytest.skip(f"no {scenario!r} scenario on this branch")
    sim.set_scenario(scenario)
    result, _ = _run(sim)
    assert result.result == "pass", [(s.id, s.status, s.summary) for s in result.steps if s.status != "pass"]


def test_mapihttp_disabled_goes_on_over_rpc_http(sim: Simulator) -> None:
    """Organisation-wide MAPI/HTTP off: the mapi-http step fails with its remedy, and the mailbox and the
    address book are checked over RPC/HTTP as Outlook would use them."""
    sim.set_scenario("mapihttp-disabled")
    result, _ = _run(sim)
    assert result.step("mapi-http").cause_code == "mapihttp-disabled-org"
    assert "Set-OrganizationConfig -MapiHttpEnabled $true" in (result.step("mapi-http").remedy or "")
    assert result.step("rpc-http").status == Status.PASS
    connect = result.step("mailbox-connect")
    assert connect is not None and connect.status == Status.PASS and "/rpc/rpcproxy.dll" in connect.target
    assert result.step("folders").status == Status.PASS and result.step("ping").status == Status.PASS
    ab = result.step("ab-bind")
    assert ab is not None and ab.status == Status.PASS and "/rpc/rpcproxy.dll" in ab.target
    assert result.step("resolve").status == Status.PASS
    assert result.facts["protocol"] == "RPC/HTTP"


def test_windows_registry_switch_is_named(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows the real MapiHttpDisabled value is read (here a stand-in for winreg's answer)."""
    from mapiprobe.session import mapihttp_disabled

    setting = mapihttp_disabled.RegistrySetting(True, True, 1, "MapiHttpDisabled = 1 (REG_DWORD)")
    monkeypatch.setattr(mapihttp_disabled, "registry_setting", lambda: setting)
    result, _ = _run(sim)
    step = result.step("mapi-http")
    assert step is not None and step.status == Status.WARN and step.cause_code == "mapihttp-disabled-registry"
    assert "MapiHttpDisabled = 1" in (step.cause or "") and "RPC/HTTP" in (step.cause or "")
    assert any(e.label == "MapiHttpDisabled on this computer" for e in step.evidence)


def test_only_basic_is_a_warning(sim: Simulator) -> None:
    sim.auth.offer("*", ("Basic",))
    result, _ = _run(sim)
    probes = [s for s in result.steps if s.id == "probe"]
    assert len(probes) == 2 and all(s.status == Status.WARN and s.cause_code == "only-basic" for s in probes)
    assert result.step("mailbox-connect").status == Status.PASS and result.result == "warn"


def test_a_failure_skips_what_depends_on_it(sim: Simulator) -> None:
    sim.set_scenario("html-login")
    result, _ = _run(sim)
    assert result.step("autodiscover").status == Status.FAIL
    skipped = [s for s in result.steps if s.status == Status.SKIPPED]
    assert {s.id for s in skipped} >= {"mailbox-connect", "logon", "folders", "ab-bind", "resolve", "ping"}
    assert all("Autodiscover" in s.summary for s in skipped)


def test_cancel_stops_the_run(sim: Simulator) -> None:
    import threading

    cancel = threading.Event()
    user = sim.users[1]
    seen: list[str] = []

    def on_event(event: StepEvent) -> None:
        seen.append(event.step.id)
        if event.kind == "finished" and event.step.id == "autodiscover":
            cancel.set()

    from mapiprobe.diagnostics.pipeline import Diagnosis

    result = Diagnosis(
        user.email,
        DiagnosisOptions(
            connection=connection(sim),
            credentials=Credentials(user=user.email, password=Secret(user.password)),
        ),
        on_event=on_event,
        cancel=cancel,
    ).run()
    assert result.cancelled and result.result == "fail"
    assert "mailbox-connect" not in {s.id for s in result.steps}
