"""Hypothesis properties of the engine (profile "fast" by default, "deep" >= 10,000).

Facts are drawn from the allowed values of every fact, each possibly absent, with decision
dates across every commencement boundary and an optional s16LA commencement setting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import rules
from rules.output import recommendation_only, would_change, would_change_reference
from rules.whatif import ReadRecorder

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
