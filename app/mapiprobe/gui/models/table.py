"""A read-only table model over rows of text: the Autodiscover attempts and endpoints, a property grid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """Rows of strings under fixed column titles. ``bold_rows`` are drawn bold (the Autodiscover winner),
    ``tooltips`` give a cell's full text where it is long; ``user_data`` keeps one object per row."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = tuple(headers)
        self.rows: list[tuple[str, ...]] = []
        self.user_data: list[Any] = []
        self.bold_rows: set[int] = set()
        self.muted_rows: set[int] = set()

    def set_rows(
        self,
        rows: Sequence[Sequence[str]],
        *,
        user_data: Sequence[Any] | None = None,
        bold: Sequence[int] = (),
        muted: Sequence[int] = (),
    ) -> None:
        self.beginResetModel()
        width = len(self.headers)
        self.rows = [tuple((list(r) + [""] * width)[:width]) for r in rows]
        self.user_data = list(user_data) if user_data is not None else [None] * len(self.rows)
        self.bold_rows = set(bold)
        self.muted_rows = set(muted)
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows([])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[row][col]
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self.rows[row][col]
            return text if len(text) > 40 else None
        if role == Qt.ItemDataRole.FontRole and row in self.bold_rows:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and row in self.muted_rows:
            return QBrush(Qt.GlobalColor.gray)
        if role == Qt.ItemDataRole.UserRole:
            return self.user_data[row]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self.headers):
            return self.headers[section]
        return None
