"""Build Question objects from the question YAML.

Kept apart from the loader so that the wording (which lawyers and content designers edit
often) has its own small, readable module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conditions import compile_condition
from .errors import RuleSetError
from .model import BOOL_TO_TEXT, Evaluator, FactSpec, Option, Question, QuestionField

_BOOL_LABELS = {"yes": "Yes", "no": "No"}


def _options(raw: Mapping[str, Any], spec: FactSpec) -> tuple[Option, ...]:
    given = {o["value"]: o for o in raw.get("options", ())}
    values = [BOOL_TO_TEXT[v] for v in spec.values] if spec.kind == "bool" else spec.values
    extra = set(given) - set(values)
    if extra:
        raise RuleSetError(f"question field '{spec.id}' has options {sorted(extra)} "
                           f"outside {spec.describe_allowed()}")
    if spec.kind == "choice" and set(given) != set(values):
        raise RuleSetError(f"question field '{spec.id}' must label every value")
    return tuple(Option(v, given.get(v, {}).get("label", _BOOL_LABELS.get(v, v)),
                        given.get(v, {}).get("hint", "")) for v in values)


def _field(raw: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> QuestionField:
    spec = facts.get(raw["fact"])
    if spec is None:
        raise RuleSetError(f"question sets unknown fact '{raw['fact']}'")
    return QuestionField(fact=spec.id, kind=spec.kind, label=raw["label"],
                         hint=raw.get("hint", ""), options=_options(raw, spec))


def build_questions(raw_questions: list[dict[str, Any]], facts: Mapping[str, FactSpec]
                    ) -> tuple[list[Question], dict[str, Evaluator | None]]:
    """Return questions in asking order (organisation first) and compiled conditions."""
    questions: list[Question] = []
    evaluators: dict[str, Evaluator | None] = {}
    for raw in raw_questions:
        if raw["id"] in evaluators:
            raise RuleSetError(f"question '{raw['id']}' declared twice")
        question = Question(
            id=raw["id"], title=raw["title"], hint=raw.get("hint", ""), why=raw["why"],
            citation=raw["citation"], url=raw["url"], origin=raw["origin"],
            fields=tuple(_field(f, facts) for f in raw["fields"]),
            condition=raw.get("ask_if"), section=raw.get("section", ""))
        questions.append(question)
        evaluators[question.id] = (compile_condition(raw["ask_if"], facts)
                                   if raw.get("ask_if") else None)
    questions.sort(key=lambda q: q.origin != "organisation")
    return questions, evaluators
