"""The main window: account bar on top, the tabs (Autodiscover, Folders, Address Book, Requests), the
Connection Status pane always visible below them, menus and shortcuts.

The window lays widgets out and wires them to :class:`~mapiprobe.gui.controller.Controller`, which does the
work off the main thread. Another part of the app adds a tab with :meth:`MainWindow.add_tab` (the Diagnose
tab does), so this file stays a layout.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QModelIndex, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mapiprobe import __version__
from mapiprobe.gui import prefs
from mapiprobe.gui.account import AccountBar
from mapiprobe.gui.controller import Controller
from mapiprobe.gui.status_pane import StatusPane
from mapiprobe.gui.tabs.addressbook import AddressBookTab
from mapiprobe.gui.tabs.autodiscover import AutodiscoverTab
from mapiprobe.gui.tabs.folders import FoldersTab
from mapiprobe.gui.tabs.requests import RequestsTab

if TYPE_CHECKING:
    from mapiprobe.transport.client import ConnectionOptions

log = logging.getLogger("mapiprobe.gui")
TITLE = "mapiprobe"


class MainWindow(QMainWindow):
    """The one window. ``demo`` (a :class:`~mapiprobe.gui.demo.Demo`) shows the banner and the Scenario menu;
    ``persist`` False keeps QSettings untouched (self-test, tests)."""

    def __init__(
        self,
        connection: ConnectionOptions | dict[str, Any],
        *,
        demo: Any = None,
        persist: bool = True,
        dark: bool = False,
        insecure: bool = False,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"{TITLE} {__version__} — Outlook connectivity diagnostics")
        self.setWindowIcon(prefs.app_icon())
        self.persist = persist
        self.demo = demo

        self.banner = QLabel(self)
        self.banner.setObjectName("demoBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel { background: #fff4ce; color: #5c4400; border: 1px solid #e0c060; padding: 6px; }"
        )
        self.banner.setVisible(False)
        self.insecure_banner = QLabel(
            "TLS certificates are NOT verified (--insecure): for lab use only.", self
        )
        self.insecure_banner.setStyleSheet("QLabel { background: #fde0dc; color: #8a1c12; padding: 6px; }")
        self.insecure_banner.setVisible(insecure)
        self.account_bar = AccountBar(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        self.autodiscover_tab = AutodiscoverTab(self, dark=dark)
        self.folders_tab = FoldersTab(self)
        self.address_book_tab = AddressBookTab(self)
        self.requests_tab = RequestsTab(self)
        self.add_tab(self.autodiscover_tab, "Autodiscover")
        self.add_tab(self.folders_tab, "Folders")
        self.add_tab(self.address_book_tab, "Address Book")
        self.add_tab(self.requests_tab, "Requests")
        from mapiprobe.gui.diagnose import DiagnoseTab

        self.diagnose_tab = DiagnoseTab(self.diagnosis_request, self)
        self.add_tab(self.diagnose_tab, "Diagnose")
        self.status_pane = StatusPane(self)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.status_pane)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(self.insecure_banner)
        layout.addWidget(self.account_bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.progress.setVisible(False)
        self.statusBar().addPermanentWidget(self.progress)

        self.controller = Controller(self, connection)
        self._menus()
        self._wire()
        from mapiprobe.gui.capture import CaptureActions

        self.capture_actions = CaptureActions(self)  # File → Open Capture…, Save as HAR… (issue 15)
        from mapiprobe.gui.protocols import install

        self.protocols_tab = install(self)
        self.resize(1280, 800)
        self.splitter.setSizes([560, 180])
        if persist:
            self.restore_settings()
        if demo is not None:
            self.show_demo(demo)

    # -- for other parts of the app ---------------------------------------------------------------------

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab (e.g. Diagnose) at the end; returns its index. Its widgets keep their objectNames."""
        return self.tabs.addTab(widget, title)

    def diagnosis_request(self) -> tuple[str, Any]:
        """What the Diagnose tab diagnoses: the account bar's address and connection (ValueError if empty)."""
        from mapiprobe.diagnostics.runner import DiagnosisOptions

        account = self.account_bar.account()
        if "@" not in account.email:
            raise ValueError("type the mailbox's e-mail address first")
        options = DiagnosisOptions(
            connection=self.controller.connection,
            credentials=account.credentials(),
            auth_scheme=account.auth,
            mapi_http_disabled=account.mapi_http_disabled,
            url=account.url,
        )
        return account.email, options

    def clear_results(self) -> None:
        self.autodiscover_tab.clear()
        self.folders_tab.clear()
        self.address_book_tab.clear()

    # -- menus and shortcuts ----------------------------------------------------------------------------

    def _action(self, menu: QMenu, text: str, shortcut: Any, slot: Any, name: str) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.start_action = self._action(
            file, "&Start", [QKeySequence("Ctrl+Return"), QKeySequence("F5")], self.start, "startAction"
        )
        self.stop_action = self._action(file, "S&top", QKeySequence("Esc"), self.stop, "stopAction")
        self.stop_action.setEnabled(False)
        self.reconnect_action = self._action(
            file, "&Reconnect", QKeySequence("Ctrl+R"), self.controller.reconnect, "reconnectAction"
        )
        self._action(
            file,
            "&Copy Connection Status",
            QKeySequence("Ctrl+Shift+C"),
            self.status_pane.copy_as_text,
            "copyAction",
        )
        file.addSeparator()
        self._action(file, "&Quit", QKeySequence.StandardKey.Quit, self.close, "quitAction")
        view = bar.addMenu("&View")
        for number, title in enumerate(
            ("Autodiscover", "Folders", "Address Book", "Requests", "Diagnose"), start=1
        ):
            self._action(
                view,
                title,
                QKeySequence(f"Ctrl+{number}"),
                lambda _=False, i=number - 1: self.tabs.setCurrentIndex(i),
                f"tab{number}Action",
            )
        self._action(
            view, "Find in Address Book", QKeySequence.StandardKey.Find, self._focus_seek, "findAction"
        )
        self.scenario_menu = bar.addMenu("S&cenario")
        self.scenario_menu.setObjectName("scenarioMenu")
        self.scenario_menu.menuAction().setVisible(False)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "Open &Log Folder", None, self.open_log_folder, "openLogAction")
        self._action(help_menu, "&About mapiprobe", None, self.about, "aboutAction")

    def _wire(self) -> None:
        bar = self.account_bar
        bar.start.clicked.connect(self.start)
        bar.stop.clicked.connect(self.stop)
        bar.email.returnPressed.connect(self.start)
        bar.password.returnPressed.connect(self.start)
        c = self.controller
        c.runningChanged.connect(self._running)
        c.statusChanged.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.status_pane.reconnect.clicked.connect(c.reconnect)
        folders = self.folders_tab
        folders.contents.loader = c.load_contents
        folders.tree_view.selectionModel().currentChanged.connect(
            lambda cur, prev: c.folder_selected(
                cur.siblingAtColumn(0).data(Qt.ItemDataRole.UserRole) if cur.isValid() else None
            )
        )
        folders.contents_view.selectionModel().currentRowChanged.connect(
            lambda cur, prev: c.item_selected(cur.data(Qt.ItemDataRole.UserRole) if cur.isValid() else None)
        )
        book = self.address_book_tab
        book.list_combo.currentIndexChanged.connect(
            lambda i: c.list_chosen(int(book.list_combo.itemData(i) or 0))
        )
        book.seek_edit.returnPressed.connect(lambda: c.seek(book.seek_edit.text()))
        book.check_button.clicked.connect(lambda: c.check_names(book.check_edit.text()))
        book.check_edit.returnPressed.connect(lambda: c.check_names(book.check_edit.text()))
        book.gal_view.selectionModel().currentRowChanged.connect(self._gal_row)

    def _gal_row(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            self.controller.entry_selected(self.address_book_tab.gal.entry(current.row()))

    def _focus_seek(self) -> None:
        self.tabs.setCurrentWidget(self.address_book_tab)
        self.address_book_tab.seek_edit.setFocus()
        self.address_book_tab.seek_edit.selectAll()

    # -- actions ------------------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.account_bar.start.isEnabled():
            return
        account = self.account_bar.account()
        if self.controller.start(account):
            self.tabs.setCurrentWidget(self.autodiscover_tab)
            if self.persist:
                self.save_account()
                self.remember_password()

    def stop(self) -> None:
        self.controller.stop()

    def _running(self, running: bool) -> None:
        self.account_bar.set_running(running)
        self.start_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.progress.setVisible(running)

    def open_log_folder(self) -> None:
        path = prefs.setup_log() or prefs.log_dir()
        folder = path.parent if path.suffix else path
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About mapiprobe",
            f"<b>mapiprobe {__version__}</b><br>"
            "Autodiscover, MAPI over HTTP and the address book, step by step."
            f"<br><br>Log file: {prefs.log_dir() / prefs.LOG_NAME}",
        )

    # -- demo ---------------------------------------------------------------------------------------------

    def show_demo(self, demo: Any) -> None:
        self.banner.setText(
            f"Demo: a simulated Exchange organisation ({demo.domain}) runs inside this app on 127.0.0.1 — "
            f"scenario “{demo.scenario}” (Scenario menu to change). Nothing leaves this computer."
        )
        self.banner.setVisible(True)
        self.scenario_menu.menuAction().setVisible(True)
        self.scenario_menu.clear()
        for name, description in demo.scenarios().items():
            action = QAction(name, self.scenario_menu)
            action.setCheckable(True)
            action.setChecked(name == demo.scenario)
            action.setToolTip(description)
            action.setStatusTip(description)
            action.triggered.connect(lambda _=False, n=name: self.choose_scenario(n))
            self.scenario_menu.addAction(action)
        self.scenario_menu.setToolTipsVisible(True)
        bar = self.account_bar
        bar.email.setText(demo.email)
        bar.user.setText(demo.user)
        bar.password.setText(demo.password)
        bar.url.clear()

    def choose_scenario(self, name: str) -> None:
        if self.demo is None:
            return
        self.controller.stop(quiet=True)
        self.demo.set_scenario(name)
        # Some scenarios change where host names lead (dead-root): rebuild the connection options.
        base = getattr(self, "base_connection", None)
        self.controller.connection = self.demo.connection(base)
        self.show_demo(self.demo)
        self.statusBar().showMessage(f"Scenario: {name} — press Start", 8000)

    # -- settings -----------------------------------------------------------------------------------------

    def restore_settings(self) -> None:
        s = prefs.settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        bar = self.account_bar
        if self.demo is None:
            bar.email.setText(str(s.value("account/email", "") or ""))
            bar.url.setText(str(s.value("account/url", "") or ""))
            bar.user.setText(str(s.value("account/user", "") or ""))
            bar.set_auth(str(s.value("account/auth", "auto") or "auto"))
            bar.remember.setChecked(str(s.value("account/remember", "false")).lower() == "true")
            if bar.remember.isChecked():
                self._load_password()
        bar.mapi_http_disabled.setChecked(str(s.value("account/mapiHttpDisabled", "false")).lower() == "true")

    def save_account(self) -> None:
        if self.demo is not None:
            return
        s = prefs.settings()
        bar = self.account_bar
        s.setValue("account/email", bar.email.text().strip())
        s.setValue("account/url", bar.url.text().strip())
        s.setValue("account/user", bar.user.text().strip())
        s.setValue("account/auth", bar.auth.currentData())
        s.setValue("account/remember", bar.remember.isChecked())
        s.setValue("account/mapiHttpDisabled", bar.mapi_http_disabled.isChecked())

    def _keyring_account(self) -> str:
        bar = self.account_bar
        return bar.user.text().strip() or bar.email.text().strip()

    def _load_password(self) -> None:
        name = self._keyring_account()
        if not name:
            return

        def work(cancel: Any) -> Any:
            from mapiprobe.transport import credentials

            return credentials.load_password(name)

        def ok(secret: Any) -> None:
            if secret is not None and not self.account_bar.password.text():
                self.account_bar.password.setText(secret.reveal())

        self.controller.runner.submit(work, ok, lambda e: log.info("keyring: %s", e), name="keyring")

    def remember_password(self) -> None:
        """Save (Remember ticked) or forget (unticked) the password in the system keyring, off the main
        thread."""
        if self.demo is not None:
            return
        name = self._keyring_account()
        secret = self.account_bar.account().password
        remember = self.account_bar.remember.isChecked()
        if not name:
            return

        def work(cancel: Any) -> str:
            from mapiprobe.transport import credentials

            if remember and secret is not None:
                credentials.save_password(name, secret)
                return f"Password saved in {credentials.backend_name()}"
            if not remember and credentials.forget_password(name):
                return "Password removed from the keyring"
            return ""

        def ok(text: str) -> None:
            if text:
                self.statusBar().showMessage(text, 6000)

        def failed(exc: BaseException) -> None:
            self.statusBar().showMessage(f"Keyring: {exc}", 8000)

        self.controller.runner.submit(work, ok, failed, name="keyring")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.persist:
            s = prefs.settings()
            s.setValue("window/geometry", self.saveGeometry())
            s.setValue("window/splitter", self.splitter.saveState())
            self.save_account()
            s.sync()
        self.diagnose_tab.shutdown()
        self.protocols_tab.shutdown()
        self.controller.shutdown()
        if self.demo is not None:
            self.demo.stop()
        super().closeEvent(event)
