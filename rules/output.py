"""Assemble the contract output (spec/decision-model.md) and the 'what would change' list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .engine import LATE_TOPIC, Context, choose, decide, met_list
from .model import MET
from .ruleset import RuleSet
from .whatif import recommendation_only, would_change, would_change_reference

__all__ = ["build_output", "recommendation_only", "would_change", "would_change_reference"]

CHOICE_KEYS = ("regime", "confidentiality_route", "transparency", "purpose_compatibility",
               "human_rights")
SHARE_DECISIONS = ("duty_to_share", "lawful_to_share")  # other conclusions then matter too
LIST_KEYS = ("lawful_bases", "special_category_conditions", "criminal_offence_conditions",
             "part3_conditions", "duties")


def _evaluate_rules(ctx: Context, late: bool) -> None:
    """Evaluate every rule (for a complete trace); requirement rules only once decided."""
    for rid, rule in ctx.rs.rules.items():
        if (rule.topic == LATE_TOPIC) is late:
            ctx.rule(rid)


def build_output(rs: RuleSet, facts: Mapping[str, Any], as_at: dt.date,
                 settings: Mapping[str, dt.date], with_would_change: bool) -> dict[str, Any]:
    """Evaluate the rule set and return the spec output dict, keys in spec order."""
    trace: list[dict[str, Any]] = []
    ctx = Context(rs, facts, as_at, settings, trace)
    _evaluate_rules(ctx, late=False)
    recommendation, missing = decide(ctx)
    ctx.recommendation = recommendation
    _evaluate_rules(ctx, late=True)
    choices = {key: choose(ctx, rs.conclusions["choices"][key]) for key in CHOICE_KEYS}
    if recommendation in SHARE_DECISIONS:
        for _, extra in choices.values():
            missing = missing | extra
    out: dict[str, Any] = {"recommendation": recommendation,
                           "regime": choices["regime"][0]}
    for key in LIST_KEYS:
        out[key] = met_list(ctx, rs.conclusions["lists"][key])
    for key in CHOICE_KEYS[1:]:
        out[key] = choices[key][0]
    out["requirements"] = [r["id"] for r in rs.conclusions["requirements"]
                           if ctx.rule(r["rule"])[0] == MET]
    out["missing_facts"] = [f for f in rs.facts if f in missing]
    out["would_change"] = (would_change(rs, facts, as_at, settings, recommendation)
                           if with_would_change else [])
    out["ruleset_version"] = rs.version
    out["ruleset_digest"] = rs.digest
    out["trace"] = trace
    return out
