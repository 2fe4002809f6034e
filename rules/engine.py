"""Evaluate facts against the rule set and build the contract output.

Rules are evaluated lazily and memoised per evaluation; each rule records one trace step the
first time it is evaluated, dependencies first. The recommendation follows the precedence
list in conclusions.yaml (spec: share_urgently, do_not_share, seek_advice on a decisive
unknown, duty_to_share, lawful_to_share, do_not_share on confidence, seek_advice).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from .conditions import EMPTY
from .errors import FactError
from .model import MET, NOT_IN_FORCE, NOT_MET, UNKNOWN, Rule, RuleVersion
from .ruleset import RuleSet, VersionEntry

LATE_TOPIC = "requirements"
SHARE_URGENTLY = "share_urgently"
Result = tuple[str, frozenset[str]]
_NOT_IN_FORCE: Result = (NOT_IN_FORCE, EMPTY)


class Context:
    """One evaluation: facts, date, settings, memo and (optionally) the trace."""

    __slots__ = ("as_at", "facts", "memo", "recommendation", "rs", "settings", "trace",
                 "versions")

    def __init__(self, rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                 settings: Mapping[str, dt.date], trace: list[dict[str, Any]] | None,
                 versions: Mapping[str, VersionEntry] | None = None) -> None:
        self.rs, self.facts, self.as_at, self.settings = rs, facts, as_at, settings
        self.memo: dict[str, Result] = {}
        self.trace = trace
        self.recommendation: str | None = None
        # Which version of each rule applies depends only on the date and settings; callers
        # that make many contexts for the same date pass the table they already hold.
        self.versions = versions if versions is not None else rs.versions_at(as_at, settings)

    def rule(self, rid: str) -> Result:
        """Outcome of a rule, memoised; records a trace step on first evaluation."""
        hit = self.memo.get(rid)
        if hit is not None:
            return hit
        version, rule = self.versions[rid]
        overridden: str | None = None
        if version is None:
            result: Result = _NOT_IN_FORCE
        else:
            result = version.evaluate(self)
            if rule.exceptions and result[0] != NOT_MET:
                result, overridden = self._exceptions(rule, result)
        self.memo[rid] = result
        if self.trace is not None:
            self.trace.append(self._step(rule, version, result[0], overridden))
        return result

    def _exceptions(self, rule: Rule, result: Result) -> tuple[Result, str | None]:
        """Catala-style default logic: a met exception overrides the general rule."""
        unknown: set[str] = set()
        for ex in rule.exceptions:
            outcome, missing = self.rule(ex)
            if outcome == MET:
                return (NOT_MET, EMPTY), ex
            if outcome == UNKNOWN:
                unknown |= missing
        if unknown:
            return (UNKNOWN, frozenset(unknown | result[1])), None
        return result, None

    def _step(self, rule: Rule, version: RuleVersion | None, outcome: str,
              overridden: str | None) -> dict[str, Any]:
        cites, urls, facts_read, start = (self.rs.step_cache.get((rule.id, id(version)))
                                          or _static(self.rs, rule, version))
        if outcome == NOT_IN_FORCE:
            because = (f"Not in force on {_iso(self.as_at)}: no version of this rule covers "
                       "the decision date.")
        else:
            because = rule.explain[outcome]
        if overridden:
            because = f"{because} Overridden by exception '{overridden}'."
        if version is not None and version.from_setting:
            start = _iso(self.settings[version.from_setting])
        get = self.facts.get
        return {"rule": rule.id, "title": rule.title, "outcome": outcome, "because": because,
                "citations": [*cites], "urls": [*urls],
                "facts_used": {f: get(f) for f in facts_read},
                "version_from": start, "tag": rule.tag, "overridden_by": overridden}


@functools.lru_cache(maxsize=256)
def _iso(day: dt.date) -> str:
    return day.isoformat()


_Static = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str | None]


def _static(rs: RuleSet, rule: Rule, version: RuleVersion | None) -> _Static:
    """Per-version trace parts that never change, cached on the rule set for speed."""
    key = (rule.id, id(version))
    hit = rs.step_cache.get(key)
    if hit is None:
        cites, urls = citations(rs, rule, version)
        hit = (tuple(cites), tuple(urls), version.facts_read if version else (),
               version.valid_from.isoformat() if version else None)
        rs.step_cache[key] = hit
    return hit


def citations(rs: RuleSet, rule: Rule, version: RuleVersion | None
              ) -> tuple[list[str], list[str]]:
    """Printable citation labels and URLs; the first version's when not in force."""
    chosen = version or rule.versions[0]
    return ([c.label(rs.sources) for c in chosen.citations],
            [c.url for c in chosen.citations])


def decide(ctx: Context) -> tuple[str, frozenset[str]]:
    """Walk the precedence list: first met step wins; an unknown step means seek advice."""
    steps, on_unknown, fallback = _precedence(ctx.rs)
    memo, rule = ctx.memo, ctx.rule
    for rid, value in steps:
        outcome, missing = memo.get(rid) or rule(rid)
        if outcome == MET:
            return value, EMPTY
        if outcome == UNKNOWN:
            return on_unknown, missing
    return fallback, EMPTY


_Precedence = tuple[tuple[tuple[str, str], ...], str, str]


def _precedence(rs: RuleSet) -> _Precedence:
    """The recommendation spec as plain tuples, read once per rule set (decide runs once per
    'what would change' alternative)."""
    hit: _Precedence | None = rs.derived.get("precedence")
    if hit is None:
        spec = rs.conclusions["recommendation"]
        hit = rs.derived["precedence"] = (
            tuple((step["rule"], step["value"]) for step in spec["steps"]),
            spec["on_unknown"], spec["fallback"])
    return hit


def choose(ctx: Context, spec: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    """A single-valued conclusion: first met option, unless an earlier one is unknown."""
    for option in spec["options"]:
        outcome, missing = ctx.rule(option["rule"])
        if outcome == MET:
            return option["value"], EMPTY
        if outcome == UNKNOWN:
            return spec["if_unknown"], missing
    return spec["default"], EMPTY


def met_list(ctx: Context, spec: Mapping[str, Any]) -> list[str]:
    """Every met condition of a list (all of them, not just the first), behind its gate."""
    gate = spec.get("gate")
    if gate and ctx.rule(gate)[0] != MET:
        return []
    return [rid for rid in spec["rules"] if ctx.rule(rid)[0] == MET]


def validate_facts(facts: Mapping[str, Any], rs: RuleSet) -> dict[str, Any]:
    """Return the facts without nulls; raise FactError naming the fact and allowed values."""
    if not isinstance(facts, Mapping):
        raise FactError("facts must be a JSON object mapping fact ids to values")
    clean: dict[str, Any] = {}
    for key, value in facts.items():
        spec = rs.facts.get(key)
        if spec is None:
            raise FactError(f"unknown fact '{key}'; allowed facts: {', '.join(rs.facts)}")
        if value is None:
            continue
        if not spec.allows(value):
            raise FactError(f"fact '{key}': value {value!r} is not allowed; allowed values: "
                            f"{spec.describe_allowed()}")
        clean[key] = value
    return clean
