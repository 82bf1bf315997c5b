"""Saved Autodiscover answers (--parse) and Outlook's cache folder (--cache-dir)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mapiprobe.protocol.errors import AutodiscoverError
from mapiprobe.session.saved_answers import (
    SavedAnswerError,
    find_cached,
    outlook_cache_dir,
    parse_saved,
    read_cached,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def spec_body(name: str) -> bytes:
    """The XML of a tests/data file without its '#' citation lines."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("#")).encode("utf-8")


def test_parse_the_spec_mapihttp_example(tmp_path: Path) -> None:
    path = tmp_path / "answer.xml"
    path.write_bytes(spec_body("autodiscover_spec_4_4_mapihttp_response.xml"))
    result = parse_saved(path)
    assert result.ok and result.protocol == "mapiHttp"
    assert result.source == f"file:{path}"
    assert result.attempts == ()
    assert result.email == "user@Contoso.com"


def test_a_redirect_document_is_reported_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "redirect.xml"
    path.write_bytes(spec_body("autodiscover_spec_4_2_redirectaddr_response.xml"))
    result = parse_saved(path, email="someone@contoso.com")
    assert result.action == "redirectAddr" and not result.ok
    assert result.problem is not None and result.problem.code == "redirect-not-followed"
    assert result.response is not None and result.response.redirect_addr
    assert result.redirects == ()


def test_bad_files(tmp_path: Path) -> None:
    html = tmp_path / "login.html"
    html.write_text("<!DOCTYPE html><html><body>Sign in</body></html>")
    with pytest.raises(AutodiscoverError):
        parse_saved(html)
    with pytest.raises(SavedAnswerError):
        parse_saved(tmp_path / "missing.xml")


def test_cache_folder(tmp_path: Path) -> None:
    body = spec_body("autodiscover_spec_4_4_mapihttp_response.xml")
    (tmp_path / "16").mkdir()
    old = tmp_path / "d3f1a2b4 - Autodiscover.xml"
    old.write_bytes(body)
    new = tmp_path / "16" / "AutoD.C7E2B2A6.xml"
    new.write_bytes(body)
    (tmp_path / "16" / "AutoD.broken.xml").write_text("not xml at all <")
    (tmp_path / "other.xml").write_bytes(body)
    os.utime(old, (1_000_000, 1_000_000))
    found = find_cached(tmp_path)
    assert set(found) == {old, new, tmp_path / "16" / "AutoD.broken.xml"}
    assert found[-1] == old  # newest first
    answers = read_cached(tmp_path)
    assert sum(1 for a in answers if a.result is not None) == 2
    assert [a.error is not None for a in answers].count(True) == 1
    assert find_cached(tmp_path / "nope") == []


@pytest.mark.skipif(sys.platform == "win32", reason="the non-Windows answer")
def test_no_cache_folder_outside_windows() -> None:
    assert outlook_cache_dir() is None
