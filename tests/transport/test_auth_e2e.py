"""Authentication end to end over loopback TLS: mapiprobe's flows (pyspnego client) against the simulator's
acceptors (pyspnego server), through the real client (httpx, our backend, tracing) and the real sessions."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import httpx
import pytest

from mapiprobe.cli import main
from mapiprobe.session.addressbook import AddressBookSession
from mapiprobe.session.mailbox import MailboxSession
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import (
    BearerAuth,
    Credentials,
    NegotiateAuth,
    NTLMAuth,
    Secret,
    auth_outcomes,
    endpoint_of,
    make_auth,
)
from mapiprobe.transport.client import make_client
from mapiprobe.transport.errors import AuthenticationFailed
from mapiprobe.transport.trace import Trace
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import cli_args, connection

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.auth.reset()
    _module_sim.https_site.auth_log.clear()
    _module_sim.clear_requests()
    yield _module_sim
    _module_sim.set_scenario("normal")
    _module_sim.auth.reset()
    assert not _module_sim.errors


def emsmdb(sim: Simulator, user: int = 0) -> str:
    return f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={sim.users[user].mailbox_guid}@contoso.test"


def nspi(sim: Simulator, user: int = 0) -> str:
    return f"https://mail.contoso.test/mapi/nspi/?MailboxId={sim.users[user].mailbox_guid}@contoso.test"


def test_real_ntlm_handshake_keeps_its_connection(sim: Simulator) -> None:
    sim.auth.offer("emsmdb", ["NTLM"])
    alice = sim.users[0]
    trace = Trace()
    auth = NTLMAuth("CONTOSO\\alice", alice.password)
    with make_client(connection(sim), trace=trace) as client:
        assert client.get(emsmdb(sim), auth=auth).status_code == 200
        assert client.get(emsmdb(sim), auth=auth).status_code == 200
    first, second, third, fourth = trace.records
    assert [r.status for r in trace.records] == [401, 401, 200, 200]
    assert first.header("Authorization", response=False) is None
    assert second.header("Authorization", response=False) == "NTLM [redacted]"
    assert third.header("Authorization", response=False) == "NTLM [redacted]"
    # One TCP connection for the whole handshake (and the next request, which needs no handshake).
    assert not first.reused_connection and second.reused_connection and third.reused_connection
    assert fourth.reused_connection and fourth.header("Authorization", response=False) is None
    assert len({r.peer_address for r in trace.records}) == 1
    ok = [e for e in sim.https_site.auth_log if e.outcome == "ok"]
    assert [(e.scheme, e.login, e.mechanism) for e in ok] == [("NTLM", "alice", "ntlm")]
    assert auth_outcomes(auth)[endpoint_of(httpx.URL(emsmdb(sim)))].legs == 2


def test_negotiate_over_loopback_says_which_mechanism(sim: Simulator) -> None:
    sim.auth.offer("emsmdb", ["Negotiate"])
    auth = NegotiateAuth("alice@contoso.test", sim.users[0].password)
    with make_client(connection(sim)) as client:
        response = client.get(emsmdb(sim), auth=auth)
    assert response.status_code == 200
    assert auth_outcomes(auth)[endpoint_of(httpx.URL(emsmdb(sim)))].mechanism == "ntlm"


def test_mailbox_and_address_book_sessions_with_ntlm(sim: Simulator) -> None:
    sim.set_scenario("windows-auth")
    alice = sim.users[0]
    creds = Credentials(user="alice@contoso.test", password=Secret(alice.password))
    auth = make_auth(creds, "auto")
    with MailboxSession(emsmdb(sim), user_dn=alice.legacy_dn, auth=auth, connection=connection(sim)) as mbx:
        assert any(f.display_name == "Inbox" for f in mbx.folders())
    with AddressBookSession(nspi(sim), auth=make_auth(creds, "ntlm"), connection=connection(sim)) as ab:
        assert ab.count() > 0
    assert {e.scheme for e in sim.https_site.auth_log if e.outcome == "ok"} <= {"Negotiate", "NTLM"}
    assert not [r for r in sim.requests if (r.header("Authorization") or "").startswith("Basic")]


@pytest.mark.parametrize("scheme", ["basic", "ntlm", "negotiate"])
def test_wrong_password_one_attempt_per_scheme(sim: Simulator, scheme: str) -> None:
    sim.auth.offer("*", ["Negotiate", "NTLM", "Basic"])
    alice = sim.users[0]
    auth = make_auth(Credentials(user="alice", password=Secret("not-" + alice.password)), scheme)
    for _ in range(3):  # the caller insists (a new session each time); the server still sees one attempt
        session = MailboxSession(emsmdb(sim), user_dn=alice.legacy_dn, auth=auth, connection=connection(sim))
        with pytest.raises(AuthenticationFailed) as info:
            session.open()
        session.close()
    name = {"basic": "Basic", "ntlm": "NTLM", "negotiate": "Negotiate"}[scheme]
    assert str(info.value).startswith(f"authentication failed for {emsmdb(sim)} with {name}")
    assert alice.password not in str(info.value)
    assert sim.auth.attempts() == 1 and sim.auth.attempts(name) == 1


def test_wrong_password_auto_tries_only_the_best_scheme(sim: Simulator) -> None:
    sim.auth.offer("*", ["Negotiate", "NTLM", "Basic"])
    alice = sim.users[0]
    auth = make_auth(Credentials(user="alice", password=Secret("wrong")), "auto")
    with make_client(connection(sim)) as client, pytest.raises(AuthenticationFailed) as info:
        client.get(emsmdb(sim), auth=auth)
    assert "with Negotiate" in str(info.value)
    assert sim.auth.attempts() == 1
    assert not [r for r in sim.requests if (r.header("Authorization") or "").startswith("Basic")]
    del alice


def test_ab_refused_scenario(sim: Simulator) -> None:
    sim.set_scenario("ab-refused")
    sim.auth.offer("*", ["NTLM"])
    alice = sim.users[0]
    assert sim.auth.refused_user == alice
    auth = make_auth(Credentials(user="alice", password=Secret(alice.password)), "auto")
    with MailboxSession(emsmdb(sim), user_dn=alice.legacy_dn, auth=auth, connection=connection(sim)) as mbx:
        assert mbx.folders()
    session = AddressBookSession(nspi(sim), auth=auth, connection=connection(sim))
    with pytest.raises(AuthenticationFailed) as info:
        session.bind()
    session.close()
    assert "/mapi/nspi/" in str(info.value) and "with NTLM" in str(info.value)
    refused = [e for e in sim.https_site.auth_log if e.outcome == "refused"]
    assert refused and all(e.path.startswith("/mapi/nspi/") for e in refused)
    # Bob is not refused.
    bob = sim.users[1]
    bob_auth = make_auth(Credentials(user="bob", password=Secret(bob.password)), "auto")
    with AddressBookSession(nspi(sim, 1), auth=bob_auth, connection=connection(sim)) as ab:
        assert ab.count() > 0


def test_bearer_modern_auth(sim: Simulator) -> None:
    sim.set_scenario("modern-auth")
    token = sim.info()["bearer_tokens"]["alice@contoso.test"]
    with make_client(connection(sim)) as client:
        anonymous = client.get(emsmdb(sim))
        assert anonymous.status_code == 401
        assert [v.split()[0].rstrip(",") for v in anonymous.headers.get_list("WWW-Authenticate")] == [
            "Negotiate",
            "NTLM",
            "Bearer",
        ]
        assert client.get(emsmdb(sim), auth=BearerAuth(token)).status_code == 200
        auto = make_auth(Credentials(token=Secret(token)), "auto")
        assert client.get(emsmdb(sim, 0), auth=auto).status_code == 200


def _run_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    *args: str,
    password: str,
) -> tuple[int, str, str]:
    argv = [*args, *cli_args(sim, timeout=5.0), "--password-stdin"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ntlm_and_forced_basic_on_a_windows_auth_server(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("windows-auth")
    alice = sim.users[0]
    url_args = [alice.email, "--addressbook-url", nspi(sim), "--user", "alice"]
    code, out, err = _run_cli(
        capsys,
        monkeypatch,
        sim,
        "addresslists",
        *url_args,
        "--auth",
        "ntlm",
        "--json",
        password=alice.password,
    )
    assert code == 0, err
    assert json.loads(out)
    code, out, err = _run_cli(
        capsys, monkeypatch, sim, "addresslists", *url_args, "--auth", "basic", password=alice.password
    )
    assert code == 1 and "with Basic (the server offers: Negotiate, NTLM)" in err
    assert alice.password not in out + err


def test_cli_wrong_password_is_one_attempt(
    sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_scenario("windows-auth")
    code, _out, err = _run_cli(
        capsys,
        monkeypatch,
        sim,
        "addresslists",
        sim.users[0].email,
        "--addressbook-url",
        nspi(sim),
        "--user",
        "alice",
        password="nope",
    )
    assert code == 1 and "authentication failed for" in err and "with Negotiate" in err
    assert sim.auth.attempts() == 1
