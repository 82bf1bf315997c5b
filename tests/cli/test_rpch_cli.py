"""``folders`` and ``contents`` over RPC/HTTP against the simulator: ``--protocol``, ``--mapi-http-disabled``,
``--rpc-proxy``/``--rpc-server``, the RPC/HTTP fault scenarios with clear messages; and opt-in against gromox
(``MAPIPROBE_GROMOX``): ``folders --protocol rpc-http`` lists the same folders as ``--protocol mapi-http``."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator
from tests.gromox import (
    ALICE,
    ALICE_DN,
    ALICE_MAILBOX,
    ALICE_PASSWORD,
    GROMOX,
    GROMOX_CA,
    GROMOX_HOST,
    needs_gromox,
)
from tests.session.simhelp import cli_args

pytestmark = pytest.mark.network


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, *args: str
) -> tuple[int, str, str]:
    user = sim.users[0]
    argv = [*args, *cli_args(sim, timeout=5.0), "--user", user.user, "--password-stdin"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(user.password + "\n"))
    code = main(argv)
    out, err = capsys.readouterr()
    assert user.password not in out and user.password not in err
    return code, out, err


def _paths(folders: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for f in folders:
        out += [f["path"], *_paths(f["children"])]
    return out


def _folders(capsys: Any, monkeypatch: Any, sim: Simulator, *extra: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, monkeypatch, sim, "folders", sim.users[0].email, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_mapi_http_disabled_browses_the_same_folders_over_rpc_http(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    over_mapi = _folders(capsys, monkeypatch, sim)
    sim.clear_requests()
    over_rpc = _folders(capsys, monkeypatch, sim, "--mapi-http-disabled")
    assert _paths(over_rpc) == _paths(over_mapi) and len(_paths(over_rpc)) > 10
    assert [f["content_count"] for f in over_rpc] == [f["content_count"] for f in over_mapi]
    methods = {r.method for r in sim.requests}
    assert {"RPC_IN_DATA", "RPC_OUT_DATA"} <= methods
    assert not any(r.path.lower().startswith("/mapi/") for r in sim.requests)
    assert sim.rpcproxy.binds[-1][1] == 6  # RPC-level packet privacy, as Exchange wants
    rpc = [r for r in sim.requests if r.method.startswith("RPC_")]
    # AuthPackage Negotiate (Exchange 2019's Outlook Anywhere outside): SPNEGO around NTLM here.
    assert {(r.header("Authorization") or "").split(" ")[0] for r in rpc} <= {"Negotiate", ""}


def test_mapihttp_disabled_scenario_auto_text_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("mapihttp-disabled")
    code, out, err = run(capsys, monkeypatch, sim, "folders", sim.users[0].email)
    assert code == 0, err
    assert "over RPC/HTTP" in out and "/rpc/rpcproxy.dll?" in out
    assert "RPC-level NTLM, level pkt_privacy" in out


def test_contents_over_rpc_http_with_explicit_proxy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    u = sim.users[0]
    common = ("contents", u.email, "--folder", "Inbox", "--limit", "3", "--json")
    code, out, err = run(capsys, monkeypatch, sim, *common)
    assert code == 0, err
    expected = json.loads(out)
    code, out, err = run(
        capsys, monkeypatch, sim, *common, "--protocol", "rpc-http", "--rpc-proxy", sim.org.mail_host,
        "--rpc-server", f"{u.mailbox_guid}@{sim.org.domain}", "--legacy-dn", u.legacy_dn,
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    assert got["items"] == expected["items"] and len(got["items"]) == 3
    assert not any(r.path.lower().startswith("/autodiscover") for r in sim.requests[-8:])


def test_protocol_mapi_http_with_mapi_http_disabled_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, _out, err = run(
        capsys,
        monkeypatch,
        sim,
        "folders",
        sim.users[0].email,
        "--protocol",
        "mapi-http",
        "--mapi-http-disabled",
    )
    assert code == 2 and "contradicts" in err


@pytest.mark.parametrize(
    ("scenario", "extra", "words"),
    [
        ("rpch-unknown-server", (), "refuses the RPC server"),
        ("rpch-channel-cut", (), "closed the OUT channel"),
        ("rpch-authn-level", ("--rpc-auth", "ntlm"), "refused the bind: authentication_type_not_recognized"),
    ],
)
def test_fault_scenarios_fail_with_a_clear_message(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *,
    scenario: str,
    extra: tuple[str, ...],
    words: str,
) -> None:
    sim.set_scenario(scenario)
    code, _out, err = run(
        capsys, monkeypatch, sim, "folders", sim.users[0].email, "--mapi-http-disabled", *extra
    )
    assert code == 1
    assert words in err and "Traceback" not in err


def test_authn_level_scenario_auto_falls_back_to_rpc_level_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("rpch-authn-level")
    code, out, err = run(capsys, monkeypatch, sim, "folders", sim.users[0].email, "--mapi-http-disabled")
    assert code == 0, err
    assert "RPC-level none" in out


@needs_gromox
def test_gromox_folders_over_rpc_http_match_mapi_http(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert GROMOX is not None
    common = ["folders", ALICE, "--json", "--ca-cert", GROMOX_CA, "--user", ALICE,
              "--password-stdin", "--legacy-dn", ALICE_DN]  # fmt: skip
    ways = {
        "mapi-http": [
            "--protocol",
            "mapi-http",
            "--mailbox-url",
            f"{GROMOX}/mapi/emsmdb/?MailboxId={ALICE_MAILBOX}",
        ],
        "rpc-http": ["--protocol", "rpc-http", "--rpc-proxy", GROMOX_HOST, "--rpc-server", ALICE_MAILBOX],
    }
    results = {}
    for protocol, extra in ways.items():
        monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE_PASSWORD + "\n"))
        code = main([*common, *extra])
        out, err = capsys.readouterr()
        assert code == 0, err
        results[protocol] = _paths(json.loads(out))
    assert results["rpc-http"] == results["mapi-http"] and len(results["rpc-http"]) >= 10
