"""The guard of gui/_none_guard.py: with it, more void Qt calls than None had references do not abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import mapiprobe.gui  # installs the guard
from PySide6.QtCore import QModelIndex
index = QModelIndex()
for _ in range(200_000):  # more calls than None has references without the guard (about 30,000 here)
    index.data()
print("survived")
"""


def test_many_void_calls_do_not_abort() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "survived"
