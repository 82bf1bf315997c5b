"""What the round-trip benchmarks (compare.py, mailbox.py, rpch.py) share: the simulator in a process of its
own (the benchmark script again with ``--serve``), which prints its settings as one JSON line, adds the RTT
when told "go" and stops at the end of its standard input; and the client's connection options for it.

Import it as ``simproc`` (run the benchmarks as ``python benchmarks/NAME.py``: their folder is on the path).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapiprobe.transport.client import ConnectionOptions


@dataclass
class SimulatorProcess:
    info: dict[str, Any]
    """The simulator's settings (``Simulator.info()``)."""
    proc: subprocess.Popen[str]

    def add_rtt(self) -> None:
        """Tell the simulator to add the RTT from now on (after the warm-up runs)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        time.sleep(0.2)


@contextlib.contextmanager
def simulator_process(script: str, rtt_ms: float, extra: Sequence[str] = ()) -> Iterator[SimulatorProcess]:
    """``script --serve --rtt-ms RTT [extra]`` started, its settings read; stopped (EOF) on leaving."""
    command = [sys.executable, script, "--serve", "--rtt-ms", str(rtt_ms), *extra]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the simulator did not start")
        yield SimulatorProcess(json.loads(line), proc)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def connection_options(info: dict[str, Any]) -> ConnectionOptions:
    """The client's options for the simulator of ``info``: its names, its CA, 10 s timeouts."""
    return ConnectionOptions(
        connect_to=tuple(info["connect_to"]),
        ca_certs=(Path(info["ca_cert"]),),
        connect_timeout=10,
        read_timeout=10,
    )
