"""Suite-wide settings: Qt runs offscreen; tests/hypothesis_profiles.py picks the hypothesis profile."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests import hypothesis_profiles  # noqa: F401  (registers and loads the profile)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Negotiate with a password asks Kerberos first, and libkrb5 looks for the realm's KDC in DNS. The simulated
# realms (CONTOSO.TEST...) have no KDC and this machine's resolver may not answer: such a lookup stalled a
# handshake 5 s now and then, and the transport's time limits then failed the exchange. No DNS lookups for
# KDCs in tests; tests/kerberos points the process at its own KDC (and back) itself.
if "KRB5_CONFIG" not in os.environ:
    _KRB5 = Path(tempfile.gettempdir()) / "mapiprobe-tests-krb5.conf"
    _KRB5.write_text(
        "[libdefaults]\n\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n\trdns = false\n",
        encoding="utf-8",
    )
    os.environ["KRB5_CONFIG"] = str(_KRB5)
