"""'What would change the answer': each (fact, other value) that changes the recommendation.

The brute-force definition (`would_change_reference`) re-decides the whole rule set once per
alternative fact value. It is kept as the reference that a Hypothesis test compares against,
because `would_change` takes two short cuts that must never change the output:

1. **Facts never read cannot matter.** The base decision runs with a `ReadRecorder` that
   notes every fact id the engine looks up, present or absent. Evaluation is deterministic:
   conditions see the facts only through that mapping, `all`/`any` short-circuit in a fixed
   order, and the memo and the date/settings do not depend on facts that were not looked up.
   So if fact f was never looked up, re-deciding with f changed replays exactly the same
   sequence of look-ups with the same answers and ends in the same recommendation. Because
   an absent fact is looked up too (it returns nothing, which means unknown, or an
   `otherwise` default), "absent means unknown" is covered: an absent fact that was consulted
   is tried with every value; one that was never consulted cannot change anything.
2. **Rules that cannot see f keep their outcome.** A rule's outcome depends only on the facts
   its conditions name, directly or through the rules and exceptions it refers to (its
   static closure, an over-approximation of what any evaluation reads). Re-deciding with f
   changed therefore starts from the base memo minus the rules whose closure contains f.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from .conditions import references
from .engine import SHARE_URGENTLY, Context, Result, decide
from .ruleset import RuleSet


class ReadRecorder(Mapping[str, Any]):
    """The facts, remembering every id looked up (including ids that are absent)."""

    __slots__ = ("_facts", "read")

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self._facts = facts
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._facts[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The engine's only way in (see conditions._build_fact); recorded, then looked up."""
        self.read.add(key)
        return self._facts.get(key, default)

    def __iter__(self) -> Iterator[str]:
        # Whoever walks every fact may depend on any of them: count them all as read.
        self.read.update(self._facts)
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


def recommendation_only(rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                        settings: Mapping[str, dt.date]) -> str:
    """The recommendation alone, evaluating only the rules it needs (no trace)."""
    return decide(Context(rs, facts, as_at, settings, None))[0]


def _alternatives(rs: RuleSet, facts: Mapping[str, Any],
                  only: set[str] | None = None) -> Iterator[tuple[str, Any]]:
    """Every (fact, allowed value) other than the current one, in facts.yaml order."""
    for fid, spec in rs.facts.items():
        if only is not None and fid not in only:
            continue
        for value in spec.values:
            if facts.get(fid) == value and type(facts.get(fid)) is type(value):
                continue
            yield fid, value


def would_change_reference(rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                           settings: Mapping[str, dt.date], current: str
                           ) -> list[dict[str, Any]]:
    """Brute force: re-decide from scratch for every alternative (the test's oracle)."""
    if current == SHARE_URGENTLY:
        return []
    changes: list[dict[str, Any]] = []
    for fid, value in _alternatives(rs, facts):
        result = recommendation_only(rs, {**facts, fid: value}, as_at, settings)
        if result != current:
            changes.append({"fact": fid, "value": value, "recommendation": result})
    return changes


def would_change(rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                 settings: Mapping[str, dt.date], current: str) -> list[dict[str, Any]]:
    """Same list as `would_change_reference`, trying only facts the decision looked up and
    re-evaluating only the rules that can see the changed fact (see the module docstring)."""
    if current == SHARE_URGENTLY:
        return []
    recorder = ReadRecorder(facts)
    base = Context(rs, recorder, as_at, settings, None)
    decide(base)
    closures = fact_closures(rs)
    changes: list[dict[str, Any]] = []
    kept: dict[str, dict[str, Result]] = {}
    for fid, value in _alternatives(rs, facts, recorder.read):
        if fid not in kept:
            kept[fid] = {rid: res for rid, res in base.memo.items()
                         if fid not in closures[rid]}
        ctx = Context(rs, {**facts, fid: value}, as_at, settings, None)
        ctx.memo = dict(kept[fid])
        result = decide(ctx)[0]
        if result != current:
            changes.append({"fact": fid, "value": value, "recommendation": result})
    return changes


def fact_closures(rs: RuleSet) -> dict[str, frozenset[str]]:
    """Per rule, every fact any of its versions can read, directly or through other rules
    and exceptions; computed once per rule set (not at load, to keep start-up fast)."""
    if rs.fact_closures:
        return rs.fact_closures
    result: dict[str, frozenset[str]] = {}

    def closure(rid: str) -> frozenset[str]:
        hit = result.get(rid)
        if hit is None:
            rule = rs.rules[rid]
            found: set[str] = set()
            for version in rule.versions:
                found |= references(version.when)[0]
            for dep in rule.depends_on:  # referenced rules and exceptions; no cycles (checked)
                found |= closure(dep)
            hit = result[rid] = frozenset(found)
        return hit

    for rid in rs.rules:
        closure(rid)
    rs.fact_closures.update(result)
    return rs.fact_closures
