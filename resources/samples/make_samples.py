"""Regenerate the sample captures in this folder with mapiprobe's own encoders.

``execute-response.hex`` is what a MAPI/HTTP Execute response carrying a folder hierarchy looks like on the
wire: the response envelope (PROCESSING, DONE, X-ElapsedTime, X-StartTime), the Execute body, an
LZ77-compressed RPC_HEADER_EXT payload, and RopOpenFolder + RopGetHierarchyTable + RopSetColumns +
RopQueryRows responses with one row per folder of ``resources/mailbox/sample-mailbox.json``.
It is a constructed sample (not a capture from a Microsoft server); ``mapiprobe demo`` decodes it.

Run: ``python resources/samples/make_samples.py``
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from typing import Any

from mapiprobe.protocol.emsmdb import ExecuteResponse
from mapiprobe.protocol.envelope import encode_envelope
from mapiprobe.protocol.properties import FolderId, PropertyRow
from mapiprobe.protocol.ropbuffer import RopBuffer
from mapiprobe.protocol.rops import (
    RopGetHierarchyTableResponse,
    RopOpenFolderResponse,
    RopQueryRowsResponse,
    RopSetColumnsResponse,
    encode_rops,
)
from mapiprobe.protocol.rpcext import encode_ext_buffers

HERE = Path(__file__).resolve().parent
COLUMNS = (0x3001001F, 0x67480014, 0x36020003, 0x36030003, 0x360A000B, 0x3613001F)


def _folders(node: dict[str, Any], out: list[dict[str, Any]]) -> None:
    for child in node.get("children", []):
        out.append(child)
        _folders(child, out)


def main() -> None:
    mailbox = json.loads((HERE.parent / "mailbox" / "sample-mailbox.json").read_text(encoding="utf-8"))
    folders: list[dict[str, Any]] = []
    _folders(mailbox["root"], folders)
    rows = []
    for n, f in enumerate(folders, start=0x20):
        items = f.get("items", [])
        rows.append(
            PropertyRow.build(
                COLUMNS,
                {
                    0x3001001F: f["display_name"],
                    0x67480014: FolderId.from_parts(1, n),
                    0x36020003: len(items),
                    0x36030003: sum(1 for i in items if not i.get("read", True)),
                    0x360A000B: bool(f.get("children")),
                    0x3613001F: f.get("container_class", "IPF.Note"),
                },
            )
        )
    rops = encode_rops(
        [
            RopOpenFolderResponse(output_handle_index=1),
            RopGetHierarchyTableResponse(output_handle_index=2, row_count=len(rows)),
            RopSetColumnsResponse(input_handle_index=2),
            RopQueryRowsResponse(input_handle_index=2, origin=2, row_data=tuple(rows), columns=COLUMNS),
        ]
    )
    payload = RopBuffer(rops, (0x00000001, 0x00000002, 0x00000003)).encode()
    body = ExecuteResponse(rop_buffer=encode_ext_buffers([payload], compress=True)).encode()
    start = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
    framed = encode_envelope(body, elapsed_time=12, start_time=start)
    hex_lines = textwrap.wrap(framed.hex(" ").upper(), 48)
    header = (
        "# Constructed sample (mapiprobe's encoders, resources/samples/make_samples.py): a framed MAPI/HTTP\n"
        "# Execute response (MS-OXCMAPIHTTP 2.2.4.2.2 inside the 2.2.7 envelope) with a compressed\n"
        "# RPC_HEADER_EXT payload and RopOpenFolder, RopGetHierarchyTable, RopSetColumns and RopQueryRows\n"
        "# responses.\n"
        "# Columns: " + ",".join(f"0x{c:08X}" for c in COLUMNS) + "\n"
    )
    (HERE / "execute-response.hex").write_text(header + "\n".join(hex_lines) + "\n", encoding="ascii")
    print(f"{len(rows)} folders, {len(framed)} bytes")


if __name__ == "__main__":
    main()
