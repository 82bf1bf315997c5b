"""The Folders tab's models: the folder tree (children inserted as a branch is expanded), a folder's contents
(rows appended page by page as the view scrolls: ``canFetchMore`` / ``fetchMore``) and the property grid rows.

The tree comes from one hierarchy-table read (:meth:`MailboxSession.folder_tree`, RopGetHierarchyTable with
Depth); the model inserts a branch's rows only when the view asks (``fetchMore``), so a mailbox with thousands
of folders opens at once. Contents pages are read by the window's workers; the model only says what it needs
(``loader(offset)``) and takes what arrives (:meth:`ContentsModel.append`). Neither model touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

if TYPE_CHECKING:  # only types: the session layer loads on first use
    from mapiprobe.protocol.properties import PropertyValue
    from mapiprobe.session.mailbox import Folder, MessageSummary

Index = QModelIndex | QPersistentModelIndex

FOLDER_COLUMNS = ("Folder", "Unread", "Total")
CONTENTS_COLUMNS = ("Subject", "From", "Received", "Size", "Class")
PROPERTY_COLUMNS = ("Tag", "Name", "Type", "Value")


class _Node:
    __slots__ = ("children", "folder", "loaded", "parent", "row")

    def __init__(self, folder: Folder | None, parent: _Node | None, row: int) -> None:
        self.folder = folder
        self.parent = parent
        self.row = row
        self.children: list[_Node] = []
        self.loaded = False

    @property
    def pending(self) -> tuple[Folder, ...]:
        return self.folder.children if self.folder is not None else ()


class FolderTreeModel(QAbstractItemModel):
    """The IPM subtree's folders with unread and total counts; ``Folder`` objects under ``UserRole``."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._root = _Node(None, None, 0)
        self._root.loaded = True

    def set_tree(self, tree: Folder | None) -> None:
        self.beginResetModel()
        self._root = _Node(tree, None, 0)
        self._root.loaded = tree is None
        if tree is not None:
            # The top level is inserted now; deeper levels when their branch is expanded.
            self._root.children = [_Node(f, self._root, i) for i, f in enumerate(tree.children)]
            self._root.loaded = True
        self.endResetModel()

    def _node(self, index: Index) -> _Node:
        if index.isValid():
            node = index.internalPointer()
            assert isinstance(node, _Node)
            return node
        return self._root

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node(parent)
        if not (0 <= row < len(node.children) and 0 <= column < len(FOLDER_COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._node(index).parent
        if node is None or node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(FOLDER_COLUMNS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        return bool(node.children) or (not node.loaded and bool(node.pending))

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        return not node.loaded and bool(node.pending)

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if node.loaded:
            return
        node.loaded = True
        pending = node.pending
        if not pending:
            return
        self.beginInsertRows(parent, 0, len(pending) - 1)
        node.children = [_Node(f, node, i) for i, f in enumerate(pending)]
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        folder = self._node(index).folder
        if folder is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return folder.display_name
            value = folder.unread_count if column == 1 else folder.content_count
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.FontRole and column == 0 and folder.unread_count:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return f"{folder.path}\n{folder.container_class or 'IPF.Note'} · FID {folder.folder_id}"
        if role == Qt.ItemDataRole.UserRole:
            return folder
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(FOLDER_COLUMNS):
            return FOLDER_COLUMNS[section]
        return None

    def find(self, path: str) -> QModelIndex:
        """The index of the folder at ``path`` (``Inbox/Projects``), fetching branches on the way."""
        parent = QModelIndex()
        found = QModelIndex()
        for part in path.split("/"):
            if self.canFetchMore(parent):
                self.fetchMore(parent)
            node = self._node(parent)
            match = next((c for c in node.children if c.folder and c.folder.display_name == part), None)
            if match is None:
                return QModelIndex()
            found = self.createIndex(match.row, 0, match)
            parent = found
        return found


class ContentsModel(QAbstractTableModel):
    """One folder's items, newest first as the server sorts them. Rows arrive a page at a time:
    ``fetchMore`` calls ``loader(offset)``, and the window's worker hands the page back to :meth:`append`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[MessageSummary] = []
        self.total = 0
        self.folder: Folder | None = None
        self.loader: Callable[[int], None] | None = None
        self.loading = False
        self.error: str | None = None

    def reset(self, folder: Folder | None) -> None:
        self.beginResetModel()
        self.folder = folder
        self.items = []
        self.total = folder.content_count or 0 if folder is not None else 0
        self.loading = False
        self.error = None
        self.endResetModel()

    def append(self, folder: Folder, items: Sequence[MessageSummary], total: int) -> None:
        """Rows that a worker read for ``folder`` (ignored when another folder is shown by now)."""
        if folder is not self.folder:
            return
        self.loading = False
        self.total = total
        new = list(items)
        if not new:
            self.total = len(self.items)
            return
        first = len(self.items)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self.items.extend(new)
        self.endInsertRows()

    def failed(self, folder: Folder, message: str) -> None:
        if folder is self.folder:
            self.loading = False
            self.error = message

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(CONTENTS_COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self.folder is None or self.loading or self.error is not None:
            return False
        return len(self.items) < self.total

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent) or self.loader is None:
            return
        self.loading = True
        self.loader(len(self.items))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return item.subject or "(no subject)"
            if column == 1:
                return item.sender or ""
            if column == 2:
                return item.received.strftime("%Y-%m-%d %H:%M") if item.received else ""
            if column == 3:
                return "" if item.size is None else f"{max(1, round(item.size / 1024))} KB"
            return item.message_class or ""
        if role == Qt.ItemDataRole.FontRole and item.read is False:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(CONTENTS_COLUMNS):
            return CONTENTS_COLUMNS[section]
        return None


def property_rows(values: Iterable[PropertyValue]) -> list[tuple[str, str, str, str]]:
    """Rows of the property grid: tag, name, type, value (binary as hex, errors by name)."""
    from mapiprobe.protocol.properties import type_name

    rows = []
    for pv in values:
        tag = int(pv.tag)
        rows.append((f"0x{tag:08X}", pv.tag.name or "", type_name(pv.tag.prop_type), format_value(pv.value)))
    return rows


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        text = data[:256].hex(" ").upper()
        return f"{text} …" if len(data) > 256 else text
    method = getattr(value, "__json__", None)
    if callable(method):
        shown = method()
        return str(shown)
    if isinstance(value, tuple | list):
        return "; ".join(format_value(v) for v in value)
    return str(value)
