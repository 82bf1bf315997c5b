"""The window's work: one run (Autodiscover, then the mailbox and address book sessions) and what the tabs ask
for afterwards (a folder's contents, properties, GAL pages, seeks, check names, details).

Every network call goes through :class:`~mapiprobe.gui.workers.Runner` (never the Qt main thread); results
come back in the main thread and go to the tab they concern, errors as sentences in that tab's message line.
Stop cancels everything in flight (the sessions' cancel event) and closes the sessions in the background.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from mapiprobe.gui.models.folders import property_rows
from mapiprobe.gui.models.gal import PageFetcher
from mapiprobe.gui.models.requests import TraceBridge
from mapiprobe.gui.run import (
    Account,
    AddressBookOpened,
    Discovered,
    address_book_url,
    discover,
    explain,
    mailbox_target,
    open_address_book,
    open_mailbox,
    route_problem,
)
from mapiprobe.gui.workers import AskMainThread, Runner
from mapiprobe.session.status import (
    DIRECTORY,
    MAIL,
    EndpointSession,
    describe_address_book,
    describe_mailbox,
    describe_rpc_http,
    status_rows,
)
from mapiprobe.transport.trace import Trace

if TYPE_CHECKING:  # the session layer is imported by the first job, not before the window shows
    from mapiprobe.session.addressbook import AbEntry, AddressBookSession
    from mapiprobe.session.autodiscover import ConsentRequest, ProgressEvent
    from mapiprobe.session.mailbox import Folder, MailboxSession, MessageSummary
    from mapiprobe.transport.client import ConnectionOptions

log = logging.getLogger("mapiprobe.gui")

ITEM_PROPERTY_TAGS = (
    0x0037001F,  # PidTagSubject
    0x0C1A001F,  # PidTagSenderName
    0x0E060040,  # PidTagMessageDeliveryTime
    0x0E080003,  # PidTagMessageSize
    0x001A001F,  # PidTagMessageClass
    0x0E070003,  # PidTagMessageFlags
    0x674A0014,  # PidTagMid
    0x0FFF0102,  # PidTagEntryId
    0x30070040,  # PidTagCreationTime
    0x30080040,  # PidTagLastModificationTime
    0x1000001F,  # PidTagBody (first 510 bytes in a table row)
)
CONTENTS_PAGE = 100


class Controller(QObject):
    """Runs the window's work. ``window`` gives the tabs and the account bar (see window.py)."""

    runningChanged = Signal(bool)
    discovered = Signal(object)  # Discovered
    mailboxReady = Signal()
    addressBookReady = Signal()
    statusChanged = Signal(str)

    def __init__(self, window: Any, connection: ConnectionOptions | dict[str, Any]) -> None:
        super().__init__(window)
        self.window = window
        self._connection = connection
        self.runner = Runner(self)
        self.trace = Trace(limit=20000)
        self.bridge: TraceBridge | None = None
        self.account: Account | None = None
        self.found: Discovered | None = None
        self.mailbox: MailboxSession | None = None
        self.book: AddressBookSession | None = None
        self.fetcher: PageFetcher | None = None
        self.static_rows: list[EndpointSession] = []
        self._pending = 0
        self._consent = AskMainThread(self._consent_question, self)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(1000)
        self.status_timer.timeout.connect(self.refresh_status)
        self.status_timer.start()

    @property
    def connection(self) -> ConnectionOptions:
        """The connection options (built on first use: transport/ is imported then, not at start-up)."""
        if isinstance(self._connection, dict):
            from mapiprobe.transport.client import ConnectionOptions

            self._connection = ConnectionOptions(**self._connection)
        return self._connection

    @connection.setter
    def connection(self, value: ConnectionOptions) -> None:
        self._connection = value

    # -- a run ------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._pending > 0

    def _begin(self) -> None:
        self._pending += 1
        if self._pending == 1:
            self.runningChanged.emit(True)

    def _end(self) -> None:
        self._pending = max(0, self._pending - 1)
        if self._pending == 0:
            self.runningChanged.emit(False)
            self.refresh_status()

    def _submit(
        self,
        work: Callable[[threading.Event], Any],
        ok: Callable[[Any], None],
        failed: Callable[[BaseException], None],
        name: str,
        *,
        counts: bool = True,
    ) -> None:
        """Run ``work`` on a worker; ``counts``: the run is "running" (Stop enabled) until it ends."""
        if counts:
            self._begin()

        def then(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            def run(outcome: Any) -> None:
                try:
                    callback(outcome)
                finally:
                    if counts:
                        self._end()

            return run

        self.runner.submit(work, then(ok), then(failed), name=name)

    def start(self, account: Account) -> bool:
        """Begin a run for ``account``; False (and a message) when the input cannot be used."""
        if "@" not in account.email or account.email.startswith("@") or account.email.endswith("@"):
            self.window.autodiscover_tab.show_error(
                "Type the mailbox's e-mail address first (user@example.com)."
            )
            return False
        if account.url and not account.url.lower().startswith("https://"):
            self.window.autodiscover_tab.show_error("The Autodiscover URL must start with https://")
            return False
        self.stop(quiet=True)
        if account.password is not None:
            from mapiprobe.gui.prefs import SECRETS

            SECRETS.add(account.password.reveal())
        self.account = account
        self.found = None
        self.static_rows = []
        self._new_trace()
        self.window.clear_results()
        self.window.autodiscover_tab.show_running(f"Running Autodiscover for {account.email}…")
        self.statusChanged.emit(f"Autodiscover for {account.email}…")
        log.info(
            "start: %s (auth %s, MapiHttpDisabled %s)",
            account.email,
            account.auth,
            account.mapi_http_disabled,
        )
        trace = self.trace

        def work(cancel: threading.Event) -> Discovered:
            return discover(
                account,
                self.connection,
                trace,
                cancel,
                consent=lambda q: bool(self._consent.ask(q, cancel, False)),
                progress=self._progress,
            )

        self._submit(work, self._discovered, self._discovery_failed, "autodiscover")
        return True

    def _new_trace(self) -> None:
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge.deleteLater()
        self.trace = Trace(limit=20000)
        self.bridge = TraceBridge(self.trace, self)
        self.bridge.recordAdded.connect(self.window.requests_tab.add)
        self.window.requests_tab.clear()

    def _progress(self, event: ProgressEvent) -> None:  # worker thread: only emit
        self.statusChanged.emit(event.message)

    def _consent_question(self, request: ConsentRequest) -> bool:
        return self.ask_consent(request)  # looked up each time: a test may replace ask_consent

    def ask_consent(self, request: ConsentRequest) -> bool:
        """Redirect consent, in the main thread: a dialog that names both hosts."""
        account = self.account
        source = account.email.rpartition("@")[2] if account else "the address's domain"
        answer = QMessageBox.question(
            self.window,
            "Allow redirect?",
            f"Autodiscover for {source} wants to send your credentials to another server:\n\n"
            f"    {request.host}\n\n({request.reason})\n\nTarget: {request.target}\n\n"
            f"Only allow this if you trust {request.host} with the password of {source}.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _discovery_failed(self, exc: BaseException) -> None:
        self.window.autodiscover_tab.show_error(f"Autodiscover failed: {explain(exc)}")
        self.statusChanged.emit("Autodiscover failed")

    def _discovered(self, found: Discovered) -> None:
        self.found = found
        self.window.autodiscover_tab.show_result(found)
        self.discovered.emit(found)
        result = found.result
        if result.cancelled:
            return
        self.connect_sessions()
        if result.protocol == "rpcHttp" and mailbox_target(result) is None:
            self._rpc_http_rows(found)

    def _rpc_http_rows(self, found: Discovered) -> None:
        response = found.result.response
        account = self.account
        if response is None or account is None:
            return
        proto = response.protocol("EXHTTP") or response.protocol("EXPR")
        server = proto.server if proto is not None and proto.server else "(no server named)"
        name = response.user.display_name if response.user is not None else ""
        problem = route_problem(found.result)
        reason = f"Autodiscover offered only RPC/HTTP, and its settings cannot be used: {problem}"
        self.static_rows = [
            describe_rpc_http(
                server, MAIL, smtp_address=account.email, display_name=name or "", reason=reason
            ),
            describe_rpc_http(
                server, DIRECTORY, smtp_address=account.email, display_name=name or "", reason=reason
            ),
        ]
        self.window.folders_tab.show_error(
            "No mailbox endpoint: Autodiscover offered RPC/HTTP (Outlook Anywhere) only, and its settings "
            f"cannot be used ({problem}). See Connection Status."
        )
        self.window.address_book_tab.show_error("No MAPI/HTTP address book endpoint (RPC/HTTP only).")
        self.refresh_status()

    def connect_sessions(self) -> None:
        """Open the mailbox and the address book sessions from the last Autodiscover answer."""
        found, account = self.found, self.account
        if found is None or account is None:
            return
        target = mailbox_target(found.result)
        trace, connection = self.trace, self.connection
        if target is not None:
            url, dn = target
            self.window.folders_tab.show_info(f"Connecting to {url}…")

            def mailbox_work(cancel: threading.Event) -> tuple[MailboxSession, Folder]:
                return open_mailbox(account, url, dn, connection, trace, cancel, found.result)

            self._submit(
                mailbox_work, self._mailbox_opened, lambda e: self._mailbox_failed(url, e), "mailbox"
            )
        ab_url = address_book_url(found.result)
        if ab_url:
            self.window.address_book_tab.show_info(f"Connecting to {ab_url}…")

            def book_work(cancel: threading.Event) -> AddressBookOpened:
                return open_address_book(account, ab_url, connection, trace, cancel, found.result)

            self._submit(book_work, self._book_opened, lambda e: self._book_failed(ab_url, e), "address book")

    def _display_name(self) -> str:
        if self.mailbox is not None and self.mailbox.display_name:
            return self.mailbox.display_name
        response = self.found.result.response if self.found is not None else None
        return (
            (response.user.display_name or "") if response is not None and response.user is not None else ""
        )

    def _mailbox_opened(self, value: tuple[MailboxSession, Folder]) -> None:
        self.mailbox, tree = value
        tab = self.window.folders_tab
        tab.show_info("")
        tab.tree.set_tree(tree)
        tab.tree_view.expandToDepth(0)
        count = sum(1 for _ in tree.walk()) - 1
        self.statusChanged.emit(f"Mailbox: {count} folders")
        index = tab.tree.find("Inbox")
        if not index.isValid():
            index = tab.tree.index(0, 0)
        if index.isValid():
            tab.tree_view.setCurrentIndex(index)
        _freeze_long_lived()
        self.mailboxReady.emit()
        self.refresh_status()

    def _mailbox_failed(self, url: str, exc: BaseException) -> None:
        self._session_failed(MAIL, url, exc, self.window.folders_tab, "the mailbox")

    def _session_failed(self, kind: str, url: str, exc: BaseException, tab: Any, what: str) -> None:
        """A session that did not open: the error in its tab, and a failed row in Connection Status."""
        message = explain(exc)
        tab.show_error(f"Could not open {what}: {message}")
        email = self.account.email if self.account else ""
        self.static_rows.append(
            EndpointSession(kind, url, email, self._display_name(), state="failed", error=message)
        )
        self.refresh_status()

    def _book_opened(self, opened: AddressBookOpened) -> None:
        self.book = opened.session
        tab = self.window.address_book_tab
        tab.show_info("")
        if self.fetcher is not None:
            self.fetcher.stop(0.1)
        book = opened.session
        self.fetcher = PageFetcher(
            lambda container, start, count: book.page(container, start=start, count=count).entries,
            page_size=50,
            parent=self,
        )
        tab.gal.set_fetcher(self.fetcher)
        tab.list_combo.blockSignals(True)
        tab.list_combo.clear()
        for entry in opened.lists:
            if entry.has_recipients or entry.container_id == 0:
                tab.list_combo.addItem(
                    ("    " * entry.depth) + (entry.name or "(unnamed)"), entry.container_id
                )
        if tab.list_combo.count() == 0:
            tab.list_combo.addItem("Global Address List", 0)
        tab.list_combo.blockSignals(False)
        tab.gal.set_list(0, opened.gal_total)
        tab.count_label.setText(f"{opened.gal_total:,} entries")
        _freeze_long_lived()
        self.addressBookReady.emit()
        self.refresh_status()

    def _book_failed(self, url: str, exc: BaseException) -> None:
        self._session_failed(DIRECTORY, url, exc, self.window.address_book_tab, "the address book")

    # -- stop, reconnect, quit ----------------------------------------------------------------------

    def stop(self, *, quiet: bool = False) -> None:
        """Cancel what is in flight and close the sessions (in the background). The window stays usable."""
        self.runner.cancel_all()
        was_running = self._pending > 0
        self._pending = 0
        self.runningChanged.emit(False)
        self._close_sessions()
        if was_running and not quiet:
            self.statusChanged.emit("Stopped.")
            tab = self.window.autodiscover_tab
            if self.found is None:
                tab.show_error("Stopped before Autodiscover finished.")
        self.refresh_status()

    def _close_sessions(self, wait: float = 0.0) -> None:
        if self.fetcher is not None:
            self.fetcher.stop(0.0)
            self.window.address_book_tab.gal.set_fetcher(None)
            self.fetcher = None
        sessions: list[Any] = [s for s in (self.mailbox, self.book) if s is not None]
        self.mailbox = None
        self.book = None
        if not sessions:
            return
        # Keep their rows (now Disconnected) in the status table.
        for session in sessions:
            self.static_rows.append(self._describe(session))

        def close_all() -> None:
            for session in sessions:
                try:
                    session.cancel.set()
                    session.close()
                except Exception as exc:  # closing is best effort
                    log.info("closing a session: %s", exc)

        thread = threading.Thread(target=close_all, name="close-sessions", daemon=True)
        thread.start()
        if wait:
            thread.join(wait)

    def reconnect(self) -> None:
        """Close both sessions and open them again from the last Autodiscover answer."""
        if self.found is None:
            return
        self.runner.cancel_all()
        self._pending = 0
        self._close_sessions()
        self.static_rows = []
        self.window.folders_tab.clear()
        self.window.address_book_tab.clear()
        self.connect_sessions()
        self.refresh_status()

    def shutdown(self) -> None:
        self.status_timer.stop()
        self.runner.cancel_all()
        self._close_sessions(wait=3.0)
        self.runner.wait(3000)
        if self.bridge is not None:
            self.bridge.detach()

    # -- Connection Status ------------------------------------------------------------------------------

    def _describe(self, session: Any) -> EndpointSession:
        email = self.account.email if self.account else ""
        if hasattr(session, "folder_tree"):  # a MailboxSession
            return describe_mailbox(session, smtp_address=email)
        return describe_address_book(session, smtp_address=email, display_name=self._display_name())

    def status_sessions(self) -> list[EndpointSession]:
        live = [self._describe(s) for s in (self.mailbox, self.book) if s is not None]
        return [*live, *self.static_rows]

    def refresh_status(self) -> None:
        rows = status_rows(self.status_sessions(), self.trace.records, now=time.time())
        pane = self.window.status_pane
        pane.model.set_rows(rows)
        pane.reconnect.setEnabled(self.found is not None and mailbox_target(self.found.result) is not None)
        established = sum(1 for r in rows if r.status == "Established")
        pane.summary.setText(
            f"{established} of {len(rows)} sessions established" if rows else "No session yet"
        )

    # -- Folders ----------------------------------------------------------------------------------------

    def folder_selected(self, folder: Folder | None) -> None:
        tab = self.window.folders_tab
        tab.contents.reset(folder)
        tab.properties.clear()
        if folder is None or self.mailbox is None:
            return
        tab.contents_box.setTitle(f"Contents of {folder.path} ({folder.content_count or 0} items)")
        tab.properties_box.setTitle(f"Properties of the folder {folder.display_name}")
        mailbox = self.mailbox
        if tab.contents.canFetchMore(QModelIndex()):
            tab.contents.fetchMore(QModelIndex())

        def work(cancel: threading.Event) -> Any:
            return mailbox.folder_properties(folder)

        self._submit(
            work,
            lambda row: tab.properties.set_rows(property_rows(row.values)),
            lambda exc: tab.show_error(f"Reading the folder's properties failed: {explain(exc)}"),
            "folder properties",
            counts=False,
        )

    def load_contents(self, offset: int) -> None:
        """The contents model asks for rows from ``offset`` (it scrolled to the end of what it has)."""
        tab = self.window.folders_tab
        folder, mailbox = tab.contents.folder, self.mailbox
        if folder is None or mailbox is None:
            tab.contents.loading = False
            return

        def work(cancel: threading.Event) -> tuple[list[MessageSummary], int]:
            # The session reads a contents table from its start; ask for what is shown plus a page.
            items, total = mailbox.contents(folder, limit=offset + CONTENTS_PAGE, page_size=CONTENTS_PAGE)
            return items[offset:], total

        def ok(value: tuple[list[MessageSummary], int]) -> None:
            items, total = value
            tab.contents.append(folder, items, total)

        def failed(exc: BaseException) -> None:
            tab.contents.failed(folder, explain(exc))
            tab.show_error(f"Reading the contents of {folder.path} failed: {explain(exc)}")

        self._submit(work, ok, failed, "contents", counts=False)

    def item_selected(self, item: MessageSummary | None) -> None:
        tab = self.window.folders_tab
        folder, mailbox = tab.contents.folder, self.mailbox
        if item is None or item.mid is None or folder is None or mailbox is None:
            return
        tab.properties_box.setTitle(f"Properties of the item {item.subject or item.mid}")
        mid = int(item.mid)

        def work(cancel: threading.Event) -> Any:
            return mailbox.item_properties(folder, mid, ITEM_PROPERTY_TAGS)

        self._submit(
            work,
            lambda row: tab.properties.set_rows(property_rows(row.values)),
            lambda exc: tab.show_error(f"Reading the item's properties failed: {explain(exc)}"),
            "item properties",
            counts=False,
        )

    # -- Address Book -----------------------------------------------------------------------------------

    def list_chosen(self, container_id: int) -> None:
        book, tab = self.book, self.window.address_book_tab
        if book is None:
            return

        def work(cancel: threading.Event) -> int:
            return book.count(container_id)

        def ok(total: int) -> None:
            tab.gal.set_list(container_id, total)
            tab.count_label.setText(f"{total:,} entries")

        self._submit(
            work,
            ok,
            lambda e: tab.show_error(f"Reading the list failed: {explain(e)}"),
            "count",
            counts=False,
        )

    def seek(self, text: str) -> None:
        book, tab = self.book, self.window.address_book_tab
        if book is None or not text.strip():
            return
        container = tab.gal.container_id

        def work(cancel: threading.Event) -> int:
            return book.seek(text.strip(), container).position

        def ok(position: int) -> None:
            row = min(max(0, position), max(0, tab.gal.total - 1))
            index = tab.gal.index(row, 0)
            tab.gal_view.scrollTo(index, tab.gal_view.ScrollHint.PositionAtTop)
            tab.gal_view.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
            tab.show_info(f"“{text.strip()}”: row {row + 1:,} of {tab.gal.total:,}")

        def failed(exc: BaseException) -> None:
            tab.show_error(f"Go to “{text.strip()}”: {explain(exc)}")

        self._submit(work, ok, failed, "seek", counts=False)

    def check_names(self, text: str) -> None:
        book, tab = self.book, self.window.address_book_tab
        names = [n.strip() for n in text.replace(",", ";").split(";") if n.strip()]
        if book is None or not names:
            return

        def work(cancel: threading.Event) -> Any:
            return book.resolve(names, container_id=tab.gal.container_id)

        def ok(resolutions: Any) -> None:
            from mapiprobe.session.addressbook import AMBIGUOUS, RESOLVED

            rows = []
            for r in resolutions:
                if r.status == RESOLVED and r.entry is not None:
                    rows.append((r.name, "Resolved", r.entry.display_name or "", r.entry.smtp_address or ""))
                elif r.status == AMBIGUOUS:
                    more = "" if r.candidates_complete else " (more)"
                    rows.append((r.name, f"Ambiguous: {len(r.candidates)} matches{more}", "", ""))
                    rows += [
                        ("", "  candidate", c.display_name or "", c.smtp_address or "") for c in r.candidates
                    ]
                else:
                    rows.append((r.name, "Unresolved", "", ""))
            tab.check.set_rows(rows, bold=[i for i, row in enumerate(rows) if row[0]])
            tab.check_view.resizeColumnToContents(0)
            tab.check_view.resizeColumnToContents(1)

        def failed(exc: BaseException) -> None:
            tab.check.set_rows([(", ".join(names), f"Failed: {explain(exc)}", "", "")])

        self._submit(work, ok, failed, "check names", counts=False)

    def entry_selected(self, entry: AbEntry | None) -> None:
        book, tab = self.book, self.window.address_book_tab
        if entry is None or entry.mid is None or book is None:
            return
        mid = entry.mid
        tab.details_box.setTitle(f"Details of {entry.display_name or mid}")

        def work(cancel: threading.Event) -> Any:
            return book.details(mid)

        self._submit(
            work,
            lambda d: tab.details.set_rows(property_rows(d.properties)),
            lambda e: tab.show_error(f"Reading the entry failed: {explain(e)}"),
            "details",
            counts=False,
        )


def _freeze_long_lived() -> None:
    """Move what exists now (modules, the window, the sessions) out of the cyclic GC's view: its full
    collections then stay short while the GAL scrolls (measured: the longest event-loop stall of
    benchmarks/gui_gal.py went from 53 to 21 ms)."""
    gc.collect()
    gc.freeze()


def selected_object(view: QWidget, index: QModelIndex) -> Any:
    return index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None
