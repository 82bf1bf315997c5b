"""The window end to end against the simulator (real widgets offscreen, real HTTPS on loopback):
Autodiscover → endpoints → folder tree → contents → GAL page → check names, read through the widgets'
models; the MapiHttpDisabled check box (the request the simulator got, and the Protocol column); Stop during
a slow answer; the objectName contract; settings and the keyring; the demo; ``--self-test``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget, QWidget

from mapiprobe.gui.app import build_window
from mapiprobe.session.status import COLUMNS
from mapiprobe.simulator import Simulator
from tests.session.conftest import wait_for_workers
from tests.session.simhelp import cli_args

pytestmark = pytest.mark.network
DISPLAY = Qt.ItemDataRole.DisplayRole
ROOT = Path(__file__).resolve().parents[2]

CONTRACT = (
    "emailEdit",
    "urlEdit",
    "userEdit",
    "passwordEdit",
    "authCombo",
    "mapiHttpDisabledCheck",
    "startButton",
    "stopButton",
    "tabs",
    "attemptsTable",
    "endpointsTable",
    "rawXmlView",
    "folderTree",
    "contentsTable",
    "propertiesTable",
    "addressListCombo",
    "galTable",
    "checkNamesEdit",
    "checkNamesResult",
    "connectionStatusTable",
    "reconnectButton",
    "copyStatusButton",
    "requestsTable",
    "requestDetails",
    "waterfallView",
    "demoBanner",
    "scenarioMenu",
)


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator(slow_seconds=3.0) as sim:
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    yield _module_sim
    assert not _module_sim.errors


def open_window(qtbot, sim: Simulator, *extra: str, settings: bool = False) -> QMainWindow:  # type: ignore[no-untyped-def]
    user = sim.users[0]
    args = [user.email, "--user", user.user, *cli_args(sim, timeout=5.0), *extra]
    if not settings:
        args.append("--no-settings")
    window = build_window(args)
    qtbot.addWidget(window)
    window.findChild(QWidget, "passwordEdit").setText(user.password)
    window.show()
    return window


def w(window: QMainWindow, name: str) -> QWidget:
    found = window.findChild(QWidget, name)
    assert found is not None, name
    return found


def cells(view: QWidget, column: int) -> list[str]:
    model = view.model()  # type: ignore[attr-defined]
    return [model.index(r, column).data(DISPLAY) for r in range(model.rowCount())]


def header(view: QWidget) -> list[str]:
    model = view.model()  # type: ignore[attr-defined]
    return [model.headerData(c, Qt.Orientation.Horizontal, DISPLAY) for c in range(model.columnCount())]


def status_values(window: QMainWindow, title: str) -> list[str]:
    return cells(w(window, "connectionStatusTable"), COLUMNS.index(title))


def test_contract_object_names_and_tabs(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, sim)
    from PySide6.QtWidgets import QMenu

    for name in CONTRACT:
        assert window.findChild(QWidget, name) is not None or window.findChild(QMenu, name) is not None, name
    tabs = window.findChild(QTabWidget, "tabs")
    titles = [tabs.tabText(i) for i in range(tabs.count())]
    assert titles == ["Autodiscover", "Folders", "Address Book", "Requests", "Diagnose"]
    for name in ("diagnoseButton", "stepsTree", "saveReportButton", "copySummaryButton"):
        assert window.findChild(QWidget, name) is not None, name
    assert header(w(window, "connectionStatusTable")) == list(COLUMNS)
    assert header(w(window, "attemptsTable")) == ["Method", "URL", "Status", "Time", "Outcome"]
    assert header(w(window, "endpointsTable")) == ["Endpoint", "Where", "URL"]
    assert header(w(window, "propertiesTable")) == ["Tag", "Name", "Type", "Value"]
    assert header(w(window, "requestsTable")) == [
        "Method",
        "URL",
        "Request type",
        "Status",
        "X-ResponseCode",
        "Time",
        "Bytes",
    ]
    assert not w(window, "demoBanner").isVisible()
    # add_tab: how another tab joins.
    extra = QWidget()
    extra.setObjectName("extraProbe")
    index = window.add_tab(extra, "Extra")  # type: ignore[attr-defined]
    assert tabs.tabText(index) == "Extra" and window.findChild(QWidget, "extraProbe") is extra


def test_whole_flow(qtbot, qtmodeltester, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    user = sim.users[0]
    window = open_window(qtbot, sim)
    qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
    assert w(window, "stopButton").isEnabled()

    # Autodiscover: the attempts (winner marked), the four endpoint URLs, the XML.
    endpoints = w(window, "endpointsTable")
    qtbot.waitUntil(lambda: endpoints.model().rowCount() == 4, timeout=10000)
    assert cells(endpoints, 0) == ["MailStore", "MailStore", "AddressBook", "AddressBook"]
    assert cells(endpoints, 1) == ["Internal", "External", "Internal", "External"]
    assert all("/mapi/emsmdb/" in u for u in cells(endpoints, 2)[:2])
    assert all("/mapi/nspi/" in u for u in cells(endpoints, 2)[2:])
    outcomes = cells(w(window, "attemptsTable"), 4)
    winners = [o for o in outcomes if "(used)" in o]
    assert len(winners) == 1 and winners[0].startswith("✔ settings")
    assert "autodiscover.contoso.test" in cells(w(window, "attemptsTable"), 1)[outcomes.index(winners[0])]
    xml = w(window, "rawXmlView").toPlainText()  # type: ignore[attr-defined]
    assert "<Autodiscover" in xml and "mapiHttp" in xml

    # Folders: the tree with counts, Inbox selected, its contents page and its properties.
    tree = w(window, "folderTree")
    qtbot.waitUntil(lambda: tree.model().rowCount() > 0, timeout=10000)
    names = cells(tree, 0)
    assert "Inbox" in names and "Sent Items" in names
    inbox_row = names.index("Inbox")
    assert cells(tree, 2)[inbox_row].isdigit()
    contents = w(window, "contentsTable")
    qtbot.waitUntil(lambda: contents.model().rowCount() > 0, timeout=10000)
    subjects = cells(contents, 0)
    assert all(subjects) and len(subjects) <= 100  # one page, more as the view scrolls
    total = contents.model().total
    if total > 100:
        contents.scrollToBottom()
        qtbot.waitUntil(lambda: contents.model().rowCount() > 100, timeout=10000)
    props = w(window, "propertiesTable")
    qtbot.waitUntil(lambda: "PidTagDisplayName" in cells(props, 1), timeout=10000)
    assert cells(props, 3)[cells(props, 1).index("PidTagDisplayName")] == "Inbox"
    contents.selectRow(0)
    qtbot.waitUntil(lambda: "PidTagSubject" in cells(props, 1), timeout=10000)
    assert cells(props, 3)[cells(props, 1).index("PidTagSubject")] == subjects[0]

    # Address Book: lists, the GAL by position, Go to, check names, details.
    gal = w(window, "galTable")
    qtbot.waitUntil(lambda: gal.model().rowCount() > 0, timeout=10000)
    assert w(window, "addressListCombo").count() >= 1
    w(window, "tabs").setCurrentIndex(2)
    qtbot.waitUntil(lambda: gal.model().index(0, 0).data(DISPLAY) not in ("…", None), timeout=10000)
    first = gal.model().index(0, 0).data(DISPLAY)
    assert first and gal.model().index(0, 1).data(DISPLAY).endswith("@contoso.test")
    middle = gal.model().rowCount() // 2
    gal.scrollTo(gal.model().index(middle, 0))
    qtbot.waitUntil(lambda: gal.model().is_loaded(middle), timeout=10000)
    seek = w(window, "galSeekEdit")
    seek.setText("Z")
    qtbot.keyClick(seek, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: gal.currentIndex().row() > middle, timeout=10000)
    check = w(window, "checkNamesEdit")
    check.setText(f"{user.display_name}; nobody-here-xyz")
    qtbot.keyClick(check, Qt.Key.Key_Return)
    result = w(window, "checkNamesResult")
    qtbot.waitUntil(lambda: result.model().rowCount() >= 2, timeout=10000)
    outcomes = dict(zip(cells(result, 0), cells(result, 1), strict=False))
    assert outcomes[user.display_name] == "Resolved"
    assert outcomes["nobody-here-xyz"] == "Unresolved"
    assert user.email in cells(result, 3)
    gal.selectRow(0)
    details = w(window, "galDetailsTable")
    qtbot.waitUntil(lambda: first in cells(details, 3), timeout=10000)

    # Connection Status: one row per endpoint session, established, with requests counted.
    qtbot.waitUntil(lambda: status_values(window, "Status") == ["Established", "Established"], timeout=5000)
    assert sorted(status_values(window, "Type")) == ["Directory", "Mail"]
    assert status_values(window, "Protocol") == ["HTTP", "HTTP"]
    assert status_values(window, "SMTP Address") == [user.email, user.email]
    assert all(int(v.split("/")[0]) >= 2 for v in status_values(window, "Req/Fail"))
    copied = window.status_pane.copy_as_text()  # type: ignore[attr-defined]
    assert QApplication.clipboard().text() == copied and "Established" in copied
    assert user.password not in copied

    # Requests: every exchange, and details of one.
    requests = w(window, "requestsTable")
    assert requests.model().rowCount() >= 8
    types = set(cells(requests, 2))
    assert {"Autodiscover", "Connect", "Execute", "Bind", "QueryRows"} <= types
    requests.selectRow(0)
    assert "POST" in w(window, "requestDetails").toPlainText()  # type: ignore[attr-defined]
    assert len(w(window, "waterfallView").records) == requests.model().rowCount()  # type: ignore[attr-defined]
    assert not w(window, "stopButton").isEnabled()

    for name in (
        "attemptsTable",
        "endpointsTable",
        "folderTree",
        "contentsTable",
        "propertiesTable",
        "checkNamesResult",
        "connectionStatusTable",
        "requestsTable",
    ):
        qtmodeltester.check(w(window, name).model())
    window.close()
    assert user.password not in "".join(
        str(r.annotations) + str(r.request_headers) for r in window.controller.trace.records
    )  # type: ignore[attr-defined]


def test_mapihttp_disabled_changes_the_request_and_the_protocol(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, sim)
    w(window, "mapiHttpDisabledCheck").setChecked(True)
    qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
    status = w(window, "connectionStatusTable")
    qtbot.waitUntil(lambda: status.model().rowCount() == 2, timeout=15000)
    posts = [r for r in sim.requests if r.method == "POST" and "autodiscover.xml" in r.path.lower()]
    with_header = [r for r in posts if r.header("X-MapiHttpCapability")]
    without = [r for r in posts if r.header("X-MapiHttpCapability") is None and r.header("Authorization")]
    assert with_header and without  # the comparison: once with, once without the header
    assert status_values(window, "Protocol") == ["RPC/HTTP", "RPC/HTTP"]
    # As Outlook with the registry value set: the sessions go over RPC/HTTP (the EXHTTP block's proxy).
    qtbot.waitUntil(lambda: status_values(window, "Status") == ["Established", "Established"], timeout=20000)
    assert all("/rpc/rpcproxy.dll" in u.lower() for u in status_values(window, "Server name"))
    qtbot.waitUntil(lambda: w(window, "folderTree").model().rowCount() > 0, timeout=20000)
    assert "Inbox" in cells(w(window, "folderTree"), 0)
    assert any("/rpc/rpcproxy.dll" in r.path.lower() for r in sim.requests)
    comparison = w(window, "comparisonTable")
    assert comparison.isVisible() and "protocol" in cells(comparison, 0)
    assert cells(w(window, "endpointsTable"), 0) == []
    assert w(window, "legacyTable").model().rowCount() > 0
    assert not [r for r in sim.requests if "/mapi/" in r.path.lower()]  # MAPI/HTTP was not used

    # Unticked again: the header goes out and the sessions speak MAPI/HTTP.
    sim.clear_requests()
    w(window, "mapiHttpDisabledCheck").setChecked(False)
    qtbot.waitUntil(lambda: w(window, "startButton").isEnabled(), timeout=5000)
    qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_values(window, "Protocol") == ["HTTP", "HTTP"], timeout=15000)
    posts = [r for r in sim.requests if r.method == "POST" and "autodiscover.xml" in r.path.lower()]
    assert posts and all(r.header("X-MapiHttpCapability") for r in posts)
    window.close()


def test_stop_during_a_slow_answer_keeps_the_window_responsive(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.set_scenario("slow")
    window = open_window(qtbot, sim)
    qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any("autodiscover" in r.path.lower() for r in sim.requests), timeout=5000)
    started = time.monotonic()
    qtbot.mouseClick(w(window, "stopButton"), Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 0.5  # the click returned at once
    assert w(window, "startButton").isEnabled() and not w(window, "stopButton").isEnabled()
    # The event loop keeps turning: timers fire on time while the cancelled request winds down.
    ticks = []
    for _ in range(10):
        before = time.monotonic()
        qtbot.wait(20)
        ticks.append(time.monotonic() - before)
    assert max(ticks) < 0.3
    assert "Stopped" in window.autodiscover_tab.message.text()  # type: ignore[attr-defined]
    w(window, "emailEdit").setText("someone@contoso.test")  # still editable
    assert w(window, "emailEdit").text() == "someone@contoso.test"
    sim.set_scenario("normal")
    window.close()


def test_errors_show_in_their_pane(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, sim)
    asked: list[object] = []
    window.controller.ask_consent = lambda q: asked.append(q) or False  # type: ignore[attr-defined]
    w(window, "passwordEdit").setText("wrong password")
    qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w(window, "startButton").isEnabled(), timeout=20000)
    message = window.autodiscover_tab.message.text()  # type: ignore[attr-defined]
    assert message.startswith("Autodiscover failed") and "Traceback" not in message
    assert "auth-failed" in " ".join(cells(w(window, "attemptsTable"), 4))
    # Credentials to a host the user did not name need consent: asked (in the main thread), refused here.
    assert all(getattr(q, "host", "") for q in asked)
    w(window, "emailEdit").setText("not an address")
    qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
    assert "e-mail address" in window.autodiscover_tab.message.text()  # type: ignore[attr-defined]
    window.close()


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("no such entry")
        del self.entries[(service, username)]


def test_settings_remember_the_account_never_the_password(
    qtbot, sim: Simulator, _private_settings: Path
) -> None:  # type: ignore[no-untyped-def]
    old = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        user = sim.users[0]
        window = open_window(qtbot, sim, settings=True)
        w(window, "rememberCheck").setChecked(True)
        w(window, "authCombo").setCurrentIndex(w(window, "authCombo").findData("basic"))
        window.resize(760, 700)
        qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: ("mapiprobe", user.user.lower()) in ring.entries, timeout=5000)
        assert ring.entries[("mapiprobe", user.user.lower())] == user.password
        qtbot.waitUntil(lambda: w(window, "startButton").isEnabled(), timeout=15000)
        saved = (window.size().width(), window.size().height())
        assert saved != (1280, 800)
        window.close()
        ini = next(_private_settings.rglob("*.ini"))
        text = ini.read_text(encoding="utf-8")
        assert user.email in text and user.password not in text

        again = build_window([])  # no arguments: everything from the settings (and the keyring)
        qtbot.addWidget(again)
        assert w(again, "emailEdit").text() == user.email  # type: ignore[attr-defined]
        assert w(again, "userEdit").text() == user.user  # type: ignore[attr-defined]
        assert w(again, "authCombo").currentData() == "basic"  # type: ignore[attr-defined]
        # Geometry restored (the offscreen screen is 800 pixels wide: Qt keeps a restored window on it).
        assert again.size().height() == saved[1] and again.size().width() < 1280
        qtbot.waitUntil(lambda: w(again, "passwordEdit").text() == user.password, timeout=5000)  # type: ignore[attr-defined]
        again.close()
    finally:
        keyring.set_keyring(old)


def test_demo_window(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = build_window(["--demo", "--scenario", "ignores-header", "--no-settings"])
    qtbot.addWidget(window)
    window.show()
    try:
        banner = w(window, "demoBanner")
        assert banner.isVisible() and "simulated" in banner.text()  # type: ignore[attr-defined]
        assert w(window, "emailEdit").text().endswith("@contoso.test")  # type: ignore[attr-defined]
        assert w(window, "passwordEdit").text()  # type: ignore[attr-defined]
        from PySide6.QtWidgets import QMenu

        menu = window.findChild(QMenu, "scenarioMenu")
        names = [a.text() for a in menu.actions()]
        assert "normal" in names and "mailbox-slow" in names
        checked = [a.text() for a in menu.actions() if a.isChecked()]
        assert checked == ["ignores-header"]
        next(a for a in menu.actions() if a.text() == "normal").trigger()
        assert window.demo.scenario == "normal"  # type: ignore[attr-defined]
        qtbot.mouseClick(w(window, "startButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w(window, "folderTree").model().rowCount() > 0, timeout=15000)
    finally:
        window.close()
    assert not window.demo.started  # type: ignore[attr-defined]


def test_self_test_prints_one_line() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [sys.executable, "-m", "mapiprobe.gui.app", "--self-test"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("main window shown: mapiprobe ") and lines[0].endswith("1280x800")
