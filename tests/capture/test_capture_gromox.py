"""Opt-in: a run recorded from gromox (a real, independent server) decodes back whole, as HAR and as SAZ.

Set ``MAPIPROBE_GROMOX=https://localhost:8443`` (and ``MAPIPROBE_GROMOX_CA``, default
/work/helpers/gromox-ca.pem) to run; see /work/shared/gromox/README.md. The Inbox is read one row per
Execute, so every page after the first decodes only with the columns the session set earlier.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from mapiprobe.cli import main
from mapiprobe.protocol.capture import read_har, read_saz
from mapiprobe.protocol.capture_decode import decode_capture
from mapiprobe.transport.capturefile import records_from_capture, write_saz

GROMOX = os.environ.get("MAPIPROBE_GROMOX")
CA = os.environ.get("MAPIPROBE_GROMOX_CA", "/work/helpers/gromox-ca.pem")
MAILBOX_ID = "616c6963-6540-6578-616d-706c01000000@example.test"
LEGACY_DN = (
    "/o=Gromox default/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
    "/cn=Recipients/cn=0100000001000000-alice"
)

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        not GROMOX, reason="set MAPIPROBE_GROMOX=https://localhost:8443 to run against gromox"
    ),
]


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("AlicePass123\n"))
    common = ["--user", "alice@example.test", "--password-stdin", "--ca-cert", CA, "--timeout", "20"]
    code = main([*argv, *common])
    _, err = capsys.readouterr()
    assert code == 0, err


def test_a_gromox_run_decodes_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = str(GROMOX).rstrip("/")
    mailbox, book = tmp_path / "mailbox.har", tmp_path / "book.har"
    _run(monkeypatch, capsys, "contents", "alice@example.test", "--folder", "Inbox", "--page-size", "1",
         "--mailbox-url", f"{base}/mapi/emsmdb/?MailboxId={MAILBOX_ID}", "--legacy-dn", LEGACY_DN,
         "--save-har", str(mailbox))  # fmt: skip
    _run(monkeypatch, capsys, "gal", "alice@example.test", "--addressbook-url",
         f"{base}/mapi/nspi/?MailboxId={MAILBOX_ID}", "--save-har", str(book))  # fmt: skip
    for har in (mailbox, book):
        exchanges = list(decode_capture(read_har(io.BytesIO(har.read_bytes()))))
        mapi = [d for d in exchanges if d.kind == "mapihttp"]
        assert mapi
        for d in mapi:
            assert d.request_error is None and d.response_error is None, (d.exchange.index, d.failures)
            assert d.ok or d.failures == ["HTTP 401 Unauthorized"], d.failures
        # The same run as a SAZ decodes to the same structures.
        saz = io.BytesIO()
        write_saz(records_from_capture(read_har(io.BytesIO(har.read_bytes()))), saz)
        again = list(decode_capture(read_saz(io.BytesIO(saz.getvalue()))))
        assert [d.to_json(headers=False)["request"] for d in again if d.kind == "mapihttp"] == [
            d.to_json(headers=False)["request"] for d in mapi
        ]
        assert [d.to_json(headers=False).get("response") for d in again if d.kind == "mapihttp"] == [
            d.to_json(headers=False).get("response") for d in mapi
        ]
    text = json.dumps([d.to_json() for d in decode_capture(read_har(io.BytesIO(mailbox.read_bytes())))])
    assert text.count('"Value": "Test message') >= 3  # every Inbox row, one Execute each
    assert "AlicePass123" not in mailbox.read_text() + book.read_text()
