"""Engine behaviour: three-valued logic, dates, exceptions, output contract, errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import rules
from rules.conditions import closure_condition, compile_condition
from rules.engine import Context
from rules.errors import FactError, RuleSetError
from rules.model import MET, NOT_MET, UNKNOWN

OUTPUT_KEYS = ["recommendation", "regime", "lawful_bases", "special_category_conditions",
               "criminal_offence_conditions", "part3_conditions", "duties",
               "confidentiality_route", "transparency", "purpose_compatibility",
               "human_rights", "requirements", "missing_facts", "would_change",
               "ruleset_version", "ruleset_digest", "trace"]


def _eval(rs: rules.RuleSet, cond: dict[str, Any], facts: dict[str, Any]) -> str:
    ctx = Context(rs, facts, dt.date(2026, 3, 1), rs.effective_settings(None), None)
    return compile_condition(cond, rs.facts)(ctx)[0]


@pytest.mark.parametrize(("facts", "expected"), [
    ({}, UNKNOWN),
    ({"sharing_necessary": "unsure"}, UNKNOWN),
    ({"sharing_necessary": "yes"}, MET),
    ({"sharing_necessary": "no"}, NOT_MET),
])
def test_absent_or_unsure_fact_is_unknown_never_false(rs: rules.RuleSet,
                                                      facts: dict[str, Any],
                                                      expected: str) -> None:
    assert _eval(rs, {"fact": "sharing_necessary", "is": "yes"}, facts) == expected


def test_kleene_all_any_not(rs: rules.RuleSet) -> None:
    yes = {"fact": "immediate_risk", "is": True}
    unknown = {"fact": "sharing_necessary", "is": "yes"}
    facts = {"immediate_risk": True}
    assert _eval(rs, {"all": [yes, unknown]}, facts) == UNKNOWN
    assert _eval(rs, {"any": [yes, unknown]}, facts) == MET
    assert _eval(rs, {"all": [{"not": yes}, unknown]}, facts) == NOT_MET
    assert _eval(rs, {"not": unknown}, facts) == UNKNOWN


def test_otherwise_supplies_a_default_only_when_absent(rs: rules.RuleSet) -> None:
    cond = {"fact": "org_is_public_authority", "is": True,
            "otherwise": {"fact": "org_type", "in": ["police"]}}
    assert _eval(rs, cond, {"org_type": "police"}) == MET
    assert _eval(rs, cond, {"org_type": "police", "org_is_public_authority": False}) == NOT_MET
    assert _eval(rs, cond, {}) == UNKNOWN


def _trace(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["rule"]: step for step in out["trace"]}



@pytest.mark.parametrize("cond", [
    {"maybe": True},
    {"all": []},
    {"any": [{"const": "met"}, {"not": {"const": "perhaps"}}]},
    {"fact": "no_such_fact", "is": True},
    {"not": {"fact": "immediate_risk"}},
])
def test_bad_vocabulary_is_refused_by_both_evaluators(rs: rules.RuleSet,
                                                      cond: dict[str, Any]) -> None:
    """The generated evaluator checks the vocabulary itself (no closure is built first), with
    the same errors as the closures that define it."""
    errors = []
    for build in (compile_condition, closure_condition):
        with pytest.raises(RuleSetError) as raised:
            build(cond, rs.facts)
        errors.append(str(raised.value))
    assert errors[0] == errors[1]

def test_not_in_force_before_commencement(rs: rules.RuleSet, charity_child) -> None:
    before = _trace(rules.evaluate(charity_child, "2026-02-04", with_would_change=False))
    after = _trace(rules.evaluate(charity_child, dt.date(2026, 2, 5), with_would_change=False))
    assert before["uk_gdpr.6.1.ea.safeguarding"]["outcome"] == "not_in_force"
    assert before["uk_gdpr.6.1.ea.safeguarding"]["version_from"] is None
    assert after["uk_gdpr.6.1.ea.safeguarding"]["outcome"] == "met"
    assert after["uk_gdpr.6.1.ea.safeguarding"]["version_from"] == "2026-02-05"


def test_settings_move_a_dated_rule(rs: rules.RuleSet, charity_child) -> None:
    out = rules.evaluate(charity_child, "2026-03-01", {"rli_commencement": "2026-04-01"},
                         with_would_change=False)
    assert _trace(out)["uk_gdpr.6.1.ea.safeguarding"]["outcome"] == "not_in_force"


def test_exception_overrides_general_rule(rs: rules.RuleSet, charity_child) -> None:
    facts = {**charity_child, "org_type": "la_childrens_services",
             "statutory_function": "ca1989_s47"}
    facts.pop("legitimate_interests_balance")
    step = _trace(rules.evaluate(facts, "2026-03-01", with_would_change=False))[
        "uk_gdpr.6.1.ea.safeguarding"]
    assert step["outcome"] == "not_met"
    assert step["overridden_by"] == "org.public_authority_in_tasks"


def test_each_rule_is_evaluated_once_and_dependencies_come_first(charity_child) -> None:
    out = rules.evaluate(charity_child, "2026-03-01", with_would_change=False)
    order = [step["rule"] for step in out["trace"]]
    assert len(order) == len(set(order)) == len(rules.load_ruleset().rules)
    position = {rid: i for i, rid in enumerate(order)}
    for rid, rule in rules.load_ruleset().rules.items():
        for dep in rule.depends_on:
            assert position[dep] < position[rid], (dep, rid)


def test_spec_example_output(charity_child) -> None:
    out = rules.evaluate(charity_child, "2026-03-01")
    assert list(out) == OUTPUT_KEYS
    assert out["recommendation"] == "lawful_to_share"
    assert out["regime"] == "uk_gdpr"
    assert out["lawful_bases"] == ["uk_gdpr.6.1.ea.safeguarding"]
    assert out["special_category_conditions"] == ["dpa2018.sch1.18"]
    assert out["transparency"] == "withhold_risk_of_harm"
    assert out["human_rights"] == "not_applicable"
    assert {"fact": "consent_position", "value": "refused",
            "recommendation": "seek_advice"} in out["would_change"]
    json.dumps(out)


def test_trace_steps_carry_citations_and_facts(charity_child) -> None:
    step = _trace(rules.evaluate(charity_child, "2026-03-01", with_would_change=False))[
        "dpa2018.sch1.18.core"]
    assert step["outcome"] == "met"
    assert step["because"]
    assert any("Sch 1" in c for c in step["citations"])
    assert all(u.startswith("https://") for u in step["urls"])
    assert set(step["facts_used"]) == set()  # reads only other rules
    leaf = _trace(rules.evaluate(charity_child, "2026-03-01", with_would_change=False))[
        "consent.reason_listed"]
    assert leaf["facts_used"] == {"consent_position": "would_prejudice_protection"}


def test_replay_reproduces_and_detects_tampering(charity_child) -> None:
    out = json.loads(rules.to_json(rules.evaluate(charity_child, "2026-03-01")))
    assert rules.replay(out, charity_child, "2026-03-01")
    tampered = {**out, "recommendation": "do_not_share"}
    assert not rules.replay(tampered, charity_child, "2026-03-01")
    other_digest = {**out, "ruleset_digest": "sha256:" + "0" * 64}
    assert not rules.replay(other_digest, charity_child, "2026-03-01")


@pytest.mark.parametrize(("facts", "as_at", "settings", "fragment"), [
    ({"not_a_fact": True}, "2026-03-01", None, "unknown fact 'not_a_fact'"),
    ({"trigger": "maybe"}, "2026-03-01", None, "allowed values: proactive, request_received"),
    ({"immediate_risk": "yes"}, "2026-03-01", None, "allowed values: true, false"),
    ({}, "2026-13-01", None, "not a valid date"),
    ({}, "01/03/2026", None, "not a valid date"),
    ({}, "2026-03-01", {"s16la_commencement": "soon"}, "not a valid date"),
    ({}, "2026-03-01", {"unknown_setting": "2026-01-01"}, "unknown setting"),
])
def test_bad_input_raises_one_line_fact_error(facts: dict[str, Any], as_at: str,
                                              settings: dict[str, Any] | None,
                                              fragment: str) -> None:
    with pytest.raises(FactError) as info:
        rules.evaluate(facts, as_at, settings)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_validate_facts_accepts_good_and_rejects_bad(charity_child) -> None:
    rules.validate_facts(charity_child)
    with pytest.raises(FactError):
        rules.validate_facts({"purpose": "fun"})


def test_share_urgently_has_no_would_change() -> None:
    out = rules.evaluate({"org_type": "charity", "immediate_risk": True}, "2026-03-01")
    assert out["recommendation"] == "share_urgently"
    assert out["would_change"] == []
    assert "complete_record_after_emergency" in out["requirements"]


def test_would_change_entries_really_change_the_recommendation(charity_child) -> None:
    out = rules.evaluate(charity_child, "2026-03-01")
    assert out["would_change"]
    for change in out["would_change"]:
        again = rules.evaluate({**charity_child, change["fact"]: change["value"]},
                               "2026-03-01", with_would_change=False)
        assert again["recommendation"] == change["recommendation"] != out["recommendation"]


def test_none_values_are_treated_as_unknown(charity_child) -> None:
    out = rules.evaluate({**charity_child, "sharing_necessary": None}, "2026-03-01",
                         with_would_change=False)
    assert out["recommendation"] == "seek_advice"
    assert out["missing_facts"] == ["sharing_necessary"]
