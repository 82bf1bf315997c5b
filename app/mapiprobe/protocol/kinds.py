"""Import every codec module that registers ``mapiprobe decode`` kinds.

Modules are imported by name so that one missing module (while the codebase grows) does not hide the
kinds of the others.
"""

from __future__ import annotations

import importlib

_MODULES = (
    "properties",
    "lz77",
    "rpcext",
    "ropbuffer",
    "envelope",
    "emsmdb",
    "rops",
    "nspi",
    "autodiscover",
    "execute",
    "rts",
    "dcerpc",
    "emsmdb_rpc",
    "nspi_rpc",
)

for _name in _MODULES:
    try:
        importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as exc:  # pragma: no cover - only while a module is being written
        if exc.name != f"{__package__}.{_name}":
            raise
