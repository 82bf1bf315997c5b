"""The discovery options are one group, the same on every command that discovers, and work in one step.

The parsers are walked as argparse built them (every sub-command of ``mapiprobe``); the one-step runs go to
the simulator through ``--url`` with no DNS server at all (as a lab whose domain has no Autodiscover DNS).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.cli.main import build_parser
from mapiprobe.cli.options import DISCOVERY_GROUP
from mapiprobe.session.mapihttp_disabled import RPC_HTTP_ONLY
from mapiprobe.simulator import Simulator
from tests.session.conftest import wait_for_workers

DISCOVERING = {"autodiscover", "folders", "contents", "addresslists", "gal", "resolve", "probe", "check"}
GROUP_OPTIONS = (
    "--url",
    "--mapi-http-disabled",
    "--allow-redirect",
    "--no-srv",
    "--no-v2",
    "--no-redirect-probe",
)
AUTODISCOVER_ONLY = ("--compare", "--parse", "--cache", "--cache-dir")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _signature(action: argparse.Action) -> tuple[Any, ...]:
    return (
        type(action).__name__,
        tuple(action.option_strings),
        action.dest,
        action.nargs,
        action.const,
        action.default,
        action.type,
        action.choices,
        action.required,
        action.help,
        action.metavar,
    )


def _group(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup | None:
    return next((g for g in parser._action_groups if g.title == DISCOVERY_GROUP), None)


def test_the_discovery_group_is_identical_on_every_command_that_discovers() -> None:
    commands = _subcommands()
    signatures: dict[str, tuple[tuple[Any, ...], ...]] = {}
    for name, parser in commands.items():
        group = _group(parser)
        options = {o for a in parser._actions for o in a.option_strings}
        if group is None:
            # A command without the group takes none of its options, under any name.
            assert not options & set(GROUP_OPTIONS), (name, options & set(GROUP_OPTIONS))
            continue
        signatures[name] = tuple(_signature(a) for a in group._group_actions)
        assert [a.option_strings[0] for a in group._group_actions] == list(GROUP_OPTIONS), name
        # Each option is defined once per command: in the group, not again elsewhere.
        for option in GROUP_OPTIONS:
            owners = [a for a in parser._actions if option in a.option_strings]
            assert len(owners) == 1 and owners[0] in group._group_actions, (name, option)
        assert "--dns-server" in options, name
        if name != "autodiscover":
            assert not options & set(AUTODISCOVER_ONLY), (name, options & set(AUTODISCOVER_ONLY))
    assert set(signatures) == DISCOVERING
    reference = signatures["autodiscover"]
    for name, signature in signatures.items():
        assert signature == reference, name
    assert set(AUTODISCOVER_ONLY) <= {o for a in commands["autodiscover"]._actions for o in a.option_strings}


def test_autodiscover_keeps_its_exclusions(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    saved = tmp_path / "answer.xml"
    saved.write_text("<x/>", encoding="utf-8")
    url = "https://autodiscover.contoso.test/autodiscover/autodiscover.xml"
    assert main(["autodiscover", "a@contoso.test", "--url", url, "--parse", str(saved)]) == 2
    assert "--url and --parse exclude each other" in capsys.readouterr().err
    assert main(["autodiscover", "a@contoso.test", "--compare", "--mapi-http-disabled"]) == 2
    assert "--compare and --mapi-http-disabled exclude each other" in capsys.readouterr().err
    assert main(["gal", "a@contoso.test", "--url", "http://autodiscover.contoso.test/x"]) == 2
    assert "must be https://" in capsys.readouterr().err


# -- one step against the simulator: --url, no DNS -------------------------------------------------------


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    yield _module_sim
    _module_sim.set_scenario("normal")
    assert not _module_sim.errors


def _run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, *args: str
) -> tuple[int, str, str]:
    """``mapiprobe ARGS --url <the simulator's Autodiscover URL>``, no --dns-server: the domain's own
    candidates cannot be found, so only --url can make this work."""
    user = sim.users[0]
    monkeypatch.setattr(sys, "stdin", io.StringIO(user.password + "\n"))
    rules = [a for rule in sim.connect_to for a in ("--connect-to", rule)]
    code = main(
        [
            *args,
            "--url",
            sim.autodiscover_url,
            "--user",
            user.email,
            "--password-stdin",
            "--ca-cert",
            str(sim.ca_cert_path),
            "--timeout",
            "5",
            *rules,
        ]
    )
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


ONE_STEP = {
    "folders": ((), "Inbox"),
    "contents": (("--folder", "Inbox", "--limit", "3"), "Inbox"),
    "addresslists": ((), "All Users"),
    "gal": (("--limit", "5"), "@contoso.test"),
    "resolve": (("bob",), "bob@contoso.test"),
    "probe": ((), "mailbox (external)"),
}


@pytest.mark.network
@pytest.mark.parametrize("command", list(ONE_STEP))
def test_every_session_command_works_in_one_step_with_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, command: str
) -> None:
    extra, expect = ONE_STEP[command]
    code, out, err = _run(capsys, monkeypatch, sim, command, sim.users[0].email, *extra, "--json")
    assert code == 0, err + out
    obj = json.loads(out)
    assert expect.lower() in json.dumps(obj).lower()


@pytest.mark.network
def test_rpc_http_only_gets_a_plain_message_from_the_probe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    """With --mapi-http-disabled the simulator answers with RPC/HTTP settings only (as Exchange does);
    the probe, which cannot use them yet, says so plainly and exits 1."""
    code, out, err = _run(capsys, monkeypatch, sim, "probe", sim.users[0].email, "--mapi-http-disabled")
    assert code == 1, out + err
    assert RPC_HTTP_ONLY in out + err
    assert (
        RPC_HTTP_ONLY == "this server offers only RPC/HTTP here; mapiprobe does not connect over RPC/HTTP yet"
    )


@pytest.mark.network
@pytest.mark.parametrize("command", ["folders", "gal"])
def test_mapi_http_disabled_goes_over_rpc_http_in_one_step(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, command: str
) -> None:
    """The mailbox and address book commands use the RPC/HTTP settings (Outlook Anywhere)."""
    code, out, err = _run(
        capsys, monkeypatch, sim, command, sim.users[0].email, "--mapi-http-disabled", "--json"
    )
    assert code == 0, out + err
    assert RPC_HTTP_ONLY not in out + err
