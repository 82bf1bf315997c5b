"""``mapiprobe folders`` and ``mapiprobe contents`` in-process against the simulator (Autodiscover, then the
mailbox endpoint over loopback HTTPS)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.mailbox import MailboxService
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import assert_no_credentials_in_clear, cli_args

pytestmark = pytest.mark.network


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    svc = _module_sim.endpoints["emsmdb"]
    assert isinstance(svc, MailboxService)
    svc.mailbox.reset_moves()
    yield _module_sim
    svc.fault = None
    assert_no_credentials_in_clear(_module_sim)
    assert not _module_sim.errors


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *args: str,
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
        out.append(f["path"])
        out += _paths(f["children"])
    return out


def test_folders_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, err = run(capsys, monkeypatch, sim, "folders", sim.users[0].email, "--json")
    assert code == 0, err
    folders = json.loads(out)
    assert isinstance(folders, list)
    inbox = folders[0]
    assert set(inbox) == {
        "path",
        "folder_id",
        "display_name",
        "content_count",
        "unread_count",
        "container_class",
        "children",
    }
    assert (inbox["path"], inbox["content_count"], inbox["unread_count"]) == ("Inbox", 120, 29)
    assert inbox["container_class"] == "IPF.Note"
    assert [c["display_name"] for c in inbox["children"]] == ["Projects", "Customers", "Newsletters"]
    assert "Inbox/Projects/Budget 2026" in _paths(folders) and len(_paths(folders)) == 26
    calendar = next(f for f in folders if f["display_name"] == "Calendar")
    assert calendar["container_class"] == "IPF.Appointment"
    # Autodiscover ran first, then the mailbox endpoint.
    kinds = [r.path.split("?")[0].lower() for r in sim.requests if r.method == "POST"]
    assert any(k.endswith("autodiscover.xml") for k in kinds) and "/mapi/emsmdb/" in kinds


def test_folders_human(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, _ = run(capsys, monkeypatch, sim, "folders", sim.users[0].email, "--trace")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Mailbox of Alice Anders — 26 folders")
    assert any(line.split()[:3] == ["Inbox", "120", "items"] for line in lines)
    assert any(line.startswith("      Budget 2026") for line in lines)
    assert "HTTP exchanges:" in out and "Connect" in out and "X-ResponseCode 0" in out


def test_contents_json_with_limit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, err = run(
        capsys,
        monkeypatch,
        sim,
        "contents",
        sim.users[0].email,
        "--folder",
        "inbox/projects",
        "--limit",
        "4",
        "--json",
        "--compression",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["folder"], doc["total"], len(doc["items"])) == ("Inbox/Projects", 6, 4)
    item = doc["items"][0]
    assert set(item) == {"mid", "subject", "sender", "received", "size", "message_class", "read"}
    assert item["subject"] == "Project Falcon kickoff" and item["received"].endswith("Z")
    received = [i["received"] for i in doc["items"]]
    assert received == sorted(received, reverse=True)


def test_contents_human(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, out, _ = run(capsys, monkeypatch, sim, "contents", sim.users[0].email, "--folder", "Drafts")
    assert code == 0
    assert out.splitlines()[0] == "Drafts: 3 of 3 item(s), newest first"


def test_mailbox_url_skips_autodiscover(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    user = sim.users[0]
    url = f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={user.mailbox_guid}@contoso.test"
    code, out, err = run(
        capsys,
        monkeypatch,
        sim,
        "folders",
        user.email,
        "--mailbox-url",
        url,
        "--legacy-dn",
        user.legacy_dn,
        "--json",
    )
    assert code == 0, err
    assert len(_paths(json.loads(out))) == 26
    assert not [r for r in sim.requests if "autodiscover" in r.path.lower()]


def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    email = sim.users[0].email
    code, _, err = run(
        capsys, monkeypatch, sim, "folders", email, "--mailbox-url", "https://x/mapi/emsmdb/?a"
    )
    assert code == 2 and "--legacy-dn" in err
    code, out, err = run(capsys, monkeypatch, sim, "contents", email, "--folder", "Inbox/Nope", "--json")
    assert code == 2 and "no folder 'Inbox/Nope'" in err
    assert json.loads(out)["error"]["kind"] == "mailbox-folders"
    code, _, err = run(capsys, monkeypatch, sim, "contents", email, "--folder", "Inbox", "--limit", "0")
    assert code == 2


@pytest.mark.parametrize(("scenario", "words"), [("mailbox-503", "HTTP 503"), ("mailbox-html", "HTML page")])
def test_front_end_failures_exit_1(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    scenario: str,
    words: str,
) -> None:
    sim.set_scenario(scenario)
    code, out, err = run(capsys, monkeypatch, sim, "folders", sim.users[0].email, "--json")
    assert code == 1 and words in err
    assert words in json.loads(out)["error"]["message"]


def test_moved_mailbox_runs_autodiscover_again(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("mailbox-moved")
    logged = len(sim.https_site.auth_log)
    code, out, err = run(capsys, monkeypatch, sim, "folders", sim.users[0].email, "-v")
    assert code == 0, err
    assert "Note: the mailbox had moved (ecWrongServer)" in out
    assert "running Autodiscover again" in err and "[redirect]" in err
    # Autodiscover ran twice: two POX requests that reached the handler (with --auth auto each run's first
    # request to a server goes without credentials and is answered 401, and Negotiate takes more legs).
    pox = [
        e
        for e in sim.https_site.auth_log[logged:]
        if e.outcome == "ok" and e.path.lower().endswith("autodiscover.xml")
    ]
    hosts = {e.host for e in pox}
    assert len([e for e in pox if e.host == "autodiscover.contoso.test"]) == 2, hosts
