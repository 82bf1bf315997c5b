"""The Requests tab's model: every HTTP exchange of the trace, one row each, appended as they happen.

:class:`TraceBridge` listens to a :class:`~mapiprobe.transport.trace.Trace` (its listeners run in the worker
thread that made the request) and re-emits each record as a Qt signal, so the model grows in the main thread.
:func:`describe_record` renders a record for the details pane: headers as sent and received (already
redacted by the trace) and the bodies through the same decoders as ``mapiprobe decode``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor

from mapiprobe.transport.trace import Trace, TraceRecord

Index = QModelIndex | QPersistentModelIndex

REQUEST_COLUMNS = ("Method", "URL", "Request type", "Status", "X-ResponseCode", "Time", "Bytes")


class TraceBridge(QObject):
    """Re-emits each record a :class:`Trace` collects as :attr:`recordAdded`, in the main thread."""

    recordAdded = Signal(object)

    def __init__(self, trace: Trace, parent: Any = None) -> None:
        super().__init__(parent)
        self.trace = trace
        self._remove: Callable[[], None] | None = trace.add_listener(self.recordAdded.emit)

    def detach(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None


class RequestsModel(QAbstractTableModel):
    """The trace's records in order; :class:`TraceRecord` under ``UserRole``. ``limit`` bounds the rows."""

    def __init__(self, parent: Any = None, *, limit: int = 20000) -> None:
        super().__init__(parent)
        self.records: list[TraceRecord] = []
        self.limit = limit

    @Slot(object)
    def add(self, record: TraceRecord) -> None:
        if len(self.records) >= self.limit:
            self.beginRemoveRows(QModelIndex(), 0, 0)
            del self.records[0]
            self.endRemoveRows()
        row = len(self.records)
        self.beginInsertRows(QModelIndex(), row, row)
        self.records.append(record)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.records = []
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(REQUEST_COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.records):
            return None
        record = self.records[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cells(record)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return record.url
        if role == Qt.ItemDataRole.ForegroundRole and failed(record):
            return QBrush(QColor("#c62828"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return record
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(REQUEST_COLUMNS):
            return REQUEST_COLUMNS[section]
        return None


def request_type(record: TraceRecord) -> str:
    if record.request_type:
        return record.request_type
    url = record.url.lower()
    if "autodiscover.json" in url:
        return "Autodiscover v2"
    if "autodiscover" in url:
        return "Autodiscover"
    return record.label or ""


def failed(record: TraceRecord) -> bool:
    if record.outcome not in ("ok", "pending"):
        return True
    if record.response_code not in (None, "", "0"):
        return True
    return record.status is not None and record.status >= 400 and record.status != 401


def cells(record: TraceRecord) -> tuple[str, ...]:
    status = "" if record.status is None else str(record.status)
    if record.outcome not in ("ok", "pending") and record.status is None:
        status = record.outcome
    total = "" if record.total_ms is None else f"{record.total_ms:.0f} ms"
    size = record.request_bytes + record.response_bytes
    return (
        record.method,
        record.url,
        request_type(record),
        status,
        record.response_code or "",
        total,
        _bytes(size),
    )


def _bytes(n: int) -> str:
    if n < 10 * 1024:
        return f"{n} B"
    return f"{n / 1024:.0f} KB"


# -- the details pane ------------------------------------------------------------------------------------


def describe_record(record: TraceRecord) -> str:
    """A record as text: summary, timings, TLS, both header blocks, and the bodies decoded."""
    lines = [
        f"#{record.seq}  {record.method} {record.url}",
        f"label: {record.label or '-'}   outcome: {record.outcome}"
        + (f"   error: {record.error}" if record.error else ""),
        "timing: "
        + ", ".join(
            f"{name} {value:.1f} ms"
            for name, value in (
                ("connect", record.connect_ms),
                ("TLS", record.tls_ms),
                ("first byte", record.first_byte_ms),
                ("total", record.total_ms),
            )
            if value is not None
        )
        + ("   (kept-alive connection)" if record.reused_connection else ""),
    ]
    if record.tls_version:
        lines.append(
            f"TLS: {record.tls_version} {record.tls_cipher or ''}   peer: {record.peer_address or '-'}"
        )
    if record.annotations:
        lines.append("notes: " + "; ".join(f"{k}={v}" for k, v in record.annotations))
    lines += ["", "── Request headers ──"]
    lines += [f"{k}: {v}" for k, v in record.request_headers]
    lines += ["", f"── Request body ({record.request_bytes} bytes) ──"]
    lines += _body(record, "request")
    lines += ["", f"── Response: HTTP {record.status or '-'} {record.http_version or ''} ──"]
    lines += [f"{k}: {v}" for k, v in record.response_headers]
    lines += ["", f"── Response body ({record.response_bytes} bytes) ──"]
    lines += _body(record, "response")
    return "\n".join(lines)


def _body(record: TraceRecord, direction: str) -> list[str]:
    # The trace keeps bodies once transport/trace.py has these fields (capped, credentials redacted).
    body = getattr(record, f"{direction}_body", None)
    truncated = bool(getattr(record, f"{direction}_body_truncated", False))
    if body is None:
        return ["(not kept in the trace)"]
    if not body:
        return ["(empty)"]
    out: list[str] = []
    if truncated:
        out.append("(cut: the trace keeps the first part of large bodies)")
    out += decode_body(bytes(body), direction, record.request_type, _content_type(record, direction))
    return out


def _content_type(record: TraceRecord, direction: str) -> str:
    return (record.header("Content-Type", response=direction == "response") or "").lower()


def decode_body(body: bytes, direction: str, request_type: str | None, content_type: str = "") -> list[str]:
    """A body as text lines: MAPI/HTTP through the ``mapiprobe decode`` registry, XML and text as text,
    anything else as a hex dump. A body that does not decode shows the decoder's error and the hex."""
    if "mapi-http" in content_type or (request_type and "xml" not in content_type):
        from mapiprobe.protocol.envelope import decode_mapihttp_request, decode_mapihttp_response
        from mapiprobe.protocol.errors import ProtocolError
        from mapiprobe.protocol.jsonview import render_tree, to_jsonable
        from mapiprobe.protocol.registry import DecodeContext

        ctx = DecodeContext(request_type=request_type)
        decoder = decode_mapihttp_request if direction == "request" else decode_mapihttp_response
        try:
            return render_tree(to_jsonable(decoder(body, ctx)))
        except ProtocolError as exc:
            return [f"does not decode: {exc}", *hex_dump(body)]
    if body[:1] in (b"<", b"{") or "xml" in content_type or "text" in content_type or "json" in content_type:
        return body.decode("utf-8", "replace").splitlines()
    return hex_dump(body)


def hex_dump(data: bytes, limit: int = 4096) -> list[str]:
    out = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{offset:08X}  {chunk.hex(' ').upper():<47}  {text}")
    if len(data) > limit:
        out.append(f"… {len(data) - limit} more bytes")
    return out
