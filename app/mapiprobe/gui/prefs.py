"""What the window remembers and how it looks: QSettings (geometry, the last account but never its
password), the redacted rotating log file, the app icon, and the dark palette when the system is dark."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from mapiprobe.resources import resource_path

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
LOG_NAME = "mapiprobe-gui.log"
log = logging.getLogger("mapiprobe.gui")


def settings() -> QSettings:
    """The app's settings (INI format, per user; tests point QSettings.setPath at a temporary folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "mapiprobe", "mapiprobe")


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        path = resource_path("icons", f"mapiprobe-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    return icon


# -- log file --------------------------------------------------------------------------------------------


def log_dir() -> Path:
    """The platform's user log folder for mapiprobe (``MAPIPROBE_LOG_DIR`` overrides it)."""
    env = os.environ.get("MAPIPROBE_LOG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_log_dir("mapiprobe", appauthor=False))


class SecretFilter(logging.Filter):
    """Replaces any secret registered with :meth:`add` by ``[redacted]`` in every record (defence in depth:
    the app never logs a password, and this makes sure a mistake would not either)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if len(secret) >= 3:
            self.secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, "[redacted]")
            record.msg, record.args = text, None
        return True


SECRETS = SecretFilter()
_handler: RotatingFileHandler | None = None


def setup_log() -> Path | None:
    """Log to ``<user log dir>/mapiprobe-gui.log`` (1 MB, 3 old files kept); None if it cannot be written."""
    global _handler
    if _handler is not None:
        return Path(_handler.baseFilename)
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(folder / LOG_NAME, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SECRETS)
    root = logging.getLogger("mapiprobe")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _handler = handler
    return Path(handler.baseFilename)


def close_log() -> None:
    global _handler
    if _handler is not None:
        logging.getLogger("mapiprobe").removeHandler(_handler)
        _handler.close()
        _handler = None


# -- dark mode -------------------------------------------------------------------------------------------


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply_color_scheme(app: QApplication) -> bool:
    """Follow the system's light or dark setting (Fusion with a dark palette when dark). Returns dark."""
    dark = system_is_dark()
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    return dark


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#dfe1e5")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#26282b"))
    p.setColor(QPalette.ColorRole.ToolTipBase, window)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2f65ca"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c8f94"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7a7d82"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7a7d82"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#7a7d82"))
    return p
