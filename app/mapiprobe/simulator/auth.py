"""The simulator's NTLM, Negotiate and Bearer acceptors, and which endpoint offers what.

Plugged into simulator/web.py's :class:`~mapiprobe.simulator.web.AuthScheme` hook beside Basic:

* :class:`SpnegoAcceptor` (``NTLM`` and ``Negotiate``) steps a ``spnego.server(...)`` context kept in the
  connection's :class:`~mapiprobe.simulator.web.ConnectionState` (NTLM binds its handshake to the TCP
  connection). pyspnego's pure-Python NTLM acceptor looks the user up in the file named by the environment
  variable ``NTLM_USER_FILE`` (lines ``DOMAIN:user:password``); :func:`write_ntlm_user_file` writes it from
  the organisation's demo users into the simulator's state directory. Negotiate also accepts Kerberos
  through GSSAPI when a keytab is given (``KRB5_KTNAME``; tests/kerberos makes one with a real MIT KDC).
  A finished handshake marks the connection authenticated (IIS's authPersistNonNTLM), and its last token
  goes back with the answer (mutual authentication).
* :class:`BearerAcceptor` accepts each demo user's token (:func:`demo_token`, published by
  ``mapiprobe simulator --json`` with the passwords).

Thread safety of ``NTLM_USER_FILE`` / ``KRB5_KTNAME``: pyspnego reads them from ``os.environ`` when the
acceptor is created *and* again when the AUTHENTICATE message is checked, and MIT GSSAPI reads
``KRB5_KTNAME`` when a Kerberos token is accepted. Setting them for the whole process would also hand the
demo users' file to any NTLM *client* context in the same process that has no password (pyspnego's client
falls back to that file), which would make "no credentials" tests pass by accident. So every acceptor
creation and every step runs inside :func:`acceptor_environment`: one process-wide lock, the variables set
for the duration, the previous values put back afterwards. Handshakes are serialised by the lock; each step
is microseconds of work (Kerberos: one keytab read), which the simulator can afford.

:class:`SimAuth` (``Simulator.auth``) holds the acceptors, the per-endpoint offers (:meth:`SimAuth.offer`)
and the scenario rules. Outside the scenarios below every endpoint offers what Exchange 2019 offers out of
the box (:data:`EXCHANGE_2019_OFFERS`: Autodiscover Negotiate, NTLM, Bearer and Basic; the ``/mapi/``
virtual directories the same without Basic). ``basic-only`` offers Basic everywhere (as gromox does),
``windows-auth`` Negotiate and NTLM only, ``modern-auth`` Bearer, Negotiate and NTLM, and ``ab-refused``
(the first user authenticates everywhere but is refused on the address book).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .org import Organisation, SimUser
from .web import AUTH_MECHANISM, PERSISTENT_AUTH, AuthOutcome, BasicAuth, Request, Site

if TYPE_CHECKING:
    from .host import SimHost

NTLM_USER_FILE = "ntlm-users.txt"
BEARER_PREFIX = "mpt-"
ENDPOINT_PREFIXES = {
    "autodiscover": "/autodiscover/",
    "emsmdb": "/mapi/emsmdb/",
    "nspi": "/mapi/nspi/",
    "rpc": "/rpc/",
}
_ENV_LOCK = threading.RLock()


@contextlib.contextmanager
def acceptor_environment(ntlm_user_file: Path | None, keytab: Path | None = None) -> Iterator[None]:
    """Set ``NTLM_USER_FILE`` (and ``KRB5_KTNAME``) for the block, under the process-wide lock."""
    wanted = {"NTLM_USER_FILE": ntlm_user_file, "KRB5_KTNAME": keytab}
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in wanted}
        try:
            for name, value in wanted.items():
                if value is not None:
                    os.environ[name] = str(value)
            yield
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old


def write_ntlm_user_file(org: Organisation, path: Path) -> Path:
    """pyspnego's credential file for ``org``: each user as ``DOMAIN\\user``, ``user`` and ``user@domain``."""
    lines: list[str] = []
    for user in org.users:
        for domain, name in ((org.netbios_domain, user.user), ("", user.user), ("", user.email)):
            lines.append(f"{domain}:{name}:{user.password}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def demo_token(org: Organisation, user: SimUser) -> str:
    """The demo bearer token of ``user`` (stable for an organisation; public, like the demo passwords)."""
    digest = hmac.new(org.deployment_id.encode(), user.email.lower().encode(), hashlib.sha256).hexdigest()
    return BEARER_PREFIX + digest[:40]


def _is_initial(token: bytes) -> bool:
    """A token that starts a handshake: NTLM NEGOTIATE, or a GSS-API InitialContextToken (SPNEGO/Kerberos)."""
    if token.startswith(b"NTLMSSP\x00") and len(token) >= 12:
        return int.from_bytes(token[8:12], "little") == 1
    return token[:1] == b"\x60"


class SpnegoAcceptor:
    """``NTLM`` (protocol ``ntlm``) or ``Negotiate`` (protocol ``negotiate``) through ``spnego.server``."""

    def __init__(
        self,
        org: Organisation,
        *,
        name: str,
        protocol: str,
        user_file: Path,
        keytab: Callable[[], Path | None] | None = None,
    ) -> None:
        self.org = org
        self.name = name
        self.protocol = protocol
        self.user_file = user_file
        self._keytab = keytab or (lambda: None)
        self._key = f"spnego.{name.lower()}"

    def challenge(self, realm: str) -> str:
        return self.name

    def _server(self, host: str) -> Any:
        import spnego

        return spnego.server(hostname=host or "unspecified", service="HTTP", protocol=self.protocol)

    def accept(self, authorization: str, request: Request) -> AuthOutcome | None:
        scheme, _, text = authorization.strip().partition(" ")
        if scheme.lower() != self.name.lower():
            return None
        state = request.connection.data
        try:
            token = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            state.pop(self._key, None)
            return AuthOutcome()
        if not token:
            return AuthOutcome()
        ctx = state.get(self._key)
        try:
            with acceptor_environment(self.user_file, self._keytab()):
                if ctx is None or _is_initial(token):
                    ctx = self._server(request.host)
                out = ctx.step(token)
                complete = bool(ctx.complete)
                principal = ctx.client_principal if complete else None
                mechanism = ctx.negotiated_protocol if complete else None
        except Exception:  # a wrong password, a garbled token, no keytab entry: all the same to the client
            state.pop(self._key, None)
            return AuthOutcome()
        if not complete:
            state[self._key] = ctx
            if not out:
                state.pop(self._key, None)
                return AuthOutcome()
            return AuthOutcome(header=f"{self.name} {base64.b64encode(out).decode('ascii')}")
        state.pop(self._key, None)
        user = self.org.find_login(str(principal or ""))
        if user is None:
            return AuthOutcome()
        state[PERSISTENT_AUTH] = self.name
        state[AUTH_MECHANISM] = mechanism or self.protocol
        header = f"{self.name} {base64.b64encode(out).decode('ascii')}" if out else None
        return AuthOutcome(user=user, header=header)


class BearerAcceptor:
    """RFC 6750 bearer tokens: each demo user's :func:`demo_token`."""

    name = "Bearer"

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.tokens = {demo_token(org, u): u for u in org.users}

    def challenge(self, realm: str) -> str:
        return f'Bearer realm="{realm}", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'

    def accept(self, authorization: str, request: Request) -> AuthOutcome | None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        presented = token.strip()
        for known, user in self.tokens.items():
            if hmac.compare_digest(known.encode(), presented.encode()):
                request.connection.data[AUTH_MECHANISM] = "bearer"
                return AuthOutcome(user=user)
        return AuthOutcome()


SCHEME_ORDER = ("Negotiate", "NTLM", "Bearer", "Basic")
EXCHANGE_2019_OFFERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Exchange 2019 out of the box: the Autodiscover virtual directory (and everything else but /mapi/)
    # takes Basic, Windows authentication (Negotiate, NTLM) and OAuth; the MAPI virtual directories take
    # Windows authentication and OAuth, with Basic off (Get-MapiVirtualDirectory IISAuthenticationMethods).
    ("/", ("Negotiate", "NTLM", "Bearer", "Basic")),
    ("/mapi/", ("Negotiate", "NTLM", "Bearer")),
)
SCENARIO_OFFERS: dict[str, tuple[str, ...]] = {
    "basic-only": ("Basic",),
    "windows-auth": ("Negotiate", "NTLM"),
    "modern-auth": ("Bearer", "Negotiate", "NTLM"),
}


class SimAuth:
    """The simulator's authentication: acceptors, who offers what, and the scenario rules."""

    def __init__(
        self,
        org: Organisation,
        site: Site,
        state_dir: Path,
        *,
        scenario: Callable[[], str],
    ) -> None:
        self.org = org
        self.site = site
        self.keytab: Path | None = None
        """A Kerberos keytab for HTTP/<host> principals (tests/kerberos sets it); None: NTLM only."""
        self.user_file = write_ntlm_user_file(org, state_dir / NTLM_USER_FILE)
        self._scenario = scenario
        basic = next((s for s in site.auth_schemes if s.name == "Basic"), None)
        if basic is None:
            basic = BasicAuth(org)
        site.auth_schemes[:] = [
            SpnegoAcceptor(
                org, name="Negotiate", protocol="negotiate", user_file=self.user_file, keytab=self._kt
            ),
            SpnegoAcceptor(org, name="NTLM", protocol="ntlm", user_file=self.user_file),
            BearerAcceptor(org),
            basic,
        ]
        self.offers: dict[str, tuple[str, ...]] = {}
        site.offers = list(EXCHANGE_2019_OFFERS)
        site.offer_policy = self._policy
        site.authorizers.append(self._authorize)

    def _kt(self) -> Path | None:
        return self.keytab

    @property
    def tokens(self) -> dict[str, str]:
        """Email address -> demo bearer token."""
        return {u.email: demo_token(self.org, u) for u in self.org.users}

    def offer(self, endpoint: str, schemes: Sequence[str]) -> None:
        """Make ``endpoint`` (autodiscover, emsmdb, nspi, ``*`` or a path prefix) offer ``schemes``."""
        names = tuple(_canonical(s) for s in schemes)
        if endpoint == "*":
            self.offers = {key: names for key in ENDPOINT_PREFIXES}
            self.site.offers = [("/", names)]
            return
        prefix = ENDPOINT_PREFIXES.get(endpoint, endpoint)
        self.offers[endpoint] = names
        self.site.offers = [r for r in self.site.offers if r[0] != prefix] + [(prefix, names)]

    def reset(self) -> None:
        """Back to the Exchange 2019 defaults (:data:`EXCHANGE_2019_OFFERS`)."""
        self.offers = {}
        self.site.offers = list(EXCHANGE_2019_OFFERS)

    def _policy(self, req: Request) -> tuple[str, ...] | None:
        return SCENARIO_OFFERS.get(self._scenario())

    def _authorize(self, req: Request, user: SimUser) -> bool:
        if self._scenario() == "ab-refused" and req.path.lower().startswith(ENDPOINT_PREFIXES["nspi"]):
            return user != self.refused_user
        return True

    @property
    def refused_user(self) -> SimUser:
        """Who ``ab-refused`` refuses on the address book: the first user of the organisation."""
        return self.org.users[0]

    def attempts(self, scheme: str | None = None, *, path: str | None = None) -> int:
        """Credential checks that ended (ok, failed or refused), for tests that count attempts."""
        return len(
            [
                e
                for e in list(self.site.auth_log)
                if e.outcome in ("ok", "failed", "refused")
                and (scheme is None or e.scheme.lower() == scheme.lower())
                and (path is None or e.path.lower().startswith(path.lower()))
            ]
        )


def _canonical(name: str) -> str:
    for known in SCHEME_ORDER:
        if known.lower() == name.strip().lower():
            return known
    raise ValueError(f"unknown scheme {name!r}; choose from {', '.join(SCHEME_ORDER)}")


def install(sim: SimHost) -> SimAuth:
    """Give ``sim`` its authentication (called from Simulator.__init__)."""
    return SimAuth(sim.org, sim.https_site, sim.state_dir, scenario=lambda: sim.scenario)


__all__ = [
    "BEARER_PREFIX",
    "ENDPOINT_PREFIXES",
    "EXCHANGE_2019_OFFERS",
    "NTLM_USER_FILE",
    "SCENARIO_OFFERS",
    "BearerAcceptor",
    "SimAuth",
    "SpnegoAcceptor",
    "acceptor_environment",
    "demo_token",
    "install",
    "write_ntlm_user_file",
]
