"""The GUI's item models on their own (no network): qtmodeltester on each, the GAL's paging by position into a
bounded cache, the folder tree's lazy branches, contents paging, sorting and text of Connection Status, the
Requests table and its details pane."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt

from mapiprobe.gui.models.connection_status import ConnectionStatusModel
from mapiprobe.gui.models.folders import ContentsModel, FolderTreeModel, property_rows
from mapiprobe.gui.models.gal import PLACEHOLDER, GalModel, PageFetcher
from mapiprobe.gui.models.requests import RequestsModel, describe_record
from mapiprobe.gui.models.table import RowsModel
from mapiprobe.protocol.properties import FolderId, PropertyTag, PropertyValue
from mapiprobe.session.addressbook import AbEntry
from mapiprobe.session.mailbox import Folder, MessageSummary
from mapiprobe.session.state import SessionState
from mapiprobe.session.status import COLUMNS, MAIL, EndpointSession, status_row
from mapiprobe.transport.trace import TraceRecord

DISPLAY = Qt.ItemDataRole.DisplayRole


def entry(n: int) -> AbEntry:
    return AbEntry(f"Person {n:06d}", f"p{n}@contoso.test", None, None, None, None, 0, 1000 + n)


class Reader:
    """Reads pages of a synthetic list, remembering which were asked (on the fetcher's thread)."""

    def __init__(
        self,
        total: int,
        *,
        fail_at: int | None = None,
        delay: float = 0.0,
        gate: threading.Event | None = None,
    ) -> None:
        self.total = total
        self.gate = gate  # when given, every read waits until it is set
        self.fail_at = fail_at
        self.delay = delay
        self.calls: list[tuple[int, int, int]] = []
        self.lock = threading.Lock()

    def __call__(self, container: int, start: int, count: int) -> list[AbEntry]:
        with self.lock:
            self.calls.append((container, start, count))
        if self.gate is not None:
            self.gate.wait(5)
        time.sleep(self.delay)
        if self.fail_at is not None and start <= self.fail_at < start + count:
            raise RuntimeError("the server refused QueryRows")
        return [entry(n) for n in range(start, min(self.total, start + count))]


def test_gal_rows_are_fetched_by_position_into_a_bounded_cache(qtbot, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    reader = Reader(100_000)
    fetcher = PageFetcher(reader, page_size=50)
    model = GalModel(fetcher, max_pages=4)
    try:
        model.set_list(0, 100_000)
        assert model.rowCount() == 100_000
        # A row in the middle: a placeholder at once, the real row after one page read at its position.
        assert model.index(50_010, 0).data(DISPLAY) == PLACEHOLDER
        qtbot.waitUntil(lambda: model.index(50_010, 0).data(DISPLAY) == "Person 050010", timeout=3000)
        assert reader.calls == [(0, 50_000, 50)]  # nothing before the page was read
        assert model.index(50_010, 1).data(DISPLAY) == "p50010@contoso.test"
        # Touch more pages than the cache holds: the oldest are dropped.
        for page in range(10):
            model.index(page * 50, 0).data(DISPLAY)
            qtbot.waitUntil(lambda p=page: model.is_loaded(p * 50), timeout=3000)
        assert model.cached_rows <= 4 * 50
        assert not model.is_loaded(50_010)
        model.set_list(0, 120)  # the model tester walks every row: a short list
        qtmodeltester.check(model)
    finally:
        fetcher.stop()


def test_gal_fetcher_serves_the_newest_wish_first(qtbot) -> None:  # type: ignore[no-untyped-def]
    # The reader is held during the drag, so the drag is "fast" however slowly this machine runs the loop.
    gate = threading.Event()
    reader = Reader(10_000, delay=0.05, gate=gate)
    fetcher = PageFetcher(reader, page_size=50, max_queue=3)
    model = GalModel(fetcher)
    try:
        model.set_list(0, 10_000)
        for row in range(0, 10_000, 500):  # a fast drag: 20 pages wished for, only the last 3 kept
            model.index(row, 0).data(DISPLAY)
        gate.set()
        qtbot.waitUntil(lambda: model.is_loaded(9_500), timeout=3000)
        qtbot.wait(200)
        starts = [start for _, start, _ in reader.calls]
        # At most one read began during the drag (the fetcher may wake at the first wishes and take the
        # newest of them then); after it, only the newest three wishes, the most recent first.
        assert len(starts) <= 4
        assert starts[-3:] == [9_500, 9_000, 8_500]
    finally:
        fetcher.stop()


def test_gal_failed_page_shows_disabled_rows(qtbot) -> None:  # type: ignore[no-untyped-def]
    fetcher = PageFetcher(Reader(200, fail_at=60), page_size=50)
    model = GalModel(fetcher)
    try:
        model.set_list(0, 200)
        model.index(60, 0).data(DISPLAY)
        qtbot.waitUntil(lambda: "could not read" in str(model.index(60, 0).data(DISPLAY)), timeout=3000)
        assert "the server refused QueryRows" in model.index(60, 0).data(DISPLAY)
        assert not model.flags(model.index(60, 0)) & Qt.ItemFlag.ItemIsEnabled
        assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEnabled
    finally:
        fetcher.stop()


def folder(path: str, fid: int, children: tuple[Folder, ...] = (), unread: int = 0, total: int = 0) -> Folder:
    return Folder(
        path,
        FolderId.from_parts(1, fid),
        path.rsplit("/", 1)[-1],
        total,
        unread,
        bool(children),
        None,
        children,
    )


def tree() -> Folder:
    projects = folder("Inbox/Projects", 11, total=3)
    inbox = folder("Inbox", 10, (projects,), unread=2, total=5)
    return folder("", 1, (inbox, folder("Sent Items", 12, total=1)))


def test_folder_tree_inserts_branches_lazily(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = FolderTreeModel()
    model.set_tree(tree())
    assert model.rowCount() == 2
    inbox = model.index(0, 0)
    assert inbox.data(DISPLAY) == "Inbox"
    assert model.index(0, 1).data(DISPLAY) == "2"
    assert model.index(0, 2).data(DISPLAY) == "5"
    assert model.hasChildren(inbox)
    assert model.rowCount(inbox) == 0  # not inserted until the branch is expanded
    assert model.canFetchMore(inbox)
    model.fetchMore(inbox)
    assert model.rowCount(inbox) == 1
    assert model.index(0, 0, inbox).data(DISPLAY) == "Projects"
    assert model.find("Inbox/Projects").data(Qt.ItemDataRole.UserRole).folder_id == FolderId.from_parts(1, 11)
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Unread"
    qtmodeltester.check(model)


def test_contents_model_pages(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = ContentsModel()
    inbox = tree().children[0]
    asked: list[int] = []
    model.loader = asked.append
    model.reset(inbox)
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert asked == [0] and not model.canFetchMore(QModelIndex())  # one request at a time
    items = [
        MessageSummary(None, f"Subject {i}", "Bob", None, 2048, "IPM.Note", i % 2 == 0) for i in range(3)
    ]
    model.append(inbox, items, 5)
    assert model.rowCount() == 3
    assert model.index(1, 0).data(DISPLAY) == "Subject 1"
    assert model.index(1, 3).data(DISPLAY) == "2 KB"
    assert model.canFetchMore(QModelIndex())
    model.append(tree().children[1], items, 5)  # a late page of another folder is ignored
    assert model.rowCount() == 3
    qtmodeltester.check(model)


def test_property_rows_show_binary_as_hex() -> None:
    rows = property_rows(
        [
            PropertyValue(PropertyTag(0x0FFF0102), b"\x00\x01\xab"),
            PropertyValue(PropertyTag(0x3001001F), "Inbox"),
        ]
    )
    assert rows[0] == ("0x0FFF0102", "PidTagEntryId", "PtypBinary", "00 01 AB")
    assert rows[1][1:] == ("PidTagDisplayName", "PtypString", "Inbox")


def rec(seq: int, **kw: object) -> TraceRecord:
    kw.setdefault("status", 200)
    kw.setdefault("outcome", "ok")
    return TraceRecord(
        seq=seq,
        method="POST",
        url=f"https://mail.contoso.test/mapi/emsmdb/?n={seq}",
        started_at=1000.0 + seq,
        **kw,
    )  # type: ignore[arg-type]


def test_connection_status_model_sorts_and_copies(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = ConnectionStatusModel()
    url = "https://mail.contoso.test/mapi/emsmdb/?n=1"
    rows = [
        status_row(EndpointSession(MAIL, url, state=SessionState.CONNECTED), [rec(1, total_ms=30.0)], now=0),
        status_row(
            EndpointSession(MAIL, "https://b/", state=SessionState.FAILED, error="refused"), [], now=0
        ),
    ]
    model.set_rows(rows)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())] == list(
        COLUMNS
    )
    status = COLUMNS.index("Status")
    assert model.index(0, status).data(DISPLAY) == "Established"
    model.sort(COLUMNS.index("Avg Resp"), Qt.SortOrder.DescendingOrder)
    assert model.index(0, status).data(DISPLAY) == "Established"  # unknown times sort last either way
    model.sort(COLUMNS.index("Status"), Qt.SortOrder.AscendingOrder)
    assert model.index(0, status).data(DISPLAY) == "Established"
    assert model.index(1, status).data(DISPLAY) == "Failed: refused"
    text = model.as_text()
    assert text.splitlines()[0].startswith("Server name")
    qtmodeltester.check(model)


@dataclass(frozen=True)
class BodyRecord(TraceRecord):
    """A record with the body fields the trace is gaining (request_body, response_body...)."""

    request_body: bytes | None = None
    response_body: bytes | None = None
    request_body_truncated: bool = False
    response_body_truncated: bool = False


def test_requests_model_and_details(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from mapiprobe.protocol.emsmdb import ConnectRequest

    model = RequestsModel(limit=3)
    for seq in range(1, 5):
        model.add(rec(seq, request_type="Connect", response_code="0", total_ms=12.0, response_bytes=100))
    assert model.rowCount() == 3  # bounded
    assert model.index(0, 0).data(DISPLAY) == "POST"
    assert model.index(0, 2).data(DISPLAY) == "Connect"
    assert model.index(0, 5).data(DISPLAY) == "12 ms"
    qtmodeltester.check(model)
    plain = describe_record(
        rec(9, request_type="Connect", request_headers=(("Authorization", "Basic [redacted]"),))
    )
    assert "Authorization: Basic [redacted]" in plain
    assert "(not kept in the trace)" in plain
    body = ConnectRequest("/o=contoso/ou=x/cn=Recipients/cn=alice").encode()
    record = BodyRecord(
        seq=10,
        method="POST",
        url="https://mail.contoso.test/mapi/emsmdb/",
        started_at=0.0,
        request_type="Connect",
        request_headers=(("Content-Type", "application/mapi-http"),),
        request_body=body,
        response_body=b"\x00garbage",
    )
    text = describe_record(record)
    assert "cn=alice" in text  # decoded by the Connect request decoder
    assert "does not decode" in text  # the response is not an envelope: the error and a hex dump


def test_rows_model(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = RowsModel(("A", "B"))
    model.set_rows([("1", "2"), ("3",)], bold=[0])
    assert model.index(1, 1).data(DISPLAY) == ""
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()
    qtmodeltester.check(model)
