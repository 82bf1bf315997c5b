"""Mailbox benchmark: from Connect to the whole folder tree with 50 ms of round-trip time per request.

The simulator runs in a process of its own (this script with ``--serve``, so that client and server do not
share an interpreter lock); its mailbox service adds ``--rtt-ms`` to every HTTP request
(``MailboxService.rtt_s``), which stands for the network's round trip. For each case the figures are the
number of HTTP requests (every one depends on the answer to the one before: Connect, then Execute...), the
wall time from the start of Connect to the tree in hand (median of ``--runs``), and the ratio of that time to
``requests x RTT`` — what a client that spends no time of its own would need. Target: ratio <= 1.15.

Cases:

* ``cold``: a new HTTP client (TCP connect, TLS handshake and TLS context set-up inside Connect), no folder
  IDs known: Connect + Execute(RopLogon) + Execute(tree batch) = 3 requests. RopLogon cannot ride in the
  tree batch because RopOpenFolder needs the IPM subtree's FolderId, which only RopLogon's answer tells.
  Shown, not judged: on a real network the TCP and TLS handshakes are round trips of their own, which the
  simulator does not delay.
* ``warm-connection``: the same, on an HTTPS connection opened beforehand (an unauthenticated GET of the
  endpoint): the MAPI/HTTP part alone.
* ``cached-ids``: also with the special folder IDs of an earlier logon (as Outlook keeps them): RopLogon
  is batched with the tree, Connect + 1 Execute = 2 requests.

``simulator/web.py`` does not set TCP_NODELAY, so on loopback every chunked MAPI/HTTP answer (a small
PROCESSING chunk, then the rest) waits for a delayed ACK (~40 ms, Nagle's algorithm). That is an artefact of
the simulator, not of the protocol or the client: the benchmark sets TCP_NODELAY on the simulator's
sockets unless ``--keep-nagle`` is given (then the artefact shows).

Run: ``python benchmarks/mailbox.py [--rtt-ms 50] [--runs 7] [--keep-nagle]``
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time
from typing import Any

from mapiprobe.session.mailbox import MailboxSession
from mapiprobe.simulator import Simulator
from mapiprobe.simulator import web as sim_web
from mapiprobe.simulator.mailbox import MailboxService
from mapiprobe.simulator.org import load_organisation
from mapiprobe.transport.mapihttp import make_mapihttp_client
from simproc import connection_options, simulator_process

TARGET_RATIO = 1.15


def set_nodelay_on_simulator_sockets() -> None:
    """TCP_NODELAY on every connection the simulator accepts (see the module docstring)."""
    original = sim_web._RequestHandler.setup

    def setup(self: Any) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        original(self)

    sim_web._RequestHandler.setup = setup  # type: ignore[method-assign]


def serve(rtt_ms: float, keep_nagle: bool) -> int:
    """The simulator side: start it, add the RTT, print its settings as JSON, run until stdin closes."""
    if not keep_nagle:
        set_nodelay_on_simulator_sockets()
    # basic-only: the figures stay comparable with earlier runs (Basic on /mapi/, one leg per request);
    # the default "normal" offers only Windows authentication there, as Exchange 2019 does.
    with Simulator(scenario="basic-only") as sim:
        service = sim.endpoints["emsmdb"]
        assert isinstance(service, MailboxService)
        info = sim.info()
        info["rtt_ms"] = rtt_ms
        service.rtt_s = 0.0
        print(json.dumps(info), flush=True)
        sys.stdin.readline()  # "go": the warm-up is over, add the RTT
        service.rtt_s = rtt_ms / 1000
        sys.stdin.readline()  # EOF: stop
    return 0


def one_run(info: dict[str, Any], case: str, cache: dict[str, Any]) -> tuple[float, int, int]:
    """(seconds from Connect to the tree, HTTP requests, folders) for one session."""
    user = info["users"][0]
    guid = _mailbox_guid(info, user["email"])
    domain = info["domain"]
    url = f"https://mail.{domain}/mapi/emsmdb/?MailboxId={guid}@{domain}"
    options = connection_options(info)
    client = make_mapihttp_client(options)
    if case != "cold":
        client.get(url)  # an unauthenticated GET: 401, and a kept-alive HTTPS connection
    session = MailboxSession(
        url,
        user_dn=_legacy_dn(user["email"]),
        user=user["user"],
        password=user["password"],
        client=client,
        keepalive=False,
        known_folder_ids=cache if case == "cached-ids" else None,
    )
    try:
        started = time.perf_counter()
        session.open()
        tree = session.folder_tree()
        elapsed = time.perf_counter() - started
        requests = session.stats.requests
    finally:
        session.close()
        client.close()
    return elapsed, requests, sum(1 for _ in tree.walk()) - 1


def _mailbox_guid(info: dict[str, Any], email: str) -> str:
    user = load_organisation().find_user(email)
    assert user is not None
    return user.mailbox_guid


def _legacy_dn(email: str) -> str:
    user = load_organisation().find_user(email)
    assert user is not None
    return user.legacy_dn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round-trip time added per request")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep-nagle", action="store_true", help="leave the simulator's sockets as they are")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.rtt_ms, args.keep_nagle)
    ok = True
    with simulator_process(__file__, args.rtt_ms, ["--keep-nagle"] if args.keep_nagle else []) as sim:
        info = sim.info
        cache: dict[str, Any] = {}
        one_run(info, "warm-connection", cache)  # warm-up: the store is built, the caches fill
        one_run(info, "cached-ids", cache)
        sim.add_rtt()
        rtt = args.rtt_ms / 1000
        print(
            f"RTT {args.rtt_ms:g} ms per request, {args.runs} runs per case, simulator in its own process, "
            f"TCP_NODELAY on the simulator: {'no' if args.keep_nagle else 'yes'}"
        )
        print(f"{'case':<16} {'requests':>8} {'folders':>8} {'median ms':>10} {'min ms':>8} {'ratio':>6}")
        for case in ("cold", "warm-connection", "cached-ids"):
            times: list[float] = []
            requests = folders = 0
            for _ in range(args.runs):
                elapsed, requests, folders = one_run(info, case, cache)
                times.append(elapsed)
            median = statistics.median(times)
            ratio = median / (requests * rtt)
            if case == "cold":
                # TCP connect and TLS handshake are round trips too on a real network, but the simulator
                # adds RTT only per HTTP request: this case is shown, not judged.
                mark = "  (includes TCP+TLS set-up; not judged)"
            else:
                mark = "" if ratio <= TARGET_RATIO else "  (above target)"
                ok = ok and ratio <= TARGET_RATIO
            print(
                f"{case:<16} {requests:>8} {folders:>8} {median * 1000:>10.1f} {min(times) * 1000:>8.1f} "
                f"{ratio:>6.2f}{mark}"
            )
    print(f"target: ratio <= {TARGET_RATIO} (requests x RTT is the floor)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
