"""NTLM, Negotiate, Bearer and auto flows driven by hand, against the simulator's real acceptors.

No sockets: each request a flow yields is judged by a :class:`~mapiprobe.simulator.web.Site` with the
simulator's schemes (pyspnego's NTLM/SPNEGO acceptor, Basic, Bearer) through a per-"connection" state, and
its verdict goes back into the flow as an ``httpx.Response`` — the way httpx's own auth tests drive flows.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiprobe.simulator.auth import SimAuth, demo_token
from mapiprobe.simulator.org import load_organisation
from mapiprobe.simulator.web import ConnectionState, Request, Site
from mapiprobe.transport.auth import (
    ANNOTATION_AUTH_SCHEME,
    AuthConfigError,
    AutoAuth,
    BearerAuth,
    Credentials,
    NegotiateAuth,
    NTLMAuth,
    Secret,
    auth_outcomes,
    check_kerberos,
    endpoint_of,
    make_auth,
    spnego_user,
)
from mapiprobe.transport.errors import AuthenticationFailed, InsecureCredentialRefused
from tests.hypothesis_profiles import examples

ORG = load_organisation()
ALICE = ORG.users[0]
URL = f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={ALICE.mailbox_guid}@contoso.test"
NTLMSSP_B64 = "TlRMTVNTUA"  # base64 of b"NTLMSSP\0" (every NTLM message starts so)


class FakeServer:
    """A simulated front end: the simulator's authentication on one kept-alive "connection"."""

    def __init__(self, tmp: Path, *offers: str, scenario: str = "normal") -> None:
        self.site = Site(realm="contoso.test")
        self.auth = SimAuth(ORG, self.site, tmp, scenario=lambda: scenario)
        self.auth.offer("*", offers)
        self.connection = ConnectionState(peer=("127.0.0.1", 1))
        self.seen: list[httpx.Request] = []

    def new_connection(self) -> None:
        self.connection = ConnectionState(peer=("127.0.0.1", 2))

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        req = Request(
            listener="https",
            scheme=request.url.scheme,
            host=request.url.host,
            method=request.method,
            path=request.url.path,
            query=request.url.query.decode(),
            headers=dict(request.headers),
            body=request.content,
            connection=self.connection,
        )
        denied = self.site.authenticate(req)
        if denied is not None:
            return httpx.Response(denied.status, headers=denied.headers, content=denied.body, request=request)
        return httpx.Response(200, headers=req.response_headers, content=b"ok", request=request)

    def drive(self, auth: httpx.Auth, request: httpx.Request | None = None) -> httpx.Response:
        flow = auth.sync_auth_flow(request or httpx.Request("POST", URL, content=b"body"))
        sent = next(flow)
        while True:
            response = self.answer(sent)
            try:
                sent = flow.send(response)
            except StopIteration:
                return response

    def authorizations(self) -> list[str | None]:
        return [r.headers.get("Authorization") for r in self.seen]


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


def _creds(password: str = ALICE.password, user: str = "alice@contoso.test", **kw: object) -> Credentials:
    return Credentials(user=user, password=Secret(password), **kw)  # type: ignore[arg-type]


# -- NTLM -----------------------------------------------------------------------------------------------


def test_ntlm_three_legs_on_one_connection(tmp: Path) -> None:
    server = FakeServer(tmp, "NTLM")
    auth = NTLMAuth("alice@contoso.test", ALICE.password)
    response = server.drive(auth)
    assert response.status_code == 200
    auths = server.authorizations()
    # Anonymous first, then NEGOTIATE (type 1), then AUTHENTICATE (type 3).
    assert auths[0] is None
    assert auths[1] is not None and auths[1].startswith("NTLM " + NTLMSSP_B64)
    assert base64.b64decode(auths[1].split()[1])[8] == 1
    assert auths[2] is not None and base64.b64decode(auths[2].split()[1])[8] == 3
    outcome = auth_outcomes(auth)[endpoint_of(httpx.URL(URL))]
    assert outcome.ok and outcome.scheme == "NTLM" and outcome.mechanism == "ntlm" and outcome.legs == 2
    assert [e.outcome for e in server.site.auth_log] == ["challenge", "ok"]


def test_ntlm_on_an_authenticated_connection_needs_no_handshake(tmp: Path) -> None:
    server = FakeServer(tmp, "NTLM")
    auth = NTLMAuth("CONTOSO\\alice", ALICE.password)
    assert server.drive(auth).status_code == 200
    server.seen.clear()
    assert server.drive(auth).status_code == 200
    assert server.authorizations() == [None]  # IIS keeps the logon for the connection
    server.new_connection()
    server.seen.clear()
    assert server.drive(auth).status_code == 200
    assert len(server.seen) == 3


def test_ntlm_wrong_password_fails_once_and_is_not_retried(tmp: Path) -> None:
    server = FakeServer(tmp, "NTLM", "Basic")
    auth = NTLMAuth("alice", "not-the-password")
    with pytest.raises(AuthenticationFailed) as info:
        server.drive(auth)
    assert str(info.value).startswith(f"authentication failed for {URL} with NTLM")
    assert info.value.offered == ("NTLM", "Basic")
    assert server.auth.attempts("NTLM") == 1
    # The same endpoint again: refused at once, nothing is sent.
    sent_before = len(server.seen)
    flow = auth.sync_auth_flow(httpx.Request("POST", URL, content=b"again"))
    with pytest.raises(AuthenticationFailed):
        next(flow)
    assert len(server.seen) == sent_before and server.auth.attempts("NTLM") == 1
    # ...and no Basic was ever tried.
    assert not [a for a in server.authorizations() if a and a.startswith("Basic")]
    auth.reset()
    with pytest.raises(AuthenticationFailed):
        server.drive(auth)
    assert server.auth.attempts("NTLM") == 2


def test_forced_ntlm_against_a_basic_only_server_sends_no_token(tmp: Path) -> None:
    server = FakeServer(tmp, "Basic")
    with pytest.raises(AuthenticationFailed) as info:
        server.drive(NTLMAuth("alice", ALICE.password))
    assert info.value.offered == ("Basic",) and "with NTLM" in str(info.value)
    assert server.authorizations() == [None]


# -- Negotiate ------------------------------------------------------------------------------------------


def test_negotiate_falls_back_to_ntlm_inside_spnego(tmp: Path) -> None:
    server = FakeServer(tmp, "Negotiate")
    auth = NegotiateAuth("alice@contoso.test", ALICE.password)
    response = server.drive(auth)
    assert response.status_code == 200
    # The last answer carries the server's final SPNEGO token (mutual authentication), which was checked.
    assert response.headers["WWW-Authenticate"].startswith("Negotiate ")
    outcome = auth_outcomes(auth)[endpoint_of(httpx.URL(URL))]
    assert outcome.ok and outcome.mechanism == "ntlm"
    assert server.site.auth_log[-1].mechanism == "ntlm"
    assert all(a is None or a.startswith("Negotiate ") for a in server.authorizations())


def test_negotiate_wrong_password(tmp: Path) -> None:
    server = FakeServer(tmp, "Negotiate", "NTLM")
    with pytest.raises(AuthenticationFailed) as info:
        server.drive(NegotiateAuth("alice", "wrong"))
    assert "with Negotiate" in str(info.value)
    assert server.auth.attempts() == 1


def test_a_bad_mutual_authentication_token_is_refused(tmp: Path) -> None:
    server = FakeServer(tmp, "Negotiate")
    auth = NegotiateAuth("alice", ALICE.password)
    flow = auth.sync_auth_flow(httpx.Request("GET", URL))
    sent = next(flow)
    while True:
        response = server.answer(sent)
        if response.status_code == 200:
            forged = httpx.Response(
                200, headers={"WWW-Authenticate": "Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg=="}
            )
            with pytest.raises(AuthenticationFailed) as info:
                flow.send(forged)
            assert "mutual authentication failed" in str(info.value)
            return
        sent = flow.send(response)


def test_spnego_user_upper_cases_the_realm() -> None:
    assert spnego_user("alice@contoso.test", "negotiate") == "alice@CONTOSO.TEST"
    assert spnego_user("alice@contoso.test", "ntlm") == "alice@contoso.test"
    assert spnego_user("CONTOSO\\alice", "negotiate") == "CONTOSO\\alice"
    assert spnego_user(None, "negotiate") is None


def test_current_user_uses_the_ticket_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No password: pyspnego gets no user and no password (Kerberos cache on Linux, SSPI on Windows)."""
    import spnego

    seen: list[tuple[object, object, str]] = []

    def fake_client(user: object, password: object, **kw: str) -> object:
        seen.append((user, password, kw["protocol"]))
        raise spnego.exceptions.NoCredentialError(context_msg="no ticket")

    monkeypatch.setattr(spnego, "client", fake_client)
    monkeypatch.setattr("sys.platform", "linux")
    auth = make_auth(Credentials(user="alice"), "negotiate")
    assert isinstance(auth, NegotiateAuth)
    flow = auth.sync_auth_flow(httpx.Request("GET", URL))
    next(flow)
    with pytest.raises(AuthenticationFailed) as info:
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"}))
    assert seen == [(None, None, "negotiate")]
    assert "no ticket" in str(info.value) or "credential" in str(info.value).lower()


# -- Bearer and Basic -----------------------------------------------------------------------------------


def test_bearer_demo_token(tmp: Path) -> None:
    server = FakeServer(tmp, "Bearer")
    token = demo_token(ORG, ALICE)
    assert server.drive(BearerAuth(token)).status_code == 200
    assert server.authorizations() == [f"Bearer {token}"]
    with pytest.raises(AuthenticationFailed) as info:
        server.drive(BearerAuth("mpt-forged"))
    assert "with Bearer" in str(info.value) and "mpt-forged" not in str(info.value)
    assert "mpt-" not in repr(BearerAuth(token))


def test_bearer_and_spnego_refuse_plain_http() -> None:
    for auth in (BearerAuth("t"), NTLMAuth("a", "p"), NegotiateAuth("a", "p")):
        flow = auth.sync_auth_flow(httpx.Request("GET", "http://mail.contoso.test/mapi/emsmdb/"))
        with pytest.raises(InsecureCredentialRefused):
            next(flow)
    with pytest.raises(AuthConfigError):
        BearerAuth("  ")


# -- auto -----------------------------------------------------------------------------------------------


def test_auto_prefers_negotiate_and_remembers_the_choice(tmp: Path) -> None:
    server = FakeServer(tmp, "Negotiate", "NTLM", "Basic")
    auth = AutoAuth(_creds())
    assert server.drive(auth).status_code == 200
    assert auth.choices == {"https://mail.contoso.test:443": "negotiate"}
    assert not [a for a in server.authorizations() if a and a.startswith("Basic")]
    # The legs after the choice carry the note for the trace.
    notes = [dict(r.extensions.get("mapiprobe.annotations", ())) for r in server.seen]
    assert ANNOTATION_AUTH_SCHEME not in notes[0]
    assert notes[1][ANNOTATION_AUTH_SCHEME].startswith("negotiate (the strongest")
    assert auth.outcomes[endpoint_of(httpx.URL(URL))].mechanism == "ntlm"


def test_auto_uses_basic_only_when_nothing_stronger_is_offered(tmp: Path) -> None:
    server = FakeServer(tmp, "Basic")
    auth = AutoAuth(_creds())
    assert server.drive(auth).status_code == 200
    assert server.authorizations()[0] is None and server.authorizations()[1].startswith("Basic ")  # type: ignore[union-attr]
    assert auth.choices == {"https://mail.contoso.test:443": "basic"}
    note = dict(server.seen[1].extensions["mapiprobe.annotations"])[ANNOTATION_AUTH_SCHEME]
    assert "only usable scheme" in note
    # Once chosen, Basic goes with the first request (no anonymous round trip per request).
    server.seen.clear()
    assert server.drive(auth).status_code == 200
    assert len(server.seen) == 1 and server.authorizations()[0].startswith("Basic ")  # type: ignore[union-attr]


def test_auto_with_basic_not_allowed_sends_nothing(tmp: Path) -> None:
    server = FakeServer(tmp, "Basic")
    with pytest.raises(AuthenticationFailed) as info:
        server.drive(AutoAuth(_creds(allow_basic=False)))
    assert "with auto" in str(info.value) and info.value.offered == ("Basic",)
    assert server.authorizations() == [None]


def test_auto_picks_bearer_for_a_token_and_never_sends_the_password(tmp: Path) -> None:
    server = FakeServer(tmp, "Bearer", "Basic")
    creds = Credentials(user="alice", password=Secret("x"), token=Secret(demo_token(ORG, ALICE)))
    assert server.drive(AutoAuth(creds)).status_code == 200
    assert server.authorizations()[-1].startswith("Bearer ")  # type: ignore[union-attr]
    server2 = FakeServer(tmp, "Bearer")
    with pytest.raises(AuthenticationFailed):
        server2.drive(AutoAuth(_creds()))  # a password only: Bearer is not usable
    assert server2.authorizations() == [None]


def test_auto_does_not_send_credentials_over_http(tmp: Path) -> None:
    auth = AutoAuth(_creds())
    flow = auth.sync_auth_flow(httpx.Request("GET", "http://mail.contoso.test/"))
    first = next(flow)
    assert "Authorization" not in first.headers
    with pytest.raises(InsecureCredentialRefused):
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": "Basic realm=x"}))


def test_auto_passes_through_when_no_credentials_are_asked(tmp: Path) -> None:
    auth = AutoAuth(_creds())
    flow = auth.sync_auth_flow(httpx.Request("GET", URL))
    assert "Authorization" not in next(flow).headers
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))


# -- the factory ----------------------------------------------------------------------------------------


def test_make_auth() -> None:
    assert make_auth(None) is None
    assert make_auth(Credentials(user="alice")) is None  # nothing to log on with: a 401 is reported as such
    assert isinstance(make_auth(_creds(), "auto"), AutoAuth)
    assert isinstance(make_auth(_creds(), "ntlm"), NTLMAuth)
    assert isinstance(make_auth(_creds(), "negotiate"), NegotiateAuth)
    assert isinstance(make_auth(Credentials(user="alice"), "ntlm"), NTLMAuth)  # current user
    assert isinstance(make_auth(Credentials(token=Secret("t")), "bearer"), BearerAuth)
    with pytest.raises(AuthConfigError):
        make_auth(Credentials(user="alice"), "basic")
    with pytest.raises(AuthConfigError):
        make_auth(_creds(), "bearer")
    with pytest.raises(AuthConfigError):
        make_auth(_creds(), "digest")


def test_credentials_hide_their_secrets() -> None:
    creds = Credentials(user="alice", password="Pa55-w0rd!", token="tok-123456")  # type: ignore[arg-type]
    assert isinstance(creds.password, Secret) and creds.password.reveal() == "Pa55-w0rd!"
    assert "Pa55" not in repr(creds) and "tok-123456" not in repr(creds)
    for auth in (make_auth(creds, "ntlm"), make_auth(creds, "negotiate"), make_auth(creds, "auto")):
        assert "Pa55" not in repr(auth)


def test_spnego_debug_logging_is_capped() -> None:
    assert logging.getLogger("spnego").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("httpcore.http11").getEffectiveLevel() >= logging.INFO


def test_check_kerberos_names_a_missing_spn() -> None:
    class Ctx:
        def step(self) -> bytes:
            raise RuntimeError(
                "SpnegoError (1): Server not found in Kerberos database, Context: Processing security token"
            )

    check = check_kerberos("mail.contoso.test", _creds(), context_factory=lambda *a, **k: Ctx())
    assert not check.ok and check.missing_spn and check.spn == "HTTP/mail.contoso.test"
    assert "missing SPN" in (check.reason or "") and "HTTP/mail.contoso.test" in (check.reason or "")

    def no_kdc(*a: object, **k: object) -> object:
        raise RuntimeError('Cannot find KDC for realm "CONTOSO.TEST"')

    other = check_kerberos("mail.contoso.test", _creds(), context_factory=no_kdc)
    assert not other.ok and not other.missing_spn


# -- fuzzing: whatever a server answers, only our errors come out ---------------------------------------

_challenge = st.one_of(
    st.sampled_from(["NTLM", "Negotiate", "Basic realm=x", "Bearer", "Digest realm=y", "", "NTLM ???"]),
    st.builds(
        lambda s, b: f"{s} {base64.b64encode(b).decode()}",
        st.sampled_from(["NTLM", "Negotiate"]),
        st.binary(max_size=80),
    ),
    st.builds(
        lambda b: "NTLM " + base64.b64encode(b"NTLMSSP\x00\x02\x00\x00\x00" + b).decode(),
        st.binary(max_size=120),
    ),
    st.text(max_size=40),
)


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheme=st.sampled_from(["auto", "ntlm", "negotiate", "basic", "bearer"]),
    answers=st.lists(
        st.tuples(st.sampled_from([200, 401, 401, 401, 403, 500]), st.lists(_challenge, max_size=3)),
        min_size=1,
        max_size=6,
    ),
)
def test_fuzz_flows_raise_only_our_errors(scheme: str, answers: list[tuple[int, list[str]]]) -> None:
    creds = Credentials(user="alice", password=Secret("pw"), token=Secret("tok"))
    auth = make_auth(creds, scheme)
    assert auth is not None
    flow = auth.sync_auth_flow(httpx.Request("POST", URL, content=b"x"))
    next(flow)
    try:
        for status, challenges in answers:
            headers = []
            for c in challenges:
                try:
                    httpx.Headers([("WWW-Authenticate", c)])
                except Exception:
                    continue
                headers.append(("WWW-Authenticate", c))
            flow.send(httpx.Response(status, headers=headers))
    except (StopIteration, AuthenticationFailed):
        pass


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NTLM_USER_FILE", raising=False)
    yield
