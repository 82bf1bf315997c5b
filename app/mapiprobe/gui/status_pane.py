"""The Connection Status pane (always visible under the tabs): one row per endpoint session, Reconnect, and
"Copy as text" for a ticket. The rows come from :mod:`mapiprobe.session.status`; this pane only shows them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from mapiprobe.gui.models.connection_status import ConnectionStatusModel
from mapiprobe.gui.tabs.common import table_view


class _MiddleElide(QStyledItemDelegate):
    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class StatusPane(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Connection Status", parent)
        self.model = ConnectionStatusModel(self)
        self.view = table_view(self.model, "connectionStatusTable", self, stretch=-1)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicatorShown(True)
        self.view.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # Type: Mail, then Directory
        # Server name is elided in the middle: the host and the end of the MailboxId stay visible.
        self.view.setItemDelegateForColumn(0, _MiddleElide(self.view))
        for column, width in enumerate((250, 130, 100, 65, 70, 50, 60, 190, 95, 70, 60, 65, 65, 90)):
            self.view.setColumnWidth(column, width)
        self.reconnect = QPushButton("Reconnect", self)
        self.reconnect.setObjectName("reconnectButton")
        self.reconnect.setToolTip("Close both sessions and connect again (Ctrl+R)")
        self.reconnect.setEnabled(False)
        self.copy = QPushButton("Copy as text", self)
        self.copy.setObjectName("copyStatusButton")
        self.copy.setToolTip("Copy the table as plain text for a ticket (Ctrl+Shift+C)")
        self.copy.clicked.connect(self.copy_as_text)
        self.summary = QLabel(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.reconnect)
        buttons.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def copy_as_text(self) -> str:
        text = self.model.as_text()
        QGuiApplication.clipboard().setText(text)
        return text
