"""The simulated organisation over real loopback TLS, plain HTTP, UDP DNS and the black hole."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import httpx
import pytest

from mapiprobe.protocol.autodiscover import AutodiscoverResponse, parse_response
from mapiprobe.protocol.errors import AutodiscoverError
from mapiprobe.simulator import SCENARIOS, Simulator
from mapiprobe.simulator.web import Request, Response

from .conftest import SimClient

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
MAILBOX_ID = "3f2a9c1d-5b7e-4a60-b8c1-d2e3f4a5b6c7@contoso.test"


def _settings(resp: httpx.Response) -> AutodiscoverResponse:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/xml")
    return parse_response(resp.content)


# --------------------------------------------------------------------------------------------------
# Authentication and routing
# --------------------------------------------------------------------------------------------------


def test_401_without_credentials(client: SimClient) -> None:
    # Exchange 2019's Autodiscover defaults: Windows authentication, OAuth and Basic.
    resp = client.autodiscover(auth=None)
    assert resp.status_code == 401
    offered = [v.split()[0] for v in resp.headers.get_list("www-authenticate")]
    assert offered == ["Negotiate", "NTLM", "Bearer", "Basic"]
    assert 'Basic realm="contoso.test"' in resp.headers.get_list("www-authenticate")


def test_basic_only_offers_basic_everywhere(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("basic-only")
    for path in (
        "/autodiscover/autodiscover.xml",
        f"/mapi/emsmdb/?MailboxId={sim.users[0].mailbox_guid}@contoso.test",
    ):
        host = "autodiscover.contoso.test" if path.startswith("/autodiscover") else "mail.contoso.test"
        resp = client.https("POST", host, path, content=b"")
        assert resp.status_code == 401
        assert resp.headers.get_list("www-authenticate") == ['Basic realm="contoso.test"']


@pytest.mark.parametrize(
    ("scenario", "inside", "outside"), [("normal", "Ntlm", "Negotiate"), ("basic-only", "Basic", "Basic")]
)
def test_outlook_anywhere_auth_package(
    client: SimClient, sim: Simulator, scenario: str, inside: str, outside: str
) -> None:
    # Exchange 2019: Outlook Anywhere's internal client authentication NTLM, external Negotiate.
    sim.set_scenario(scenario)
    resp = _settings(client.autodiscover(mapi=False))
    packages = {p.type: p.auth_package for p in resp.legacy if p.type in ("EXCH", "EXPR", "EXHTTP")}
    assert packages == {"EXCH": inside, "EXPR": outside, "EXHTTP": outside}


def test_401_with_wrong_password(client: SimClient) -> None:
    assert client.autodiscover(auth=("alice", "wrong")).status_code == 401
    assert client.autodiscover(auth=("nobody", "Alice-Demo-2024!")).status_code == 401


@pytest.mark.parametrize("login", ["alice", "alice@contoso.test", "CONTOSO\\alice", "ALICE"])
def test_login_forms(client: SimClient, login: str) -> None:
    assert client.autodiscover(auth=(login, "Alice-Demo-2024!")).status_code == 200


def test_request_log_keeps_headers_and_authorization(client: SimClient, sim: Simulator) -> None:
    sim.clear_requests()
    client.autodiscover()
    [entry] = sim.requests
    assert (entry.listener, entry.scheme, entry.method) == ("https", "https", "POST")
    assert entry.host == "autodiscover.contoso.test"
    assert entry.sni == "autodiscover.contoso.test"
    assert entry.path == "/autodiscover/autodiscover.xml"
    assert (entry.header("authorization") or "").startswith("Basic ")
    assert entry.header("X-MapiHttpCapability") == "1"
    assert b"<EMailAddress>alice@contoso.test</EMailAddress>" in entry.body


def test_path_is_case_insensitive(client: SimClient) -> None:
    resp = client.autodiscover(path="/AutoDiscover/AutoDiscover.XML")
    assert _settings(resp).action == "settings"


def test_root_domain_is_a_site_without_autodiscover(client: SimClient) -> None:
    assert client.autodiscover(host="contoso.test").status_code == 404
    assert client.https("GET", "contoso.test", "/autodiscover/autodiscover.xml").status_code == 404


def test_keep_alive_reuses_the_connection(client: SimClient, sim: Simulator) -> None:
    sim.clear_requests()
    client.autodiscover()
    client.autodiscover(host="mail.contoso.test")
    first, second = sim.requests
    assert first.peer == second.peer


def test_certificate_names_every_virtual_host(client: SimClient) -> None:
    for host in (
        "autodiscover.contoso.test",
        "mail.contoso.test",
        "contoso.test",
        "autodiscover.fabrikam.test",
    ):
        client.https("GET", host, "/")  # verification against the host name would raise otherwise


def test_handler_can_stream_chunks(client: SimClient, sim: Simulator) -> None:
    """A handler's chunk iterator is sent chunk by chunk (the base of MAPI/HTTP PENDING keep-alives)."""
    got_first = threading.Event()

    def stream(req: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            yield b"PENDING\r\n"
            # If the server buffered the body, the client could never see the first chunk: fail, not hang.
            yield b"DONE\r\n" if got_first.wait(5) else b"BUFFERED\r\n"

        return Response(200, [("Content-Type", "text/plain")], chunks=chunks())

    sim.https_site.add("/test/stream", stream, methods=("GET",), hosts=["mail.contoso.test"])
    parts: list[bytes] = []
    with client.http.stream(
        "GET",
        f"https://127.0.0.1:{sim.port}/test/stream",
        headers={"Host": "mail.contoso.test"},
        extensions={"sni_hostname": "mail.contoso.test"},
    ) as resp:
        assert resp.headers["transfer-encoding"] == "chunked"
        for part in resp.iter_raw():
            parts.append(part)
            got_first.set()
    assert b"".join(parts) == b"PENDING\r\nDONE\r\n"


# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------


def test_normal_with_header_answers_mapihttp(client: SimClient) -> None:
    resp = _settings(client.autodiscover(mapi=True))
    assert resp.action == "settings"
    assert resp.user is not None
    assert resp.user.display_name == "Alice Anders"
    assert resp.user.autodiscover_smtp_address == "alice@contoso.test"
    assert resp.user.legacy_dn is not None and resp.user.legacy_dn.startswith("/o=Contoso/")
    assert resp.mapi_http is not None and resp.mapi_http.version == 1
    assert resp.mapi_http.mailstore_url == f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={MAILBOX_ID}"
    assert resp.mapi_http.addressbook_url == f"https://mail.contoso.test/mapi/nspi/?MailboxId={MAILBOX_ID}"
    assert resp.protocol("EXCH") is None and resp.protocol("EXPR") is None  # as Exchange 2019 does
    assert resp.protocol("WEB") is not None


def test_normal_without_header_answers_legacy_blocks(client: SimClient) -> None:
    resp = _settings(client.autodiscover(mapi=False))
    assert resp.mapi_http is None
    assert [p.type for p in resp.legacy] == ["EXCH", "EXPR", "EXHTTP", "WEB"]
    exch = resp.protocol("EXCH")
    assert exch is not None and exch.server == MAILBOX_ID
    expr = resp.protocol("EXPR")
    assert expr is not None and (expr.server, expr.ssl) == ("mail.contoso.test", "On")


def test_mail_host_answers_too(client: SimClient) -> None:
    assert _settings(client.autodiscover(host="mail.contoso.test")).mapi_http is not None


def test_other_user_and_legacy_dn_request(client: SimClient, sim: Simulator) -> None:
    bob = next(u for u in sim.users if u.user == "bob")
    from mapiprobe.protocol.autodiscover import build_request

    resp = _settings(client.autodiscover(body=build_request(legacy_dn=bob.legacy_dn)))
    assert resp.user is not None and resp.user.display_name == "Bob Bergstrom"


def test_unknown_address_is_error_500(client: SimClient) -> None:
    resp = _settings(client.autodiscover(email="nobody@contoso.test"))
    assert resp.action == "error" and resp.error is not None and resp.error.code == "500"


def test_malformed_request_is_error_600(client: SimClient) -> None:
    resp = _settings(client.autodiscover(body=b"<not-autodiscover/>"))
    assert resp.error is not None and resp.error.code == "600"


def test_mapihttp_disabled(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("mapihttp-disabled")
    resp = _settings(client.autodiscover(mapi=True))
    assert resp.mapi_http is None
    assert resp.protocol("EXCH") is not None and resp.protocol("EXHTTP") is not None


@pytest.mark.parametrize("mapi", [True, False])
def test_ignores_header(client: SimClient, sim: Simulator, mapi: bool) -> None:
    sim.set_scenario("ignores-header")
    resp = _settings(client.autodiscover(mapi=mapi))
    assert resp.mapi_http is not None
    assert resp.protocol("EXCH") is not None and resp.protocol("EXPR") is not None


def test_redirect_addr_then_target_domain_answers(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("redirect-addr")
    resp = _settings(client.autodiscover())
    assert (resp.action, resp.redirect_addr) == ("redirectAddr", "alice@fabrikam.test")
    follow = _settings(client.autodiscover(host="autodiscover.fabrikam.test", email="alice@fabrikam.test"))
    assert follow.action == "settings"
    assert follow.user is not None and follow.user.autodiscover_smtp_address == "alice@fabrikam.test"


def test_redirect_url_then_mail_host_answers(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("redirect-url")
    resp = _settings(client.autodiscover())
    assert resp.action == "redirectUrl"
    assert resp.redirect_url == "https://mail.contoso.test/autodiscover/autodiscover.xml"
    assert _settings(client.autodiscover(host="mail.contoso.test")).action == "settings"


def test_redirect_loop(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("redirect-loop")
    first = _settings(client.autodiscover(host="autodiscover.contoso.test"))
    second = _settings(client.autodiscover(host="mail.contoso.test"))
    assert first.redirect_url == "https://mail.contoso.test/autodiscover/autodiscover.xml"
    assert second.redirect_url == "https://autodiscover.contoso.test/autodiscover/autodiscover.xml"


def test_unknown_user_scenario(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("unknown-user")
    resp = _settings(client.autodiscover())
    assert resp.error is not None and resp.error.code == "500"


def test_html_login(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("html-login")
    resp = client.autodiscover()
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    with pytest.raises(AutodiscoverError, match="HTML"):
        parse_response(resp.content)


def test_slow(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("slow")
    sim.slow_seconds = 0.3
    start = time.perf_counter()
    assert _settings(client.autodiscover()).action == "settings"
    assert time.perf_counter() - start >= 0.3


def test_dead_root_maps_root_domain_to_black_hole(client: SimClient, sim: Simulator) -> None:
    sim.set_scenario("dead-root")
    assert f"contoso.test:443:127.0.0.1:{sim.blackhole_port}" in sim.connect_to
    assert f"autodiscover.contoso.test:443:127.0.0.1:{sim.port}" in sim.connect_to
    with pytest.raises(httpx.TimeoutException):
        client.http.post(
            f"https://127.0.0.1:{sim.blackhole_port}/autodiscover/autodiscover.xml",
            extensions={"sni_hostname": "contoso.test"},
            timeout=0.3,
        )
    with socket.create_connection(("127.0.0.1", sim.blackhole_port), timeout=1) as sock:
        sock.settimeout(0.2)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: contoso.test\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1)


def test_every_scenario_is_known_and_settable(sim: Simulator) -> None:
    assert {
        "normal",
        "mapihttp-disabled",
        "ignores-header",
        "redirect-addr",
        "redirect-url",
        "redirect-loop",
        "unknown-user",
        "html-login",
        "slow",
        "dead-root",
    } <= set(SCENARIOS)
    for name in SCENARIOS:
        sim.set_scenario(name)
    with pytest.raises(ValueError, match="unknown scenario"):
        sim.set_scenario("no-such")
    with pytest.raises(ValueError, match="unknown scenario"):
        Simulator(scenario="no-such")


# --------------------------------------------------------------------------------------------------
# Plain HTTP probe and Autodiscover v2
# --------------------------------------------------------------------------------------------------


def test_plain_http_probe_redirects_without_credentials(client: SimClient, sim: Simulator) -> None:
    sim.clear_requests()
    resp = client.plain("GET", "autodiscover.contoso.test", "/autodiscover/autodiscover.xml")
    assert resp.status_code == 302
    assert resp.headers["location"] == "https://autodiscover.contoso.test/autodiscover/autodiscover.xml"
    assert "www-authenticate" not in resp.headers
    [entry] = sim.requests
    assert (entry.listener, entry.scheme) == ("http", "http")
    assert client.plain("GET", "autodiscover.contoso.test", "/other").status_code == 404


def test_autodiscover_v2_json(client: SimClient) -> None:
    path = "/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=AutodiscoverV1"
    resp = client.https("GET", "autodiscover.contoso.test", path)
    assert resp.status_code == 200
    assert resp.json() == {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.contoso.test/autodiscover/autodiscover.xml",
    }
    missing = client.https(
        "GET", "autodiscover.contoso.test", "/autodiscover/autodiscover.json/v1.0/a@contoso.test"
    )
    assert missing.status_code == 400 and missing.json()["ErrorCode"] == "MandatoryParameterMissing"
    bad = client.https(
        "GET",
        "autodiscover.contoso.test",
        "/autodiscover/autodiscover.json/v1.0/a@contoso.test?Protocol=MapiHttp",
    )
    assert bad.status_code == 400 and bad.json()["ErrorCode"] == "ProtocolNotSupported"


# --------------------------------------------------------------------------------------------------
# DNS
# --------------------------------------------------------------------------------------------------


def test_dns_srv_and_a_records(sim: Simulator) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = sim.dns_port
    resolver.lifetime = 2
    [srv] = list(resolver.resolve("_autodiscover._tcp.contoso.test", "SRV"))
    assert (srv.priority, srv.weight, srv.port) == (0, 0, 443)
    assert srv.target.to_text() == "mail.contoso.test."
    for host in ("contoso.test", "autodiscover.contoso.test", "mail.contoso.test", "mail.fabrikam.test"):
        assert [r.to_text() for r in resolver.resolve(host, "A")] == ["127.0.0.1"]
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("nowhere.example", "A")
    query = dns.message.make_query("autodiscover.contoso.test", "AAAA")
    answer = dns.query.udp(query, "127.0.0.1", port=sim.dns_port, timeout=2)
    assert answer.rcode() == dns.rcode.NOERROR and not answer.answer


def test_dns_ignores_junk(sim: Simulator) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00junk", ("127.0.0.1", sim.dns_port))
    query = dns.message.make_query("mail.contoso.test", "A")
    assert dns.query.udp(query, "127.0.0.1", port=sim.dns_port, timeout=2).answer


# --------------------------------------------------------------------------------------------------
# Lifecycle, state directory and the CLI
# --------------------------------------------------------------------------------------------------


def test_info_object(sim: Simulator) -> None:
    info = sim.info()
    assert info["domain"] == "contoso.test"
    assert info["autodiscover_url"] == "https://autodiscover.contoso.test/autodiscover/autodiscover.xml"
    assert Path(info["ca_cert"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert f"autodiscover.contoso.test:443:127.0.0.1:{sim.port}" in info["connect_to"]
    assert f"autodiscover.contoso.test:80:127.0.0.1:{sim.http_port}" in info["connect_to"]
    assert {"email": "alice@contoso.test", "user": "alice", "password": "Alice-Demo-2024!"} in info["users"]
    json.dumps(info)


def test_state_dir_keeps_the_ca(tmp_path: Path) -> None:
    with Simulator(state_dir=tmp_path) as first:
        ca = first.ca_cert_path.read_bytes()
    with Simulator(state_dir=tmp_path) as second:
        assert second.ca_cert_path.read_bytes() == ca
    assert (tmp_path / "ca.pem").is_file()  # a caller's directory is not removed


def test_stop_closes_every_listener() -> None:
    sim = Simulator().start()
    ports = (sim.port, sim.http_port, sim.blackhole_port)
    state = sim.state_dir
    sim.stop()
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    assert not state.exists()
    sim.stop()  # idempotent


def test_cli_human_summary(sim: Simulator) -> None:
    from mapiprobe.cli.simulator import _human

    text = _human(sim.info())
    assert str(sim.ca_cert_path) in text
    assert "Alice-Demo-2024!" in text
    assert f"--connect-to autodiscover.contoso.test:443:127.0.0.1:{sim.port}" in text
    assert sim.autodiscover_url in text


def _run_cli(*extra: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mapiprobe", "simulator", "--json", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=20):
            proc.kill()
            pytest.fail("mapiprobe simulator --json printed nothing")
    line = proc.stdout.readline()
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_json_and_clean_stop(sig: signal.Signals) -> None:
    proc, info = _run_cli("--scenario", "redirect-url")
    try:
        assert set(info) >= {"domain", "autodiscover_url", "ca_cert", "connect_to", "users"}
        assert info["scenario"] == "redirect-url"
        users = info["users"]
        assert isinstance(users, list) and users[0] == {
            "email": "alice@contoso.test",
            "user": "alice",
            "password": "Alice-Demo-2024!",
        }
        port = int(str(info["https_port"]))
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        proc.send_signal(sig)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err
    assert out == ""
    assert "Traceback" not in err
