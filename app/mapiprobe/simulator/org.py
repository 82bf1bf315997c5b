"""The simulated organisation: domain, users and server names, loaded from ``resources/org/*.json``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapiprobe.resources import resource_path

DEFAULT_ORG_FILE = "contoso.json"


@dataclass(frozen=True)
class SimUser:
    """One mailbox of the simulated organisation (a demo account: its password is public)."""

    email: str
    user: str
    password: str
    display_name: str
    legacy_dn: str
    mailbox_guid: str

    def matches_login(self, login: str, netbios_domain: str) -> bool:
        """True for ``alice``, ``alice@contoso.test`` and ``CONTOSO\\alice`` (any case)."""
        low = login.lower()
        if "\\" in low:
            dom, _, name = low.partition("\\")
            return dom == netbios_domain.lower() and name == self.user.lower()
        return low in (self.user.lower(), self.email.lower())

    @property
    def local_part(self) -> str:
        return self.email.partition("@")[0]


@dataclass(frozen=True)
class Organisation:
    domain: str
    organization: str
    netbios_domain: str
    redirect_domain: str
    deployment_id: str
    server_version: str
    server_application: str
    administrative_group: str
    users: tuple[SimUser, ...]

    @property
    def mail_host(self) -> str:
        return f"mail.{self.domain}"

    @property
    def autodiscover_host(self) -> str:
        return f"autodiscover.{self.domain}"

    def hosts(self) -> list[str]:
        """Every virtual host name of the organisation and of its redirect target."""
        out: list[str] = []
        for dom in (self.domain, self.redirect_domain):
            out += [dom, f"autodiscover.{dom}", f"mail.{dom}"]
        return out

    def find_user(self, address: str) -> SimUser | None:
        """The user whose address is ``address`` in the main domain or the redirect domain."""
        local, _, dom = address.strip().lower().partition("@")
        if dom not in (self.domain, self.redirect_domain):
            return None
        return next((u for u in self.users if u.local_part.lower() == local), None)

    def find_by_legacy_dn(self, dn: str) -> SimUser | None:
        low = dn.strip().lower()
        return next((u for u in self.users if u.legacy_dn.lower() == low), None)

    def find_login(self, login: str) -> SimUser | None:
        return next((u for u in self.users if u.matches_login(login, self.netbios_domain)), None)


def load_organisation(path: Path | None = None) -> Organisation:
    """Read an organisation file (default: the bundled ``resources/org/contoso.json``)."""
    source = path or resource_path("org", DEFAULT_ORG_FILE)
    raw: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    users = tuple(
        SimUser(
            email=u["email"],
            user=u["user"],
            password=u["password"],
            display_name=u["display_name"],
            legacy_dn=u["legacy_dn"],
            mailbox_guid=str(uuid.UUID(u["mailbox_guid"])),
        )
        for u in raw["users"]
    )
    return Organisation(
        domain=raw["domain"].lower(),
        organization=raw["organization"],
        netbios_domain=raw["netbios_domain"],
        redirect_domain=raw["redirect_domain"].lower(),
        deployment_id=raw["deployment_id"],
        server_version=raw["server_version"],
        server_application=raw["server_application"],
        administrative_group=raw["administrative_group"],
        users=users,
    )


__all__ = ["Organisation", "SimUser", "load_organisation"]
