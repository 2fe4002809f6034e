"""Hypothesis properties of the engine (profile "fast" by default, "deep" >= 10,000).

Facts are drawn from the allowed values of every fact, each possibly absent, with decision
dates across every commencement boundary and an optional s16LA commencement setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import rules
from rules.conditions import closure_condition, compile_condition
from rules.engine import LATE_TOPIC, Context, decide
from rules.model import MET, NOT_IN_FORCE, NOT_MET, UNKNOWN
from rules.output import recommendation_only, would_change, would_change_reference
from rules.whatif import ReadRecorder, _ReadTracer, value_classes

RS = rules.load_ruleset()
RECOMMENDATIONS = {"share_urgently", "do_not_share", "seek_advice", "duty_to_share",
                   "lawful_to_share"}
# Facts with documented defaults (spec: derived from org_type / default true). Removing them
# substitutes the default rather than making the fact unknown, so they are excluded from the
# "removing a fact" property.
DEFAULTED = {"org_is_public_authority", "acting_in_public_tasks", "org_is_designated_agency"}
KEY_DATES = [dt.date(2025, 6, 1), dt.date(2026, 2, 4), dt.date(2026, 2, 5),
             dt.date(2026, 9, 29), dt.date(2026, 9, 30), dt.date(2026, 12, 1)]


def _value(spec: rules.FactSpec, allow_unsure: bool) -> st.SearchStrategy[Any]:
    values = [v for v in spec.values if allow_unsure or v not in spec.unknown_values]
    return st.sampled_from(values)


def fact_sets(presence: float = 0.8, allow_unsure: bool = True
              ) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts of facts, each present with roughly the given probability."""
    def maybe(spec: rules.FactSpec) -> st.SearchStrategy[Any]:
        present = _value(spec, allow_unsure)
        return st.one_of(st.none(), present, present, present) if presence < 1 else present
    parts = {fid: maybe(spec) for fid, spec in RS.facts.items()}
    return st.fixed_dictionaries(parts).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


dates = st.one_of(st.sampled_from(KEY_DATES),
                  st.dates(dt.date(2018, 5, 25), dt.date(2027, 12, 31)))
org_settings = st.one_of(st.none(), st.builds(
    lambda d: {"s16la_commencement": d.isoformat()},
    st.dates(dt.date(2026, 6, 1), dt.date(2027, 6, 1))))


def _check_precedence(facts: dict[str, Any], out: dict[str, Any]) -> None:
    rec = out["recommendation"]
    if facts.get("immediate_risk") is True:
        assert rec == "share_urgently"
        return
    if "immediate_risk" not in facts:
        assert rec == "seek_advice"
        return
    if "no" in (facts.get("sharing_necessary"), facts.get("recipient_role_in_safeguarding")):
        assert rec == "do_not_share"
        return
    assert rec != "share_urgently"
    if rec == "duty_to_share":
        assert out["duties"]
    if rec == "lawful_to_share":
        assert out["lawful_bases"] and not out["duties"]
        assert out["confidentiality_route"] != "unresolved"
    if rec == "do_not_share":
        assert facts.get("data_held_in_confidence") is True
        assert facts.get("public_interest_outweighs_confidence") == "no"
        assert out["confidentiality_route"] == "unresolved" and not out["duties"]
    if rec == "seek_advice" and out["missing_facts"]:
        assert all(f not in facts or facts[f] in RS.facts[f].unknown_values
                   for f in out["missing_facts"])


@given(fact_sets(), dates, org_settings)
def test_one_recommendation_deterministic_replayable_and_in_precedence(
        facts: dict[str, Any], as_at: dt.date, org: dict[str, str] | None) -> None:
    out = rules.evaluate(facts, as_at, org, with_would_change=False)
    assert out["recommendation"] in RECOMMENDATIONS
    # replay re-evaluates and compares byte-identical JSON; feeding the facts in another
    # order also shows the output does not depend on input order.
    assert rules.replay(out, dict(reversed(list(facts.items()))), as_at, org)
    _check_precedence(facts, out)


@given(fact_sets(), dates)
def test_removing_a_fact_never_turns_seek_advice_into_a_confident_answer(
        facts: dict[str, Any], as_at: dt.date) -> None:
    settings = RS.effective_settings(None)
    if recommendation_only(RS, facts, as_at, settings) != "seek_advice":
        return
    for fid in facts:
        if fid in DEFAULTED:
            continue
        smaller = {k: v for k, v in facts.items() if k != fid}
        assert recommendation_only(RS, smaller, as_at, settings) == "seek_advice", fid


@given(fact_sets(presence=1.0, allow_unsure=False), dates)
def test_following_the_wizard_to_the_end_leaves_no_missing_facts(
        answers: dict[str, Any], as_at: dt.date) -> None:
    org_ids = {f for q in RS.questions if q.origin == "organisation" for f in q.facts}
    facts = {k: v for k, v in answers.items() if k in org_ids}
    for _ in range(40):
        question = rules.next_question(facts)
        if question is None:
            break
        facts.update({f.fact: answers[f.fact] for f in question.fields})
    else:
        raise AssertionError("wizard did not finish")
    out = rules.evaluate(facts, as_at, with_would_change=False)
    assert out["missing_facts"] == [], (out["missing_facts"], out["recommendation"])
    assert rules.prune_facts(facts) == facts


@hsettings(max_examples=max(20, hsettings().max_examples // 25))
@given(fact_sets(), dates)
def test_would_change_lists_exactly_the_changes(facts: dict[str, Any], as_at: dt.date) -> None:
    out = rules.evaluate(facts, as_at)
    if out["recommendation"] == "share_urgently":
        assert out["would_change"] == []
        return
    listed = {(c["fact"], repr(c["value"])): c["recommendation"] for c in out["would_change"]}
    settings = RS.effective_settings(None)
    for fid, spec in RS.facts.items():
        for value in spec.values:
            if fid in facts and facts[fid] == value and type(facts[fid]) is type(value):
                continue
            result = recommendation_only(RS, {**facts, fid: value}, as_at, settings)
            if result != out["recommendation"]:
                assert listed.pop((fid, repr(value))) == result
    assert listed == {}


@given(fact_sets(presence=0.6), dates, org_settings)
def test_optimised_would_change_equals_the_brute_force_reference(
        facts: dict[str, Any], as_at: dt.date, org: dict[str, str] | None) -> None:
    # would_change skips facts the decision never read and reuses the outcomes of rules that
    # cannot see the changed fact; the brute force re-decides everything for every value.
    settings = RS.effective_settings(org)
    current = recommendation_only(RS, facts, as_at, settings)
    fast = would_change(RS, facts, as_at, settings, current)
    assert fast == would_change_reference(RS, facts, as_at, settings, current)
    assert rules.to_json({"w": fast}) == rules.to_json(
        {"w": would_change_reference(RS, facts, as_at, settings, current)})


def test_read_recorder_notes_absent_facts_and_whole_walks() -> None:
    recorder = ReadRecorder({"trigger": "proactive"})
    assert recorder.get("immediate_risk") is None
    assert recorder.get("trigger") == "proactive"
    assert recorder.read == {"immediate_risk", "trigger"}
    assert "purpose" not in recorder and recorder.read >= {"purpose"}
    fresh = ReadRecorder({"trigger": "proactive", "purpose": "protect_from_harm_or_neglect"})
    assert sorted(fresh) == ["purpose", "trigger"] and fresh.read == {"purpose", "trigger"}


# The short cuts of the optimised would_change and the compiled conditions, each checked on
# its own against a plain re-computation, so that a failure names the short cut rather than
# only a differing would_change list.

EMPTY: frozenset[str] = frozenset()


def _reference_condition(cond: Mapping[str, Any], ctx: Context) -> tuple[str, frozenset[str]]:
    """The condition vocabulary interpreted directly (docs/rules.md), without compilation."""
    if "fact" in cond:
        return _reference_fact(cond, ctx)
    if "rule" in cond:
        outcome, missing = ctx.rule(cond["rule"])
        return (NOT_MET, EMPTY) if outcome == NOT_IN_FORCE else (outcome, missing)
    if "all" in cond:
        return _reference_kleene(cond["all"], ctx, NOT_MET, MET)
    if "any" in cond:
        return _reference_kleene(cond["any"], ctx, MET, NOT_MET)
    if "not" in cond:
        outcome, missing = _reference_condition(cond["not"], ctx)
        swap = {MET: NOT_MET, NOT_MET: MET}
        return (swap[outcome], EMPTY) if outcome in swap else (outcome, missing)
    if "const" in cond:
        return cond["const"], EMPTY
    if "recommendation" in cond:
        return (MET if ctx.recommendation in cond["recommendation"] else NOT_MET), EMPTY
    raise AssertionError(f"condition form not covered by the reference: {sorted(cond)}")


def _reference_fact(cond: Mapping[str, Any], ctx: Context) -> tuple[str, frozenset[str]]:
    spec = RS.facts[cond["fact"]]
    value = ctx.facts.get(spec.id)
    if value is None:
        if "otherwise" in cond:
            return _reference_condition(cond["otherwise"], ctx)
        return UNKNOWN, frozenset({spec.id})
    if cond.get("unsure"):
        return (MET if value in spec.unknown_values else NOT_MET), EMPTY
    if value in spec.unknown_values:
        return UNKNOWN, frozenset({spec.id})
    wanted = [cond["is"]] if "is" in cond else cond["in"]
    return (MET if value in wanted else NOT_MET), EMPTY


def _reference_kleene(children: list[Mapping[str, Any]], ctx: Context, decisive: str,
                      other: str) -> tuple[str, frozenset[str]]:
    unknown: set[str] = set()
    seen_unknown = False
    for child in children:
        outcome, missing = _reference_condition(child, ctx)
        if outcome == decisive:
            return decisive, EMPTY
        if outcome == UNKNOWN:
            seen_unknown = True
            unknown |= missing
    return (UNKNOWN, frozenset(unknown)) if seen_unknown else (other, EMPTY)


@given(fact_sets(presence=0.6), dates, org_settings)
def test_compiled_conditions_equal_the_vocabulary(
        facts: dict[str, Any], as_at: dt.date, org: dict[str, str] | None) -> None:
    # Every rule version's compiled evaluator (inline children, value tables) against the
    # direct interpretation, in a context where the referenced rules are already settled.
    settings = RS.effective_settings(org)
    ctx = Context(RS, facts, as_at, settings, None)
    for rid, rule in RS.rules.items():  # as build_output: requirement rules once decided
        if rule.topic != LATE_TOPIC:
            ctx.rule(rid)
    ctx.recommendation = decide(ctx)[0]
    for rid in RS.rules:
        ctx.rule(rid)
    for rule in RS.rules.values():
        for version in rule.versions:
            assert version.evaluate(ctx) == _reference_condition(version.when, ctx), rule.id


@given(dates, org_settings)
def test_version_table_equals_version_at(as_at: dt.date, org: dict[str, str] | None) -> None:
    settings = RS.effective_settings(org)
    table = RS.versions_at(as_at, settings)
    assert list(table) == list(RS.rules)
    for rid, (version, rule) in table.items():
        assert rule is RS.rules[rid]
        assert version is RS.version_at(rule, as_at, settings)


@hsettings(max_examples=max(20, hsettings().max_examples // 5))
@given(fact_sets(presence=0.6), dates, st.data())
def test_values_of_one_class_decide_alike(facts: dict[str, Any], as_at: dt.date,
                                          data: st.DataObject) -> None:
    settings = RS.effective_settings(None)
    fid = data.draw(st.sampled_from(sorted(RS.facts)))
    by_class: dict[int, set[str]] = {}
    for value, which in value_classes(RS)[fid].items():
        result = recommendation_only(RS, {**facts, fid: value}, as_at, settings)
        by_class.setdefault(which, set()).add(result)
    assert all(len(results) == 1 for results in by_class.values()), (fid, by_class)


def test_value_classes_merge_only_values_no_condition_tells_apart() -> None:
    classes = value_classes(RS)
    org = classes["org_type"]
    assert org["charity"] == org["other_private"]  # both "non-public body" everywhere
    assert org["charity"] != org["police"]
    for fid, class_of in classes.items():
        assert list(class_of) == list(RS.facts[fid].values)
        unsure = set(RS.facts[fid].unknown_values)
        for value, which in class_of.items():  # an 'unsure' value never joins a sure one
            assert all((v in unsure) == (value in unsure)
                       for v, w in class_of.items() if w == which)


@hsettings(max_examples=max(20, hsettings().max_examples // 5))
@given(fact_sets(presence=0.6), dates, org_settings, st.data())
def test_a_rule_that_did_not_read_a_fact_keeps_its_outcome(
        facts: dict[str, Any], as_at: dt.date, org: dict[str, str] | None,
        data: st.DataObject) -> None:
    settings = RS.effective_settings(org)
    base = _ReadTracer(RS, facts, as_at, settings, RS.versions_at(as_at, settings))
    decide(base)
    assert set().union(*base.reads.values()) == base.recorder.read
    fid = data.draw(st.sampled_from(sorted(RS.facts)))
    value = data.draw(st.sampled_from(RS.facts[fid].values))
    fresh = Context(RS, {**facts, fid: value}, as_at, settings, None)
    for rid, result in base.results.items():
        if fid not in base.reads[rid]:
            assert fresh.rule(rid) == result, (rid, fid, value)
    plain = Context(RS, facts, as_at, settings, None)  # the tracer's outcomes are the engine's
    assert all(plain.rule(rid) == result for rid, result in base.results.items())


def test_would_change_equals_the_reference_on_the_wizard_bench_case() -> None:
    # The case the submit benchmark evaluates: a charity, a child, special category data.
    facts = {"immediate_risk": False, "trigger": "proactive",
             "protected_person_age": "under_18", "data_special_category": True,
             "data_criminal_offence": False, "data_held_in_confidence": False,
             "data_collected_for_other_purpose": False,
             "purpose": "protect_from_harm_or_neglect", "sharing_necessary": "yes",
             "recipient_role_in_safeguarding": "yes",
             "recipient_is_competent_authority": False, "statutory_function": "none",
             "protective_function": False, "civil_contingencies_emergency": False,
             "consent_position": "would_prejudice_protection", "safe_to_inform": "yes",
             "substantial_public_interest": "yes",
             "legitimate_interests_balance": "favours_sharing", "org_type": "charity",
             "org_has_appropriate_policy_document": True, "org_is_designated_agency": False,
             "org_provides_services_for_relevant_person": False}
    for as_at in (dt.date(2026, 2, 4), dt.date(2026, 11, 30)):
        settings = RS.effective_settings({"s16la_commencement": "2026-09-30"})
        current = recommendation_only(RS, facts, as_at, settings)
        fast = would_change(RS, facts, as_at, settings, current)
        assert fast and fast == would_change_reference(RS, facts, as_at, settings, current)
        assert rules.evaluate(facts, as_at, settings)["would_change"] == fast


class _LookupLog(dict):  # type: ignore[type-arg]
    """Facts that log every look-up in order (the generated code must look up the same facts,
    in the same order, as the closures: 'what would change' relies on the reads it records)."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        super().__init__(facts)
        self.log: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.log.append(key)
        return super().get(key, default)


@given(fact_sets(presence=0.6), dates, org_settings)
def test_generated_conditions_equal_the_closures(
        facts: dict[str, Any], as_at: dt.date, org: dict[str, str] | None) -> None:
    # Every rule version and question condition, generated as one function, against the
    # closures it is generated from: same outcome, same unknown facts, same look-ups in order.
    settings = RS.effective_settings(org)
    ctx = Context(RS, facts, as_at, settings, None)
    for rid, rule in RS.rules.items():
        if rule.topic != LATE_TOPIC:
            ctx.rule(rid)
    ctx.recommendation = decide(ctx)[0]
    for rid in RS.rules:
        ctx.rule(rid)
    conditions = [(rule.id, version.when, version.evaluate)
                  for rule in RS.rules.values() for version in rule.versions]
    conditions += [(q.id, q.condition, RS.question_conditions[q.id])
                   for q in RS.questions if q.condition]
    logged = _LookupLog(facts)
    ctx.facts = logged
    for name, cond, generated in conditions:
        closure = closure_condition(cond, RS.facts)
        assert generated is not None and generated.__doc__, name  # generated, not a closure
        logged.log = []
        expected = closure(ctx)
        expected_log, logged.log = logged.log, []
        assert generated(ctx) == expected, name
        assert logged.log == expected_log, name


def test_generated_condition_covers_every_form_and_unsettled_rules() -> None:
    # A hand-made condition with every form nested (otherwise, not, const, recommendation,
    # all/any with rule references not yet evaluated), against the closures, on fresh contexts.
    cond = {"any": [
        {"all": [{"rule": "org.public_authority"},
                 {"not": {"fact": "immediate_risk", "is": True}},
                 {"fact": "acting_in_public_tasks", "is": True,
                  "otherwise": {"any": [{"const": "not_met"}, {"fact": "trigger", "unsure": True}]}}]},
        {"all": [{"recommendation": ["lawful_to_share", "duty_to_share"]},
                 {"fact": "purpose", "in": ["protect_from_harm_or_neglect", "prevent_or_detect_crime"]},
                 {"not": {"rule": "outcome.duty_to_share"}}]},
        {"const": "met"}]}
    generated = compile_condition(cond, RS.facts)
    closure = closure_condition(cond, RS.facts)
    assert generated.__doc__ and "def evaluate(ctx)" in generated.__doc__
    settings = RS.effective_settings(None)
    samples = [{}, {"immediate_risk": False}, {"immediate_risk": True, "trigger": "unsure"},
               {"org_type": "police", "acting_in_public_tasks": False,
                "purpose": "prevent_or_detect_crime", "immediate_risk": False}]
    for facts in samples:
        for recommendation in ("lawful_to_share", "seek_advice"):
            results = []
            for evaluator in (closure, generated):
                ctx = Context(RS, _LookupLog(facts), dt.date(2026, 11, 30), settings, None)
                ctx.recommendation = recommendation
                results.append((evaluator(ctx), ctx.facts.log, dict(ctx.memo)))
            assert results[0] == results[1], (facts, recommendation)
    for evaluator in (closure, generated):  # the recommendation is needed only if reached
        with pytest.raises(rules.RuleSetError):
            evaluator(Context(RS, {"immediate_risk": True}, dt.date(2026, 11, 30), settings, None))
