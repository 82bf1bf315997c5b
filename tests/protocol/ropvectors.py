"""Load the hex vectors of tests/data: ``# citation`` lines, then hex with optional ``0000:`` offsets."""

from __future__ import annotations

import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def vector(name: str) -> bytes:
    """The bytes of ``tests/data/<name>.txt``; the file must start with its spec citation."""
    text = (DATA / f"{name}.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines and lines[0].startswith("# MS-"), f"{name}: the first line must cite the spec"
    hex_lines = [re.sub(r"^\s*[0-9A-Fa-f]{4}:\s", "", line) for line in lines if not line.startswith("#")]
    return bytes.fromhex(re.sub(r"[\s\-]", "", "".join(hex_lines)))
