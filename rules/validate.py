"""Cross-file checks that JSON Schema cannot express.

These catch the mistakes that would otherwise surface as a wrong recommendation: a typo in a
rule id, a citation to an unregistered source, a cycle, a version gap, a fact nobody asks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from .conditions import references
from .errors import RuleSetError
from .model import RuleVersion
from .ruleset import ONE_DAY, RuleSet


def check_ruleset(rs: RuleSet) -> None:
    """Raise RuleSetError listing every cross-reference defect found."""
    problems = [*_rule_refs(rs), *_citations(rs), *_versions(rs), *_cycles(rs),
                *_conclusions(rs), *_questions(rs), *_unused_facts(rs)]
    if problems:
        raise RuleSetError(problems)


def _rule_refs(rs: RuleSet) -> Iterator[str]:
    for rule in rs.rules.values():
        for dep in rule.depends_on:
            if dep not in rs.rules:
                yield f"rule '{rule.id}' refers to unknown rule '{dep}'"


def _citations(rs: RuleSet) -> Iterator[str]:
    for rule in rs.rules.values():
        for version in rule.versions:
            for cite in version.citations:
                if cite.source not in rs.sources:
                    yield f"rule '{rule.id}' cites unknown source '{cite.source}'"
                if not cite.url.startswith("https://") and not cite.url.startswith("http://"):
                    yield f"rule '{rule.id}' citation '{cite.pinpoint}' lacks a URL"
    for spec in rs.settings.values():
        if spec.citation.source not in rs.sources:
            yield f"setting '{spec.id}' cites unknown source '{spec.citation.source}'"


def _versions(rs: RuleSet) -> Iterator[str]:
    for rule in rs.rules.values():
        yield from _version_settings(rs, rule.id, rule.versions)
        ordered = sorted(rule.versions, key=lambda v: v.valid_from)
        for before, after in itertools.pairwise(ordered):
            if before.valid_to is None or before.valid_to + ONE_DAY != after.valid_from:
                yield f"rule '{rule.id}' versions overlap or leave a gap at {after.valid_from}"
        for version in ordered:
            if version.valid_to is not None and version.valid_to < version.valid_from:
                yield f"rule '{rule.id}' has a version ending before it starts"


def _version_settings(rs: RuleSet, rid: str, versions: tuple[RuleVersion, ...]
                      ) -> Iterator[str]:
    for version in versions:
        for name, literal, shift in ((version.from_setting, version.valid_from, 0),
                                     (version.to_setting, version.valid_to, 1)):
            if name is None:
                continue
            if name not in rs.settings:
                yield f"rule '{rid}' uses unknown setting '{name}'"
            elif literal is None or literal + shift * ONE_DAY != rs.settings[name].default:
                yield f"rule '{rid}': literal date must match the default of setting '{name}'"


def _cycles(rs: RuleSet) -> Iterator[str]:
    state: dict[str, int] = {}

    def visit(rid: str, path: tuple[str, ...]) -> Iterator[str]:
        if state.get(rid) == 2 or rid not in rs.rules:
            return
        if state.get(rid) == 1:
            yield "cycle between rules: " + " -> ".join((*path, rid))
            return
        state[rid] = 1
        for dep in rs.rules[rid].depends_on:
            yield from visit(dep, (*path, rid))
        state[rid] = 2

    for rid in rs.rules:
        yield from visit(rid, ())


def _conclusion_rule_ids(rs: RuleSet) -> Iterator[str]:
    conc = rs.conclusions
    yield from (step["rule"] for step in conc["recommendation"]["steps"])
    for choice in conc["choices"].values():
        yield from (opt["rule"] for opt in choice["options"])
    for spec in conc["lists"].values():
        yield from spec["rules"]
        if spec.get("gate"):
            yield spec["gate"]
    yield from (req["rule"] for req in conc["requirements"])


def _conclusions(rs: RuleSet) -> Iterator[str]:
    for rid in _conclusion_rule_ids(rs):
        if rid not in rs.rules:
            yield f"conclusions refer to unknown rule '{rid}'"


def _questions(rs: RuleSet) -> Iterator[str]:
    seen: dict[str, str] = {}
    for question in rs.questions:
        for fid in question.facts:
            if fid in seen:
                yield f"fact '{fid}' is set by questions '{seen[fid]}' and '{question.id}'"
            seen[fid] = question.id
            if rs.facts[fid].origin != question.origin:
                yield f"fact '{fid}' origin differs from question '{question.id}'"
        if question.condition:
            yield from _question_condition(rs, question.id, question.condition)
    for fid in rs.facts:
        if fid not in seen:
            yield f"fact '{fid}' is not set by any question"
    first = next((q for q in rs.questions if q.origin == "practitioner"), None)
    if first is None or first.id != "immediate_risk":
        yield "the first practitioner question must be 'immediate_risk'"


def _question_condition(rs: RuleSet, qid: str, cond: Mapping[str, Any]) -> Iterator[str]:
    for rid in sorted(references(cond)[1]):
        rule = rs.rules.get(rid)
        if rule is None:
            yield f"question '{qid}' refers to unknown rule '{rid}'"
        elif len(rule.versions) != 1 or rule.versions[0].from_setting \
                or rule.versions[0].valid_to is not None:
            yield f"question '{qid}' refers to dated rule '{rid}' (questions have no date)"


def _unused_facts(rs: RuleSet) -> Iterator[str]:
    used: set[str] = set()
    for rule in rs.rules.values():
        for version in rule.versions:
            used |= references(version.when)[0]
    for fid in rs.facts:
        if fid not in used:
            yield f"fact '{fid}' is not used by any rule"
