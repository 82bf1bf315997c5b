"""The Autodiscover tab: every attempt (the winner in bold), the endpoints found, the RPC/HTTP blocks when
that is what came back, the answer's XML coloured, and with MapiHttpDisabled emulated the two answers side by
side (with and without ``X-MapiHttpCapability``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mapiprobe.gui.models.table import RowsModel
from mapiprobe.gui.tabs.common import XmlHighlighter, message_label, monospace, show_message, table_view

if TYPE_CHECKING:
    from mapiprobe.gui.run import Discovered
    from mapiprobe.session.autodiscover import Attempt, DiscoveryResult


def redact_url(url: str | None) -> str:
    from mapiprobe.transport.errors import redact_url as redact

    return redact(url or "")


ATTEMPT_COLUMNS = ("Method", "URL", "Status", "Time", "Outcome")
ENDPOINT_COLUMNS = ("Endpoint", "Where", "URL")
LEGACY_COLUMNS = ("Type", "Setting", "Value")
COMPARE_COLUMNS = ("Field", "With the header", "Without (emulated)")


class AutodiscoverTab(QWidget):
    def __init__(self, parent: QWidget | None = None, *, dark: bool = False) -> None:
        super().__init__(parent)
        self.message = message_label(self)
        self.attempts = RowsModel(ATTEMPT_COLUMNS, self)
        self.attempts_view = table_view(self.attempts, "attemptsTable", self, stretch=4)
        self.endpoints = RowsModel(ENDPOINT_COLUMNS, self)
        self.endpoints_view = table_view(self.endpoints, "endpointsTable", self, stretch=2)
        self.copy_button = QPushButton("Copy URL", self)
        self.copy_button.setObjectName("copyEndpointButton")
        self.copy_button.setToolTip("Copy the selected endpoint URL (or all of them) to the clipboard")
        self.copy_button.clicked.connect(self.copy_endpoints)
        self.legacy = RowsModel(LEGACY_COLUMNS, self)
        self.legacy_view = table_view(self.legacy, "legacyTable", self, stretch=2)
        self.legacy_box = QGroupBox("RPC/HTTP (Outlook Anywhere) settings", self)
        self.comparison = RowsModel(COMPARE_COLUMNS, self)
        self.comparison_view = table_view(self.comparison, "comparisonTable", self, stretch=2)
        self.comparison_box = QGroupBox("With and without X-MapiHttpCapability", self)
        self.comparison_note = QLabel(self)
        self.comparison_note.setWordWrap(True)
        self.raw_xml = QPlainTextEdit(self)
        self.raw_xml.setObjectName("rawXmlView")
        self.raw_xml.setReadOnly(True)
        self.raw_xml.setFont(monospace())
        self.raw_xml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw_xml.setPlaceholderText("The Autodiscover answer's XML appears here.")
        self._highlighter = XmlHighlighter(self.raw_xml.document(), dark=dark)
        self.raw_note = QLabel(self)

        attempts_box = QGroupBox("Attempts (in the order tried; the one used in bold)", self)
        QVBoxLayout(attempts_box).addWidget(self.attempts_view)
        endpoints_box = QGroupBox("MAPI/HTTP endpoints", self)
        endpoints_layout = QVBoxLayout(endpoints_box)
        endpoints_layout.addWidget(self.endpoints_view)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.copy_button)
        endpoints_layout.addLayout(row)
        QVBoxLayout(self.legacy_box).addWidget(self.legacy_view)
        compare_layout = QVBoxLayout(self.comparison_box)
        compare_layout.addWidget(self.comparison_note)
        compare_layout.addWidget(self.comparison_view)
        xml_box = QGroupBox("Answer (XML)", self)
        xml_layout = QVBoxLayout(xml_box)
        xml_layout.addWidget(self.raw_note)
        xml_layout.addWidget(self.raw_xml)

        self.endpoints_box = endpoints_box
        left = QSplitter(Qt.Orientation.Vertical, self)
        for box in (endpoints_box, self.legacy_box, self.comparison_box):
            left.addWidget(box)
        left.setChildrenCollapsible(False)
        for view in (self.endpoints_view, self.legacy_view, self.comparison_view, self.attempts_view):
            view.setMinimumHeight(60)
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(left)
        lower.addWidget(xml_box)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(attempts_box)
        split.addWidget(lower)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self.clear()

    def clear(self) -> None:
        show_message(self.message, "")
        for model in (self.attempts, self.endpoints, self.legacy, self.comparison):
            model.clear()
        self.raw_xml.setPlainText("")
        self.raw_note.setText("")
        self.legacy_box.setVisible(False)
        self.comparison_box.setVisible(False)
        self.endpoints_box.setVisible(True)

    def show_running(self, text: str) -> None:
        show_message(self.message, text)

    def show_error(self, text: str) -> None:
        show_message(self.message, text, "error")

    def show_result(self, found: Discovered) -> None:
        result = found.result
        self._attempts(result)
        self._endpoints(result)
        self._legacy(result)
        self._comparison(found)
        self.raw_xml.setPlainText(found.raw_xml)
        self.raw_note.setText(f"From {redact_url(result.url)} ({found.raw_xml_note})" if result.url else "")
        notes = [f.message for f in result.findings if f.severity in ("warning", "error")]
        if result.cancelled:
            show_message(self.message, "Stopped before Autodiscover finished.", "warning")
        elif result.problem is not None:
            show_message(self.message, f"Autodiscover failed: {result.problem.message}", "error")
        elif result.protocol == "rpcHttp":
            show_message(
                self.message,
                "Autodiscover offered RPC/HTTP (Outlook Anywhere) only, no MAPI/HTTP endpoints. "
                + " ".join(notes),
                "warning",
            )
        else:
            text = f"Autodiscover answered from {redact_url(result.url or '')}."
            show_message(self.message, " ".join([text, *notes]), "warning" if notes else "ok")

    def _attempts(self, result: DiscoveryResult) -> None:
        rows = []
        winner = -1
        for i, attempt in enumerate(result.attempts):
            rows.append(_attempt_row(attempt))
            if result.url and attempt.url == result.url and attempt.outcome.value == "settings":
                winner = i
        if winner >= 0:
            method, url, status, time, outcome = rows[winner]
            rows[winner] = (method, url, status, time, f"✔ {outcome} (used)")
        self.attempts.set_rows(rows, user_data=list(result.attempts), bold=[winner] if winner >= 0 else [])
        view = self.attempts_view
        for column in (0, 2, 3):
            view.resizeColumnToContents(column)
        view.setColumnWidth(1, min(560, max(300, view.sizeHintForColumn(1) + 12)))

    def _endpoints(self, result: DiscoveryResult) -> None:
        rows = []
        mapi = result.response.mapi_http if result.response is not None else None
        if mapi is not None:
            for endpoint, internal, external in (
                ("MailStore", mapi.mailstore_internal, mapi.mailstore_external),
                ("AddressBook", mapi.addressbook_internal, mapi.addressbook_external),
            ):
                if internal:
                    rows.append((endpoint, "Internal", internal))
                if external:
                    rows.append((endpoint, "External", external))
        self.endpoints.set_rows(rows)
        self.endpoints_view.resizeColumnToContents(0)
        self.endpoints_view.resizeColumnToContents(1)
        self.copy_button.setEnabled(bool(rows))

    def _legacy(self, result: DiscoveryResult) -> None:
        response = result.response
        rows = []
        if response is not None:
            for proto in response.legacy:
                for key, value in proto.settings:
                    rows.append((proto.type, key, value))
        self.legacy.set_rows(rows)
        self.legacy_view.resizeColumnToContents(0)
        self.legacy_view.resizeColumnToContents(1)
        legacy_only = bool(rows) and (response is None or response.mapi_http is None)
        self.legacy_box.setVisible(legacy_only)
        self.endpoints_box.setVisible(not legacy_only)

    def _comparison(self, found: Discovered) -> None:
        comparison = found.comparison
        if comparison is None:
            self.comparison_box.setVisible(False)
            self.comparison.clear()
            return
        rows = [(d.field, d.with_header or "—", d.without_header or "—") for d in comparison.differences]
        self.comparison.set_rows(rows)
        self.comparison_view.setColumnWidth(0, 170)
        self.comparison_view.setColumnWidth(1, 150)
        notes = [f.message for f in comparison.findings] or ["The two answers are the same."]
        self.comparison_note.setText("\n".join(notes))
        self.comparison_box.setVisible(True)

    def copy_endpoints(self) -> None:
        rows = (
            self.endpoints_view.selectionModel().selectedRows()
            if self.endpoints_view.selectionModel()
            else []
        )
        if rows:
            text = self.endpoints.rows[rows[0].row()][2]
        else:
            text = "\n".join(f"{e}\t{w}\t{u}" for e, w, u in self.endpoints.rows)
        QGuiApplication.clipboard().setText(text)


def _attempt_row(attempt: Attempt) -> tuple[str, str, str, str, str]:
    status = str(attempt.http_status) if attempt.http_status is not None else ""
    time = f"{attempt.elapsed_ms:.0f} ms" if attempt.elapsed_ms is not None else ""
    outcome = attempt.outcome.value
    if attempt.detail:
        outcome = f"{outcome}: {attempt.detail}"
    return (attempt.method, redact_url(attempt.url), status, time, outcome)
