"""``mapiprobe autodiscover`` end to end against the simulator: in-process (capsys) and once as a process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import assert_no_credentials_in_clear, cli_args

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    yield _module_sim
    assert_no_credentials_in_clear(_module_sim)
    assert not _module_sim.errors


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *extra: str,
    password: bool = True,
    email: str | None = None,
    **kw: Any,
) -> tuple[int, str, str]:
    user = sim.users[0]
    args = ["autodiscover", email or user.email, *cli_args(sim, **kw), *extra]
    if password:
        args += ["--user", user.user, "--password-stdin"]
        monkeypatch.setattr(sys, "stdin", io.StringIO(user.password + "\n"))
    code = main(args)
    out, err = capsys.readouterr()
    assert user.password not in out and user.password not in err
    return code, out, err


def run_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *extra: str,
    **kw: Any,
) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, monkeypatch, sim, "--json", *extra, **kw)
    return code, json.loads(out)


KEYS = {
    "action",
    "protocol",
    "mapi_http",
    "rpc_http",
    "user",
    "redirect_addr",
    "redirect_url",
    "redirects",
    "attempts",
    "error",
    "insecure",
}


def test_json_settings(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, obj = run_json(capsys, monkeypatch, sim)
    assert code == 0
    assert set(obj) >= KEYS
    assert obj["action"] == "settings" and obj["protocol"] == "mapiHttp"
    mapi = obj["mapi_http"]
    assert mapi["version"] == 1
    assert mapi["mailstore"]["external"].startswith(f"https://mail.{sim.domain}/mapi/emsmdb/")
    assert mapi["addressbook"]["internal"].startswith(f"https://mail.{sim.domain}/mapi/nspi/")
    assert obj["user"]["legacy_dn"] == sim.users[0].legacy_dn
    assert obj["redirect_addr"] is None and obj["redirect_url"] is None and obj["redirects"] == []
    assert obj["error"] is None and obj["insecure"] is False and "warning" not in obj
    assert [t["type"] for t in obj["rpc_http"]] == ["WEB"]
    first = obj["attempts"][0]
    assert {"url", "source", "resolved_address", "tls", "http_status", "elapsed_ms", "outcome"} <= set(first)
    assert any(a["outcome"] == "settings" for a in obj["attempts"])


def test_human_output_puts_endpoints_first(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, sim)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"Autodiscover for {sim.users[0].email}: settings from https://autodiscover.")
    assert lines[1].startswith("MAPI over HTTP (version 1)")
    assert "Mailbox" in lines[2] and "/mapi/emsmdb/" in lines[2]
    assert "Attempts:" in out


def test_unknown_user_exits_1(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("unknown-user")
    code, obj = run_json(capsys, monkeypatch, sim)
    assert code == 1
    assert obj["action"] == "error" and obj["error"]["code"] == "500"
    assert obj["protocol"] is None and obj["mapi_http"] is None


def test_html_login_exits_2(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("html-login")
    code, obj = run_json(capsys, monkeypatch, sim)
    assert code == 2
    assert obj["error"]["code"] == "rejected-document"
    assert any("HTML" in (a["detail"] or "") for a in obj["attempts"])


def test_insecure_is_loud(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, sim, "--insecure", "--json", trust=False)
    obj = json.loads(out)
    assert code == 0
    assert obj["insecure"] is True and "verification is OFF" in obj["warning"]
    assert "WARNING" in err and "--insecure" in err
    assert any(f["code"] == "insecure" for f in obj["findings"])
    code, out, err = run(capsys, monkeypatch, sim, "--insecure", trust=False)
    assert out.startswith("WARNING:") and "WARNING" in err


def test_untrusted_certificate_exits_1(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, obj = run_json(capsys, monkeypatch, sim, trust=False)
    assert code == 1
    assert obj["error"]["code"] == "tls-failed"
    assert any((a["tls"] or "").startswith("failed:") for a in obj["attempts"])


def test_mapi_http_disabled_and_ignoring_server(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("ignores-header")
    code, obj = run_json(capsys, monkeypatch, sim, "--mapi-http-disabled")
    assert code == 0
    assert obj["mapi_http_disabled"] is True and obj["mapi_http"] is None and obj["protocol"] == "rpcHttp"
    assert [f["code"] for f in obj["findings"]] == ["server-ignores-mapihttp-capability"]
    assert "registry" in obj and obj["registry"]["message"]
    posts = [r for r in sim.requests if r.method == "POST"]
    assert posts and all(r.header("X-MapiHttpCapability") is None for r in posts)


def test_compare(sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, obj = run_json(capsys, monkeypatch, sim, "--compare")
    assert code == 0
    assert obj["protocol"] == "mapiHttp"
    cmp = obj["compare"]
    assert cmp["without_header"]["protocol"] == "rpcHttp"
    assert any(d["field"] == "mapi_http.version" for d in cmp["differences"])
    code, out, _ = run(capsys, monkeypatch, sim, "--compare")
    assert "Differences (with header | without):" in out


def test_redirect_needs_allow_redirect(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("redirect-url")
    code, obj = run_json(capsys, monkeypatch, sim)
    assert code == 1
    assert obj["action"] == "redirectUrl" and obj["error"]["code"] == "consent-refused"
    assert obj["redirect_url"] == f"https://mail.{sim.domain}/autodiscover/autodiscover.xml"
    code, obj = run_json(capsys, monkeypatch, sim, "--allow-redirect", f"mail.{sim.domain}")
    assert code == 0
    assert obj["redirects"], json.dumps(obj["attempts"], indent=1)  # (printed should it ever fail again)
    assert obj["redirects"][0]["kind"] == "redirectUrl" and obj["redirects"][0]["approved_by"] == "allow-list"


def test_dead_root_is_abandoned(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The black-holed root domain does not cost its time limit: it is reported as abandoned."""
    sim.set_scenario("dead-root")
    code, obj = run_json(capsys, monkeypatch, sim, timeout=3.0)
    assert code == 0 and obj["action"] == "settings"
    root = next(a for a in obj["attempts"] if a["source"] == "root-domain")
    assert root["outcome"] == "abandoned" and "no TLS handshake" in root["detail"]


def test_url_and_trace(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, obj = run_json(capsys, monkeypatch, sim, "--url", sim.autodiscover_url, "--trace")
    assert code == 0
    assert [a["source"] for a in obj["attempts"]] == ["given-url"]
    # --auth auto (the default): the first request goes without credentials and learns the schemes from
    # the 401; Exchange 2019's Autodiscover offers Negotiate first, which runs NTLM inside SPNEGO here (no
    # KDC): two more legs, the last one answered.
    first, nego, rec = obj["trace"]
    assert (first["status"], nego["status"], rec["status"]) == (401, 401, 200)
    assert not any(name.lower() == "authorization" for name, _ in first["request_headers"])
    assert ["Authorization", "Negotiate [redacted]"] in rec["request_headers"]
    assert rec["tls_version"].startswith("TLSv1.")
    code, out, _ = run(capsys, monkeypatch, sim, "--url", sim.autodiscover_url, "--trace")
    assert "> Authorization: Negotiate [redacted]" in out and "> Authorization: Basic" not in out
    # Where Basic is all there is (basic-only, as gromox), auto takes it: one 401, then Basic.
    sim.set_scenario("basic-only")
    code, obj = run_json(capsys, monkeypatch, sim, "--url", sim.autodiscover_url, "--trace")
    assert code == 0
    first, rec = obj["trace"]
    assert first["status"] == 401
    assert ["Authorization", "Basic [redacted]"] in rec["request_headers"]


def _strip(name: str, tmp_path: Path) -> Path:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / name
    path.write_text("".join(line for line in lines if not line.startswith("#")), encoding="utf-8")
    return path


def test_parse_saved_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _strip("autodiscover_spec_4_4_mapihttp_response.xml", tmp_path)
    assert main(["autodiscover", "--parse", str(good), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["protocol"] == "mapiHttp" and obj["attempts"] == [] and obj["source"] == f"file:{good}"
    redirect = _strip("autodiscover_spec_4_2_redirectaddr_response.xml", tmp_path)
    assert main(["autodiscover", "--parse", str(redirect), "--json"]) == 1
    obj = json.loads(capsys.readouterr().out)
    assert obj["action"] == "redirectAddr" and obj["redirect_addr"] and obj["redirects"] == []
    html = tmp_path / "login.html"
    html.write_text("<html><body>Sign in</body></html>")
    assert main(["autodiscover", "--parse", str(html)]) == 2
    assert "not an Autodiscover answer" in capsys.readouterr().err
    assert main(["autodiscover", "--parse", str(tmp_path / "missing.xml")]) == 2


def test_cache_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _strip("autodiscover_spec_4_4_mapihttp_response.xml", tmp_path).rename(tmp_path / "x - Autodiscover.xml")
    assert main(["autodiscover", "--cache-dir", str(tmp_path), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert len(obj["files"]) == 1 and obj["files"][0]["answer"]["protocol"] == "mapiHttp"
    assert main(["autodiscover", "--cache-dir", str(tmp_path / "empty")]) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["autodiscover"],
        ["autodiscover", "not-an-address"],
        ["autodiscover", "a@contoso.test", "--connect-to", "a:b"],
        ["autodiscover", "a@contoso.test", "--ca-cert", "/nonexistent/ca.pem"],
        ["autodiscover", "a@contoso.test", "--dns-server", "dns.example:53"],
        ["autodiscover", "a@contoso.test", "--timeout", "0"],
        [
            "autodiscover",
            "a@contoso.test",
            "--url",
            "http://autodiscover.contoso.test/autodiscover/autodiscover.xml",
        ],
    ],
)
def test_bad_input_exits_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "mapiprobe autodiscover:" in capsys.readouterr().err


def test_empty_password_stdin_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["autodiscover", "a@contoso.test", "--password-stdin"]) == 2
    assert "no password" in capsys.readouterr().err


def test_as_a_process_with_the_password_on_stdin(sim: Simulator) -> None:
    user = sim.users[0]
    cmd = [
        sys.executable,
        "-m",
        "mapiprobe",
        "autodiscover",
        user.email,
        "--user",
        user.user,
        "--password-stdin",
        "--json",
        "--trace",
        *cli_args(sim),
    ]
    proc = subprocess.run(
        cmd, input=user.password + "\n", capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert user.password not in proc.stdout and user.password not in proc.stderr
    assert user.password not in " ".join(cmd)
    obj = json.loads(proc.stdout)
    assert obj["action"] == "settings" and obj["protocol"] == "mapiHttp"
    auth_posts = [r for r in sim.requests if r.header("Authorization")]
    assert auth_posts and all(r.scheme == "https" for r in auth_posts)
