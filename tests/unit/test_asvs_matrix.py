"""The ASVS 5.0.0 L1/L2 matrix (docs/security/asvs-l2.md) is complete, evidenced and not failing (T1).

Fails when a row has no evidence, cites a test that does not exist (file or `def test_name`),
cites a document that does not exist, leaves a chapter's ID out, or marks a Level 1 or 2 item
`fail`. Runs without an app or a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "docs/security/asvs-l2.md"
ROW_RE = re.compile(r"^\|\s*(\d+\.\d+\.\d+)\s*\|\s*([123])\s*\|(.*)\|\s*(pass|n/a|fail)\s*\|(.*)\|\s*$")
REF_RE = re.compile(r"`([^`]+)`")
CHAPTERS = {1, 2, 3, 5, 6, 7, 8, 11, 13, 14, 15, 16}
# Counts of Level 1+2 requirements per chapter in ASVS 5.0.0 (from the official CSV).
EXPECTED_COUNTS = {1: 27, 2: 11, 3: 19, 5: 9, 6: 35, 7: 18, 8: 7, 11: 14, 13: 13, 14: 9, 15: 13, 16: 16}


@dataclass(frozen=True)
class Row:
    """One requirement line of the matrix."""

    rid: str
    level: int
    status: str
    evidence: str

    @property
    def references(self) -> list[str]:
        return REF_RE.findall(self.evidence)


def load_rows(text: str) -> list[Row]:
    """Rows of the Markdown table; lines that are not requirement rows are ignored."""
    rows = []
    for line in text.splitlines():
        if match := ROW_RE.match(line):
            rows.append(Row(match[1], int(match[2]), match[4], match[5].strip()))
    return rows


def reference_problem(ref: str) -> str | None:
    """Why a cited test or document does not exist, or None when it does."""
    path_text, _, test_name = ref.partition("::")
    path = ROOT / path_text
    if not path.is_file():
        return f"{path_text} does not exist"
    if test_name and not re.search(rf"^\s*def {re.escape(test_name)}\(", path.read_text(), re.MULTILINE):
        return f"{path_text} has no def {test_name}"
    if not test_name and path.suffix != ".md":
        return f"{path_text} is neither a test id nor a document"
    return None


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return load_rows(MATRIX.read_text(encoding="utf-8"))


def test_every_row_has_evidence_that_exists(rows: list[Row]) -> None:
    problems = [f"{row.rid}: no evidence" for row in rows if not row.references]
    problems += [f"{row.rid}: {problem}" for row in rows for ref in row.references
                 if (problem := reference_problem(ref))]
    assert not problems, "\n".join(problems)


def test_not_applicable_rows_say_why(rows: list[Row]) -> None:
    unexplained = [row.rid for row in rows if row.status == "n/a" and len(REF_RE.sub("", row.evidence).strip()) < 6]
    assert not unexplained


def test_each_chapter_lists_every_level_1_and_2_requirement_once(rows: list[Row]) -> None:
    ids = [row.rid for row in rows]
    assert len(ids) == len(set(ids)), "duplicate IDs"
    assert all(row.level in (1, 2) for row in rows)
    counts = {chapter: sum(1 for rid in ids if int(rid.split(".")[0]) == chapter) for chapter in CHAPTERS}
    assert counts == EXPECTED_COUNTS


def test_no_level_1_or_2_requirement_fails(rows: list[Row]) -> None:
    failing = [row.rid for row in rows if row.status == "fail"]
    assert not failing, f"failing ASVS requirements: {', '.join(failing)}"


def test_the_checker_catches_missing_tests_and_documents() -> None:
    assert reference_problem("tests/unit/test_asvs_matrix.py::test_no_such_test")
    assert reference_problem("docs/security/no-such-document.md")
    assert reference_problem("tests/unit/test_asvs_matrix.py::test_no_level_1_or_2_requirement_fails") is None
    bad = load_rows("| 6.5.1 | 2 | Codes once | pass |  |\n| 7.2.1 | 1 | x | fail | `docs/x.md` |")
    assert [row.rid for row in bad] == ["6.5.1", "7.2.1"] and not bad[0].references
