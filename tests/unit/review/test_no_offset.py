"""Lists are keyset-paginated: no OFFSET anywhere in the review and DPO packages (T26)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("decision_aid/review", "decision_aid/dpo")


def test_no_offset_in_review_or_dpo_code() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if ".offset(" in text or re.search(r"\bOFFSET\s+[:?%\d]", text, re.IGNORECASE):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
