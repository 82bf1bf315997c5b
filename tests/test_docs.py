"""The docs stay true to the code: docs/architecture.md draws the state table of session/state.py."""

from __future__ import annotations

import re
from pathlib import Path

from mapiprobe.session.state import describe_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def test_state_table_in_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- state-table:begin -->\n```\n(.*?)\n```\n<!-- state-table:end -->", text, re.S)
    assert block, "state-table markers missing from docs/architecture.md"
    assert block.group(1).strip() == describe_table().strip()
