"""``python -m mapiprobe`` runs the command-line interface."""

from mapiprobe.cli import main

raise SystemExit(main())
