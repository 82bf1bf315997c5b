#!/usr/bin/env python3
"""One-command setup: ``demo`` installs and starts the app, ``test`` installs and runs all tests.

Usage (from the repository root)::

    python3 installer/bootstrap.py demo     # Windows: py installer\\bootstrap.py demo
    python3 installer/bootstrap.py test

Only the standard library is used here. The script creates ``.venv`` beside ``pyproject.toml`` (reused when
it is already there), installs mapiprobe into it in editable mode (``test`` adds the ``test`` extra), and runs
the app or the test suite with that interpreter. On Debian/Ubuntu, whose Python ships without ``ensurepip``
unless ``python3-venv`` is installed, the virtual environment is created without pip and pip is installed into
it from its wheel on PyPI. When run as root on Debian/Ubuntu, ``test`` installs the system libraries Qt needs
(``apt-get``); otherwise it names the packages to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)

# Shared libraries the PySide6 wheels load (offscreen and xcb platforms), Xvfb for screenshots, the MIT
# Kerberos KDC and headers the Kerberos tests use, and the tools that build and test the Windows installers.
APT_PACKAGES = [
    "libgl1",
    "libegl1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libfontconfig1",
    "libfreetype6",
    "libdbus-1-3",
    "libglib2.0-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-image0",
    "libxcb-xkb1",
    "xvfb",
    # The Kerberos tests (tests/kerberos) run a real MIT KDC; python-gssapi builds against libkrb5-dev.
    "krb5-kdc",
    "krb5-admin-server",
    "krb5-user",
    "libkrb5-dev",
    # The diagnosis report is opened in a real browser by tests/diagnostics/test_report_browser.py.
    "chromium",
    # The Windows installers (installer/build.py) and their test under Wine (tests/installer): NSIS and wixl
    # build them, Wine 64-bit runs them, mingw-w64 builds the test's stand-in DLLs.
    "nsis",
    "wixl",
    "wine",
    "wine64",
    "gcc-mingw-w64-x86-64-win32",
]


def log(msg: str) -> None:
    print(f"[bootstrap] {msg}", flush=True)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def run(cmd: list[str], **kw: object) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def ensure_venv() -> Path:
    py = venv_python()
    if (
        py.exists()
        and subprocess.run([str(py), "-m", "pip", "--version"], capture_output=True).returncode == 0
    ):
        return py
    log(f"creating virtual environment {VENV}")
    res = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if res.returncode != 0:
        # Debian/Ubuntu without python3-venv: no ensurepip. Make the venv without pip, then add pip
        # from its wheel on PyPI (a wheel of pip can run itself: python pip.whl/pip install ...).
        log("venv with pip failed (no ensurepip?); creating it without pip and installing pip from PyPI")
        shutil.rmtree(VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", "--without-pip", str(VENV)])
        install_pip_from_pypi(py)
    return py


def install_pip_from_pypi(py: Path) -> None:
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as resp:
        meta = json.load(resp)
    wheel = next(u for u in meta["urls"] if u["packagetype"] == "bdist_wheel")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as resp, open(target, "wb") as out:
            shutil.copyfileobj(resp, out)
        run([str(py), str(target / "pip"), "install", "--no-cache-dir", str(target)])


def ensure_qt_system_libs() -> None:
    if not sys.platform.startswith("linux") or not shutil.which("apt-get") or not shutil.which("dpkg-query"):
        return
    missing = [
        p
        for p in APT_PACKAGES
        if subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True
        ).stdout.strip()
        != "install ok installed"
    ]
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
    else:
        log("Qt needs these system packages; install them with:")
        log("  sudo apt-get install -y " + " ".join(missing))


def has_display() -> bool:
    """Can a window open? Windows and macOS: yes; elsewhere an X11 or Wayland display must be named."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def install(py: Path, extra: str | None) -> None:
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target])


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        log(f"Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer is needed; this is {sys.version.split()[0]}")
        return 2
    if len(argv) < 1 or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    what, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    py = ensure_venv()
    if what == "demo":
        ensure_qt_system_libs()
        install(py, None)
        if has_display():
            log("opening the mapiprobe window with the simulated organisation (close it to end the demo)")
            return subprocess.run([str(py), "-m", "mapiprobe.gui.app", "--demo", *rest]).returncode
        log("no display here (neither DISPLAY nor WAYLAND_DISPLAY is set): the window cannot open, so the")
        log("same flow runs as text: the simulated organisation in-process and 'mapiprobe check' against it")
        return subprocess.run([str(py), "-m", "mapiprobe", "demo", "--check", *rest]).returncode
    ensure_qt_system_libs()
    # python-gssapi (the "kerberos" extra) builds against the MIT headers; install it where they are.
    install(py, "test,kerberos" if shutil.which("krb5-config") else "test")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.run([str(py), "-m", "pytest", *rest], env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
