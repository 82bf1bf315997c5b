"""The desktop window (PySide6). The only package of mapiprobe that imports Qt."""

from mapiprobe.gui import _none_guard

_none_guard.install()
