"""``mapiprobe protocols EMAIL`` (issue 17): MAPI/HTTP and RPC/HTTP on the same mailbox, each from a cold
start, against the simulator (both halves checked), a failing RPC/HTTP half in words, and opt-in against
gromox."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator
from tests.gromox import (
    ALICE,
    ALICE_PASSWORD,
    GROMOX,
    GROMOX_CA,
    needs_gromox,
)
from tests.session.simhelp import assert_no_credentials_in_clear, cli_args

pytestmark = pytest.mark.network


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    yield _module_sim
    _module_sim.set_scenario("normal")
    assert_no_credentials_in_clear(_module_sim)


def run(capsys: Any, monkeypatch: Any, sim: Simulator, *args: str) -> tuple[int, str, str]:
    user = sim.users[0]
    argv = [
        "protocols",
        user.email,
        *args,
        *cli_args(sim, timeout=10.0),
        "--user",
        user.user,
        "--password-stdin",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO(user.password + "\n"))
    code = main(argv)
    out, err = capsys.readouterr()
    assert user.password not in out and user.password not in err
    return code, out, err


def _phases(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in run["phases"]}


def test_both_protocols_complete_on_the_same_mailbox(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, err = run(capsys, monkeypatch, sim, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] is True
    mapi, rpc = data["runs"]
    assert (mapi["protocol"], rpc["protocol"]) == ("MAPI/HTTP", "RPC/HTTP")
    m, r = _phases(mapi), _phases(rpc)
    assert list(m) == list(r) == ["autodiscover", "connect", "folders", "gal"]
    # The same mailbox and the same directory on both halves.
    assert m["folders"]["detail"] == r["folders"]["detail"] and int(m["folders"]["detail"].split()[0]) > 10
    assert m["gal"]["detail"] == r["gal"]["detail"] == "50 GAL rows of 2000"
    for phases in (m, r):
        for p in phases.values():
            assert p["ok"] and p["wall_ms"] > 0 and p["bytes_received"] > 0, p
        assert phases["autodiscover"]["http_requests"] >= 1 and phases["autodiscover"]["tcp_connections"] >= 1
        assert phases["connect"]["http_requests"] >= 1 and phases["connect"]["tcp_connections"] >= 1
    # Each half is cold: MAPI/HTTP opens its own connections for its sessions, RPC/HTTP its virtual
    # connections (IN and OUT channels: at least two TCP connections for the mailbox, more for RFR and NSPI).
    assert r["connect"]["tcp_connections"] >= 2 and r["gal"]["tcp_connections"] >= 4
    # Dependent round trips: Connect + Execute(RopLogon) against CONN/A3+C2, bind, EcDoConnectEx, EcDoRpcExt2;
    # the GAL: Bind + QueryRows against RFR's connection, bind, call, then NSPI's, bind, NspiBind, QueryRows.
    assert (m["connect"]["round_trips"], r["connect"]["round_trips"]) == (2, 4)
    assert (m["gal"]["round_trips"], r["gal"]["round_trips"]) == (2, 7)
    assert mapi["endpoint"].startswith("https://") and "/mapi/emsmdb/" in mapi["endpoint"]
    assert "/rpc/rpcproxy.dll?" in rpc["endpoint"]
    assert any("RfrGetNewDSA" in n for n in rpc["notes"])
    ratios = data["rpc_http_over_mapi_http"]
    assert ratios["folders"] is not None and ratios["connect+folders"] is not None
    paths = [x.path.lower() for x in sim.requests]
    assert any(p.startswith("/mapi/emsmdb") for p in paths) and any(p.startswith("/mapi/nspi") for p in paths)
    assert any(p.startswith("/rpc/rpcproxy.dll") for p in paths)


def test_text_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, err = run(capsys, monkeypatch, sim, "--only", "rpc-http", "-v")
    assert code == 0, err
    assert "autodiscover RPC/HTTP" in out and "gal          RPC/HTTP" in out and "50 GAL rows of 2000" in out
    assert "MAPI/HTTP " not in out.split("\n", 2)[2]  # only the title names both
    assert "RPC/HTTP: folders" in err


def test_rpc_http_half_fails_in_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("rpch-unknown-server")
    code, out, err = run(capsys, monkeypatch, sim, "--json")
    assert code == 1, err
    data = json.loads(out)
    mapi, rpc = data["runs"]
    assert mapi["ok"] is True
    r = _phases(rpc)
    assert r["autodiscover"]["ok"] and not r["connect"]["ok"]
    assert "503" in r["connect"]["error"] or "not reachable" in r["connect"]["error"]
    assert r["folders"]["skipped"] and not r["gal"]["ok"]
    assert data["rpc_http_over_mapi_http"]["connect"] is None


def test_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, _, err = run(
        capsys, monkeypatch, sim, "--autodiscover-url", "http://x/Autodiscover/Autodiscover.xml"
    )
    assert code == 2 and "https://" in err


@needs_gromox
def test_gromox_protocols_completes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert GROMOX is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE_PASSWORD + "\n"))
    code = main(
        ["protocols", ALICE, "--json",
         "--autodiscover-url", f"{GROMOX}/Autodiscover/Autodiscover.xml",
         "--ca-cert", GROMOX_CA, "--user", ALICE, "--password-stdin"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    mapi, rpc = (_phases(r) for r in data["runs"])
    assert mapi["folders"]["detail"] == rpc["folders"]["detail"]
    assert mapi["gal"]["detail"] == rpc["gal"]["detail"]
