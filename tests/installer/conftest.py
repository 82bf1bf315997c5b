"""Starts the Windows installer build early (see tests/installer/prebuild.py)."""

from __future__ import annotations

import pytest

from tests.installer import prebuild


def pytest_collection_finish(session: pytest.Session) -> None:
    # After -m/-k deselection: only when an installer test will run, and only where it can.
    if any(item.get_closest_marker("installer") for item in session.items) and prebuild.skip_reason() is None:
        prebuild.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    prebuild.finish()
