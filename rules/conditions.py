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
    """Turn one condition mapping into an evaluator; raise RuleSetError on bad vocabulary.

    The closures (`closure_condition`) define the semantics; the evaluator returned is the
    same condition generated as one Python function
    (`_generate`), which gives the same outcome and the same fact look-ups in the same order
    without a call per nested condition (tested against the closures and a plain
    interpreter). A condition too deeply nested to generate keeps its closure."""
    try:
        return _generate(cond, facts)  # checks the vocabulary as the closure builders do
    except (RecursionError, SyntaxError, MemoryError):  # pragma: no cover - no such rule yet
        return closure_condition(cond, facts)


def closure_condition(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    """The condition as nested closures (the definition the generated code follows)."""
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
    fallback = closure_condition(cond["otherwise"], facts)

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
    evaluator = closure_condition(cond, facts)  # also checks the vocabulary
    if "fact" in cond and "otherwise" not in cond:
        return (_FACT, *_fact_table(cond, facts))
    if "fact" not in cond and "rule" in cond:
        return (_RULE, cond["rule"], None)
    return (_CALL, evaluator, None)


def _child_conditions(cond: Mapping[str, Any], key: str) -> Any:
    """The children of an all/any condition (at least one)."""
    items = cond[key]
    if not items:
        raise RuleSetError(f"'{key}' needs at least one condition")
    return items


def _children(cond: Mapping[str, Any], key: str,
              facts: Mapping[str, FactSpec]) -> tuple[_Part, ...]:
    return tuple(_part(c, facts) for c in _child_conditions(cond, key))


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
    inner = closure_condition(cond["not"], facts)
    swap = {MET: NOT_MET, NOT_MET: MET}

    def evaluate(ctx: Any) -> tuple[str, frozenset[str]]:
        outcome, missing = inner(ctx)
        return (swap[outcome], EMPTY) if outcome in swap else (outcome, missing)

    return evaluate


def _const_value(cond: Mapping[str, Any]) -> str:
    """The outcome of a const condition (met or not_met)."""
    if cond["const"] not in (MET, NOT_MET):
        raise RuleSetError(f"const must be met or not_met, not {cond['const']!r}")
    return str(cond["const"])


def _build_const(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    result = (_const_value(cond), EMPTY)
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


# Generated evaluators ---------------------------------------------------------------------------
#
# The closures above cost a Python call per nested condition and a loop per combiner; 'what
# would change' re-decides dozens of times per submit, so the same semantics are also emitted
# as straight-line code, one function per condition: fact conditions are table look-ups, rule
# references read the memo first, combiners stop at the first decisive child (a flag, so the
# nesting of the code follows the nesting of the condition, not the number of children).


class _Emitter:
    """Writes the body of one generated evaluator; constants go into its namespace."""

    def __init__(self, facts: Mapping[str, FactSpec]) -> None:
        self.facts = facts
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"EMPTY": EMPTY, "RES_NOT": _RES_NOT, "RES_MET": _RES_MET,
                                      "RuleSetError": RuleSetError}
        self.count = 0

    def fresh(self) -> int:
        self.count += 1
        return self.count

    def const(self, value: Any) -> str:
        name = f"K{self.fresh()}"
        self.names[name] = value
        return name

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def node(self, cond: Mapping[str, Any], depth: int, out: str, uses: set[str]) -> None:
        """Code that sets o{out}, m{out} to the condition's outcome and unknown facts."""
        o, m = f"o{out}", f"m{out}"
        if "fact" in cond:
            fid, table = _fact_table(cond, self.facts)
            uses.add("facts")
            t = self.const(table)
            if "otherwise" not in cond:
                self.line(depth, f"{o}, {m} = {t}.get(facts.get({fid!r}), RES_NOT)")
                return
            v = f"v{self.fresh()}"
            self.line(depth, f"{v} = facts.get({fid!r})")
            self.line(depth, f"if {v} is None:")
            self.node(cond["otherwise"], depth + 1, out, uses)
            self.line(depth, "else:")
            self.line(depth + 1, f"{o}, {m} = {t}.get({v}, RES_NOT)")
            return
        if "rule" in cond:
            uses.add("memo")
            rid = cond["rule"]
            self.line(depth, f"{o}, {m} = memo.get({rid!r}) or ctx.rule({rid!r})")
            self.line(depth, f"if {o} == {NOT_IN_FORCE!r}:")
            self.line(depth + 1, f"{o}, {m} = RES_NOT")
            return
        if "all" in cond or "any" in cond:
            key = "all" if "all" in cond else "any"
            decisive, other = (NOT_MET, MET) if key == "all" else (MET, NOT_MET)
            self.combiner(_child_conditions(cond, key), decisive, other, depth, out, uses)
            return
        if "not" in cond:
            inner = str(self.fresh())
            self.node(cond["not"], depth, inner, uses)
            self.line(depth, f"if o{inner} == {MET!r}:")
            self.line(depth + 1, f"{o}, {m} = {NOT_MET!r}, EMPTY")
            self.line(depth, f"elif o{inner} == {NOT_MET!r}:")
            self.line(depth + 1, f"{o}, {m} = {MET!r}, EMPTY")
            self.line(depth, "else:")
            self.line(depth + 1, f"{o}, {m} = o{inner}, m{inner}")
            return
        if "const" in cond:
            self.line(depth, f"{o}, {m} = {_const_value(cond)!r}, EMPTY")
            return
        if "recommendation" in cond:
            wanted = self.const(frozenset(cond["recommendation"]))
            self.line(depth, "if ctx.recommendation is None:")
            self.line(depth + 1, "raise RuleSetError('a recommendation condition was used "
                                 "before the recommendation')")
            self.line(depth, f"{o}, {m} = RES_MET if ctx.recommendation in {wanted} else RES_NOT")
            return
        raise RuleSetError(f"unknown condition form: {sorted(cond)}")

    def combiner(self, children: Any, decisive: str, other: str, depth: int, out: str,
                 uses: set[str]) -> None:
        """Kleene and/or as in `_combiner`: the first decisive child settles it (later
        children are not evaluated); else unknown, with every unknown child's facts, if any
        child is unknown."""
        o, m, u = f"o{out}", f"m{out}", f"u{out}"
        self.line(depth, f"{o} = None")
        self.line(depth, f"{u} = None")
        for index, child in enumerate(children):
            inner = str(self.fresh())
            level = depth if index == 0 else depth + 1
            if index:
                self.line(depth, f"if {o} is None:")
            self.node(child, level, inner, uses)
            self.line(level, f"if o{inner} == {decisive!r}:")
            self.line(level + 1, f"{o}, {m} = {decisive!r}, EMPTY")
            self.line(level, f"elif o{inner} == {UNKNOWN!r}:")
            self.line(level + 1, f"{u} = m{inner} if {u} is None else {u} | m{inner}")
        self.line(depth, f"if {o} is None:")
        self.line(depth + 1, f"if {u} is None:")
        self.line(depth + 2, f"{o}, {m} = {other!r}, EMPTY")
        self.line(depth + 1, "else:")
        self.line(depth + 2, f"{o}, {m} = {UNKNOWN!r}, {u}")


def _generate(cond: Mapping[str, Any], facts: Mapping[str, FactSpec]) -> Evaluator:
    """One Python function for the whole condition (see the section comment)."""
    emitter = _Emitter(facts)
    uses: set[str] = set()
    emitter.node(cond, 1, "0", uses)
    head = ["def evaluate(ctx):"]
    if "facts" in uses:
        head.append("    facts = ctx.facts")
    if "memo" in uses:
        head.append("    memo = ctx.memo")
    source = "\n".join([*head, *emitter.lines, "    return (o0, m0)", ""])
    namespace = dict(emitter.names)
    exec(compile(source, "<rule condition>", "exec"), namespace)  # noqa: S102 - our own text
    evaluator: Evaluator = namespace["evaluate"]
    evaluator.__doc__ = source  # for debugging: the generated code
    return evaluator
