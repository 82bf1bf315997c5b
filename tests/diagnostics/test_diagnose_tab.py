"""The GUI's Diagnose tab (gui/diagnose.py) with the real widgets offscreen, against the simulator."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QPushButton, QTextBrowser, QTreeWidget

from mapiprobe.diagnostics.pipeline import DiagnosisOptions
from mapiprobe.gui.diagnose import STEP_ROLE, DiagnoseTab
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials, Secret
from tests.session.simhelp import connection

SCREENSHOT_DIR = os.environ.get("MAPIPROBE_SCREENSHOTS")
# The offscreen platform plugin says this on every show(); it is about the platform, not the widgets.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def _tab(qtbot, sim: Simulator) -> DiagnoseTab:  # type: ignore[no-untyped-def]
    user = sim.users[0]

    def request() -> tuple[str, DiagnosisOptions]:
        creds = Credentials(user=user.email, password=Secret(user.password))
        return user.email, DiagnosisOptions(
            connection=connection(sim, timeout=5.0), credentials=creds, slow_request_s=30.0
        )

    tab = DiagnoseTab(request)
    qtbot.addWidget(tab)
    tab.resize(1100, 700)
    tab.show()
    return tab


def _run(qtbot, tab: DiagnoseTab) -> None:  # type: ignore[no-untyped-def]
    main_thread = threading.current_thread()
    seen_threads: list[threading.Thread] = []
    tab.tree.itemChanged.connect(lambda *a: seen_threads.append(threading.current_thread()))
    with qtbot.waitSignal(tab.finished, timeout=30_000):
        tab.findChild(QPushButton, "diagnoseButton").click()
        assert tab.findChild(QPushButton, "diagnoseButton").text() == "Cancel"
    assert all(t is main_thread for t in seen_threads)  # widgets only touched on the GUI thread


def test_healthy_run_fills_the_tree_live(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.auth.offer("*", ("Negotiate", "NTLM"))
    tab = _tab(qtbot, sim)
    items_during_run: list[int] = []
    tree = tab.findChild(QTreeWidget, "stepsTree")
    tree.model().rowsInserted.connect(lambda *a: items_during_run.append(tree.topLevelItemCount()))
    _run(qtbot, tab)
    result = tab.result
    assert result is not None and result.result == "pass", [
        (s.id, s.cause) for s in result.steps if s.status != "pass"
    ]
    assert tree.topLevelItemCount() == len(result.steps)
    assert len(items_during_run) == len(result.steps)  # one row per step, as each step arrived
    assert {tree.topLevelItem(i).text(2) for i in range(tree.topLevelItemCount())} == {"pass"}
    assert not tree.topLevelItem(0).icon(0).isNull()
    assert "PASS" in tab.findChild(QLabel, "diagnoseStatus").text()
    assert tab.findChild(QPushButton, "diagnoseButton").text() == "Diagnose"
    if SCREENSHOT_DIR:
        tab.grab().save(str(Path(SCREENSHOT_DIR) / "diagnose-pass.png"))


def test_failing_run_selects_the_first_problem_and_saves_and_copies(  # type: ignore[no-untyped-def]
    qtbot, sim: Simulator, tmp_path: Path
) -> None:
    sim.set_scenario("ab-refused")
    tab = _tab(qtbot, sim)
    _run(qtbot, tab)
    tree = tab.findChild(QTreeWidget, "stepsTree")
    current = tree.currentItem()
    assert current is not None and current.data(0, STEP_ROLE).id == "ab-bind"
    assert current.text(2) == "fail"
    details = tab.findChild(QTextBrowser, "stepDetails").toPlainText()
    assert "Cause:" in details and "mailbox endpoint accepted" in details and "Remedy:" in details
    save = tab.findChild(QPushButton, "saveReportButton")
    copy = tab.findChild(QPushButton, "copySummaryButton")
    assert save.isEnabled() and copy.isEnabled()
    tab.save_report(tmp_path / "r.html")
    tab.save_report(tmp_path / "r.json")
    assert 'data-result="fail"' in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["result"] == "fail"
    copy.click()
    text = QGuiApplication.clipboard().text()
    assert "FAIL" in text and "ab-bind" in text
    if SCREENSHOT_DIR:
        tab.grab().save(str(Path(SCREENSHOT_DIR) / "diagnose-fail.png"))


def test_cancel_while_running(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    sim.set_scenario("slow")
    sim.slow_seconds = 3.0
    tab = _tab(qtbot, sim)
    button = tab.findChild(QPushButton, "diagnoseButton")
    with qtbot.waitSignal(tab.finished, timeout=20_000):
        button.click()
        qtbot.waitUntil(
            lambda: tab.findChild(QTreeWidget, "stepsTree").topLevelItemCount() > 4, timeout=10_000
        )
        button.click()  # Cancel
    assert tab.result is not None and tab.result.cancelled
    assert "cancelled" in tab.findChild(QLabel, "diagnoseStatus").text()
