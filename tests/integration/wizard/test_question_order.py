"""The wizard's once-per-request question list agrees with the rules package (issue 5).

`service._questions_now` works out the applicable questions and the next one to answer once
for a page; this walks random answer paths and checks both against `rules` itself at every step.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from decision_aid.models.decision import Draft
from decision_aid.wizard import service


@settings(deadline=None)
@given(choices=st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=40))
def test_applicable_and_next_match_the_rules_package(app_ctx: Flask, choices: list[int]) -> None:
    with app_ctx.test_request_context():  # the per-request memo is in use, as on a page
        _walk(choices)


def _walk(choices: list[int]) -> None:
    answers: dict[str, Any] = {}
    rs = service.ruleset()
    for pick in choices:
        draft = Draft(case_ref="CASE-0001", answers=dict(answers))
        facts = service.facts_for(draft)
        expected = rules.next_question(facts, ruleset=rs)
        for _ in range(2):  # the second time from the memo
            assert service.applicable(draft) == rules.applicable_questions(facts, ruleset=rs)
            assert service.next_question(draft) == expected
        if expected is None:
            return
        for field in expected.fields:
            option = field.options[pick % len(field.options)]
            answers[field.fact] = field.to_fact(option.value)
        answers = {k: v for k, v in rules.prune_facts({**answers, **service._org().engine_facts()},
                                                      ruleset=rs).items() if k in answers}
