"""The Address Book table: the whole chosen address list, its rows read by position as they are shown.

``rowCount`` is the list's total (NSPI's STAT TotalRecs), so the scroll bar is true from the start. When the
view asks for a row that is not cached, :meth:`GalModel.data` shows a placeholder and asks the
:class:`PageFetcher` for the page holding it; the fetcher reads pages on its own thread (QueryRows with
absolute positioning, MS-OXNSPI 3.1.4.5.1: nothing before the page is read) newest request first, so a
scroll-bar drag to the middle of a 100,000-entry GAL fills the rows in view first, and abandons the pages the
view has already left. Pages land in a bounded LRU cache (:attr:`GalModel.max_pages`), so memory stays
bounded however far the user scrolls. A page that fails shows one disabled row per entry saying why; the model
never opens a dialog (Anki's browser table does the same).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush

if TYPE_CHECKING:
    from mapiprobe.session.addressbook import AbEntry

Index = QModelIndex | QPersistentModelIndex

GAL_COLUMNS = ("Name", "E-mail address", "Title", "Department", "Office", "Phone", "Type")
PLACEHOLDER = "…"
PageReader = Callable[[int, int, int], Sequence["AbEntry"]]
"""``read(container_id, start, count)`` -> the entries (runs on the fetcher's thread)."""


class PageFetcher(QObject):
    """Reads pages on one background thread, the most recently wanted first. Results come back as signals
    (delivered in the main thread). ``max_queue`` bounds the waiting requests: older ones are dropped (the
    view
    has scrolled past them; it asks again if it comes back)."""

    pageReady = Signal(int, int, object)  # generation, page number, entries
    pageFailed = Signal(int, int, str)  # generation, page number, message

    def __init__(self, reader: PageReader, *, page_size: int, max_queue: int = 6, parent: Any = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.page_size = page_size
        self.max_queue = max_queue
        self._wanted: deque[tuple[int, int, int]] = deque()  # (generation, container, page)
        # Pages being read, or read and not yet taken by the model (settle()): a wish for one of them is not
        # queued again, so a row painted while its page is on the way costs no second read.
        self._in_flight: set[tuple[int, int, int]] = set()
        self._cond = threading.Condition()
        self._stop = False
        self.reads = 0
        self._thread = threading.Thread(target=self._loop, name="gal-pages", daemon=True)
        self._thread.start()

    def want(self, generation: int, container_id: int, page: int) -> None:
        with self._cond:
            key = (generation, container_id, page)
            if key in self._in_flight:
                return
            if key in self._wanted:
                self._wanted.remove(key)
            self._wanted.append(key)
            while len(self._wanted) > self.max_queue:
                self._wanted.popleft()
            self._cond.notify()

    def settle(self, generation: int, container_id: int, page: int) -> None:
        """The model took the answer for this page (or its failure): a later wish reads it again."""
        with self._cond:
            self._in_flight.discard((generation, container_id, page))

    def forget(self) -> None:
        with self._cond:
            self._wanted.clear()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._wanted.clear()
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                generation, container, page = self._wanted.pop()  # newest first
                self._in_flight.add((generation, container, page))
            try:
                entries = self.reader(container, page * self.page_size, self.page_size)
            except Exception as exc:  # shown in the rows of that page, in words
                message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                if not self._stop:
                    self.pageFailed.emit(generation, page, str(message))
                continue
            self.reads += 1
            if not self._stop:
                self.pageReady.emit(generation, page, list(entries))


class GalModel(QAbstractTableModel):
    """The rows of one address list, by position. ``AbEntry`` under ``UserRole`` (None while pending)."""

    pageLoaded = Signal(int)  # page number, after its rows changed

    def __init__(
        self, fetcher: PageFetcher | None = None, *, max_pages: int = 40, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.fetcher: PageFetcher | None = None
        self.page_size = 50
        self.max_pages = max_pages
        self.total = 0
        self.container_id = 0
        self.generation = 0
        self._pages: OrderedDict[int, list[AbEntry]] = OrderedDict()
        self._errors: dict[int, str] = {}
        self._asked: set[int] = set()
        if fetcher is not None:
            self.set_fetcher(fetcher)

    def set_fetcher(self, fetcher: PageFetcher | None) -> None:
        if self.fetcher is not None:
            self.fetcher.pageReady.disconnect(self._on_page)
            self.fetcher.pageFailed.disconnect(self._on_failed)
        self.fetcher = fetcher
        if fetcher is not None:
            self.page_size = fetcher.page_size
            fetcher.pageReady.connect(self._on_page)
            fetcher.pageFailed.connect(self._on_failed)

    def set_list(self, container_id: int, total: int) -> None:
        """Show the list ``container_id`` with ``total`` rows (nothing is read until rows are shown)."""
        self.beginResetModel()
        self.generation += 1
        self.container_id = container_id
        self.total = max(0, total)
        self._pages.clear()
        self._errors.clear()
        self._asked.clear()
        if self.fetcher is not None:
            self.fetcher.forget()
        self.endResetModel()

    def clear(self) -> None:
        self.set_list(0, 0)

    @property
    def cached_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def is_loaded(self, row: int) -> bool:
        return row // self.page_size in self._pages

    def entry(self, row: int) -> AbEntry | None:
        page = self._pages.get(row // self.page_size)
        if page is None:
            return None
        offset = row % self.page_size
        return page[offset] if offset < len(page) else None

    # -- Qt ------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(GAL_COLUMNS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.row() // self.page_size in self._errors:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.total:
            return None
        row = index.row()
        page_no = row // self.page_size
        page = self._pages.get(page_no)
        if page is not None:
            self._pages.move_to_end(page_no)
            offset = row % self.page_size
            entry = page[offset] if offset < len(page) else None
            if role == Qt.ItemDataRole.UserRole:
                return entry
            if role == Qt.ItemDataRole.DisplayRole:
                return _cell(entry, index.column()) if entry is not None else ""
            return None
        error = self._errors.get(page_no)
        if error is not None:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"(could not read these rows: {error})" if index.column() == 0 else ""
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(Qt.GlobalColor.gray)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            self._ask(page_no)
            return PLACEHOLDER if index.column() == 0 else ""
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(Qt.GlobalColor.gray)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(GAL_COLUMNS):
            return GAL_COLUMNS[section]
        return None

    # -- pages ---------------------------------------------------------------------------------------

    def _ask(self, page_no: int) -> None:
        if self.fetcher is None:
            return
        # Asked again each time the row is painted while pending: the fetcher keeps the newest wishes first.
        self._asked.add(page_no)
        self.fetcher.want(self.generation, self.container_id, page_no)

    @Slot(int, int, object)
    def _on_page(self, generation: int, page_no: int, entries: list[AbEntry]) -> None:
        if generation != self.generation:
            return
        if self.fetcher is not None:
            self.fetcher.settle(generation, self.container_id, page_no)
        first = page_no * self.page_size
        if first >= self.total:
            return
        self._asked.discard(page_no)
        self._errors.pop(page_no, None)
        self._pages[page_no] = entries
        self._pages.move_to_end(page_no)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        last = min(self.total, first + self.page_size) - 1
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(GAL_COLUMNS) - 1))
        self.pageLoaded.emit(page_no)

    @Slot(int, int, str)
    def _on_failed(self, generation: int, page_no: int, message: str) -> None:
        if generation != self.generation:
            return
        if self.fetcher is not None:
            self.fetcher.settle(generation, self.container_id, page_no)
        first = page_no * self.page_size
        if first >= self.total:
            return
        self._asked.discard(page_no)
        self._errors[page_no] = message
        last = min(self.total, first + self.page_size) - 1
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(GAL_COLUMNS) - 1))


def _cell(entry: AbEntry, column: int) -> str:
    if column == 0:
        return entry.display_name or ""
    if column == 1:
        return entry.smtp_address or ""
    if column == 2:
        return entry.title or ""
    if column == 3:
        return entry.department or ""
    if column == 4:
        return entry.office or ""
    if column == 5:
        return entry.phone or ""
    return _type_word(entry)


def _type_word(entry: AbEntry) -> str:
    name = entry.display_type_name or ""
    return {
        "DT_MAILUSER": "User",
        "DT_DISTLIST": "Distribution list",
        "DT_ROOM": "Room",
        "DT_EQUIPMENT": "Equipment",
        "DT_REMOTE_MAILUSER": "Contact",
        "DT_PRIVATE_DISTLIST": "Private list",
    }.get(name, name.removeprefix("DT_").replace("_", " ").title())
