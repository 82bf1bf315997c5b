"""No secret in any trace, log or report: passwords, bearer tokens, NTLM messages, cookie values.

How everything produced by the suite is seen:

* At import (collection, before any test runs) this module wraps :meth:`Trace.add` so that every
  :class:`TraceRecord` any test produces is kept, adds a handler to the root logger that keeps every log
  record that is emitted, and watches the simulator's ``Set-Cookie`` headers to learn the cookie values it
  hands out (the secrets to look for besides the demo passwords and tokens).
* Records are scanned with their bodies (:attr:`TraceRecord.request_body`/``response_body``): as
  latin-1 and UTF-16LE text, and what the client sent for the raw ``NTLMSSP`` signature too
  (:func:`_record_texts` says why a server's bytes are not).
* :func:`test_the_suite_so_far_leaked_nothing` scans what the tests before it produced and registers a small
  plugin that scans again after each later test (its new trace and log records and its captured output,
  ``report.sections``) and marks that test failed if anything leaked.
* :func:`test_every_command_and_scheme_leaks_nothing` produces traces, logs (root at DEBUG) and reports of its
  own: every network command, every scheme (Basic, NTLM, Negotiate, Bearer), wrong passwords, ``--trace``,
  ``--json``, ``-v``, the probe, ``--save-har`` (the HAR file is scanned) and ``--save-password`` into an
  in-memory keyring.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from mapiprobe.cli import main
from mapiprobe.simulator import Simulator, web
from mapiprobe.simulator.auth import demo_token
from mapiprobe.simulator.org import load_organisation
from mapiprobe.transport.trace import Trace, TraceRecord

# -- what is collected, from import time on ---------------------------------------------------------------

_LOCK = threading.Lock()
_RECORDS: list[TraceRecord] = []
_LOGS: list[str] = []
_COOKIES: set[str] = set()

_original_add = Trace.add


def _kept_add(self: Trace, record: TraceRecord) -> None:
    with _LOCK:
        _RECORDS.append(record)
    _original_add(self, record)


Trace.add = _kept_add  # type: ignore[method-assign]


class _KeepLogs(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        with _LOCK:
            _LOGS.append(f"{record.name}: {text}")


_HANDLER = _KeepLogs(level=logging.DEBUG)
logging.getLogger().addHandler(_HANDLER)

_original_send_header = web._RequestHandler.send_header


def _watch_send_header(self: Any, keyword: str, value: str) -> None:
    if keyword.lower() == "set-cookie":
        cookie = value.split(";", 1)[0].partition("=")[2].strip()
        if len(cookie) >= 8:
            with _LOCK:
                _COOKIES.add(cookie)
    _original_send_header(self, keyword, value)


web._RequestHandler.send_header = _watch_send_header  # type: ignore[method-assign]

# -- what counts as a leak --------------------------------------------------------------------------------

ORG = load_organisation()
TEST_SECRETS = {
    "Pa55-w0rd!sekrit",  # tests/transport/test_auth.py
    "Kr3d-Store!pw",  # tests/transport/test_credentials.py
    "Token-File-S3cret-42",  # below
}
NTLM_B64 = "TlRMTVNTUA"  # base64 of b"NTLMSSP\0": the start of every NTLM message
_TOKEN_AFTER_SCHEME = re.compile(
    r"\b(?:NTLM|Negotiate|Bearer|Basic)\s+(?!\[redacted\])([A-Za-z0-9+/]{16,}={0,2})"
)


def secrets() -> set[str]:
    found = set(TEST_SECRETS)
    for user in ORG.users:
        found.add(user.password)
        found.add(demo_token(ORG, user))
        found.add(base64.b64encode(f"{user.user}:{user.password}".encode()).decode())
    with _LOCK:
        found |= _COOKIES
    return found


def leaks_in(text: str, known: set[str], *, ntlm: bool = True) -> list[str]:
    """Secrets in ``text``; ``ntlm`` False skips the bare NTLM-signature check (for what a server sent)."""
    problems = [f"secret {s[:3]}…{s[-2:]} ({len(s)} chars)" for s in known if s and s in text]
    if ntlm and NTLM_B64 in text:
        problems.append("an NTLM message (base64 of NTLMSSP)")
    for match in _TOKEN_AFTER_SCHEME.finditer(text):
        problems.append(f"an unredacted authorization token after {match.group(0).split()[0]}")
    return problems


def _body_text(body: bytes | None) -> str:
    """A body as latin-1 text (every byte one character, so a secret in ASCII or UTF-8 shows as it is) and as
    UTF-16LE text (MAPI strings)."""
    if not body:
        return ""
    return "\n" + body.decode("latin-1") + "\n" + body.decode("utf-16-le", "replace")


def _record_texts(rec: TraceRecord) -> tuple[str, str]:
    """(what the client sent, everything else) of a record, bodies included.

    Every part is checked for the known secrets and for a credential after a scheme name ("NTLM TlRM...").
    The bare NTLM signature (base64 or raw) is looked for only in what the client sent, the request headers
    and body, where our NTLM messages travel: elsewhere a record holds bytes and text a server chose (response
    headers and body, X-ResponseCode, error messages that quote the server), which may hold anything. The
    MAPI/HTTP fuzz test's answers are drawn by hypothesis, which mixes in constants of the loaded modules,
    such as b"NTLMSSP\0..." and "TlRMTVNTUA" from the auth tests; a server that echoes our Authorization
    header does so after its scheme name, and that is still caught.
    """
    fields = dataclasses.asdict(rec)
    fields.pop("tls_certificate_der", None)
    request_body, response_body = fields.pop("request_body", None), fields.pop("response_body", None)
    ours = json.dumps(fields.pop("request_headers", ()), default=str) + _body_text(request_body)
    if request_body and b"NTLMSSP\0" in request_body:
        ours += "\n" + NTLM_B64
    theirs = json.dumps(fields, default=str) + _body_text(response_body)
    return ours, theirs


def _record_leaks(rec: TraceRecord, known: set[str]) -> list[str]:
    ours, theirs = _record_texts(rec)
    return leaks_in(ours, known) + leaks_in(theirs, known, ntlm=False)


def take_new() -> tuple[list[TraceRecord], list[str]]:
    with _LOCK:
        records, logs = list(_RECORDS), list(_LOGS)
        _RECORDS.clear()
        _LOGS.clear()
    return records, logs


def scan(extra: str = "") -> list[str]:
    records, logs = take_new()
    known = secrets()
    problems: list[str] = []
    for rec in records:
        problems += [f"trace {rec.method} {rec.url}: {p}" for p in _record_leaks(rec, known)]
    for line in logs:
        problems += [f"log {line[:60]!r}: {p}" for p in leaks_in(line, known)]
    if extra:
        problems += [f"output: {p}" for p in leaks_in(extra, known)]
    return problems


class LeakWatch:
    """After each test: its new traces, logs and captured output must hold no secret."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
        report = yield
        if report.when == "teardown":
            captured = "\n".join(text for _name, text in getattr(report, "sections", ()))
            problems = scan(captured)
            if problems:
                report.outcome = "failed"
                report.longrepr = f"{item.nodeid} leaked secrets:\n" + "\n".join(sorted(set(problems)))
        return report


# -- the tests --------------------------------------------------------------------------------------------


def test_the_suite_so_far_leaked_nothing(request: pytest.FixtureRequest) -> None:
    problems = scan()
    manager = request.config.pluginmanager
    if not manager.has_plugin("mapiprobe-leak-watch"):
        manager.register(LeakWatch(), "mapiprobe-leak-watch")
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_scanner_finds_what_it_looks_for() -> None:
    alice = ORG.users[0]
    known = secrets()
    assert leaks_in(f"x {alice.password} y", known)
    assert leaks_in("Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==", known)
    assert leaks_in(
        "Authorization: Negotiate YIIFhgYGKwYBBQUCoIIFejCCBXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3", known
    )
    assert leaks_in(f"Bearer {demo_token(ORG, alice)}", known)
    assert not leaks_in("Authorization: NTLM [redacted]; Cookie: MapiContext=[redacted]", known)

    # Bodies are scanned too: a password in a form, a UTF-16LE one in a MAPI body, a raw NTLM message that
    # we sent; what a server sent is checked for secrets, not for a bare NTLM signature (_record_texts).
    def record(**kw: Any) -> TraceRecord:
        return TraceRecord(seq=1, method="POST", url="https://x/", started_at=0.0, **kw)

    form = f"user=alice&password={alice.password}".encode()
    utf16 = b"\x00\x01" + alice.password.encode("utf-16-le") + b"\x00\x00"
    for rec in (
        record(request_body=form),
        record(response_body=form),
        record(response_body=utf16),
        record(request_body=b"\x05\x00\x10\x03NTLMSSP\x00\x03\x00\x00\x00"),  # an RPC auth3 PDU
        record(response_body=b"<pre>Authorization: NTLM TlRMTVNTUAADAAAAGAAYAEgAAAA=</pre>"),
        record(response_headers=(("WWW-Authenticate", "NTLM TlRMTVNTUAACAAAADAAMADgAAAA="),)),
        record(request_headers=(("X-Debug", "TlRMTVNTUAABAAAA"),)),
    ):
        assert _record_leaks(rec, known), rec
    for rec in (
        record(request_body=b"\x00abc"),
        record(response_body=b"\x00\x01NTLMSSP\x00\x01\x00\x00\x00 fuzz"),
        record(response_headers=(("X-RequestId", "TlRMTVNTUA"),)),
        record(response_code="TlRMTVNTUA", error="X-ResponseCode 'TlRMTVNTUA' is not a number"),
    ):
        assert not _record_leaks(rec, known), rec


class _MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator() as simulator:
        yield simulator


def _net_args(sim: Simulator) -> list[str]:
    args: list[str] = []
    for rule in sim.connect_to:
        args += ["--connect-to", rule]
    return [
        *args,
        "--ca-cert",
        str(sim.ca_cert_path),
        "--dns-server",
        f"127.0.0.1:{sim.dns_port}",
        "--timeout",
        "5",
    ]


def test_every_command_and_scheme_leaks_nothing(
    sim: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG: pyspnego would log tokens here if allowed
    old_ring = keyring.get_keyring()
    keyring.set_keyring(_MemoryKeyring())
    alice = sim.users[0]
    email = alice.email
    nspi = f"https://mail.contoso.test/mapi/nspi/?MailboxId={alice.mailbox_guid}@contoso.test"
    token_file = tmp_path / "token"
    token_file.write_text(demo_token(ORG, alice) + "\n")
    outputs: list[str] = []

    def run(scenario: str, *argv: str, password: str | None = alice.password) -> int:
        sim.set_scenario(scenario)
        stdin = f"{password}\n" if password is not None else ""
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        extra = ["--password-stdin"] if password is not None else []
        code = main([*argv, *_net_args(sim), *extra])
        out, err = capsys.readouterr()
        outputs.append(out + err)
        return code

    try:
        assert run("normal", "autodiscover", email, "--trace", "--json", "--save-password") == 0
        assert run("normal", "autodiscover", email, "--trace", password=None) == 0  # the saved password
        har = tmp_path / "ntlm.har"
        assert (
            run(
                "windows-auth",
                "folders",
                email,
                "--auth",
                "ntlm",
                "--trace",
                "--json",
                "--save-har",
                str(har),
            )
            == 0
        )
        outputs.append(har.read_text(encoding="utf-8"))  # a saved run is output too
        assert "NTLM [redacted]" in outputs[-1]
        assert run("windows-auth", "folders", email, "--trace", "-v") == 0
        assert (
            run("windows-auth", "addresslists", email, "--addressbook-url", nspi, "--auth", "negotiate") == 0
        )
        assert run("windows-auth", "gal", email, "--addressbook-url", nspi, "--json") == 0
        assert run("modern-auth", "addresslists", email, "--addressbook-url", nspi, "--auth", "bearer",
                   "--token-file", str(token_file), password=None) == 0  # fmt: skip
        assert run("windows-auth", "probe", email, "--json") == 0
        assert run("windows-auth", "probe", email, "-v") == 0
        assert run("windows-auth", "folders", email, "--trace", password="Token-File-S3cret-42") == 1
        assert run("normal", "autodiscover", email, "--trace", "--json", password="Token-File-S3cret-42") == 1
        assert run("ab-refused", "addresslists", email, "--addressbook-url", nspi, "--json") == 1
    finally:
        keyring.set_keyring(old_ring)
    assert sim.https_site.auth_log, "the runs authenticated"
    assert _COOKIES, "the simulator handed out cookies to look for"
    logs = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    problems = scan("\n".join(outputs) + "\n" + logs)
    assert not problems, "\n".join(sorted(set(problems)))
