"""Throughput of the pure-Python LZ77/DIRECT2 codec on 32 KB payloads (the MS-OXCRPC payload limit).

Run: ``.venv/bin/python benchmarks/lz77.py``. Prints compressed size and milliseconds per call.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

from mapiprobe.protocol.lz77 import compress, decompress

SIZE = 32 * 1024


def _inputs() -> dict[str, bytes]:
    rnd = random.Random(1)
    row = b"\x1f\x00\x01\x30" + "Inbox".encode("utf-16-le") + b"\x00\x00\x14\x00\x48\x67"
    return {
        "random": os.urandom(SIZE),
        "zeros": bytes(SIZE),
        "english": (b"The quick brown fox jumps over the lazy dog. " * 800)[:SIZE],
        "four-letters": bytes(rnd.choice(b"abcd") for _ in range(SIZE)),
        "table-rows": b"".join(row + rnd.randbytes(8) for _ in range(SIZE // (len(row) + 8))),
    }


def _time(func: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    print(f"{'input':<14}{'size':>8}{'packed':>8}{'compress ms':>14}{'decompress ms':>16}")
    for name, data in _inputs().items():
        packed = compress(data)
        assert decompress(packed, len(data)) == data
        size = len(data)
        c_ms = _time(lambda data=data: compress(data))
        d_ms = _time(lambda packed=packed, size=size: decompress(packed, size))
        print(f"{name:<14}{len(data):>8}{len(packed):>8}{c_ms:>14.1f}{d_ms:>16.2f}")


if __name__ == "__main__":
    main()
