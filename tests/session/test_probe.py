"""The anonymous probe and certificate report (session/probe.py) and ``mapiprobe probe``."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest

from mapiprobe.cli import main
from mapiprobe.session.probe import EndpointProbe, Prober, ProbeUsageError, probe, targets_for
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials, Secret
from mapiprobe.transport.trace import Trace
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import cli_args, connection

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.auth.reset()
    _module_sim.clear_requests()
    yield _module_sim
    _module_sim.set_scenario("normal")
    assert not _module_sim.errors


def _alice(sim: Simulator) -> Credentials:
    return Credentials(user="alice@contoso.test", password=Secret(sim.users[0].password))


def test_targets() -> None:
    assert targets_for("alice@Contoso.test") == [
        ("autodiscover (contoso.test)", "https://contoso.test/autodiscover/autodiscover.xml"),
        (
            "autodiscover (autodiscover.contoso.test)",
            "https://autodiscover.contoso.test/autodiscover/autodiscover.xml",
        ),
    ]
    url = "https://mail.contoso.test/mapi/nspi/?MailboxId=a@contoso.test"
    assert targets_for(url) == [("given URL", url)]
    for bad in ("alice", "http://mail.contoso.test/", "@contoso.test", "https:///x"):
        with pytest.raises(ProbeUsageError):
            targets_for(bad)
    assert EndpointProbe("x", "https://h/", status=200).anonymous_allowed
    assert not EndpointProbe("x", "https://h/", status=401).anonymous_allowed


def test_probe_without_credentials(sim: Simulator) -> None:
    trace = Trace()
    report = probe(sim.users[0].email, connection=connection(sim), trace=trace)
    assert report.discovery is not None and report.discovery.startswith("not run")
    root, auto = report.endpoints
    assert root.status == 404 and root.offered == ()
    # Exchange 2019's Autodiscover defaults.
    assert auto.status == 401 and auto.offered == ("Negotiate", "NTLM", "Bearer", "Basic")
    assert auto.realm == "contoso.test"
    front = dict(auto.front_end)
    assert front["X-FEServer"] == "EXFE01" and front["request-id"] and front["Server"] == "Microsoft-IIS/10.0"
    assert [c.host for c in report.certificates] == ["contoso.test", "autodiscover.contoso.test"]
    assert all(c.ok for c in report.certificates)
    # Nothing carried credentials.
    assert not [r for r in sim.requests if r.header("Authorization")]
    assert all(rec.header("Authorization", response=False) is None for rec in trace.records)


def test_probe_with_credentials_finds_and_probes_the_endpoints(sim: Simulator) -> None:
    sim.set_scenario("windows-auth")
    report = Prober(sim.users[0].email, connection=connection(sim), credentials=_alice(sim)).run()
    assert report.discovery is not None and report.discovery.startswith(
        "Autodiscover at https://autodiscover."
    )
    roles = [e.role for e in report.endpoints]
    assert any(r.startswith("mailbox") for r in roles) and any(r.startswith("address book") for r in roles)
    for endpoint in report.endpoints[1:]:
        assert endpoint.status == 401 and endpoint.offered == ("Negotiate", "NTLM")
        assert endpoint.negotiate is not None and endpoint.negotiate.mechanism == "ntlm"
        assert endpoint.negotiate.authenticated is True
    hosts = [c.host for c in report.certificates]
    assert hosts == ["contoso.test", "autodiscover.contoso.test", "mail.contoso.test"]
    # The password never went out with Basic.
    assert not [r for r in sim.requests if (r.header("Authorization") or "").startswith("Basic")]


@pytest.mark.parametrize(
    ("scenario", "problem"),
    [
        ("cert-wrong-name", "name-mismatch"),
        ("cert-expired", "expired"),
        ("cert-missing-intermediate", "incomplete-chain"),
    ],
)
def test_certificate_scenarios_in_the_report(sim: Simulator, scenario: str, problem: str) -> None:
    sim.set_scenario(scenario)
    report = Prober(sim.users[0].email, connection=connection(sim), credentials=_alice(sim)).run()
    mail = report.certificate_for("mail.contoso.test")
    assert mail is not None and mail.problems == (problem,) and mail.reason
    assert report.certificate_for("autodiscover.contoso.test").ok  # type: ignore[union-attr]
    mapi = [e for e in report.endpoints if e.host == "mail.contoso.test"]
    assert mapi and all(e.error_kind == "tls-failed" for e in mapi)


def _cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["probe", *args, *cli_args(sim, timeout=5.0)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_probe_json_and_text(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = sim.users[0]
    code, out, err = _cli(
        capsys, monkeypatch, sim, alice.email, "--json", "--password-stdin", stdin=alice.password + "\n"
    )
    assert code == 0, err
    obj = json.loads(out)
    assert obj["target"] == alice.email and not obj["insecure"]
    assert {e["role"].split(" (")[0] for e in obj["endpoints"]} >= {"autodiscover", "mailbox", "address book"}
    mail = next(c for c in obj["certificates"] if c["host"] == "mail.contoso.test")
    assert (
        mail["ok"] and mail["certificate"]["key_type"] == "EC" and mail["chain_source"] == "tls1.2-handshake"
    )
    assert alice.password not in out + err
    code, out, _ = _cli(capsys, monkeypatch, sim, alice.email)
    assert code == 0 and "X-FEServer: EXFE01" in out
    assert "schemes offered: Negotiate, NTLM, Bearer, Basic (realm contoso.test)" in out
    sim.set_scenario("basic-only")
    code, out, _ = _cli(capsys, monkeypatch, sim, alice.email)
    assert code == 0 and "schemes offered: Basic (realm contoso.test)" in out


def test_cli_probe_shows_the_schemes_of_each_endpoint(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``normal`` looks like Exchange 2019: Autodiscover offers Windows authentication, OAuth and Basic,
    the /mapi/ endpoints the same without Basic; ``probe`` shows it per endpoint."""
    alice = sim.users[0]
    password = alice.password + "\n"
    code, out, err = _cli(capsys, monkeypatch, sim, alice.email, "--json", "--password-stdin", stdin=password)
    assert code == 0, err
    offered = {
        e["role"]: tuple(e["offered_schemes"]) for e in json.loads(out)["endpoints"] if e["status"] == 401
    }
    windows_oauth = ("Negotiate", "NTLM", "Bearer")
    assert offered == {
        "autodiscover (autodiscover.contoso.test)": (*windows_oauth, "Basic"),
        "mailbox (external)": windows_oauth,
        "address book (external)": windows_oauth,
    }
    code, out, err = _cli(capsys, monkeypatch, sim, alice.email, "--password-stdin", stdin=password)
    assert code == 0, err
    assert out.count("schemes offered: Negotiate, NTLM, Bearer (realm contoso.test)") == 2
    assert out.count("schemes offered: Negotiate, NTLM, Bearer, Basic (realm contoso.test)") == 1
    assert "Negotiate used: ntlm" in out


def test_cli_probe_problems_insecure_and_bad_input(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("cert-expired")
    url = f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={sim.users[0].mailbox_guid}@contoso.test"
    code, out, _ = _cli(capsys, monkeypatch, sim, url)
    assert code == 1 and "PROBLEM: the certificate expired on" in out
    code, out, err = _cli(capsys, monkeypatch, sim, url, "--insecure")
    lines = [line for line in out.splitlines() if line]
    assert lines[0].startswith("WARNING: TLS certificate verification is OFF")
    assert all(line.startswith("[--insecure]") for line in lines[1:])
    assert "HTTP 401" in out  # without verification the anonymous request got through
    code, out, err = _cli(capsys, monkeypatch, sim, url, "--insecure", "--json")
    assert json.loads(out)["warning"].startswith("WARNING: TLS certificate verification is OFF")
    code, _, err = _cli(capsys, monkeypatch, sim, "not-an-address")
    assert code == 2 and "email address or an https:// URL" in err


def test_probe_cancelled(sim: Simulator) -> None:
    prober = Prober(sim.users[0].email, connection=replace(connection(sim)))
    prober.cancel.set()
    report = prober.run()
    assert report.endpoints == () and "cancelled by the user" in report.notes
