"""``mapiprobe simulator``: run the simulated Exchange organisation in the foreground until interrupted.

Prints where everything listens (human form, or one JSON object on one line with ``--json``) and serves
until SIGINT or SIGTERM, then stops every listener cleanly and exits 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any


def register(subparsers: Any) -> None:
    from mapiprobe.simulator.scenarios import SCENARIOS

    parser = subparsers.add_parser(
        "simulator",
        help="run a simulated Exchange organisation on 127.0.0.1 (for demos and tests)",
        description="Run the built-in simulated organisation (contoso.test) on loopback until interrupted.\n"
        "Scenarios:\n" + "\n".join(f"  {name:<18} {text}" for name, text in SCENARIOS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0, the default, picks a free port)")
    parser.add_argument("--scenario", default="normal", choices=sorted(SCENARIOS), metavar="NAME")
    parser.add_argument(
        "--state-dir", type=Path, help="keep the CA and certificates here (default: a temp dir)"
    )
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="delay of the 'slow' scenario")
    parser.add_argument(
        "--gal-size",
        type=_gal_size,
        default=None,
        metavar="N",
        help="entries in the generated address book (default 2000; e.g. 100000 for a large GAL)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on one line")
    parser.set_defaults(func=cmd_simulator)


def _gal_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("the GAL size must be between 0 and 1000000")
    return value


def cmd_simulator(args: argparse.Namespace) -> int:
    from mapiprobe.simulator import Simulator

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sim = Simulator(
            scenario=args.scenario,
            port=args.port,
            state_dir=args.state_dir,
            slow_seconds=args.slow_seconds,
            gal_size=args.gal_size,
        )
        try:
            sim.start()
        except OSError as exc:
            print(f"mapiprobe simulator: cannot listen: {exc.strerror or exc}", file=sys.stderr)
            return 1
        try:
            if args.json:
                print(json.dumps(sim.info(), separators=(",", ":")), flush=True)
            else:
                print(_human(sim.info()), flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            sim.stop()
        if not args.json:
            print("simulator stopped", file=sys.stderr)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _human(info: dict[str, Any]) -> str:
    lines = [
        f"mapiprobe simulator: organisation {info['domain']} (scenario {info['scenario']})",
        "",
        f"  Autodiscover URL  {info['autodiscover_url']}",
        f"  HTTPS             127.0.0.1:{info['https_port']} (every virtual host)",
        f"  plain HTTP        127.0.0.1:{info['http_port']} (redirect probe)",
        f"  DNS (UDP)         {info['dns_server']}",
        f"  CA certificate    {info['ca_cert']}",
        "",
        "  Demo users (password):",
        *(f"    {u['email']:<24} {u['password']}" for u in info["users"]),
        "",
        "  Connect-to mappings (HOST:PORT:ADDR:PORT):",
        *(f"    --connect-to {m}" for m in info["connect_to"]),
        "",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


__all__ = ["cmd_simulator", "register"]
