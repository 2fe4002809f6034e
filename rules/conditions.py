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

from collections.abc import Callable, Iterator, Mapping
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


def fact_tests(cond: Mapping[str, Any]) -> Iterator[tuple[str, frozenset[Any]]]:
    """Every fact condition anywhere in a condition as (fact id, wanted values): all that the
    evaluator of a present fact uses besides the fact's 'unsure' values (see _build_fact)."""
    if "fact" in cond:
        wanted = () if "unsure" in cond else [cond["is"]] if "is" in cond else cond.get("in", ())
        yield cond["fact"], frozenset(wanted)
    for key in ("all", "any"):
        for child in cond.get(key, ()):
            yield from fact_tests(child)
    for key in ("not", "otherwise"):
        if key in cond:
            yield from fact_tests(cond[key])


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


def _fact_table(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]
                ) -> tuple[str, dict[Any, tuple[str, frozenset[str]]]]:
    """(fact id, outcome per present value): Kleene semantics of a fact condition, worked out
    once. A value missing from the table is neither 'unsure' nor wanted, so not met."""
    spec = _fact_spec(cond, facts)
    wanted = _expected(cond, spec)
    fid, unsure_values = spec.id, frozenset(spec.unknown_values)
    missing = (UNKNOWN, frozenset({fid}))
    table: dict[Any, tuple[str, frozenset[str]]] = {}
    for value in (*spec.values, *unsure_values, *wanted):
        if cond.get("unsure"):
            table[value] = _RES_MET if value in unsure_values else _RES_NOT
        elif value in unsure_values:
            table[value] = missing
        else:
            table[value] = _RES_MET if value in wanted else _RES_NOT
    table[None] = missing  # absent: unknown, unless an 'otherwise' applies (see _build_fact)
    return fid, table


def _build_fact(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    fid, table = _fact_table(cond, facts)
    if "otherwise" not in cond:
        return lambda ctx: table.get(ctx.facts.get(fid), _RES_NOT)
    fallback = compile_condition(cond["otherwise"], facts)

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        value = ctx.facts.get(fid)
        return fallback(ctx) if value is None else table.get(value, _RES_NOT)

    return evaluate


def _build_rule(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    rid = cond["rule"]

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        # Most references are memo hits (every 'what would change' alternative re-reads the
        # rules it kept): look there first and save the call.
        result = ctx.memo.get(rid) or ctx.rule(rid)
        return _RES_NOT if result[0] == NOT_IN_FORCE else result

    return evaluate


# How a combiner runs a child: rule references and plain fact conditions are done inline
# (they are most children, and a call each is most of the cost), anything else is called.
_RULE, _FACT, _CALL = 0, 1, 2
_Part = tuple[int, Any, Any]


def _part(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> _Part:
    evaluator = compile_condition(cond, facts)  # also checks the vocabulary
    if "fact" in cond and "otherwise" not in cond:
        return (_FACT, *_fact_table(cond, facts))
    if "fact" not in cond and "rule" in cond:
        return (_RULE, cond["rule"], None)
    return (_CALL, evaluator, None)


def _children(cond: Mapping[str, Any], key: str,
              facts: Mapping[str, FactSpec]) -> tuple[_Part, ...]:
    items = cond[key]
    if not items:
        raise RuleSetError(f"'{key}' needs at least one condition")
    return tuple(_part(c, facts) for c in items)


def _combiner(parts: tuple[_Part, ...], decisive: str, other: str) -> Evaluator:
    """Kleene and/or: one decisive child settles it; else unknown if any child is unknown."""
    settled = (decisive, EMPTY)
    otherwise = (other, EMPTY)

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        unknown: frozenset[str] | None = None
        for kind, key, table in parts:
            if kind == _RULE:  # as _build_rule: not in force counts as not met
                outcome, missing = ctx.memo.get(key) or ctx.rule(key)
                if outcome == NOT_IN_FORCE:
                    outcome = NOT_MET
            elif kind == _FACT:
                outcome, missing = table.get(ctx.facts.get(key), _RES_NOT)
            else:
                outcome, missing = key(ctx)
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
