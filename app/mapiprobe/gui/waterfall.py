"""The waterfall: every HTTP exchange of the trace as a bar over time, split into its phases.

One row per record (the Requests table's order): a bar from the moment the request was handed to the
transport, coloured by phase — TCP connect, TLS handshake, wait (request sent until the status line and
headers arrived), download (headers until the body was read) — from the trace's timings
(:class:`~mapiprobe.transport.trace.TraceRecord`). A failed exchange is outlined red. Clicking a bar selects
the record (:attr:`WaterfallView.recordClicked`). Pure painting: no network, no decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from mapiprobe.gui.models.requests import failed, request_type
from mapiprobe.transport.trace import TraceRecord

PHASES: tuple[tuple[str, str], ...] = (
    ("connect", "#f0a030"),
    ("TLS", "#b070d0"),
    ("wait", "#4caf50"),
    ("download", "#2196f3"),
)
ROW_HEIGHT = 18
LABEL_WIDTH = 190
AXIS_HEIGHT = 22


def phases(record: TraceRecord) -> list[tuple[str, float, float]]:
    """(phase, start ms, length ms) of one record, from its start; phases not measured are left out."""
    out: list[tuple[str, float, float]] = []
    at = 0.0
    if record.connect_ms:
        out.append(("connect", at, record.connect_ms))
        at += record.connect_ms
    if record.tls_ms:
        out.append(("TLS", at, record.tls_ms))
        at += record.tls_ms
    first = record.first_byte_ms
    total = record.total_ms
    if first is not None:
        wait = max(0.0, first - at)
        out.append(("wait", at, wait))
        at = max(at, first)
    if total is not None and total > at:
        out.append(("download" if first is not None else "wait", at, total - at))
    return out


class WaterfallView(QWidget):
    """Paints the records; grows in height with them (put it in a QScrollArea)."""

    recordClicked = Signal(int)  # row (index into the records)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.records: list[TraceRecord] = []
        self.selected: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(AXIS_HEIGHT + ROW_HEIGHT)
        self.setToolTip("Each bar: connect (orange), TLS (purple), wait (green), download (blue)")

    def set_records(self, records: Sequence[TraceRecord]) -> None:
        self.records = list(records)
        self.updateGeometry()
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def add(self, record: TraceRecord) -> None:
        self.records.append(record)
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def select(self, row: int | None) -> None:
        self.selected = row
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, AXIS_HEIGHT + ROW_HEIGHT * max(1, len(self.records)) + 4)

    def _span(self) -> tuple[float, float]:
        if not self.records:
            return 0.0, 1.0
        start = min(r.started_at for r in self.records)
        end = max(r.started_at + (r.total_ms or 0.0) / 1000 for r in self.records)
        return start, max(end - start, 0.001)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = int((event.position().y() - AXIS_HEIGHT) // ROW_HEIGHT)
        if 0 <= row < len(self.records):
            self.select(row)
            self.recordClicked.emit(row)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text_color = palette.color(QPalette.ColorRole.Text)
        grid = QColor(text_color)
        grid.setAlpha(40)
        metrics = QFontMetrics(self.font())
        width = max(10.0, self.width() - LABEL_WIDTH - 12)
        start, span = self._span()
        # Axis with ticks.
        painter.setPen(text_color)
        ticks = 6
        for i in range(ticks + 1):
            x = LABEL_WIDTH + width * i / ticks
            painter.setPen(QPen(grid))
            painter.drawLine(QPointF(x, AXIS_HEIGHT - 4), QPointF(x, self.height()))
            painter.setPen(text_color)
            label = _ms_label(span * 1000 * i / ticks)
            painter.drawText(QPointF(x - metrics.horizontalAdvance(label) / 2, AXIS_HEIGHT - 8), label)
        if not self.records:
            painter.drawText(QPointF(8, AXIS_HEIGHT + 13), "No HTTP exchange yet")
            painter.end()
            return
        scale = width / (span * 1000)
        clip = event.rect()
        first_row = max(0, (clip.top() - AXIS_HEIGHT) // ROW_HEIGHT)
        last_row = min(len(self.records) - 1, (clip.bottom() - AXIS_HEIGHT) // ROW_HEIGHT + 1)
        colours = dict(PHASES)
        for row in range(first_row, last_row + 1):
            record = self.records[row]
            y = AXIS_HEIGHT + row * ROW_HEIGHT
            if row == self.selected:
                painter.fillRect(
                    QRectF(0, y, self.width(), ROW_HEIGHT), palette.color(QPalette.ColorRole.Highlight)
                )
                painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
            else:
                painter.setPen(text_color)
            label = metrics.elidedText(
                f"{record.seq} {request_type(record) or record.method}",
                Qt.TextElideMode.ElideRight,
                LABEL_WIDTH - 8,
            )
            painter.drawText(QPointF(4, y + ROW_HEIGHT - 5), label)
            x0 = LABEL_WIDTH + (record.started_at - start) * 1000 * scale
            for name, at, length in phases(record):
                rect = QRectF(x0 + at * scale, y + 4, max(1.0, length * scale), ROW_HEIGHT - 8)
                painter.fillRect(rect, QColor(colours[name]))
            if failed(record):
                painter.setPen(QPen(QColor("#c62828"), 1.5))
                total = (record.total_ms or 0.0) * scale
                painter.drawRect(QRectF(x0, y + 3, max(2.0, total), ROW_HEIGHT - 6))
        painter.end()


def _ms_label(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"
