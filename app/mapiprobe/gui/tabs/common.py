"""Small widgets the tabs share: a table view set up the same way everywhere, a message line, XML colours."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget


def table_view(
    model: QAbstractItemModel, name: str, parent: QWidget | None = None, *, stretch: int = -1
) -> QTableView:
    """A read-only, row-selecting table with the given objectName; column ``stretch`` takes spare width."""
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    if stretch >= 0:
        header.setStretchLastSection(False)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    return view


def message_label(parent: QWidget | None = None) -> QLabel:
    """A line for the pane's own errors and notes (hidden while empty)."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def show_message(label: QLabel, text: str, kind: str = "info") -> None:
    colours = {"error": "#c62828", "warning": "#b26a00", "info": "", "ok": "#2e7d32"}
    colour = colours.get(kind, "")
    label.setStyleSheet(f"color: {colour};" if colour else "")
    label.setText(text)
    label.setVisible(bool(text))


def monospace() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class XmlHighlighter(QSyntaxHighlighter):
    """Colours XML: tags, attribute names, attribute values, comments, the XML declaration."""

    _RULES: tuple[tuple[str, str], ...] = (
        (r"</?[\w:.-]+|/?>", "tag"),
        (r"\b[\w:.-]+(?==)", "attr"),
        (r"\"[^\"]*\"|'[^']*'", "value"),
        (r"<\?.*?\?>", "decl"),
        (r"<!--.*?-->", "comment"),
    )

    def __init__(self, document: QTextDocument, *, dark: bool = False) -> None:
        super().__init__(document)
        palette = {
            "tag": "#5fa8ff" if dark else "#1f4fa0",
            "attr": "#e0a060" if dark else "#9c4f00",
            "value": "#8fd18f" if dark else "#1a7f37",
            "decl": "#a0a0a0" if dark else "#777777",
            "comment": "#a0a0a0" if dark else "#777777",
        }
        self._rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        for pattern, kind in self._RULES:
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(palette[kind]))
            if kind == "tag":
                fmt.setFontWeight(QFont.Weight.DemiBold)
            self._rules.append((re.compile(pattern), fmt))

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self._rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


def resize_columns(view: QTableView, widths: dict[int, int] | None = None) -> None:
    """Fit columns to their contents once, then apply fixed ``widths`` (pixels) where given."""
    view.resizeColumnsToContents()
    for column, width in (widths or {}).items():
        view.setColumnWidth(column, width)


def set_header_tips(view: QTableView, tips: dict[int, str]) -> None:
    model: Any = view.model()
    for column, tip in tips.items():
        model.setHeaderData(column, Qt.Orientation.Horizontal, tip, Qt.ItemDataRole.ToolTipRole)
