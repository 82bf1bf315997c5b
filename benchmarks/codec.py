"""Decode throughput of a 1,000-row RopQueryRows response (rows/s and MB/s).

The response is what a contents table of an Inbox looks like: six columns (PidTagSubject,
PidTagMessageClass, PidTagMessageDeliveryTime, PidTagSenderName, PidTagMessageSize, PidTagMid), realistic
string lengths, every tenth row a FlaggedPropertyRow with one missing value. 1,000 rows (about 110 KB)
do not fit one ROP output buffer (RopSize is a u16), so the figure of record decodes the 1,000-row
RopsList directly;
for comparison the same rows go through the whole Execute body as a server chains them (MS-OXCRPC
3.1.4.2.1.2.2): ten extended buffers, each a ROP output buffer with a 100-row RopQueryRows response,
uncompressed and LZ77-compressed.

Run: ``python benchmarks/codec.py [--rows N] [--seconds S]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

from mapiprobe.protocol.emsmdb import ExecuteResponse
from mapiprobe.protocol.execute import decode_execute_response
from mapiprobe.protocol.properties import FileTime, PropertyRow
from mapiprobe.protocol.registry import DecodeContext
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import RopQueryRowsResponse, decode_responses, encode_rops
from mapiprobe.protocol.rpcext import encode_ext_buffers

COLUMNS = (0x0037001F, 0x001A001F, 0x0E060040, 0x0C1A001F, 0x0E080003, 0x674A0014)
SUBJECTS = ["Weekly status", "Re: Server migration window", "Invoice 48213 overdue", "Lunch on Friday?"]
SENDERS = ["Adele Vance", "Megan Bowen", "Northwind Orders", "IT Helpdesk"]


def build_rows(rows: int) -> list[PropertyRow]:
    rnd = random.Random(1)
    data = []
    for i in range(rows):
        values = {
            0x0037001F: f"{rnd.choice(SUBJECTS)} #{i}",
            0x001A001F: "IPM.Note",
            0x0E060040: FileTime(133_000_000_000_000_000 + i * 10_000_000),
            0x0C1A001F: rnd.choice(SENDERS),
            0x0E080003: rnd.randint(2_000, 90_000),
            0x674A0014: 0x0001_0000_0000_0000 + i,
        }
        if i % 10 == 9:
            del values[0x0C1A001F]  # FlaggedPropertyRow: sender missing
        data.append(PropertyRow.build(COLUMNS, values))
    return data


def query_rows(rows: list[PropertyRow], origin: int) -> bytes:
    resp = RopQueryRowsResponse(input_handle_index=0, origin=origin, row_data=tuple(rows), columns=COLUMNS)
    return encode_rops([resp])


def measure(label: str, func: Callable[[], object], rows: int, size: int, seconds: float) -> None:
    func()  # warm up
    n = 0
    start = time.perf_counter()
    while True:
        func()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    per = elapsed / n
    print(
        f"{label:<44} {rows / per:>10,.0f} rows/s {size / per / 1e6:>8.2f} MB/s "
        f"({per * 1e3:.2f} ms per {rows}-row response of {size:,} bytes, {n} runs)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()

    rows = build_rows(args.rows)
    rops = query_rows(rows, origin=2)
    chunks = [rows[i : i + 100] for i in range(0, len(rows), 100)]
    payloads = [
        RopBuffer(query_rows(c, 2 if i == len(chunks) - 1 else 1), (0x11,)).encode()
        for i, c in enumerate(chunks)
    ]
    body = ExecuteResponse(rop_buffer=encode_ext_buffers(payloads, compress=False)).encode()
    compressed = ExecuteResponse(rop_buffer=encode_ext_buffers(payloads, compress=True)).encode()

    def rops_list() -> object:
        return decode_responses(rops, None, COLUMNS)

    def execute_body(data: bytes) -> Callable[[], object]:
        return lambda: decode_execute_response(data, DecodeContext(columns=COLUMNS))

    print(f"RopQueryRows: {args.rows} rows, {len(COLUMNS)} columns, Python {sys.version.split()[0]}")
    measure("1,000-row RopQueryRows response (RopsList)", rops_list, args.rows, len(rops), args.seconds)
    measure("Execute body, 10 chained buffers", execute_body(body), args.rows, len(body), args.seconds)
    measure(
        "Execute body, 10 chained, LZ77", execute_body(compressed), args.rows, len(compressed), args.seconds
    )


if __name__ == "__main__":
    main()
