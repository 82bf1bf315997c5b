"""The Connection Status table: an adapter over :class:`mapiprobe.session.status.StatusRow` (computed outside
Qt, so the diagnosis report shows the same rows). Sorting by any column uses the rows' own sort keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from mapiprobe.session.status import COLUMNS, StatusRow, format_status_table

Index = QModelIndex | QPersistentModelIndex
_STATUS = COLUMNS.index("Status")


class ConnectionStatusModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[StatusRow] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None

    def set_rows(self, rows: Sequence[StatusRow]) -> None:
        """Replace the rows. Same number of rows: cells change in place (the selection stays)."""
        new = list(rows)
        if self._sort is not None:
            new = [new[i] for i in self._order(new, *self._sort)]
        if len(new) == len(self.rows) and self.rows:
            self.rows = new
            self.dataChanged.emit(self.index(0, 0), self.index(len(new) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.rows = new
        self.endResetModel()

    def as_text(self) -> str:
        return format_status_table(self.rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row.values()[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == _STATUS:
            if row.status == "Established":
                return QBrush(QColor("#2e7d32"))
            if row.status.startswith(("Failed", "Not connected", "Expired")):
                return QBrush(QColor("#c62828"))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    @staticmethod
    def _order(rows: Sequence[StatusRow], column: int, order: Qt.SortOrder) -> list[int]:
        """Row numbers in sorted order; rows whose value is unknown go last in either direction."""
        keys = [r.sort_key(column) for r in rows]
        known = [i for i, k in enumerate(keys) if not k[0]]
        unknown = [i for i, k in enumerate(keys) if k[0]]
        known.sort(key=lambda i: keys[i][1], reverse=order == Qt.SortOrder.DescendingOrder)
        return known + unknown

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = list(self.rows)
        order_of = self._order(old, column, order)
        self.rows = [old[i] for i in order_of]
        new_row = {old_row: new for new, old_row in enumerate(order_of)}
        for persistent in self.persistentIndexList():
            moved = self.index(new_row[persistent.row()], persistent.column())
            self.changePersistentIndex(persistent, moved)
        self.layoutChanged.emit()
