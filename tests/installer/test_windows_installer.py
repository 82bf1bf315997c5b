"""The Windows installers, built from this checkout and proven under Wine.

``installer/build.py`` builds ``mapiprobe-<version>-setup.exe`` (NSIS, per user) and
``mapiprobe-<version>.msi`` (wixl, per machine). This module installs each silently into a throwaway
64-bit Wine prefix, checks what is on disk (every file against the build's manifest, the Start-menu
shortcut, the Add/Remove Programs entry in the prefix's registry files), runs the installed Windows build
of mapiprobe (``--version``, ``decode`` of the installed sample, ``folders`` against the simulator running
on the Linux side, which proves TLS and httpx in the Windows build, and the GUI offscreen), uninstalls
silently and checks nothing is left.

Wine 8.0 (Debian 12) lacks a few things Windows 10 has; the prefix gets stand-ins built here with mingw-w64
from ``tests/installer/standins/`` (never shipped): ``bcryptprimitives.dll`` (ProcessPrng),
``icuuc.dll`` (ICU converters) and ``mscms.dll`` (colour profiles). Python's ``_wmi.pyd`` is moved aside in
the installed copy while the app runs (Wine's WMI aborts in ``platform.win32_ver``) and put back before the
uninstall. Wine drops ``QT_*`` variables coming from Linux (``cmd`` sets ``QT_QPA_PLATFORM=offscreen`` on the
Windows side for the GUI), and a Windows Python's stdout must be a pipe, never a file.

The build starts in the background when collection ends (tests/installer/prebuild.py) and is cached
(``~/.cache/mapiprobe-installer`` or ``$MAPIPROBE_INSTALLER_CACHE``): a second run with unchanged inputs
reuses the installers. The tests run in file order (each step needs the one before).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mapiprobe import __version__
from mapiprobe.simulator import SCENARIOS, Simulator
from tests.installer import prebuild

pytestmark = [pytest.mark.installer, pytest.mark.slow, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
UNINSTALL_KEY = r"Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
EXECUTE_COLUMNS = "0x3001001F,0x67480014,0x36020003,0x36030003,0x360A000B,0x3613001F"
GCC = ["x86_64-w64-mingw32-gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-s"]
TIMINGS: dict[str, float] = {}


@dataclass
class Wine:
    prefix: Path
    env: dict[str, str]

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        # stdout and stderr are pipes: a Windows Python cannot write to a plain file under Wine 8.0.
        res = subprocess.run(
            ["wine", *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=self.env,
            timeout=timeout,
        )
        if check and res.returncode != 0:
            raise AssertionError(
                f"wine {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
            )
        return res

    def settle(self) -> None:
        """Wait until the prefix's wineserver has written the registry files and exited."""
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=120, check=True)

    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    def user_dir(self) -> Path:
        users = [p for p in (self.drive_c() / "users").iterdir() if p.name.lower() != "public"]
        assert len(users) == 1, users
        return users[0]

    def registry(self, hive: str) -> str:
        return (self.prefix / hive).read_text(encoding="utf-8", errors="replace")


def windows_path(path: Path) -> str:
    """A Linux path as the Windows programs in the prefix see it (Wine maps Z: to /)."""
    return "Z:" + str(path).replace("/", "\\")


def reg_section(reg_text: str, key: str) -> dict[str, str] | None:
    """The values of ``[key]`` in a Wine registry file (user.reg / system.reg), or None without the key."""
    m = re.search(r"^\[" + re.escape(key) + r"\] \d+\n(.*?)(?:\n\n|\Z)", reg_text, re.MULTILINE | re.DOTALL)
    if not m:
        return None
    values: dict[str, str] = {}
    for line in m.group(1).splitlines():
        vm = re.match(r'^"((?:[^"\\]|\\.)*)"=(.*)$', line)
        if vm:
            raw = vm.group(2)
            if raw.startswith('"'):
                raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            values[vm.group(1)] = raw
    return values


def manifest(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        out[rel] = digest
    return out


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@dataclass
class Built:
    setup: Path
    msi: Path
    manifest: dict[str, str]


@pytest.fixture(scope="module")
def built() -> Built:
    reason = prebuild.skip_reason()
    if reason:
        pytest.skip(reason)
    # Started when collection ended (conftest.py); this waits for what is left of it.
    build = prebuild.start()
    waited = time.monotonic()
    code, output = build.wait(timeout=600)
    TIMINGS["build (or reuse), in the background"] = time.monotonic() - build.started
    TIMINGS["waited for the build"] = time.monotonic() - waited
    assert code == 0, output
    out = build.out
    setup = out / f"mapiprobe-{__version__}-setup.exe"
    msi = out / f"mapiprobe-{__version__}.msi"
    assert setup.is_file() and msi.is_file(), output
    # The NSIS installer is a 64-bit PE (a 32-bit one does not start under a 64-bit-only Wine).
    data = setup.read_bytes()
    pe = int.from_bytes(data[0x3C:0x40], "little")
    assert data[:2] == b"MZ" and data[pe : pe + 4] == b"PE\0\0"
    assert int.from_bytes(data[pe + 4 : pe + 6], "little") == 0x8664, "the setup is not an amd64 executable"
    # An MSI is an OLE compound file.
    assert msi.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    return Built(setup, msi, manifest(out / f"mapiprobe-{__version__}-files.txt"))


@pytest.fixture(scope="module")
def wine(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    base = tmp_path_factory.mktemp("wine")
    prefix = base / "prefix"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WINE", "DISPLAY", "WAYLAND"))}
    env.update(
        WINEPREFIX=str(prefix),
        WINEARCH="win64",
        WINEDEBUG="-all",
        # No Mono/Gecko download prompts; our mscms.dll stand-in before Wine's own.
        WINEDLLOVERRIDES="mscoree,mshtml=;mscms=n",
    )
    w = Wine(prefix, env)
    started = time.monotonic()
    subprocess.run(["wine", "wineboot", "-i"], env=env, capture_output=True, timeout=180, check=True)
    system32 = w.drive_c() / "windows" / "system32"
    assert system32.is_dir(), "wineboot made no 64-bit prefix"
    for source in sorted(STANDINS.glob("*.c")):
        libs = ["-lbcrypt"] if source.stem == "bcryptprimitives" else []
        subprocess.run(
            [*GCC, "-o", str(system32 / f"{source.stem}.dll"), str(source), *libs],
            check=True,
            timeout=60,
        )
    TIMINGS["prefix"] = time.monotonic() - started
    try:
        yield w
    finally:
        subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=60)
        print("\ninstaller timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items()))


@dataclass
class Installed:
    wine: Wine
    root: Path  # the install folder, on the Linux side
    win_root: str  # the same, as the Windows side names it
    aside: Path  # _wmi.pyd while the app runs

    def cli(
        self, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return self.wine.run(
            "cmd", "/c", self.win_root + "\\mapiprobe.cmd", *args, stdin=stdin, timeout=timeout
        )

    def python(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.wine.run(self.win_root + "\\python.exe", *args, timeout=timeout)

    def put_back(self) -> None:
        if self.aside.exists():
            self.aside.rename(self.root / "_wmi.pyd")


def set_wmi_aside(root: Path) -> Path:
    aside = root.parent / "_wmi.pyd.aside"
    (root / "_wmi.pyd").rename(aside)
    return aside


def check_payload(installed: Installed, built: Built, extra: set[str]) -> None:
    """Exactly the build's files (plus ``extra``) are installed, and a few of them byte for byte."""
    on_disk = files_under(installed.root)
    if installed.aside.exists():
        on_disk.add("_wmi.pyd")
    expected = set(built.manifest) | extra
    missing, unexpected = sorted(expected - on_disk), sorted(on_disk - expected)
    assert not missing and not unexpected, f"missing: {missing[:10]}, unexpected: {unexpected[:10]}"
    for rel in (
        "python.exe",
        "python313._pth",
        "mapiprobe.cmd",
        "app/mapiprobe/__init__.py",
        "mapiprobe.ico",
    ):
        digest = hashlib.sha256((installed.root / rel).read_bytes()).hexdigest()
        assert digest == built.manifest[rel], rel


def check_shortcut(lnk: Path, target_dir: str) -> None:
    assert lnk.is_file(), f"no Start-menu shortcut at {lnk}"
    data = lnk.read_bytes()
    assert data[:4] == b"\x4c\x00\x00\x00", "not a shell link"
    text = data.decode("latin-1") + data.decode("utf-16-le", errors="replace")
    assert (target_dir + "\\pythonw.exe").lower() in text.lower(), "the shortcut does not start pythonw.exe"
    assert "-m mapiprobe.gui.app" in text, "the shortcut does not start the GUI"


# --- the per-user NSIS installer -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nsis(wine: Wine, built: Built) -> Iterator[Installed]:
    started = time.monotonic()
    wine.run(str(built.setup), "/S", timeout=300)
    wine.settle()
    TIMINGS["nsis install"] = time.monotonic() - started
    root = wine.user_dir() / "AppData" / "Local" / "Programs" / "mapiprobe"
    # Wine exits 0 even when it could not start the installer: the files are what counts.
    assert (root / "python.exe").is_file(), f"nothing installed under {root}"
    installed = Installed(
        wine,
        root,
        r"C:\users" + "\\" + wine.user_dir().name + r"\AppData\Local\Programs\mapiprobe",
        set_wmi_aside(root),
    )
    yield installed
    installed.put_back()


def test_nsis_installs_payload_shortcut_and_uninstall_entry(nsis: Installed, built: Built) -> None:
    check_payload(nsis, built, {"uninstall.exe"})
    pth = (nsis.root / "python313._pth").read_text()
    assert "Lib\\site-packages" in pth and "import site" in pth.splitlines()
    lnk = nsis.wine.user_dir() / "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/mapiprobe.lnk"
    check_shortcut(lnk, nsis.win_root)
    entry = reg_section(nsis.wine.registry("user.reg"), UNINSTALL_KEY + r"\\mapiprobe")
    assert entry is not None, "no Add/Remove Programs entry under HKCU"
    assert entry["DisplayName"] == "mapiprobe"
    assert entry["DisplayVersion"] == __version__
    assert entry["Publisher"] == "mapiprobe developers"
    assert entry["InstallLocation"] == nsis.win_root
    assert entry["QuietUninstallString"] == f'"{nsis.win_root}\\uninstall.exe" /S'
    assert entry["UninstallString"] == f'"{nsis.win_root}\\uninstall.exe"'
    size_kb = int(entry["EstimatedSize"].split(":")[1], 16)
    payload_kb = sum(p.stat().st_size for p in nsis.root.rglob("*") if p.is_file()) // 1024
    assert payload_kb * 0.9 < size_kb < payload_kb * 1.1, (size_kb, payload_kb)


def test_installed_cli_version(nsis: Installed) -> None:
    started = time.monotonic()
    res = nsis.cli("--version")
    TIMINGS["cli --version (first start)"] = time.monotonic() - started
    assert res.stdout.strip() == f"mapiprobe {__version__}", res.stdout + res.stderr


def test_installed_cli_decodes_the_installed_sample(nsis: Installed) -> None:
    sample = nsis.win_root + r"\resources\samples\execute-response.hex"
    res = nsis.cli(
        "decode",
        "mapihttp-response",
        "--request-type",
        "Execute",
        "--columns",
        EXECUTE_COLUMNS,
        "--file",
        sample,
        "--json",
    )
    windows = json.loads(res.stdout)
    # The same bytes decoded by this checkout on Linux: the Windows build must agree field for field.
    linux = subprocess.run(
        [
            sys.executable,
            "-m",
            "mapiprobe",
            "decode",
            "mapihttp-response",
            "--request-type",
            "Execute",
            "--columns",
            EXECUTE_COLUMNS,
            "--file",
            str(ROOT / "resources/samples/execute-response.hex"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "app")),
    )
    assert windows["ok"] is True
    assert windows == json.loads(linux.stdout)


def test_installed_cli_lists_folders_from_the_simulator(nsis: Installed) -> None:
    # TLS (the simulator's own CA), httpx, the Basic logon and the MAPI/HTTP mailbox session, in the Windows
    # build, against the simulator on the Linux side of 127.0.0.1.
    # basic-only: the Windows build's automatic choice of scheme lands on Basic (no SSPI under Wine).
    scenario = "basic-only" if "basic-only" in SCENARIOS else "normal"
    with Simulator() as sim:
        sim.set_scenario(scenario)
        user = sim.users[0]
        args = ["folders", user.email, "--user", user.user, "--password-stdin", "--json"]
        if scenario == "normal":
            args += ["--auth", "basic"]
        for rule in sim.connect_to:
            args += ["--connect-to", rule]
        args += [
            "--ca-cert",
            windows_path(Path(sim.ca_cert_path)),
            "--dns-server",
            f"127.0.0.1:{sim.dns_port}",
        ]
        args += ["--timeout", "20"]
        started = time.monotonic()
        res = nsis.cli(*args, stdin=user.password + "\n", timeout=180)
        TIMINGS["cli folders"] = time.monotonic() - started
        assert user.password not in res.stdout + res.stderr
        assert not sim.errors, sim.errors
        tls_requests = [r for r in sim.requests if r.scheme == "https" and "/mapi/emsmdb" in r.path]
    folders = json.loads(res.stdout)
    names = {f["display_name"] for f in folders}
    assert "Inbox" in names, names
    assert all(isinstance(f["content_count"], int) for f in folders)
    assert tls_requests, "the Windows build never reached the mailbox endpoint over HTTPS"


def test_installed_gui_shows_its_main_window(nsis: Installed) -> None:
    started = time.monotonic()
    # Wine does not pass QT_* variables on from Linux, so cmd sets the platform on the Windows side (the
    # GUI's own options do not take Qt's -platform).
    assert " " not in nsis.win_root
    command = f"set QT_QPA_PLATFORM=offscreen&& {nsis.win_root}\\python.exe -m mapiprobe.gui.app --self-test"
    res = nsis.wine.run("cmd", "/c", command, timeout=180, check=False)
    TIMINGS["gui self-test"] = time.monotonic() - started
    assert res.returncode == 0, res.stdout + res.stderr
    # The title holds an en dash, which a Windows Python writes to a pipe in the ANSI code page.
    assert re.search(r"^main window shown: mapiprobe .+ \d+x\d+\r?$", res.stdout, re.MULTILINE), (
        res.stdout + res.stderr
    )


def test_nsis_uninstall_leaves_nothing(nsis: Installed) -> None:
    nsis.put_back()
    cache = nsis.wine.user_dir() / "AppData" / "Local" / "mapiprobe"
    assert (cache / "Cache" / "pycache").is_dir(), (
        "the app wrote no bytecode cache (00-mapiprobe-pycache.pth)"
    )
    started = time.monotonic()
    # What Add/Remove Programs runs for a silent removal (QuietUninstallString).
    nsis.wine.run(nsis.win_root + "\\uninstall.exe", "/S", timeout=300)
    nsis.wine.settle()
    TIMINGS["nsis uninstall"] = time.monotonic() - started
    assert not nsis.root.exists(), f"left behind: {sorted(files_under(nsis.root))[:10]}"
    # Only the user's own log may stay (kept on purpose, like the settings in %APPDATA%; see the docs).
    left = sorted(p for p in files_under(cache) if not p.startswith("Logs/")) if cache.exists() else []
    assert not left, f"left behind in {cache}: {left[:10]}"
    assert not (cache / "Cache").exists()
    lnk = nsis.wine.user_dir() / "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/mapiprobe.lnk"
    assert not lnk.exists()
    assert reg_section(nsis.wine.registry("user.reg"), UNINSTALL_KEY + r"\\mapiprobe") is None


# --- the per-machine MSI ---------------------------------------------------------------------------------


def test_msi_installs_per_machine_and_removes_cleanly(wine: Wine, built: Built) -> None:
    started = time.monotonic()
    wine.run("msiexec", "/i", windows_path(built.msi), "/qn", timeout=300)
    wine.settle()
    TIMINGS["msi install"] = time.monotonic() - started
    root = wine.drive_c() / "Program Files" / "mapiprobe"
    assert (root / "python.exe").is_file(), "the MSI installed nothing under Program Files"
    # The Start menu of all users on Windows (InstallScope perMachine sets ALLUSERS=1); Wine 8.0's msi
    # resolves ProgramMenuFolder to the installing user's Start menu whatever ALLUSERS says.
    menus = [
        wine.drive_c() / "ProgramData/Microsoft/Windows/Start Menu/Programs/mapiprobe.lnk",
        wine.user_dir() / "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/mapiprobe.lnk",
    ]
    lnk = next((m for m in menus if m.exists()), menus[0])
    check_shortcut(lnk, r"C:\Program Files\mapiprobe")
    system = wine.registry("system.reg")
    products = re.findall(r"^\[" + re.escape(UNINSTALL_KEY) + r"\\\\(\{[0-9A-F-]+\})\]", system, re.MULTILINE)
    entries = [reg_section(system, UNINSTALL_KEY + "\\\\" + p) or {} for p in products]
    ours = [e for e in entries if e.get("DisplayName") == "mapiprobe"]
    assert len(ours) == 1, entries
    assert ours[0].get("DisplayVersion") == __version__

    installed = Installed(wine, root, r"C:\Program Files\mapiprobe", set_wmi_aside(root))
    try:
        check_payload(installed, built, set())
        res = installed.cli("--version")
        assert res.stdout.strip() == f"mapiprobe {__version__}", res.stdout + res.stderr
    finally:
        installed.put_back()

    started = time.monotonic()
    wine.run("msiexec", "/x", windows_path(built.msi), "/qn", timeout=300)
    wine.settle()
    TIMINGS["msi uninstall"] = time.monotonic() - started
    assert not root.exists(), f"left behind: {sorted(files_under(root))[:10]}"
    assert not lnk.exists()
    system = wine.registry("system.reg")
    assert not [p for p in products if reg_section(system, UNINSTALL_KEY + "\\\\" + p)], "ARP entry left"
