"""Run the YAML scenarios and measure rule-version coverage.

Scenarios are written from the legal reference, not from engine output; a failing scenario
is either an engine bug or a legal disagreement, and both need a human.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .api import evaluate
from .errors import FactError, RuleSetError
from .loader import _registry, read_yaml, validate_file
from .model import MET, NOT_MET
from .ruleset import RuleSet, parse_date


@dataclass(frozen=True)
class Scenario:
    """One named case: facts and date in, expected conclusions out."""

    file: str
    name: str
    as_at: str
    facts: Mapping[str, Any]
    settings: Mapping[str, Any]
    expect: Mapping[str, Any]


def load_scenarios(rs: RuleSet) -> list[Scenario]:
    """Read and schema-check every scenario file under the rule set directory."""
    registry = _registry(rs.directory)
    result: list[Scenario] = []
    names: set[str] = set()
    for path in sorted((rs.directory / "scenarios").glob("*.yaml")):
        data = read_yaml(path)
        validate_file(data, "scenarios", registry, path.name)
        for item in data:
            if item["name"] in names:
                raise RuleSetError(f"{path.name}: duplicate scenario name '{item['name']}'")
            names.add(item["name"])
            result.append(Scenario(path.name, item["name"], item["as_at"], item["facts"],
                                   item.get("settings", {}), item["expect"]))
    return result


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, list) and isinstance(actual, list):
        return sorted(map(str, actual)) == sorted(map(str, expected))
    return bool(actual == expected)


def check_scenario(rs: RuleSet, scenario: Scenario) -> tuple[dict[str, Any], list[str]]:
    """Evaluate a scenario; return the output and a list of mismatch messages."""
    output = evaluate(scenario.facts, scenario.as_at, scenario.settings, ruleset=rs,
                      with_would_change="would_change" in scenario.expect)
    problems = [f"{key}: expected {want!r}, got {output.get(key)!r}"
                for key, want in scenario.expect.items()
                if key != "rules" and not _same(output.get(key), want)]
    outcomes = {step["rule"]: step["outcome"] for step in output["trace"]}
    for rid, want in scenario.expect.get("rules", {}).items():
        if outcomes.get(rid) != want:
            problems.append(f"rule {rid}: expected {want}, got {outcomes.get(rid)}")
    return output, problems


def run_all(rs: RuleSet) -> Iterator[tuple[Scenario, dict[str, Any] | None, list[str]]]:
    """Yield (scenario, output, problems) for every scenario; bad facts are problems too."""
    for scenario in load_scenarios(rs):
        try:
            output, problems = check_scenario(rs, scenario)
        except FactError as exc:
            yield scenario, None, [str(exc)]
            continue
        yield scenario, output, problems


def is_constant(rs: RuleSet, rid: str) -> bool:
    """A rule whose only condition is a constant cannot be both met and not met."""
    return all(set(v.when) == {"const"} for v in rs.rules[rid].versions)


Results = list[tuple[Scenario, dict[str, Any] | None, list[str]]]


def coverage(rs: RuleSet, results: Results | None = None) -> dict[tuple[str, int], set[str]]:
    """Outcomes seen per (rule id, version index) across all scenarios."""
    seen: dict[tuple[str, int], set[str]] = {
        (rid, i): set() for rid, rule in rs.rules.items() for i in range(len(rule.versions))}
    for scenario, output, _ in (results if results is not None else run_all(rs)):
        if output is None:
            continue
        settings = rs.effective_settings(scenario.settings)
        as_at = parse_date(scenario.as_at, "as_at")
        for step in output["trace"]:
            rule = rs.rules[step["rule"]]
            version = rs.version_at(rule, as_at, settings)
            if version is not None:
                seen[(rule.id, rule.versions.index(version))].add(step["outcome"])
    return seen


def coverage_gaps(rs: RuleSet, seen: Mapping[tuple[str, int], set[str]]) -> list[str]:
    """Rule versions lacking a met or a not-met scenario (constant rules excepted)."""
    gaps = []
    for (rid, index), outcomes in seen.items():
        if is_constant(rs, rid):
            continue
        missing = [o for o in (MET, NOT_MET) if o not in outcomes]
        if missing:
            start = rs.rules[rid].versions[index].valid_from.isoformat()
            gaps.append(f"{rid} (version from {start}): never {' or '.join(missing)}")
    return sorted(gaps)


def scenario_path(rs: RuleSet) -> Path:
    """Directory holding the scenario files."""
    return rs.directory / "scenarios"
