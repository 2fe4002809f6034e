"""The sampling rule: 'always' reasons, and a random sample that is repeatable per decision."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from decision_aid.review.sampling import in_random_sample, matched_reasons, selection_reason

ALWAYS = ("shared_without_consent", "departed", "emergency")


def decision(**overrides: Any) -> Any:
    base = {"id": uuid.UUID(int=1), "emergency": False, "outcome": "share_all", "shared": True,
            "consent_position": "given", "departed_from_recommendation": False,
            "recommendation": "lawful_to_share"}
    return SimpleNamespace(**{**base, **overrides})


@pytest.mark.parametrize("overrides, reason", [
    ({"consent_position": "refused"}, "shared_without_consent"),
    ({"consent_position": None}, "shared_without_consent"),
    ({"departed_from_recommendation": True}, "departed"),
    ({"emergency": True, "outcome": "share_now"}, "emergency"),
])
def test_always_reasons(overrides: dict[str, Any], reason: str) -> None:
    assert selection_reason(decision(**overrides), ALWAYS, 0.0) == reason


def test_consented_followed_decision_is_only_randomly_sampled() -> None:
    assert selection_reason(decision(), ALWAYS, 0.0) is None
    assert selection_reason(decision(), ALWAYS, 1.0) == "random_sample"


def test_configurable_reasons() -> None:
    not_shared = decision(shared=False, outcome="do_not_share", consent_position=None)
    assert selection_reason(not_shared, ALWAYS, 0.0) is None
    assert selection_reason(not_shared, ("not_shared",), 0.0) == "not_shared"
    assert "not_shared" in matched_reasons(not_shared)


def test_random_sample_is_deterministic_and_close_to_the_rate() -> None:
    ids = [uuid.UUID(int=i * 7919 + 13) for i in range(20_000)]
    first = [in_random_sample(i, 0.10) for i in ids]
    assert first == [in_random_sample(i, 0.10) for i in ids]
    assert 0.09 < sum(first) / len(ids) < 0.11
    assert not any(in_random_sample(i, 0.0) for i in ids[:1000])
    assert all(in_random_sample(i, 1.0) for i in ids[:1000])
    # a higher rate keeps every decision a lower rate selected (the sample grows, never reshuffles)
    assert all(in_random_sample(i, 0.2) for i, chosen in zip(ids, first, strict=True) if chosen)
