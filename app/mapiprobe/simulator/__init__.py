"""A simulated Exchange organisation (Autodiscover, MAPI/HTTP mailbox and address book) on loopback.

Reuses :mod:`mapiprobe.protocol` for every wire format; never imports session/, diagnostics/ or gui/.
The heavy parts (TLS, servers) are imported on first use, so ``import mapiprobe.simulator`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .scenarios import SCENARIOS

if TYPE_CHECKING:
    from .core import Simulator
    from .org import Organisation, SimUser, load_organisation
    from .web import ReceivedRequest

_LAZY = {
    "Simulator": "core",
    "Organisation": "org",
    "SimUser": "org",
    "load_organisation": "org",
    "ReceivedRequest": "web",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["SCENARIOS", "Organisation", "ReceivedRequest", "SimUser", "Simulator", "load_organisation"]
