"""Suite-wide settings: Qt runs offscreen; tests/hypothesis_profiles.py picks the hypothesis profile."""

from __future__ import annotations

import os

from tests import hypothesis_profiles  # noqa: F401  (registers and loads the profile)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
