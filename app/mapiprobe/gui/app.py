"""Entry point of ``mapiprobe-gui``.

The desktop window arrives with the GUI issue; until then this entry point says so plainly instead of
pretending to be the app.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print(
        "mapiprobe-gui: the desktop window is not built yet; use the 'mapiprobe' command line.",
        file=sys.stderr,
    )
    return 2
