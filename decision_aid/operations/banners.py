"""Warnings every page layout can show: unapproved rules, and an overdue policy document review.

The layout includes a small component when `rules_unapproved` or `apd_review_overdue` is true.
Both are computed once per request and only where they matter, so ordinary pages pay nothing:
- wizard pages: the rule set in use is not signed off;
- record pages: *that* decision was made under rules not signed off when it was submitted;
- APD overdue: shown to admins and the DPO, who can act on it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from decision_aid import clock
from decision_aid.extensions import db
from decision_aid.models import Role
from decision_aid.models.decision import Decision
from decision_aid.operations import bp

log = logging.getLogger(__name__)

RULES_BANNER_AREAS = frozenset({"wizard", "records", "operations"})


def _signed_in() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


def _decision_in_url() -> Decision | None:
    value = (request.view_args or {}).get("decision_id")
    if not isinstance(value, uuid.UUID):
        return None
    return db.session.get(Decision, value)


def rules_unapproved_here() -> bool:
    """Whether this page should carry the 'rules not signed off' warning."""
    from decision_aid.operations import governance

    if not _signed_in() or request.blueprint not in RULES_BANNER_AREAS:
        return False
    decision = _decision_in_url() if request.blueprint == "records" else None
    if decision is not None:
        return governance.made_under_unapproved_rules(decision)
    if request.blueprint == "records":
        return False
    return not governance.ruleset_approved()


def apd_overdue_here() -> bool:
    """Whether to warn an admin or the DPO that the appropriate policy document review is overdue."""
    from decision_aid.organisation import current_organisation

    if not _signed_in() or not current_user.has_role(Role.ADMIN, Role.DPO):
        return False
    org = current_organisation(required=False)
    return bool(org and org.apd_review_overdue(clock.today()))


@bp.app_context_processor
def _banner_globals() -> dict[str, Any]:
    """Never let a banner break a page: a database error here just hides the banner."""
    try:
        return {"rules_unapproved": rules_unapproved_here(), "apd_review_overdue": apd_overdue_here()}
    except SQLAlchemyError:
        log.warning("could not work out page banners", exc_info=True)
        return {"rules_unapproved": False, "apd_review_overdue": False}
