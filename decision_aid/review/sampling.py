"""Quality sampling: which decisions a supervisor must review.

The rule is configurable (REVIEW_ALWAYS, REVIEW_SAMPLE_RATE). Every decision matching an
"always" reason is selected; of the rest, a fixed fraction is selected by a hash of the
decision's id, so the choice is random across decisions but repeatable for any one decision
(the same decision is always in or always out, which tests and auditors can check).

Selection happens in the transaction that inserts the decision (a SQLAlchemy before_flush hook in
decision_aid.models.review calls `track_new_decisions`), so no decision can be committed without
its review state, whoever's code inserted it through the ORM. The submit inserts its Decision
with Core and calls `insert_review_rows` in the same transaction. Rows inserted around the ORM
otherwise (bulk loads) are picked up by `sweep()` (`flask review sweep`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from typing import cast

from flask import current_app, has_app_context
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from decision_aid import clock
from decision_aid.models.base import insert_values, new_uuid
from decision_aid.models.decision import EMERGENCY_OUTCOME, Decision
from decision_aid.models.review import AWAITING, ReviewSelection, ReviewState

DEFAULT_RATE = 0.10
DEFAULT_ALWAYS = "shared_without_consent,departed,emergency"
KNOWN_REASONS = ("emergency", "shared_without_consent", "departed", "not_shared", "disagreed_with_duty")
RANDOM_SAMPLE = "random_sample"
REASON_LABELS = {
    "emergency": "Emergency sharing",
    "shared_without_consent": "Shared without consent",
    "departed": "Departed from the recommendation",
    "not_shared": "Decision not to share",
    "disagreed_with_duty": "Not shared despite a duty to share",
    RANDOM_SAMPLE: "Random sample",
}


def sample_rate() -> float:
    """REVIEW_SAMPLE_RATE, clamped to 0..1 (a typo must not silently select everything)."""
    raw = current_app.config.get("REVIEW_SAMPLE_RATE", DEFAULT_RATE) if has_app_context() else DEFAULT_RATE
    return min(1.0, max(0.0, float(raw)))


def always_reasons() -> tuple[str, ...]:
    """REVIEW_ALWAYS as a tuple of known reasons (unknown names are ignored)."""
    raw = current_app.config.get("REVIEW_ALWAYS", DEFAULT_ALWAYS) if has_app_context() else DEFAULT_ALWAYS
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(n.strip() for n in names if n.strip() in KNOWN_REASONS)


def matched_reasons(decision: Decision) -> list[str]:
    """Every 'always review' reason this decision meets, whatever the configuration says."""
    found = []
    if decision.emergency or decision.outcome == EMERGENCY_OUTCOME:
        found.append("emergency")
    if decision.shared and decision.consent_position != "given":
        found.append("shared_without_consent")
    if decision.departed_from_recommendation:
        found.append("departed")
    if not decision.shared:
        found.append("not_shared")
    if not decision.shared and decision.recommendation == "duty_to_share":
        found.append("disagreed_with_duty")
    return found


def in_random_sample(decision_id: uuid.UUID, rate: float) -> bool:
    """Deterministic: the first 8 bytes of SHA-256(id) as a fraction of 2**64, compared to rate."""
    digest = hashlib.sha256(decision_id.bytes).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def selection_reason(decision: Decision, always: Sequence[str] | None = None,
                     rate: float | None = None) -> str | None:
    """The reason this decision goes to review under the configured rule, or None."""
    always = always_reasons() if always is None else always
    for reason in matched_reasons(decision):
        if reason in always:
            return reason
    if in_random_sample(decision.id, sample_rate() if rate is None else rate):
        return RANDOM_SAMPLE
    return None


def state_for(decision: Decision, selected: bool) -> ReviewState:
    """The initial oversight state row of a newly submitted decision."""
    open_emergency = bool(decision.emergency and decision.completes_decision_id is None)
    return ReviewState(
        decision_id=decision.id, team_id=decision.team_id, practitioner_id=decision.practitioner_id,
        submitted_at=decision.submitted_at, review_status=AWAITING if selected else None,
        latest_verdict=None, emergency_open=open_emergency,
        emergency_due_at=decision.emergency_due_at if open_emergency else None,
    )


def track_new_decisions(session: Session, decisions: Iterable[Decision]) -> None:
    """Called before flush with new Decision objects: add their selection and state rows."""
    for decision in decisions:
        for row in review_rows(decision):
            session.add(row)
        if decision.completes_decision_id is not None:
            _close_emergency(session, decision.completes_decision_id)


def review_rows(decision: Decision) -> list[ReviewSelection | ReviewState]:
    """A new decision's selection row (when selected) and state row, in insert order."""
    if decision.id is None:
        decision.id = new_uuid()
    reason = selection_reason(decision)
    rows: list[ReviewSelection | ReviewState] = []
    if reason:
        rows.append(ReviewSelection(decision_id=decision.id, reason=reason, selected_at=clock.now()))
    rows.append(state_for(decision, selected=reason is not None))
    return rows


def insert_review_rows(session: Session, decision: Decision) -> None:
    """`track_new_decisions` for a decision inserted with Core (the submit, target T23): the
    same rows, inserted with Core statements on the session's connection, in its transaction.
    Whoever inserts a Decision around the ORM must call this in the same transaction."""
    conn = session.connection()
    for row in review_rows(decision):
        conn.execute(_INSERTS[type(row)], insert_values(row))
    if decision.completes_decision_id is not None:
        _close_emergency(session, decision.completes_decision_id)


_INSERTS = {ReviewSelection: cast(Table, ReviewSelection.__table__).insert(),
            ReviewState: cast(Table, ReviewState.__table__).insert()}


def _close_emergency(session: Session, decision_id: uuid.UUID) -> None:
    """A completing record was submitted: the original emergency decision is no longer open."""
    with session.no_autoflush:
        state = session.get(ReviewState, decision_id)
    if state is not None and state.emergency_open:
        state.emergency_open = False


def select_for_review(decision: Decision, session: Session) -> ReviewState:
    """Idempotent: give a decision its selection and state rows if it has none yet."""
    state = session.get(ReviewState, decision.id)
    if state is None:
        track_new_decisions(session, [decision])
        session.flush()
        state = session.get(ReviewState, decision.id)
    assert state is not None
    return state


def sweep(session: Session, batch: int = 1000) -> int:
    """Give every decision inserted around the ORM its review state; returns how many."""
    done = 0
    while True:
        missing = select(Decision).outerjoin(ReviewState, ReviewState.decision_id == Decision.id)
        rows = session.scalars(missing.where(ReviewState.decision_id.is_(None)).limit(batch)).all()
        if not rows:
            return done
        track_new_decisions(session, rows)
        session.commit()
        done += len(rows)
