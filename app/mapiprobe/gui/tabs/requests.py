"""The Requests tab: every HTTP exchange (table), the same exchanges over time (waterfall), and the selected
one's headers and decoded bodies."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QGroupBox, QPlainTextEdit, QScrollArea, QSplitter, QVBoxLayout, QWidget

from mapiprobe.gui.models.requests import RequestsModel, describe_record
from mapiprobe.gui.tabs.common import monospace, table_view
from mapiprobe.gui.waterfall import WaterfallView
from mapiprobe.transport.trace import TraceRecord


class RequestsTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RequestsModel(self)
        self.view = table_view(self.model, "requestsTable", self, stretch=1)
        for column, width in ((0, 60), (2, 150), (3, 60), (4, 110), (5, 80), (6, 80)):
            self.view.setColumnWidth(column, width)
        self.waterfall = WaterfallView(self)
        self.waterfall.setObjectName("waterfallView")
        self.waterfall_scroll = QScrollArea(self)
        self.waterfall_scroll.setWidget(self.waterfall)
        self.waterfall_scroll.setWidgetResizable(True)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("requestDetails")
        self.details.setReadOnly(True)
        self.details.setFont(monospace())
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setPlaceholderText("Select a request to see its headers and decoded bodies.")

        table_box = QGroupBox("HTTP exchanges", self)
        QVBoxLayout(table_box).addWidget(self.view)
        fall_box = QGroupBox("Waterfall: connect · TLS · wait · download", self)
        QVBoxLayout(fall_box).addWidget(self.waterfall_scroll)
        details_box = QGroupBox("Details", self)
        QVBoxLayout(details_box).addWidget(self.details)
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(table_box)
        left.addWidget(fall_box)
        left.setSizes([260, 200])
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(details_box)
        split.setSizes([760, 500])
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        self.model.rowsInserted.connect(self._rows_inserted)
        self.model.modelReset.connect(lambda: self.waterfall.set_records([]))
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.waterfall.recordClicked.connect(self._waterfall_clicked)

    def add(self, record: TraceRecord) -> None:
        self.model.add(record)

    def clear(self) -> None:
        self.model.clear()
        self.details.setPlainText("")

    def _rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self.waterfall.set_records(self.model.records)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            return
        record = self.model.records[current.row()]
        self.details.setPlainText(describe_record(record))
        self.waterfall.select(current.row())

    def _waterfall_clicked(self, row: int) -> None:
        self.view.selectRow(row)
