"""Benchmark: the whole ``mapiprobe check`` against the simulator with a network round trip on every endpoint.

The simulator runs in its own process (so that its CPU does not share the client's interpreter lock) with
``rtt_s`` = 50 ms on every connection and DNS answer: a :class:`~mapiprobe.simulator.net.LatencyRelay` in
front of its HTTPS and HTTP listeners delays each direction by half the RTT and charges the TCP handshake's
round trip to each connection's first bytes, so TCP and TLS handshakes cost what they would on such a
network (Autodiscover, the mailbox and the address book alike). The client is ``mapiprobe check EMAIL
--json`` run in-process (argument parsing, every step, the JSON report), as the healthy organisation with
NTLM/Negotiate offered, like Exchange 2019.

Figures: wall time (median of the runs), HTTP requests, and the ratio wall / floor, where the floor is the
longest chain of network operations that ran one after another in that run (operations that overlapped in
time were in parallel and count once), each operation weighing:

* an HTTP request: its round trips × RTT, where the round trips are 1 for the exchange, +1 for a new TCP
  connection and +1 (TLS 1.3) or +2 (TLS 1.2) for its handshake; or its measured duration when that is
  longer (the server's time: MAPI/HTTP work, the simulator's own processing);
* a ``tls`` step (the certificate report): two handshakes, each TCP + one TLS flight = 4 round trips;
* a ``tcp`` step, a ``dns`` step for an address given by ``--connect-to``, a ``proxy`` step without a proxy:
  nothing (a connection that sends nothing costs nothing on the emulated network; no lookup is made).

The target: wall / floor <= 1.15.

Run: ``python benchmarks/check.py [--rtt-ms 50] [--runs 5] [--json]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The simulated realm has no KDC: without this, Negotiate may wait 5 s for libkrb5's DNS lookup of one
# (tests/data/krb5_no_kdc.conf says more); a benchmark run must not measure that.
os.environ.setdefault(
    "KRB5_CONFIG", str(Path(__file__).resolve().parents[1] / "tests" / "data" / "krb5_no_kdc.conf")
)

TARGET_RATIO = 1.15
OFFERS = ("Negotiate", "NTLM")


def serve(rtt_ms: float) -> int:
    from mapiprobe.simulator import Simulator

    with Simulator(rtt_s=rtt_ms / 1000) as sim:
        sim.auth.offer("*", OFFERS)
        print(json.dumps(sim.info()), flush=True)
        sys.stdin.read()  # until the parent closes our standard input
    return 0


def _round_trips(r: dict[str, Any]) -> int:
    trips = 1
    if not r["reused_connection"]:
        trips += 1
        if r["url"].startswith("https:"):
            trips += 1 if r.get("tls_version") == "TLSv1.3" else 2
    return trips


def operations(report: dict[str, Any], rtt_ms: float) -> list[tuple[float, float, float, str]]:
    """(start, end, weight, what) of every network operation of one run, in milliseconds."""
    ops: list[tuple[float, float, float, str]] = []
    for r in report["requests"]:
        total = r["total_ms"] or 0.0
        weight = max(total, _round_trips(r) * rtt_ms)
        ops.append((r["start_ms"], r["start_ms"] + total, weight, f"{r['method']} {r['url'][:60]}"))
    for s in report["steps"]:
        if s["id"] == "tls":
            ops.append((s["start_ms"], s["start_ms"] + s["elapsed_ms"], 4 * rtt_ms, f"tls {s['target']}"))
    return ops


def floor_ms(ops: list[tuple[float, float, float, str]]) -> tuple[float, list[str]]:
    """The heaviest chain of operations each starting after the previous one ended (weighted intervals)."""
    ops = sorted(ops, key=lambda o: o[1])
    best: list[float] = []
    back: list[int] = []
    for i, (start, _end, weight, _what) in enumerate(ops):
        prev, arg = 0.0, -1
        for j in range(i):
            if ops[j][1] <= start + 0.5 and best[j] > prev:  # 0.5 ms: the clock's grain between threads
                prev, arg = best[j], j
        best.append(prev + weight)
        back.append(arg)
    if not best:
        return 0.0, []
    i = max(range(len(best)), key=best.__getitem__)
    chain: list[str] = []
    while i >= 0:
        chain.append(ops[i][3])
        i = back[i]
    return max(best), chain[::-1]


def run_check(info: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
    from mapiprobe.cli import main

    user = info["users"][0]
    argv = ["check", user["email"], "--json", "-q", "--password-stdin", "--timeout", "10"]
    for rule in info["connect_to"]:
        argv += ["--connect-to", rule]
    argv += ["--ca-cert", info["ca_cert"], "--dns-server", info["dns_server"]]
    out = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO(user["password"] + "\n")
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            code = main(argv)
        wall = (time.perf_counter() - start) * 1000
    finally:
        sys.stdin = stdin
    return wall, code, json.loads(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round trip added on every endpoint")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.rtt_ms)
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--rtt-ms", str(args.rtt_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        run_check(info)  # warm-up: imports, the simulator's first answers
        rows = []
        for _ in range(args.runs):
            wall, code, report = run_check(info)
            floor, chain = floor_ms(operations(report, args.rtt_ms))
            rows.append(
                {
                    "wall_ms": wall,
                    "floor_ms": floor,
                    "ratio": wall / floor,
                    "exit": code,
                    "requests": len(report["requests"]),
                    "result": report["result"],
                    "chain": chain,
                }
            )
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)
    median = sorted(rows, key=lambda r: r["ratio"])[len(rows) // 2]
    figures = {
        "rtt_ms": args.rtt_ms,
        "runs": args.runs,
        "wall_ms_median": statistics.median(r["wall_ms"] for r in rows),
        "floor_ms_median": statistics.median(r["floor_ms"] for r in rows),
        "ratio_median": statistics.median(r["ratio"] for r in rows),
        "requests": median["requests"],
        "results": sorted({r["result"] for r in rows}),
        "target_ratio": TARGET_RATIO,
    }
    if args.json:
        print(json.dumps({**figures, "critical_chain": median["chain"]}, indent=2))
    else:
        print(f"mapiprobe check, healthy organisation, RTT {args.rtt_ms:g} ms per endpoint, {args.runs} runs")
        for r in rows:
            print(
                f"  wall {r['wall_ms']:7.0f} ms  floor {r['floor_ms']:7.0f} ms  ratio {r['ratio']:.3f}  "
                f"{r['requests']} requests  result {r['result']} (exit {r['exit']})"
            )
        print(
            f"median: wall {figures['wall_ms_median']:.0f} ms, floor {figures['floor_ms_median']:.0f} ms, "
            f"ratio {figures['ratio_median']:.3f} (target <= {TARGET_RATIO})"
        )
        print(
            "how the floor was counted: the heaviest chain of network operations that ran one after another;"
        )
        print("  HTTP request = max(measured, round trips x RTT) with 1 + new TCP 1 + TLS 1.3 1 (1.2: 2);")
        print("  tls step = 4 round trips (verifying handshake + chain read);")
        print("  tcp step, dns step for a --connect-to address, proxy step without a proxy = 0")
        print(f"critical chain of the median run ({len(median['chain'])} operations):")
        for what in median["chain"]:
            print(f"    {what}")
    ok = figures["ratio_median"] <= TARGET_RATIO and figures["results"] == ["pass"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
