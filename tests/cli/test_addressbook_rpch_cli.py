"""The address book over RPC/HTTP (issue 17): ``addresslists``, ``gal`` and ``resolve`` with ``--protocol``,
RFR first (RfrGetNewDSA names the NSPI server) and NSPI over the simulator's RPC proxy, compared with the same
commands over MAPI/HTTP; the session's other calls; and opt-in against gromox (``MAPIPROBE_GROMOX``):
``gal --protocol rpc-http`` lists the same entries as over MAPI/HTTP."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from mapiprobe.cli import main
from mapiprobe.protocol.nspi import INITIAL_STAT, GetMatchesRequest
from mapiprobe.protocol.nspi_bridge import decode_getmatches_request, restriction_from_oxcdata
from mapiprobe.protocol.nspi_ndr import RES_PROPERTY
from mapiprobe.session.addressbook import AddressBookSession, anr_restriction
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.rpch import RpcFault, RpchEndpoint
from mapiprobe.transport.rpch_addressbook import RpchAddressBookEndpoint
from tests.gromox import (
    ALICE,
    ALICE_DN,
    ALICE_MAILBOX,
    ALICE_PASSWORD,
    GROMOX,
    GROMOX_CA,
    GROMOX_HOST,
    needs_gromox,
)
from tests.session.simhelp import cli_args, real_auth

pytestmark = pytest.mark.network


def run(capsys: Any, monkeypatch: Any, sim: Simulator, *args: str) -> tuple[int, str, str]:
    user = sim.users[0]
    # NTLM at the HTTP level (Exchange 2019's Negotiate would first try Kerberos, which has no KDC here)
    argv = [*args, *cli_args(sim, timeout=10.0), "--user", user.user, "--password-stdin", "--auth", "ntlm"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(user.password + "\n"))
    code = main(argv)
    out, err = capsys.readouterr()
    assert user.password not in out and user.password not in err
    return code, out, err


def _json(capsys: Any, monkeypatch: Any, sim: Simulator, *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, monkeypatch, sim, *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def test_gal_with_mapi_http_disabled_lists_the_same_rows_over_rpc_http(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    email = sim.users[0].email
    over_mapi = _json(capsys, monkeypatch, sim, "gal", email, "--start", "100", "--limit", "120")
    assert over_mapi["protocol"] == "MAPI/HTTP"
    sim.clear_requests()
    before = dict(sim.rpcproxy.nspi_rpc.calls)
    over_rpc = _json(
        capsys, monkeypatch, sim, "gal", email, "--start", "100", "--limit", "120", "--mapi-http-disabled"
    )
    assert over_rpc["protocol"] == "RPC/HTTP"
    assert over_rpc["rows"] == over_mapi["rows"] and len(over_rpc["rows"]) == 120
    assert over_rpc["total"] == over_mapi["total"]
    assert not any(r.path.lower().startswith("/mapi/") for r in sim.requests)
    calls = {k: v - before.get(k, 0) for k, v in sim.rpcproxy.nspi_rpc.calls.items()}
    assert calls["RfrGetNewDSA"] == 1 and calls["NspiBind"] == 1 and calls["NspiQueryRows"] >= 3
    rpch = over_rpc["rpc_http"]
    assert rpch["nspi_server"] == sim.org.mail_host and "RfrGetNewDSA" in rpch["notes"][0]
    assert rpch["rpc_auth"].startswith("NTLM") and sim.rpcproxy.binds[-1][1] == 6


def test_addresslists_over_rpc_http_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    sim.set_scenario("mapihttp-disabled")
    code, out, err = run(capsys, monkeypatch, sim, "addresslists", sim.users[0].email)
    assert code == 0, err
    assert "Global Address List" in out and "All Users" in out
    assert "/rpc/rpcproxy.dll?" in out and "over RPC/HTTP (NSPI server" in out


def test_resolve_over_rpc_http_matches_mapi_http_with_explicit_proxy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    u = sim.users[0]
    names = ("alice", "Aaron", "zz-nobody-zz")
    over_mapi = _json(capsys, monkeypatch, sim, "resolve", u.email, *names)
    rpc = ("--protocol", "rpc-http", "--rpc-proxy", sim.org.mail_host, "--rpc-server",
           f"{u.mailbox_guid}@{sim.org.domain}", "--legacy-dn", u.legacy_dn)  # fmt: skip
    sim.clear_requests()
    over_rpc = _json(capsys, monkeypatch, sim, "resolve", u.email, *names, *rpc)
    assert over_rpc["results"] == over_mapi["results"]
    statuses = [r["status"] for r in over_rpc["results"]]
    assert statuses == ["resolved", "ambiguous", "unresolved"]
    assert len(over_rpc["results"][1]["candidates"]) > 1  # GetMatches with an ANR Restriction_r
    assert not any(r.path.lower().startswith("/autodiscover") for r in sim.requests)


def test_bad_input_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    code, _, err = run(
        capsys, monkeypatch, sim, "gal", sim.users[0].email, "--protocol", "mapi-http", "--mapi-http-disabled"
    )
    assert code == 2 and "contradicts" in err


def _transport(sim: Simulator, **kw: Any) -> RpchAddressBookEndpoint:
    u = sim.users[0]
    opts = ConnectionOptions(ca_certs=(sim.ca_cert_path,), connect_to=tuple(sim.connect_to), read_timeout=5)
    ep = RpchEndpoint(sim.org.mail_host, f"{u.mailbox_guid}@{sim.org.domain}")
    creds = Credentials(u.email, u.password)
    return RpchAddressBookEndpoint(ep, creds, opts, user_dn=u.legacy_dn, http_scheme="ntlm", **kw)


def _session(sim: Simulator, transport: Any = None) -> AddressBookSession:
    u = sim.users[0]
    if transport is not None:
        return AddressBookSession(transport.url, transport=transport, keepalive=False)
    url = f"https://{sim.org.mail_host}/mapi/nspi/?MailboxId={u.mailbox_guid}@{sim.org.domain}"
    conn = ConnectionOptions(ca_certs=(sim.ca_cert_path,), connect_to=tuple(sim.connect_to), read_timeout=5)
    auth = real_auth(u.email, u.password)  # normal: Negotiate on /mapi/ (no Basic), as Exchange 2019
    return AddressBookSession(url, user=u.email, auth=auth, connection=conn, keepalive=False)


def test_session_calls_agree_on_both_transports(sim: Simulator) -> None:
    results = []
    rpc = _transport(sim)
    for transport in (None, rpc):
        with _session(sim, transport) as ab:
            page = ab.page(0, start=500, count=7)
            pos = ab.seek("M")
            frac = ab.seek_fraction(1, 4)
            details = ab.details(page.entries[0].mid)
            dn = details.entry.smtp_address
            results.append((page.entries, page.total, pos.position, frac.position, details.properties, dn))
            assert ab.protocol == ("MAPI/HTTP" if transport is None else "RPC/HTTP")
    assert results[0] == results[1]
    # RFR on the RFR port first, then NSPI on the NSPI port (as Outlook does against Exchange).
    assert [c.endpoint.server_port for c in rpc.connections] == [6002, 6004]


def test_nspi_port_fallback_and_unknown_handle_fault(sim: Simulator) -> None:
    t = _transport(sim, nspi_ports=(6999, 6001), use_rfr=False)
    with _session(sim, t) as ab:
        assert ab.count(0) == sim.endpoints["nspi"].handler.directory.lists[0].__len__()
    assert t.nspi_endpoint is not None and t.nspi_endpoint.server_port == 6001
    assert any(":6999" in n and "failed" in n for n in t.notes)
    t2 = _transport(sim)
    with _session(sim, t2) as ab:
        good = t2.handle
        t2.handle = type(good)(0, good.uuid.__class__(int=7))
        with pytest.raises(RpcFault, match="context_mismatch"):
            ab.count(0)
        t2.handle = good


def test_getmatches_body_with_filter_decodes_for_the_bridge() -> None:
    req = GetMatchesRequest(state=INITIAL_STAT, filter=anr_restriction("smith"), row_count=50, columns=None)
    back = decode_getmatches_request(req.encode())
    assert back == req
    res = restriction_from_oxcdata(back.filter or b"")
    assert res.rt == RES_PROPERTY and res.value is not None and res.value.value == "smith"


@needs_gromox
def test_gromox_gal_over_rpc_http_matches_mapi_http(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert GROMOX is not None
    common = ["gal", ALICE, "--json", "--ca-cert", GROMOX_CA, "--user", ALICE,
              "--password-stdin"]  # fmt: skip
    ways = {
        "mapi-http": ["--addressbook-url", f"{GROMOX}/mapi/nspi/?MailboxId={ALICE_MAILBOX}"],
        "rpc-http": [
            "--protocol",
            "rpc-http",
            "--rpc-proxy",
            GROMOX_HOST,
            "--rpc-server",
            ALICE_MAILBOX,
            "--legacy-dn",
            ALICE_DN,
        ],
    }
    results = {}
    for protocol, extra in ways.items():
        monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE_PASSWORD + "\n"))
        code = main([*common, *extra])
        out, err = capsys.readouterr()
        assert code == 0, err
        results[protocol] = json.loads(out)
    assert results["rpc-http"]["rows"] == results["mapi-http"]["rows"]
    assert len(results["rpc-http"]["rows"]) >= 2 and results["rpc-http"]["protocol"] == "RPC/HTTP"


def test_wrong_password_over_rpc_http_stops_at_the_first_refusal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sim: Simulator
) -> None:
    u = sim.users[0]
    argv = ["gal", u.email, "--protocol", "rpc-http", "--rpc-proxy", sim.org.mail_host, "--rpc-server",
            f"{u.mailbox_guid}@{sim.org.domain}", "--legacy-dn", u.legacy_dn, *cli_args(sim, timeout=10.0),
            "--user", u.user, "--password-stdin", "--auth", "ntlm"]  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO("not-the-password\n"))
    before = dict(sim.rpcproxy.nspi_rpc.calls)
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 1 and "not-the-password" not in err
    assert "authentication" in err.lower() or "401" in err
    assert sim.rpcproxy.nspi_rpc.calls == before  # neither RFR nor NSPI was reached
    rpc_requests = [r for r in sim.requests if r.path.lower().startswith("/rpc/")]
    assert len(rpc_requests) <= 4  # one refused channel (with its NTLM leg), no retry on other ports
