"""What a part of the simulator needs of the simulator it is installed in: :class:`SimHost`.

:class:`~mapiprobe.simulator.core.Simulator` has these attributes; a part types its ``install(sim)`` with
this protocol instead of importing core.py, so that no import runs back up from a part to the simulator that
installs it (tests/test_layers.py fails on any import cycle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .org import Organisation
from .web import Site


class SimHost(Protocol):
    """The simulator as its parts see it."""

    org: Organisation
    https_site: Site
    state_dir: Path
    scenario: str


__all__ = ["SimHost"]
