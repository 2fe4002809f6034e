"""Turn the engine's output (ids and rule references) into words, citations and links.

Works from a stored result as well as a fresh one, so the records area can show a decision
exactly as it was made: every label comes from the trace the engine returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rules
from decision_aid.wizard.outcomes import RECOMMENDATION_TEXT

LIST_HEADINGS: dict[str, str] = {
    "lawful_bases": "Lawful basis",
    "special_category_conditions": "Conditions for special category data",
    "criminal_offence_conditions": "Conditions for criminal offence data",
    "part3_conditions": "Conditions for law enforcement processing",
    "duties": "Duties to share",
}
OUTCOME_TAGS: dict[str, tuple[str, str]] = {
    "met": ("Met", "govuk-tag--green"),
    "not_met": ("Not met", "govuk-tag--grey"),
    "unknown": ("Not known", "govuk-tag--yellow"),
    "not_in_force": ("Not in force", "govuk-tag--grey"),
}


@dataclass(frozen=True)
class Cited:
    """A conclusion or step with its title, explanation and (label, url) citations."""

    id: str
    title: str
    because: str = ""
    outcome: str = ""
    citations: list[tuple[str, str]] = field(default_factory=list)


def _steps_by_rule(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(step.get("rule")): step for step in result.get("trace", [])}


def _cited(rule_id: str, step: Mapping[str, Any] | None) -> Cited:
    if step is None:
        return Cited(rule_id, rule_id.replace("_", " "))
    labels = list(step.get("citations", []))
    urls = list(step.get("urls", [])) + [""] * len(labels)
    return Cited(rule_id, str(step.get("title") or rule_id), str(step.get("because", "")),
                 str(step.get("outcome", "")), list(zip(labels, urls[: len(labels)], strict=True)))


def conclusion_lists(result: Mapping[str, Any]) -> list[tuple[str, list[Cited]]]:
    """The non-empty lists (lawful bases, conditions, duties), each item with its citations."""
    steps = _steps_by_rule(result)
    return [(heading, [_cited(rid, steps.get(rid)) for rid in result.get(key, [])])
            for key, heading in LIST_HEADINGS.items() if result.get(key)]


def trace_steps(result: Mapping[str, Any]) -> list[Cited]:
    """The reasoning trace in the order the engine worked, as readable steps."""
    return [_cited(str(step.get("rule")), step) for step in result.get("trace", [])]


def requirement_texts(result: Mapping[str, Any], rs: rules.RuleSet) -> list[str]:
    """The requirements checklist in words (the rule set describes each requirement id)."""
    described = {r["id"]: r["description"] for r in rs.conclusions.get("requirements", [])}
    return [described.get(rid, rid.replace("_", " ").capitalize()) for rid in result.get("requirements", [])]


def _field_for(fact: str, rs: rules.RuleSet) -> rules.QuestionField | None:
    for question in rs.questions:
        for qfield in question.fields:
            if qfield.fact == fact:
                return qfield
    return None


def would_change_texts(result: Mapping[str, Any], rs: rules.RuleSet) -> list[str]:
    """'If <question> were <answer>, the recommendation would be: <text>'."""
    texts = []
    for change in result.get("would_change", []):
        qfield = _field_for(str(change["fact"]), rs)
        if qfield is None:
            continue
        value = qfield.from_fact(change["value"])
        answer = next((o.label for o in qfield.options if o.value == value), value)
        outcome = RECOMMENDATION_TEXT.get(change["recommendation"], change["recommendation"])
        texts.append(f"If the answer to ‘{qfield.label}’ were ‘{answer}’: {outcome.lower()}.")
    return texts


def recommendation_text(recommendation: str) -> str:
    """The recommendation in plain words."""
    return RECOMMENDATION_TEXT.get(recommendation, recommendation.replace("_", " ").capitalize())
