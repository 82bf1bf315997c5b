"""``mapiprobe demo --check``: the desktop demo's flow as text (what ``bootstrap.py demo`` runs without a
display), and bootstrap's display test."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mapiprobe.cli.main import main

pytestmark = pytest.mark.network
ROOT = Path(__file__).resolve().parents[2]


def test_demo_check_runs_the_flow_against_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--check"]) == 0
    out, err = capsys.readouterr()
    assert "simulated Exchange organisation" in out
    for step in ("autodiscover", "mailbox-connect", "folders", "ab-bind", "resolve"):
        assert step in err or step in out, step
    assert "PASS" in out


def test_bootstrap_demo_knows_when_there_is_no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "installer" / "bootstrap.py")
    assert spec is not None and spec.loader is not None
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    monkeypatch.setattr(bootstrap.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not bootstrap.has_display()
    monkeypatch.setenv("DISPLAY", ":99")
    assert bootstrap.has_display()
