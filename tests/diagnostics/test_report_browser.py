"""The HTML report of a healthy and of a failing run, opened in a real headless Chromium (Debian's package,
installed by installer/bootstrap.py): it renders without a console message and shows the verdict."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mapiprobe.diagnostics.pipeline import DiagnosisOptions, DiagnosisResult, diagnose
from mapiprobe.diagnostics.report import render_html
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials, Secret
from tests.session.simhelp import connection

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (installer/bootstrap.py installs Debian's package)"
)


def open_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The rendered DOM and the console messages of ``page`` (file://) in headless Chromium."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def _result(sim: Simulator, scenario: str) -> DiagnosisResult:
    sim.set_scenario(scenario)
    sim.auth.offer("*", ("Negotiate", "NTLM"))
    user = sim.users[0]
    return diagnose(
        user.email,
        DiagnosisOptions(
            connection=connection(sim, timeout=5.0),
            credentials=Credentials(user=user.email, password=Secret(user.password)),
            slow_request_s=30.0,  # a loaded machine must not turn the healthy run into "the server stalls"
        ),
    )


@pytest.mark.parametrize(("scenario", "verdict"), [("normal", "pass"), ("cert-wrong-name", "fail")])
def test_report_renders_without_console_errors(
    sim: Simulator, tmp_path: Path, scenario: str, verdict: str
) -> None:
    result = _result(sim, scenario)
    assert result.result == verdict
    page = tmp_path / "report.html"
    page.write_text(render_html(result), encoding="utf-8")
    dom, console = open_in_chromium(page, tmp_path / "profile")
    assert console == []
    assert f'data-result="{verdict}"' in dom
    assert re.search(rf'id="verdict"[^>]*>\s*<b>{verdict.upper()}</b>', dom)
    assert "<svg" in dom and dom.count('data-step="') == len(result.steps)
    if verdict == "fail":
        first = result.first_failure
        assert first is not None and first.id == "tls"
        assert 'id="first-problem"' in dom and "does not name mail.contoso.test" in dom


def test_the_harness_sees_console_errors(sim: Simulator, tmp_path: Path) -> None:
    """The check above is not blind: a page with a script (blocked by the report's policy) is caught."""
    html = render_html(_result(sim, "normal")).replace("</body>", "<script>console.log(1)</script></body>")
    page = tmp_path / "bad.html"
    page.write_text(html, encoding="utf-8")
    _dom, console = open_in_chromium(page, tmp_path / "profile")
    assert console and "Content Security Policy" in console[0]
