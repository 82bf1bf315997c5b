"""Autodiscover discovery against the simulator over real loopback HTTPS (names mapped with --connect-to and
the simulator's DNS, its CA trusted for the run)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mapiprobe.protocol.autodiscover import (
    AutodiscoverResponse,
    AutodiscoverUser,
    MapiHttpSettings,
    build_response,
)
from mapiprobe.session.autodiscover import (
    AutodiscoverSession,
    ConsentRequest,
    DiscoveryOptions,
    DiscoveryResult,
    Outcome,
    ProgressEvent,
    Source,
    UsageError,
    candidate_urls,
    split_address,
)
from mapiprobe.simulator import Simulator
from mapiprobe.transport.client import ConnectionOptions

from .conftest import wait_for_workers
from .simhelp import (
    assert_no_credentials_in_clear,
    connection,
    hosts_with_credentials,
    redirector,
    with_credentials,
    xml_server,
)


def _run(
    sim: Simulator,
    *,
    conn: ConnectionOptions | None = None,
    consent: object = None,
    email: str | None = None,
    **options: object,
) -> DiscoveryResult:
    user = sim.users[0]
    opts = {"candidate_timeout": 2.0, **options}
    session = AutodiscoverSession(
        email or user.email,
        user=user.user,
        password=user.password,
        connection=conn or connection(sim),
        options=DiscoveryOptions(**opts),  # type: ignore[arg-type]
        consent=consent,  # type: ignore[arg-type]
    )
    result = session.run()
    assert_no_credentials_in_clear(sim)
    for r in result.attempts:
        assert user.password not in repr(r)
    return result


def _outcomes(result: DiscoveryResult) -> dict[Source, Outcome]:
    return {a.source: a.outcome for a in result.attempts}


class Consent:
    """A consent callback that records what it was asked and answers ``answer``."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[ConsentRequest] = []
        self.threads: set[int] = set()

    def __call__(self, request: ConsentRequest) -> bool:
        self.asked.append(request)
        self.threads.add(threading.get_ident())
        return self.answer


# -- candidates and address handling --------------------------------------------------------------------


def test_candidate_list_uses_the_domain_exactly() -> None:
    assert candidate_urls("eu.contoso.test") == [
        (Source.ROOT_DOMAIN, "https://eu.contoso.test/autodiscover/autodiscover.xml"),
        (Source.AUTODISCOVER_DOMAIN, "https://autodiscover.eu.contoso.test/autodiscover/autodiscover.xml"),
    ]
    assert split_address("Alice@Contoso.TEST") == ("Alice", "contoso.test")


@pytest.mark.parametrize("bad", ["alice", "@contoso.test", "alice@", "alice@bad..test", "alice@x_y.test"])
def test_bad_addresses(bad: str) -> None:
    with pytest.raises(UsageError):
        split_address(bad)


def test_url_must_be_https() -> None:
    with pytest.raises(UsageError):
        AutodiscoverSession("a@contoso.test", options=DiscoveryOptions(url="http://x.test/a.xml"))


def test_never_strips_labels_or_tries_the_tld(sim: Simulator) -> None:
    user = sim.users[0]
    result = _run(sim, email=f"{user.local_part}@eu.contoso.test")
    assert not result.ok
    urls = " ".join(a.url for a in result.attempts)
    assert "eu.contoso.test" in urls
    for a in result.attempts:
        assert "eu.contoso.test" in a.url, a
    assert not sim.requests  # nothing resolved to the simulator: contoso.test itself was never tried


# -- the normal path ------------------------------------------------------------------------------------


def test_normal_settings_with_mapihttp(sim: Simulator) -> None:
    events: list[ProgressEvent] = []
    threads: set[int] = set()

    def progress(event: ProgressEvent) -> None:
        events.append(event)
        threads.add(threading.get_ident())

    user = sim.users[0]
    session = AutodiscoverSession(
        user.email,
        user=user.user,
        password=user.password,
        connection=connection(sim),
        options=DiscoveryOptions(candidate_timeout=2),
        progress=progress,
    )
    result = session.run()
    assert result.ok and result.action == "settings"
    assert result.protocol == "mapiHttp"
    assert result.url == sim.autodiscover_url
    assert result.response is not None and result.response.mapi_http is not None
    assert (
        result.response.mapi_http.mailstore_url and "/mapi/emsmdb/" in result.response.mapi_http.mailstore_url
    )
    assert result.response.user is not None and result.response.user.legacy_dn == user.legacy_dn
    outcomes = _outcomes(result)
    # The root web site answers 404. The candidates start together, and on a loaded machine the root's TLS
    # handshake may not be done when autodiscover.<domain> has answered: it is then abandoned (seen once in
    # a full run with both cores busy). Either way it is not the answer used.
    assert outcomes[Source.ROOT_DOMAIN] in (Outcome.HTTP_ERROR, Outcome.ABANDONED)
    assert outcomes[Source.AUTODISCOVER_DOMAIN] is Outcome.SETTINGS
    ad = next(a for a in result.attempts if a.source is Source.AUTODISCOVER_DOMAIN)
    assert ad.resolved_address and ad.resolved_address.startswith("127.0.0.1:")
    assert ad.tls and ad.tls.startswith("TLSv1.")
    assert ad.http_status == 200 and ad.elapsed_ms is not None
    # The request Outlook would send: both headers, Basic credentials over HTTPS only.
    posts = [r for r in sim.requests if r.method == "POST" and r.host == f"autodiscover.{sim.domain}"]
    assert posts and posts[0].header("X-MapiHttpCapability") == "1"
    assert posts[0].header("X-AnchorMailbox") == user.email
    assert (posts[0].header("Authorization") or "").startswith("Basic ")
    assert hosts_with_credentials(sim) <= {sim.domain, f"autodiscover.{sim.domain}"}
    # Progress came from the calling thread only, and told the story.
    assert threads == {threading.get_ident()}
    assert events[0].stage == "start" and events[-1].stage == "done"
    assert any(e.stage == "attempt" and e.attempt is not None for e in events)
    # The trace saw every exchange, redacted.
    for rec in session.trace.records:
        assert user.password not in repr(rec)
        auth = rec.header("Authorization", response=False)
        assert auth in (None, "Basic [redacted]")


def test_given_url_skips_discovery(sim: Simulator) -> None:
    result = _run(sim, url=sim.autodiscover_url)
    assert result.ok
    assert [a.source for a in result.attempts] == [Source.GIVEN_URL]
    assert len(sim.requests) == 1


def test_without_password_the_server_asks_for_credentials(sim: Simulator) -> None:
    session = AutodiscoverSession(
        sim.users[0].email, connection=connection(sim), options=DiscoveryOptions(url=sim.autodiscover_url)
    )
    result = session.run()
    assert not result.ok
    assert result.attempts[0].outcome is Outcome.AUTH_REQUIRED
    assert result.problem is not None and result.problem.code == "auth-required"


def test_wrong_password_is_an_authentication_failure(sim: Simulator) -> None:
    user = sim.users[0]
    session = AutodiscoverSession(
        user.email,
        user=user.user,
        password="wrong-password",
        connection=connection(sim),
        options=DiscoveryOptions(url=sim.autodiscover_url),
    )
    result = session.run()
    att = result.attempts[0]
    assert att.outcome is Outcome.AUTH_FAILED and att.http_status == 401
    assert "authentication failed for" in (att.detail or "") and "with Basic" in (att.detail or "")
    assert result.problem is not None and result.problem.code == "auth-failed"
    assert "wrong-password" not in repr(result)


# -- dead candidates and priority -----------------------------------------------------------------------


def test_blackholed_root_is_abandoned_not_waited_for(sim: Simulator) -> None:
    """The root domain accepts TCP and never answers: autodiscover.<domain> answers at once, and the root
    (no TLS handshake by then) is abandoned instead of costing its 5 s time limit."""
    sim.set_scenario("dead-root")
    start = time.perf_counter()
    result = _run(sim, conn=connection(sim, timeout=5.0), candidate_timeout=5.0)
    elapsed = time.perf_counter() - start
    assert result.ok and result.url == sim.autodiscover_url
    assert elapsed < 3.0  # generous: the time limit is 5 s, the answer comes in milliseconds
    root = next(a for a in result.attempts if a.source is Source.ROOT_DOMAIN)
    assert root.outcome is Outcome.ABANDONED and root.method == "POST"
    # The diagnosis still shows the dead host: how far it got, and who answered instead.
    assert "no TLS handshake after" in (root.detail or "")
    assert f"TCP connected to 127.0.0.1:{sim.blackhole_port}" in (root.detail or "")
    assert sim.autodiscover_url in (root.detail or "")
    assert root.resolved_address == f"127.0.0.1:{sim.blackhole_port}"
    assert _outcomes(result)[Source.AUTODISCOVER_DOMAIN] is Outcome.SETTINGS


def test_dead_fast_root_costs_nothing(sim: Simulator, closed_port: int) -> None:
    conn = connection(sim, first=[f"{sim.domain}:443:127.0.0.1:{closed_port}"], timeout=5.0)
    start = time.perf_counter()
    result = _run(sim, conn=conn, candidate_timeout=5.0)
    assert result.ok
    assert time.perf_counter() - start < 2.0
    assert _outcomes(result)[Source.ROOT_DOMAIN] is Outcome.CONNECT_FAILED


def _root_answer(sim: Simulator) -> bytes:
    user = sim.users[0]
    return build_response(
        AutodiscoverResponse(
            action="settings",
            user=AutodiscoverUser("Root Answer", user.legacy_dn, user.email, None),
            mapi_http=MapiHttpSettings(1, "https://root.test/mapi/emsmdb/", None, None, None),
        )
    )


def test_higher_priority_answer_wins_even_if_slower(sim: Simulator, tmp_path: Path) -> None:
    """The root domain (live: its TLS handshake completes at once) answers after 0.5 s, autodiscover.<domain>
    after 0.3 s: the root is waited for (grace max(1 s, 3 x 0.3 s)), and wins by priority."""
    sim.set_scenario("slow")
    sim.slow_seconds = 0.3
    with xml_server([sim.domain], _root_answer(sim), delay=0.5, directory=tmp_path) as root:
        base = connection(sim, first=[f"{sim.domain}:443:127.0.0.1:{root.port}"], timeout=5.0)
        conn = replace(base, ca_certs=(*base.ca_certs, root.ca_path))
        result = _run(sim, conn=conn, candidate_timeout=5.0)
    assert result.ok and result.url == f"https://{sim.domain}/autodiscover/autodiscover.xml"
    assert result.response is not None and result.response.user is not None
    assert result.response.user.display_name == "Root Answer"
    outcomes = _outcomes(result)
    assert outcomes[Source.ROOT_DOMAIN] is Outcome.SETTINGS
    assert Outcome.ABANDONED not in outcomes.values()


def test_live_root_that_never_answers_is_abandoned_after_its_grace(sim: Simulator, tmp_path: Path) -> None:
    """The root completes its TLS handshake but answers only after 4 s: it is waited for its grace period
    (1 s, autodiscover.<domain> answering at once), not for its 5 s time limit."""
    with xml_server([sim.domain], _root_answer(sim), delay=4.0, directory=tmp_path) as root:
        base = connection(sim, first=[f"{sim.domain}:443:127.0.0.1:{root.port}"], timeout=5.0)
        conn = replace(base, ca_certs=(*base.ca_certs, root.ca_path))
        result = _run(sim, conn=conn, candidate_timeout=5.0)
        wait_for_workers()  # the root's thread ends (with its late answer) before the server goes
    # Had the root been waited for, its answer (at 4 s) would have won by priority.
    assert result.ok and result.url == sim.autodiscover_url
    root_attempt = next(a for a in result.attempts if a.source is Source.ROOT_DOMAIN)
    assert root_attempt.outcome is Outcome.ABANDONED
    assert "TLS handshake done, but no answer" in (root_attempt.detail or "")
    assert "grace period" in (root_attempt.detail or "")
    assert root_attempt.elapsed_ms is not None and root_attempt.elapsed_ms < 4000


def test_without_any_answer_a_blackholed_root_costs_its_time_limit(sim: Simulator, closed_port: int) -> None:
    """Nothing else answers: the black-holed root is waited for up to its time limit, then reported."""
    sim.set_scenario("dead-root")
    conn = connection(sim, first=[f"autodiscover.{sim.domain}:443:127.0.0.1:{closed_port}"], timeout=1.0)
    start = time.perf_counter()
    result = _run(
        sim, conn=conn, candidate_timeout=1.0, use_srv=False, use_v2=False, use_redirect_probe=False
    )
    assert time.perf_counter() - start > 0.9
    assert not result.ok
    outcomes = _outcomes(result)
    assert outcomes[Source.ROOT_DOMAIN] is Outcome.TIMEOUT
    assert outcomes[Source.AUTODISCOVER_DOMAIN] is Outcome.CONNECT_FAILED
    assert Outcome.ABANDONED not in outcomes.values()


@pytest.mark.parametrize(
    "case",
    [
        ("https://autodiscover.contoso.test/autodiscover/autodiscover.xml", False, True, None),
        ("https://mail.contoso.test/autodiscover/autodiscover.xml", False, False, "consent-refused"),
        ("https://mail.contoso.test/autodiscover/autodiscover.xml", True, True, None),
        ("http://autodiscover.contoso.test/autodiscover/autodiscover.xml", True, False, "unsafe-redirect"),
    ],
)
def test_http_302_to_the_post(
    sim: Simulator, tmp_path: Path, case: tuple[str, bool, bool, str | None]
) -> None:
    """MS-OXDSCLI 3.2.5: a server may answer the POST with a 302; it is followed under the same rules."""
    location, allowed, expect_ok, expect_code = case
    with xml_server(
        ["redirector.test"], b"", delay=0, directory=tmp_path, status=302, headers=[("Location", location)]
    ) as srv:
        base = connection(sim, first=[f"redirector.test:443:127.0.0.1:{srv.port}"])
        conn = replace(base, ca_certs=(*base.ca_certs, srv.ca_path))
        allow = frozenset({"mail.contoso.test"}) if allowed else frozenset()
        result = _run(
            sim, conn=conn, url="https://redirector.test/autodiscover/autodiscover.xml", allowed_hosts=allow
        )
    assert result.ok is expect_ok
    first = result.attempts[0]
    assert first.outcome is Outcome.HTTP_REDIRECT and first.http_status == 302
    if expect_ok:
        assert result.redirects[0].kind == "http-302"
        assert result.url == location
    else:
        assert result.problem is not None and result.problem.code == expect_code
        assert result.response is None  # a 302 is not an Autodiscover answer
        assert not [r for r in with_credentials(sim) if r.host == "mail.contoso.test"] or allowed


# -- SRV and the redirect probe -------------------------------------------------------------------------


def _kill_https_candidates(sim: Simulator, closed: int) -> list[str]:
    return [f"{sim.domain}:443:127.0.0.1:{closed}", f"autodiscover.{sim.domain}:443:127.0.0.1:{closed}"]


def test_srv_target_outside_the_named_hosts_needs_consent(sim: Simulator, closed_port: int) -> None:
    conn = connection(sim, first=_kill_https_candidates(sim, closed_port))
    refused = Consent(False)
    result = _run(sim, conn=conn, consent=refused)
    assert not result.ok
    srv = [a for a in result.attempts if a.source is Source.SRV]
    assert srv[0].outcome is Outcome.CANDIDATE and "mail.contoso.test" in (srv[0].detail or "")
    assert any(a.outcome is Outcome.CONSENT_REFUSED for a in srv)
    assert [r.kind for r in refused.asked] == ["dns-srv"]
    assert refused.asked[0].host == f"mail.{sim.domain}"
    assert refused.threads == {threading.get_ident()}
    assert f"mail.{sim.domain}" not in hosts_with_credentials(sim)
    assert result.problem is not None and result.problem.code == "consent-refused"

    wait_for_workers()
    sim.clear_requests()
    granted = Consent(True)
    result = _run(sim, conn=conn, consent=granted)
    assert result.ok and result.url == f"https://mail.{sim.domain}/autodiscover/autodiscover.xml"
    assert _outcomes(result)[Source.SRV] is Outcome.SETTINGS


def test_srv_without_consent_callback_is_refused(sim: Simulator, closed_port: int) -> None:
    result = _run(sim, conn=connection(sim, first=_kill_https_candidates(sim, closed_port)))
    assert not result.ok
    assert f"mail.{sim.domain}" not in hosts_with_credentials(sim)


def test_allow_list_approves_without_asking(sim: Simulator, closed_port: int) -> None:
    consent = Consent(False)
    result = _run(
        sim,
        conn=connection(sim, first=_kill_https_candidates(sim, closed_port)),
        consent=consent,
        allowed_hosts=frozenset({f"mail.{sim.domain}"}),
    )
    assert result.ok and not consent.asked


def test_redirect_probe_consent_refused_and_granted(sim: Simulator, closed_port: int) -> None:
    target = f"https://mail.{sim.domain}/autodiscover/autodiscover.xml"
    with redirector(target) as probe:
        rules = [
            *_kill_https_candidates(sim, closed_port),
            f"autodiscover.{sim.domain}:80:127.0.0.1:{probe.port}",
        ]
        conn = connection(sim, first=rules)
        refused = Consent(False)
        result = _run(sim, conn=conn, consent=refused, use_srv=False)
        assert not result.ok
        assert [r.kind for r in refused.asked] == ["http-redirect-probe"]
        assert refused.asked[0].target == target
        assert not with_credentials(sim)
        assert probe.seen and all("Authorization" not in h for h in probe.seen)
        probe_attempt = next(a for a in result.attempts if a.source is Source.REDIRECT_PROBE)
        assert probe_attempt.method == "GET" and probe_attempt.http_status == 302

        wait_for_workers()
        sim.clear_requests()
        granted = Consent(True)
        result = _run(sim, conn=conn, consent=granted, use_srv=False)
        assert result.ok and result.url == target
        assert hosts_with_credentials(sim) == {f"mail.{sim.domain}"}
        assert all("Authorization" not in h for h in probe.seen)


def test_redirect_probe_to_plain_http_is_never_used(sim: Simulator, closed_port: int) -> None:
    with redirector(f"http://mail.{sim.domain}/autodiscover/autodiscover.xml") as probe:
        rules = [
            *_kill_https_candidates(sim, closed_port),
            f"autodiscover.{sim.domain}:80:127.0.0.1:{probe.port}",
        ]
        consent = Consent(True)
        result = _run(sim, conn=connection(sim, first=rules), consent=consent, use_srv=False)
    assert not result.ok and not consent.asked
    assert any(a.outcome is Outcome.UNSAFE for a in result.attempts)
    assert not with_credentials(sim)


# -- redirects ------------------------------------------------------------------------------------------


def test_redirect_url_to_another_host_asks_first(sim: Simulator) -> None:
    sim.set_scenario("redirect-url")
    refused = Consent(False)
    result = _run(sim, consent=refused)
    assert result.action == "redirectUrl" and not result.ok
    assert result.problem is not None and result.problem.code == "consent-refused"
    assert "--allow-redirect mail.contoso.test" in result.problem.message
    assert [r.kind for r in refused.asked] == ["redirectUrl"]
    assert f"mail.{sim.domain}" not in hosts_with_credentials(sim)

    wait_for_workers()
    sim.clear_requests()
    granted = Consent(True)
    result = _run(sim, consent=granted)
    assert result.ok and result.url == f"https://mail.{sim.domain}/autodiscover/autodiscover.xml"
    assert len(result.redirects) == 1
    assert result.redirects[0].kind == "redirectUrl" and result.redirects[0].approved_by == "user"
    assert result.attempts[-1].hop == 1


def test_redirect_loop_is_detected(sim: Simulator) -> None:
    sim.set_scenario("redirect-loop")
    result = _run(sim, allowed_hosts=frozenset({f"mail.{sim.domain}"}))
    assert not result.ok
    assert result.problem is not None and result.problem.code == "redirect-loop"
    assert len(result.redirects) == 1


def test_redirect_hop_limit(sim: Simulator) -> None:
    sim.set_scenario("redirect-loop")
    result = _run(sim, allowed_hosts=frozenset({f"mail.{sim.domain}"}), max_redirects=1)
    assert result.problem is not None and result.problem.code == "too-many-redirects"


def test_redirect_addr_to_another_domain_needs_consent(sim: Simulator) -> None:
    sim.set_scenario("redirect-addr")
    user = sim.users[0]
    other = f"{user.local_part}@fabrikam.test"
    refused = Consent(False)
    result = _run(sim, consent=refused)
    assert result.action == "redirectAddr" and result.response is not None
    assert result.response.redirect_addr == other
    assert result.problem is not None and result.problem.code == "consent-refused"
    assert [(r.kind, r.host) for r in refused.asked] == [("redirectAddr", "fabrikam.test")]
    assert not any(h.endswith("fabrikam.test") for h in hosts_with_credentials(sim))

    wait_for_workers()
    sim.clear_requests()
    granted = Consent(True)
    result = _run(sim, consent=granted)
    assert result.ok, result.problem
    assert result.final_email == other
    assert result.url == "https://autodiscover.fabrikam.test/autodiscover/autodiscover.xml"
    assert result.redirects[0].kind == "redirectAddr" and result.redirects[0].target == other
    fab_posts = [r for r in with_credentials(sim) if r.host.endswith("fabrikam.test")]
    assert fab_posts and all(b"fabrikam.test" in r.body for r in fab_posts)


# -- failures the helpdesk sees -------------------------------------------------------------------------


def test_unknown_user_is_an_error_answer(sim: Simulator) -> None:
    sim.set_scenario("unknown-user")
    result = _run(sim)
    assert result.action == "error"
    assert result.response is not None and result.response.error is not None
    assert result.response.error.code == "500"
    assert result.problem is not None and result.problem.code == "autodiscover-500"


def test_html_login_page_is_a_rejected_document(sim: Simulator) -> None:
    sim.set_scenario("html-login")
    result = _run(sim)
    assert not result.ok and result.response is None
    assert result.problem is not None and result.problem.code == "rejected-document"
    rejected = [a for a in result.attempts if a.outcome is Outcome.REJECTED_DOCUMENT]
    assert rejected and "HTML" in (rejected[0].detail or "") and "text/html" in (rejected[0].detail or "")


def test_untrusted_certificate_stops_the_attempt(sim: Simulator) -> None:
    result = _run(sim, conn=connection(sim, trust=False))
    assert not result.ok
    tls = [a for a in result.attempts if a.outcome is Outcome.TLS_FAILED]
    assert {a.source for a in tls} >= {Source.ROOT_DOMAIN, Source.AUTODISCOVER_DOMAIN}
    assert all(a.tls and a.tls.startswith("failed:") for a in tls)
    # The report says what the server presented (read without verification, no request sent).
    assert all("the server presented" in (a.detail or "") and "mapiprobe" in (a.detail or "") for a in tls)
    assert result.problem is not None and result.problem.code == "tls-failed"
    assert not [r for r in sim.requests if r.scheme == "https"]  # nothing got past the handshake


def test_cancel(sim: Simulator) -> None:
    sim.set_scenario("slow")
    sim.slow_seconds = 1.0
    user = sim.users[0]
    cancel = threading.Event()
    session = AutodiscoverSession(
        user.email,
        user=user.user,
        password=user.password,
        connection=connection(sim, timeout=5),
        options=DiscoveryOptions(candidate_timeout=5),
        cancel=cancel,
    )
    threading.Timer(0.3, cancel.set).start()
    start = time.perf_counter()
    result = session.run()
    assert time.perf_counter() - start < 0.8
    assert result.cancelled and not result.ok
    assert any(a.outcome is Outcome.CANCELLED for a in result.attempts)


# -- MapiHttpDisabled -----------------------------------------------------------------------------------


def test_mapihttp_disabled_leaves_out_the_capability_header(sim: Simulator) -> None:
    result = _run(sim, mapi_http_disabled=True)
    assert result.ok and result.protocol == "rpcHttp"
    assert result.response is not None and result.response.mapi_http is None
    assert {p.type for p in result.response.legacy} >= {"EXCH", "EXPR"}
    posts = [r for r in sim.requests if r.method == "POST"]
    assert posts and all(r.header("X-MapiHttpCapability") is None for r in posts)
    assert all(r.header("X-AnchorMailbox") == sim.users[0].email for r in posts)
    assert not result.findings


def test_server_ignoring_the_header_is_a_finding(sim: Simulator) -> None:
    sim.set_scenario("ignores-header")
    result = _run(sim, mapi_http_disabled=True)
    assert result.ok
    assert result.response is not None and result.response.mapi_http is None  # ignored, as Outlook would
    assert result.raw_response is not None and result.raw_response.mapi_http is not None
    assert [f.code for f in result.findings] == ["server-ignores-mapihttp-capability"]
    assert "server ignores X-MapiHttpCapability" in result.findings[0].message
