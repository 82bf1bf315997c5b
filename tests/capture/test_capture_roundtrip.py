"""A run against the simulator, saved as SAZ and as HAR, decodes back to the same requests with their rows.

The run pages the Inbox 7 rows at a time, so 17 of its RopQueryRows responses arrive in Executes after the
one that set the table's columns: they decode only because the decoder follows the session (the columns of
each table by server object handle). Neither file is given any --columns.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from mapiprobe.protocol.capture import open_capture, read_har, read_saz
from mapiprobe.protocol.capture_decode import DecodedExchange, decode_alone, decode_capture, render_text
from mapiprobe.protocol.envelope import parse_envelope
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.execute import decode_execute_response
from mapiprobe.protocol.properties import PropertyRow
from mapiprobe.protocol.registry import DecodeContext
from mapiprobe.protocol.rops import RopQueryRowsResponse
from mapiprobe.session.mailbox import TAG_MID
from mapiprobe.transport.capturefile import records_from_capture, write_har, write_saz

from .conftest import PAGE, Recording


def saz_bytes(recording: Recording) -> bytes:
    out = io.BytesIO()
    assert write_saz(recording.records, out) == len(recording.records)
    return out.getvalue()


def har_bytes(recording: Recording) -> bytes:
    out = io.StringIO()
    assert write_har(recording.records, out) == len(recording.records)
    return out.getvalue().encode()


def decoded(capture_bytes: bytes) -> list[DecodedExchange]:
    return list(decode_capture(open_capture(io.BytesIO(capture_bytes))))


def query_rows(exchanges: list[DecodedExchange]) -> list[tuple[int, RopQueryRowsResponse]]:
    out = []
    for d in exchanges:
        body = (d.response or {}).get("Body") if isinstance(d.response, dict) else None
        if not isinstance(body, dict):
            continue
        for entry in body.get("RopBuffer", ()):
            out += [(d.exchange.index, r) for r in entry["RopsList"] if isinstance(r, RopQueryRowsResponse)]
    return out


def _mid(row: PropertyRow) -> int:
    return next(int(v.value) for v in row.values if int(v.tag) == TAG_MID)


def test_saz_and_har_decode_to_the_same_requests_with_their_rows(recording: Recording) -> None:
    saz, har = decoded(saz_bytes(recording)), decoded(har_bytes(recording))
    assert len(saz) == len(har) == len(recording.records)
    # The recording authenticated with Negotiate (``normal`` offers no Basic on /mapi/): the anonymous
    # request and the NEGOTIATE leg before Connect and before Bind were answered 401; all else decodes.
    legs = [(d.request_type, d.failures) for d in saz if not d.ok]
    assert legs == [(t, ["HTTP 401 Unauthorized"]) for t in ("Connect", "Connect", "Bind", "Bind")], legs
    kinds = [d.request_type for d in saz]
    assert kinds[0] == "Connect" and "Execute" in kinds and "Bind" in kinds and "QueryRows" in kinds
    assert kinds[-1] == "Unbind" and "Disconnect" in kinds
    assert [r.request_type for r in recording.records] == kinds
    for a, b in zip(saz, har, strict=True):
        ja, jb = a.to_json(headers=False), b.to_json(headers=False)
        for key in ("request", "response", "request_type", "status", "response_code", "failures"):
            assert ja.get(key) == jb.get(key), (a.exchange.index, key)
    # Every Inbox row decoded, with its columns, although most came in later Executes.
    rows = query_rows(saz)
    inbox_rows = [r for _, q in rows for r in q.row_data if any(int(v.tag) == TAG_MID for v in r.values)]
    assert [_mid(r) for r in inbox_rows] == [int(m.mid) for m in recording.inbox if m.mid is not None]
    assert len(inbox_rows) == 120
    later = {i for i, q in rows if q.row_data} - {
        d.exchange.index for d in saz if d.request and "RopSetColumns" in json.dumps(d.to_json()["request"])
    }
    assert len(later) >= 120 // PAGE  # pages read in Executes that did not set the columns
    # Alone (as `mapiprobe decode execute-response` without --columns) those responses do not decode.
    for ex in read_saz(io.BytesIO(saz_bytes(recording))):
        if ex.index in later:
            with pytest.raises(ProtocolError, match="columns are unknown"):
                decode_execute_response(parse_envelope(ex.response_body or b"").body, DecodeContext())


def test_text_view_lists_every_exchange(recording: Recording) -> None:
    exchanges = decoded(saz_bytes(recording))
    text = "\n".join(line for d in exchanges for line in render_text(d))
    assert text.count("\n#") + 1 == len(exchanges)
    assert "[Execute] -> HTTP 200, X-ResponseCode 0" in text
    assert "RopQueryRows" in text and "PidTagSubject" in text


def test_a_saved_run_reads_back_as_the_same_records(recording: Recording) -> None:
    for data, reader in ((har_bytes(recording), read_har), (saz_bytes(recording), read_saz)):
        back = records_from_capture(reader(io.BytesIO(data)))
        assert len(back) == len(recording.records)
        for a, b in zip(recording.records, back, strict=True):
            assert (b.method, b.url, b.status, b.request_type) == (a.method, a.url, a.status, a.request_type)
            assert b.request_body == a.request_body and b.response_body == a.response_body
            assert b.response_code == a.response_code
            assert b.total_ms is not None and a.total_ms is not None and abs(b.total_ms - a.total_ms) < 1.0


def test_har_is_har_1_2_with_base64_bodies(recording: Recording) -> None:
    doc: dict[str, Any] = json.loads(har_bytes(recording))
    log = doc["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "mapiprobe"
    entry = next(e for e in log["entries"] if e.get("comment") == "MAPI/HTTP Execute")
    assert entry["request"]["postData"]["encoding"] == "base64"
    assert entry["request"]["postData"]["mimeType"] == "application/mapi-http"
    assert entry["response"]["content"]["encoding"] == "base64"
    for key in ("send", "wait", "receive"):
        assert entry["timings"][key] >= 0


def test_each_exchange_decodes_alone_with_the_columns_it_recorded(recording: Recording) -> None:
    """What a viewer does: keep only the recorded columns, decode the selected exchange again on demand."""
    exchanges = decoded(saz_bytes(recording))
    assert any(d.table_columns and any(d.table_columns) for d in exchanges)
    for d in exchanges:
        again = decode_alone(d.exchange, d.table_columns)
        assert again.to_json() == d.to_json(), d.exchange.index
