"""The Protocols tab (issue 17): Compare protocols against the simulator through the window — the table
has both protocols' phases with non-zero times, the chart draws one bar per protocol, Connection Status
shows an HTTP and an RPC/HTTP session; the table model passes qtmodeltester; Stop cancels a run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QPushButton, QWidget

from mapiprobe.gui.protocols import COLUMNS, PHASE_LABELS
from mapiprobe.session.status import COLUMNS as STATUS_COLUMNS
from mapiprobe.simulator import Simulator
from tests.gui.test_window import cells, header, open_window
from tests.session.conftest import wait_for_workers

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def _module_sim() -> Iterator[Simulator]:
    with Simulator() as sim:
        yield sim


@pytest.fixture
def sim(_module_sim: Simulator) -> Iterator[Simulator]:
    wait_for_workers()
    _module_sim.set_scenario("normal")
    _module_sim.clear_requests()
    yield _module_sim
    assert not _module_sim.errors


def _compare(qtbot, window: QMainWindow) -> None:  # type: ignore[no-untyped-def]
    tab = window.protocols_tab  # type: ignore[attr-defined]
    button = window.findChild(QPushButton, "compareProtocolsButton")
    with qtbot.waitSignal(tab.finished, timeout=20000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_compare_protocols_shows_both(qtbot, qtmodeltester, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, sim)
    table = window.findChild(QWidget, "protocolsTable")
    chart = window.findChild(QWidget, "protocolsChart")
    assert table is not None and chart is not None
    assert header(table) == list(COLUMNS)
    _compare(qtbot, window)
    protocols = cells(table, 0)
    assert set(protocols) == {"MAPI/HTTP", "RPC/HTTP"}
    model = table.model()  # type: ignore[attr-defined]
    for row in range(model.rowCount()):
        assert model.index(row, 2).data(Qt.ItemDataRole.UserRole) > 0, cells(table, 1)[row]
        assert model.index(row, 6).data(Qt.ItemDataRole.UserRole) > 0  # bytes received
        assert model.index(row, 7).data(Qt.ItemDataRole.DisplayRole) == ""
    for name in ("MAPI/HTTP", "RPC/HTTP"):
        # RPC/HTTP's later phases ride the channels opened by connect: no new HTTP request, but some overall.
        assert sum(model.index(r, 3).data(Qt.ItemDataRole.UserRole) for r in range(len(protocols))
                   if protocols[r] == name) > 0  # fmt: skip
        assert [cells(table, 1)[r] for r in range(len(protocols)) if protocols[r] == name] == list(
            PHASE_LABELS.values()
        )
    bars = chart.bars  # type: ignore[attr-defined]
    assert [label for label, _ in bars] == ["MAPI/HTTP", "RPC/HTTP"]
    for _, phases in bars:
        assert [name for name, _ in phases] == list(PHASE_LABELS.values())
        assert all(ms > 0 for _, ms in phases)
    status = window.findChild(QWidget, "connectionStatusTable")
    kinds = list(
        zip(
            cells(status, STATUS_COLUMNS.index("Protocol")),
            cells(status, STATUS_COLUMNS.index("Type")),
            strict=True,
        )
    )
    assert sorted(kinds) == [
        ("HTTP", "Directory"),
        ("HTTP", "Mail"),
        ("RPC/HTTP", "Directory"),
        ("RPC/HTTP", "Mail"),
    ]
    # Their exchanges are in the window's trace: Req/Fail counted per session, none failed.
    for value in cells(status, STATUS_COLUMNS.index("Req/Fail")):
        requests, failures = (int(n) for n in value.split("/"))
        assert requests > 0 and failures == 0, value
    qtbot.waitUntil(lambda: window.requests_tab.model.rowCount() > 0, timeout=5000)  # type: ignore[attr-defined]
    qtmodeltester.check(model)
    chart.grab()  # paints without a warning
    window.close()


def test_menu_entry_and_stop(qtbot, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, sim)
    from PySide6.QtGui import QAction

    action = window.findChild(QAction, "compareProtocolsAction")
    tab = window.protocols_tab  # type: ignore[attr-defined]
    sim.set_scenario("slow")
    action.trigger()
    assert window.tabs.currentWidget() is tab  # type: ignore[attr-defined]
    assert tab.runner.busy and tab.stop_button.isEnabled()
    qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.runner.busy, timeout=10000)
    assert tab.compare_button.isEnabled() and tab.comparison is None
    assert tab.message.text() == "Stopped."
    window.close()
