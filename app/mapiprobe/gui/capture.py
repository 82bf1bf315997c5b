"""File → Open Capture… and Save as HAR…: a Fiddler SAZ or a HAR in the Requests tab as if it were a run.

:class:`CaptureActions` adds the two actions to the window's File menu (``openCaptureAction``,
``saveHarAction``). Opening reads and decodes the capture on a worker thread (never the Qt main thread):
protocol/capture.py reads it exchange by exchange (redacting as it reads), protocol/capture_decode.py follows
each MAPI/HTTP session, transport/capturefile.py turns each exchange into a
:class:`~mapiprobe.transport.trace.TraceRecord`. The main thread then fills the Requests tab (table,
waterfall) and puts the capture's name in the title bar. The details pane shows an exchange decoded with the
columns its session had set (``decode_alone``), so rows of RopQueryRows pages in later Executes show their
values; only the records and those small column maps are kept, never the decoded trees of a whole capture.

Saving writes the records the Requests tab holds (a live run's or an opened capture's) as HAR 1.2, on a
worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QWidget,
)

from mapiprobe.gui.workers import Runner

if TYPE_CHECKING:  # the readers and decoders are imported when a capture is opened, not at start-up
    from mapiprobe.protocol.capture import CapturedExchange
    from mapiprobe.transport.trace import TraceRecord

FILTER = "Captures (*.saz *.har);;Fiddler session archives (*.saz);;HAR files (*.har);;All files (*)"


@dataclass
class LoadedCapture:
    """What a worker hands the main thread: the records, and per record what re-decoding it needs."""

    name: str
    kind: str
    records: list[TraceRecord]
    exchanges: dict[int, tuple[CapturedExchange, list[dict[int, tuple[int, ...]]]]] = field(
        default_factory=dict
    )
    notes: list[str] = field(default_factory=list)
    failed: int = 0


def load_capture(path: Path, cancel: threading.Event | None = None) -> LoadedCapture:
    """Read and decode ``path`` (SAZ or HAR); runs on a worker thread. Stops early when ``cancel`` is set."""
    from mapiprobe.protocol.capture import open_capture
    from mapiprobe.protocol.capture_decode import CaptureDecoder
    from mapiprobe.transport.capturefile import record_from_exchange

    decoder = CaptureDecoder()
    with path.open("rb") as stream:
        capture = open_capture(stream, path.name)
        loaded = LoadedCapture(path.name, capture.kind, [])
        for exchange in capture:
            if cancel is not None and cancel.is_set():
                loaded.notes.append("reading was cancelled")
                break
            decoded = decoder.decode(exchange)
            loaded.failed += not decoded.ok
            loaded.records.append(record_from_exchange(exchange))
            loaded.exchanges[exchange.index] = (exchange, decoded.table_columns)
        loaded.notes[:0] = capture.notes
    return loaded


def describe_exchange(exchange: CapturedExchange, table_columns: list[dict[int, tuple[int, ...]]]) -> str:
    """The details of one captured exchange: summary, failures and notes, headers, both bodies decoded."""
    from mapiprobe.protocol.capture_decode import decode_alone, summary_line
    from mapiprobe.protocol.jsonview import render_tree, to_jsonable

    d = decode_alone(exchange, table_columns)
    lines = [summary_line(d)]
    lines += [f"failed: {f}" for f in d.failures]
    lines += [f"note: {n}" for n in (*exchange.notes, *d.notes)]
    if exchange.timings:
        lines.append("timing: " + ", ".join(f"{k} {v:.1f} ms" for k, v in exchange.timings.items()))
    for title, headers, value, error, body in (
        ("Request", exchange.request_headers, d.request, d.request_error, exchange.request_body),
        (f"Response: HTTP {exchange.status or '-'}", exchange.response_headers, d.response, d.response_error,
         exchange.response_body),
    ):  # fmt: skip
        lines += ["", f"── {title} headers ──", *(f"{k}: {v}" for k, v in headers)]
        lines += ["", f"── {title.split(':')[0]} body ({len(body or b'')} bytes) ──"]
        if error is not None:
            lines.append(f"does not decode: {error['reason']}")
            if error.get("decoded"):
                lines += ["decoded before the fault:", *render_tree(error["decoded"], 1)]
        elif value is not None and d.kind == "mapihttp":
            lines += render_tree(to_jsonable(value))
        elif body:
            lines += _text_or_hex(body)
        else:
            lines.append("(empty)" if body is not None else "(not in the capture)")
    return "\n".join(lines)


def _text_or_hex(body: bytes) -> list[str]:
    head = body[:64].lstrip()
    if head[:1] in (b"<", b"{", b"[") or all(32 <= b < 127 or b in (9, 10, 13) for b in body[:256]):
        return body[:65536].decode("utf-8", "replace").splitlines()
    out = []
    for offset in range(0, min(len(body), 4096), 16):
        chunk = body[offset : offset + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{offset:08X}  {chunk.hex(' ').upper():<47}  {text}")
    return out


class CaptureActions(QObject):
    """Open Capture… / Save as HAR… for ``window`` (a MainWindow with ``requests_tab`` and ``tabs``)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner = Runner(self, threads=1)
        self.base_title = window.windowTitle()
        self.capture: LoadedCapture | None = None
        self.open_action = QAction("&Open Capture…", window)
        self.open_action.setObjectName("openCaptureAction")
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip("Show a Fiddler session archive (.saz) or a HAR file as if it were a run")
        self.open_action.triggered.connect(lambda _=False: self.open_capture())
        self.save_action = QAction("Save as &HAR…", window)
        self.save_action.setObjectName("saveHarAction")
        self.save_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_action.setToolTip("Save the exchanges of the Requests tab as HAR (credentials redacted)")
        self.save_action.triggered.connect(lambda _=False: self.save_har())
        menu = _file_menu(window)
        # Before the separator that precedes Quit (or at the end of the menu).
        tail = next((a for a in reversed(menu.actions()) if a.isSeparator()), None)
        for action in (self.open_action, self.save_action):
            if tail is not None:
                menu.insertAction(tail, action)
            else:
                menu.addAction(action)
        tab: Any = window.requests_tab  # type: ignore[attr-defined]
        tab.view.selectionModel().currentRowChanged.connect(self._current_changed)
        tab.model.modelReset.connect(self._tab_cleared)
        self._filling = False
        # The same two actions as buttons above the Requests tab's table.
        bar = QWidget(tab)
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.source_label = QLabel("Live run", bar)
        self.source_label.setObjectName("requestsSourceLabel")
        row.addWidget(self.source_label, 1)
        for text, name, slot in (
            ("Open Capture…", "openCaptureButton", self.open_capture),
            ("Save as HAR…", "saveHarButton", self.save_har),
        ):
            button = QPushButton(text, bar)
            button.setObjectName(name)
            button.clicked.connect(lambda _=False, slot=slot: slot())
            row.addWidget(button)
        layout = tab.layout()
        layout.insertWidget(0, bar)
        for index in range(1, layout.count()):
            layout.setStretch(index, 1)  # the tab's own content keeps the height; the bar stays one line

    # -- opening --------------------------------------------------------------------------------------

    def open_capture(self, path: str | Path | None = None) -> None:
        """Ask for a file (unless ``path`` is given) and read it on a worker; the tab fills once read."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self.window, "Open capture", "", FILTER)
            if not chosen:
                return
            path = chosen
        target = Path(path)
        self.window.statusBar().showMessage(f"Reading {target.name}…")
        self.runner.submit(
            lambda cancel: load_capture(target, cancel), self._loaded, self._failed, name="capture"
        )

    def _loaded(self, loaded: LoadedCapture) -> None:
        tab: Any = self.window.requests_tab  # type: ignore[attr-defined]
        model = tab.model
        records = loaded.records[: model.limit]
        if len(records) < len(loaded.records):
            loaded.notes.append(f"only the first {model.limit} exchanges are shown")
        # All rows in one reset (adding them one by one redraws the waterfall for each: quadratic).
        self._filling = True
        try:
            tab.clear()
            model.beginResetModel()
            model.records = list(records)
            model.endResetModel()
        finally:
            self._filling = False
        tab.waterfall.set_records(model.records)
        self.capture = loaded
        self.window.setWindowTitle(f"{loaded.name} — {self.base_title}")
        self.source_label.setText(
            f"Capture {loaded.name} ({loaded.kind.upper()}): {len(loaded.records)} exchange(s)"
            + (f", {loaded.failed} failed" if loaded.failed else "")
        )
        self.window.tabs.setCurrentWidget(tab)  # type: ignore[attr-defined]
        summary = f"{loaded.name}: {len(loaded.records)} exchange(s) from a {loaded.kind.upper()} capture"
        if loaded.failed:
            summary += f", {loaded.failed} failed"
        if loaded.notes:
            summary += f"; note: {loaded.notes[0]}"
        self.window.statusBar().showMessage(summary, 15000)

    def _failed(self, exc: BaseException) -> None:
        QMessageBox.warning(self.window, "Open capture", f"The capture could not be read: {exc}")

    def _tab_cleared(self) -> None:
        """A new run cleared the Requests tab: back to live runs, the title loses the capture's name."""
        if not self._filling and self.capture is not None:
            self.capture = None
            self.window.setWindowTitle(self.base_title)
            self.source_label.setText("Live run")

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        # Connected after the tab's own handler: for a captured exchange, the session-aware view replaces it.
        if self.capture is None or not current.isValid():
            return
        tab: Any = self.window.requests_tab  # type: ignore[attr-defined]
        records = tab.model.records
        if current.row() >= len(records):
            return
        found = self.capture.exchanges.get(records[current.row()].seq)
        if found is not None:
            tab.details.setPlainText(describe_exchange(*found))

    # -- saving ---------------------------------------------------------------------------------------

    def save_har(self, path: str | Path | None = None) -> None:
        tab: Any = self.window.requests_tab  # type: ignore[attr-defined]
        records = list(tab.model.records)
        if not records:
            self.window.statusBar().showMessage("Nothing to save: the Requests tab is empty", 8000)
            return
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self.window, "Save as HAR", "mapiprobe.har", "HAR files (*.har)"
            )
            if not chosen:
                return
            path = chosen
        target = Path(path)

        def work(cancel: threading.Event) -> int:
            from mapiprobe.transport.capturefile import write_har

            with target.open("w", encoding="utf-8") as out:
                return write_har(records, out, comment="saved from the mapiprobe window")

        self.runner.submit(
            work,
            lambda count: self.window.statusBar().showMessage(
                f"Saved {count} exchange(s) to {target}", 10000
            ),
            lambda exc: QMessageBox.warning(self.window, "Save as HAR", f"Could not save {target}: {exc}"),
            name="save-har",
        )


def _file_menu(window: QMainWindow) -> QMenu:
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "").lower() == "file":
            return menu
    return window.menuBar().addMenu("&File")


__all__ = ["CaptureActions", "LoadedCapture", "describe_exchange", "load_capture"]
