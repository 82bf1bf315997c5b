"""A run's trace saved as a capture (HAR, or a Fiddler SAZ), and a capture turned back into trace records.

:func:`write_har` writes HAR 1.2 with every body base64 and its ``encoding`` field (``postData.encoding``
for a request body, from the HAR 1.3 draft: HAR 1.2 has no field for a binary request body), entry by
entry to a text stream. :func:`write_saz` writes the same records as a Fiddler session archive
(``raw/NN_c.txt``, ``raw/NN_s.txt``, ``raw/NN_m.xml``), a response sent with chunked framing written chunked
again. Both write what the records hold, and records are redacted when they are made
(:mod:`mapiprobe.transport.trace`): credentials, NTLM/Negotiate blobs, tokens and cookie values never reach
the file. What mapiprobe knows beyond HAR (the trace's label, outcome, error, PENDING count, whether a body
was cut at 1 MiB) goes under ``_mapiprobe`` in each entry (HAR allows fields starting with ``_``).

:func:`records_from_capture` goes the other way for the GUI: exchanges read from a SAZ or HAR
(:mod:`mapiprobe.protocol.capture`) become :class:`TraceRecord` objects the Requests tab shows like a run.
"""

from __future__ import annotations

import base64
import datetime as _dt
import http
import json
import zipfile
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import quoteattr

from mapiprobe import __version__
from mapiprobe.protocol.capture import CapturedExchange
from mapiprobe.transport.trace import TraceRecord, header_value

CHUNK = 8192
"""Chunk size used when a chunked response is written to a SAZ."""

_HOP_HEADERS = frozenset({"transfer-encoding", "content-encoding", "content-length"})


def _iso(epoch: float) -> str:
    when = _dt.datetime.fromtimestamp(epoch, _dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _reason(status: int | None) -> str:
    if status is None:
        return ""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _ms(value: float | None) -> float:
    return round(value, 3) if value is not None and value >= 0 else -1


def _har_timings(rec: TraceRecord) -> dict[str, float]:
    connect = rec.connect_ms
    tls = rec.tls_ms
    setup = (connect or 0) + (tls or 0)
    first = rec.first_byte_ms
    total = rec.total_ms
    wait = max(0.0, first - setup) if first is not None else 0.0
    receive = max(0.0, total - first) if total is not None and first is not None else 0.0
    return {
        "blocked": -1,
        "dns": -1,
        "connect": _ms(connect + (tls or 0)) if connect is not None else -1,  # HAR: connect includes ssl
        "ssl": _ms(tls),
        "send": 0,
        "wait": round(wait, 3),
        "receive": round(receive, 3),
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def har_entry(rec: TraceRecord) -> dict[str, Any]:
    """The HAR 1.2 entry of one record (see the module docstring)."""
    request: dict[str, Any] = {
        "method": rec.method,
        "url": rec.url,
        "httpVersion": rec.http_version or "HTTP/1.1",
        "cookies": [],
        "headers": [{"name": k, "value": v} for k, v in rec.request_headers],
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(rec.url).query, True)],
        "headersSize": rec.request_header_bytes or -1,
        "bodySize": rec.request_bytes,
    }
    if rec.request_body is not None and (rec.request_body or rec.method not in ("GET", "HEAD")):
        request["postData"] = {
            "mimeType": header_value(rec.request_headers, "Content-Type") or "",
            "params": [],
            "text": _b64(rec.request_body),
            "encoding": "base64",  # the HAR 1.3 draft's field: HAR 1.2 has none for a binary request body
        }
    body = rec.response_body
    response: dict[str, Any] = {
        "status": rec.status or 0,
        "statusText": _reason(rec.status),
        "httpVersion": rec.http_version or ("HTTP/1.1" if rec.status else ""),
        "cookies": [],
        "headers": [{"name": k, "value": v} for k, v in rec.response_headers],
        "content": {
            "size": len(body) if body is not None else 0,
            "mimeType": header_value(rec.response_headers, "Content-Type") or "x-unknown",
        },
        "redirectURL": header_value(rec.response_headers, "Location") or "",
        "headersSize": rec.response_header_bytes or -1,
        "bodySize": rec.response_bytes if rec.status else -1,
    }
    if body is not None:
        response["content"]["text"] = _b64(body)
        response["content"]["encoding"] = "base64"
    if rec.error:
        response["_error"] = rec.error
    ours: dict[str, Any] = {
        "seq": rec.seq,
        "outcome": rec.outcome,
        "request_body_truncated": rec.request_body_truncated,
        "response_body_truncated": rec.response_body_truncated,
    }
    for name in ("label", "error", "request_type", "request_id", "response_code", "pending_count"):
        value = getattr(rec, name)
        if value is not None:
            ours[name] = value
    if rec.tls_version:
        ours["tls"] = f"{rec.tls_version} {rec.tls_cipher or ''}".strip()
    entry: dict[str, Any] = {
        "startedDateTime": _iso(rec.started_at),
        "time": _ms(rec.total_ms) if rec.total_ms is not None else 0,
        "request": request,
        "response": response,
        "cache": {},
        "timings": _har_timings(rec),
        "_mapiprobe": ours,
    }
    if rec.peer_address:
        entry["serverIPAddress"] = rec.peer_address.rsplit(":", 1)[0].strip("[]")
    if rec.label:
        entry["comment"] = rec.label
    return entry


def write_har(records: Iterable[TraceRecord], out: IO[str], *, comment: str | None = None) -> int:
    """Write ``records`` as one HAR 1.2 document to ``out``, entry by entry; returns the number written."""
    log_head: dict[str, Any] = {
        "version": "1.2",
        "creator": {"name": "mapiprobe", "version": __version__},
        "pages": [],
    }
    if comment:
        log_head["comment"] = comment
    head = json.dumps(log_head, ensure_ascii=False)
    out.write('{"log": ' + head[:-1] + ', "entries": [\n')
    count = 0
    for rec in records:
        if count:
            out.write(",\n")
        out.write(json.dumps(har_entry(rec), ensure_ascii=False))
        count += 1
    out.write("\n]}}\n")
    return count


# -- SAZ ----------------------------------------------------------------------------------------------


def _head(start: str, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [start, *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _saz_request(rec: TraceRecord) -> bytes:
    body = rec.request_body or b""
    headers = [(k, v) for k, v in rec.request_headers if k.lower() not in _HOP_HEADERS]
    if body or rec.method not in ("GET", "HEAD"):
        headers.append(
            ("Content-Length", str(rec.request_bytes if rec.request_body_truncated else len(body)))
        )
    return _head(f"{rec.method} {rec.url} {rec.http_version or 'HTTP/1.1'}", headers) + body


def _saz_response(rec: TraceRecord) -> bytes:
    if rec.status is None:
        return b""
    body = rec.response_body or b""
    chunked = "chunked" in (header_value(rec.response_headers, "Transfer-Encoding") or "").lower()
    headers = [(k, v) for k, v in rec.response_headers if k.lower() not in _HOP_HEADERS]
    start = f"{rec.http_version or 'HTTP/1.1'} {rec.status} {_reason(rec.status)}".rstrip()
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        framed = bytearray()
        for i in range(0, len(body), CHUNK):
            part = body[i : i + CHUNK]
            framed += b"%X\r\n%s\r\n" % (len(part), part)
        if not rec.response_body_truncated:
            framed += b"0\r\n\r\n"
        return _head(start, headers) + bytes(framed)
    length = rec.response_bytes if rec.response_body_truncated else len(body)
    headers.append(("Content-Length", str(max(length, len(body)))))
    return _head(start, headers) + body


def _fiddler_time(epoch: float) -> str:
    when = _dt.datetime.fromtimestamp(epoch, _dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"  # Fiddler writes 7 fractional digits


def _saz_meta(rec: TraceRecord) -> bytes:
    t0 = rec.started_at
    setup = ((rec.connect_ms or 0) + (rec.tls_ms or 0)) / 1000
    first = (rec.first_byte_ms or 0) / 1000
    total = (rec.total_ms or 0) / 1000
    timers = {
        "ClientConnected": t0,
        "ClientBeginRequest": t0,
        "GotRequestHeaders": t0,
        "ClientDoneRequest": t0,
        "ServerConnected": t0 + setup,
        "FiddlerBeginRequest": t0 + setup,
        "ServerGotRequest": t0 + setup,
        "ServerBeginResponse": t0 + first,
        "GotResponseHeaders": t0 + first,
        "ServerDoneResponse": t0 + total,
        "ClientBeginResponse": t0 + first,
        "ClientDoneResponse": t0 + total,
    }
    attrs = " ".join(f"{k}={quoteattr(_fiddler_time(v))}" for k, v in timers.items())
    ms = {"TCPConnectTime": rec.connect_ms, "HTTPSHandshakeTime": rec.tls_ms}
    attrs += "".join(f' {k}="{round(v)}"' for k, v in ms.items() if v is not None)
    flags = [("x-mapiprobe-outcome", rec.outcome)]
    if rec.peer_address:
        flags.append(("x-hostip", rec.peer_address.rsplit(":", 1)[0].strip("[]")))
    if rec.label:
        flags.append(("ui-comments", rec.label))
    if rec.error:
        flags.append(("x-mapiprobe-error", rec.error))
    flag_xml = "".join(f"<SessionFlag N={quoteattr(n)} V={quoteattr(v)} />" for n, v in flags)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\r\n<Session SID="{rec.seq}" BitFlags="0">'
        f"<SessionTimers {attrs} /><SessionFlags>{flag_xml}</SessionFlags></Session>"
    ).encode()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="utf-8" ?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="htm" ContentType="text/html" /><Default Extension="xml" '
    b'ContentType="application/xml" /><Default Extension="txt" ContentType="text/plain" /></Types>'
)


def write_saz(records: Iterable[TraceRecord], out: IO[bytes]) -> int:
    """Write ``records`` as a Fiddler session archive to the binary, seekable ``out``; returns the count."""
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        for rec in records:
            count += 1
            number = f"{count:02d}" if count < 100 else str(count)
            archive.writestr(f"raw/{number}_c.txt", _saz_request(rec))
            archive.writestr(f"raw/{number}_s.txt", _saz_response(rec))
            archive.writestr(f"raw/{number}_m.xml", _saz_meta(rec))
    return count


# -- back: a capture's exchanges as trace records ---------------------------------------------------


def record_from_exchange(ex: CapturedExchange) -> TraceRecord:
    """A :class:`TraceRecord` for an exchange read from a capture (already redacted by the reader)."""
    timings = ex.timings
    setup = timings.get("connect")  # HAR: TCP connect and TLS handshake together
    ssl = timings.get("ssl")
    connect = None if setup is None else max(0.0, setup - (ssl or 0))
    first = None
    if "wait" in timings:
        first = (setup or 0) + timings.get("send", 0) + timings["wait"]
    total = timings.get("total")
    request_type = ex.request_type
    rid = ex.header("X-RequestId", response=False)
    annotations = tuple(("capture.note", note) for note in ex.notes)
    return TraceRecord(
        seq=ex.index,
        method=ex.method,
        url=ex.url,
        started_at=ex.started_at or 0.0,
        status=ex.status,
        http_version=ex.response_version or ex.http_version,
        request_headers=ex.request_headers,
        response_headers=ex.response_headers,
        request_bytes=len(ex.request_body or b""),
        response_bytes=ex.response_wire_bytes
        if ex.response_wire_bytes is not None
        else len(ex.response_body or b""),
        connect_ms=connect,
        tls_ms=ssl,
        first_byte_ms=first,
        total_ms=total,
        peer_address=ex.peer_address,
        outcome="ok" if ex.status is not None else "no-response",
        error=None if ex.status is not None else (ex.notes[-1] if ex.notes else "no response in the capture"),
        label=f"MAPI/HTTP {request_type}" if request_type else None,
        request_type=request_type,
        request_id=rid,
        response_code=ex.header("X-ResponseCode"),
        annotations=annotations,
        request_body=ex.request_body,
        response_body=ex.response_body,
        request_body_truncated=ex.request_body_truncated,
        response_body_truncated=ex.response_body_truncated,
    )


def records_from_capture(exchanges: Iterable[CapturedExchange]) -> list[TraceRecord]:
    return [record_from_exchange(ex) for ex in exchanges]


__all__ = [
    "har_entry",
    "record_from_exchange",
    "records_from_capture",
    "write_har",
    "write_saz",
]
