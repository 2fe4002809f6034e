"""T26: audit listing is keyset-paginated, so no code in the audit or DPO packages uses OFFSET."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("decision_aid/audit", "decision_aid/dpo")
OFFSET_SQL = re.compile(r"\bOFFSET\s+[:?%\d]", re.IGNORECASE)


def offenders(paths: list[Path]) -> list[str]:
    """Files calling `.offset(` or writing OFFSET into SQL text."""
    return [path.name for path in paths
            if ".offset(" in (text := path.read_text(encoding="utf-8")) or OFFSET_SQL.search(text)]


def test_no_offset_in_audit_or_dpo_code() -> None:
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    assert any(path.name == "audit_log.py" for path in files)  # the search is among the files read
    assert offenders(files) == []


def test_the_lint_catches_an_offset(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("stmt = select(AuditEvent).offset(50)\n", encoding="utf-8")
    raw = tmp_path / "raw.py"
    raw.write_text('sql = "SELECT * FROM audit_event LIMIT 50 OFFSET :skip"\n', encoding="utf-8")
    assert offenders([bad, raw]) == ["bad.py", "raw.py"]
