"""ruff (lint and format check) and mypy --strict on protocol/ run as part of the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    assert found, f"{name} is not installed; install the 'test' extra"
    return [found]


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_ruff_lint() -> None:
    res = _run([*_tool("ruff"), "check", "--no-cache", "."])
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = _run([*_tool("ruff"), "format", "--check", "--no-cache", "."])
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_protocol() -> None:
    res = _run([sys.executable, "-m", "mypy", "--no-incremental", "--config-file", "pyproject.toml"])
    assert res.returncode == 0, res.stdout + res.stderr
