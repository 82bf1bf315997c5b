"""The RPC/HTTP client against the simulator's RPC proxy (real TLS, real NTLM on both sides, both levels),
and opt-in against gromox (``MAPIPROBE_GROMOX=https://localhost:8443``, Basic, RPC-level none).

Also the trial behind transport/rpcsec.py: pyspnego's NTLM context signs and seals DCE/RPC PDUs the way
MS-RPCE 3.3.1.5.2 wants (signature over header + stub + sec_trailer, only the stub sealed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapiprobe.protocol.dcerpc import ASYNCEMSMDB, EMSMDB, AuthLevel, AuthType, Pdu, PType, Request, build_pdu
from mapiprobe.protocol.execute import rop_input
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import RopLogonPrivateMailboxResponse, RopLogonRequest, decode_responses
from mapiprobe.protocol.rops.logon import LOGON_FLAG_PRIVATE, OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING
from mapiprobe.protocol.rpcext import iter_ext_buffers
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.errors import AuthenticationFailed, ConnectionLost, ReadTimeout, TransportError
from mapiprobe.transport.rpch import EmsmdbRpcClient, RpcFault, RpchConnection, RpchEndpoint, RpchError
from mapiprobe.transport.rpcsec import RpcSecurity, RpcSecurityError
from mapiprobe.transport.trace import Trace

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(module_sim: Simulator) -> Iterator[Simulator]:
    module_sim.set_scenario("normal")
    proxy = module_sim.rpcproxy
    proxy.receive_window = 0x10000
    yield module_sim
    errors = list(module_sim.errors)
    module_sim.set_scenario("normal")
    proxy.receive_window = 0x10000
    assert not errors, errors


def connection(sim: Simulator, *, user: int = 0, password: str | None = None, **kw: object) -> RpchConnection:
    u = sim.users[user]
    opts = ConnectionOptions(ca_certs=(sim.ca_cert_path,), connect_to=tuple(sim.connect_to), read_timeout=5)
    ep = RpchEndpoint(sim.org.mail_host, f"{u.mailbox_guid}@{sim.org.domain}")
    creds = Credentials(u.email, password if password is not None else u.password)
    return RpchConnection(ep, creds, opts, **kw)  # type: ignore[arg-type]


def logon(client: EmsmdbRpcClient, dn: str) -> RopLogonPrivateMailboxResponse:
    rops = [RopLogonRequest(0, 0, LOGON_FLAG_PRIVATE, OPEN_FLAG_USE_PER_MDB_REPLID_MAPPING, 0, dn)]
    out = client.execute(rop_input(rops, [0xFFFFFFFF]))
    assert out.return_value == 0
    ext = next(iter_ext_buffers(out.rop_out))
    response = decode_responses(RopBuffer.decode(ext.payload).rops, rops, None)[0]
    assert isinstance(response, RopLogonPrivateMailboxResponse)
    return response


@pytest.mark.parametrize(
    ("rpc_auth", "level"),
    [
        ("ntlm", AuthLevel.PKT_PRIVACY),
        ("ntlm", AuthLevel.PKT_INTEGRITY),
        ("negotiate", AuthLevel.PKT_PRIVACY),
        ("ntlm", AuthLevel.CONNECT),
    ],
)
def test_mailbox_over_rpch_with_ntlm_at_both_levels(sim: Simulator, rpc_auth: str, level: int) -> None:
    u = sim.users[0]
    trace = Trace()
    with connection(sim, rpc_auth=rpc_auth, rpc_level=level, trace=trace) as conn:
        conn.open()
        # The proxy offers Negotiate, NTLM and Basic (Exchange 2019's /rpc/): Negotiate wins.
        assert conn.stats.http_scheme == "Negotiate"
        assert conn.stats.continues_seen >= 1  # the simulator sends 100 Continue like IIS; passed by
        assert conn.bind(EMSMDB).results[0].accepted
        client = EmsmdbRpcClient(conn)
        connected = client.connect(u.legacy_dn)
        assert connected.return_value == 0 and connected.display_name == u.display_name
        assert logon(client, u.legacy_dn).folder_ids.ipm_subtree.global_counter > 0
        assert client.disconnect().return_value == 0
    mech = "NTLM" if rpc_auth == "ntlm" else "Negotiate"
    assert conn.stats.rpc_auth == f"{mech}, level {AuthLevel(level).name.lower()}"
    assert sim.rpcproxy.binds[-1] == (AuthType.WINNT if rpc_auth == "ntlm" else AuthType.GSS_NEGOTIATE, level)
    # Two channels and one echo on their own TCP connections; auth legs share the channel's connection.
    assert conn.stats.tcp_connections == 4
    methods = [r.method for r in trace.records]
    assert methods.count("RPC_OUT_DATA") >= 1 and methods.count("RPC_IN_DATA") >= 2
    assert len({r.seq for r in trace.records}) == len(trace.records)
    out = [r for r in trace.records if r.label == "RPC/HTTP OUT channel"]
    assert len(out) == 1 and out[0].status == 200 and out[0].response_bytes > 100  # A3, C2, bind_ack, answers
    inner = [r for r in trace.records if r.label == "RPC/HTTP IN channel"]
    assert len(inner) == 1 and inner[0].outcome == "closed" and inner[0].request_bytes > 104
    for record in trace.records:
        for name, value in record.request_headers:
            if name.lower() == "authorization":
                assert value in ("Negotiate [redacted]", "NTLM [redacted]", "Basic [redacted]")
        assert u.password not in repr(record)


def test_privacy_really_seals_the_stub(sim: Simulator) -> None:
    """The user DN travels in EcDoConnectEx: in clear at level none, never at packet privacy."""
    u = sim.users[0]
    sent: list[bytes] = []
    with connection(sim, rpc_auth="ntlm", rpc_level=AuthLevel.PKT_PRIVACY) as conn:
        conn.open()
        conn.bind(EMSMDB)
        inner = conn._in
        assert inner is not None
        original = inner.send
        inner.send = lambda data: (sent.append(data), original(data))[1]  # type: ignore[method-assign]
        EmsmdbRpcClient(conn).connect(u.legacy_dn)
    assert sent and not any(u.legacy_dn.encode() in s for s in sent)


def test_basic_only_accepts_rpc_level_none_like_gromox(sim: Simulator) -> None:
    sim.set_scenario("basic-only")
    u = sim.users[1]
    with connection(sim, user=1) as conn:
        conn.open()
        assert conn.stats.http_scheme == "Basic" and conn.stats.continues_seen >= 1
        conn.bind(EMSMDB)
        client = EmsmdbRpcClient(conn)
        assert client.connect(u.legacy_dn).display_name == u.display_name
        assert logon(client, u.legacy_dn).mailbox_guid is not None
    assert conn.stats.rpc_auth == "none"


def test_unknown_server_is_refused_in_words(sim: Simulator) -> None:
    sim.set_scenario("rpch-unknown-server")
    with connection(sim) as conn, pytest.raises(RpchError) as err:
        conn.open()
    assert err.value.stage == "echo"
    assert "503" in str(err.value) and "refuses the RPC server" in str(err.value)


def test_channel_cut_mid_session_is_a_lost_connection(sim: Simulator) -> None:
    sim.set_scenario("rpch-channel-cut")
    u = sim.users[0]
    with connection(sim, rpc_auth="ntlm") as conn:
        conn.open()
        conn.bind(EMSMDB)
        client = EmsmdbRpcClient(conn)
        client.connect(u.legacy_dn)
        logon(client, u.legacy_dn)  # answered; then the proxy drops the OUT channel
        with pytest.raises(ConnectionLost, match="OUT channel"):
            logon(client, u.legacy_dn)


def test_bind_refused_for_its_authentication_level(sim: Simulator) -> None:
    sim.set_scenario("rpch-authn-level")
    with connection(sim, rpc_auth="ntlm") as conn:
        conn.open()
        with pytest.raises(RpchError, match="refused the bind: authentication_type_not_recognized") as err:
            conn.bind(EMSMDB)
    assert err.value.stage == "bind" and "authentication none" in str(err.value)


def test_normal_scenario_wants_rpc_level_authentication(sim: Simulator) -> None:
    with connection(sim, rpc_auth="none") as conn:
        conn.open()
        with pytest.raises(RpchError, match="wants RPC-level authentication"):
            conn.bind(EMSMDB)


def test_wrong_password_fails_at_the_http_level(sim: Simulator) -> None:
    with connection(sim, password="wrong-password") as conn, pytest.raises(AuthenticationFailed):
        conn.open()


def test_unknown_interface_and_unknown_opnum(sim: Simulator) -> None:
    with connection(sim, rpc_auth="ntlm") as conn:
        conn.open()
        with pytest.raises(RpchError, match="refused the interface"):
            conn.bind(ASYNCEMSMDB)  # NSPI is served since issue 17; AsyncEMSMDB is not
    with connection(sim, rpc_auth="ntlm") as conn:
        conn.open()
        conn.bind(EMSMDB)
        with pytest.raises(RpcFault, match="nca_s_op_rng_error") as err:
            conn.call(99, b"")
        assert err.value.status == 0x1C010002


def test_fragmentation_and_flow_control_both_ways(sim: Simulator) -> None:
    """A 40 KB rgbIn goes out in 4 KB fragments against an 8 KB IN window (the client waits for the
    proxy's FlowControlAck); with an 8 KB receive window the client acknowledges the OUT channel."""
    sim.rpcproxy.receive_window = 0x2000
    acks_before = sim.rpcproxy.acks_sent, sim.rpcproxy.acks_received
    u = sim.users[0]
    with connection(sim, rpc_auth="ntlm", receive_window=0x2000) as conn:
        conn.open()
        conn.bind(EMSMDB)
        client = EmsmdbRpcClient(conn)
        client.connect(u.legacy_dn)
        out = client.execute(b"\x00" * 40_000)  # not a ROP buffer: answered with ecRpcFormat
        assert out.return_value == 0x4B6 and out.rop_out == b""  # ecRpcFormat, MS-OXCROPS 3.2.5.1
        for _ in range(25):  # about 300 bytes each: more than half the 8 KB window
            logon(client, u.legacy_dn)
    assert sim.rpcproxy.acks_sent > acks_before[0]
    assert sim.rpcproxy.acks_received > acks_before[1]


def test_idle_deadline_on_a_silent_out_channel(sim: Simulator) -> None:
    u = sim.users[0]
    opts = ConnectionOptions(ca_certs=(sim.ca_cert_path,), connect_to=tuple(sim.connect_to), read_timeout=0.5)
    ep = RpchEndpoint(sim.org.mail_host, f"{u.mailbox_guid}@{sim.org.domain}")
    with RpchConnection(ep, Credentials(u.email, u.password), opts, rpc_auth="ntlm") as conn:
        conn.open()
        conn.bind(EMSMDB)
        with pytest.raises(ReadTimeout, match=r"carried nothing for 0\.5 s"):
            conn._read_pdu(0.5)  # nothing asked, nothing comes: the deadline, not a hang


def test_endpoint_parsing() -> None:
    ep = RpchEndpoint.parse_proxy("mail.contoso.test", "guid@contoso.test")
    assert ep.url == "https://mail.contoso.test/rpc/rpcproxy.dll?guid@contoso.test:6001"
    assert RpchEndpoint.parse_proxy("localhost:8443", "x").proxy_port == 8443
    v6 = RpchEndpoint.parse_proxy("[::1]:444", "x")
    assert (v6.proxy_host, v6.proxy_port) == ("::1", 444)


def test_no_credentials_over_plain_http(sim: Simulator) -> None:
    ep = RpchEndpoint(sim.org.mail_host, "x", proxy_port=80, https=False)
    conn = RpchConnection(ep, Credentials("a", "b"), ConnectionOptions(), http_scheme="basic")
    with pytest.raises(TransportError, match="not HTTPS"):
        conn.open()


# -- the pyspnego trial (transport/rpcsec.py) --------------------------------------------------------


def _ntlm_pair(tmp_path: Path) -> tuple[RpcSecurity, RpcSecurity]:
    import spnego

    from mapiprobe.simulator.auth import acceptor_environment

    users = tmp_path / "users.txt"
    users.write_text("CONTOSO:alice:Pa55word!\n", encoding="utf-8")
    client = RpcSecurity(
        spnego.client("CONTOSO\\alice", "Pa55word!", hostname="h", service="host", protocol="ntlm"),
        level=AuthLevel.PKT_PRIVACY,
    )
    with acceptor_environment(users):
        server = RpcSecurity(
            spnego.server(hostname="h", service="host", protocol="ntlm"), level=AuthLevel.PKT_PRIVACY
        )
        token = client.step(None)
        token = server.step(token)
        server.step(client.step(token))
    assert client.complete and server.complete
    return client, server


def test_pyspnego_ntlm_seals_dcerpc_pdus(tmp_path: Path) -> None:
    client, server = _ntlm_pair(tmp_path)
    stub = b"EcDoConnectEx stub data"
    for level in (AuthLevel.PKT_PRIVACY, AuthLevel.PKT_INTEGRITY):
        client.level = server.level = level
        raw = build_pdu(
            PType.REQUEST, Request(10, stub).fixed(), stub, call_id=2, trailer=client.trailer(),
            auth_length=16, protect=client.protect,
        )  # fmt: skip
        assert (stub in raw) is (level == AuthLevel.PKT_INTEGRITY)
        pdu = server.unprotect(Pdu.decode(raw))
        body = pdu.parse()
        assert isinstance(body, Request) and body.stub == stub
        tampered = bytearray(raw)
        tampered[30] ^= 0x01  # one bit of the stub
        with pytest.raises(RpcSecurityError):
            server.unprotect(Pdu.decode(bytes(tampered)))
        client, server = _ntlm_pair(tmp_path)  # a failed verify leaves the RC4 state behind: start again


# -- gromox (opt-in) ---------------------------------------------------------------------------------

GROMOX = os.environ.get("MAPIPROBE_GROMOX")
GROMOX_DN = (
    "/o=Gromox default/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
    "/cn=Recipients/cn=0100000001000000-alice"
)


@pytest.mark.skipif(not GROMOX, reason="set MAPIPROBE_GROMOX=https://localhost:8443 to run against gromox")
def test_gromox_rpch_basic_rpc_level_none() -> None:
    from urllib.parse import urlsplit

    assert GROMOX is not None
    url = urlsplit(GROMOX)
    ca = os.environ.get("MAPIPROBE_GROMOX_CA", "/work/helpers/gromox-ca.pem")
    opts = ConnectionOptions(ca_certs=(Path(ca),) if Path(ca).exists() else (), read_timeout=10)
    ep = RpchEndpoint(url.hostname or "localhost", "localhost", proxy_port=url.port or 443)
    with RpchConnection(ep, Credentials("alice@example.test", "AlicePass123"), opts) as conn:
        assert conn.echo() >= 0 and conn.stats.http_scheme == "Basic"
        conn.open()
        assert conn.stats.continues_seen == 0  # gromox sends no 100 Continue
        conn.bind(EMSMDB)
        client = EmsmdbRpcClient(conn)
        assert client.connect(GROMOX_DN).display_name == "Alice Test"
        assert logon(client, GROMOX_DN).folder_ids.inbox.global_counter > 0
        assert client.disconnect().return_value == 0


def test_cert_principal_name_is_checked(sim: Simulator) -> None:
    from dataclasses import replace

    from mapiprobe.transport.errors import TLSFailure

    good = connection(sim, rpc_auth="ntlm")
    good.endpoint = replace(good.endpoint, cert_principal=f"msstd:{sim.org.mail_host}")
    with good:
        good.open()
    bad = connection(sim, rpc_auth="ntlm")
    bad.endpoint = replace(bad.endpoint, cert_principal="msstd:exchange.fabrikam.test")
    with bad, pytest.raises(TLSFailure, match=r"not the CertPrincipalName exchange\.fabrikam\.test"):
        bad.open()


def test_session_keepalive_pings_the_in_channel(sim: Simulator) -> None:
    """A session over RPC/HTTP pings (RTS Ping on the IN channel) before the proxy's ConnectionTimeout."""
    import time

    from mapiprobe.session.mailbox import MailboxSession
    from mapiprobe.session.mailbox_transport import rpc_http_transport
    from mapiprobe.session.rpch_settings import RpcHttpSettings

    u = sim.users[0]
    sim.rpcproxy.connection_timeout_ms = 1500
    before = sim.rpcproxy.pings_received
    opts = ConnectionOptions(ca_certs=(sim.ca_cert_path,), connect_to=tuple(sim.connect_to), read_timeout=5)
    settings = RpcHttpSettings(sim.org.mail_host, f"{u.mailbox_guid}@{sim.org.domain}", auth_package="Ntlm")
    transport = rpc_http_transport(settings, Credentials(u.email, u.password), opts, trace=Trace())
    try:
        with MailboxSession(transport.url, user_dn=u.legacy_dn, transport=transport) as session:
            assert session.protocol == "RPC/HTTP"
            time.sleep(2.0)
            assert session.stats.pings >= 1
            assert len(session.folders()) > 10  # the virtual connection is still good
    finally:
        sim.rpcproxy.connection_timeout_ms = 120_000
    assert sim.rpcproxy.pings_received > before


def test_pyspnego_ntlm_primitives_match_ms_nlmp_4_2_4_4() -> None:
    """MS-NLMP 4.2.4.4 (NTLMv2, extended session security, key exchange): RandomSessionKey 16 x 0x55 (4.2.1),
    SeqNum 0, plaintext "Plaintext" in UTF-16LE. The seal/sign that transport/rpcsec.py gets from pyspnego's
    context produces the spec's sealing key, signing key, sealed data and signature."""
    from spnego._ntlm_raw.crypto import rc4init, sealkey, signkey
    from spnego._ntlm_raw.messages import NegotiateFlags
    from spnego._ntlm_raw.security import seal

    f = NegotiateFlags
    flags = (
        f.key_exch
        | f.key_56
        | f.key_128
        | f.version
        | f.target_info
        | f.extended_session_security
        | f.target_type_server
        | f.always_sign
        | f.ntlm
        | f.seal
        | f.sign
        | f.oem
        | f.unicode
    )  # fmt: skip  (the Challenge Flags of MS-NLMP 4.2.4: 0xE28A8233)
    assert int(flags) == 0xE28A8233
    session_key = b"\x55" * 16
    seal_key = sealkey(flags, session_key, "initiate")
    sign_key = signkey(flags, session_key, "initiate")
    assert seal_key == bytes.fromhex("59f600973cc4960a25480a7c196e4c58")
    assert sign_key == bytes.fromhex("4788dc861b4782f35d43fd98fe1a2d39")
    data, signature = seal(flags, rc4init(seal_key), sign_key, 0, "Plaintext".encode("utf-16-le"))
    assert data == bytes.fromhex("54e50165bf1936dc996020c1811b0f06fb5f")
    assert signature == bytes.fromhex("010000007fb38ec5c55d497600000000")


def test_negotiate_at_the_http_level(sim: Simulator) -> None:
    """windows-auth offers Negotiate and NTLM: Negotiate (SPNEGO around NTLM, no KDC here) on each channel,
    its last leg answered 200 on a CL-0 request, the channel request then sent on that connection."""
    sim.set_scenario("windows-auth")
    u = sim.users[0]
    with connection(sim, rpc_auth="negotiate") as conn:
        conn.open()
        assert conn.stats.http_scheme == "Negotiate"
        conn.bind(EMSMDB)
        assert EmsmdbRpcClient(conn).connect(u.legacy_dn).display_name == u.display_name
    assert conn.stats.rpc_auth == "Negotiate, level pkt_privacy"


def test_channels_tunnel_through_the_http_proxy(sim: Simulator) -> None:
    """With --proxy (or the system's proxy) both channels go through CONNECT tunnels, named in the trace."""
    from dataclasses import replace

    assert sim.proxy is not None and sim.proxy_url is not None
    u = sim.users[0]
    trace = Trace()
    conn = connection(sim, rpc_auth="ntlm", trace=trace)
    conn = RpchConnection(
        conn.endpoint,
        conn.credentials,
        replace(conn.options, proxy=sim.proxy_url),
        rpc_auth="ntlm",
        trace=trace,
    )
    with conn:
        conn.open()
        conn.bind(EMSMDB)
        assert EmsmdbRpcClient(conn).connect(u.legacy_dn).return_value == 0
    assert conn.proxy == sim.proxy_url
    assert sim.proxy.seen.count(("CONNECT", f"{sim.org.mail_host}:443")) >= 2  # the OUT and the IN channel
    assert trace.records and all(r.proxy == sim.proxy_url for r in trace.records)
