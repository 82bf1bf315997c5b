"""File → Open Capture… fills the Requests tab from a SAZ or HAR as if it were a run; Save as HAR… writes it.

The capture is a run recorded against the simulator (tests/capture/conftest.py: the Inbox paged 7 rows at a
time), so the details of a RopQueryRows page in a later Execute show its rows only because the window decodes
each exchange with the columns its session had set.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMainWindow, QPushButton

from mapiprobe.gui.app import build_window
from mapiprobe.protocol.capture import read_har, read_saz
from mapiprobe.protocol.capture_decode import decode_capture
from mapiprobe.simulator import Simulator
from mapiprobe.transport.capturefile import write_har, write_saz
from tests.capture.conftest import Recording, record_run

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def recording() -> Iterator[Recording]:
    with Simulator() as sim:
        yield record_run(sim)


def open_window(qtbot) -> QMainWindow:  # type: ignore[no-untyped-def]
    window = build_window(["--no-settings"])
    qtbot.addWidget(window)
    window.show()
    return window


def test_open_a_saz_and_save_it_as_har(qtbot, recording: Recording, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saz = tmp_path / "outlook-run.saz"
    with saz.open("wb") as out:
        write_saz(recording.records, out)
    window = open_window(qtbot)
    actions = window.capture_actions  # type: ignore[attr-defined]
    names = [a.objectName() for a in window.menuBar().actions()[0].menu().actions()]
    assert "openCaptureAction" in names and "saveHarAction" in names
    assert names.index("saveHarAction") < names.index("quitAction")
    tab = window.requests_tab  # type: ignore[attr-defined]
    actions.open_capture(saz)
    qtbot.waitUntil(lambda: tab.model.rowCount() == len(recording.records), timeout=20000)
    assert window.windowTitle().startswith("outlook-run.saz — ")
    assert window.tabs.currentWidget() is tab  # type: ignore[attr-defined]
    assert len(tab.waterfall.records) == len(recording.records)
    assert "Capture outlook-run.saz (SAZ)" in window.findChild(object, "requestsSourceLabel").text()
    # A page read in an Execute after the one that set the columns: its rows show their values.
    records = tab.model.records
    assert [r.request_type for r in records] == [r.request_type for r in recording.records]
    decoded = list(decode_capture(read_saz(io.BytesIO(saz.read_bytes()))))
    later = next(d.exchange.index for d in decoded if any(d.table_columns))  # columns from an earlier Execute
    later = next(i for i, r in enumerate(records) if r.seq == later)
    tab.view.selectRow(later - 1)
    tab.view.selectRow(later)
    details = tab.details.toPlainText()
    assert "does not decode" not in details
    response = details.split("── Response body")[1]
    assert "RopQueryRows" in response and "RowData" in response and "PidTagDisplayName" in response, response
    window.grab().save(str(tmp_path.parent / "capture-window.png"))

    har = tmp_path / "saved.har"
    actions.save_har(har)
    qtbot.waitUntil(
        lambda: har.exists() and har.stat().st_size > 0 and har.read_text().endswith("]}}\n"), timeout=20000
    )
    back = list(read_har(io.BytesIO(har.read_bytes())))
    assert [e.request_type for e in back] == [r.request_type for r in recording.records]
    assert [e.request_body for e in back] == [r.request_body for r in recording.records]

    # A new run clears the tab: the window is back to live runs.
    tab.clear()
    assert not window.windowTitle().startswith("outlook-run.saz")


def test_open_a_damaged_har_gives_a_note(qtbot, recording: Recording, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    write_har(recording.records, buffer)
    text = buffer.getvalue()
    cut = tmp_path / "cut.har"
    cut.write_text(text[: len(text) // 2])
    window = open_window(qtbot)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.capture_actions.open_capture(cut)  # type: ignore[attr-defined]
    tab = window.requests_tab  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: any("cut.har:" in m for m in messages), timeout=20000)
    assert 0 < tab.model.rowCount() < len(recording.records)
    assert any("not valid JSON" in m for m in messages), messages
    button = window.findChild(QPushButton, "saveHarButton")
    assert button is not None and window.findChild(QPushButton, "openCaptureButton") is not None
    json.dumps(messages)
