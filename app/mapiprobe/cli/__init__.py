"""The ``mapiprobe`` command line: one module per command family over session/ and protocol/.

:mod:`.main` builds the parser and dispatches; :mod:`.options` holds the options and exit codes every
command shares. ``mapiprobe.cli:main`` is the console script.
"""

from mapiprobe.cli.main import main

__all__ = ["main"]
