"""Cutting the log into ranges for the split hash pass (decision_aid/audit/verify.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from decision_aid.audit.verify import _ranges


@given(st.integers(1, 10_000), st.integers(0, 10_000), st.integers(1, 8))
def test_ranges_cover_every_entry_once_in_order(start: int, length: int, parts: int) -> None:
    head = start + length - 1
    ranges = _ranges(start, head, parts)
    covered = [seq for low, high in ranges for seq in range(low, high + 1)]
    assert covered == list(range(start, head + 1))
    assert all(low <= high for low, high in ranges)
    assert len(ranges) <= parts
    if length >= parts:
        sizes = [high - low + 1 for low, high in ranges]
        assert len(ranges) == parts and max(sizes) - min(sizes) <= 1
