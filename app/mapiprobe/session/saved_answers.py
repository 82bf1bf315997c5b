"""Saved Autodiscover answers: a file a user captured, and the copies Outlook caches on Windows.

* :func:`parse_saved` reads one Autodiscover response file (MS-OXDSCLI 2.2.4) into a
  :class:`~mapiprobe.session.autodiscover.DiscoveryResult` with no attempts; a redirect document
  (``redirectAddr``/``redirectUrl``) is reported as such and never followed.
* :func:`outlook_cache_dir` is ``%LOCALAPPDATA%\\Microsoft\\Outlook`` on Windows (None elsewhere: give
  ``--cache-dir``); :func:`find_cached` lists the Autodiscover XML files Outlook keeps there and in its
  version sub-folders (``16``, ...): names ending in ``Autodiscover.xml`` or starting with ``AutoD``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from mapiprobe.protocol.autodiscover import parse_response
from mapiprobe.protocol.errors import AutodiscoverError
from mapiprobe.session.autodiscover import DiscoveryResult, Problem

MAX_FILE_SIZE = 1_048_576


class SavedAnswerError(Exception):
    """The file could not be read. (A file that is not an Autodiscover answer raises AutodiscoverError.)"""


def parse_saved(path: Path, *, email: str | None = None) -> DiscoveryResult:
    """Parse a saved Autodiscover response. Raises SavedAnswerError (unreadable) or AutodiscoverError."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_SIZE:
            raise SavedAnswerError(f"{path}: {size} bytes is too large for an Autodiscover answer")
        data = path.read_bytes()
    except OSError as exc:
        raise SavedAnswerError(f"cannot read {path}: {exc.strerror or exc}") from None
    response = parse_response(data)
    problem = None
    if response.action == "error" and response.error is not None:
        problem = Problem(
            f"autodiscover-{response.error.code}", response.error.message or response.error.meaning or ""
        )
    elif response.action in ("redirectAddr", "redirectUrl"):
        target = response.redirect_addr if response.action == "redirectAddr" else response.redirect_url
        problem = Problem("redirect-not-followed", f"the saved answer is a {response.action} to {target}")
    address = email or (response.user.autodiscover_smtp_address if response.user else None) or ""
    return DiscoveryResult(
        email=address,
        final_email=address,
        response=response,
        raw_response=response,
        url=None,
        attempts=(),
        problem=problem,
        source=f"file:{path}",
    )


def outlook_cache_dir() -> Path | None:
    """Where Outlook caches Autodiscover answers (Windows only)."""
    if sys.platform != "win32":
        return None
    base = os.environ.get("LOCALAPPDATA")
    if not base:
        return None
    return Path(base) / "Microsoft" / "Outlook"


def _is_cached_name(name: str) -> bool:
    low = name.lower()
    return low.endswith(".xml") and (low.endswith("autodiscover.xml") or low.startswith("autod"))


def find_cached(directory: Path) -> list[Path]:
    """Autodiscover XML files in ``directory`` and its direct sub-folders, newest first."""
    found: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    for entry in entries:
        try:
            if entry.is_file() and _is_cached_name(entry.name):
                found.append(entry)
            elif entry.is_dir():
                found += [p for p in entry.iterdir() if p.is_file() and _is_cached_name(p.name)]
        except OSError:
            continue

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(found, key=mtime, reverse=True)


@dataclass(frozen=True)
class CachedAnswer:
    path: Path
    result: DiscoveryResult | None
    error: str | None


def read_cached(directory: Path) -> list[CachedAnswer]:
    """Parse every cached Autodiscover file of ``directory``; a bad file is listed with its error."""
    out: list[CachedAnswer] = []
    for path in find_cached(directory):
        try:
            out.append(CachedAnswer(path, parse_saved(path), None))
        except (SavedAnswerError, AutodiscoverError) as exc:
            out.append(CachedAnswer(path, None, str(exc)))
    return out


__all__ = [
    "CachedAnswer",
    "SavedAnswerError",
    "find_cached",
    "outlook_cache_dir",
    "parse_saved",
    "read_cached",
]
