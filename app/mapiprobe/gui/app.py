"""Entry point of ``mapiprobe-gui``: the command line, :func:`build_window`, and the event loop.

``mapiprobe-gui [EMAIL] [--url URL] [--user USER] [--auth …] [--ca-cert FILE] [--connect-to …] [--insecure]
[--demo [--scenario NAME]]`` pre-fills the window (never a password: type it, or tick Remember to keep it in
the system keyring). ``--self-test`` shows the window, prints ``main window shown: <title> <w>x<h>``
once it is on screen and exits 0 without touching the network (the installer's smoke test runs it).

A contract for tests and scripts: :func:`build_window` builds the window from ``sys.argv[1:]``-style
arguments without entering the event loop (a QApplication must exist already).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

AUTH_CHOICES = ("auto", "basic", "ntlm", "negotiate", "bearer")


class UsageError(ValueError):
    """A command-line value the window cannot use."""


def parser() -> argparse.ArgumentParser:
    from mapiprobe.simulator.scenarios import SCENARIOS

    p = argparse.ArgumentParser(
        prog="mapiprobe-gui",
        description="The mapiprobe desktop window: Autodiscover, the mailbox, the address book and "
        "Connection Status. Options pre-fill the window; a password is never taken from the command line.",
    )
    p.add_argument("email", nargs="?", metavar="EMAIL", help="the mailbox's e-mail address")
    p.add_argument("--url", metavar="URL", help="skip discovery: ask this Autodiscover URL (https://)")
    p.add_argument("--user", metavar="USER", help="user name (default: the e-mail address)")
    p.add_argument("--auth", choices=AUTH_CHOICES, default=None, help="authentication scheme (default auto)")
    p.add_argument(
        "--ca-cert", action="append", default=[], type=Path, metavar="FILE", help="also trust this CA"
    )
    p.add_argument(
        "--connect-to",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDR:PORT",
        help="curl-style host mapping",
    )
    p.add_argument("--dns-server", metavar="ADDR[:PORT]", help="resolve names with this DNS server")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="time limit per connection")
    p.add_argument("--insecure", action="store_true", help="do NOT verify TLS certificates (lab use only)")
    p.add_argument("--mapi-http-disabled", action="store_true", help="tick 'Emulate MapiHttpDisabled'")
    p.add_argument("--demo", action="store_true", help="start the simulated organisation inside the app")
    p.add_argument(
        "--scenario", default="normal", choices=sorted(SCENARIOS), metavar="NAME", help="demo scenario"
    )
    p.add_argument(
        "--gal-size", type=int, default=None, metavar="N", help="demo: entries in the address book"
    )
    p.add_argument("--self-test", action="store_true", help="show the window, print one line, exit 0")
    p.add_argument("--no-settings", action="store_true", help="neither read nor write the saved settings")
    return p


def _connection(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of the run's ConnectionOptions (built when first needed, so that the window
    shows before transport/ and httpx are imported)."""
    if args.connect_to:
        from mapiprobe.transport.client import parse_connect_to

        for rule in args.connect_to:
            try:
                parse_connect_to(rule)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    for path in args.ca_cert:
        if not Path(path).is_file():
            raise UsageError(f"--ca-cert {path}: no such file")
    if not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    return {
        "connect_to": tuple(args.connect_to),
        "ca_certs": tuple(Path(p) for p in args.ca_cert),
        "insecure": bool(args.insecure),
        "connect_timeout": args.timeout,
        "read_timeout": max(args.timeout, 30.0),
        "dns_server": args.dns_server,
    }


def build_window(argv: list[str]) -> QMainWindow:
    """The main window for ``argv`` (``sys.argv[1:]``), not yet shown; a QApplication must exist.

    Raises :class:`UsageError` (or exits through argparse for ``--help`` and unknown options).
    """
    from mapiprobe.gui import prefs
    from mapiprobe.gui.window import MainWindow

    args = parser().parse_args(argv)
    base = _connection(args)
    demo = None
    if args.demo:
        from mapiprobe.gui.demo import Demo

        demo = Demo(args.scenario, gal_size=args.gal_size).start()
    app = QApplication.instance()
    dark = prefs.system_is_dark() if app is not None else False
    persist = not (args.self_test or args.no_settings)
    window = MainWindow(
        demo.connection(base) if demo is not None else base,
        demo=demo,
        persist=persist,
        dark=dark,
        insecure=bool(args.insecure),
    )
    window.base_connection = base  # type: ignore[attr-defined]
    bar = window.account_bar
    if args.email:
        bar.email.setText(args.email)
        if not args.demo:
            bar.password.clear()
    if args.url:
        bar.url.setText(args.url)
    if args.user:
        bar.user.setText(args.user)
    if args.auth:
        bar.set_auth(args.auth)
    if args.mapi_http_disabled:
        bar.mapi_http_disabled.setChecked(True)
    return window


def _self_test(window: QMainWindow) -> None:
    """Print the one line once the window is really shown, then quit."""

    def report() -> None:
        if not window.isVisible():
            QTimer.singleShot(20, report)
            return
        size = window.size()
        print(f"main window shown: {window.windowTitle()} {size.width()}x{size.height()}", flush=True)
        window.close()
        QApplication.quit()

    QTimer.singleShot(0, report)


def _prewarm() -> None:
    """Import the session layer on a background thread once the window is up, so that the first Start does
    not wait for it (the window itself never needs it to show)."""
    import importlib
    import threading

    def load() -> None:
        for name in (
            "mapiprobe.session.autodiscover",
            "mapiprobe.session.mapihttp_disabled",
            "mapiprobe.session.mailbox",
            "mapiprobe.session.addressbook",
        ):
            importlib.import_module(name)

    threading.Thread(target=load, name="prewarm-imports", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "mapiprobe-gui"])
    assert isinstance(app, QApplication)
    app.setApplicationName("mapiprobe")
    app.setOrganizationName("mapiprobe")
    app.setApplicationDisplayName("mapiprobe")
    from mapiprobe.gui import prefs

    app.setWindowIcon(prefs.app_icon())
    prefs.apply_color_scheme(app)
    self_test = "--self-test" in argv
    if not self_test:
        prefs.setup_log()
    try:
        window = build_window(argv)
    except UsageError as exc:
        print(f"mapiprobe-gui: {exc}", file=sys.stderr)
        return 2
    window.show()
    if self_test:
        _self_test(window)
    else:
        QTimer.singleShot(200, _prewarm)
    code = app.exec()
    prefs.close_log()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
