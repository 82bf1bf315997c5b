"""Take the README's screenshots: the window at 1280x800 with the demo organisation's data, one PNG per tab.

    xvfb-run -s "-screen 0 1280x800x24" python docs/screenshots/take.py [OUTDIR]

Runs the demo (the simulator in-process), presses Start, waits for every pane to fill, selects something in
each tab, and saves ``QWidget.grab()`` of the whole window per tab (plus one with MapiHttpDisabled emulated).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMainWindow


def spin(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait(app: QApplication, condition: object, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise TimeoutError("the window did not fill in time")


def shoot(window: QMainWindow, path: Path) -> None:
    window.grab().save(str(path))
    print(f"wrote {path}")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent)
    out.mkdir(parents=True, exist_ok=True)
    from mapiprobe.gui.app import build_window
    from mapiprobe.gui.prefs import app_icon, apply_color_scheme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setWindowIcon(app_icon())
    apply_color_scheme(app)
    window = build_window(["--demo", "--no-settings"])
    window.resize(1280, 800)
    window.show()
    w = window  # the tabs and the controller are attributes of MainWindow
    w.account_bar.start.click()  # type: ignore[attr-defined]
    folders = w.folders_tab  # type: ignore[attr-defined]
    book = w.address_book_tab  # type: ignore[attr-defined]
    wait(app, lambda: folders.contents.rowCount() > 0 and book.gal.rowCount() > 0)
    spin(app, 1.0)
    shoot(window, out / "autodiscover.png")

    w.tabs.setCurrentWidget(folders)  # type: ignore[attr-defined]
    folders.contents_view.selectRow(1)
    wait(app, lambda: any(r[1] == "PidTagSubject" for r in folders.properties.rows))
    spin(app, 0.3)
    shoot(window, out / "folders.png")

    w.tabs.setCurrentWidget(book)  # type: ignore[attr-defined]
    spin(app, 0.5)
    book.seek_edit.setText("Mar")
    w.controller.seek("Mar")  # type: ignore[attr-defined]
    wait(app, lambda: book.gal_view.currentIndex().row() > 0)
    wait(app, lambda: book.gal.is_loaded(book.gal_view.currentIndex().row()))
    w.controller.entry_selected(book.gal.entry(book.gal_view.currentIndex().row()))  # type: ignore[attr-defined]
    user = w.demo.user_record  # type: ignore[attr-defined]
    book.check_edit.setText(f"{user.display_name}; Aaron; nobody")
    w.controller.check_names(book.check_edit.text())  # type: ignore[attr-defined]
    wait(app, lambda: book.check.rowCount() >= 3 and book.details.rowCount() > 0)
    spin(app, 0.5)
    shoot(window, out / "address-book.png")

    requests = w.requests_tab  # type: ignore[attr-defined]
    w.tabs.setCurrentWidget(requests)  # type: ignore[attr-defined]
    types = [r.request_type for r in requests.model.records]
    requests.view.selectRow(types.index("Execute") if "Execute" in types else 0)
    spin(app, 0.5)
    shoot(window, out / "requests.png")

    w.account_bar.mapi_http_disabled.setChecked(True)  # type: ignore[attr-defined]
    w.account_bar.start.click()  # type: ignore[attr-defined]
    wait(app, lambda: w.autodiscover_tab.comparison_box.isVisible() and w.status_pane.model.rowCount() == 2)  # type: ignore[attr-defined]
    spin(app, 1.0)
    w.tabs.setCurrentWidget(w.autodiscover_tab)  # type: ignore[attr-defined]
    spin(app, 0.3)
    shoot(window, out / "mapihttp-disabled.png")
    window.close()

    return 0


if __name__ == "__main__":
    sys.exit(main())
