"""docs/architecture.md lists the diagnosis steps in the order diagnostics/steps.py has them."""

from __future__ import annotations

import re
from pathlib import Path

from mapiprobe.diagnostics.steps import STEP_TITLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_step_list_in_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- steps:begin -->\n```\n(.*?)\n```\n<!-- steps:end -->", text, re.S)
    assert block, "steps markers missing from docs/architecture.md"
    expected = "\n".join(f"{k:16} {v}" for k, v in STEP_TITLES.items())
    assert block.group(1).strip() == expected.strip()
