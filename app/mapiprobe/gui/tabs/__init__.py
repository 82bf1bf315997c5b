"""The window's tabs, one widget class per file. A tab shows what it is given; the window runs the work."""
