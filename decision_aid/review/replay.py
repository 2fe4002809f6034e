"""Replay: re-evaluate a stored decision's facts under the current rule set and show what differs.

Read-only by construction: it reads the stored facts and result and returns a comparison; the
decision row is insert-only anyway. Reviewers use it to see whether a change in the encoded law
(a new rule-set version) would have changed the recommendation, bases or conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

import rules
from decision_aid.models.decision import Decision

COMPARED: tuple[tuple[str, str], ...] = (
    ("recommendation", "Recommendation"),
    ("regime", "Legal regime"),
    ("lawful_bases", "Lawful bases"),
    ("special_category_conditions", "Special category conditions"),
    ("criminal_offence_conditions", "Criminal offence conditions"),
    ("part3_conditions", "Part 3 conditions"),
    ("requirements", "Conditions to meet"),
    ("duties", "Duties"),
    ("confidentiality_route", "Confidentiality route"),
    ("transparency", "Telling the person"),
)


def _difference(key: str, heading: str, stored: Any, current: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "label": heading, "stored": stored, "current": current,
                           "changed": stored != current}
    if isinstance(stored, list) or isinstance(current, list):
        before, after = set(stored or []), set(current or [])
        row["added"] = sorted(after - before)
        row["removed"] = sorted(before - after)
    return row


def compare(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per compared output key, flagged when the two evaluations differ."""
    return [_difference(key, heading, stored.get(key), current.get(key)) for key, heading in COMPARED]


def _settings() -> dict[str, Any] | None:
    from decision_aid.organisation import current_organisation

    org = current_organisation(required=False)
    return org.engine_settings() if org else None


def replay(decision: Decision, ruleset: Any | None = None,
           settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate the stored facts at the stored 'as at' date with the current (or given) rule set."""
    rs = ruleset or current_app.extensions.get("ruleset") or rules.load_ruleset()
    stored = decision.result or {}
    report: dict[str, Any] = {
        "stored_version": decision.ruleset_version, "stored_digest": decision.ruleset_digest,
        "current_version": rs.version, "current_digest": rs.digest,
        "same_ruleset": decision.ruleset_digest == rs.digest, "error": None, "rows": [],
    }
    try:
        current = rules.evaluate(decision.facts, decision.as_at, settings if settings is not None else _settings(),
                                 ruleset=rs, with_would_change=False)
    except (rules.FactError, rules.RuleSetError) as exc:
        report["error"] = f"The stored answers cannot be evaluated under the current rules: {exc}"
        return report
    report["rows"] = compare(stored, current)
    report["changed"] = [row for row in report["rows"] if row["changed"]]
    return report
