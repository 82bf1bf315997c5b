"""Decode throughput of a 1,000-row RopQueryRows response (rows/s and MB/s).

The response is what a contents table of an Inbox looks like: six columns (PidTagSubject,
PidTagMessageClass, PidTagMessageDeliveryTime, PidTagSenderName, PidTagMessageSize, PidTagMid), realistic
string lengths, every tenth row a FlaggedPropertyRow with one missing value. 1,000 rows (about 110 KB)
do not fit one ROP output buffer (RopSize is a u16), so the figure of record decodes the 1,000-row
RopsList directly;
for comparison the same rows go through the whole Execute body as a server chains them (MS-OXCRPC
3.1.4.2.1.2.2): ten extended buffers, each a ROP output buffer with a 100-row RopQueryRows response,
uncompressed and LZ77-compressed.

A second figure decodes a ROP output buffer of mixed ROPs as a busy Outlook session gets them (RopOpenMessage,
RopGetPropertiesAll, RopSortTable, RopReadStream, RopFastTransferSourceGetBuffer, RopNotify, RopSetProperties,
RopDeleteMessages, RopCreateMessage and a 10-row RopQueryRows), most of them table-driven (rops/catalog.py),
in ROPs/s and MB/s.

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
from mapiprobe.protocol.properties import (
    FileTime,
    FolderId,
    MessageId,
    PropertyRow,
    PropertyTag,
    PropertyValue,
)
from mapiprobe.protocol.registry import DecodeContext
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import RESPONSES, RopId, RopQueryRowsResponse, decode_responses, encode_rops
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


def mixed_rops(rows: list[PropertyRow]) -> list[object]:
    """One round of mixed ROP responses (about 4 KB)."""
    R = RESPONSES
    values = [
        PropertyValue(PropertyTag(0x0037001F), "Re: Server migration window"),
        PropertyValue(PropertyTag(0x0E080003), 48213),
        PropertyValue(PropertyTag(0x0E060040), FileTime(133_000_000_000_000_000)),
        PropertyValue(PropertyTag(0x001A001F), "IPM.Note"),
        PropertyValue(PropertyTag(0x10130102), b"<html>" + b"x" * 200 + b"</html>"),
    ]
    return [
        R[RopId.RopOpenMessage](  # type: ignore[call-arg]
            handle_index=1,
            values={
                "HasNamedProperties": 1,
                "SubjectPrefix": {"StringType": 4, "String": "Re: "},
                "NormalizedSubject": {"StringType": 4, "String": "Server migration window"},
                "RecipientCount": 0,
                "RecipientColumns": [],
                "RecipientRows": [],
            },
        ),
        R[RopId.RopGetPropertiesAll](handle_index=1, values={"PropertyValues": values}),  # type: ignore[call-arg]
        R[RopId.RopSortTable](handle_index=2, values={"TableStatus": 0}),  # type: ignore[call-arg]
        R[RopId.RopReadStream](handle_index=3, values={"Data": bytes(range(256)) * 2}),  # type: ignore[call-arg]
        R[RopId.RopFastTransferSourceGetBuffer](  # type: ignore[call-arg]
            handle_index=4,
            values={
                "TransferStatus": 1,
                "InProgressCount": 0,
                "TotalStepCount": 0,
                "TransferBuffer": bytes(1500),
            },
        ),
        R[RopId.RopNotify](  # type: ignore[call-arg]
            values={
                "NotificationHandle": 0x11223344,
                "LogonId": 0,
                "NotificationFlags": 0x8002,
                "FolderId": FolderId.from_parts(1, 5),
                "MessageId": MessageId.from_parts(1, 99),
                "MessageFlags": 0,
                "UnicodeFlag": 0,
                "MessageClass": "IPM.Note",
            }
        ),
        R[RopId.RopSetProperties](handle_index=1, values={"PropertyProblems": []}),  # type: ignore[call-arg]
        R[RopId.RopDeleteMessages](handle_index=2, values={"PartialCompletion": 0}),  # type: ignore[call-arg]
        R[RopId.RopCreateMessage](  # type: ignore[call-arg]
            handle_index=5, values={"HasMessageId": 1, "MessageId": MessageId.from_parts(1, 100)}
        ),
        RopQueryRowsResponse(input_handle_index=2, origin=1, row_data=tuple(rows[:10]), columns=COLUMNS),
    ]


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

    mixed = mixed_rops(rows) * 12  # about 48 KB: what fits one ROP output buffer (RopSize is a u16)
    mixed_bytes = encode_rops(mixed)  # type: ignore[arg-type]
    measure_rops(
        "Mixed ROP output buffer (10 kinds)",
        lambda: decode_responses(mixed_bytes, None, COLUMNS),
        len(mixed),
        len(mixed_bytes),
        args.seconds,
    )


def measure_rops(label: str, func: Callable[[], object], count: int, size: int, seconds: float) -> None:
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
        f"{label:<44} {count / per:>10,.0f} ROPs/s {size / per / 1e6:>8.2f} MB/s "
        f"({per * 1e3:.2f} ms per buffer of {count} ROPs, {size:,} bytes, {n} runs)"
    )


if __name__ == "__main__":
    main()
