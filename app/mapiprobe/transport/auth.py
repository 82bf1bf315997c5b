"""Authentication schemes as httpx auth flows (generators: yield a request, receive its response).

The flows do no I/O themselves, so tests drive them by hand: ``flow = auth.sync_auth_flow(request)``,
``next(flow)`` gives the request to send, ``flow.send(response)`` the next one (or StopIteration).

:class:`BasicAuth` (RFC 7617) refuses to run over anything but HTTPS: for a ``http://`` URL it raises
:class:`~mapiprobe.transport.errors.InsecureCredentialRefused` before yielding, so nothing is sent at all.
A 401 after the credentials went out raises :class:`~mapiprobe.transport.errors.AuthenticationFailed`
naming the endpoint and scheme (and the schemes the server offers instead). The password is kept out of
``repr()``, tracebacks' reprs and every message.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from mapiprobe.transport.errors import AuthenticationFailed, InsecureCredentialRefused, redact_url
from mapiprobe.transport.trace import challenge_schemes


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


def offered_schemes(response: httpx.Response) -> tuple[str, ...]:
    """Scheme names of every ``WWW-Authenticate`` challenge of ``response`` (no tokens)."""
    found: list[str] = []
    for value in response.headers.get_list("WWW-Authenticate"):
        for scheme in challenge_schemes(value):
            if scheme not in found:
                found.append(scheme)
    return tuple(found)


def _require_https(request: httpx.Request, scheme: str) -> None:
    if request.url.scheme != "https":
        raise InsecureCredentialRefused(redact_url(request.url), scheme)


class BasicAuth(httpx.Auth):
    """HTTP Basic over HTTPS only.

    ``preemptive`` (the default, as Outlook does for Basic) sends the credentials with the first request;
    otherwise the request goes out without them and is repeated with them only after a 401 that offers
    Basic.
    """

    scheme = "Basic"

    def __init__(self, username: str, password: str | Secret, *, preemptive: bool = True) -> None:
        self.username = username
        self._password = password if isinstance(password, Secret) else Secret(password)
        self.preemptive = preemptive

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=********)"

    def _header(self) -> str:
        raw = f"{self.username}:{self._password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _require_https(request, self.scheme)
        if not self.preemptive:
            response = yield request
            if response.status_code != 401:
                return
            offered = offered_schemes(response)
            if not any(s.lower() == "basic" for s in offered):
                raise AuthenticationFailed(str(request.url), self.scheme, offered=offered)
        request.headers["Authorization"] = self._header()
        response = yield request
        if response.status_code == 401:
            raise AuthenticationFailed(str(request.url), self.scheme, offered=offered_schemes(response))


__all__ = ["BasicAuth", "Secret", "offered_schemes"]
