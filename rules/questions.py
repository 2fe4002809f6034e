"""Which questions to ask, in which order, and pruning of stale answers.

Question conditions use the same three-valued vocabulary as rules; an unanswered fact makes
a condition not hold, so questions come in a sensible order and only when they can matter.
Conditions may only refer to undated rules (checked at load), so no decision date is needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .api import load_ruleset
from .engine import Context, validate_facts
from .model import MET, Question
from .ruleset import RuleSet

_UNDATED = dt.date(2100, 1, 1)  # any date after every undated rule's start


def _applicable(rs: RuleSet, facts: Mapping[str, Any]) -> list[Question]:
    ctx = Context(rs, facts, _UNDATED, rs.effective_settings(None), None)
    result = []
    for question in rs.questions:
        if question.origin != "practitioner":
            continue
        evaluator = rs.question_conditions[question.id]
        if evaluator is None or evaluator(ctx)[0] == MET:
            result.append(question)
    return result


def applicable_questions(facts: Mapping[str, Any],
                         ruleset: RuleSet | None = None) -> list[Question]:
    """Practitioner questions whose condition holds on the facts so far, in asking order."""
    rs = ruleset or load_ruleset()
    return _applicable(rs, validate_facts(facts, rs))


def next_question(facts: Mapping[str, Any], ruleset: RuleSet | None = None) -> Question | None:
    """The first applicable practitioner question with an unanswered fact; None when done."""
    rs = ruleset or load_ruleset()
    clean = validate_facts(facts, rs)
    for question in _applicable(rs, clean):
        if any(fid not in clean for fid in question.facts):
            return question
    return None


def prune_facts(facts: Mapping[str, Any], ruleset: RuleSet | None = None) -> dict[str, Any]:
    """Drop answers to questions that no longer apply; organisation facts are kept.

    Repeats until stable, because dropping one answer can make a later question inapplicable.
    """
    rs = ruleset or load_ruleset()
    current = validate_facts(facts, rs)
    while True:
        keep = {fid for q in _applicable(rs, current) for fid in q.facts}
        pruned = {k: v for k, v in current.items()
                  if k in keep or rs.facts[k].origin == "organisation"}
        if pruned == current:
            return pruned
        current = pruned
