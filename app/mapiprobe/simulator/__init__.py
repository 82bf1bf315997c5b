"""A simulated Exchange organisation (Autodiscover, MAPI/HTTP mailbox and address book) on loopback.

Reuses :mod:`mapiprobe.protocol` for every wire format; never imports session/, diagnostics/ or gui/.
"""

from __future__ import annotations

from .core import SCENARIOS, Simulator
from .org import Organisation, SimUser, load_organisation
from .web import ReceivedRequest

__all__ = ["SCENARIOS", "Organisation", "ReceivedRequest", "SimUser", "Simulator", "load_organisation"]
