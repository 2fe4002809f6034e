"""Fixtures for the rules tests (Hypothesis profiles are registered once, in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

import rules
from rules.schemas import BACKENDS


@pytest.fixture(params=BACKENDS)
def schema_backend(request: pytest.FixtureRequest) -> str:
    """Each JSON Schema back end that is installed (jsonschema_rs is optional)."""
    if request.param == "jsonschema_rs":
        pytest.importorskip("jsonschema_rs")
    return str(request.param)


@pytest.fixture(scope="session")
def rs() -> rules.RuleSet:
    """The packaged rule set (validated once per session)."""
    return rules.load_ruleset()


CHARITY_CHILD: dict[str, Any] = {
    "org_type": "charity", "org_has_appropriate_policy_document": True,
    "immediate_risk": False, "trigger": "proactive", "protected_person_age": "under_18",
    "data_special_category": True, "data_criminal_offence": False,
    "data_held_in_confidence": False, "data_collected_for_other_purpose": False,
    "purpose": "protect_from_harm_or_neglect", "sharing_necessary": "yes",
    "recipient_role_in_safeguarding": "yes", "recipient_is_competent_authority": False,
    "statutory_function": "none", "protective_function": False,
    "civil_contingencies_emergency": False, "consent_position": "would_prejudice_protection",
    "safe_to_inform": "no_increase_risk", "substantial_public_interest": "yes",
    "legitimate_interests_balance": "unsure", "org_provides_services_for_relevant_person": False,
}


@pytest.fixture()
def charity_child() -> dict[str, Any]:
    """The spec's example case: a charity proactively sharing special category data."""
    return dict(CHARITY_CHILD)
