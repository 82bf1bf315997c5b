"""The opt-in tests against the real gromox server (/work/shared/gromox/README.md): where it is and its test
account. Set ``MAPIPROBE_GROMOX=https://localhost:8443`` (and ``MAPIPROBE_GROMOX_CA`` when its CA is not
/work/helpers/gromox-ca.pem) to run them; without, :data:`needs_gromox` skips them."""

from __future__ import annotations

import os

import pytest

GROMOX = os.environ.get("MAPIPROBE_GROMOX")
GROMOX_CA = os.environ.get("MAPIPROBE_GROMOX_CA", "/work/helpers/gromox-ca.pem")
GROMOX_HOST = GROMOX.split("//", 1)[1].rstrip("/") if GROMOX else ""
"""host[:port] of :data:`GROMOX` (its RPC proxy)."""

ALICE = "alice@example.test"
ALICE_PASSWORD = "AlicePass123"
ALICE_DN = (
    "/o=Gromox default/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
    "/cn=Recipients/cn=0100000001000000-alice"
)
ALICE_MAILBOX = "616c6963-6540-6578-616d-706c01000000@example.test"
"""Alice's mailbox GUID@domain: the MailboxId of her MAPI/HTTP URLs and her RPC server."""

needs_gromox = pytest.mark.skipif(
    not GROMOX, reason="set MAPIPROBE_GROMOX=https://localhost:8443 to run against gromox"
)
