"""Benchmark: what a black-holed root domain costs Autodiscover discovery.

The simulator runs its ``dead-root`` scenario: ``https://contoso.test/...`` (the first candidate of
MS-OXDISCO 3.1.5.2) accepts TCP and never answers, ``https://autodiscover.contoso.test/...`` answers at once.
With a per-candidate time limit of 5 s this measures (median of several runs each):

* **direct**: a request to the live candidate alone (``--url``), the floor;
* **discovery**: the full discovery in Outlook's priority order — an answer from a lower-priority candidate
  is taken only once every higher-priority one has failed or run out of time;
* **first-answer**: the same discovery with ``wait_for_priority=False`` (not Outlook's order: the first
  candidate that answers wins).

Run ``python benchmarks/autodiscover.py [--runs N] [--timeout S] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from mapiprobe.session.autodiscover import AutodiscoverSession, DiscoveryOptions
from mapiprobe.simulator import Simulator
from mapiprobe.transport.client import ConnectionOptions


def _time(runs: int, once: Callable[[], bool]) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        ok = once()
        times.append(time.perf_counter() - start)
        if not ok:
            raise SystemExit("benchmark run did not end with settings")
    return times


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

        def run(**options: Any) -> bool:
            session = AutodiscoverSession(
                user.email,
                user=user.user,
                password=user.password,
                connection=conn,
                options=DiscoveryOptions(candidate_timeout=timeout, **options),
            )
            return session.run().ok

        run(url=sim.autodiscover_url)  # warm-up (imports, CA loading)
        direct = _time(runs, lambda: run(url=sim.autodiscover_url))
        discovery = _time(runs, run)
        first = _time(runs, lambda: run(wait_for_priority=False))
    med = {
        name: statistics.median(v)
        for name, v in (("direct", direct), ("discovery", discovery), ("first", first))
    }
    return {
        "scenario": "dead-root",
        "candidate_timeout_s": timeout,
        "runs": runs,
        "direct_median_s": med["direct"],
        "discovery_median_s": med["discovery"],
        "first_answer_median_s": med["first"],
        "discovery_ratio": med["discovery"] / med["direct"],
        "first_answer_ratio": med["first"] / med["direct"],
        "target_ratio": 1.1,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
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
        f"  discovery (first answer wins)           {res['first_answer_median_s'] * 1000:9.1f} ms"
        f"   ratio {res['first_answer_ratio']:.2f}"
    )
    print(f"  target ratio <= {res['target_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
