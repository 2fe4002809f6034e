"""The question API the Flask wizard is built on."""

from __future__ import annotations

from typing import Any

import pytest

import rules
from rules import Question

ORG = {"org_type": "charity", "org_has_appropriate_policy_document": True}


def _ids(questions: list[Question]) -> list[str]:
    return [q.id for q in questions]


def test_first_practitioner_question_is_immediate_risk() -> None:
    question = rules.next_question(ORG)
    assert question is not None and question.id == "immediate_risk"
    assert question.fields[0].kind == "bool"
    assert [o.value for o in question.fields[0].options] == ["yes", "no"]
    assert question.url.startswith("https://") and question.why and question.citation


def test_immediate_risk_ends_the_questions() -> None:
    assert rules.next_question({**ORG, "immediate_risk": True}) is None
    assert _ids(rules.applicable_questions({**ORG, "immediate_risk": True})) == [
        "immediate_risk"]


def test_organisation_questions_are_never_asked(rs: rules.RuleSet) -> None:
    org_facts = {f for q in rs.questions if q.origin == "organisation" for f in q.facts}
    assert org_facts == {"org_type", "org_is_public_authority",
                         "org_has_appropriate_policy_document", "org_is_designated_agency"}
    facts: dict[str, Any] = {}
    for _ in range(40):
        question = rules.next_question(facts)
        if question is None:
            break
        assert question.origin == "practitioner"
        facts.update({f.fact: f.to_fact(f.options[0].value) for f in question.fields})


def _walk(facts: dict[str, Any], answers: dict[str, Any]) -> list[str]:
    """Answer each next question from `answers` and return the page ids asked."""
    asked = []
    while (question := rules.next_question(facts)) is not None:
        asked.append(question.id)
        for field in question.fields:
            facts[field.fact] = answers[field.fact]
        assert len(asked) < 30
    return asked


def test_typical_charity_case_needs_at_most_12_pages(charity_child: dict[str, Any]) -> None:
    answers = {**charity_child, "org_provides_services_for_relevant_person": False}
    asked = _walk(dict(ORG), answers)
    assert asked[0] == "immediate_risk"
    assert len(asked) <= 12, asked
    out = rules.evaluate({**ORG, **{k: answers[k] for k in answers if k in answers}},
                         "2026-03-01", with_would_change=False)
    assert out["recommendation"] == "lawful_to_share"


@pytest.mark.parametrize(("facts", "present", "absent"), [
    ({"trigger": "proactive"}, [], ["request_basis"]),
    ({"trigger": "request_received"}, ["request_basis"], []),
    ({"protected_person_age": "under_18"}, [], ["adult_at_risk"]),
    ({"protected_person_age": "adult"}, ["adult_at_risk"], []),
])
def test_conditional_questions(facts: dict[str, Any], present: list[str],
                               absent: list[str]) -> None:
    ids = _ids(rules.applicable_questions({**ORG, "immediate_risk": False, **facts}))
    for qid in present:
        assert qid in ids
    for qid in absent:
        assert qid not in ids


def _full(org: dict[str, Any], **extra: Any) -> list[str]:
    base = {"immediate_risk": False, "trigger": "proactive", "protected_person_age": "under_18",
            "data_special_category": True, "data_criminal_offence": False,
            "data_held_in_confidence": False, "data_collected_for_other_purpose": False,
            "purpose": "protect_from_harm_or_neglect", "sharing_necessary": "yes",
            "recipient_role_in_safeguarding": "yes", "recipient_is_competent_authority": False}
    return _ids(rules.applicable_questions({**org, **base, **extra}))


def test_strictly_necessary_only_in_part3() -> None:
    assert "strictly_necessary" in _full({"org_type": "police"}, law_enforcement_purpose=True)
    assert "strictly_necessary" not in _full({"org_type": "police"},
                                             law_enforcement_purpose=False)
    assert "strictly_necessary" not in _full(ORG)


def test_public_interest_question_only_when_held_in_confidence() -> None:
    assert "public_interest_outweighs_confidence" not in _full(ORG)
    assert "public_interest_outweighs_confidence" not in _full(ORG, data_held_in_confidence=True)
    asked = _full(ORG, data_held_in_confidence=True, consent_position="refused")
    assert "public_interest_outweighs_confidence" in asked
    assert "public_interest_outweighs_confidence" not in _full(
        ORG, data_held_in_confidence=True, consent_position="given")


def test_legitimate_interests_only_for_non_public_bodies() -> None:
    assert "legitimate_interests_balance" in _full(ORG)
    assert "legitimate_interests_balance" not in _full({"org_type": "la_childrens_services"})
    assert "legitimate_interests_balance" in _full({"org_type": "la_childrens_services"},
                                                   acting_in_public_tasks=False)


def test_not_needed_stops_the_wizard() -> None:
    ids = _full(ORG, sharing_necessary="no")
    assert ids[-1] == "necessity"


def test_prune_facts_drops_answers_that_no_longer_apply() -> None:
    facts = {**ORG, "immediate_risk": False, "trigger": "request_received",
             "request_basis": "court_order", "protected_person_age": "adult",
             "adult_has_care_and_support_needs": True}
    pruned = rules.prune_facts({**facts, "trigger": "proactive",
                                "protected_person_age": "under_18"})
    assert "request_basis" not in pruned
    assert "adult_has_care_and_support_needs" not in pruned
    assert pruned["org_type"] == "charity"
    everything_else_gone = rules.prune_facts({**facts, "immediate_risk": True})
    assert set(everything_else_gone) == {"org_type", "org_has_appropriate_policy_document",
                                         "immediate_risk"}


def test_field_conversions(rs: rules.RuleSet) -> None:
    question = next(q for q in rs.questions if q.id == "adult_at_risk")
    field = question.fields[0]
    assert field.to_fact("yes") is True and field.to_fact("no") is False
    assert field.from_fact(True) == "yes" and field.from_fact(False) == "no"
    with pytest.raises(ValueError):
        field.to_fact("perhaps")
    choice = next(q for q in rs.questions if q.id == "trigger").fields[0]
    assert choice.to_fact("proactive") == "proactive"
    assert choice.from_fact("request_received") == "request_received"


def test_questions_are_frozen(rs: rules.RuleSet) -> None:
    with pytest.raises(AttributeError):
        rs.questions[0].title = "changed"  # type: ignore[misc]
