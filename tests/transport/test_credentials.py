"""Saved passwords through keyring's own backend API (an in-memory backend), and the CLI options over them."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError, PasswordSetError

from mapiprobe.cli.options import OptionError, add_connection_options, auth_from, credentials_from
from mapiprobe.transport import credentials as store
from mapiprobe.transport.auth import AutoAuth, BearerAuth, NTLMAuth, Secret

PASSWORD = "Kr3d-Store!pw"


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps entries in a dict (what keyring's docs suggest for tests)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.fail_writes = False

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.fail_writes:
            raise PasswordSetError(f"locked (would have stored {len(password)} characters)")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("no such entry")
        del self.entries[(service, username)]


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    old = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(old)


@pytest.fixture
def no_ring() -> Iterator[None]:
    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(old)


def test_save_load_forget(ring: MemoryKeyring) -> None:
    assert store.keyring_usable()
    store.save_password("Alice@Contoso.test ", Secret(PASSWORD))
    assert ring.entries == {("mapiprobe", "alice@contoso.test"): PASSWORD}  # one entry per account
    loaded = store.load_password("alice@contoso.test")
    assert loaded is not None and loaded.reveal() == PASSWORD and PASSWORD not in repr(loaded)
    store.save_password("bob@contoso.test", Secret("other"))
    assert len(ring.entries) == 2
    assert store.forget_password("ALICE@contoso.test") is True
    assert store.forget_password("alice@contoso.test") is False
    assert store.load_password("alice@contoso.test") is None


def test_errors_never_carry_the_password(ring: MemoryKeyring) -> None:
    ring.fail_writes = True
    with pytest.raises(store.CredentialStoreError) as info:
        store.save_password("alice", Secret(PASSWORD))
    assert PASSWORD not in str(info.value) and "alice" in str(info.value)
    with pytest.raises(store.CredentialStoreError):
        store.save_password("alice", Secret(""))
    with pytest.raises(store.CredentialStoreError):
        store.account_name("  ")


def test_without_a_keyring(no_ring: None) -> None:
    assert not store.keyring_usable()
    assert store.load_password("alice") is None
    assert store.forget_password("alice") is False
    with pytest.raises(store.CredentialStoreError) as info:
        store.save_password("alice", Secret(PASSWORD))
    assert "no system keyring" in str(info.value)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_options(parser)
    return parser.parse_args(list(argv))


def test_cli_save_then_use_then_forget(ring: MemoryKeyring) -> None:
    notes: list[str] = []
    creds = credentials_from(
        _args("--password-stdin", "--save-password"),
        "alice@contoso.test",
        stdin=io.StringIO(PASSWORD + "\n"),
        notes=notes,
    )
    assert creds is not None and creds.password is not None and creds.password.reveal() == PASSWORD
    assert ring.entries[("mapiprobe", "alice@contoso.test")] == PASSWORD
    assert notes and PASSWORD not in " ".join(notes)
    # A later run without --password-stdin reads it back.
    notes.clear()
    later = credentials_from(_args(), "alice@contoso.test", notes=notes)
    assert later is not None and later.password is not None and later.password.reveal() == PASSWORD
    assert "using the saved password" in notes[0]
    assert isinstance(auth_from(_args(), later), AutoAuth)
    # --user names the entry when given.
    assert credentials_from(_args("--user", "CONTOSO\\alice"), "alice@contoso.test") is None
    notes.clear()
    gone = credentials_from(_args("--forget-password"), "alice@contoso.test", notes=notes)
    assert gone is None and not ring.entries and "deleted" in notes[0]


def test_cli_option_errors(ring: MemoryKeyring, tmp_path: Path) -> None:
    with pytest.raises(OptionError):
        credentials_from(_args("--save-password"), "alice@contoso.test")
    with pytest.raises(OptionError):
        credentials_from(
            _args("--password-stdin", "--save-password", "--forget-password"),
            "a@b.c",
            stdin=io.StringIO("x\n"),
        )
    with pytest.raises(OptionError):
        auth_from(_args("--auth", "bearer"), credentials_from(_args("--auth", "bearer"), "a@b.c"))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(OptionError):
        credentials_from(_args("--token-file", str(empty)), "a@b.c")
    with pytest.raises(OptionError):
        credentials_from(_args("--token-file", str(tmp_path / "missing")), "a@b.c")
    ring.fail_writes = True
    with pytest.raises(OptionError) as info:
        credentials_from(
            _args("--password-stdin", "--save-password"), "a@b.c", stdin=io.StringIO(PASSWORD + "\n")
        )
    assert PASSWORD not in str(info.value)


def test_cli_tokens_and_current_user(
    ring: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("tok-from-file\n")
    creds = credentials_from(_args("--auth", "bearer", "--token-file", str(token_file)), "a@b.c")
    assert creds is not None and creds.token is not None and creds.token.reveal() == "tok-from-file"
    assert isinstance(auth_from(_args("--auth", "bearer"), creds), BearerAuth)
    monkeypatch.setenv("MAPIPROBE_TOKEN", "tok-from-env")
    creds = credentials_from(_args("--auth", "bearer"), "a@b.c")
    assert creds is not None and creds.token is not None and creds.token.reveal() == "tok-from-env"
    monkeypatch.delenv("MAPIPROBE_TOKEN")
    creds = credentials_from(
        _args("--auth", "bearer", "--password-stdin"), "a@b.c", stdin=io.StringIO("tok-stdin\n")
    )
    assert creds is not None and creds.password is None and creds.token is not None
    # --auth ntlm without a password: the logged-on user (SSPI on Windows, a Kerberos ticket elsewhere).
    creds = credentials_from(_args("--auth", "ntlm"), "a@b.c")
    assert creds is not None and creds.current_user and creds.password is None
    assert isinstance(auth_from(_args("--auth", "ntlm"), creds), NTLMAuth)
    no_basic = credentials_from(_args("--no-basic", "--password-stdin"), "a@b.c", stdin=io.StringIO("pw\n"))
    assert no_basic is not None and not no_basic.allow_basic
