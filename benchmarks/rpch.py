"""RPC/HTTP against MAPI/HTTP: the folder tree from a cold start with 50 ms of round-trip time.

The simulator runs in a process of its own (this script with ``--serve``). It adds ``--rtt-ms`` before every
answer a client waits for: each MAPI/HTTP request (``MailboxService.rtt_s``) and, over RPC/HTTP, the echo,
CONN/A3, CONN/C2, the bind and every RPC call (``RpcProxyService.rtt_s``). 401 answers of the HTTP
authentication legs are not delayed, on either side.

Each run is one cold :class:`~mapiprobe.session.mailbox.MailboxSession` (new connections, no folder IDs
known) from the start to the folder tree in hand; the Disconnect afterwards is not timed. Figures per
protocol: wall time (median of ``--runs``), HTTP requests, TCP connections, the dependent round trips the
protocol needs, and the ratio of the wall time to its own floor (round trips x RTT). Target: ratio <= 1.2.

* The simulator plays ``basic-only`` (Basic everywhere, RPC-level authentication none, as gromox), so each
  request needs one leg and the two protocols are timed on equal terms; ``normal`` offers only Windows
  authentication on /mapi/ and /rpc/, as Exchange 2019 does.
* MAPI/HTTP: Connect, Execute(RopLogon), Execute(tree) = 3 round trips on one connection.
* RPC/HTTP (Basic at the HTTP level, none at the RPC level): CONN/A3 and CONN/C2 (the IN channel is opened
  while CONN/A1 travels), the bind, then EcDoConnectEx, EcDoRpcExt2(RopLogon), EcDoRpcExt2(tree) = 5 round
  trips on 2 TCP connections (OUT and IN). No echo: AuthPackage names the scheme.

Run: ``python benchmarks/rpch.py [--rtt-ms 50] [--runs 7]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from mapiprobe.session.mailbox import MailboxSession
from mapiprobe.session.mailbox_transport import rpc_http_transport
from mapiprobe.session.rpch_settings import RpcHttpSettings
from mapiprobe.simulator import Simulator
from mapiprobe.simulator.mailbox import MailboxService
from mapiprobe.simulator.org import load_organisation
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.mapihttp import make_mapihttp_client
from mapiprobe.transport.trace import Trace
from simproc import connection_options, simulator_process

TARGET_RATIO = 1.2


def serve(rtt_ms: float) -> int:
    """The simulator side: start it, print its settings as JSON, add the RTT on "go", stop at EOF."""
    # basic-only: the figures stay comparable with earlier runs (Basic on /mapi/, one leg per request);
    # the default "normal" offers only Windows authentication there, as Exchange 2019 does.
    with Simulator(scenario="basic-only") as sim:
        service = sim.endpoints["emsmdb"]
        assert isinstance(service, MailboxService)
        print(json.dumps(sim.info()), flush=True)
        sys.stdin.readline()
        service.rtt_s = rtt_ms / 1000
        sim.rpcproxy.rtt_s = rtt_ms / 1000
        sys.stdin.readline()
    return 0


def run_mapi(info: dict[str, Any]) -> dict[str, Any]:
    user = info["users"][0]
    sim_user = load_organisation().find_user(user["email"])
    assert sim_user is not None
    domain = info["domain"]
    url = f"https://mail.{domain}/mapi/emsmdb/?MailboxId={sim_user.mailbox_guid}@{domain}"
    trace = Trace()
    client = make_mapihttp_client(connection_options(info), trace=trace)
    session = MailboxSession(
        url, user_dn=sim_user.legacy_dn, user=user["user"], password=user["password"], client=client,
        keepalive=False, trace=trace,
    )  # fmt: skip
    try:
        started = time.perf_counter()
        session.open()
        tree = session.folder_tree()
        elapsed = time.perf_counter() - started
        round_trips = session.stats.requests
        records = list(trace.records)
    finally:
        session.close()
        client.close()
    return {
        "seconds": elapsed,
        "round_trips": round_trips,
        "http_requests": len(records),
        "tcp_connections": sum(1 for r in records if r.connect_ms is not None),
        "folders": sum(1 for _ in tree.walk()) - 1,
    }


def run_rpch(info: dict[str, Any]) -> dict[str, Any]:
    user = info["users"][0]
    sim_user = load_organisation().find_user(user["email"])
    assert sim_user is not None
    domain = info["domain"]
    settings = RpcHttpSettings(f"mail.{domain}", f"{sim_user.mailbox_guid}@{domain}", auth_package="Basic")
    trace = Trace()
    transport = rpc_http_transport(
        settings,
        Credentials(user["email"], user["password"]),
        connection_options(info),
        trace=trace,
        rpc_auth="none",  # basic-only: Basic at the HTTP level, none at the RPC level (as gromox)
    )
    session = MailboxSession(
        transport.url, user_dn=sim_user.legacy_dn, keepalive=False, trace=trace, transport=transport
    )
    try:
        started = time.perf_counter()
        session.open()
        tree = session.folder_tree()
        elapsed = time.perf_counter() - started
        conn = transport.connection
        assert conn is not None
        # echo (only when the scheme is unknown) + CONN/A3 and CONN/C2 together + bind + the calls so far
        round_trips = (1 if conn.echo_ms is not None else 0) + 2 + conn.stats.rpc_calls
        stats = dict(transport.stats)
    finally:
        session.close()
    return {
        "seconds": elapsed,
        "round_trips": round_trips,
        "http_requests": stats["http_requests"],
        "tcp_connections": stats["tcp_connections"],
        "folders": sum(1 for _ in tree.walk()) - 1,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round-trip time added per answer")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.rtt_ms)
    ok = True
    with simulator_process(__file__, args.rtt_ms) as sim:
        info = sim.info
        run_mapi(info)  # warm-up: stores built, imports done
        run_rpch(info)
        sim.add_rtt()
        rtt = args.rtt_ms / 1000
        print(f"RTT {args.rtt_ms:g} ms per answer, {args.runs} cold runs each, simulator in another process")
        head = f"{'protocol':<10} {'folders':>7} {'HTTP req':>8} {'TCP conn':>8} {'round trips':>11}"
        print(f"{head} {'median ms':>10} {'min ms':>8} {'floor ms':>9} {'ratio':>6}")
        medians: dict[str, float] = {}
        for name, run in (("MAPI/HTTP", run_mapi), ("RPC/HTTP", run_rpch)):
            results = [run(info) for _ in range(args.runs)]
            times = [r["seconds"] for r in results]
            last = results[-1]
            median = statistics.median(times)
            medians[name] = median
            floor = last["round_trips"] * rtt
            ratio = median / floor
            ok = ok and ratio <= TARGET_RATIO
            mark = "" if ratio <= TARGET_RATIO else "  (above target)"
            print(
                f"{name:<10} {last['folders']:>7} {last['http_requests']:>8} {last['tcp_connections']:>8} "
                f"{last['round_trips']:>11} {median * 1000:>10.1f} {min(times) * 1000:>8.1f} "
                f"{floor * 1000:>9.1f} {ratio:>6.2f}{mark}"
            )
        print(f"RPC/HTTP / MAPI/HTTP wall time: {medians['RPC/HTTP'] / medians['MAPI/HTTP']:.2f}")
    print(f"target: each protocol's ratio <= {TARGET_RATIO} (its dependent round trips x RTT is the floor)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
