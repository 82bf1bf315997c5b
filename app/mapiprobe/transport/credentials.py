"""Saved passwords: the operating system's keyring (service ``mapiprobe``, one entry per account).

Only when the user asks: ``--save-password`` stores the password given on standard input,
``--forget-password`` deletes it; a later run without ``--password-stdin`` reads it back. A password is
never written anywhere else by mapiprobe (no config file, log, trace, report, exception text or clipboard):
this module is the only place that hands one to ``keyring``, and its error messages name the account and the
keyring backend, never the secret.

``keyring`` picks the platform's store (Windows Credential Manager, macOS Keychain, Secret Service on Linux
desktops). Where it finds none (its ``fail`` backend, e.g. a headless server) saving raises
:class:`CredentialStoreError` with that explanation and reading finds nothing. Tests install an in-memory
backend through keyring's own API (``keyring.set_keyring``).
"""

from __future__ import annotations

from typing import Any

from mapiprobe.transport.auth import Secret

SERVICE = "mapiprobe"


class CredentialStoreError(Exception):
    """The keyring could not store, read or delete an entry (the message never holds the password)."""


def account_name(user: str) -> str:
    """The keyring user name of an account: the login as typed, trimmed and in lower case."""
    name = user.strip().lower()
    if not name:
        raise CredentialStoreError("no account name to store a password under (give --user or an address)")
    return name


def _backend() -> Any:
    import keyring

    return keyring.get_keyring()


def backend_name() -> str:
    backend = _backend()
    return str(getattr(backend, "name", None) or type(backend).__name__)


def keyring_usable() -> bool:
    """Whether a real keyring backend is there (not keyring's ``fail`` placeholder)."""
    try:
        from keyring.backends import fail

        backend = _backend()
    except Exception:
        return False
    if isinstance(backend, fail.Keyring):
        return False
    try:
        return float(getattr(backend, "priority", 1)) > 0
    except Exception:
        return True


def save_password(user: str, password: Secret) -> None:
    """Store ``password`` for ``user`` (replacing an earlier entry)."""
    account = account_name(user)
    if not password:
        raise CredentialStoreError(f"refusing to save an empty password for {account}")
    if not keyring_usable():
        raise CredentialStoreError(
            f"cannot save the password for {account}: no system keyring is available here ({backend_name()})"
        )
    try:
        _backend().set_password(SERVICE, account, password.reveal())
    except Exception as exc:
        raise CredentialStoreError(
            f"cannot save the password for {account} in {backend_name()}: {type(exc).__name__}"
        ) from None


def load_password(user: str) -> Secret | None:
    """The stored password of ``user``, or None (no entry, or no keyring here)."""
    account = account_name(user)
    if not keyring_usable():
        return None
    try:
        value = _backend().get_password(SERVICE, account)
    except Exception as exc:
        raise CredentialStoreError(
            f"cannot read the saved password for {account} from {backend_name()}: {type(exc).__name__}"
        ) from None
    return Secret(value) if value else None


def forget_password(user: str) -> bool:
    """Delete the stored password of ``user``; False when there was none."""
    account = account_name(user)
    if not keyring_usable():
        return False
    from keyring.errors import PasswordDeleteError

    try:
        _backend().delete_password(SERVICE, account)
    except PasswordDeleteError:
        return False
    except Exception as exc:
        raise CredentialStoreError(
            f"cannot delete the saved password for {account} from {backend_name()}: {type(exc).__name__}"
        ) from None
    return True


__all__ = [
    "SERVICE",
    "CredentialStoreError",
    "account_name",
    "backend_name",
    "forget_password",
    "keyring_usable",
    "load_password",
    "save_password",
]
