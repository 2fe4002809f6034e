"""A decision's current state, derived from later rows: decisions themselves never change.

An emergency record stays flagged until a full record pointing at it (completes_decision_id)
exists; nothing is written back to the emergency decision.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import defer

from decision_aid.extensions import db
from decision_aid.models import User
from decision_aid.models.decision import Decision


def completed_ids(decision_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these emergency decisions have a completing full record (one query for a list)."""
    ids = list(decision_ids)
    if not ids:
        return set()
    rows = db.session.scalars(select(Decision.completes_decision_id).where(
        Decision.completes_decision_id.in_(ids)))
    return {row for row in rows if row is not None}


def emergency_pending(decision: Decision) -> bool:
    """True for an emergency record whose full record has not been completed yet."""
    return decision.emergency and decision.id not in completed_ids([decision.id])


def emergency_overdue(decision: Decision, now: dt.datetime) -> bool:
    """True when an emergency record is still pending after its completion deadline."""
    due = decision.emergency_due_at
    return due is not None and now > due and emergency_pending(decision)


def completion_of(decision: Decision) -> Decision | None:
    """The full record completing an emergency decision, if there is one."""
    return db.session.scalars(select(Decision).where(
        Decision.completes_decision_id == decision.id).order_by(Decision.submitted_at)).first()


PAGE_SIZE = 50
# The list shows references, dates and status only: the sealed content (tens of KB a decision)
# and the JSON columns stay in the database, so a long history costs neither time nor memory.
_NOT_LISTED = (Decision.content_ciphertext, Decision.facts, Decision.answers_stored,
               Decision.result_stored, Decision.sharing_stored)


def decisions_for_practitioner(user: User, older_than: Decision | None = None,
                               limit: int = PAGE_SIZE) -> list[Decision]:
    """One page of the user's own decisions, newest first: `limit` + 1 rows (the extra one only
    says that older decisions exist). Keyset on (submitted_at, id), never OFFSET."""
    stmt = (select(Decision).where(Decision.practitioner_id == user.id)
            .options(*(defer(column) for column in _NOT_LISTED))
            .order_by(Decision.submitted_at.desc(), Decision.id.desc()).limit(limit + 1))
    if older_than is not None:
        at, key = older_than.submitted_at, older_than.id
        stmt = stmt.where(or_(Decision.submitted_at < at,
                              and_(Decision.submitted_at == at, Decision.id < key)))
    return list(db.session.scalars(stmt))


def own_decision_by_reference(reference: str, user: User) -> Decision | None:
    """The user's decision with this reference (where an older page starts), or None."""
    return db.session.scalars(select(Decision).options(*(defer(c) for c in _NOT_LISTED)).where(
        Decision.reference == reference, Decision.practitioner_id == user.id)).first()


def find_own_decision(decision_id: uuid.UUID, user: User) -> Decision | None:
    """The user's own decision, or None: someone else's looks exactly like a missing one."""
    return db.session.scalars(select(Decision).where(
        Decision.id == decision_id, Decision.practitioner_id == user.id)).first()
