"""Suite-wide settings: Qt runs offscreen; tests/hypothesis_profiles.py picks the hypothesis profile;
Kerberos looks no KDC up in DNS (tests/data/krb5_no_kdc.conf says why)."""

from __future__ import annotations

import os
from pathlib import Path

from tests import hypothesis_profiles  # noqa: F401  (registers and loads the profile)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KRB5_CONFIG", str(Path(__file__).resolve().parent / "data" / "krb5_no_kdc.conf"))
