"""Who may see a decision: ONE function, reused by records, review and the DPO screens.

architecture.md, "Roles and what each may see":

- practitioner: their own decisions only;
- supervisor: their own, plus decisions whose `team_id` is one of their teams (the team as
  stored on the decision when it was made, so moving a practitioner later changes nothing);
- dpo: every decision, read-only;
- admin: no access to decision content at all (not even decisions they somehow made).

A record id in a URL never grants access by itself: every route that shows decision content
goes through `get_viewable_decision_or_404`, and "not allowed" is the same 404 as "not there",
so probing ids reveals nothing.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import abort
from flask_login import current_user

from decision_aid.extensions import db
from decision_aid.models import Role
from decision_aid.models.decision import Decision

log = logging.getLogger(__name__)

# Reason codes, stored in access audit events (T36: "reason code").
OWN_DECISION = "own_decision"
TEAM_SUPERVISOR = "team_supervisor"
DPO_OVERSIGHT = "dpo_oversight"


def _team_ids(user: Any) -> set[int]:
    return {team.id for team in getattr(user, "teams", None) or ()}


def access_reason(user: Any, decision: Decision) -> str | None:
    """Why `user` may see `decision` (a reason code), or None when they may not.

    The reason goes into the access event, so the audit log says on what footing each view
    happened, not only that it happened.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "is_active", False):
        return None
    if user.has_role(Role.ADMIN):
        return None
    if user.has_role(Role.DPO):
        return DPO_OVERSIGHT
    if decision.practitioner_id == user.id:
        return OWN_DECISION
    if user.has_role(Role.SUPERVISOR) and decision.team_id is not None \
            and decision.team_id in _team_ids(user):
        return TEAM_SUPERVISOR
    return None


def can_view(user: Any, decision: Decision) -> bool:
    """True when `user` may see the decision's content (record, print view, PDF, notice)."""
    return access_reason(user, decision) is not None


def can_view_access_log(user: Any, decision: Decision) -> bool:
    """"Who has seen this record": the supervisors of the decision's team and the DPO only.

    A practitioner cannot audit who looked at their own record (that would expose colleagues'
    oversight work); an admin sees no decision content at all.
    """
    reason = access_reason(user, decision)
    if reason == DPO_OVERSIGHT:
        return True
    return (user is not None and reason is not None and user.has_role(Role.SUPERVISOR)
            and decision.team_id is not None and decision.team_id in _team_ids(user))


def get_viewable_decision_or_404(decision_id: uuid.UUID, *, record_denial: bool = True) -> Decision:
    """The decision if the signed-in user may see it; otherwise 404, identical to a missing id.

    A refused attempt on an existing decision is recorded as `record.access_denied` (T36:
    denied attempts are access events too); the response does not differ, so nothing leaks.
    Pass `record_denial=False` from inside a caller's own write transaction.
    """
    decision = db.session.get(Decision, decision_id)
    if decision is None:
        abort(404)
    if not can_view(current_user, decision):
        if record_denial:
            _record_denial(decision)
        abort(404)
    return decision


def _record_denial(decision: Decision) -> None:
    """Best effort: a failure to log a refusal must never turn the 404 into a 500."""
    from decision_aid.audit import events, record_event
    from decision_aid.database import write_transaction

    actor = current_user if getattr(current_user, "is_authenticated", False) else None
    try:
        with write_transaction():
            record_event(events.RECORD_ACCESS_DENIED, actor=actor, case_ref=decision.case_ref,
                         decision_ref=decision.reference, data={"outcome": "denied"})
    except Exception:  # pragma: no cover - logged, the 404 stands
        log.exception("could not record a refused access to %s", decision.reference)
