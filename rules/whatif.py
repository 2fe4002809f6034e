"""'What would change the answer': each (fact, other value) that changes the recommendation.

The brute-force definition (`would_change_reference`) re-decides the whole rule set once per
alternative fact value. It is kept as the reference that a Hypothesis test compares against,
because `would_change` takes three short cuts that must never change the output:

1. **Facts never read cannot matter.** The base decision runs with a `ReadRecorder` that
   notes every fact id the engine looks up, present or absent. Evaluation is deterministic:
   conditions see the facts only through that mapping, `all`/`any` short-circuit in a fixed
   order, and the memo and the date/settings do not depend on facts that were not looked up.
   So if fact f was never looked up, re-deciding with f changed replays exactly the same
   sequence of look-ups with the same answers and ends in the same recommendation. Because
   an absent fact is looked up too (it returns nothing, which means unknown, or an
   `otherwise` default), "absent means unknown" is covered: an absent fact that was consulted
   is tried with every value; one that was never consulted cannot change anything.
2. **Rules that did not read f keep their outcome.** The base decision also notes, per
   rule, every fact its evaluation looked up, counting the look-ups of every rule and
   exception it consulted (fresh or memoised). By the same replay argument, a rule whose
   evaluation never looked up f evaluates identically with f changed: each rule it consults
   did not look up f either, so by induction returns the same outcome. Re-deciding with f
   changed therefore starts from the base outcomes minus the rules that looked up f.
3. **Values no condition tells apart decide alike.** The engine sees a fact value only
   through fact conditions, each asking whether the value is 'unsure' and whether it is
   wanted (`value_classes`). Two values answering every condition of every rule version the
   same are in one class; re-deciding with either gives the same recommendation, so each
   class is re-decided once, and a value in the current value's class decides as the base.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from .conditions import EMPTY, fact_tests
from .engine import SHARE_URGENTLY, Context, Result, decide
from .model import NOT_IN_FORCE, NOT_MET
from .ruleset import RuleSet, VersionEntry


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


def _alternatives(rs: RuleSet, facts: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every (fact, allowed value) other than the current one, in facts.yaml order."""
    for fid, spec in rs.facts.items():
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


class _ReadTracer(Context):
    """The base decision, noting per rule every fact its evaluation looked up, including the
    look-ups of the rules and exceptions it consulted (fresh or already memoised).

    Outcomes are kept in `results`, not in `memo`: the memo stays empty so that every rule
    reference comes through `rule` (the evaluators look in the memo first) and a consulted
    rule's reads are added to its caller's even when its outcome is already known."""

    __slots__ = ("plain", "readers", "reads", "recorder", "results")

    def __init__(self, rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                 settings: Mapping[str, dt.date], versions: Mapping[str, VersionEntry]) -> None:
        self.plain, self.recorder = facts, ReadRecorder(facts)
        super().__init__(rs, self.recorder, as_at, settings, None, versions)
        self.results: dict[str, Result] = {}
        self.reads: dict[str, set[str]] = {}
        self.readers: dict[str, list[str]] = {}  # fact -> rules that read it (kept_without)

    def rule(self, rid: str) -> Result:
        """Outcome of a rule (as Context.rule, without a trace), noting what it read."""
        recorder = self.recorder
        outer = recorder.read
        hit = self.results.get(rid)
        if hit is None:
            recorder.read = set()
            version, rule = self.versions[rid]
            if version is None:
                hit = (NOT_IN_FORCE, EMPTY)
            else:
                hit = version.evaluate(self)
                if rule.exceptions and hit[0] != NOT_MET:
                    hit = self._exceptions(rule, hit)[0]
            self.results[rid] = hit
            self.reads[rid] = recorder.read
            recorder.read = outer
        outer |= self.reads[rid]
        return hit

    def kept_without(self, fid: str) -> dict[str, Result]:
        """The base outcomes of the rules whose evaluation did not look up fid."""
        if not self.readers:
            for rid, seen in self.reads.items():
                for read in seen:
                    self.readers.setdefault(read, []).append(rid)
        kept = self.results.copy()
        for rid in self.readers.get(fid, ()):
            del kept[rid]
        return kept

    def redecide(self, fid: str, value: Any, kept: dict[str, Result]) -> str:
        """The recommendation with fid set to value, reusing the kept outcomes."""
        ctx = Context(self.rs, {**self.plain, fid: value}, self.as_at, self.settings,
                      None, self.versions)
        ctx.memo = kept.copy()
        return decide(ctx)[0]


def would_change(rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                 settings: Mapping[str, dt.date], current: str) -> list[dict[str, Any]]:
    """Same list as `would_change_reference`, trying only facts the decision looked up,
    re-deciding once per class of values no condition tells apart and re-evaluating only the
    rules whose evaluation looked up the changed fact (see the module docstring)."""
    if current == SHARE_URGENTLY:
        return []
    base = _ReadTracer(rs, facts, as_at, settings, rs.versions_at(as_at, settings))
    base_result = decide(base)[0]
    classes = value_classes(rs)
    changes: list[dict[str, Any]] = []
    for fid in rs.facts:
        if fid in base.recorder.read:
            for value, result in _alternatives_of(base, base_result, fid, classes[fid]):
                if result != current:
                    changes.append({"fact": fid, "value": value, "recommendation": result})
    return changes


def _alternatives_of(base: _ReadTracer, base_result: str, fid: str,
                     class_of: Mapping[Any, int]) -> Iterator[tuple[Any, str]]:
    """(value, recommendation) for every allowed value of fid other than the current one,
    in facts.yaml order, re-deciding once per class of values (the current value's class
    decides as the base; an absent value is a class of its own)."""
    present = base.plain.get(fid)
    decided: dict[int, str] = {}
    if present is not None and present in class_of:
        decided[class_of[present]] = base_result
    kept: dict[str, Result] | None = None
    for value in base.rs.facts[fid].values:
        if present == value and type(present) is type(value):
            continue
        result = decided.get(class_of[value])
        if result is None:
            if kept is None:
                kept = base.kept_without(fid)
            result = decided[class_of[value]] = base.redecide(fid, value, kept)
        yield value, result


def value_classes(rs: RuleSet) -> dict[str, dict[Any, int]]:
    """Per fact, each allowed value's class: values that every condition on the fact (in
    every rule version) treats alike, being 'unsure' or not and wanted or not, share a
    class. The engine sees a fact only through those conditions, so changing a fact to
    another value of the same class re-decides exactly as before."""
    hit: dict[str, dict[Any, int]] | None = rs.derived.get("value_classes")
    if hit is None:
        tests: dict[str, list[frozenset[Any]]] = {fid: [] for fid in rs.facts}
        for rule in rs.rules.values():
            for version in rule.versions:
                for fid, wanted in fact_tests(version.when):
                    tests[fid].append(wanted)
        hit = {}
        for fid, spec in rs.facts.items():
            unsure = frozenset(spec.unknown_values)
            signatures: dict[tuple[bool, ...], int] = {}
            hit[fid] = {
                value: signatures.setdefault(
                    (value in unsure, *(value in wanted for wanted in tests[fid])),
                    len(signatures))
                for value in spec.values}
        rs.derived["value_classes"] = hit
    return hit
