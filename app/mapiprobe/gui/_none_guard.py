"""A guard against a reference-count bug of the installed PySide6 on Python before 3.12.

With PySide6-Essentials 6.12.0 on CPython 3.11, every call from Python to a Qt method returning void (or an
invalid QVariant, which becomes ``None``) gives back ``None`` without the reference it owes
(``QModelIndex().data()`` or ``app.processEvents()`` lowers ``sys.getrefcount(None)`` by one each time). After
some tens of thousands of such calls — minutes of scrolling a long table — CPython aborts with "none_dealloc:
deallocating None" (and likewise "bool_dealloc" for True and False). From 3.12 on ``None`` is immortal
(PEP 683) and the bug is harmless.

:func:`install` measures whether the bug is present and, only then, gives ``None`` a very large number of
references (``True`` and ``False`` too) so that they can never reach zero (they are never freed anyway).
It does nothing on 3.12+ or with
a PySide6 that counts correctly.
"""

from __future__ import annotations

import ctypes
import sys

_done = False
BOOST = 1 << 40


def leaks_none() -> bool:
    """True when a void Qt call from Python takes a reference from None (the bug is present)."""
    from PySide6.QtCore import QModelIndex

    index = QModelIndex()
    before = sys.getrefcount(None)
    for _ in range(50):
        index.data()
    return sys.getrefcount(None) < before - 25


def install() -> bool:
    """Protect ``None`` when needed; returns True when the guard was applied."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not leaks_none():
        _done = True
        return False
    # ob_refcnt is the first field of every CPython object (Include/object.h, PyObject_HEAD). True and False
    # lose references the same way (bool_dealloc seen after long runs), so they get the same protection.
    for singleton in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(singleton))
        refcnt.value += BOOST
    _done = True
    return True


__all__ = ["install", "leaks_none"]
