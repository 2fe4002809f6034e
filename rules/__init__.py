"""Safeguarding data-sharing rules engine (Flask-free).

Implements the contract in spec/decision-model.md: practitioner answers (facts) and a
decision date go in; a recommendation with legal citations and a replayable reasoning trace
comes out. The legal content lives in YAML under this package; see docs/rules.md.
"""

from __future__ import annotations

from .api import evaluate, load_ruleset, replay, to_json, validate_facts
from .errors import FactError, RuleSetError
from .model import FactSpec, Option, Question, QuestionField, Rule, RuleVersion, Source
from .questions import applicable_questions, next_question, prune_facts
from .ruleset import RuleSet

__all__ = [
    "FactError",
    "FactSpec",
    "Option",
    "Question",
    "QuestionField",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "RuleVersion",
    "Source",
    "applicable_questions",
    "evaluate",
    "load_ruleset",
    "next_question",
    "prune_facts",
    "replay",
    "to_json",
    "validate_facts",
]
