"""Merging the verifier's separate checks gives the finding a single row-by-row loop would give."""

from __future__ import annotations

import pytest

from decision_aid.audit.verify import COLUMNS, GAP, HASH, LINK, _Broken, _merge


def test_a_clean_run_reports_the_head() -> None:
    assert _merge((5, "ab" * 32), [], from_seq=11) == (5, 15, "ab" * 32)


def test_the_earliest_entry_wins_whatever_the_check() -> None:
    findings = [_Broken(9, "hash", HASH), _Broken(4, "columns", COLUMNS), _Broken(7, "gap", GAP)]
    with pytest.raises(_Broken) as raised:
        _merge(None, findings, from_seq=1)
    assert (raised.value.seq, raised.value.problem) == (4, "columns")


@pytest.mark.parametrize(
    ("orders", "expected"),
    [((COLUMNS, HASH), HASH), ((COLUMNS, LINK, HASH), LINK), ((HASH, GAP), GAP)],
)
def test_within_one_entry_the_loop_order_wins(orders: tuple[int, ...], expected: int) -> None:
    findings = [_Broken(3, f"check {order}", order) for order in orders]
    with pytest.raises(_Broken) as raised:
        _merge(None, findings, from_seq=1)
    assert raised.value.order == expected
