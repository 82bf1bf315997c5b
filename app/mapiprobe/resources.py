"""Locate the data files under the repository's ``resources/`` folder.

In a checkout (and an editable install) they live at ``<repo>/resources``; a wheel carries them as
``mapiprobe/_resources`` (see ``pyproject.toml``); a frozen Windows build sets ``MAPIPROBE_RESOURCES``.
"""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    env = os.environ.get("MAPIPROBE_RESOURCES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here / "_resources", here.parent.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("mapiprobe's resources folder was not found")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
