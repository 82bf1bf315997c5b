"""The Folders tab: the folder tree (unread / total), the selected folder's contents (read as you scroll),
and a property grid for the selected folder or item (tag, name, type, value; binary as hex)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from mapiprobe.gui.models.folders import PROPERTY_COLUMNS, ContentsModel, FolderTreeModel
from mapiprobe.gui.models.table import RowsModel
from mapiprobe.gui.tabs.common import message_label, show_message, table_view


class FoldersTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = message_label(self)
        self.tree = FolderTreeModel(self)
        self.tree_view = QTreeView(self)
        self.tree_view.setObjectName("folderTree")
        self.tree_view.setModel(self.tree)
        self.tree_view.setUniformRowHeights(True)
        self.tree_view.setAlternatingRowColors(True)
        self.tree_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.contents = ContentsModel(self)
        self.contents_view = table_view(self.contents, "contentsTable", self, stretch=0)
        self.properties = RowsModel(PROPERTY_COLUMNS, self)
        self.properties_view = table_view(self.properties, "propertiesTable", self, stretch=3)
        for column, width in ((0, 95), (1, 230), (2, 110)):
            self.properties_view.setColumnWidth(column, width)
        self.properties_box = QGroupBox("Properties", self)
        QVBoxLayout(self.properties_box).addWidget(self.properties_view)
        self.contents_box = QGroupBox("Contents", self)
        QVBoxLayout(self.contents_box).addWidget(self.contents_view)
        tree_box = QGroupBox("Folders", self)
        QVBoxLayout(tree_box).addWidget(self.tree_view)

        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.contents_box)
        right.addWidget(self.properties_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(tree_box)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([320, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)

    def clear(self) -> None:
        show_message(self.message, "")
        self.tree.set_tree(None)
        self.contents.reset(None)
        self.properties.clear()
        self.contents_box.setTitle("Contents")
        self.properties_box.setTitle("Properties")

    def show_error(self, text: str) -> None:
        show_message(self.message, text, "error")

    def show_info(self, text: str, kind: str = "info") -> None:
        show_message(self.message, text, kind)

    def fit_contents(self) -> None:
        view = self.contents_view
        for column, width in ((1, 200), (2, 130), (3, 70), (4, 140)):
            view.setColumnWidth(column, width)
