"""``--save-har`` on the network commands and ``decode --saz/--har``, in-process against the simulator.

A saved run reads back to the requests the simulator really received: ``decode --har --json`` decodes each
exchange's request body to the same structure as the body the simulator got, decoded by the same decoders.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.registry import DecodeContext, find_body_decoder
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.auth import demo_token
from mapiprobe.transport.capturefile import write_saz
from tests.capture.conftest import record_run
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import cli_args

pytestmark = pytest.mark.network


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    yield _module_sim
    assert not _module_sim.errors


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def network(sim: Simulator, *args: str) -> list[str]:
    return [*args, *cli_args(sim, timeout=15.0), "--user", sim.users[0].user, "--password-stdin"]


def _decoded_request(request_type: str, body: bytes) -> Any:
    decoder = find_body_decoder(request_type, "request")
    assert decoder is not None
    return to_jsonable(decoder(body, DecodeContext(request_type=request_type)))


def test_saved_run_decodes_back_to_the_requests_the_server_got(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = sim.users[0]
    har = tmp_path / "run.har"
    code, _, err = run(capsys, monkeypatch, *network(sim, "contents", user.email, "--folder", "Inbox",
                       "--page-size", "25", "--save-har", str(har)), stdin=user.password + "\n")  # fmt: skip
    assert code == 0, err
    assert "saved" in err and str(har) in err
    received = [r for r in sim.requests if r.header("X-RequestType")]
    raw = har.read_text(encoding="utf-8")
    assert user.password not in raw and "TlRMTVNTUA" not in raw
    code, out, err = run(capsys, monkeypatch, "decode", "--har", str(har), "--json")
    assert code == 0, err
    doc = json.loads(out)
    mapi = [e for e in doc["exchanges"] if e["kind"] == "mapihttp"]
    autodiscover = [e for e in doc["exchanges"] if e["kind"] == "http"]
    assert autodiscover and all("request" not in e for e in autodiscover)  # listed, not decoded
    assert [e["request_type"] for e in mapi] == [r.header("X-RequestType") for r in received]
    for entry, got in zip(mapi, received, strict=True):
        assert entry["request"] == _decoded_request(entry["request_type"], got.body), entry["index"]
        if entry["status"] == 401:  # the challenge leg of the handshake: listed as failed, body decoded
            assert entry["failures"] == ["HTTP 401 Unauthorized"]
        else:
            assert entry["ok"] and entry["status"] == 200 and entry["response_code"] == 0, entry["failures"]
    pages = [
        rop["RowData"]
        for e in mapi
        for buf in e["response"].get("Body", {}).get("RopBuffer", [])
        for rop in buf["RopsList"]
        if rop["RopId"] == "RopQueryRows" and "PidTagMid" in json.dumps(rop)
    ]
    assert [len(p) for p in pages] == [25, 25, 25, 25, 20]  # the last 4 pages in Executes of their own
    assert doc["notes"] == []


def test_every_network_command_takes_save_har(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = sim.users[0]
    nspi = f"https://mail.contoso.test/mapi/nspi/?MailboxId={user.mailbox_guid}@contoso.test"
    commands = {
        "autodiscover": ["autodiscover", user.email],
        "folders": ["folders", user.email],
        "gal": ["gal", user.email, "--addressbook-url", nspi],
        "addresslists": ["addresslists", user.email],
        "probe": ["probe", user.email],
        "check": ["check", user.email, "--quiet"],
    }
    for name, argv in commands.items():
        path = tmp_path / f"{name}.har"
        code, _, err = run(capsys, monkeypatch, *network(sim, *argv, "--save-har", str(path)),
                           stdin=user.password + "\n")  # fmt: skip
        assert code == 0 or (name == "check" and code == 3), (name, err)  # check: 3 = passed with warnings
        entries = json.loads(path.read_text(encoding="utf-8"))["log"]["entries"]
        assert entries, name
        text = path.read_text(encoding="utf-8")
        assert user.password not in text and demo_token(sim.org, user) not in text
        code, out, err = run(capsys, monkeypatch, "decode", "--har", str(path))
        assert code == 0, (name, err)
        assert out.count("\n#") + 1 == len(entries) and f"{len(entries)} exchange(s)" in out


def test_a_failed_run_is_saved_too(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = sim.users[0]
    path = tmp_path / "failed.har"
    code, _, _ = run(capsys, monkeypatch, *network(sim, "folders", user.email, "--save-har", str(path)),
                     stdin="wrong-password\n")  # fmt: skip
    assert code == 1
    code, out, _ = run(capsys, monkeypatch, "decode", "--har", str(path), "--json")
    assert code == 0
    statuses = [e["status"] for e in json.loads(out)["exchanges"]]
    assert 401 in statuses
    assert "wrong-password" not in path.read_text(encoding="utf-8")


def test_decode_saz_text_shows_rows_without_columns(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = record_run(sim)
    path = tmp_path / "run.saz"
    with path.open("wb") as out:
        write_saz(recording.records, out)
    code, out, err = run(capsys, monkeypatch, "decode", "--saz", str(path))
    assert code == 0, err
    assert out.count("[Execute] -> HTTP 200, X-ResponseCode 0") >= 18
    # Only the Negotiate legs (401 before Connect and before Bind: normal has no Basic on /mapi/) fail.
    assert "PidTagMid" in out and out.count("FAILED") == out.count("-> HTTP 401  FAILED") == 4
    assert f"{len(recording.records)} exchange(s) in {path} (SAZ)" in out


def test_decode_capture_usage_and_damage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, monkeypatch, "decode", "execute-response", "--saz", "x.saz")
    assert code == 2 and "take no KIND" in err
    code, _, err = run(capsys, monkeypatch, "decode", "--har", str(tmp_path / "missing.har"))
    assert code == 2 and "cannot read" in err
    junk = tmp_path / "junk.saz"
    junk.write_bytes(b"this is not a zip file at all")
    code, out, err = run(capsys, monkeypatch, "decode", "--saz", str(junk), "--json")
    assert code == 2 and json.loads(out)["exchanges"] == [] and "zip" in err
    code, _, err = run(capsys, monkeypatch, "decode", "--hex", "00")
    assert code == 2 and "give KIND" in err
