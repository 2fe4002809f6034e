"""Answer sets for walking the wizard, in form values ("yes"/"no" for yes-or-no facts).

Chosen from spec/decision-model.md and rules/scenarios: a charity worried about a child, with
one change per recommendation. The organisation facts (type, policy document) come from the
organisation's settings, never from these answers.
"""

from __future__ import annotations

CHARITY_CHILD_SPECIAL_CATEGORY: dict[str, str] = {
    "immediate_risk": "no",
    "trigger": "proactive",
    "protected_person_age": "under_18",
    "data_special_category": "yes",
    "data_criminal_offence": "no",
    "data_held_in_confidence": "no",
    "data_collected_for_other_purpose": "no",
    "purpose": "protect_from_harm_or_neglect",
    "sharing_necessary": "yes",
    "recipient_role_in_safeguarding": "yes",
    "recipient_is_competent_authority": "no",
    "statutory_function": "none",
    "protective_function": "no",
    "civil_contingencies_emergency": "no",
    "consent_position": "would_prejudice_protection",
    "safe_to_inform": "yes",
    "substantial_public_interest": "yes",
    "legitimate_interests_balance": "favours_sharing",
    "adult_has_care_and_support_needs": "yes",
    "adult_experiencing_or_at_risk_of_harm": "yes",
    "adult_unable_to_protect_self": "yes",
    "request_basis": "court_order",
}

RECOMMENDATION_SCENARIOS: dict[str, dict[str, str]] = {
    "lawful_to_share": {},
    "do_not_share": {"sharing_necessary": "no"},
    "seek_advice": {"sharing_necessary": "unsure"},
    "duty_to_share": {"trigger": "request_received", "request_basis": "court_order"},
}


def answers_for(recommendation: str) -> dict[str, str]:
    """The typical case with the one change that leads to `recommendation`."""
    return {**CHARITY_CHILD_SPECIAL_CATEGORY, **RECOMMENDATION_SCENARIOS[recommendation]}


SHARE_ALL = {
    "outcome": "share_all",
    "categories": ["concern", "health"],
    "description": "Summary of the concern and the relevant health information",
    "recipient_org": "Northshire Council children's services",
    "recipient_role": "Duty social worker",
    "method": "secure_email",
    "shared_on": ["2", "11", "2026"],
    "person_told": "yes",
    "advice_name": "Sam Supervisor",
    "advice_role": "Team manager",
}
