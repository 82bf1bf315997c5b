"""Authentication schemes as httpx auth flows (generators: yield a request, receive its response).

The flows do no I/O themselves, so tests drive them by hand: ``flow = auth.sync_auth_flow(request)``,
``next(flow)`` gives the request to send, ``flow.send(response)`` the next one (or StopIteration).
MAPI/HTTP leaves the scheme to the deployment (MS-OXCMAPIHTTP 2.1: every request is authenticated, the
scheme is outside the protocol); Exchange offers Negotiate, NTLM, Basic and Bearer in various mixes.

Schemes
    :class:`BasicAuth` (RFC 7617), preemptive, HTTPS only.
    :class:`BearerAuth` (RFC 6750), preemptive, HTTPS only; the token comes from the user, a file or an
    environment variable (see ``cli/options.py``).
    :class:`NTLMAuth` and :class:`NegotiateAuth` (RFC 4559) step a ``spnego.client(...)`` context: pyspnego
    chooses SSPI on Windows (no password: the logged-on user), GSSAPI where it is installed (Kerberos with
    a ticket from the cache, or one fetched with the password) and its pure-Python NTLM otherwise. Negotiate
    falls back to NTLM inside SPNEGO when Kerberos is not possible; :attr:`SpnegoAuth.outcomes` records the
    mechanism that was actually used per endpoint.
    :class:`AutoAuth` learns the schemes from the server's first ``401`` and picks one (below).

Rules every flow keeps
    * Credentials go only over HTTPS: a ``http://`` URL raises
      :class:`~mapiprobe.transport.errors.InsecureCredentialRefused` before anything with credentials is
      yielded.
    * A ``401`` after the credentials went out raises
      :class:`~mapiprobe.transport.errors.AuthenticationFailed` ("authentication failed for <endpoint> with
      <scheme>"). One attempt per scheme and endpoint: the flow never tries the same credentials again by
      itself, and a later request for an endpoint that already refused them fails at once without sending
      them (no retry storm, no account lock-out from a keep-alive loop). A new auth object starts afresh.
    * Connection-bound handshakes (NTLM, and Negotiate on servers that persist it): the first request goes
      out without ``Authorization`` (on a connection that is already authenticated the server answers it),
      and only a ``401`` starts the handshake. httpx reads each intermediate response before sending the
      next request, so the connection goes back to the pool and the next leg reuses it (httpcore hands out
      the first idle connection of the origin, which is the one just released when requests of one session
      are sent one at a time, as MAPI/HTTP requires: MS-OXCMAPIHTTP 3.2.5.1).
    * Secrets never show: ``Secret`` hides itself in ``repr``/``str``; messages name the endpoint and the
      scheme only; pyspnego's and httpcore's loggers (raw tokens, raw response headers at DEBUG) are
      capped at INFO here.

How ``auto`` chooses (decided for issue 6, documented in the CLI help)
    The first request to an origin goes out without credentials; from the ``401`` it answers, the strongest
    usable scheme is taken: Negotiate, then NTLM (both need a password or, with :attr:`Credentials.
    current_user`, a ticket / the Windows logon), then Bearer (needs a token). **Basic only when the server
    offers nothing stronger that we can use, and only if** :attr:`Credentials.allow_basic` (the CLI allows
    it unless ``--no-basic`` is given); the choice is written into the trace (annotation ``auth.scheme``).
    ``--auth basic`` forces Basic (preemptive, as Outlook does). The choice is remembered per origin for
    the life of the auth object, so only the first request to each host pays the extra round trip.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from mapiprobe.transport.errors import AuthenticationFailed, InsecureCredentialRefused, redact_url
from mapiprobe.transport.trace import challenge_schemes

# Third-party loggers that write secrets at DEBUG are held at INFO, whatever the root logger says:
# pyspnego logs every token it steps (an NTLM AUTHENTICATE message can be cracked offline), httpcore logs
# every response's raw headers (Set-Cookie session cookies, WWW-Authenticate tokens).
for _name in ("spnego", "httpcore"):
    logging.getLogger(_name).setLevel(logging.INFO)

AUTH_CHOICES = ("auto", "basic", "ntlm", "negotiate", "bearer")
ANNOTATION_AUTH_SCHEME = "auth.scheme"
MAX_HANDSHAKE_LEGS = 4  # NTLM needs 2 tokens from us, Kerberos 1 (+ the mutual-authentication answer)


class Secret:
    """A string that does not show itself in ``repr()`` or ``str()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class AuthConfigError(ValueError):
    """The chosen scheme cannot work with the credentials given (e.g. ``basic`` without a password)."""


@dataclass(frozen=True)
class Credentials:
    """Who to be. ``repr`` never shows the password or the token (:class:`Secret`)."""

    user: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    current_user: bool = False
    """No password: Negotiate/NTLM use the platform's credentials (a Kerberos ticket in the cache, or the
    logged-on Windows user through SSPI)."""
    allow_basic: bool = True
    """``auto`` may use Basic when the server offers nothing stronger that we can use."""

    def __post_init__(self) -> None:
        for name in ("password", "token"):
            value = getattr(self, name)
            if isinstance(value, str):  # accept plain strings, keep Secrets
                object.__setattr__(self, name, Secret(value))

    @property
    def can_spnego(self) -> bool:
        return self.password is not None or self.current_user

    @property
    def is_empty(self) -> bool:
        return self.password is None and self.token is None and not self.current_user


@dataclass(frozen=True)
class AuthOutcome:
    """How authentication went at one endpoint (for reports: which scheme, which mechanism)."""

    endpoint: str
    scheme: str
    ok: bool
    mechanism: str | None = None  # what Negotiate really used: "kerberos" or "ntlm"
    legs: int = 0  # requests that carried a token
    detail: str | None = None


def offered_schemes(response: httpx.Response) -> tuple[str, ...]:
    """Scheme names of every ``WWW-Authenticate`` challenge of ``response`` (no tokens)."""
    found: list[str] = []
    for value in response.headers.get_list("WWW-Authenticate"):
        for scheme in challenge_schemes(value):
            if scheme not in found:
                found.append(scheme)
    return tuple(found)


def _offers(offered: tuple[str, ...], scheme: str) -> bool:
    return any(s.lower() == scheme.lower() for s in offered)


def endpoint_of(url: httpx.URL) -> str:
    """``scheme://host:port/path`` of ``url``: the unit of "one attempt per scheme" (query left out)."""
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.scheme}://{url.host}:{port}{url.path}"


def _require_https(request: httpx.Request, scheme: str) -> None:
    if request.url.scheme != "https":
        raise InsecureCredentialRefused(redact_url(request.url), scheme)


def _annotate(request: httpx.Request, key: str, value: str) -> None:
    notes = request.extensions.get("mapiprobe.annotations")
    if isinstance(notes, list):
        # The MAPI/HTTP endpoint's own list: it keeps adding to it while the answer streams in (pending
        # count, a late X-ResponseCode, X-ElapsedTime), so add to it rather than replace it with a copy.
        notes.append((key, value))
        return
    request.extensions = {**request.extensions, "mapiprobe.annotations": (*(notes or ()), (key, value))}


def with_authorization(request: httpx.Request, authorization: str) -> httpx.Request:
    """A copy of ``request`` carrying ``authorization``: each leg is its own request, so that the trace
    shows what each one really carried (the original is never changed)."""
    headers = request.headers.copy()
    headers["Authorization"] = authorization
    return httpx.Request(
        request.method,
        request.url,
        headers=headers,
        content=request.content,
        extensions=dict(request.extensions),
    )


class _Refusals:
    """Endpoints that refused our credentials, per scheme: they are not sent there again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused: dict[tuple[str, str], AuthenticationFailed] = {}
        self.outcomes: dict[str, AuthOutcome] = {}

    def check(self, endpoint: str, scheme: str) -> None:
        with self._lock:
            failure = self._refused.get((endpoint, scheme.lower()))
        if failure is not None:
            raise AuthenticationFailed(
                failure.endpoint, failure.scheme, offered=failure.offered, status=failure.status
            )

    def refuse(self, failure: AuthenticationFailed, endpoint: str, *, legs: int = 1) -> AuthenticationFailed:
        with self._lock:
            self._refused[(endpoint, failure.scheme.lower())] = failure
            self.outcomes[endpoint] = AuthOutcome(endpoint, failure.scheme, False, legs=legs)
        return failure

    def succeed(self, outcome: AuthOutcome) -> None:
        with self._lock:
            self.outcomes[outcome.endpoint] = outcome

    def reset(self) -> None:
        with self._lock:
            self._refused.clear()
            self.outcomes.clear()


Flow = Generator[httpx.Request, httpx.Response, None]


class _Scheme(httpx.Auth):
    """Common shape: :meth:`after_challenge` continues a flow from a 401 (what :class:`AutoAuth` uses)."""

    scheme = ""
    requires_request_body = True  # the body is sent again on the next leg

    def __init__(self) -> None:
        self._refusals = _Refusals()

    @property
    def outcomes(self) -> dict[str, AuthOutcome]:
        """The last outcome per endpoint (``scheme://host:port/path``)."""
        return dict(self._refusals.outcomes)

    def reset(self) -> None:
        """Forget refusals (e.g. after the user typed a new password into the same object)."""
        self._refusals.reset()

    def _fail(
        self, request: httpx.Request, response: httpx.Response | None, endpoint: str, *, legs: int = 1
    ) -> AuthenticationFailed:
        offered = offered_schemes(response) if response is not None else ()
        status = response.status_code if response is not None else 401
        failure = AuthenticationFailed(str(request.url), self.scheme, offered=offered, status=status)
        return self._refusals.refuse(failure, endpoint, legs=legs)

    def after_challenge(self, request: httpx.Request, challenge: httpx.Response) -> Flow:
        raise NotImplementedError  # pragma: no cover
        yield request  # pragma: no cover


class BasicAuth(_Scheme):
    """HTTP Basic over HTTPS only.

    ``preemptive`` (the default, as Outlook does for Basic) sends the credentials with the first request;
    otherwise the request goes out without them and is repeated with them only after a 401 that offers
    Basic.
    """

    scheme = "Basic"

    def __init__(self, username: str, password: str | Secret, *, preemptive: bool = True) -> None:
        super().__init__()
        self.username = username
        self._password = password if isinstance(password, Secret) else Secret(password)
        self.preemptive = preemptive

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=********)"

    def _header(self) -> str:
        raw = f"{self.username}:{self._password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Flow:
        _require_https(request, self.scheme)
        endpoint = endpoint_of(request.url)
        self._refusals.check(endpoint, self.scheme)
        if not self.preemptive:
            response = yield request
            if response.status_code != 401:
                return
            if not _offers(offered_schemes(response), "basic"):
                raise AuthenticationFailed(str(request.url), self.scheme, offered=offered_schemes(response))
        yield from self._send(request, endpoint)

    def after_challenge(self, request: httpx.Request, challenge: httpx.Response) -> Flow:
        _require_https(request, self.scheme)
        yield from self._send(request, endpoint_of(request.url))

    def _send(self, request: httpx.Request, endpoint: str) -> Flow:
        response = yield with_authorization(request, self._header())
        if response.status_code == 401:
            raise self._fail(request, response, endpoint)
        self._refusals.succeed(AuthOutcome(endpoint, self.scheme, True, legs=1))


class BearerAuth(_Scheme):
    """RFC 6750 ``Authorization: Bearer <token>`` over HTTPS only (sent with the first request)."""

    scheme = "Bearer"

    def __init__(self, token: str | Secret) -> None:
        super().__init__()
        self._token = token if isinstance(token, Secret) else Secret(token)
        if not self._token.reveal().strip():
            raise AuthConfigError("the bearer token is empty")

    def __repr__(self) -> str:
        return "BearerAuth(token=********)"

    def auth_flow(self, request: httpx.Request) -> Flow:
        _require_https(request, self.scheme)
        endpoint = endpoint_of(request.url)
        self._refusals.check(endpoint, self.scheme)
        yield from self._send(request, endpoint)

    def after_challenge(self, request: httpx.Request, challenge: httpx.Response) -> Flow:
        _require_https(request, self.scheme)
        yield from self._send(request, endpoint_of(request.url))

    def _send(self, request: httpx.Request, endpoint: str) -> Flow:
        response = yield with_authorization(request, f"Bearer {self._token.reveal().strip()}")
        if response.status_code == 401:
            raise self._fail(request, response, endpoint)
        self._refusals.succeed(AuthOutcome(endpoint, self.scheme, True, legs=1))


# -- NTLM / Negotiate -----------------------------------------------------------------------------------


class SecurityContext(Protocol):
    """The part of pyspnego's ``ContextProxy`` the flows use (tests may pass their own)."""

    @property
    def complete(self) -> bool: ...

    @property
    def negotiated_protocol(self) -> str | None: ...

    def step(self, in_token: bytes | None = None) -> bytes | None: ...


ContextFactory = Callable[[str, str], SecurityContext]
"""``(protocol, hostname) -> context``; protocol is ``"ntlm"`` or ``"negotiate"``."""


def _token_of(response: httpx.Response, scheme: str) -> bytes | None:
    """The token of the ``scheme`` challenge of ``response`` (``WWW-Authenticate: NTLM <base64>``)."""
    for value in response.headers.get_list("WWW-Authenticate"):
        for item in value.split(","):
            name, _, rest = item.strip().partition(" ")
            if name.lower() == scheme.lower() and rest.strip():
                try:
                    return base64.b64decode(rest.strip(), validate=True)
                except (binascii.Error, ValueError):
                    return None
    return None


def spnego_user(user: str | None, protocol: str) -> str | None:
    """The user name as pyspnego should see it.

    For Negotiate, ``alice@contoso.test`` becomes ``alice@CONTOSO.TEST``: a Kerberos realm is upper case
    (RFC 4120 convention, and MIT compares realms case-sensitively), while NTLM and the server's user
    lookup do not mind the case.
    """
    if user and protocol == "negotiate" and "@" in user and "\\" not in user:
        local, _, domain = user.rpartition("@")
        return f"{local}@{domain.upper()}"
    return user


class SpnegoAuth(_Scheme):
    """NTLM or Negotiate through pyspnego; see the module docstring for the handshake and its rules."""

    protocol = "negotiate"

    def __init__(
        self,
        username: str | None = None,
        password: str | Secret | None = None,
        *,
        service: str = "HTTP",
        context_factory: ContextFactory | None = None,
    ) -> None:
        super().__init__()
        self.username = username
        self._password = password if isinstance(password, Secret) or password is None else Secret(password)
        self.service = service
        self._factory = context_factory or self._spnego_context

    def __repr__(self) -> str:
        password = "********" if self._password is not None else "None"
        return f"{type(self).__name__}(username={self.username!r}, password={password})"

    def _spnego_context(self, protocol: str, hostname: str) -> SecurityContext:
        import spnego

        password = self._password.reveal() if self._password is not None else None
        # No password: the platform decides who we are (SSPI: the logged-on Windows user; GSSAPI: the
        # Kerberos ticket cache; pyspnego's own NTLM: the NTLM_USER_FILE of the environment).
        user = spnego_user(self.username, protocol) if password is not None else None
        ctx: SecurityContext = spnego.client(
            user, password, hostname=hostname, service=self.service, protocol=protocol
        )
        return ctx

    def auth_flow(self, request: httpx.Request) -> Flow:
        _require_https(request, self.scheme)
        endpoint = endpoint_of(request.url)
        self._refusals.check(endpoint, self.scheme)
        # Without credentials first: a connection the server already authenticated needs no handshake.
        response = yield request
        if response.status_code != 401:
            return
        _drain(response)
        if not _offers(offered_schemes(response), self.scheme):
            raise self._fail(request, response, endpoint, legs=0)
        yield from self._handshake(request, endpoint)

    def after_challenge(self, request: httpx.Request, challenge: httpx.Response) -> Flow:
        _require_https(request, self.scheme)
        yield from self._handshake(request, endpoint_of(request.url))

    def _step(
        self, ctx: SecurityContext, token: bytes | None, request: httpx.Request, endpoint: str
    ) -> bytes:
        try:
            out = ctx.step(token)
        except Exception as exc:  # pyspnego's SpnegoError family, gssapi errors, ValueError for bad tokens
            raise _with_reason(self._fail(request, None, endpoint, legs=0), _spnego_reason(exc)) from None
        if not out:
            raise self._fail(request, None, endpoint)
        return out

    def _handshake(self, request: httpx.Request, endpoint: str) -> Flow:
        host = request.url.host
        try:
            ctx = self._factory(self.protocol, host)
        except Exception as exc:
            raise _with_reason(self._fail(request, None, endpoint, legs=0), _spnego_reason(exc)) from None
        token: bytes = self._step(ctx, None, request, endpoint)
        legs = 0
        while True:
            legs += 1
            authorization = f"{self.scheme} {base64.b64encode(token).decode('ascii')}"
            response = yield with_authorization(request, authorization)
            server_token = _token_of(response, self.scheme)
            if response.status_code != 401:
                if server_token is not None and not ctx.complete:
                    # The server's last token (Kerberos AP-REP, SPNEGO accept-completed + mechListMIC):
                    # mutual authentication. A bad one means the answer did not come from the server we
                    # meant: refuse it.
                    try:
                        ctx.step(server_token)
                    except Exception as exc:
                        failure = self._fail(request, response, endpoint, legs=legs)
                        reason = f"mutual authentication failed ({_spnego_reason(exc)})"
                        raise _with_reason(failure, reason) from None
                mechanism = _mechanism(ctx, self.protocol)
                self._refusals.succeed(AuthOutcome(endpoint, self.scheme, True, mechanism, legs))
                return
            if server_token is None or ctx.complete or legs >= MAX_HANDSHAKE_LEGS:
                raise self._fail(request, response, endpoint, legs=legs)
            _drain(response)
            token = self._step(ctx, server_token, request, endpoint)


def _with_reason(failure: AuthenticationFailed, reason: str) -> AuthenticationFailed:
    failure.message = f"{failure.message}: {reason}"
    failure.args = (failure.message,)
    return failure


def _mechanism(ctx: SecurityContext, protocol: str) -> str | None:
    try:
        value = ctx.negotiated_protocol
    except Exception:
        value = None
    return value or (protocol if protocol != "negotiate" else None)


def _spnego_reason(exc: BaseException) -> str:
    """A one-line reason from a pyspnego/GSSAPI error (they carry no secrets, but can be long)."""
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


class NTLMAuth(SpnegoAuth):
    """NTLM (MS-NLMP) over HTTP: ``WWW-Authenticate: NTLM``; three legs on one connection."""

    scheme = "NTLM"
    protocol = "ntlm"


class NegotiateAuth(SpnegoAuth):
    """SPNEGO over HTTP (RFC 4559): Kerberos when a ticket can be had for ``HTTP/<host>``, else NTLM."""

    scheme = "Negotiate"
    protocol = "negotiate"


# -- auto -----------------------------------------------------------------------------------------------

_PREFERENCE = ("negotiate", "ntlm", "bearer", "basic")


class AutoAuth(httpx.Auth):
    """Learns what the server offers from its first 401 and continues with the best usable scheme.

    See the module docstring for the order and the Basic rule. ``choices`` maps each origin to the scheme
    chosen for it; ``outcomes`` gathers every endpoint's outcome.
    """

    requires_request_body = True

    def __init__(self, credentials: Credentials, *, context_factory: ContextFactory | None = None) -> None:
        self.credentials = credentials
        self._lock = threading.Lock()
        self._schemes: dict[str, _Scheme] = {}
        self._chosen: dict[str, str] = {}
        self._factory = context_factory

    def __repr__(self) -> str:
        return f"AutoAuth(user={self.credentials.user!r})"

    @property
    def choices(self) -> dict[str, str]:
        with self._lock:
            return dict(self._chosen)

    @property
    def outcomes(self) -> dict[str, AuthOutcome]:
        with self._lock:
            schemes = list(self._schemes.values())
        found: dict[str, AuthOutcome] = {}
        for scheme in schemes:
            found.update(scheme.outcomes)
        return found

    def usable(self, offered: tuple[str, ...]) -> str | None:
        """The scheme ``auto`` takes from ``offered`` (lower-case name), or None."""
        creds = self.credentials
        for name in _PREFERENCE:
            if not _offers(offered, name):
                continue
            if name in ("negotiate", "ntlm") and creds.can_spnego:
                return name
            if name == "bearer" and creds.token is not None:
                return name
            if name == "basic" and creds.password is not None and creds.allow_basic:
                return name
        return None

    def _scheme(self, name: str) -> _Scheme:
        with self._lock:
            found = self._schemes.get(name)
            if found is None:
                found = _build(name, self.credentials, self._factory)
                self._schemes[name] = found
            return found

    def auth_flow(self, request: httpx.Request) -> Flow:
        origin = _origin(request.url)
        with self._lock:
            chosen = self._chosen.get(origin)
        if chosen is not None:
            _annotate(request, ANNOTATION_AUTH_SCHEME, f"{chosen} (chosen earlier for this server)")
            yield from self._scheme(chosen).auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        _drain(response)
        offered = offered_schemes(response)
        name = self.usable(offered)
        if name is None:
            raise AuthenticationFailed(str(request.url), "auto", offered=offered)
        with self._lock:
            self._chosen[origin] = name
        why = "the only usable scheme offered" if name == "basic" else "the strongest usable scheme offered"
        scheme = self._scheme(name)
        scheme._refusals.check(endpoint_of(request.url), scheme.scheme)
        # The note goes on the next legs only (the first request went out before the choice was made).
        following = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
            extensions=dict(request.extensions),
        )
        _annotate(following, ANNOTATION_AUTH_SCHEME, f"{name} ({why})")
        yield from scheme.after_challenge(following, response)


def _drain(response: httpx.Response) -> None:
    """Read a 401's (small) body before the next token is computed. httpx reads it only after the flow has
    made the next request, and making a Negotiate token can take seconds (Kerberos looking for a KDC):
    meanwhile the transport's time limits would see a server that sends nothing and end the exchange."""
    response.read()


def _origin(url: httpx.URL) -> str:
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.scheme}://{url.host}:{port}"


def _build(name: str, creds: Credentials, factory: ContextFactory | None = None) -> _Scheme:
    user = creds.user
    if name == "basic":
        if creds.password is None:
            raise AuthConfigError("Basic authentication needs a password")
        return BasicAuth(user or "", creds.password)
    if name == "bearer":
        if creds.token is None:
            raise AuthConfigError("Bearer authentication needs a token (--token-file or MAPIPROBE_TOKEN)")
        return BearerAuth(creds.token)
    if name in ("ntlm", "negotiate"):
        if not creds.can_spnego:
            raise AuthConfigError(
                f"{name.upper() if name == 'ntlm' else 'Negotiate'} needs a password "
                "(or a Kerberos ticket / Windows logon: current user)"
            )
        cls = NTLMAuth if name == "ntlm" else NegotiateAuth
        return cls(user, creds.password, context_factory=factory)
    raise AuthConfigError(f"unknown authentication scheme {name!r}; choose one of {', '.join(AUTH_CHOICES)}")


def make_auth(
    credentials: Credentials | None, scheme: str = "auto", *, context_factory: ContextFactory | None = None
) -> httpx.Auth | None:
    """THE factory: the auth flow for ``credentials`` and ``scheme`` (one of :data:`AUTH_CHOICES`).

    ``auto`` with nothing to authenticate with (no password, no token) gives None, so that a server's 401
    is reported as "credentials needed"; a forced ``ntlm``/``negotiate`` without a password uses the
    current user (Kerberos ticket cache, Windows logon). Raises :class:`AuthConfigError` when a forced
    scheme cannot work with what was given (``basic`` without a password, ``bearer`` without a token).
    """
    name = (scheme or "auto").lower()
    if name not in AUTH_CHOICES:
        raise AuthConfigError(
            f"unknown authentication scheme {scheme!r}; choose one of {', '.join(AUTH_CHOICES)}"
        )
    if credentials is None or credentials.is_empty:
        if name == "auto":
            return None
        if name in ("ntlm", "negotiate"):
            credentials = Credentials(user=credentials.user if credentials else None, current_user=True)
        else:
            credentials = Credentials()  # _build says what is missing
    if name == "auto":
        return AutoAuth(credentials, context_factory=context_factory)
    return _build(name, credentials, context_factory)


def auth_outcomes(auth: httpx.Auth | None) -> dict[str, AuthOutcome]:
    """The per-endpoint outcomes an auth object of this module recorded (empty for others)."""
    found: Any = getattr(auth, "outcomes", None)
    return dict(found) if isinstance(found, dict) else {}


# -- Kerberos diagnosis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KerberosCheck:
    """Whether a Kerberos service ticket for ``spn`` can be had (what Negotiate needs to use Kerberos)."""

    spn: str
    ok: bool
    reason: str | None = None
    missing_spn: bool = False  # the KDC does not know the service principal (KDC_ERR_S_PRINCIPAL_UNKNOWN)
    available: bool = True  # False: no Kerberos library (python-gssapi / SSPI) on this machine


_UNKNOWN_PRINCIPAL = (
    "not found in kerberos database",
    "s_principal_unknown",
    "server not found",
    "principal unknown",
    "target principal name is incorrect",
)


def check_kerberos(
    host: str,
    credentials: Credentials | None = None,
    *,
    service: str = "HTTP",
    context_factory: Callable[..., Any] | None = None,
) -> KerberosCheck:
    """Try to get a ticket for ``HTTP/<host>`` (nothing is sent to the web server).

    The KDC's answer tells a missing SPN ("Server not found in Kerberos database") from other failures
    (no ticket and no password, KDC unreachable, wrong password).
    """
    spn = f"{service}/{host}"
    factory = context_factory
    if factory is None:
        try:
            import spnego
        except ImportError:  # pragma: no cover - pyspnego is a dependency
            return KerberosCheck(spn, False, "pyspnego is not installed", available=False)
        if "kerberos" not in _kerberos_protocols():
            return KerberosCheck(
                spn,
                False,
                "no Kerberos library here (install the 'kerberos' extra: python-gssapi)",
                available=False,
            )
        factory = spnego.client
    user = credentials.user if credentials is not None else None
    password = (
        credentials.password.reveal()
        if credentials is not None and credentials.password is not None
        else None
    )
    if password is None:
        user = None  # the ticket cache decides who we are
    try:
        ctx = factory(
            spnego_user(user, "negotiate"), password, hostname=host, service=service, protocol="kerberos"
        )
        ctx.step()
    except Exception as exc:
        reason = _spnego_reason(exc)
        missing = any(marker in reason.lower() for marker in _UNKNOWN_PRINCIPAL)
        if missing:
            reason = f"the KDC has no service principal {spn} (missing SPN): {reason}"
        return KerberosCheck(spn, False, reason, missing_spn=missing)
    return KerberosCheck(spn, True)


def _kerberos_protocols() -> list[str]:
    """Kerberos is there with SSPI (Windows) or with python-gssapi *and* krb5 (what pyspnego's GSSAPI
    backend imports; its ``available_protocols`` does not check that itself)."""
    try:
        from spnego import _gss
        from spnego._sspi import SSPIProxy
    except ImportError:  # pragma: no cover
        return []
    found = list(SSPIProxy.available_protocols())
    if _gss.HAS_GSSAPI:
        found += _gss.GSSAPIProxy.available_protocols()
    return found


def kerberos_available() -> bool:
    """Whether this machine can do Kerberos at all (python-gssapi, or SSPI on Windows)."""
    return "kerberos" in _kerberos_protocols()


__all__ = [
    "ANNOTATION_AUTH_SCHEME",
    "AUTH_CHOICES",
    "AuthConfigError",
    "AuthOutcome",
    "AutoAuth",
    "BasicAuth",
    "BearerAuth",
    "Credentials",
    "KerberosCheck",
    "NTLMAuth",
    "NegotiateAuth",
    "Secret",
    "SecurityContext",
    "SpnegoAuth",
    "auth_outcomes",
    "check_kerberos",
    "endpoint_of",
    "kerberos_available",
    "make_auth",
    "offered_schemes",
    "spnego_user",
]
