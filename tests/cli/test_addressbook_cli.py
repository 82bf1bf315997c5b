"""``mapiprobe addresslists``, ``gal`` and ``resolve`` end to end against the simulator (in-process, and once
as a process with the password on standard input)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.nspi import NspiHandler
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import assert_no_credentials_in_clear, cli_args

ROW_KEYS = {"display_name", "smtp_address", "title", "department", "office", "phone", "display_type", "mid"}


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.clear_requests()
    yield _module_sim
    _module_sim.endpoints["nspi"].fault = None
    assert_no_credentials_in_clear(_module_sim)
    assert not _module_sim.errors


def nspi_url(sim: Simulator) -> str:
    return f"https://mail.contoso.test/mapi/nspi/?MailboxId={sim.users[0].mailbox_guid}@contoso.test"


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    command: str,
    *extra: str,
    password: str | None = None,
) -> tuple[int, str, str]:
    user = sim.users[0]
    args = [command, user.email, *extra, *cli_args(sim, timeout=5.0), "--password-stdin"]
    monkeypatch.setattr(sys, "stdin", io.StringIO((password or user.password) + "\n"))
    code = main(args)
    out, err = capsys.readouterr()
    assert user.password not in out and user.password not in err
    return code, out, err


def run_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator, *args: str
) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, monkeypatch, sim, *args, "--json")
    return code, json.loads(out)


def directory_of(sim: Simulator) -> Any:
    handler = sim.endpoints["nspi"].handler
    assert isinstance(handler, NspiHandler)
    return handler.directory


def test_addresslists_via_autodiscover(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out = run_json(capsys, monkeypatch, sim, "addresslists")
    assert code == 0 and out["ok"] is True
    assert out["url"] == nspi_url(sim)  # found by Autodiscover
    assert [a["name"] for a in out["address_lists"]][:2] == ["Global Address List", "All Address Lists"]
    assert out["address_lists"][0]["container_id"] == 0
    assert {r.header("X-RequestType") for r in sim.requests if "/mapi/nspi/" in r.path} == {
        "Bind",
        "GetSpecialTable",
        "Unbind",
    }
    code, text, _ = run(capsys, monkeypatch, sim, "addresslists", "--addressbook-url", nspi_url(sim))
    assert code == 0 and "All Rooms  [MId 0x103]" in text and "(container of lists)" in text


def test_gal_rows(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    gal = directory_of(sim).gal.entries
    code, out = run_json(
        capsys, monkeypatch, sim, "gal", "--addressbook-url", nspi_url(sim), "--start", "1000", "--limit", "7"
    )
    assert (
        code == 0
        and out["total"] == len(gal)
        and out["start"] == 1000
        and out["list"] == "Global Address List"
    )
    rows = out["rows"]
    assert len(rows) == 7 and all(set(r) == ROW_KEYS for r in rows)
    assert [r["mid"] for r in rows] == [e.mid for e in gal[1000:1007]]
    assert (
        rows[0]["display_name"] == gal[1000].display_name
        and rows[0]["smtp_address"] == gal[1000].smtp_address
    )
    code, text, _ = run(capsys, monkeypatch, sim, "gal", "--addressbook-url", nspi_url(sim), "--limit", "3")
    assert code == 0 and text.startswith(f"Global Address List: rows 0..2 of {len(gal)}")
    assert gal[0].display_name in text


def test_gal_other_list_to_the_end(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    rooms = directory_of(sim).container(0x103)
    code, out = run_json(
        capsys,
        monkeypatch,
        sim,
        "gal",
        "--addressbook-url",
        nspi_url(sim),
        "--list",
        "all rooms",
        "--limit",
        "0",
        "--page-size",
        "20",
    )
    assert code == 0 and out["list"] == "All Rooms" and out["container_id"] == 0x103
    assert len(out["rows"]) == out["total"] == len(rooms)
    code, out = run_json(
        capsys, monkeypatch, sim, "gal", "--addressbook-url", nspi_url(sim), "--start", "99999"
    )
    assert code == 0 and out["rows"] == [] and out["total"] == len(directory_of(sim))


def test_gal_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, _, err = run(capsys, monkeypatch, sim, "gal", "--addressbook-url", nspi_url(sim), "--list", "Nope")
    assert code == 2 and "no address list called 'Nope'" in err
    code, _, err = run(capsys, monkeypatch, sim, "gal", "--addressbook-url", nspi_url(sim), "--start", "-1")
    assert code == 2
    code, _, err = run(
        capsys, monkeypatch, sim, "gal", "--addressbook-url", "http://mail.contoso.test/mapi/nspi/"
    )
    assert code == 2 and "https://" in err


def test_resolve(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator) -> None:
    code, out = run_json(
        capsys,
        monkeypatch,
        sim,
        "resolve",
        "--addressbook-url",
        nspi_url(sim),
        "bob",
        "Alex Wilber",
        "zz-nobody",
    )
    assert code == 0
    bob, wilber, nobody = out["results"]
    assert bob["status"] == "resolved" and bob["entry"]["smtp_address"] == "bob@contoso.test"
    assert set(bob["entry"]) == ROW_KEYS
    assert (
        wilber["status"] == "ambiguous" and len(wilber["candidates"]) == 2 and wilber["candidates_complete"]
    )
    assert nobody == {
        "name": "zz-nobody",
        "status": "unresolved",
        "entry": None,
        "candidates": [],
        "candidates_complete": True,
        "note": None,
    }
    code, text, _ = run(
        capsys, monkeypatch, sim, "resolve", "--addressbook-url", nspi_url(sim), "Smith", "--candidates", "2"
    )
    assert code == 0 and "Smith: ambiguous, 0 candidates (not all listed)" in text and "more than 2" in text


def test_failures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, err = run(
        capsys, monkeypatch, sim, "resolve", "--addressbook-url", nspi_url(sim), "bob", password="wrong"
    )
    assert code == 1 and "authentication failed" in err and "wrong" not in err
    sim.endpoints["nspi"].fault = "html-200"
    code, out = run_json(capsys, monkeypatch, sim, "addresslists", "--addressbook-url", nspi_url(sim))
    assert code == 1 and out["ok"] is False and out["error"]["kind"] == "bad-mapihttp-response"
    sim.endpoints["nspi"].fault = None
    code, _, err = run(
        capsys, monkeypatch, sim, "addresslists", "--addressbook-url", nspi_url(sim).split("?")[0]
    )
    assert code == 1 and "404" in err


def test_as_a_process(sim: Simulator) -> None:
    user = sim.users[0]
    args = [
        sys.executable,
        "-m",
        "mapiprobe",
        "resolve",
        user.email,
        "carol",
        "--json",
        "--password-stdin",
        "--addressbook-url",
        nspi_url(sim),
        *cli_args(sim, timeout=5.0),
    ]
    proc = subprocess.run(args, input=user.password + "\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["results"][0]["entry"]["display_name"] == "Carol Castillo"
    assert user.password not in proc.stdout + proc.stderr
