"""Who may review what, recording a verdict, and reading verdicts and timelines back.

Object-level rules (architecture.md, roles table): a supervisor reviews decisions whose team (the
practitioner's team when the decision was submitted) is one of the supervisor's teams, never
their own; the DPO reads every decision but records nothing. Anything else is a 404, the same
response as a decision that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort
from sqlalchemy import select

from decision_aid import audit, clock
from decision_aid.audit import events
from decision_aid.database import write_transaction
from decision_aid.extensions import db
from decision_aid.models import Role, User
from decision_aid.models.decision import Decision
from decision_aid.models.review import (
    REVIEWED,
    VERDICT_LABELS,
    Review,
    ReviewSelection,
    ReviewState,
)
from decision_aid.review.queue import Scope
from decision_aid.review.sampling import select_for_review

TIMELINE_LIMIT = 200
TIMELINE_LABELS = {
    events.DECISION_SUBMITTED: "Decision submitted",
    events.EMERGENCY_RECORDED: "Emergency sharing recorded",
    events.EMERGENCY_COMPLETED: "Emergency record completed",
    events.DECISION_CORRECTED: "Decision corrected",
    events.DECISION_RECONSIDERED: "Decision reconsidered",
    events.RECORD_VIEWED: "Record viewed",
    events.RECORD_PRINTED: "Print view opened",
    events.RECORD_PDF_DOWNLOADED: "PDF downloaded",
    events.RECORD_EXPORTED: "Record exported",
    events.RECORD_ACCESS_DENIED: "Access refused",
    events.REVIEW_RECORDED: "Review verdict recorded",
}


def team_ids(user: Any) -> tuple[int, ...]:
    """The user's current teams, as ids (sorted, so queries and caches are stable)."""
    return tuple(sorted(team.id for team in user.teams))


def scope_for(user: Any) -> Scope:
    """Supervisors see their teams' decisions except their own; the DPO sees everything."""
    if user.has_role(Role.DPO):
        return Scope(team_ids=None)
    return Scope(team_ids=team_ids(user), exclude_practitioner=user.id)


def may_review(user: Any, decision: Decision) -> bool:
    """A supervisor of the decision's team who did not make it."""
    return (user.has_role(Role.SUPERVISOR) and decision.team_id is not None
            and decision.team_id in team_ids(user) and decision.practitioner_id != user.id)


def may_read(user: Any, decision: Decision) -> bool:
    """Reviewers of the decision, and the DPO (read-only)."""
    return user.has_role(Role.DPO) or may_review(user, decision)


def decision_for(user: Any, decision_id: uuid.UUID, *, to_review: bool = False) -> Decision:
    """The decision if this user may read it (or review it, when asked); otherwise 404."""
    decision = db.session.get(Decision, decision_id)
    allowed = may_review if to_review else may_read
    if decision is None or not allowed(user, decision):
        abort(404)
    return decision


def record_verdict(decision: Decision, reviewer: Any, verdict: str, reasons: str) -> Review:
    """Insert the Review, mark the decision reviewed and append the audit event, in one transaction.

    The audit event carries ids and the verdict code only: reasons are free text and live in the
    review row, sealed under the case key (so disposal destroys them), never in the permanent chain.
    """
    with write_transaction():
        loaded = db.session.get(Decision, decision.id)  # re-read inside the write transaction
        assert loaded is not None
        decision = loaded
        review = Review(id=uuid.uuid4(), decision_id=decision.id, case_ref=decision.case_ref,
                        reviewer_id=reviewer.id, verdict=verdict, reasons=reasons.strip(),
                        created_at=clock.now())
        db.session.add(review)
        state = select_for_review(decision, db.session())  # the scope's Session, not the proxy
        state.review_status = REVIEWED
        state.latest_verdict = verdict
        audit.record_event(events.REVIEW_RECORDED, actor=reviewer, case_ref=decision.case_ref,
                           decision_ref=decision.reference,
                           data={"review_id": str(review.id), "decision_id": str(decision.id),
                                 "verdict": verdict})
    return review


def reviews_of(decision_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every verdict on a decision, newest first, with the reviewer's name (for the record)."""
    stmt = (select(Review, User.display_name).join(User, User.id == Review.reviewer_id)
            .where(Review.decision_id == decision_id)
            .order_by(Review.created_at.desc(), Review.id.desc()))
    return [
        {"id": str(review.id), "verdict": review.verdict,
         "verdict_label": VERDICT_LABELS.get(review.verdict, review.verdict),
         "reasons": review.reasons_text, "reasons_disposed": review.reasons_disposed,
         "reviewer": name, "created_at": review.created_at}
        for review, name in db.session.execute(stmt).all()
    ]


def state_of(decision_id: uuid.UUID) -> ReviewState | None:
    """The decision's oversight state row (None for decisions inserted around the ORM)."""
    return db.session.get(ReviewState, decision_id)


def selection_of(decision_id: uuid.UUID) -> ReviewSelection | None:
    """Why the decision was sampled for review (None if it was not)."""
    return db.session.get(ReviewSelection, decision_id)


def timeline(decision: Decision) -> list[dict[str, Any]]:
    """The decision's audit events, newest first (MOJ timeline), read from the hash chain."""
    from decision_aid.models.audit import AuditEvent

    stmt = (select(AuditEvent).where(AuditEvent.decision_ref == decision.reference)
            .order_by(AuditEvent.seq.desc()).limit(TIMELINE_LIMIT))
    items = []
    for event in db.session.scalars(stmt):
        details = audit.event_details(event)
        items.append({"seq": event.seq, "event_type": event.event_type, "occurred_at": event.occurred_at,
                      "actor": details["actor"], "data": details["data"],
                      "code": audit.verification_code(event)})
    return items


def record_for(decision: Decision, viewer: Any) -> Any | None:
    """The records area's assembled record (None if that area is not installed)."""
    try:
        from decision_aid.records.service import build_record
    except ImportError:
        return None
    return build_record(decision, viewer)


def record_view(user: Any, decision: Decision) -> None:
    """T36: opening the review page is an access to the record, logged once per request."""
    reason = "dpo_oversight" if user.has_role(Role.DPO) else "team_supervisor"
    with write_transaction():
        audit.record_event(events.RECORD_VIEWED, actor=user, case_ref=decision.case_ref,
                           decision_ref=decision.reference,
                           data={"document": "review", "reason": reason, "outcome": "allowed"})
