"""Decision fixtures: real engine output stored as the wizard would store it, without the wizard.

`make_decision(practitioner, recommendation="lawful_to_share", ...)` evaluates a preset of facts
that drives the named recommendation with the real rules engine, inserts the Decision and its
`decision.submitted` (or `decision.emergency_recorded`) audit event in one write transaction,
and returns the Decision (detached, attributes loaded). Records, review and DPO tests share it.

Everything a test may want to vary is a keyword: `facts` (merged over the preset), `outcome`,
`emergency`, `team` (name, or None for no team; default the practitioner's first team),
`submitted_at`, `as_at`, `sharing` (merged over the default sharing details), `departed`,
`completes` / `reconsiders` (another Decision), `case_ref`, `audit=False` to skip the event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from decision_aid import clock
from decision_aid.extensions import db
from decision_aid.models import Organisation, Team, User, team_membership
from decision_aid.models.decision import (
    EMERGENCY_OUTCOME,
    SHARED_OUTCOMES,
    Decision,
    DecisionReferenceCounter,
)

RECOMMENDATIONS: tuple[str, ...] = (
    "share_urgently", "do_not_share", "seek_advice", "duty_to_share", "lawful_to_share",
)

# A local authority children's services team sharing health information about a child with
# a safeguarding partner: the base case; each recommendation changes as little as possible.
BASE_FACTS: dict[str, Any] = {
    "org_type": "la_childrens_services",
    "org_has_appropriate_policy_document": True,
    "org_is_designated_agency": False,
    "org_provides_services_for_relevant_person": False,
    "immediate_risk": False,
    "law_enforcement_purpose": False,
    "acting_in_public_tasks": True,
    "trigger": "proactive",
    "protected_person_age": "under_18",
    "data_special_category": True,
    "data_criminal_offence": False,
    "data_held_in_confidence": False,
    "data_collected_for_other_purpose": False,
    "purpose": "protect_from_harm_or_neglect",
    "sharing_necessary": "yes",
    "recipient_role_in_safeguarding": "yes",
    "recipient_is_competent_authority": False,
    "statutory_function": "ca1989_s47",
    "consent_position": "would_prejudice_protection",
    "safe_to_inform": "no_increase_risk",
    "substantial_public_interest": "yes",
    "recipient_is_relevant_person": False,
}

RECOMMENDATION_FACTS: dict[str, dict[str, Any]] = {
    "lawful_to_share": {},
    "share_urgently": {"immediate_risk": True},
    "do_not_share": {"sharing_necessary": "no"},
    "seek_advice": {"sharing_necessary": "unsure"},
    "duty_to_share": {"trigger": "request_received", "request_basis": "court_order"},
}

# The outcome a practitioner following the recommendation would choose.
FOLLOWING_OUTCOME: dict[str, str] = {
    "share_urgently": EMERGENCY_OUTCOME,
    "do_not_share": "do_not_share",
    "seek_advice": "wait_for_advice",
    "duty_to_share": "share_all",
    "lawful_to_share": "share_all",
}
FOLLOWS: dict[str, frozenset[str]] = {
    "share_urgently": frozenset({EMERGENCY_OUTCOME, "share_all", "share_part"}),
    "do_not_share": frozenset({"do_not_share"}),
    "seek_advice": frozenset({"wait_for_advice"}),
    "duty_to_share": frozenset({"share_all", "share_part"}),
    "lawful_to_share": frozenset({"share_all", "share_part"}),
}

# The shape the wizard stores (decision_aid/wizard/views.py `_sharing_from`).
SHARED_DETAILS: dict[str, Any] = {
    "categories": [
        {"id": "concern", "label": "What the concern is and what has happened",
         "special_category": False, "criminal_offence": False},
        {"id": "health", "label": "Physical or mental health",
         "special_category": True, "criminal_offence": False},
    ],
    "description": "Summary of the school nurse's concerns and the dates of two injuries",
    "recipient_org": "Northshire Children's Social Care",
    "recipient_role": "Duty social worker, front door team",
    "method": "secure_email",
    "person_told": "no",
    "not_told_reason": "Telling the family now could increase the risk to the child",
    "advice_from": [{"name": "J. Okafor", "role": "Designated safeguarding lead"}],
    "reasons": "The child is at risk of significant harm and the social worker needs this now.",
}
NOT_SHARED_DETAILS: dict[str, Any] = {
    "categories": [], "description": "", "recipient_org": "", "recipient_role": "",
    "method": None, "shared_at": None,
    "person_told": "yes",
    "not_told_reason": "",
    "advice_from": [{"name": "A. Patel", "role": "Team manager"}],
    "reasons": "Sharing is not necessary: the concern is already known to the recipient.",
}

MakeDecision = Callable[..., Decision]
_KEEP = object()


def _organisation() -> Organisation:
    org = db.session.scalars(select(Organisation).limit(1)).first()
    assert org is not None, "the app fixture creates the organisation"
    return org


def _team_id(practitioner: User, team: Any) -> int | None:
    if team is None:
        return None
    if team is _KEEP:
        row = db.session.execute(
            select(team_membership.c.team_id).where(team_membership.c.user_id == practitioner.id)
            .order_by(team_membership.c.team_id).limit(1)).first()
        return int(row[0]) if row else None
    if isinstance(team, int):
        return team
    found = db.session.scalars(select(Team).where(Team.name == str(team))).first()
    if found is None:
        found = Team(name=str(team), organisation_id=_organisation().id)
        db.session.add(found)
        db.session.flush()
    return found.id


def next_reference(year: int) -> str:
    """DA-YYYY-NNNNNN from the per-year counter (the wizard's scheme), in the caller's write."""
    counter = db.session.get(DecisionReferenceCounter, year)
    if counter is None:
        counter = DecisionReferenceCounter(year=year, last=0)
        db.session.add(counter)
    counter.last += 1
    db.session.flush()
    return f"DA-{year}-{counter.last:06d}"


def _sharing(outcome: str, submitted_at: dt.datetime,
             overrides: dict[str, Any] | None) -> dict[str, Any]:
    if outcome in SHARED_OUTCOMES:
        base = {**SHARED_DETAILS, "shared_at": submitted_at.date().isoformat()}
    else:
        base = dict(NOT_SHARED_DETAILS)
    return {**base, **(overrides or {})}


def insert_decision(practitioner: User, *, recommendation: str = "lawful_to_share",
                    facts: dict[str, Any] | None = None, outcome: str | None = None,
                    emergency: bool | None = None, team: Any = _KEEP,
                    submitted_at: dt.datetime | None = None, as_at: dt.date | None = None,
                    sharing: dict[str, Any] | None = None, departed: bool | None = None,
                    completes: Decision | None = None, reconsiders: Decision | None = None,
                    case_ref: str = "CASE-20431", audit: bool = True) -> Decision:
    """Insert one decision (call inside an app context); see the module docstring."""
    import rules
    from decision_aid.audit import events, record_event
    from decision_aid.database import write_transaction

    assert recommendation in RECOMMENDATION_FACTS, f"unknown recommendation {recommendation}"
    moment = submitted_at or clock.now()
    as_at = as_at or moment.date()
    with write_transaction():
        org = _organisation()
        case_facts = {**BASE_FACTS, **RECOMMENDATION_FACTS[recommendation], **(facts or {})}
        all_facts = {**org.engine_facts(), **case_facts}
        result = rules.evaluate(all_facts, as_at, org.engine_settings())
        if facts is None:
            assert result["recommendation"] == recommendation, (
                f"preset for {recommendation} now gives {result['recommendation']}: update "
                "tests/fixtures_decisions.py")
        actual = result["recommendation"]
        outcome = outcome or FOLLOWING_OUTCOME.get(actual, "wait_for_advice")
        emergency = (outcome == EMERGENCY_OUTCOME) if emergency is None else emergency
        decision = Decision(
            reference=next_reference(moment.year), case_ref=case_ref,
            organisation_id=org.id, practitioner_id=practitioner.id,
            team_id=_team_id(practitioner, team), as_at=as_at, submitted_at=moment,
            emergency=emergency,
            emergency_due_at=(moment + dt.timedelta(hours=org.emergency_completion_hours)
                              if emergency else None),
            completes_decision_id=completes.id if completes else None,
            reconsiders_decision_id=reconsiders.id if reconsiders else None,
            answers={k: v for k, v in case_facts.items() if not k.startswith("org_")},
            facts=all_facts, result=result,
            ruleset_version=result["ruleset_version"], ruleset_digest=result["ruleset_digest"],
            recommendation=actual,
            primary_lawful_basis=(result["lawful_bases"] or [None])[0],
            outcome=outcome,
            departed_from_recommendation=(outcome not in FOLLOWS.get(actual, frozenset())
                                          if departed is None else departed),
            shared=outcome in SHARED_OUTCOMES,
            consent_position=all_facts.get("consent_position"),
            sharing=_sharing(outcome, moment, sharing),
        )
        db.session.add(decision)
        db.session.flush()
        if audit:
            record_event(events.EMERGENCY_RECORDED if emergency else events.DECISION_SUBMITTED,
                         actor=practitioner, case_ref=case_ref, decision_ref=decision.reference,
                         data={"decision_id": str(decision.id), "outcome": outcome,
                               "recommendation": actual})
    db.session.refresh(decision)
    db.session.expunge(decision)
    return decision


@pytest.fixture
def make_decision(app: Flask) -> MakeDecision:
    """Build decisions quickly: make_decision(user, recommendation="do_not_share", team="North")."""

    def build(practitioner: User, **overrides: Any) -> Decision:
        with app.app_context():
            return insert_decision(practitioner, **overrides)

    return build
