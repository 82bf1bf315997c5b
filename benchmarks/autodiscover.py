"""Benchmark: what a black-holed root domain costs Autodiscover discovery.

The simulator runs its ``dead-root`` scenario: ``https://contoso.test/...`` (the first candidate of
MS-OXDISCO 3.1.5.2) accepts TCP and never answers, ``https://autodiscover.contoso.test/...`` answers at once.
With a per-candidate time limit of 5 s this measures (median of several runs each, the two kinds of run
interleaved, in alternating order, so that drifting load on the machine weighs on both alike; the heap is
collected before each run):

* **direct**: a request to the live candidate alone (``--url``), the floor;
* **discovery**: the full discovery in the default mode, Outlook's priority order — a pending higher-priority
  candidate is waited for only if its TLS handshake has completed (and then for a bounded grace period), so
  the black-holed root is abandoned as soon as ``autodiscover.<domain>`` answers.

The target: discovery / direct <= 1.1. Each discovery run must end with settings from
``autodiscover.<domain>`` and the root domain's attempt recorded as ``abandoned``.

Run ``python benchmarks/autodiscover.py [--runs N] [--timeout S] [--json]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from mapiprobe.session.autodiscover import AutodiscoverSession, DiscoveryOptions, Outcome, Source
from mapiprobe.simulator import Simulator
from mapiprobe.transport.client import ConnectionOptions


def _time(once: Callable[[], bool]) -> float:
    # Each run starts from a collected heap: otherwise a run pays for the garbage of the ones before it (and
    # the abandoned candidates of earlier discovery runs are still alive, in their 5 s time limit).
    gc.collect()
    start = time.perf_counter()
    ok = once()
    elapsed = time.perf_counter() - start
    if not ok:
        raise SystemExit("benchmark run did not end with settings")
    return elapsed


def measure(runs: int, timeout: float) -> dict[str, Any]:
    with Simulator(scenario="dead-root") as sim:
        user = sim.users[0]
        conn = ConnectionOptions(
            connect_to=tuple(sim.connect_to),
            ca_certs=(sim.ca_cert_path,),
            connect_timeout=timeout,
            read_timeout=timeout,
            dns_server=f"127.0.0.1:{sim.dns_port}",
        )

        root_outcomes: list[str] = []

        def run(**options: Any) -> bool:
            session = AutodiscoverSession(
                user.email,
                user=user.user,
                password=user.password,
                connection=conn,
                options=DiscoveryOptions(candidate_timeout=timeout, **options),
            )
            result = session.run()
            if "url" in options:
                return result.ok
            root = next(a for a in result.attempts if a.source is Source.ROOT_DOMAIN)
            root_outcomes.append(root.outcome.value)
            return result.ok and result.url == sim.autodiscover_url

        run(url=sim.autodiscover_url)  # warm-up (imports, CA loading) of both paths
        run()
        root_outcomes.clear()
        direct: list[float] = []
        discovery: list[float] = []
        for i in range(runs):
            pair = [
                lambda: direct.append(_time(lambda: run(url=sim.autodiscover_url))),
                lambda: discovery.append(_time(run)),
            ]
            for step in pair if i % 2 == 0 else reversed(pair):
                step()
    med = {name: statistics.median(v) for name, v in (("direct", direct), ("discovery", discovery))}
    ratio = med["discovery"] / med["direct"]
    return {
        "scenario": "dead-root",
        "candidate_timeout_s": timeout,
        "runs": runs,
        "direct_median_s": med["direct"],
        "discovery_median_s": med["discovery"],
        "discovery_ratio": ratio,
        # For reading the noise: the fastest runs show the cost without interference from the machine.
        "direct_min_s": min(direct),
        "discovery_min_s": min(discovery),
        "root_outcomes": root_outcomes,
        "target_ratio": 1.1,
        "target_met": ratio <= 1.1 and all(o == Outcome.ABANDONED.value for o in root_outcomes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=41)
    parser.add_argument("--timeout", type=float, default=5.0, help="per-candidate time limit (seconds)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    res = measure(args.runs, args.timeout)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(
        f"Autodiscover, dead-root scenario, per-candidate timeout {args.timeout:g} s, "
        f"median of {args.runs} runs"
    )
    print(f"  direct request to the live candidate    {res['direct_median_s'] * 1000:9.1f} ms")
    print(
        f"  discovery (Outlook's priority order)    {res['discovery_median_s'] * 1000:9.1f} ms"
        f"   ratio {res['discovery_ratio']:.2f}"
    )
    print(
        f"  fastest runs: direct {res['direct_min_s'] * 1000:.1f} ms, discovery "
        f"{res['discovery_min_s'] * 1000:.1f} ms (ratio {res['discovery_min_s'] / res['direct_min_s']:.2f})"
    )
    print(f"  root domain attempt: {', '.join(sorted(set(res['root_outcomes'])))}")
    print(f"  target ratio <= {res['target_ratio']}: {'met' if res['target_met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
