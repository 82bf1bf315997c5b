"""``mapiprobe protocols`` against the simulator with 50 ms of round trip: MAPI/HTTP and RPC/HTTP, each cold.

The simulator runs in a process of its own (this script with ``--serve``) and adds ``--rtt-ms`` before every
answer a client waits for: each Autodiscover POX answer (``AutodiscoverService.rtt_s``), each MAPI/HTTP
request of the mailbox and address book endpoints (``MapiHttpService.rtt_s``) and, over RPC/HTTP, the echo,
CONN/A3, CONN/C2, the bind and every RPC call (``RpcProxyService.rtt_s``). 401 answers of the HTTP
authentication legs are not delayed, on either side.

Each run is :func:`mapiprobe.session.compare.compare_protocols` (what ``mapiprobe protocols`` does): for
MAPI/HTTP and then RPC/HTTP, with new clients, Autodiscover (``--autodiscover-url``: one POST, no candidate
search), connect (Connect + RopLogon), the folder tree, and the first GAL page (Bind + QueryRows; over
RPC/HTTP RFR first). Figures: the median of ``--runs`` per phase and protocol, the dependent round trips each
protocol needed (PhaseResult.round_trips), each protocol's ratio to its own floor (round trips x RTT; target
<= 1.2), and the RPC/HTTP ÷ MAPI/HTTP wall-time ratio to the folder tree (Autodiscover + connect + folders)
and per phase.

HTTP authentication: Basic everywhere (offered on every endpoint for the benchmark), sent with each request,
so every HTTP exchange is one round trip on both protocols; RPC-level NTLM with packet privacy (as Exchange
wants). (With NTLM at the HTTP level the simulator's MAPI/HTTP endpoint delays its 401 legs, as a network
would, while its Autodiscover and RPC proxy do not: the floors would not compare.)

Run: ``python benchmarks/compare.py [--rtt-ms 50] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

from mapiprobe.session.compare import PHASES, Comparison, compare_protocols
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials, make_auth
from simproc import connection_options, simulator_process

TARGET_RATIO = 1.2
TREE = ("autodiscover", "connect", "folders")


def serve(rtt_ms: float) -> int:
    """The simulator side: start it, print its settings as JSON, add the RTT on "go", stop at EOF."""
    with Simulator() as sim:
        for endpoint in ("autodiscover", "emsmdb", "nspi", "rpc"):
            sim.auth.offer(endpoint, ("Basic", "NTLM"))
        print(json.dumps(sim.info()), flush=True)
        sys.stdin.readline()
        rtt = rtt_ms / 1000
        sim.autodiscover.rtt_s = rtt
        sim.endpoints["emsmdb"].rtt_s = rtt
        sim.endpoints["nspi"].rtt_s = rtt
        sim.rpcproxy.rtt_s = rtt
        sys.stdin.readline()
    return 0


def run_once(info: dict[str, Any]) -> Comparison:
    user = info["users"][0]
    options = connection_options(info)
    creds = Credentials(user["user"], user["password"])
    return compare_protocols(
        user["email"],
        credentials=creds,
        connection=options,
        auth_factory=lambda: make_auth(creds, "basic"),
        user=user["user"],
        auth_scheme="basic",
        autodiscover_url=info["autodiscover_url"],
        rpc_auth="ntlm",
        http_scheme="basic",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round-trip time added per answer")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.rtt_ms)
    ok = True
    with simulator_process(__file__, args.rtt_ms) as sim:
        info = sim.info
        warm = run_once(info)  # warm-up: directory and stores built, imports done
        if not all(r.ok for r in warm.runs):
            for r in warm.runs:
                for p in r.phases:
                    if not p.ok:
                        print(f"warm-up {r.protocol} {p.name}: {p.error}")
            raise SystemExit("the warm-up run failed")
        sim.add_rtt()
        rtt = args.rtt_ms / 1000
        results = [run_once(info) for _ in range(args.runs)]
        print(
            f"RTT {args.rtt_ms:g} ms per answer, {args.runs} cold runs of both protocols, "
            "simulator in another process"
        )
        print(
            f"{'phase':<13}{'protocol':<11}{'median ms':>10}{'min ms':>8}{'HTTP req':>9}{'TCP':>5}"
            f"{'round trips':>12}{'floor ms':>9}{'ratio':>7}"
        )
        medians: dict[tuple[str, str], float] = {}
        for phase in (*PHASES, "total"):
            for protocol in ("mapi-http", "rpc-http"):
                times, last = [], None
                for c in results:
                    run = c.run(protocol)
                    assert run is not None and run.ok, run
                    if phase == "total":
                        times.append(run.total("wall_ms"))
                        last = {k: run.total(k) for k in ("http_requests", "tcp_connections", "round_trips")}
                    else:
                        p = run.phase(phase)
                        assert p is not None
                        times.append(p.wall_ms)
                        last = {"http_requests": p.http_requests, "tcp_connections": p.tcp_connections,
                                "round_trips": p.round_trips}  # fmt: skip
                assert last is not None
                median = statistics.median(times)
                medians[(phase, protocol)] = median
                floor = last["round_trips"] * rtt * 1000
                ratio = median / floor if floor else float("nan")
                mark = ""
                if phase == "total":
                    ok = ok and ratio <= TARGET_RATIO
                    mark = "" if ratio <= TARGET_RATIO else "  (above target)"
                name = "MAPI/HTTP" if protocol == "mapi-http" else "RPC/HTTP"
                print(
                    f"{phase:<13}{name:<11}{median:>10.1f}{min(times):>8.1f}{int(last['http_requests']):>9}"
                    f"{int(last['tcp_connections']):>5}{int(last['round_trips']):>12}{floor:>9.1f}{ratio:>7.2f}{mark}"
                )
        for phase in PHASES:
            ratio = medians[(phase, "rpc-http")] / medians[(phase, "mapi-http")]
            print(f"RPC/HTTP ÷ MAPI/HTTP, {phase}: {ratio:.2f}")
        tree = {p: sum(medians[(x, p)] for x in TREE) for p in ("mapi-http", "rpc-http")}
        print(
            f"RPC/HTTP ÷ MAPI/HTTP to the folder tree (autodiscover+connect+folders): "
            f"{tree['rpc-http'] / tree['mapi-http']:.2f} "
            f"({tree['rpc-http']:.0f} ms against {tree['mapi-http']:.0f} ms)"
        )
    print(
        f"target: each protocol's total ratio <= {TARGET_RATIO} "
        "(its dependent round trips x RTT is the floor)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
