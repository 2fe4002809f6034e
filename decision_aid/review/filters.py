"""Reading the list filters from the query string, and the choices the filter panel offers.

Filters are a GET form (filtering changes nothing, so it needs no CSRF token and can be
bookmarked). Every value is checked against an allow-list; a value that fails is reported on the
page with GOV.UK wording and ignored, rather than reaching the query.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from decision_aid.models.decision import EMERGENCY_OUTCOME, OUTCOMES
from decision_aid.review.queue import EMERGENCY_FILTERS, STATUSES, QueueFilters

RECOMMENDATIONS = ("share_urgently", "duty_to_share", "lawful_to_share", "do_not_share", "seek_advice")
BASIS_RE = re.compile(r"^[a-z0-9_.]{1,60}$")

LABELS: dict[str, str] = {
    "awaiting": "Awaiting review", "reviewed": "Reviewed", "any": "All decisions",
    "share_urgently": "Share urgently", "duty_to_share": "Duty to share",
    "lawful_to_share": "Lawful to share", "do_not_share": "Do not share", "seek_advice": "Seek advice",
    "share_all": "Shared all", "share_part": "Shared part", "wait_for_advice": "Waiting for advice",
    EMERGENCY_OUTCOME: "Shared in an emergency",
    "awaiting_completion": "Emergency record awaiting completion",
    "overdue": "Emergency record overdue",
}
OUTCOME_LABELS = {**LABELS, "do_not_share": "Not shared"}


def label(value: Any) -> str:
    """Human wording for a stored code (falls back to the code with spaces)."""
    text = str(value or "")
    return LABELS.get(text, text.replace("_", " ").capitalize())


def lawful_basis_choices() -> list[str]:
    """The lawful bases the rule set can conclude (for the filter's select)."""
    ruleset = current_app.extensions.get("ruleset")
    try:
        return list(ruleset.conclusions["lists"]["lawful_bases"]["rules"])  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        return []


@dataclass
class ParsedFilters:
    """Filters plus the problems found while reading them (shown in an error summary)."""

    filters: QueueFilters
    errors: dict[str, str] = field(default_factory=dict)


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], errors: dict[str, str],
            message: str) -> str | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        errors[name] = message
        return None
    return value


def _date(args: Mapping[str, str], name: str, errors: dict[str, str], what: str) -> dt.date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = f"{what} must be a real date, like 2026-11-27"
        return None


def _misc(args: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    basis = (args.get("basis") or "").strip()
    if basis and not BASIS_RE.match(basis):
        errors["basis"] = "Select a lawful basis from the list"
    elif basis:
        out["basis"] = basis
    practitioner = (args.get("practitioner") or "").strip()
    if practitioner:
        try:
            out["practitioner"] = uuid.UUID(practitioner)
        except ValueError:
            errors["practitioner"] = "Select a practitioner from the list"
    departed = (args.get("departed") or "").strip()
    if departed in ("yes", "no"):
        out["departed"] = departed == "yes"
    elif departed:
        errors["departed"] = "Select whether the practitioner departed from the recommendation"
    out["not_shared"] = args.get("not-shared") == "yes"
    return out


def parse_filters(args: Mapping[str, str], default_status: str) -> ParsedFilters:
    """QueueFilters from request.args, with errors for values outside the allow-lists."""
    errors: dict[str, str] = {}
    status = _choice(args, "status", STATUSES, errors, "Select a review status") or default_status
    values = {
        "recommendation": _choice(args, "recommendation", RECOMMENDATIONS, errors, "Select a recommendation"),
        "outcome": _choice(args, "outcome", (*OUTCOMES, EMERGENCY_OUTCOME), errors, "Select a decision"),
        "emergency": _choice(args, "emergency", EMERGENCY_FILTERS, errors, "Select an emergency status"),
        "date_from": _date(args, "from", errors, "Date from"),
        "date_to": _date(args, "to", errors, "Date to"),
        **_misc(args, errors),
    }
    if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
        errors["to"] = "Date to must be the same as or after date from"
        values["date_to"] = None
    return ParsedFilters(QueueFilters(status=status, **values), errors)


def practitioner_choices(team_ids: tuple[int, ...] | None) -> list[tuple[str, str]]:
    """Staff whose decisions the list can show: members of the teams, or everyone (DPO)."""
    from sqlalchemy import select

    from decision_aid.extensions import db
    from decision_aid.models import Role, User, team_membership

    stmt = select(User.id, User.display_name).where(
        User.role.in_((Role.PRACTITIONER.value, Role.SUPERVISOR.value))).order_by(User.display_name)
    if team_ids is not None:
        members = select(team_membership.c.user_id).where(team_membership.c.team_id.in_(team_ids or (-1,)))
        stmt = stmt.where(User.id.in_(members))
    return [(str(uid), name) for uid, name in db.session.execute(stmt.limit(500)).all()]


def options(scope: Any) -> dict[str, list[tuple[str, str]]]:
    """(value, text) pairs for every select in the filter panel."""
    return {
        "status_options": [(s, label(s)) for s in STATUSES],
        "recommendation_options": [(r, label(r)) for r in RECOMMENDATIONS],
        "outcome_options": [(o, OUTCOME_LABELS.get(o, label(o))) for o in (*OUTCOMES, EMERGENCY_OUTCOME)],
        "basis_options": [(b, b) for b in lawful_basis_choices()],
        "practitioner_options": practitioner_choices(scope.team_ids),
    }
