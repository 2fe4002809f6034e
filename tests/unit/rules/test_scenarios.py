"""Run every YAML scenario as its own test case (id = file::name)."""

from __future__ import annotations

import pytest

import rules
from rules.scenarios import check_scenario, load_scenarios

_RS = rules.load_ruleset()
_SCENARIOS = load_scenarios(_RS)


def test_there_are_at_least_80_scenarios_named_as_sentences() -> None:
    assert len(_SCENARIOS) >= 80
    for scenario in _SCENARIOS:
        assert scenario.name[0].isupper() and scenario.name.endswith("."), scenario.name


def test_every_org_type_appears_in_some_scenario() -> None:
    used = {s.facts.get("org_type") for s in _SCENARIOS}
    assert set(_RS.facts["org_type"].values) <= used


def test_date_boundaries_are_covered() -> None:
    dates = {s.as_at for s in _SCENARIOS}
    assert {"2026-02-04", "2026-02-05", "2026-09-29", "2026-09-30"} <= dates


@pytest.mark.parametrize("scenario", _SCENARIOS, ids=[f"{s.file}::{s.name}" for s in _SCENARIOS])
def test_scenario(scenario) -> None:  # type: ignore[no-untyped-def]
    output, problems = check_scenario(_RS, scenario)
    trace = "\n".join(f"  {st['rule']}: {st['outcome']}" for st in output["trace"])
    assert not problems, "\n".join(problems) + "\ntrace:\n" + trace
