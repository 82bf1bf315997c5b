"""The account bar: e-mail address, Autodiscover URL, user, password (optionally remembered in the system
keyring), authentication method, the MapiHttpDisabled emulation, Start and Stop."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

if TYPE_CHECKING:  # the session layer is imported on first use, not before the window shows
    from mapiprobe.gui.run import Account
    from mapiprobe.session.mapihttp_disabled import RegistrySetting

REGISTRY_KEY = r"Software\Microsoft\Exchange"  # as session/mapihttp_disabled.py reads it
REGISTRY_VALUE = "MapiHttpDisabled"
AUTH_LABELS: tuple[tuple[str, str], ...] = (
    ("auto", "Automatic (strongest offered)"),
    ("negotiate", "Negotiate (Kerberos/NTLM)"),
    ("ntlm", "NTLM"),
    ("basic", "Basic"),
    ("bearer", "Bearer (OAuth token)"),
)

MAPIHTTP_TOOLTIP = (
    "Emulate Outlook with the registry value\n"
    f"HKCU\\{REGISTRY_KEY}\\{REGISTRY_VALUE} (DWORD) = 1:\n"
    "Autodiscover is sent without the X-MapiHttpCapability header, so the server answers with the\n"
    "RPC/HTTP (Outlook Anywhere) settings, and Outlook connects with those instead of MAPI over HTTP.\n"
    "mapiprobe also runs Autodiscover with the header and shows both answers side by side.\n"
    "Nothing is written to the registry."
)


class AccountBar(QGroupBox):
    def __init__(self, parent: QWidget | None = None, *, registry: RegistrySetting | None = None) -> None:
        super().__init__("Account", parent)
        self.email = QLineEdit(self)
        self.email.setObjectName("emailEdit")
        self.email.setPlaceholderText("user@example.com")
        self.url = QLineEdit(self)
        self.url.setObjectName("urlEdit")
        self.url.setPlaceholderText(
            "optional: https://autodiscover.example.com/autodiscover/autodiscover.xml"
        )
        self.user = QLineEdit(self)
        self.user.setObjectName("userEdit")
        self.user.setPlaceholderText("default: the e-mail address (or DOMAIN\\user)")
        self.password = QLineEdit(self)
        self.password.setObjectName("passwordEdit")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password (or bearer token)")
        self.remember = QCheckBox("Remember", self)
        self.remember.setObjectName("rememberCheck")
        self.remember.setToolTip(
            "Keep the password in the system keyring (Windows Credential Manager on Windows),\n"
            "never in a file. Untick to forget it."
        )
        self.auth = QComboBox(self)
        self.auth.setObjectName("authCombo")
        for value, label in AUTH_LABELS:
            self.auth.addItem(label, value)
        self.mapi_http_disabled = QCheckBox("Emulate MapiHttpDisabled", self)
        self.mapi_http_disabled.setObjectName("mapiHttpDisabledCheck")
        self.mapi_http_disabled.setToolTip(MAPIHTTP_TOOLTIP)
        if registry is None and sys.platform == "win32":
            from mapiprobe.session.mapihttp_disabled import registry_setting

            registry = registry_setting()
        self.registry_label = QLabel(_registry_text(registry), self)
        self.registry_label.setObjectName("registryValueLabel")
        self.registry_label.setToolTip(
            registry.message
            if registry is not None
            else "not Windows: Outlook's registry switch does not exist here"
        )
        self.registry_label.setEnabled(False)
        self.start = QPushButton("Start", self)
        self.start.setObjectName("startButton")
        self.start.setDefault(True)
        self.stop = QPushButton("Stop", self)
        self.stop.setObjectName("stopButton")
        self.stop.setEnabled(False)

        grid = QGridLayout(self)
        grid.addWidget(QLabel("E-mail address:", self), 0, 0)
        grid.addWidget(self.email, 0, 1)
        grid.addWidget(QLabel("Autodiscover URL:", self), 0, 2)
        grid.addWidget(self.url, 0, 3, 1, 3)
        grid.addWidget(QLabel("User name:", self), 1, 0)
        grid.addWidget(self.user, 1, 1)
        grid.addWidget(QLabel("Password:", self), 1, 2)
        pw = QHBoxLayout()
        pw.addWidget(self.password, 1)
        pw.addWidget(self.remember)
        grid.addLayout(pw, 1, 3)
        grid.addWidget(QLabel("Authentication:", self), 1, 4)
        grid.addWidget(self.auth, 1, 5)
        options = QHBoxLayout()
        options.addWidget(self.mapi_http_disabled)
        options.addWidget(self.registry_label)
        options.addStretch(1)
        options.addWidget(self.start)
        options.addWidget(self.stop)
        grid.addLayout(options, 2, 0, 1, 6)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 3)

    def account(self) -> Account:
        from mapiprobe.gui.run import Account
        from mapiprobe.transport.auth import Secret

        password = self.password.text()
        return Account(
            email=self.email.text().strip(),
            url=self.url.text().strip() or None,
            user=self.user.text().strip() or None,
            password=Secret(password) if password else None,
            auth=str(self.auth.currentData() or "auto"),
            mapi_http_disabled=self.mapi_http_disabled.isChecked(),
        )

    def set_auth(self, value: str) -> None:
        index = self.auth.findData(value)
        if index >= 0:
            self.auth.setCurrentIndex(index)

    def set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.stop.setEnabled(running)


def _registry_text(setting: RegistrySetting | None) -> str:
    if setting is None:
        return "(registry: not Windows)"
    if not setting.available:
        return "(registry: not Windows)" if "not Windows" in setting.message else "(registry: unreadable)"
    if not setting.present:
        return f"(this PC: {REGISTRY_VALUE} not set)"
    return f"(this PC: {REGISTRY_VALUE} = {setting.value})"
