"""Compile the condition vocabulary into three-valued evaluator closures.

Vocabulary (the whole language, see docs/rules.md):
``{fact: id, is: v}``, ``{fact: id, in: [..]}`` (optional ``otherwise: <condition>`` used when
the fact is absent), ``{fact: id, unsure: true}``, ``{rule: id}``, ``{all: [..]}``,
``{any: [..]}``, ``{not: c}``, ``{const: met|not_met}``, ``{recommendation: [..]}``.

Kleene logic: an absent fact, or an 'unsure' answer, is unknown, never false. Each evaluator
returns the outcome and the set of unknown facts that made it unknown (empty unless the
outcome is unknown), so that ``missing_facts`` names only facts that actually matter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import RuleSetError
from .model import MET, NOT_IN_FORCE, NOT_MET, UNKNOWN, Evaluator, FactSpec

EMPTY: frozenset[str] = frozenset()
_RES_MET = (MET, EMPTY)
_RES_NOT = (NOT_MET, EMPTY)


def compile_condition(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    """Turn one condition mapping into a closure; raise RuleSetError on bad vocabulary."""
    for key, builder in _BUILDERS:
        if key in cond:
            return builder(cond, facts)
    raise RuleSetError(f"unknown condition form: {sorted(cond)}")


def references(cond: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Return (fact ids read directly, rule ids referenced) anywhere in a condition."""
    facts: set[str] = set()
    rules: set[str] = set()
    _walk(cond, facts, rules)
    return facts, rules


def _walk(cond: Mapping[str, Any], facts: set[str], rules: set[str]) -> None:
    if "fact" in cond:
        facts.add(cond["fact"])
    if "rule" in cond:
        rules.add(cond["rule"])
    for key in ("all", "any"):
        for child in cond.get(key, ()):
            _walk(child, facts, rules)
    for key in ("not", "otherwise"):
        if key in cond:
            _walk(cond[key], facts, rules)


def _fact_spec(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> FactSpec:
    spec = facts.get(cond["fact"])
    if spec is None:
        raise RuleSetError(f"condition reads unknown fact '{cond['fact']}'")
    return spec


def _expected(cond: Mapping[str, Any], spec: FactSpec) -> frozenset[Any]:
    if "unsure" in cond:
        return frozenset()
    wanted = [cond["is"]] if "is" in cond else list(cond.get("in", ()))
    if not wanted:
        raise RuleSetError(f"condition on '{spec.id}' needs 'is' or 'in'")
    for value in wanted:
        if not spec.allows(value):
            raise RuleSetError(f"condition on '{spec.id}' uses value {value!r} outside "
                               f"{spec.describe_allowed()}")
    return frozenset(wanted)


def _build_fact(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    spec = _fact_spec(cond, facts)
    wanted = _expected(cond, spec)
    fid, unsure_values = spec.id, frozenset(spec.unknown_values)
    missing = (UNKNOWN, frozenset({fid}))
    fallback = compile_condition(cond["otherwise"], facts) if "otherwise" in cond else None
    want_unsure = bool(cond.get("unsure"))

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        value = ctx.facts.get(fid)
        if value is None:
            return fallback(ctx) if fallback is not None else missing
        if want_unsure:
            return _RES_MET if value in unsure_values else _RES_NOT
        if value in unsure_values:
            return missing
        return _RES_MET if value in wanted else _RES_NOT

    return evaluate


def _build_rule(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    rid = cond["rule"]

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        outcome, unknown = ctx.rule(rid)
        return (NOT_MET, EMPTY) if outcome == NOT_IN_FORCE else (outcome, unknown)

    return evaluate


def _children(cond: Mapping[str, Any], key: str,
              facts: Mapping[str, FactSpec]) -> tuple[Evaluator, ...]:
    items = cond[key]
    if not items:
        raise RuleSetError(f"'{key}' needs at least one condition")
    return tuple(compile_condition(c, facts) for c in items)


def _combiner(parts: tuple[Evaluator, ...], decisive: str, other: str) -> Evaluator:
    """Kleene and/or: one decisive child settles it; else unknown if any child is unknown."""
    settled = (decisive, EMPTY)
    otherwise = (other, EMPTY)

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        unknown: frozenset[str] | None = None
        for part in parts:
            outcome, missing = part(ctx)
            if outcome == decisive:
                return settled
            if outcome == UNKNOWN:
                unknown = missing if unknown is None else unknown | missing
        return otherwise if unknown is None else (UNKNOWN, unknown)

    return evaluate


def _build_all(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    return _combiner(_children(cond, "all", facts), NOT_MET, MET)


def _build_any(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    return _combiner(_children(cond, "any", facts), MET, NOT_MET)


def _build_not(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    inner = compile_condition(cond["not"], facts)
    swap = {MET: NOT_MET, NOT_MET: MET}

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        outcome, missing = inner(ctx)
        return (swap[outcome], EMPTY) if outcome in swap else (outcome, missing)

    return evaluate


def _build_const(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    if cond["const"] not in (MET, NOT_MET):
        raise RuleSetError(f"const must be met or not_met, not {cond['const']!r}")
    result = (cond["const"], EMPTY)
    return lambda ctx: result


def _build_recommendation(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    wanted = frozenset(cond["recommendation"])

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        if ctx.recommendation is None:
            raise RuleSetError("a recommendation condition was used before the recommendation")
        return _RES_MET if ctx.recommendation in wanted else _RES_NOT

    return evaluate


_BUILDERS: tuple[tuple[str, Callable[..., Evaluator]], ...] = (
    ("fact", _build_fact),
    ("rule", _build_rule),
    ("all", _build_all),
    ("any", _build_any),
    ("not", _build_not),
    ("const", _build_const),
    ("recommendation", _build_recommendation),
)
