"""The Address Book tab: the address-list picker, the whole list in one table whose rows are read as they
are shown, "Go to" (SeekEntries), "Check names" (resolved / ambiguous / unresolved), and an entry's
details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mapiprobe.gui.models.folders import PROPERTY_COLUMNS
from mapiprobe.gui.models.gal import GalModel
from mapiprobe.gui.models.table import RowsModel
from mapiprobe.gui.tabs.common import message_label, show_message, table_view

CHECK_COLUMNS = ("Name", "Result", "Display name", "E-mail address")


class AddressBookTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = message_label(self)
        self.list_combo = QComboBox(self)
        self.list_combo.setObjectName("addressListCombo")
        self.list_combo.setMinimumContentsLength(24)
        self.seek_edit = QLineEdit(self)
        self.seek_edit.setObjectName("galSeekEdit")
        self.seek_edit.setPlaceholderText("Type a name and press Enter to jump there")
        self.seek_edit.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        self.gal = GalModel(parent=self)
        self.gal_view = table_view(self.gal, "galTable", self, stretch=-1)
        self.gal_view.verticalHeader().setSectionResizeMode(self.gal_view.verticalHeader().ResizeMode.Fixed)
        for column, width in ((0, 210), (1, 250), (2, 170), (3, 130), (4, 110), (5, 120)):
            self.gal_view.setColumnWidth(column, width)
        self.check_edit = QLineEdit(self)
        self.check_edit.setObjectName("checkNamesEdit")
        self.check_edit.setPlaceholderText("Names or addresses, separated by ;")
        self.check_button = QPushButton("Check Names", self)
        self.check_button.setObjectName("checkNamesButton")
        self.check = RowsModel(CHECK_COLUMNS, self)
        self.check_view = table_view(self.check, "checkNamesResult", self, stretch=3)
        self.details = RowsModel(PROPERTY_COLUMNS, self)
        self.details_view = table_view(self.details, "galDetailsTable", self, stretch=3)
        for column, width in ((0, 95), (1, 230), (2, 110)):
            self.details_view.setColumnWidth(column, width)
        self.details_box = QGroupBox("Details", self)
        QVBoxLayout(self.details_box).addWidget(self.details_view)

        top = QHBoxLayout()
        top.addWidget(QLabel("Address list:", self))
        top.addWidget(self.list_combo)
        top.addSpacing(12)
        top.addWidget(QLabel("Go to:", self))
        top.addWidget(self.seek_edit, 1)
        top.addWidget(self.count_label)
        list_box = QWidget(self)
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addLayout(top)
        list_layout.addWidget(self.gal_view, 1)

        check_box = QGroupBox("Check names", self)
        check_layout = QVBoxLayout(check_box)
        row = QHBoxLayout()
        row.addWidget(self.check_edit, 1)
        row.addWidget(self.check_button)
        check_layout.addLayout(row)
        check_layout.addWidget(self.check_view)
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(check_box)
        lower.addWidget(self.details_box)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(list_box)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)

    def clear(self) -> None:
        show_message(self.message, "")
        self.list_combo.blockSignals(True)
        self.list_combo.clear()
        self.list_combo.blockSignals(False)
        self.gal.clear()
        self.check.clear()
        self.details.clear()
        self.count_label.setText("")

    def show_error(self, text: str) -> None:
        show_message(self.message, text, "error")

    def show_info(self, text: str, kind: str = "info") -> None:
        show_message(self.message, text, kind)
