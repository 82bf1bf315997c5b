"""Start ``installer/build.py`` in the background as soon as pytest knows the Wine test will run.

The build (mostly makensis' LZMA, single-threaded) takes two to four minutes on a 2-core machine; the rest of
the suite keeps about one core busy. Started when collection ends, at the lowest CPU priority, the build
runs beside the tests collected before tests/installer, and the Wine test's ``built`` fixture only waits for
what is left. Nothing starts when no ``installer`` test is selected (``-m "not installer"``) or when the
tools are missing (the test then skips with the reason).
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {
    "wine": "wine",
    "wineserver": "wine",
    "makensis": "nsis",
    "wixl": "wixl",
    "x86_64-w64-mingw32-gcc": "gcc-mingw-w64-x86-64-win32",
}


def skip_reason() -> str | None:
    """Why the Wine test cannot run here, or None."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        here = f"{sys.platform}/{platform.machine()}"
        return f"64-bit Wine runs the Windows build on x86-64 Linux only, not on {here}"
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        return (
            "Wine and the Windows build tools are not installed and could not be here "
            "(installer/bootstrap.py installs them when run as root on Debian): "
            f"apt-get install {' '.join(missing)}"
        )
    return None


@dataclass
class Build:
    proc: subprocess.Popen[bytes]
    folder: Path
    log: IO[bytes]
    started: float

    @property
    def out(self) -> Path:
        return self.folder / "dist"

    def wait(self, timeout: float) -> tuple[int, str]:
        """The build's exit status and its output (the end of it)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            code = -1
        self.log.flush()
        text = (self.folder / "build.log").read_text(encoding="utf-8", errors="replace")
        return code, text[-6000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Its own process group: makensis and wixl go with it.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


_current: Build | None = None


def start() -> Build:
    """Start the build (once per session); later calls return the running or finished one."""
    global _current
    if _current is None:
        folder = Path(tempfile.mkdtemp(prefix="mapiprobe-installers-"))
        log = open(folder / "build.log", "wb")  # noqa: SIM115  (closed in finish())
        build_py = str(ROOT / "installer" / "build.py")
        cmd = [sys.executable, build_py, "--out", str(folder / "dist"), "--work", str(folder / "work")]
        if shutil.which("nice"):
            cmd = ["nice", "-n", "19", *cmd]
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        _current = Build(proc, folder, log, time.monotonic())
    return _current


def finish() -> None:
    """End of the session: stop a build nobody waited for and remove its folder."""
    global _current
    if _current is not None:
        _current.stop()
        _current.log.close()
        shutil.rmtree(_current.folder, ignore_errors=True)
        _current = None
