"""Review reasons are sealed content: what `reasons`, `reasons_text` and `reasons_disposed` read
before a row is written, for rows still holding clear text, and for the disposal tombstone."""

from __future__ import annotations

from typing import Any

import pytest

from decision_aid import crypto
from decision_aid.models.review import REASONS_DISPOSED, Review


@pytest.mark.parametrize(("value", "expected"), [
    ({"disposed": True}, True), (dict(crypto.TOMBSTONE), True), ({"disposed": "yes"}, False),
    ({"sealed": True}, False), ("disposed", False), (None, False), ("", False),
])
def test_is_tombstone(value: Any, expected: bool) -> None:
    assert crypto.is_tombstone(value) is expected


def test_new_review_reads_its_reasons_before_it_is_sealed() -> None:
    review = Review(case_ref="CASE-1", verdict="disagree", reasons="Only the dates")
    assert (review.reasons, review.reasons_text) == ("Only the dates", "Only the dates")
    assert review.reasons_disposed is False
    assert review.reasons_stored is None  # nothing clear is written: the flush seals it


def test_unsealed_legacy_row_still_reads_its_clear_reasons() -> None:
    legacy = Review(case_ref="CASE-1", verdict="agree", reasons_stored="Written before 0007",
                    content_ciphertext=None)
    assert legacy.reasons_text == "Written before 0007"


def test_the_empty_marker_reads_as_no_reasons() -> None:
    sealed_nothing = Review(case_ref="CASE-1", verdict="agree", reasons_stored="",
                            content_ciphertext=None)
    assert (sealed_nothing.reasons, sealed_nothing.reasons_text) == (None, "")


def test_disposal_marker_text_is_the_shared_one() -> None:
    assert REASONS_DISPOSED == crypto.DISPOSED_TEXT and "disposed of" in REASONS_DISPOSED
