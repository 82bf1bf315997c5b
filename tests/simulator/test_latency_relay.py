"""The simulator's emulated round trip (benchmarks/check.py): handshakes and requests each pay the RTT."""

from __future__ import annotations

import time

from mapiprobe.simulator import Simulator
from mapiprobe.transport.client import make_client
from mapiprobe.transport.resolve import make_resolver
from mapiprobe.transport.trace import Trace
from tests.session.simhelp import connection

RTT = 0.1


def test_round_trips_are_charged() -> None:
    with Simulator(rtt_s=RTT) as sim:
        trace = Trace()
        with make_client(connection(sim), trace=trace) as client:
            first = time.perf_counter()
            client.get("https://mail.contoso.test/")  # TCP + TLS 1.3 + the exchange: 3 round trips
            second = time.perf_counter()
            client.get("https://mail.contoso.test/")  # the kept-alive connection: 1 round trip
            end = time.perf_counter()
        assert 3 * RTT <= second - first < 3 * RTT + 0.25
        assert RTT <= end - second < RTT + 0.15
        assert [r.reused_connection for r in trace.records] == [False, True]
        started = time.perf_counter()
        make_resolver(f"127.0.0.1:{sim.dns_port}", timeout=2).addresses("mail.contoso.test")
        assert RTT <= time.perf_counter() - started < RTT + 0.15
