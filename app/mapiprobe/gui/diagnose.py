"""The Diagnose tab: one click runs the diagnosis (diagnostics/pipeline.py) with live progress in a step tree.

:class:`DiagnoseTab` is a plain ``QWidget`` the main window adds as a tab. It asks ``request()`` (given by the
window: the address and the :class:`~mapiprobe.diagnostics.pipeline.DiagnosisOptions` of its connection
form) for what to diagnose, runs :class:`~mapiprobe.diagnostics.pipeline.Diagnosis` on a worker thread (the
network never runs on the Qt main thread), and shows each step as it finishes: a pass/warn/fail/skipped icon,
the target and the time; the selected step's summary, cause, remedy and evidence below. The report can be
saved (HTML, or JSON when the name ends in ``.json``) or its summary copied for a ticket.

Stable object names (tests and the window rely on them): ``diagnoseButton`` (becomes Cancel while running),
``stepsTree``, ``stepDetails``, ``saveReportButton``, ``copySummaryButton``, ``diagnoseStatus``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mapiprobe.diagnostics.steps import Status, Step, StepEvent

if TYPE_CHECKING:  # the pipeline (and the session layer under it) loads when a diagnosis runs
    from mapiprobe.diagnostics.pipeline import DiagnosisOptions, DiagnosisResult

Request = Callable[[], tuple[str, "DiagnosisOptions"]]

_ICONS = {
    "pass": QStyle.StandardPixmap.SP_DialogApplyButton,
    "warn": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "fail": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "skipped": QStyle.StandardPixmap.SP_MediaSkipForward,
    "running": QStyle.StandardPixmap.SP_BrowserReload,
}
STEP_ROLE = Qt.ItemDataRole.UserRole


class _Worker(QObject):
    """Runs one diagnosis on its QThread; progress and the result come back as queued signals."""

    step_event = Signal(object)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, email: str, options: DiagnosisOptions, cancel: threading.Event) -> None:
        super().__init__()
        self.email = email
        self.options = options
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            from mapiprobe.diagnostics.pipeline import Diagnosis

            diagnosis = Diagnosis(self.email, self.options, on_event=self.step_event.emit, cancel=self.cancel)
            result = diagnosis.run()
        except Exception as exc:  # bad input (an address that is not one...): said in the status line
            self.failed.emit(str(exc))
            return
        self.done.emit(result)


class DiagnoseTab(QWidget):
    finished = Signal(object)  # the DiagnosisResult, once a run ends

    def __init__(self, request: Request, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._request = request
        self.result: DiagnosisResult | None = None
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._cancel = threading.Event()
        self._items: dict[tuple[str, str], QTreeWidgetItem] = {}

        self.diagnose_button = QPushButton("Diagnose")
        self.diagnose_button.setObjectName("diagnoseButton")
        self.diagnose_button.setToolTip("Run every check in order and explain what fails")
        self.save_button = QPushButton("Save report…")
        self.save_button.setObjectName("saveReportButton")
        self.copy_button = QPushButton("Copy summary")
        self.copy_button.setObjectName("copySummaryButton")
        self.status_label = QLabel("Click Diagnose to check everything Outlook needs.")
        self.status_label.setObjectName("diagnoseStatus")
        self.status_label.setWordWrap(True)
        for button in (self.save_button, self.copy_button):
            button.setEnabled(False)

        self.tree = QTreeWidget()
        self.tree.setObjectName("stepsTree")
        self.tree.setHeaderLabels(["Step", "Target", "Status", "Time"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.details = QTextBrowser()
        self.details.setObjectName("stepDetails")
        self.details.setOpenLinks(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.diagnose_button)
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.copy_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)

        self.diagnose_button.clicked.connect(self._on_diagnose)
        self.save_button.clicked.connect(self._on_save)
        self.copy_button.clicked.connect(self.copy_summary)
        self.tree.currentItemChanged.connect(self._on_current)

    # -- running ---------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _on_diagnose(self) -> None:
        if self.running:
            self._cancel.set()
            self.status_label.setText("Cancelling…")
            self.diagnose_button.setEnabled(False)
            return
        self.start()

    def start(self) -> None:
        """Start a run with what ``request()`` gives now."""
        try:
            email, options = self._request()
        except ValueError as exc:
            self.status_label.setText(f"Cannot diagnose: {exc}")
            return
        self.tree.clear()
        self._items.clear()
        self.details.clear()
        self.result = None
        self.save_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self._cancel = threading.Event()
        self.status_label.setText(f"Diagnosing {email}…")
        self.diagnose_button.setText("Cancel")
        thread = QThread(self)
        worker = _Worker(email, options, self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.step_event.connect(self._on_step_event, Qt.ConnectionType.QueuedConnection)
        worker.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        worker.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self._thread, self._worker = thread, worker
        thread.start()

    def _finish_thread(self) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait(10_000)
            thread.deleteLater()
        self.diagnose_button.setText("Diagnose")
        self.diagnose_button.setEnabled(True)

    @Slot(object)
    def _on_step_event(self, event: StepEvent) -> None:
        step = event.step
        item = self._items.get(step.key)
        if item is None:
            item = QTreeWidgetItem(self.tree)
            self._items[step.key] = item
        self._fill(item, step)
        if event.kind == "started":
            self.status_label.setText(f"{step.title}: {step.target}…")
            self.tree.scrollToItem(item)

    def _fill(self, item: QTreeWidgetItem, step: Step) -> None:
        status = str(step.status)
        item.setText(0, step.title)
        item.setText(1, _short(step.target))
        item.setText(2, status)
        item.setText(3, "" if step.status == Status.RUNNING else f"{step.elapsed_ms:.0f} ms")
        item.setIcon(0, self._icon(status))
        item.setToolTip(0, step.id)
        item.setToolTip(1, step.target)
        item.setToolTip(2, step.cause or step.summary)
        item.setData(0, STEP_ROLE, step)
        if self.tree.currentItem() is item:
            self._show(step)

    def _icon(self, status: str) -> QIcon:
        return self.style().standardIcon(_ICONS.get(status, QStyle.StandardPixmap.SP_FileIcon))

    @Slot(object)
    def _on_done(self, result: DiagnosisResult) -> None:
        self._finish_thread()
        self.result = result
        for step in result.steps:  # every step, skipped ones too, in the result's order
            item = self._items.get(step.key)
            if item is None:
                item = QTreeWidgetItem(self.tree)
                self._items[step.key] = item
            self._fill(item, step)
        first = result.first_failure
        words = {"pass": "PASS: every check passed", "warn": "WARN: passed with warnings", "fail": "FAIL"}
        text = words[result.result] + (" (cancelled)" if result.cancelled else "")
        if first is not None:
            text += f" · first problem: {first.title} ({_short(first.target)})"
            focus = self._items.get(first.key)
            if focus is not None:
                self.tree.setCurrentItem(focus)
        else:
            from mapiprobe.diagnostics.report import summary_text

            self.details.setPlainText(summary_text(result))
        self.status_label.setText(text)
        self.save_button.setEnabled(True)
        self.copy_button.setEnabled(True)
        self.finished.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._finish_thread()
        self.status_label.setText(f"Cannot diagnose: {message}")

    # -- the selected step -----------------------------------------------------------------------------

    def _on_current(self, current: QTreeWidgetItem | None, _previous: Any) -> None:
        step = current.data(0, STEP_ROLE) if current is not None else None
        if isinstance(step, Step):
            self._show(step)

    def _show(self, step: Step) -> None:
        parts = [f"<h3>{html.escape(step.title)} · {html.escape(str(step.status))}</h3>"]
        parts.append(f"<p><b>Target:</b> {html.escape(step.target)}<br>{html.escape(step.summary)}</p>")
        if step.cause:
            parts.append(f"<p><b>Cause:</b> {html.escape(step.cause)}</p>")
        if step.remedy:
            parts.append(f"<p><b>Remedy:</b> {html.escape(step.remedy)}</p>")
        if step.evidence:
            lines = "\n".join(f"{e.label}: {e.text}" for e in step.evidence)
            parts.append(
                f'<p><b>Evidence</b></p><pre style="white-space: pre-wrap">{html.escape(lines)}</pre>'
            )
        self.details.setHtml("".join(parts))

    # -- the report ------------------------------------------------------------------------------------

    def save_report(self, path: Path) -> None:
        """Write the report of the last run: JSON for ``*.json``, else the self-contained HTML."""
        if self.result is None:
            raise RuntimeError("no diagnosis to save yet")
        from mapiprobe.diagnostics.report import render_html, render_json

        text = render_json(self.result) if path.suffix.lower() == ".json" else render_html(self.result)
        path.write_text(text, encoding="utf-8")

    def _on_save(self) -> None:
        if self.result is None:
            return
        name, _filter = QFileDialog.getSaveFileName(
            self,
            "Save the diagnosis report",
            f"mapiprobe-{self.result.email}.html",
            "HTML report (*.html);;JSON (*.json)",
        )
        if not name:
            return
        try:
            self.save_report(Path(name))
        except OSError as exc:
            self.status_label.setText(f"Cannot save the report: {exc.strerror or exc}")
            return
        self.status_label.setText(f"Report saved: {name}")

    def copy_summary(self) -> None:
        if self.result is None:
            return
        from mapiprobe.diagnostics.report import summary_text

        QGuiApplication.clipboard().setText(summary_text(self.result))
        self.status_label.setText("Summary copied to the clipboard")

    def shutdown(self) -> None:
        """Cancel a run and wait for its thread (the window calls this when it closes)."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait(15_000)


def _short(target: str) -> str:
    """A URL without its query (the MailboxId), so that /mapi/emsmdb/ and /mapi/nspi/ stay apart."""
    if "://" not in target:
        return target
    base = target.split("?", 1)[0]
    return base.split("://", 1)[1]


__all__ = ["DiagnoseTab"]
