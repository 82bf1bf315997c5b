"""Kerberos for real: a TGT from the test KDC, Negotiate end to end against the simulator's GSSAPI acceptor
(its keytab holds HTTP/mail.contoso.test and HTTP/autodiscover.contoso.test), the mechanism the probe
reports, and a host without an HTTP/ principal (a missing SPN) named as such."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mapiprobe.session.mailbox import MailboxSession
from mapiprobe.session.probe import Prober
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import (
    Credentials,
    NegotiateAuth,
    Secret,
    auth_outcomes,
    check_kerberos,
    endpoint_of,
    make_auth,
)
from mapiprobe.transport.client import make_client
from mapiprobe.transport.errors import AuthenticationFailed
from tests.kerberos.conftest import ALICE_PASSWORD, KDC
from tests.session.simhelp import connection

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def _module_sim(kdc: KDC) -> Iterator[Simulator]:
    with Simulator() as sim:
        sim.auth.keytab = kdc.keytab
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator, kdc: KDC) -> Iterator[Simulator]:
    _module_sim.set_scenario("normal")
    _module_sim.auth.offer("*", ["Negotiate", "NTLM"])
    _module_sim.https_site.auth_log.clear()
    kdc.kdestroy()
    yield _module_sim
    _module_sim.auth.reset()
    kdc.kdestroy()
    assert not _module_sim.errors


def emsmdb(sim: Simulator, host: str = "mail.contoso.test") -> str:
    return f"https://{host}/mapi/emsmdb/?MailboxId={sim.users[0].mailbox_guid}@contoso.test"


def _mechanism(auth: httpx.Auth, url: str) -> str | None:
    outcome = auth_outcomes(auth).get(endpoint_of(httpx.URL(url)))
    return outcome.mechanism if outcome is not None else None


def test_kerberos_with_a_ticket_from_kinit(sim: Simulator, kdc: KDC) -> None:
    kdc.kinit("alice", ALICE_PASSWORD)
    auth = make_auth(Credentials(user="alice"), "negotiate")  # no password: the ticket cache
    assert isinstance(auth, NegotiateAuth)
    with make_client(connection(sim)) as client:
        response = client.get(emsmdb(sim), auth=auth)
    assert response.status_code == 200
    assert _mechanism(auth, emsmdb(sim)) == "kerberos"
    ok = [e for e in sim.https_site.auth_log if e.outcome == "ok"]
    assert [(e.scheme, e.login, e.mechanism) for e in ok] == [("Negotiate", "alice", "kerberos")]


def test_kerberos_with_a_password_gets_its_own_ticket(sim: Simulator) -> None:
    creds = Credentials(user="alice@contoso.test", password=Secret(ALICE_PASSWORD))
    auth = make_auth(creds, "auto")
    with make_client(connection(sim)) as client:
        assert client.get(emsmdb(sim), auth=auth).status_code == 200
    assert _mechanism(auth, emsmdb(sim)) == "kerberos"


def test_mailbox_session_over_kerberos(sim: Simulator, kdc: KDC) -> None:
    kdc.kinit("alice@CONTOSO.TEST", ALICE_PASSWORD)
    alice = sim.users[0]
    auth = make_auth(Credentials(), "negotiate")
    with MailboxSession(emsmdb(sim), user_dn=alice.legacy_dn, auth=auth, connection=connection(sim)) as mbx:
        assert any(f.display_name == "Inbox" for f in mbx.folders())
    assert {e.mechanism for e in sim.https_site.auth_log if e.outcome == "ok"} == {"kerberos"}


def test_missing_spn_is_named_and_negotiate_falls_back_to_ntlm(sim: Simulator) -> None:
    creds = Credentials(user="alice@contoso.test", password=Secret(ALICE_PASSWORD))
    check = check_kerberos("mail.fabrikam.test", creds)
    assert not check.ok and check.missing_spn and check.spn == "HTTP/mail.fabrikam.test"
    assert "missing SPN" in (check.reason or "")
    assert check_kerberos("mail.contoso.test", creds).ok
    url = emsmdb(sim, "mail.fabrikam.test")
    auth = make_auth(creds, "negotiate")
    with make_client(connection(sim)) as client:
        assert client.get(url, auth=auth).status_code == 200
    assert _mechanism(auth, url) == "ntlm"


def test_probe_reports_the_mechanism_and_the_missing_spn(sim: Simulator) -> None:
    creds = Credentials(user="alice@contoso.test", password=Secret(ALICE_PASSWORD))
    report = Prober(
        "https://mail.contoso.test/mapi/emsmdb/?MailboxId=x@contoso.test",
        connection=connection(sim),
        credentials=creds,
        extra_urls=[("mailbox (fabrikam)", emsmdb(sim, "mail.fabrikam.test"))],
        check_certificates=False,
    ).run()
    good, missing = report.endpoints
    assert good.offered == ("Negotiate", "NTLM") and good.status == 401
    assert good.negotiate is not None and good.negotiate.mechanism == "kerberos"
    assert good.negotiate.kerberos is not None and good.negotiate.kerberos.ok
    assert missing.negotiate is not None and missing.negotiate.mechanism == "ntlm"
    assert missing.negotiate.kerberos is not None and missing.negotiate.kerberos.missing_spn
    assert "HTTP/mail.fabrikam.test" in (missing.negotiate.detail or "")


def test_wrong_password_with_kerberos_is_one_attempt(sim: Simulator) -> None:
    sim.auth.offer("*", ["Negotiate"])
    auth = make_auth(Credentials(user="alice@contoso.test", password=Secret("wrong")), "auto")
    with make_client(connection(sim)) as client, pytest.raises(AuthenticationFailed) as info:
        client.get(emsmdb(sim), auth=auth)
    assert "with Negotiate" in str(info.value) and "wrong" not in str(info.value)
    assert sim.auth.attempts() == 1
