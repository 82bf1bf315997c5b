"""The Protocols tab: "Compare protocols" runs ``mapiprobe protocols`` (:mod:`mapiprobe.session.compare`) for
the account in the account bar, off the Qt main thread and cancellable, then shows

* a chart (:class:`ProtocolsChart`, ``protocolsChart``): one horizontal bar per protocol, split into its
  phases (Autodiscover, connect, folder tree, first GAL page), each segment as long as its wall time;
* a table (:class:`PhaseTableModel`, ``protocolsTable``): per protocol and phase, wall ms, HTTP requests, TCP
  connections, bytes sent and received, and the failure;
* both sessions in the Connection Status pane (Protocol ``HTTP`` and ``RPC/HTTP`` rows).

The work is :func:`mapiprobe.session.compare.compare_protocols`; this module only asks it and draws the
answer. :func:`install` adds the tab and the File menu's entry to the window.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from mapiprobe.gui.tabs.common import table_view
from mapiprobe.gui.workers import Runner

if TYPE_CHECKING:
    from mapiprobe.gui.run import Account
    from mapiprobe.session.compare import Comparison
    from mapiprobe.session.status import EndpointSession
    from mapiprobe.transport.client import ConnectionOptions

PHASE_LABELS = {
    "autodiscover": "Autodiscover",
    "connect": "Connect",
    "folders": "Folder tree",
    "gal": "First GAL page",
}
PROTOCOL_LABELS = {"mapi-http": "MAPI/HTTP", "rpc-http": "RPC/HTTP"}
PHASE_COLOURS = {
    "autodiscover": QColor("#5b8def"),
    "connect": QColor("#f0a030"),
    "folders": QColor("#4caf7a"),
    "gal": QColor("#b36ad9"),
}
COLUMNS = ("Protocol", "Phase", "Wall ms", "HTTP requests", "TCP connections", "Bytes sent", "Bytes received",
           "Failure")  # fmt: skip
_NUMERIC = {2, 3, 4, 5, 6}
_PHASE_KEYS = {label: key for key, label in PHASE_LABELS.items()}
_Index = QModelIndex | QPersistentModelIndex


def run_comparison(
    account: Account,
    connection: ConnectionOptions,
    cancel: threading.Event,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """What ``mapiprobe protocols EMAIL`` does, for the account bar's account (worker thread)."""
    from mapiprobe.session.compare import compare_protocols
    from mapiprobe.transport.auth import Credentials, make_auth

    credentials = account.credentials()
    scheme = account.auth if account.auth in ("basic", "ntlm", "negotiate") else None
    return compare_protocols(
        account.email,
        credentials=credentials or Credentials(),
        connection=connection,
        auth_factory=lambda: make_auth(credentials, account.auth),
        user=account.user or account.email,
        auth_scheme=account.auth,
        autodiscover_url=account.url or None,
        http_scheme=scheme,
        progress=progress,
        cancel=cancel,
    )


def status_sessions(comparison: Comparison) -> list[EndpointSession]:
    """Connection Status rows of the compared sessions (closed once their phases ended): per protocol, the
    mailbox and the address book."""
    from mapiprobe.session.status import DIRECTORY, HTTP, MAIL, RPC_HTTP, EndpointSession

    rows = []
    for run in comparison.runs:
        for kind, url, names in (
            (MAIL, run.endpoint, ("connect", "folders")),
            (DIRECTORY, run.address_book_endpoint, ("gal",)),
        ):
            if not url:
                continue
            failed = next((p for p in run.phases if p.name in names and not p.ok and not p.skipped), None)
            wall = sum(p.wall_ms for p in run.phases if p.name in names)
            rows.append(
                EndpointSession(
                    kind=kind,
                    url=url,
                    smtp_address=comparison.email,
                    protocol=RPC_HTTP if run.protocol == "rpc-http" else HTTP,
                    state="failed" if failed is not None else "disconnected",
                    error=(
                        f"Compare protocols: {failed.error}"
                        if failed is not None
                        else f"closed after Compare protocols ({wall:,.0f} ms)"
                    ),
                )
            )
    return rows


def comparison_records(comparison: Comparison) -> list[Any]:
    """Every HTTP exchange of the comparison, for the Connection Status columns read from the trace."""
    return [record for run in comparison.runs for record in run.records]


class PhaseTableModel(QAbstractTableModel):
    """One row per protocol and phase; numbers right-aligned, UserRole gives the raw value."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[Any, ...]] = []

    def set_comparison(self, comparison: Comparison | None) -> None:
        self.beginResetModel()
        self._rows = []
        for run in comparison.runs if comparison is not None else []:
            for p in run.phases:
                failure = p.error or ""
                self._rows.append(
                    (
                        PROTOCOL_LABELS.get(run.protocol, run.protocol),
                        PHASE_LABELS.get(p.name, p.name),
                        round(p.wall_ms),
                        p.http_requests,
                        p.tcp_connections,
                        p.bytes_sent,
                        p.bytes_received,
                        failure,
                    )
                )
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= len(COLUMNS):
            return None
        value = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value:,}" if index.column() in _NUMERIC else str(value)
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == len(COLUMNS) - 1 and value:
            return str(value)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None


class ProtocolsChart(QWidget):
    """The phases side by side: one horizontal bar per protocol, a segment per phase as long as its wall
    time, all bars on one scale. :attr:`bars` is what it draws:
    ``[(protocol label, [(phase label, ms)])]``."""

    LABEL_WIDTH = 110
    BAR_HEIGHT = 34

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("protocolsChart")
        self.bars: list[tuple[str, list[tuple[str, float]]]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())

    def set_comparison(self, comparison: Comparison | None) -> None:
        self.bars = [
            (
                PROTOCOL_LABELS.get(run.protocol, run.protocol),
                [(PHASE_LABELS.get(p.name, p.name), p.wall_ms) for p in run.phases],
            )
            for run in (comparison.runs if comparison is not None else [])
        ]
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, 2 * (self.BAR_HEIGHT + 14) + 36)  # two bars and the legend

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        metrics = painter.fontMetrics()
        if not self.bars:
            painter.setPen(text)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Click Compare protocols to time both protocols."
            )
            return
        right = 90
        width = max(1, self.width() - self.LABEL_WIDTH - right - 8)
        longest = max((sum(ms for _, ms in phases) for _, phases in self.bars), default=0.0) or 1.0
        y = 10
        for label, phases in self.bars:
            painter.setPen(text)
            painter.drawText(
                QRectF(4, y, self.LABEL_WIDTH - 8, self.BAR_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                label,
            )
            x = float(self.LABEL_WIDTH)
            for name, ms in phases:
                key = _PHASE_KEYS.get(name, name)
                w = width * ms / longest
                rect = QRectF(x, y, w, self.BAR_HEIGHT)
                painter.fillRect(rect, PHASE_COLOURS.get(key, QColor("#999999")))
                caption = f"{ms:,.0f} ms"
                if metrics.horizontalAdvance(caption) + 6 < w:
                    painter.setPen(QColor("#ffffff"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, caption)
                x += w
            painter.setPen(text)
            total = sum(ms for _, ms in phases)
            painter.drawText(
                QRectF(x + 6, y, right, self.BAR_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"{total:,.0f} ms",
            )
            y += self.BAR_HEIGHT + 14
        x = float(self.LABEL_WIDTH)
        for key, name in PHASE_LABELS.items():
            painter.fillRect(QRectF(x, y + 4, 12, 12), PHASE_COLOURS[key])
            painter.setPen(text)
            painter.drawText(QRectF(x + 16, y, 200, 20), Qt.AlignmentFlag.AlignVCenter, name)
            x += 16 + metrics.horizontalAdvance(name) + 24


class ProtocolsTab(QWidget):
    """Compare protocols button, Stop, a message line, the chart and the table. ``request()`` gives the
    account and connection (ValueError when the account bar is not filled in); ``on_sessions`` receives the
    Connection Status rows of a finished comparison and its HTTP exchanges."""

    finished = Signal(object)  # the Comparison
    _progressed = Signal(str)

    def __init__(
        self,
        request: Callable[[], tuple[Account, ConnectionOptions]],
        on_sessions: Callable[[list[EndpointSession], list[Any]], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._request = request
        self._on_sessions = on_sessions
        self.runner = Runner(self, threads=1)
        self.comparison: Comparison | None = None
        self.compare_button = QPushButton("Compare protocols", self)
        self.compare_button.setObjectName("compareProtocolsButton")
        self.compare_button.setToolTip(
            "Autodiscover, connect, folder tree and first GAL page over MAPI/HTTP, then over RPC/HTTP, "
            "each from a cold start"
        )
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("stopProtocolsButton")
        self.stop_button.setEnabled(False)
        self.message = QLabel("MAPI/HTTP against RPC/HTTP on this mailbox, phase by phase.", self)
        self.message.setObjectName("protocolsStatus")
        self.message.setWordWrap(True)
        self.chart = ProtocolsChart(self)
        self.model = PhaseTableModel(self)
        self.view = table_view(self.model, "protocolsTable", self, stretch=len(COLUMNS) - 1)
        for column, width in enumerate((90, 120, 80, 110, 120, 100, 110)):
            self.view.setColumnWidth(column, width)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.message, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.chart)
        layout.addWidget(self.view, 1)
        self.compare_button.clicked.connect(self.compare)
        self.stop_button.clicked.connect(self.stop)
        self._progressed.connect(self.message.setText)
        self.runner.busyChanged.connect(self._busy)

    def _busy(self, busy: bool) -> None:
        self.compare_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    def compare(self) -> None:
        if self.runner.busy:
            return
        try:
            account, connection = self._request()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Comparing protocols for {account.email}…")
        progressed = self._progressed

        def work(cancel: threading.Event) -> Comparison:
            return run_comparison(account, connection, cancel, progressed.emit)

        self.runner.submit(work, self._done, self._failed, name="protocols")

    def stop(self) -> None:
        if self.runner.busy:
            self.runner.cancel_all()
            self.message.setText("Stopped.")

    def _failed(self, exc: BaseException) -> None:
        from mapiprobe.gui.run import explain

        self.message.setText(f"Compare protocols failed: {explain(exc)}")

    def _done(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.chart.set_comparison(comparison)
        self.model.set_comparison(comparison)
        ratio = comparison.ratio("connect")
        ok = all(r.ok for r in comparison.runs)
        words = "both protocols completed every phase" if ok else "a phase failed (see the table)"
        if ratio is not None:
            words += f"; RPC/HTTP connects in {ratio:.1f}× MAPI/HTTP's time"
        self.message.setText(f"{comparison.email}: {words}.")
        if self._on_sessions is not None:
            self._on_sessions(status_sessions(comparison), comparison_records(comparison))
        self.finished.emit(comparison)

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.wait(3000)


def install(window: Any) -> ProtocolsTab:
    """Add the Protocols tab and File → Compare protocols to ``window`` (a MainWindow)."""

    def request() -> tuple[Account, ConnectionOptions]:
        account = window.account_bar.account()
        if "@" not in account.email:
            raise ValueError("Type the mailbox's e-mail address first.")
        return account, window.controller.connection

    shown: list[EndpointSession] = []

    def show_sessions(rows: list[EndpointSession], records: list[Any]) -> None:
        controller = window.controller
        # The comparison's exchanges join the window's trace: the Requests tab lists them and Connection
        # Status reads its Authn, Encrypt, Req/Fail, Avg Resp and Version columns from them.
        if controller.bridge is None:  # no Start yet: the trace the Requests tab listens to
            controller._new_trace()
        trace = controller.trace
        for record in records:
            trace.add(dataclasses.replace(record, seq=trace.next_seq()))
        controller.static_rows = [r for r in controller.static_rows if all(r is not s for s in shown)] + rows
        shown[:] = rows
        controller.refresh_status()

    tab = ProtocolsTab(request, show_sessions, window)
    window.protocols_tab = tab
    window.add_tab(tab, "Protocols")
    action = QAction("Compare &protocols", window)
    action.setObjectName("compareProtocolsAction")
    action.setShortcut(QKeySequence("Ctrl+Shift+P"))

    def trigger() -> None:
        window.tabs.setCurrentWidget(tab)
        tab.compare()

    action.triggered.connect(trigger)
    file_menu = window.menuBar().actions()[0].menu()
    actions = file_menu.actions()  # after Start, Stop and Reconnect: the other things a run does
    where = actions.index(window.reconnect_action) + 1 if window.reconnect_action in actions else len(actions)
    if where < len(actions):
        file_menu.insertAction(actions[where], action)
    else:
        file_menu.addAction(action)
    return tab


__all__ = [
    "PhaseTableModel",
    "ProtocolsChart",
    "ProtocolsTab",
    "install",
    "run_comparison",
    "status_sessions",
]
